"""HTML pages of the trace explorer: ``/trace`` (scan or type, see the tree), an event's detail,
and the recall listing as CSV for the browser session.

The pages call the same service as ``GET /api/v1/trace``, so a partner sees exactly what the
API shows it (see ``docs/trace.md``). A 20 000-unit recall tree is not drawn whole: each side
shows its first :data:`TREE_LIMIT` items and the CSV export carries everything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from medledger.core.errors import NotFound, ValidationFailed
from medledger.core.principal import Permission, Principal
from medledger.trace import service
from medledger.trace.engine import Direction, TracedItem, TraceReport
from medledger.trace.errors import Code
from medledger.trace.repository import event_documents, get_visible_event
from medledger.web.nav import N_, NavEntry, register_nav
from medledger.web.ui import Ui, UiPage, UiRoute, local_path

router = APIRouter(include_in_schema=False, route_class=UiRoute)

# After the master-data entries (the shell's browser test pins their first seven places).
register_nav(NavEntry("trace", N_("Trace"), "/trace", Permission.TRACE_READ, order=95))

TREE_LIMIT = 500

DIRECTION_LABELS = {
    "both": N_("Both directions"),
    "upstream": N_("Upstream (components, suppliers)"),
    "downstream": N_("Downstream (units, consignees)"),
}
KIND_LABELS = {
    "lot": N_("Lot"),
    "serial": N_("Serial"),
    "sscc": N_("Logistic unit"),
    "class": N_("Product"),
    "other": N_("Item"),
}
VIA_LABELS = {
    "transformation": N_("made into"),
    "aggregation": N_("packed into"),
    "lot": N_("unit of the lot"),
}
ROLE_LABELS = {"supplier": N_("supplier"), "holder": N_("holder"), "consignee": N_("consignee")}
GAP_LABELS = {
    "unreceived_shipment": N_("Shipped, never received"),
    "no_commissioning": N_("Lot never commissioned"),
}


@dataclass
class TreeNode:
    """An item of the explorer's tree with the items first reached through it."""

    item: TracedItem
    children: list[TreeNode] = field(default_factory=list)


def who(ui: Ui) -> Principal:
    assert ui.principal is not None
    return ui.principal


def tree_of(report: TraceReport, side: str, limit: int = TREE_LIMIT) -> tuple[list[TreeNode], int]:
    """The breadth-first tree of one side under the root (first ``limit`` items), and how many
    items that side has. An item whose parent is hidden (partner scope) hangs under the root."""
    items = [item for item in report.items if item.direction == side]
    nodes: dict[str, TreeNode] = {}
    top: list[TreeNode] = []
    for item in items[:limit]:
        node = TreeNode(item)
        nodes[item.uri] = node
        parent = nodes.get(item.parent_uri or "")
        (parent.children if parent is not None else top).append(node)
    return top, len(items)


def _item_id(ui: Ui, uri: str) -> int | None:
    """The ledger row of a traced item the user may see (for the link to its record page)."""
    from sqlalchemy import select

    from medledger.core.scoping import scoped
    from medledger.trace.models import TraceItem

    query: Any = select(TraceItem.id).where(TraceItem.uri == uri)
    return ui.session.scalar(scoped(query, TraceItem, who(ui)))


def _direction(value: str | None) -> Direction:
    try:
        return Direction(value or Direction.BOTH.value)
    except ValueError:
        return Direction.BOTH


@router.get("/trace")
def trace_page(ui: UiPage) -> Response:
    """The explorer: an identifier field (scanner friendly), a direction, and the answer."""
    principal = who(ui)
    principal.require(Permission.TRACE_READ)
    identifier = (ui.request.query_params.get("id") or "").strip()
    direction = _direction(ui.request.query_params.get("direction"))
    context: dict[str, Any] = {
        "identifier": identifier,
        "direction": direction.value,
        "direction_options": [(key, ui._(text)) for key, text in DIRECTION_LABELS.items()],
        "report": None,
        "error": None,
        "error_code": None,
        "kind_labels": KIND_LABELS,
        "via_labels": VIA_LABELS,
        "role_labels": ROLE_LABELS,
        "gap_labels": GAP_LABELS,
        "tree_limit": TREE_LIMIT,
    }
    status = 200
    if identifier:
        try:
            report = service.trace(
                ui.session, principal, service.TraceRequest(identifier, direction)
            )
        except (ValidationFailed, NotFound) as exc:
            ui.discard_changes()
            context["error"] = ui._(exc.message, **exc.params)
            context["error_code"] = exc.code
            status = exc.status
        else:
            context["report"] = report
            context["root_item_id"] = _item_id(ui, report.root.uri)
            context["sides"] = [
                (side, *tree_of(report, side))
                for side in ("upstream", "downstream")
                if direction in (Direction.BOTH, Direction(side))
            ]
    return ui.render("trace/explorer.html", status=status, **context)


@router.get("/trace/export.csv")
def trace_export(ui: UiPage) -> Response:
    """The recall listing of ``id`` as CSV, for the browser session (same as the API's)."""
    principal = who(ui)
    identifier = (ui.request.query_params.get("id") or "").strip()
    direction = _direction(ui.request.query_params.get("direction"))
    report = service.trace(ui.session, principal, service.TraceRequest(identifier, direction))
    return Response(
        report.listing_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="trace.csv"'},
    )


# EPCIS fields shown first, in this order, in the readable view of an event.
_EVENT_FIELDS = (
    "type",
    "eventID",
    "action",
    "bizStep",
    "disposition",
    "readPoint",
    "bizLocation",
    "epcList",
    "quantityList",
    "parentID",
    "childEPCs",
    "childQuantityList",
    "inputEPCList",
    "inputQuantityList",
    "outputEPCList",
    "outputQuantityList",
    "sourceList",
    "destinationList",
    "bizTransactionList",
    "ilmd",
    "errorDeclaration",
)
_SKIPPED = {"eventTime", "eventTimeZoneOffset", "recordTime", "@context"}


def readable(document: dict[str, Any]) -> list[tuple[str, Any]]:
    """An event's fields as ``(name, value)`` rows: text stays text, a list of plain values a
    list, anything nested is shown as indented JSON."""
    names = [name for name in _EVENT_FIELDS if name in document]
    names += sorted(name for name in document if name not in _EVENT_FIELDS and name not in _SKIPPED)
    rows: list[tuple[str, Any]] = []
    for name in names:
        value = document[name]
        if isinstance(value, dict) and set(value) == {"id"}:
            value = value["id"]  # readPoint / bizLocation
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            rows.append((name, list(value)))
        elif isinstance(value, dict | list):
            rows.append((name, json.dumps(value, indent=2, ensure_ascii=False)))
        else:
            rows.append((name, value))
    return rows


def event_card(ui: Ui, event: Any) -> dict[str, Any]:
    """What the event page shows people: names for its parties and places, its items as links
    to their records, its vocabulary translated (the stored JSON stays one click away)."""
    from sqlalchemy import select

    from medledger.core.scoping import scoped
    from medledger.trace.ledger_views import item_rows, party_names, place_names
    from medledger.trace.models import EventItem, TraceItem
    from medledger.web.labels import (
        BIZ_TRANSACTION_TYPE_LABELS,
        EVENT_ITEM_ROLE_LABELS,
        SOURCE_DESTINATION_LABELS,
        cbv_label,
        label,
    )

    principal = who(ui)
    session = ui.session
    places = place_names(
        session,
        principal,
        {
            u
            for u in [
                event.read_point,
                event.biz_location,
                *(s.get("value", "") for s in event.sources or []),
                *(d.get("value", "") for d in event.destinations or []),
            ]
            if u
        },
    )
    query: Any = (
        select(EventItem.role, EventItem.quantity, EventItem.uom, TraceItem)
        .join(TraceItem, TraceItem.id == EventItem.item_id)
        .where(EventItem.event_row_id == event.id)
        .order_by(EventItem.id)
    )
    stmt = scoped(query, EventItem, principal)
    found = list(session.execute(stmt.limit(500)))
    rows = {row.id: row for row in item_rows(ui, [item for *_rest, item in found])}
    items = [
        {
            "role": ui._(label(EVENT_ITEM_ROLE_LABELS, role)),
            "quantity": quantity,
            "uom": uom,
            "row": rows[item.id],
        }
        for role, quantity, uom, item in found
    ]

    def moves(entries: list[dict[str, str]]) -> list[dict[str, Any]]:
        return [
            {
                "type": ui._(cbv_label(SOURCE_DESTINATION_LABELS, entry.get("type"))),
                "place": places.get(entry.get("value", "")),
            }
            for entry in entries or []
        ]

    return {
        "read_point": places.get(event.read_point) if event.read_point else None,
        "biz_location": places.get(event.biz_location) if event.biz_location else None,
        "captured_by": party_names(session, principal, {event.capturing_party_id}).get(
            event.capturing_party_id, ""
        ),
        "sources": moves(event.sources),
        "destinations": moves(event.destinations),
        "transactions": [
            {
                "type": ui._(cbv_label(BIZ_TRANSACTION_TYPE_LABELS, t.get("type")))
                if t.get("type")
                else "",
                "value": t.get("value", ""),
            }
            for t in event.biz_transactions or []
        ],
        "items": items,
    }


@router.get("/trace/event")
def event_page(ui: UiPage) -> Response:
    """One captured event the user may see: its facts, readable, and the stored EPCIS JSON."""
    principal = who(ui)
    principal.require(Permission.TRACE_READ)
    event_id = (ui.request.query_params.get("id") or "").strip()
    if not event_id:
        raise NotFound(
            "EPCIS event {event_id} was not found.",
            code=Code.EVENT_NOT_FOUND,
            params={"event_id": ""},
        )
    event = get_visible_event(ui.session, principal, event_id)
    document = event_documents(ui.session, principal, [event])[0]
    return ui.render(
        "trace/event.html",
        event=event,
        event_time=event.event_time,
        record_time=event.record_time,
        card=event_card(ui, event),
        rows=readable(document),
        document_json=json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False),
        back=local_path(ui.request.query_params.get("back"), default="/trace"),
    )
