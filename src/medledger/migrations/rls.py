"""Row-level security helpers shared by migrations (PostgreSQL only)."""

from __future__ import annotations

from alembic import op


def is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def enable_tenant_rls(table: str, column: str = "tenant_id") -> None:
    """A transaction sees only the tenant in ``app.tenant_id`` unless the platform itself set
    ``app.rls_bypass`` (login lookup, CLI administration, workers)."""
    if not is_postgres():
        return
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} USING ("
        f"current_setting('app.rls_bypass', true) = 'on' OR "
        f"{column} = NULLIF(current_setting('app.tenant_id', true), '')::bigint)"
    )
