"""HTML pages: the audit trail viewer and the chain verification (QA, auditors, administrators)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import func, select

from medledger.compliance import service
from medledger.compliance.models import AuditEntry
from medledger.core.principal import Permission
from medledger.core.scoping import visibility
from medledger.parties.views import page_number, who
from medledger.web.labels import AUDIT_ACTION_LABELS, ENTITY_LABELS
from medledger.web.nav import N_, NavEntry, register_nav
from medledger.web.ui import Ui, UiPage, UiRoute

router = APIRouter(include_in_schema=False, route_class=UiRoute)

register_nav(NavEntry("audit", N_("Audit trail"), "/audit", Permission.AUDIT_READ, order=90))

PAGE_SIZE = 50
_FILTERS = ("entity_type", "entity_id", "actor", "action", "since", "until")

# Pages of audited records, for links from the trail.
ENTITY_PAGES: dict[str, str] = {
    "parties": "/parties/{id}",
    "sites": "/sites/{id}",
    "locations": "/locations/{id}",
    "users": "/users/{id}",
    "products": "/products/{id}",
}

CHAIN_BREAK_LABELS: dict[str, str] = {
    "edited": N_("An entry was edited."),
    "deleted": N_("An entry was deleted."),
    "inserted": N_("An entry was inserted."),
    "reordered": N_("Entries were reordered."),
    "truncated": N_("The end of the chain was cut off."),
}


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _local_midnight(day: date, zone: str) -> datetime:
    """Midnight of ``day`` in the user's zone, as the instant the time filter compares with."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(zone))


def _actors(ui: Ui) -> list[tuple[str, str]]:
    """Who appears in the trail (for the actor filter), read through the scoping helper."""
    stmt = (
        select(AuditEntry.actor_user_id, func.max(AuditEntry.actor_label))
        .where(visibility(AuditEntry, who(ui)), AuditEntry.actor_user_id.is_not(None))
        .group_by(AuditEntry.actor_user_id)
        .order_by(func.max(AuditEntry.actor_label))
        .limit(500)
    )
    rows = ui.session.execute(stmt).all()
    return [(str(user_id), str(label)) for user_id, label in rows]


def _changes(entry: AuditEntry) -> list[tuple[str, Any, Any]]:
    """``(field, old, new)`` for every field the entry mentions."""
    old = entry.old_values or {}
    new = entry.new_values or {}
    return [(key, old.get(key), new.get(key)) for key in sorted(set(old) | set(new))]


@router.get("/audit")
def audit_trail(ui: UiPage) -> Response:
    """The tenant's audit trail, newest first, filtered by entity, actor, action and days."""
    principal = who(ui)
    principal.require(Permission.AUDIT_READ)
    params = {k: ui.request.query_params.get(k, "").strip() for k in _FILTERS}
    page = page_number(ui.request.query_params.get("page"))
    since_day, until_day = _day(params["since"]), _day(params["until"])
    items, total = service.list_audit_entries(
        ui.session,
        principal,
        entity_type=params["entity_type"] or None,
        entity_id=params["entity_id"] or None,
        actor_user_id=int(params["actor"]) if params["actor"].isdigit() else None,
        action=params["action"] or None,
        since=_local_midnight(since_day, ui.time_zone) if since_day else None,
        # "until" is a whole day in the user's zone: up to the next midnight.
        until=_local_midnight(until_day + timedelta(days=1), ui.time_zone) if until_day else None,
        page=page,
        page_size=PAGE_SIZE,
    )
    return ui.render(
        "compliance/audit_trail.html",
        items=items,
        total=total,
        page=page,
        page_size=PAGE_SIZE,
        params=params,
        actors=_actors(ui),
        changes=_changes,
        entity_options=[(k, ui._(v)) for k, v in ENTITY_LABELS.items()],
        action_options=[(k, ui._(v)) for k, v in AUDIT_ACTION_LABELS.items()],
        entity_labels=ENTITY_LABELS,
        action_labels=AUDIT_ACTION_LABELS,
        entity_pages=ENTITY_PAGES,
    )


@router.get("/audit/verify")
def audit_verify(ui: UiPage) -> Response:
    """Walk the tenant's hash chain and show whether it is intact (or its first break)."""
    report = service.verify_tenant(ui.session, who(ui))
    return ui.render(
        "compliance/audit_verify.html",
        report=report,
        break_label=CHAIN_BREAK_LABELS.get(report.broken.kind, report.broken.kind)
        if report.broken
        else "",
        block="verify_result" if ui.is_htmx else None,
    )
