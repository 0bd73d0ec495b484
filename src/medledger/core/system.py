"""Acting as the platform itself (CLI administration, seeding, migrations).

Tenancy is a platform concept: every row carries ``tenant_id`` and row-level security keys on
it. The ``tenants`` table itself is owned by the ``parties`` package; the platform reads the
three columns it needs through :data:`TENANTS` instead of importing that package, so ``core``
depends on no domain package (docs/architecture.md, import rules).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import column, select, table, text
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.db import is_postgres, unit_of_work
from medledger.core.principal import Principal, Role, make_principal
from medledger.core.work import SystemActor

#: The platform's read-only view of the ``tenants`` table (owned by ``parties.models.Tenant``).
TENANTS = table("tenants", column("id"), column("slug"), column("owner_party_id"))


@contextmanager
def system_unit_of_work(factory: sessionmaker[Session], label: str = "system") -> Iterator[Session]:
    """A unit of work attributed to the platform, with row-level security bypassed."""
    with unit_of_work(factory, principal=SystemActor(label=label)) as session:
        if is_postgres(session):
            session.execute(text("SELECT set_config('app.rls_bypass', 'on', true)"))
        yield session


def tenant_admin(session: Session, tenant_id: int, label: str = "system") -> Principal:
    """A principal with the admin role in ``tenant_id``, for CLI administration."""
    owner_party_id = session.scalar(
        select(TENANTS.c.owner_party_id).where(TENANTS.c.id == tenant_id)
    )
    assert owner_party_id is not None, f"tenant {tenant_id} has no hub party"
    return make_principal(
        user_id=None,
        tenant_id=tenant_id,
        party_id=int(owner_party_id),
        role=Role.ADMIN,
        username=label,
        display_name="MedLedger CLI",
        hub_party_id=int(owner_party_id),
    )


def default_tenant_id(session: Session, slug: str | None = None) -> int:
    """The tenant named by ``slug``, or the only/first one."""
    stmt = select(TENANTS.c.id).order_by(TENANTS.c.id)
    if slug:
        stmt = stmt.where(TENANTS.c.slug == slug)
    tenant_id = session.scalar(stmt)
    if tenant_id is None:
        raise SystemExit(
            f"no tenant {slug!r}"
            if slug
            else "no tenant yet: run `medledger init` (or `medledger seed demo` for the demo)"
        )
    return int(tenant_id)
