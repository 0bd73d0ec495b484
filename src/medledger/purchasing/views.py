"""HTML pages: purchase orders (a supplier's users see theirs, without prices) with their
ASNs, the replenishment suggestions a buyer approves, and the receiving screen (scan against
an ASN; works with a keyboard-wedge scanner on a phone-sized screen). Receiving lives here,
not in inventory, because it receives through this package's service, which moves stock
through inventory's: inventory does not import purchasing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select

from medledger.core.principal import Permission
from medledger.inventory.models import InventorySite
from medledger.parties.models import Location, Site
from medledger.parties.views import page_number, submit, who
from medledger.purchasing import service, suggestions
from medledger.purchasing.models import AsnStatus
from medledger.purchasing.schemas import ScanIn
from medledger.web.forms import empty_form, parse_form
from medledger.web.nav import N_, NavEntry, register_nav
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
PAGE_SIZE = 25


@router.get("/purchase-orders")
def order_list(ui: UiPage) -> Response:
    """Purchase orders, newest first, filtered by status."""
    status = ui.request.query_params.get("status", "")
    page = page_number(ui.request.query_params.get("page"))
    items, total = service.list_orders(
        ui.session, who(ui), status=status or None, page=page, page_size=PAGE_SIZE
    )
    return ui.render(
        "purchasing/order_list.html",
        orders=[service.order_out(ui.session, who(ui), o) for o in items],
        total=total,
        page=page,
        page_size=PAGE_SIZE,
        params={"status": status},
        status_options=[(k, ui._(v)) for k, v in STATUS_LABELS.items()],
        status_labels=STATUS_LABELS,
        can_suggest=who(ui).can(Permission.PURCHASING_WRITE),
        site_options=[
            (str(i), name)
            for i, name in ui.session.execute(
                select(Site.id, Site.name)
                .join(InventorySite, InventorySite.site_id == Site.id)
                .where(InventorySite.tenant_id == who(ui).tenant_id)
                .order_by(Site.name)
            ).all()
        ],
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


@router.get("/receiving")
def receiving_list(ui: UiPage) -> Response:
    """Open ASNs to receive against."""
    who(ui).require(Permission.INVENTORY_MOVE)
    asns = service.list_asns(ui.session, who(ui), status=AsnStatus.OPEN.value)
    return ui.render("inventory/receiving_list.html", asns=asns)


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
