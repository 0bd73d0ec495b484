"""REST routes: the audit trail (read-only)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter

from medledger.compliance import service
from medledger.compliance.schemas import AuditEntryOut, ChainBreakOut, ChainReportOut
from medledger.core.deps import CurrentPrincipal, DbSession
from medledger.core.schemas import Page
from medledger.core.types import PageNumber, PageSize, RecordId

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("", response_model=Page[AuditEntryOut])
def list_entries(
    session: DbSession,
    principal: CurrentPrincipal,
    entity_type: str | None = None,
    entity_id: str | None = None,
    actor_user_id: RecordId | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: PageNumber = 1,
    page_size: PageSize = 50,
) -> Page[AuditEntryOut]:
    """The audit trail, newest first, filtered by entity, actor, action and time (UTC)."""
    items, total = service.list_audit_entries(
        session,
        principal,
        entity_type=entity_type,
        entity_id=entity_id,
        actor_user_id=actor_user_id,
        action=action,
        since=since,
        until=until,
        page=page,
        page_size=page_size,
    )
    return Page(
        items=[AuditEntryOut.model_validate(i) for i in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.get("/verify", response_model=ChainReportOut)
def verify(session: DbSession, principal: CurrentPrincipal) -> ChainReportOut:
    """Walk the tenant's hash chain and report the first break, if any."""
    report = service.verify_tenant(session, principal)
    broken = (
        ChainBreakOut(seq=report.broken.seq, kind=report.broken.kind, detail=report.broken.detail)
        if report.broken
        else None
    )
    return ChainReportOut(
        entries=report.entries, head_seq=report.head_seq, ok=report.ok, broken=broken
    )
