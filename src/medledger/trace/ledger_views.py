"""HTML pages over the trace ledger: the lists of events, capture jobs, lots and serials, the
lot (item) record page, and the trace tiles of the home page.

Reads go through ``core.scoping`` (a partner sees the events, jobs and items that concern its
party, exactly as the API shows it); the lists are :class:`~medledger.web.lists.ListSpec`
paged in the database, since a ledger has millions of rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import ColumnElement, Select, exists, func, select
from sqlalchemy.orm import Session

from medledger.catalog.models import Product
from medledger.catalog.views import register_lots_source
from medledger.core.errors import NotFound
from medledger.core.principal import Permission, Principal
from medledger.core.scoping import scoped, visibility
from medledger.parties.models import Location, Party, Site
from medledger.trace.errors import Code
from medledger.trace.models import CaptureJob, CustodyHop, EpcisEvent, EventItem, TraceItem
from medledger.web.home import HomeChart, HomeTile, register_chart, register_tile
from medledger.web.labels import (
    BIZ_STEP_LABELS,
    CAPTURE_STATE_LABELS,
    DISPOSITION_LABELS,
    EVENT_TYPE_LABELS,
    ITEM_KIND_LABELS,
    cbv_name,
    label,
)
from medledger.web.lists import (
    NP_,
    Column,
    Empty,
    Filter,
    ListQuery,
    ListSpec,
    badge,
    int_or_none,
    link_cell,
    list_page,
)
from medledger.web.nav import N_, NavEntry, register_nav
from medledger.web.pages import options, who
from medledger.web.ui import Ui, UiPage, UiRoute, with_query

router = APIRouter(include_in_schema=False, route_class=UiRoute)

register_nav(NavEntry("lots", N_("Lots"), "/lots", Permission.TRACE_READ, order=96))
register_nav(NavEntry("events", N_("Events"), "/events", Permission.TRACE_READ, order=97))
register_nav(
    NavEntry("capture_jobs", N_("Captures"), "/capture-jobs", Permission.TRACE_READ, order=98)
)

NEAR_EXPIRY_DAYS = 90
_GLN = re.compile(r"/41[47]/(\d{13})")


def _visible(stmt: Any, model: type, principal: Principal) -> Select[Any]:
    """``stmt`` limited by ``core.scoping`` to what the principal may see."""
    result: Select[Any] = scoped(stmt, model, principal)
    return result


def _today() -> date:
    return datetime.now(UTC).date()


def _expiry(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


# --- names of the parties, places and products the ledger refers to --------------------------


def party_names(session: Session, principal: Principal, ids: set[int]) -> dict[int, str]:
    """Names of the parties the principal may see, by id (others stay unnamed)."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    stmt = _visible(select(Party.id, Party.name).where(Party.id.in_(ids)), Party, principal)
    return {int(i): str(n) for i, n in session.execute(stmt)}


def product_names(session: Session, principal: Principal, gtins: set[str]) -> dict[str, Any]:
    """``gtin -> (id, name)`` of the catalogue's products."""
    gtins = {g for g in gtins if g}
    if not gtins:
        return {}
    stmt = _visible(
        select(Product.gtin, Product.id, Product.name).where(Product.gtin.in_(gtins)),
        Product,
        principal,
    )
    return {str(g): (int(i), str(n)) for g, i, n in session.execute(stmt)}


@dataclass(frozen=True)
class Place:
    """A location, site or party an EPCIS event names, with a name when we know it."""

    uri: str
    name: str
    href: str | None


def place_names(session: Session, principal: Principal, uris: set[str]) -> dict[str, Place]:
    """Read points, business locations, sources and destinations (GLN-based URIs) named by
    the registered location, site or party with that GLN; unknown ones keep their URI."""
    by_gln: dict[str, list[str]] = {}
    for uri in uris:
        match = _GLN.search(uri or "")
        if match:
            by_gln.setdefault(match.group(1), []).append(uri)
    found: dict[str, tuple[str, str]] = {}
    if by_gln:
        glns = set(by_gln)
        for model, path in ((Party, "/parties"), (Site, "/sites"), (Location, "/locations")):
            stmt = _visible(
                select(model.gln, model.id, model.name).where(model.gln.in_(glns)),
                model,
                principal,
            )
            for gln, row_id, name in session.execute(stmt):
                # The most specific wins: a location over its site over its party.
                found[str(gln)] = (str(name), f"{path}/{row_id}")
    places = {}
    for uri in uris:
        match = _GLN.search(uri or "")
        known = found.get(match.group(1)) if match else None
        places[uri] = Place(uri, known[0], known[1]) if known else Place(uri, uri, None)
    return places


# --- lots and serials ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemRow:
    """A lot, serial or logistic unit of the ledger, ready to show."""

    id: int
    uri: str
    kind: str
    kind_label: str
    gtin: str | None
    lot: str | None
    serial: str | None
    sscc: str | None
    identifier: str
    product_id: int | None
    product_name: str
    expiry: date | None
    expiry_text: str
    step_label: str
    disposition_label: str
    badges: list[tuple[str, str]]
    holder_id: int | None
    holder_name: str
    last_event_time: datetime | None


def _badges(ui: Ui, item: TraceItem, expiry: date | None) -> list[tuple[str, str]]:
    badges: list[tuple[str, str]] = []
    today = _today()
    if expiry is not None and expiry < today:
        badges.append((ui._("expired"), "alert"))
    elif expiry is not None and expiry <= today + timedelta(days=NEAR_EXPIRY_DAYS):
        badges.append((ui._("expires soon"), "warn"))
    disposition = cbv_name(item.last_disposition)
    if disposition:
        tone = {
            "recalled": "alert",
            "damaged": "alert",
            "destroyed": "off",
            "non_conformant": "alert",
            "expired": "alert",
            "in_transit": "draft",
            "active": "ok",
            "in_progress": "ok",
            "conformant": "ok",
            "sellable_accessible": "ok",
        }.get(disposition, "off")
        badges.append((ui.disposition(item.last_disposition), tone))
    return badges


def item_rows(ui: Ui, items: list[TraceItem]) -> list[ItemRow]:
    """Ledger items with their product, holder and status, named for the reader."""
    principal = who(ui)
    products = product_names(ui.session, principal, {i.gtin for i in items if i.gtin})
    holders = party_names(
        ui.session, principal, {i.holder_party_id for i in items if i.holder_party_id}
    )
    rows = []
    for item in items:
        expiry = _expiry(item.expiry)
        product = products.get(item.gtin or "")
        identifier = item.serial or item.lot or item.sscc or item.uri
        rows.append(
            ItemRow(
                id=item.id,
                uri=item.uri,
                kind=item.kind,
                kind_label=ui._(label(ITEM_KIND_LABELS, item.kind)),
                gtin=item.gtin,
                lot=item.lot,
                serial=item.serial,
                sscc=item.sscc,
                identifier=identifier,
                product_id=product[0] if product else None,
                product_name=product[1] if product else (item.gtin or ""),
                expiry=expiry,
                expiry_text=ui.day(expiry) if expiry else (item.expiry or ""),
                step_label=ui.biz_step(item.last_biz_step),
                disposition_label=ui.disposition(item.last_disposition),
                badges=_badges(ui, item, expiry),
                holder_id=item.holder_party_id if item.holder_party_id in holders else None,
                holder_name=holders.get(item.holder_party_id or 0, ""),
                last_event_time=item.last_event_time,
            )
        )
    return rows


def _open_gap(principal: Principal) -> ColumnElement[bool]:
    """The item has a shipment that was never received (and not retracted)."""
    return exists().where(
        CustodyHop.tenant_id == principal.tenant_id,
        CustodyHop.item_id == TraceItem.id,
        CustodyHop.shipped_at.is_not(None),
        CustodyHop.received_at.is_(None),
        CustodyHop.retracted_by_event_id.is_(None),
    )


def _item_statement(ui: Ui, query: ListQuery) -> Select[Any]:
    principal = who(ui)
    stmt: Select[Any] = _visible(select(TraceItem), TraceItem, principal)
    kind = query.get("kind")
    stmt = stmt.where(
        TraceItem.kind == kind if kind else TraceItem.kind.in_(("lot", "serial", "sscc"))
    )
    if query.get("gtin"):
        stmt = stmt.where(TraceItem.gtin == query.get("gtin"))
    if query.q:
        needle = f"%{query.q}%"
        stmt = stmt.where(
            TraceItem.lot.ilike(needle)
            | TraceItem.serial.ilike(needle)
            | TraceItem.sscc.ilike(needle)
            | (TraceItem.gtin == query.q)
        )
    expires = int_or_none(query.get("expires"))
    if expires is not None:
        today = _today()
        stmt = stmt.where(
            TraceItem.expiry.is_not(None),
            TraceItem.expiry >= today.isoformat(),
            TraceItem.expiry <= (today + timedelta(days=expires)).isoformat(),
        )
    if query.get("expired") == "true":
        stmt = stmt.where(TraceItem.expiry.is_not(None), TraceItem.expiry < _today().isoformat())
    if query.get("gap") == "open":
        stmt = stmt.where(_open_gap(principal))
    if query.get("disposition"):
        name = query.get("disposition")
        stmt = stmt.where(
            TraceItem.last_disposition.in_(
                (name, f"urn:epcglobal:cbv:disp:{name}", f"https://ref.gs1.org/cbv/Disp-{name}")
            )
        )
    return stmt


_ITEM_SORTS: dict[str, Any] = {
    "identifier": (TraceItem.lot, TraceItem.serial, TraceItem.sscc),
    "product": (TraceItem.gtin,),
    "expiry": (TraceItem.expiry,),
    "last_event_time": (TraceItem.last_event_time,),
    "kind": (TraceItem.kind,),
}


def _fetch_items(ui: Ui, query: ListQuery) -> tuple[list[ItemRow], int]:
    stmt = _item_statement(ui, query)
    total = ui.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    keys = _ITEM_SORTS.get(query.sort, _ITEM_SORTS["expiry"])
    order = [k.desc() if query.descending else k.asc() for k in keys]
    # Unknown expiry last, whichever way the column sorts.
    order = [TraceItem.expiry.is_(None), *order] if query.sort == "expiry" else order
    items = ui.session.scalars(
        stmt.order_by(*order, TraceItem.id).offset(query.offset).limit(query.size)
    )
    return item_rows(ui, list(items)), int(total)


def _badges_html(ui: Ui, row: ItemRow) -> Any:
    html = link_cell(None, "")
    for text, tone in row.badges:
        html += badge(text, tone) + " "
    return html


LOT_LIST = ListSpec(
    key="lots",
    title=N_("Lots and serials"),
    path="/lots",
    columns=(
        Column(
            "identifier",
            N_("Lot, serial or SSCC"),
            lambda r: r.identifier,
            href=lambda r: f"/lots/{r.id}",
            css="mono nowrap",
        ),
        Column("kind", N_("Kind"), lambda r: r.kind, text=lambda ui, r: r.kind_label),
        Column(
            "product",
            N_("Product"),
            lambda r: r.gtin,
            text=lambda ui, r: r.product_name,
            html=lambda ui, r: link_cell(
                f"/products/{r.product_id}" if r.product_id else None, r.product_name
            ),
        ),
        Column(
            "expiry",
            N_("Expiry"),
            lambda r: r.expiry,
            text=lambda ui, r: r.expiry_text,
            css="nowrap",
        ),
        Column(
            "status",
            N_("Status"),
            lambda r: r.disposition_label,
            text=lambda ui, r: ", ".join(t for t, _ in r.badges),
            html=_badges_html,
            sortable=False,
        ),
        Column(
            "holder",
            N_("Held by"),
            lambda r: r.holder_name,
            html=lambda ui, r: link_cell(
                f"/parties/{r.holder_id}" if r.holder_id else None, r.holder_name
            ),
            sortable=False,
        ),
        Column("last_event_time", N_("Last event"), lambda r: r.last_event_time, css="nowrap"),
    ),
    fetch=_fetch_items,
    paged=True,
    count=NP_("{n} item", "{n} items"),
    filters=(
        Filter(
            "kind",
            N_("Kind"),
            options=lambda ui: options(ui, ITEM_KIND_LABELS, ("lot", "serial", "sscc")),
        ),
        Filter("gtin", N_("GTIN"), kind="text", size=14),
        Filter(
            "expires",
            N_("Expires within"),
            options=lambda ui: [(str(d), ui._("{days} days", days=d)) for d in (30, 90, 180, 365)],
        ),
        Filter(
            "expired",
            N_("Expired"),
            options=lambda ui: [("true", ui._("expired"))],
        ),
        Filter(
            "gap",
            N_("Trace gaps"),
            options=lambda ui: [("open", ui._("Shipped, never received"))],
        ),
        Filter(
            "disposition",
            N_("Disposition"),
            options=lambda ui: options(ui, DISPOSITION_LABELS, sorted(DISPOSITION_LABELS)),
        ),
    ),
    search=N_("Lot, serial, SSCC or GTIN"),
    default_sort="expiry",
    empty=Empty(
        N_("No lot or serial in the ledger yet. They appear when EPCIS events are captured."),
        N_("Trace"),
        "/trace",
    ),
    permission=Permission.TRACE_READ,
)


@router.get("/lots")
def lot_list(ui: UiPage) -> Response:
    """Lots, serials and logistic units of the ledger: expiry, status, holder."""
    return list_page(ui, LOT_LIST)


def lots_of_product(ui: Ui, gtin: str, limit: int = 20) -> tuple[list[ItemRow], int]:
    """The first lots and serials of a product (for its record page) and how many there are."""
    query = ListQuery(filters={"gtin": gtin}, sort="expiry", size=limit)
    stmt = _item_statement(ui, query).where(TraceItem.kind.in_(("lot", "serial")))
    total = ui.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = ui.session.scalars(
        stmt.order_by(TraceItem.kind, TraceItem.expiry, TraceItem.lot, TraceItem.serial).limit(
            limit
        )
    )
    return item_rows(ui, list(items)), int(total)


# The product page lists the product's lots (catalog/views.py).
register_lots_source(lots_of_product)


def _visible_item(ui: Ui, item_id: int) -> TraceItem:
    stmt = _visible(select(TraceItem).where(TraceItem.id == item_id), TraceItem, who(ui))
    item = ui.session.scalars(stmt).first()
    if item is None:
        raise NotFound(
            "Lot or serial {id} was not found.", code=Code.ITEM_NOT_FOUND, params={"id": item_id}
        )
    return item


@router.get("/lots/{item_id}")
def lot_page(ui: UiPage, item_id: int) -> Response:
    """One lot, serial or logistic unit: identifiers, expiry, status, where it is, its serials,
    the events that name it, and the way to trace it."""
    principal = who(ui)
    principal.require(Permission.TRACE_READ)
    item = _visible_item(ui, item_id)
    row = item_rows(ui, [item])[0]
    session = ui.session
    serial_stmt = _visible(
        select(TraceItem).where(TraceItem.lot_item_id == item.id), TraceItem, principal
    )
    serial_total = session.scalar(select(func.count()).select_from(serial_stmt.subquery())) or 0
    serials = item_rows(ui, list(session.scalars(serial_stmt.order_by(TraceItem.serial).limit(50))))
    lot_of = _visible_item(ui, item.lot_item_id) if item.lot_item_id else None
    # A subquery, not a join: the event visibility rule correlates its own event_items.
    event_stmt = _visible(
        select(EpcisEvent).where(
            EpcisEvent.id.in_(
                select(EventItem.event_row_id).where(
                    EventItem.item_id == item.id, EventItem.tenant_id == principal.tenant_id
                )
            )
        ),
        EpcisEvent,
        principal,
    )
    events = list(
        session.scalars(
            event_stmt.order_by(EpcisEvent.event_time.desc(), EpcisEvent.id.desc()).limit(50)
        ).unique()
    )
    places = place_names(
        session,
        principal,
        {u for u in [item.last_biz_location, *(e.biz_location for e in events)] if u},
    )
    hops = list(
        session.scalars(
            _visible(select(CustodyHop), CustodyHop, principal)
            .where(CustodyHop.item_id == item.id, CustodyHop.retracted_by_event_id.is_(None))
            .order_by(CustodyHop.shipped_at)
        )
    )
    hop_parties = party_names(
        session,
        principal,
        {p for h in hops for p in (h.from_party_id, h.to_party_id) if p is not None},
    )
    return ui.render(
        "trace/lot.html",
        item=item,
        row=row,
        lot_of=lot_of,
        serials=serials,
        serial_total=serial_total,
        events=events,
        places=places,
        hops=hops,
        hop_parties=hop_parties,
        trace_url=with_query("/trace", id=item.uri),
    )


# --- events -------------------------------------------------------------------------------------


def _event_statement(ui: Ui, query: ListQuery) -> Select[Any]:
    principal = who(ui)
    stmt: Select[Any] = _visible(select(EpcisEvent), EpcisEvent, principal)
    if query.get("event_type"):
        stmt = stmt.where(EpcisEvent.event_type == query.get("event_type"))
    step = query.get("biz_step")
    if step:
        stmt = stmt.where(
            EpcisEvent.biz_step.in_(
                (
                    step,
                    f"urn:epcglobal:cbv:bizstep:{step}",
                    f"https://ref.gs1.org/cbv/BizStep-{step}",
                )
            )
        )
    if query.get("capture_job"):
        stmt = stmt.where(EpcisEvent.capture_job_id == int_or_none(query.get("capture_job")))
    if query.q:
        stmt = stmt.where(EpcisEvent.event_id.ilike(f"%{query.q}%"))
    since = _expiry(query.get("since"))
    until = _expiry(query.get("until"))
    if since is not None:
        stmt = stmt.where(
            EpcisEvent.event_time >= datetime.combine(since, datetime.min.time(), UTC)
        )
    if until is not None:
        stmt = stmt.where(
            EpcisEvent.event_time
            < datetime.combine(until + timedelta(days=1), datetime.min.time(), UTC)
        )
    return stmt


_EVENT_SORTS: dict[str, Any] = {
    "event_time": EpcisEvent.event_time,
    "record_time": EpcisEvent.record_time,
    "event_type": EpcisEvent.event_type,
    "biz_step": EpcisEvent.biz_step,
}


def _fetch_events(ui: Ui, query: ListQuery) -> tuple[list[Any], int]:
    stmt = _event_statement(ui, query)
    total = ui.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    key = _EVENT_SORTS.get(query.sort, EpcisEvent.event_time)
    order = key.desc() if query.descending else key.asc()
    tie = EpcisEvent.id.desc() if query.descending else EpcisEvent.id.asc()
    events = list(
        ui.session.scalars(stmt.order_by(order, tie).offset(query.offset).limit(query.size))
    )
    principal = who(ui)
    ui.extra["places"] = place_names(
        ui.session, principal, {e.biz_location for e in events if e.biz_location}
    )
    ui.extra["party_names"] = party_names(
        ui.session, principal, {e.capturing_party_id for e in events}
    )
    return events, int(total)


def _place_cell(ui: Ui, event: Any) -> Any:
    place = ui.extra.get("places", {}).get(event.biz_location)
    if place is None:
        return link_cell(None, "")
    return link_cell(place.href, place.name, "" if place.href else "mono")


def _event_href(event: Any) -> str:
    return with_query("/trace/event", id=event.event_id.removesuffix("#errorDeclaration"))


EVENT_LIST = ListSpec(
    key="events",
    title=N_("EPCIS events"),
    path="/events",
    columns=(
        Column(
            "event_time", N_("Event time"), lambda e: e.event_time, href=_event_href, css="nowrap"
        ),
        Column(
            "event_type",
            N_("Type"),
            lambda e: e.event_type,
            text=lambda ui, e: ui.event_kind(e.event_type, e.action),
        ),
        Column(
            "biz_step",
            N_("Business step"),
            lambda e: e.biz_step,
            text=lambda ui, e: ui.biz_step(e.biz_step),
        ),
        Column(
            "disposition",
            N_("Disposition"),
            lambda e: e.disposition,
            text=lambda ui, e: ui.disposition(e.disposition),
            sortable=False,
        ),
        Column(
            "where",
            N_("Where"),
            lambda e: e.biz_location,
            text=lambda ui, e: (
                p.name if (p := ui.extra.get("places", {}).get(e.biz_location)) else ""
            ),
            html=_place_cell,
            sortable=False,
        ),
        Column(
            "captured_by",
            N_("Captured by"),
            lambda e: e.capturing_party_id,
            text=lambda ui, e: ui.extra.get("party_names", {}).get(e.capturing_party_id, ""),
            sortable=False,
        ),
        Column(
            "state",
            N_("State"),
            lambda e: e.retracted_by_event_id,
            text=lambda ui, e: ui._("retracted") if e.retracted_by_event_id else "",
            html=lambda ui, e: (
                badge(ui._("retracted"), "off") if e.retracted_by_event_id else link_cell(None, "")
            ),
            sortable=False,
        ),
        Column("record_time", N_("Recorded"), lambda e: e.record_time, css="nowrap"),
    ),
    fetch=_fetch_events,
    paged=True,
    count=NP_("{n} event", "{n} events"),
    filters=(
        Filter(
            "event_type",
            N_("Type"),
            options=lambda ui: options(ui, EVENT_TYPE_LABELS, list(EVENT_TYPE_LABELS)),
        ),
        Filter(
            "biz_step",
            N_("Business step"),
            options=lambda ui: options(ui, BIZ_STEP_LABELS, sorted(BIZ_STEP_LABELS)),
        ),
        Filter("since", N_("From"), kind="date"),
        Filter("until", N_("To"), kind="date"),
        Filter("capture_job", N_("Capture job"), kind="text", size=6),
    ),
    search=N_("Event ID"),
    default_sort="-event_time",
    empty=Empty(
        N_(
            "No EPCIS event yet. Partners and your own systems capture them at POST /epcis/capture."
        ),
        N_("Open the API documentation"),
        "/docs",
    ),
    permission=Permission.TRACE_READ,
)


@router.get("/events")
def event_list(ui: UiPage) -> Response:
    """The EPCIS events the user may see, newest first."""
    return list_page(ui, EVENT_LIST)


# --- capture jobs -------------------------------------------------------------------------------


def _fetch_jobs(ui: Ui, query: ListQuery) -> tuple[list[Any], int]:
    principal = who(ui)
    stmt: Select[Any] = _visible(select(CaptureJob), CaptureJob, principal)
    if query.get("state"):
        stmt = stmt.where(CaptureJob.state == query.get("state"))
    if query.q:
        stmt = stmt.where(CaptureJob.submitted_by.ilike(f"%{query.q}%"))
    total = ui.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    key = {"event_count": CaptureJob.event_count, "state": CaptureJob.state}.get(
        query.sort, CaptureJob.id
    )
    order = key.desc() if query.descending else key.asc()
    jobs = list(
        ui.session.scalars(
            stmt.order_by(order, CaptureJob.id.desc()).offset(query.offset).limit(query.size)
        )
    )
    ui.extra["party_names"] = party_names(
        ui.session, principal, {j.capturing_party_id for j in jobs}
    )
    return jobs, int(total)


_JOB_TONES = {"succeeded": "ok", "failed": "alert", "running": "draft", "accepted": "draft"}


def _job_errors(ui: Ui, job: Any) -> str:
    errors = job.errors or []
    if not errors:
        return ""
    first = errors[0]
    message = str(first.get("message") or first.get("detail") or first.get("code") or "")
    more = len(errors) - 1
    return message + (" " + ui._("(+{n} more)", n=more) if more else "")


CAPTURE_JOB_LIST = ListSpec(
    key="capture-jobs",
    title=N_("Capture jobs"),
    path="/capture-jobs",
    columns=(
        Column(
            "id",
            N_("Job"),
            lambda j: j.id,
            href=lambda j: f"/events?capture_job={j.id}",
            css="mono num",
        ),
        Column("created_at", N_("Submitted"), lambda j: j.created_at, css="nowrap", sortable=False),
        Column("submitted_by", N_("Submitted by"), lambda j: j.submitted_by, sortable=False),
        Column(
            "party",
            N_("Party"),
            lambda j: j.capturing_party_id,
            text=lambda ui, j: ui.extra.get("party_names", {}).get(j.capturing_party_id, ""),
            sortable=False,
        ),
        Column(
            "state",
            N_("State"),
            lambda j: j.state,
            text=lambda ui, j: ui._(label(CAPTURE_STATE_LABELS, j.state)),
            html=lambda ui, j: badge(
                ui._(label(CAPTURE_STATE_LABELS, j.state)), _JOB_TONES.get(j.state, "off")
            ),
        ),
        Column("event_count", N_("Events"), lambda j: j.event_count, css="num"),
        Column(
            "captured_count", N_("Captured"), lambda j: j.captured_count, css="num", sortable=False
        ),
        Column(
            "errors", N_("Errors"), lambda j: len(j.errors or []), text=_job_errors, sortable=False
        ),
    ),
    fetch=_fetch_jobs,
    paged=True,
    count=NP_("{n} capture job", "{n} capture jobs"),
    filters=(
        Filter(
            "state",
            N_("State"),
            options=lambda ui: options(ui, CAPTURE_STATE_LABELS, list(CAPTURE_STATE_LABELS)),
        ),
    ),
    search=N_("Submitted by"),
    default_sort="-id",
    empty=Empty(
        N_("No capture yet. Each POST /epcis/capture appears here with its outcome."),
        N_("Open the API documentation"),
        "/docs",
    ),
    permission=Permission.TRACE_READ,
)


@router.get("/capture-jobs")
def capture_job_list(ui: UiPage) -> Response:
    """EPCIS capture jobs, newest first, with their failures."""
    return list_page(ui, CAPTURE_JOB_LIST)


# --- home tiles ---------------------------------------------------------------------------------


def _count(ui: Ui, stmt: Select[Any]) -> int:
    return int(ui.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


def _open_gaps(ui: Ui) -> int:
    return _count(ui, _item_statement(ui, ListQuery(filters={"gap": "open"})))


def _near_expiry(ui: Ui) -> int:
    return _count(
        ui,
        _item_statement(ui, ListQuery(filters={"kind": "lot", "expires": str(NEAR_EXPIRY_DAYS)})),
    )


def _recent_jobs(ui: Ui, state: str | None) -> int:
    principal = who(ui)
    since = datetime.now(UTC) - timedelta(days=7)
    stmt: Select[Any] = _visible(select(CaptureJob.id), CaptureJob, principal).where(
        CaptureJob.created_at >= since
    )
    if state:
        stmt = stmt.where(CaptureJob.state == state)
    return _count(ui, stmt)


register_tile(
    HomeTile(
        "trace_gaps",
        N_("Open trace gaps"),
        N_("Shipped, never received"),
        _open_gaps,
        "/lots?gap=open",
        Permission.TRACE_READ,
        alert_when_positive=True,
        order=10,
    )
)
register_tile(
    HomeTile(
        "near_expiry",
        N_("Lots expiring within 90 days"),
        N_("Plan their use or their return"),
        _near_expiry,
        f"/lots?kind=lot&expires={NEAR_EXPIRY_DAYS}",
        Permission.TRACE_READ,
        alert_when_positive=True,
        order=20,
    )
)
register_tile(
    HomeTile(
        "recent_captures",
        N_("Captures in the last 7 days"),
        N_("EPCIS documents received"),
        lambda ui: _recent_jobs(ui, None),
        "/capture-jobs",
        Permission.TRACE_READ,
        order=30,
    )
)
register_tile(
    HomeTile(
        "failed_captures",
        N_("Failed captures in the last 7 days"),
        N_("Fix the documents and send them again"),
        lambda ui: _recent_jobs(ui, "failed"),
        "/capture-jobs?state=failed",
        Permission.TRACE_READ,
        alert_when_positive=True,
        order=40,
    )
)


def events_per_month(ui: Ui, months: int = 12) -> list[tuple[date, int]]:
    """How many events the user may see happened in each of the ``months`` months up to the
    month of the latest one (UTC): the ledger's recent activity, even when it is quiet now."""
    principal = who(ui)
    latest = ui.session.scalar(
        select(func.max(EpcisEvent.event_time)).where(visibility(EpcisEvent, principal))
    )
    end = (latest.astimezone(UTC).date() if latest is not None else _today()).replace(day=1)
    firsts = [end]
    for _ in range(months - 1):
        firsts.append((firsts[-1] - timedelta(days=1)).replace(day=1))
    firsts.reverse()
    start_at = datetime.combine(firsts[0], datetime.min.time(), UTC)
    day = func.date(EpcisEvent.event_time)
    stmt = (
        select(day, func.count())
        .where(visibility(EpcisEvent, principal), EpcisEvent.event_time >= start_at)
        .group_by(day)
    )
    counts = dict.fromkeys(firsts, 0)
    for value, count in ui.session.execute(stmt):
        month = date.fromisoformat(str(value)[:10]).replace(day=1)
        if month in counts:
            counts[month] += int(count)
    return sorted(counts.items())


def _events_chart(ui: Ui) -> tuple[list[str], list[int]]:
    from babel.dates import format_skeleton

    from medledger.core.i18n import babel_locale

    series = events_per_month(ui)
    return (
        [format_skeleton("yMMM", month, locale=babel_locale(ui.locale)) for month, _ in series],
        [count for _, count in series],
    )


register_chart(
    HomeChart(
        "events_per_month",
        N_("EPCIS events per month"),
        _events_chart,
        "/events",
        Permission.TRACE_READ,
        order=10,
    )
)
