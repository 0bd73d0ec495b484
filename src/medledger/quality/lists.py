"""The quality list pages on the list toolkit (``web.lists``, docs/ui.md): NCRs, CAPAs, change
requests, deviations, complaints, inspections, lot releases, service records and the compliance
documents (certificates of conformance of shipments). Each is one :class:`ListSpec`: sortable,
searchable, exported as CSV/XLSX, with its total in the reader's plural form; the rows come
through the quality services (a partner sees what concerns its party only), paged in the
database (``paged=True``: inspections and lot releases grow without bound), so the sort keys
are columns the database orders by.

The record lists keep the filters the home page and tiles link to: ``state``, ``open=1``,
``overdue=1``.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from sqlalchemy import or_, select

from medledger.core.principal import Permission
from medledger.core.repository import page_with_total
from medledger.parties.models import Party, User
from medledger.quality import complaint as complaint_service
from medledger.quality import service
from medledger.quality.models import ServiceRecord
from medledger.quality.records import RECORD_KINDS, RecordKind
from medledger.web.lists import (
    NP_,
    Column,
    Empty,
    Filter,
    ListQuery,
    ListSpec,
    badge,
)
from medledger.web.nav import N_
from medledger.web.pages import who
from medledger.web.ui import Ui

YES = "1"


def _user_names(ui: Ui) -> dict[int, str]:
    principal = who(ui)
    return {
        u.id: u.display_name
        for u in ui.session.scalars(select(User).where(User.tenant_id == principal.tenant_id))
        if principal.sees_all_parties or u.party_id == principal.party_id
    }


def _party_names(ui: Ui) -> dict[int, str]:
    principal = who(ui)
    return {
        p.id: p.name
        for p in ui.session.scalars(select(Party).where(Party.tenant_id == principal.tenant_id))
    }


def _ordered(query: ListQuery, keys: list[Any], blanks: Any = None) -> tuple[Any, ...]:
    """``keys`` in the reader's direction; ``blanks`` (a nullable column) last both ways."""
    order = [k.desc() if query.descending else k.asc() for k in keys]
    return (blanks.is_(None), *order) if blanks is not None else tuple(order)


def _record_fetch(spec: RecordKind) -> Any:
    model = spec.model
    sorts: dict[str, list[Any]] = {
        "number": [model.id],
        "title": [model.title],
        "state": [model.state],
        "due": [model.due_date],
        "created_at": [model.created_at],
    }
    if spec.names_a_lot:
        sorts["lot"] = [model.gtin, model.lot]

    def fetch(ui: Ui, query: ListQuery) -> tuple[list[Any], int]:
        keys = sorts.get(query.sort, sorts["number"])
        blanks = model.due_date if query.sort == "due" else None
        items, total = service.list_records(
            ui.session,
            who(ui),
            spec.kind,
            state=query.get("state") or None,
            q=query.q or None,
            open_only=query.get("open") == YES,
            overdue_only=query.get("overdue") == YES,
            page=query.page,
            page_size=query.size,
            order_by=_ordered(query, keys, blanks),
        )
        ui.extra["users"] = _user_names(ui)
        return items, total

    return fetch


def _state_column(kind: RecordKind) -> Column:
    workflow = kind.workflow

    def text(ui: Ui, row: Any) -> str:
        return ui._(workflow.states.get(row.state, row.state))

    def html(ui: Ui, row: Any) -> Markup:
        tone = "ok" if row.state in workflow.closed_states else "draft"
        return Markup('<span data-state="{}">{}</span>').format(
            row.state, badge(text(ui, row), tone)
        )

    return Column("state", N_("State"), lambda r: r.state, text=text, html=html)


def _due_text(kind: str) -> Any:
    def text(ui: Ui, row: Any) -> str:
        if row.due_date is None:
            return ""
        shown = ui.day(row.due_date)
        if service.is_overdue(kind, row):
            shown += " · " + ui._("overdue")
        return shown

    return text


def record_list(kind: RecordKind) -> ListSpec:
    """The list page of a quality record kind."""
    path = f"/quality/{kind.path}"
    create_permission = (
        Permission.QUALITY_REPORT if kind.reported_by_partners else Permission.QUALITY_WRITE
    )
    columns: list[Column] = [
        Column(
            "number",
            N_("Number"),
            lambda r: r.number,
            href=lambda r: f"{path}/{r.id}",
            css="mono nowrap",
            searchable=True,
        ),
        Column("title", N_("Title"), lambda r: r.title, searchable=True),
    ]
    if kind.names_a_lot:
        columns.append(
            Column(
                "lot",
                N_("Lot"),
                lambda r: f"{r.gtin} / {r.lot}",
                css="mono nowrap",
                searchable=True,
            )
        )
    columns += [
        _state_column(kind),
        Column(
            "owner",
            N_("Owner"),
            lambda r: r.owner_user_id or 0,
            text=lambda ui, r: ui.extra.get("users", {}).get(r.owner_user_id, ""),
            sortable=False,
        ),
        Column("due", N_("Due"), lambda r: r.due_date, text=_due_text(kind.kind), css="nowrap"),
        Column("created_at", N_("Created"), lambda r: r.created_at, css="nowrap"),
    ]
    workflow = kind.workflow
    return ListSpec(
        key=f"quality_{kind.path.replace('-', '_')}",
        title=kind.plural,
        path=path,
        columns=tuple(columns),
        fetch=_record_fetch(kind),
        paged=True,
        count=kind.count,
        filters=(
            Filter(
                "state",
                N_("State"),
                options=lambda ui: [(s, ui._(label)) for s, label in workflow.states.items()],
            ),
            Filter("open", N_("Open"), options=lambda ui: [(YES, ui._("open only"))]),
            Filter("overdue", N_("Overdue"), options=lambda ui: [(YES, ui._("overdue only"))]),
        ),
        search=N_("Number or title"),
        default_sort="-number",
        create=Empty("", N_("New"), f"{path}/new", create_permission),
        empty=Empty(N_("No record yet."), N_("New"), f"{path}/new", create_permission),
        permission=Permission.QUALITY_READ,
    )


RECORD_LISTS = {kind: record_list(spec) for kind, spec in RECORD_KINDS.items()}


# --- service records -------------------------------------------------------------------------

SERVICE_KIND_LABELS = {
    "installation": N_("installation"),
    "preventive_maintenance": N_("preventive maintenance"),
    "repair": N_("repair"),
    "calibration": N_("calibration"),
    "inspection": N_("inspection"),
}
SERVICE_OUTCOME_LABELS = {
    "in_service": N_("in service"),
    "follow_up": N_("needs follow-up"),
    "out_of_service": N_("out of service"),
}


def _fetch_service_records(ui: Ui, query: ListQuery) -> tuple[list[Any], int]:
    sorts: dict[str, list[Any]] = {
        "performed_on": [ServiceRecord.performed_on],
        "gtin": [ServiceRecord.gtin, ServiceRecord.serial],
        "serial": [ServiceRecord.serial],
        "kind": [ServiceRecord.kind],
        "outcome": [ServiceRecord.outcome],
    }
    items, total = complaint_service.service_records(
        ui.session,
        who(ui),
        serial=query.get("serial") or None,
        q=query.q or None,
        page=query.page,
        page_size=query.size,
        order_by=_ordered(query, sorts.get(query.sort, sorts["performed_on"])),
    )
    ui.extra["parties"] = _party_names(ui)
    return items, total


def _service_description(ui: Ui, row: Any) -> Markup:
    html = Markup("{}").format(row.description)
    if row.parts_replaced:
        html += Markup("<br><small>{}: {}</small>").format(
            ui._("Parts replaced"), ", ".join(row.parts_replaced)
        )
    if row.complaint_id:
        html += Markup('<br><a href="/quality/complaints/{}">{}</a>').format(
            row.complaint_id, ui._("Complaint")
        )
    return html


SERVICE_RECORD_LIST = ListSpec(
    key="service_records",
    title=N_("Service records"),
    path="/quality/service-records",
    columns=(
        Column("performed_on", N_("Date"), lambda s: s.performed_on, css="nowrap"),
        Column("gtin", N_("GTIN"), lambda s: s.gtin, css="mono", searchable=True),
        Column("serial", N_("Serial"), lambda s: s.serial, css="mono", searchable=True),
        Column(
            "kind",
            N_("Kind"),
            lambda s: s.kind,
            text=lambda ui, s: ui._(SERVICE_KIND_LABELS.get(s.kind, s.kind)),
        ),
        Column(
            "by",
            N_("By"),
            lambda s: s.performed_by_party_id,
            text=lambda ui, s: ui.extra.get("parties", {}).get(s.performed_by_party_id, ""),
            sortable=False,
        ),
        Column(
            "outcome",
            N_("Outcome"),
            lambda s: s.outcome,
            text=lambda ui, s: ui._(SERVICE_OUTCOME_LABELS.get(s.outcome, s.outcome)),
        ),
        Column(
            "description",
            N_("What was done"),
            lambda s: s.description,
            html=_service_description,
            searchable=True,
            sortable=False,
        ),
        Column(
            "parts",
            N_("Parts replaced"),
            lambda s: s.parts_replaced,
            sortable=False,
        ),
    ),
    fetch=_fetch_service_records,
    paged=True,
    count=NP_("{n} service record", "{n} service records"),
    filters=(Filter("serial", N_("Serial"), kind="text", size=12),),
    search=N_("GTIN, serial or description"),
    default_sort="-performed_on",
    empty=Empty(N_("No service recorded yet.")),
    permission=Permission.QUALITY_READ,
    below="quality/_service_form.html",
)


# --- compliance documents: certificates of conformance ----------------------------------------


def _fetch_shipments(ui: Ui, query: ListQuery) -> tuple[list[Any], int]:
    from medledger.inventory.models import Shipment

    principal = who(ui)
    if not (principal.can(Permission.INVENTORY_READ) and principal.sees_all_parties):
        return [], 0
    ui.extra["parties"] = _party_names(ui)
    stmt = select(Shipment).where(Shipment.tenant_id == principal.tenant_id)
    if query.q:
        party_ids = [
            pid
            for pid, name in ui.extra["parties"].items()
            if query.q.casefold() in name.casefold()
        ]
        stmt = stmt.where(
            or_(
                Shipment.sscc == query.q,
                Shipment.destination_gln == query.q,
                Shipment.destination_party_id.in_(party_ids or [0]),
            )
        )
    sorts: dict[str, list[Any]] = {
        "sscc": [Shipment.sscc],
        "consignee": [Shipment.destination_gln],
    }
    keys = sorts.get(query.sort, [Shipment.shipped_at])
    stmt = stmt.order_by(*_ordered(query, keys), Shipment.id.desc())
    return page_with_total(ui.session, stmt, query.page, query.size)


DOCUMENT_LIST = ListSpec(
    key="compliance_documents",
    title=N_("Compliance documents"),
    path="/quality/documents",
    columns=(
        Column(
            "sscc",
            N_("Logistic unit (SSCC)"),
            lambda s: s.sscc,
            href=lambda s: f"/quality/documents/coc/{s.id}",
            css="mono nowrap",
            searchable=True,
        ),
        Column(
            "consignee",
            N_("Consignee"),
            lambda s: s.destination_gln or "",
            text=lambda ui, s: ui.extra.get("parties", {}).get(
                s.destination_party_id or 0, s.destination_gln or ""
            ),
            searchable=True,
        ),
        Column("shipped_at", N_("Shipped"), lambda s: s.shipped_at, css="nowrap"),
        Column(
            "pdf",
            N_("Certificate of conformance"),
            lambda s: f"/quality/documents/coc/{s.id}/pdf",
            html=lambda ui, s: Markup('<a href="/quality/documents/coc/{}/pdf">PDF</a>').format(
                s.id
            ),
            sortable=False,
            export=False,
        ),
    ),
    fetch=_fetch_shipments,
    paged=True,
    count=NP_("{n} certificate of conformance", "{n} certificates of conformance"),
    search=N_("SSCC or consignee"),
    default_sort="-shipped_at",
    intro=N_(
        "A device history record per finished lot, and a certificate of conformance per "
        "shipment, as pages and PDF files."
    ),
    empty=Empty(N_("No shipment yet.")),
    permission=Permission.QUALITY_READ,
    head="quality/_dhr_form.html",
)
