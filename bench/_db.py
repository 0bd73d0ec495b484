"""PostgreSQL databases for the benchmarks: create a fresh one, drop it (shared by
bench_import, bench_outbox and bench_inventory). ``MEDLEDGER_BENCH_POSTGRES_URL`` is the
server (default the local one, user postgres)."""

from __future__ import annotations

import os

from sqlalchemy import text

from medledger.core.db import make_engine

SERVER_URL = os.environ.get("MEDLEDGER_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")


def _admin(sql: str) -> None:
    admin = make_engine(f"{SERVER_URL}/postgres")
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(sql))
    finally:
        admin.dispose()


def create_postgres(name: str) -> str:
    """A new, empty database ``name`` (dropped first if it exists); its URL."""
    drop_postgres(name)
    _admin(f'CREATE DATABASE "{name}"')
    return f"{SERVER_URL}/{name}"


def drop_postgres(name: str) -> None:
    """Drop database ``name`` if it exists (disconnecting its sessions); "" does nothing."""
    if name:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
