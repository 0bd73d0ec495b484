"""Pooled PostgreSQL connections are pinged before reuse only after sitting idle.

The server end of a pooled connection is killed with ``pg_terminate_backend`` (what a server
restart or an idle timeout does); the pool must hand out a working connection when the dead
one had been idle, and must not spend a round trip on connections used moments ago.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from medledger.core import db
from medledger.core.db import make_engine
from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(
    BACKEND != "postgres", reason="SQLite has no server connection to lose"
)


@pytest.fixture
def pool_engine(engine: Engine) -> Iterator[Engine]:
    """An engine of its own, with one pooled connection, on the test database."""
    own = make_engine(engine.url.render_as_string(hide_password=False))
    yield own
    own.dispose()


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _kill(engine: Engine, pid: int) -> None:
    """Terminate the backend and wait until it is gone (the signal is asynchronous)."""
    with engine.connect() as conn:
        # pg_terminate_backend(pid, timeout) waits for the backend to exit (PostgreSQL 14+).
        killed = conn.execute(
            text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}
        ).scalar()
        conn.commit()
    assert killed is True


def test_a_dead_connection_idle_past_the_threshold_is_replaced_before_use(
    engine: Engine, pool_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend_pid(pool_engine)
    _kill(engine, first)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)

    second = _backend_pid(pool_engine)  # pinged, found dead, reconnected: no error

    assert second != first
    assert pool_engine.pool.checkedout() == 0


def test_a_connection_used_moments_ago_is_not_pinged(
    engine: Engine, pool_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 3600.0)
    first = _backend_pid(pool_engine)
    _kill(engine, first)

    # No ping within the window: the statement meets the dead connection and fails once …
    with pytest.raises(OperationalError) as failure:
        _backend_pid(pool_engine)
    assert failure.value.connection_invalidated is True

    # … and the pool, having seen the disconnect, connects afresh for the next one.
    assert _backend_pid(pool_engine) != first


def test_a_live_idle_connection_is_kept_after_its_ping(
    pool_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend_pid(pool_engine)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)

    assert _backend_pid(pool_engine) == first
