"""Reading and verifying the audit trail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from medledger.compliance.audit import ChainReport, verify_chain
from medledger.compliance.models import AuditEntry
from medledger.core.principal import Permission, Principal
from medledger.core.repository import list_visible
from medledger.core.system import TENANTS


def list_audit_entries(
    session: Session,
    principal: Principal,
    *,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor_user_id: int | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: int = 1,
    page_size: int = 50,
    oldest_first: bool = False,
) -> tuple[list[AuditEntry], int]:
    """The tenant's audit trail, newest first (or oldest first), filtered by entity, actor,
    action and time."""
    principal.require(Permission.AUDIT_READ)
    filters: list[ColumnElement[bool]] = []
    if entity_type:
        filters.append(AuditEntry.entity_type == entity_type)
    if entity_id:
        filters.append(AuditEntry.entity_id == entity_id)
    if actor_user_id is not None:
        filters.append(AuditEntry.actor_user_id == actor_user_id)
    if action:
        filters.append(AuditEntry.action == action)
    if since is not None:
        filters.append(AuditEntry.occurred_at >= since)
    if until is not None:
        filters.append(AuditEntry.occurred_at < until)
    return list_visible(
        session,
        AuditEntry,
        principal,
        filters=filters,
        order_by=AuditEntry.seq.asc() if oldest_first else AuditEntry.seq.desc(),
        page=page,
        page_size=page_size,
    )


def verify_all(connection: Connection, tenant_slug: str | None = None) -> list[ChainReport]:
    """Verify every tenant's chain (or one tenant's)."""
    stmt = select(TENANTS.c.id).order_by(TENANTS.c.id)
    if tenant_slug:
        stmt = stmt.where(TENANTS.c.slug == tenant_slug)
    return [
        verify_chain(connection, int(tenant_id)) for tenant_id in connection.execute(stmt).scalars()
    ]


def verify_tenant(session: Session, principal: Principal) -> ChainReport:
    """Verify the caller's tenant chain (auditors and QA)."""
    principal.require(Permission.AUDIT_READ)
    return verify_chain(session.connection(), principal.tenant_id)
