"""PostgreSQL row-level security backs the application's tenant scoping.

Superusers bypass RLS, so the check connects as an ordinary role, as production should.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.builders import build_network
from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(
    BACKEND != "postgres", reason="row-level security is a PostgreSQL feature; SQLite has none"
)

ROLE = "medledger_rls_probe"


def _app_role_engine(engine: Engine) -> Engine:
    with engine.begin() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": ROLE}
        ).first()
        if not exists:
            conn.execute(text(f"CREATE ROLE {ROLE} LOGIN NOSUPERUSER NOBYPASSRLS"))
        conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {ROLE}"))
    url = engine.url.set(username=ROLE, password=None)
    return create_engine(url.render_as_string(hide_password=False))


def test_rows_of_other_tenants_are_invisible_without_the_tenant_setting(
    engine: Engine, factory: sessionmaker[Session]
) -> None:
    a = build_network(factory, "acme", offset=0)
    b = build_network(factory, "bravo", offset=100)
    app_engine = _app_role_engine(engine)
    try:
        with app_engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM parties")).scalar() == 0
            conn.execute(
                text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(a.tenant_id)}
            )
            tenants = conn.execute(text("SELECT DISTINCT tenant_id FROM parties")).scalars().all()
            assert tenants == [a.tenant_id]
            assert conn.execute(text("SELECT count(*) FROM users")).scalar() == 10
            assert conn.execute(text("SELECT id FROM tenants")).scalars().all() == [a.tenant_id]
        with app_engine.begin() as conn:
            conn.execute(
                text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(b.tenant_id)}
            )
            assert conn.execute(
                text("SELECT DISTINCT tenant_id FROM audit_entries")
            ).scalars().all() == [b.tenant_id]
        with app_engine.begin() as conn:
            conn.execute(text("SELECT set_config('app.rls_bypass', 'on', true)"))
            assert conn.execute(text("SELECT count(DISTINCT tenant_id) FROM parties")).scalar() == 2
    finally:
        app_engine.dispose()
