"""HTML pages: the audit trail viewer and the chain verification (QA, auditors, administrators)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medledger.compliance import service
from medledger.compliance.models import AuditEntry
from medledger.core.i18n import ngettext
from medledger.core.principal import Permission, Principal
from medledger.core.scoping import visibility
from medledger.web.home import HomeTile, register_tile
from medledger.web.labels import AUDIT_ACTION_LABELS, ENTITY_LABELS, label
from medledger.web.lists import (
    NP_,
    Column,
    Empty,
    Filter,
    ListQuery,
    ListSpec,
    link_cell,
    list_page,
)
from medledger.web.nav import N_, NavEntry, register_nav
from medledger.web.pages import who
from medledger.web.record import changes_of, register_history_source
from medledger.web.ui import Ui, UiPage, UiRoute, templates

router = APIRouter(include_in_schema=False, route_class=UiRoute)

register_nav(NavEntry("audit", N_("Audit trail"), "/audit", Permission.AUDIT_READ, order=90))


def _history(
    session: Session, principal: Principal, entity_type: str, entity_id: str, limit: int
) -> list[AuditEntry]:
    items, _total = service.list_audit_entries(
        session, principal, entity_type=entity_type, entity_id=entity_id, page_size=limit
    )
    return items


# Every record page's history panel (web/record.py) reads the trail through this.
register_history_source(_history)
register_tile(
    HomeTile(
        "audit_chain",
        N_("Audit chain"),
        N_("Verified entry by entry when you open this page"),
        None,
        "/audit/verify",
        Permission.AUDIT_READ,
        order=90,
        fragment="/audit/verify",
    )
)

# Pages of audited records, for links from the trail.
ENTITY_PAGES: dict[str, str] = {
    "parties": "/parties/{id}",
    "sites": "/sites/{id}",
    "locations": "/locations/{id}",
    "users": "/users/{id}",
    "products": "/products/{id}",
    "epcis_capture_job": "/events?capture_job={id}",
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


def _fetch_entries(ui: Ui, query: ListQuery) -> tuple[list[AuditEntry], int]:
    principal = who(ui)
    since_day, until_day = _day(query.get("since")), _day(query.get("until"))
    actor = query.get("actor")
    items, total = service.list_audit_entries(
        ui.session,
        principal,
        entity_type=query.get("entity_type") or None,
        entity_id=query.get("entity_id") or None,
        actor_user_id=int(actor) if actor.isdigit() else None,
        action=query.get("action") or None,
        since=_local_midnight(since_day, ui.time_zone) if since_day else None,
        # "until" is a whole day in the user's zone: up to the next midnight.
        until=_local_midnight(until_day + timedelta(days=1), ui.time_zone) if until_day else None,
        page=query.page,
        page_size=query.size,
        oldest_first=query.sort == "seq" and not query.descending,
    )
    return items, total


def _record_cell(ui: Ui, entry: AuditEntry) -> Any:
    name = ui._(label(ENTITY_LABELS, entry.entity_type))
    page = ENTITY_PAGES.get(entry.entity_type)
    href = page.format(id=entry.entity_id) if page and entry.action != "delete" else None
    return Markup("{} ").format(name) + link_cell(href, entry.entity_id, "mono")


def _record_text(ui: Ui, entry: AuditEntry) -> str:
    return f"{ui._(label(ENTITY_LABELS, entry.entity_type))} {entry.entity_id}"


def _changes_text(ui: Ui, entry: AuditEntry) -> str:
    parts = []
    for change in changes_of(ui, entry):
        if change.old is not None and change.new is not None:
            parts.append(f"{change.label}: {change.old} → {change.new}")
        else:
            parts.append(f"{change.label}: {change.new if change.new is not None else change.old}")
    return "; ".join(parts)


def _changes_cell(ui: Ui, entry: AuditEntry) -> Any:
    changes = changes_of(ui, entry)
    if not changes:
        return Markup("")
    rows = templates.get_template("_record.html").module.change_rows(changes)  # type: ignore[attr-defined]
    if entry.action == "create" or entry.old_values is None or entry.new_values is None:
        summary = ngettext(ui.locale, "{n} field", "{n} fields", len(changes)).format(
            n=len(changes)
        )
        return Markup("<details><summary>{}</summary>{}</details>").format(summary, rows)
    return Markup(rows)


AUDIT_LIST = ListSpec(
    key="audit",
    title=N_("Audit trail"),
    path="/audit",
    columns=(
        Column("seq", N_("#"), lambda e: e.seq, css="mono num"),
        Column("occurred_at", N_("Time"), lambda e: e.occurred_at, css="nowrap", sortable=False),
        Column("actor", N_("Actor"), lambda e: e.actor_label, sortable=False),
        Column(
            "action",
            N_("Action"),
            lambda e: e.action,
            text=lambda ui, e: ui._(label(AUDIT_ACTION_LABELS, e.action)),
            sortable=False,
            css="nowrap",
        ),
        Column(
            "record",
            N_("Record"),
            lambda e: e.entity_id,
            text=_record_text,
            html=_record_cell,
            sortable=False,
            css="nowrap",
        ),
        Column(
            "changes",
            N_("Changes (old → new)"),
            lambda e: None,
            text=_changes_text,
            html=_changes_cell,
            sortable=False,
            css="changes-cell",
        ),
        Column("reason", N_("Reason"), lambda e: e.reason, sortable=False),
    ),
    fetch=_fetch_entries,
    paged=True,
    count=NP_("{n} audit entry", "{n} audit entries"),
    filters=(
        Filter(
            "entity_type",
            N_("Entity"),
            options=lambda ui: [(k, ui._(v)) for k, v in ENTITY_LABELS.items()],
        ),
        Filter("entity_id", N_("Record id"), kind="text", size=8),
        Filter("actor", N_("Actor"), options=lambda ui: _actors(ui)),
        Filter(
            "action",
            N_("Action"),
            options=lambda ui: [(k, ui._(v)) for k, v in AUDIT_ACTION_LABELS.items()],
        ),
        Filter("since", N_("From"), kind="date"),
        Filter("until", N_("To"), kind="date"),
    ),
    default_sort="-seq",
    empty=Empty(N_("The audit trail is empty: nothing has been changed yet.")),
    permission=Permission.AUDIT_READ,
    head="compliance/_audit_head.html",
    intro=N_(
        "Every change, by whom, when and why; hash-chained so that no entry can be "
        "edited, deleted or reordered unnoticed."
    ),
)


@router.get("/audit")
def audit_trail(ui: UiPage) -> Response:
    """The tenant's audit trail, newest first, filtered by entity, actor, action and days."""
    return list_page(ui, AUDIT_LIST)


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
        block=("verify_tile" if ui.request.query_params.get("tile") else "verify_result")
        if ui.is_htmx
        else None,
    )
