"""``set_tenant_guc`` remembers the connection's ``app.tenant_id`` only as the server holds it.

Each test runs its sessions one after another on an engine that has opened a single pooled
connection, and reads the server's actual setting (``current_setting``) to check what the
cache decided. To prove a call sent nothing, the server's value is first changed behind the
cache's back: if the call had sent its ``set_config``, the value would be back.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.db import make_engine, make_session_factory, set_tenant_guc
from tests.builders import build_network
from tests.conftest import BACKEND
from tests.core.test_row_level_security import _app_role_engine

pytestmark = pytest.mark.skipif(
    BACKEND != "postgres", reason="app.tenant_id drives PostgreSQL row-level security only"
)


@pytest.fixture
def one_connection(engine: Engine) -> Iterator[sessionmaker[Session]]:
    own = make_engine(engine.url.render_as_string(hide_password=False))
    yield make_session_factory(own)
    assert own.pool.checkedout() == 0
    assert own.pool.size() == 10 and own.pool.checkedin() == 1  # one connection served all
    own.dispose()


def _setting(session: Session) -> str:
    return str(session.execute(text("SELECT current_setting('app.tenant_id', true)")).scalar())


def _behind_the_cache(factory: sessionmaker[Session], value: str) -> None:
    with factory() as session:
        session.execute(text("SELECT set_config('app.tenant_id', :v, false)"), {"v": value})
        session.commit()


def _committed(factory: sessionmaker[Session], tenant_id: int | None) -> None:
    with factory() as session:
        set_tenant_guc(session, tenant_id)
        session.commit()


def test_the_same_tenant_on_the_same_connection_sends_nothing(
    one_connection: sessionmaker[Session],
) -> None:
    _committed(one_connection, 7)
    _behind_the_cache(one_connection, "999")
    with one_connection() as session:
        set_tenant_guc(session, 7)
        assert _setting(session) == "999"  # not sent: the connection was known to hold 7


def test_another_tenant_or_no_tenant_is_set(one_connection: sessionmaker[Session]) -> None:
    _committed(one_connection, 7)
    with one_connection() as session:
        set_tenant_guc(session, 8)
        assert _setting(session) == "8"
        session.commit()
    with one_connection() as session:
        set_tenant_guc(session, None)
        assert _setting(session) == ""
        set_tenant_guc(session, 8)  # within one transaction the pending value counts
        assert _setting(session) == "8"


def test_a_rolled_back_setting_is_not_remembered(one_connection: sessionmaker[Session]) -> None:
    _committed(one_connection, 7)
    with one_connection() as session:
        set_tenant_guc(session, 8)
        assert _setting(session) == "8"
        session.rollback()
        assert _setting(session) == "7"  # the server reverted it
    with one_connection() as session:
        set_tenant_guc(session, 8)
        assert _setting(session) == "8"


def test_a_session_closed_without_commit_is_not_remembered(
    one_connection: sessionmaker[Session],
) -> None:
    _committed(one_connection, 7)
    session = one_connection()
    set_tenant_guc(session, 8)
    session.close()
    # The same session object, a new transaction: the 8 it set never committed.
    set_tenant_guc(session, 8)
    assert _setting(session) == "8"
    session.close()


def test_a_failed_commit_is_not_remembered(one_connection: sessionmaker[Session]) -> None:
    _committed(one_connection, 7)
    with one_connection() as session:
        set_tenant_guc(session, 8)
        session.execute(
            text("CREATE TEMP TABLE guc_probe (v int UNIQUE DEFERRABLE INITIALLY DEFERRED)")
        )
        session.execute(text("INSERT INTO guc_probe VALUES (1), (1)"))
        with pytest.raises(Exception, match="guc_probe"):
            session.commit()  # the deferred constraint fails at COMMIT: the server rolls back
        session.rollback()
    with one_connection() as session:
        assert _setting(session) == "7"
        set_tenant_guc(session, 8)
        assert _setting(session) == "8"


def test_a_value_set_inside_a_savepoint_leaves_the_connection_unknown(
    one_connection: sessionmaker[Session],
) -> None:
    _committed(one_connection, 7)
    with one_connection() as session:
        savepoint = session.begin_nested()
        set_tenant_guc(session, 8)
        savepoint.rollback()
        assert _setting(session) == "7"
        session.commit()
    with one_connection() as session:
        set_tenant_guc(session, 8)  # the savepoint's 8 must not count as the connection's
        assert _setting(session) == "8"


def test_row_level_security_follows_the_remembered_tenant(
    engine: Engine, factory: sessionmaker[Session]
) -> None:
    a = build_network(factory, "acme", offset=0)
    b = build_network(factory, "bravo", offset=100)
    app_engine = _app_role_engine(engine)
    try:
        app_factory = make_session_factory(app_engine)
        seen = []
        for tenant_id in (a.tenant_id, a.tenant_id, b.tenant_id, None, b.tenant_id):
            with app_factory() as session:
                set_tenant_guc(session, tenant_id)
                seen.append(
                    sorted(set(session.execute(text("SELECT tenant_id FROM parties")).scalars()))
                )
                session.commit()
        assert seen == [[a.tenant_id], [a.tenant_id], [b.tenant_id], [], [b.tenant_id]]
        assert app_engine.pool.checkedin() == 1
    finally:
        app_engine.dispose()
