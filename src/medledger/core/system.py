"""Acting as the platform itself (CLI administration, seeding, migrations)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from medledger.compliance.audit import SystemActor
from medledger.core.db import is_postgres, unit_of_work
from medledger.core.principal import Principal, Role, make_principal


@contextmanager
def system_unit_of_work(factory: sessionmaker[Session], label: str = "system") -> Iterator[Session]:
    """A unit of work attributed to the platform, with row-level security bypassed."""
    with unit_of_work(factory, principal=SystemActor(label=label)) as session:
        if is_postgres(session):
            session.execute(text("SELECT set_config('app.rls_bypass', 'on', true)"))
        yield session


def tenant_admin(session: Session, tenant_id: int, label: str = "system") -> Principal:
    """A principal with the admin role in ``tenant_id``, for CLI administration."""
    from medledger.parties.models import Tenant

    tenant = session.get(Tenant, tenant_id)
    assert tenant is not None and tenant.owner_party_id is not None
    return make_principal(
        user_id=None,
        tenant_id=tenant_id,
        party_id=tenant.owner_party_id,
        role=Role.ADMIN,
        username=label,
        display_name="MedLedger CLI",
        hub_party_id=tenant.owner_party_id,
    )


def default_tenant_id(session: Session, slug: str | None = None) -> int:
    """The tenant named by ``slug``, or the only/first one."""
    from medledger.parties.models import Tenant

    stmt = select(Tenant.id).order_by(Tenant.id)
    if slug:
        stmt = stmt.where(Tenant.slug == slug)
    tenant_id = session.scalar(stmt)
    if tenant_id is None:
        raise SystemExit(
            f"no tenant {slug!r}"
            if slug
            else "no tenant yet: run `medledger init` (or `medledger seed demo` for the demo)"
        )
    return int(tenant_id)
