"""HTML pages: purchase orders (a supplier's users see theirs, without prices) with their
ASNs, the replenishment suggestions a buyer approves, and the receiving screen (scan against
an ASN; works with a keyboard-wedge scanner on a phone-sized screen). Receiving lives here,
not in inventory, because it receives through this package's service, which moves stock
through inventory's: inventory does not import purchasing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select

from medledger.core.principal import Permission
from medledger.inventory.models import InventorySite
from medledger.parties.models import Location, Party, Site
from medledger.parties.views import submit, who
from medledger.purchasing import repository as repo
from medledger.purchasing import service, suggestions
from medledger.purchasing.models import AsnStatus, PurchaseOrder
from medledger.purchasing.schemas import ScanIn
from medledger.web.forms import empty_form, parse_form
from medledger.web.lists import (
    NP_,
    Column,
    Empty,
    Filter,
    ListQuery,
    ListSpec,
    badge,
    list_page,
    visible_page,
)
from medledger.web.nav import N_, NavEntry, register_nav
from medledger.web.pages import options
from medledger.web.ui import Ui, UiPage, UiRoute

router = APIRouter(include_in_schema=False, route_class=UiRoute)

register_nav(
    NavEntry(
        "purchase-orders",
        N_("Purchase orders"),
        "/purchase-orders",
        Permission.PURCHASING_READ,
        order=104,
    )
)
register_nav(
    NavEntry("receiving", N_("Receiving"), "/receiving", Permission.INVENTORY_MOVE, order=102)
)

STATUS_LABELS = {
    "draft": N_("Suggested"),
    "sent": N_("Sent"),
    "confirmed": N_("Confirmed"),
    "partially_received": N_("Partially received"),
    "received": N_("Received"),
    "cancelled": N_("Cancelled"),
}


_TONES = {
    "draft": "draft",
    "sent": "warn",
    "confirmed": "ok",
    "partially_received": "warn",
    "received": "ok",
    "cancelled": "off",
}


def _site_options(ui: Ui) -> list[tuple[str, str]]:
    return [
        (str(i), name)
        for i, name in ui.session.execute(
            select(Site.id, Site.name)
            .join(InventorySite, InventorySite.site_id == Site.id)
            .where(InventorySite.tenant_id == who(ui).tenant_id)
            .order_by(Site.name)
        ).all()
    ]


def _names(ui: Ui) -> dict[str, dict[int, str]]:
    """Party and site names of the tenant, once per request (suppliers, ship-to sites)."""
    if "purchasing_names" not in ui.extra:
        tenant = who(ui).tenant_id
        parties = ui.session.execute(select(Party.id, Party.name).where(Party.tenant_id == tenant))
        sites = ui.session.execute(select(Site.id, Site.name).where(Site.tenant_id == tenant))
        ui.extra["purchasing_names"] = {
            "party": {i: n for i, n in parties.all()},
            "site": {i: n for i, n in sites.all()},
        }
    names: dict[str, dict[int, str]] = ui.extra["purchasing_names"]
    return names


def _fetch_orders(ui: Ui, query: ListQuery) -> tuple[list[Any], int]:
    """One page of the purchase orders the reader may see (a supplier: those addressed to
    it), with their line counts."""
    who(ui).require(Permission.PURCHASING_READ)
    filters: list[Any] = []
    if query.get("status"):
        filters.append(PurchaseOrder.status == query.get("status"))
    if query.get("supplier_party_id").isdigit():
        filters.append(PurchaseOrder.supplier_party_id == int(query.get("supplier_party_id")))
    if query.q:
        filters.append(PurchaseOrder.number.ilike(f"%{query.q}%"))
    orders, total = visible_page(
        ui,
        PurchaseOrder,
        query,
        sorts={
            "number": PurchaseOrder.number,
            "status": PurchaseOrder.status,
            "created_at": PurchaseOrder.created_at,
            "confirmed_at": PurchaseOrder.confirmed_at,
        },
        filters=filters,
    )
    lines = repo.order_lines(ui.session, [o.id for o in orders]) if orders else {}
    ui.extra["purchase_order_lines"] = {o.id: len(lines.get(o.id, [])) for o in orders}
    return orders, total


def _status(ui: Ui, order: Any) -> str:
    return ui._(STATUS_LABELS.get(order.status, order.status))


def _supplier_options(ui: Ui) -> list[tuple[str, str]]:
    if not who(ui).sees_all_parties:
        return []
    rows = ui.session.execute(
        select(Party.id, Party.name)
        .where(
            Party.tenant_id == who(ui).tenant_id,
            Party.id.in_(select(PurchaseOrder.supplier_party_id).distinct()),
        )
        .order_by(Party.name)
    ).all()
    return [(str(i), n) for i, n in rows]


PURCHASE_ORDER_LIST = ListSpec(
    key="purchase_orders",
    title=N_("Purchase orders"),
    path="/purchase-orders",
    columns=(
        Column(
            "number",
            N_("Number"),
            lambda o: o.number,
            href=lambda o: f"/purchase-orders/{o.id}",
            css="mono nowrap",
        ),
        Column(
            "supplier",
            N_("Supplier"),
            lambda o: o.supplier_party_id,
            text=lambda ui, o: _names(ui)["party"].get(o.supplier_party_id, ""),
            sortable=False,
        ),
        Column(
            "ship_to",
            N_("Ship to"),
            lambda o: o.ship_to_site_id,
            text=lambda ui, o: _names(ui)["site"].get(o.ship_to_site_id, ""),
            sortable=False,
        ),
        Column(
            "status",
            N_("Status"),
            lambda o: o.status,
            text=_status,
            html=lambda ui, o: badge(_status(ui, o), _TONES.get(o.status, "off")),
        ),
        Column(
            "lines",
            N_("Lines"),
            lambda o: o.id,
            text=lambda ui, o: str(ui.extra.get("purchase_order_lines", {}).get(o.id, 0)),
            css="num",
            sortable=False,
        ),
        Column("created_at", N_("Created"), lambda o: o.created_at, css="nowrap"),
        Column("confirmed_at", N_("Confirmed"), lambda o: o.confirmed_at, css="nowrap"),
    ),
    fetch=_fetch_orders,
    paged=True,
    count=NP_("{n} purchase order", "{n} purchase orders"),
    filters=(
        Filter(
            "status", N_("Status"), options=lambda ui: options(ui, STATUS_LABELS, STATUS_LABELS)
        ),
        Filter("supplier_party_id", N_("Supplier"), options=_supplier_options),
    ),
    search=N_("Purchase order number"),
    default_sort="-created_at",
    row_attrs=lambda o: {"data-status": o.status},
    head="purchasing/_suggest.html",
    empty=Empty(
        N_(
            "No purchase orders yet. Set reorder levels, then let the hub suggest orders for "
            "what is due."
        )
    ),
    permission=Permission.PURCHASING_READ,
)


@router.get("/purchase-orders")
def order_list(ui: UiPage) -> Response:
    """Purchase orders, newest first: search by number, filter by status and supplier."""
    return list_page(
        ui,
        PURCHASE_ORDER_LIST,
        can_suggest=who(ui).can(Permission.PURCHASING_WRITE),
        site_options=_site_options(ui),
    )


@router.post("/purchase-orders/suggestions")
def order_suggest(ui: UiPage) -> Response:
    """Recompute reorder levels at a site and draft orders for what is due."""
    site = ui.form.get("site_id") if ui.form is not None else None
    site_id = int(site) if isinstance(site, str) and site.isdigit() else 0
    suggestions.suggest_orders(ui.session, who(ui), site_id)
    return ui.redirect("/purchase-orders?status=draft")


@router.get("/purchase-orders/{order_id}")
def order_detail(ui: UiPage, order_id: int) -> Response:
    order = service.get_order(ui.session, who(ui), order_id)
    asns = [
        service.asn_out(ui.session, a)
        for a in service.list_asns(ui.session, who(ui))
        if a.purchase_order_id == order.id
    ]
    return ui.render(
        "purchasing/order_detail.html",
        order=service.order_out(ui.session, who(ui), order),
        asns=asns,
        status_labels=STATUS_LABELS,
        can_approve=who(ui).can(Permission.PURCHASING_WRITE) and order.status == "draft",
        can_receive=who(ui).can(Permission.INVENTORY_MOVE),
    )


@router.post("/purchase-orders/{order_id}/approval")
def order_approve(ui: UiPage, order_id: int) -> Response:
    """A buyer approves a suggested order (it is sent to the supplier)."""
    service.approve_order(ui.session, who(ui), order_id)
    return ui.redirect(f"/purchase-orders/{order_id}?saved=1")


@dataclass(frozen=True)
class _OpenAsn:
    id: int
    number: str
    supplier: str
    ship_date: date
    created_at: datetime


def _fetch_open_asns(ui: Ui, query: ListQuery) -> list[_OpenAsn]:
    """The open ASNs with their suppliers' names (the toolkit sorts them in the reader's
    language)."""
    who(ui).require(Permission.INVENTORY_MOVE)
    names = dict(
        ui.session.execute(
            select(Party.id, Party.name).where(Party.tenant_id == who(ui).tenant_id)
        ).all()
    )
    return [
        _OpenAsn(a.id, a.number, names.get(a.supplier_party_id, ""), a.ship_date, a.created_at)
        for a in service.list_asns(ui.session, who(ui), status=AsnStatus.OPEN.value)
    ]


RECEIVING_LIST = ListSpec(
    key="receiving",
    title=N_("Receiving"),
    path="/receiving",
    columns=(
        Column(
            "number",
            N_("Advance ship notice"),
            lambda a: a.number,
            href=lambda a: f"/receiving/{a.id}",
            css="mono nowrap",
            searchable=True,
        ),
        Column("supplier", N_("Supplier"), lambda a: a.supplier, searchable=True),
        Column("ship_date", N_("Ship date"), lambda a: a.ship_date, css="nowrap"),
        Column("created_at", N_("Announced"), lambda a: a.created_at, css="nowrap"),
    ),
    fetch=_fetch_open_asns,
    count=NP_("{n} open advance ship notice", "{n} open advance ship notices"),
    search=N_("Advance ship notice or supplier"),
    default_sort="ship_date",
    empty=Empty(N_("No open advance ship notices.")),
    permission=Permission.INVENTORY_MOVE,
)


@router.get("/receiving")
def receiving_list(ui: UiPage) -> Response:
    """Open ASNs to receive against, earliest ship date first."""
    return list_page(ui, RECEIVING_LIST)


def _docks(ui: Ui, site_id: int) -> list[tuple[str, str]]:
    rows = ui.session.execute(
        select(Location.id, Location.code, Location.name)
        .where(
            Location.tenant_id == who(ui).tenant_id,
            Location.site_id == site_id,
            Location.active.is_(True),
        )
        .order_by(Location.zone_purpose != "receiving_quarantine", Location.code)
    ).all()
    return [(str(i), f"{code} · {name}") for i, code, name in rows]


def _receiving(ui: Ui, asn_id: int, form: Any, status: int = 200, **extra: Any) -> Response:
    asn = service.get_asn(ui.session, who(ui), asn_id)
    order = service.get_order(ui.session, who(ui), asn.purchase_order_id)
    return ui.render(
        "inventory/receiving.html",
        status=status,
        asn=service.asn_out(ui.session, asn),
        order=order,
        form=form,
        dock_options=_docks(ui, order.ship_to_site_id),
        discrepancies=service.discrepancies(ui.session, who(ui), asn_id),
        **extra,
    )


@router.get("/receiving/{asn_id}")
def receiving_page(ui: UiPage, asn_id: int) -> Response:
    """The scan screen of one ASN: the scan field has the focus, Enter receives."""
    who(ui).require(Permission.INVENTORY_MOVE)
    query = ui.request.query_params
    values = {"quantity": "1", "location_id": query.get("location_id", "")}
    last = None
    if query.get("lot"):
        last = {"lot": query.get("lot"), "quantity": query.get("quantity", "")}
    return _receiving(ui, asn_id, empty_form(ui.locale, values), last=last)


@router.post("/receiving/{asn_id}")
def receiving_scan(ui: UiPage, asn_id: int) -> Response:
    """Receive one scan; a flagged receipt comes back with its reason field."""
    state = parse_form(ScanIn, ui.form, ui.locale, lists=frozenset(), skip=frozenset())
    result = submit(ui, state, lambda data: service.receive_scan(ui.session, who(ui), asn_id, data))
    if result is not None:
        assert state.data is not None
        return ui.redirect(
            f"/receiving/{asn_id}?location_id={state.data.location_id}"
            f"&lot={result.lot}&quantity={result.quantity}"
        )
    flagged = state.code.startswith("purchasing.") and state.status == 409
    return _receiving(ui, asn_id, state, status=state.status, flagged=flagged, last=None)
