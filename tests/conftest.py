"""Test fixtures: a real database per test (SQLite file or PostgreSQL), the real app over HTTP.

``MEDLEDGER_TEST_DATABASE`` chooses the database: ``sqlite`` (default) or ``postgres``
(``MEDLEDGER_TEST_POSTGRES_URL``, default the local server). The schema is built once per
worker by the real Alembic migrations; each test then starts from empty tables (a copy of the
migrated SQLite file, or TRUNCATE on PostgreSQL).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.config import Settings
from medledger.core.db import make_engine, make_session_factory
from medledger.core.migrate import upgrade
from medledger.core.security import configure_password_hasher
from medledger.models import load_all_models

load_all_models()
# Still argon2id, at a cost that keeps thousands of logins in the suite fast.
configure_password_hasher(time_cost=1, memory_cost=1024, parallelism=1)

BACKEND = os.environ.get("MEDLEDGER_TEST_DATABASE", "sqlite")
POSTGRES_URL = os.environ.get(
    "MEDLEDGER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Migrate once per worker; yields the URL of the migrated database."""
    if BACKEND == "sqlite":
        path = tmp_path_factory.mktemp("db") / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        yield str(path)
        return
    base, _, _ = POSTGRES_URL.rpartition("/")
    name = f"medledger_test_{_worker()}_{os.getpid()}"
    admin = make_engine(POSTGRES_URL)
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - environment problem, say it loudly
        pytest.exit(
            f"PostgreSQL is not reachable at {POSTGRES_URL} ({exc}). Start it or set "
            "MEDLEDGER_TEST_POSTGRES_URL.",
            returncode=3,
        )
    url = f"{base}/{name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


_TABLES: list[str] = []


@pytest.fixture
def engine(database_template: str, tmp_path: Path) -> Iterator[Engine]:
    """A database with the full schema and no rows."""
    if BACKEND == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(database_template, path)
        eng = make_engine(f"sqlite:///{path}")
        yield eng
        eng.dispose()
        return
    eng = make_engine(database_template)
    with eng.begin() as conn:
        if not _TABLES:
            _TABLES.extend(
                conn.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname='public' "
                        "AND tablename <> 'alembic_version'"
                    )
                ).scalars()
            )
        conn.execute(text(f"TRUNCATE {', '.join(_TABLES)} RESTART IDENTITY CASCADE"))
    yield eng
    eng.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def settings(engine: Engine) -> Settings:
    return Settings(
        database_url=str(engine.url.render_as_string(hide_password=False)),
        secret_key="test-secret",
        login_max_failures=5,
        # Traces load their snapshot on first use (deterministic); tests/trace/test_sql_path.py
        # covers the background load.
        trace_preload=False,
    )


@pytest.fixture
def app(settings: Settings, engine: Engine):  # type: ignore[no-untyped-def]
    from medledger.web.app import create_app

    return create_app(settings, engine)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as test_client:
        yield test_client
