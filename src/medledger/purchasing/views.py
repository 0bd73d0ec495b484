"""HTML pages: purchase orders (a supplier's users see theirs, without prices) with their
ASNs, and the replenishment suggestions a buyer approves."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select

from medledger.core.principal import Permission
from medledger.inventory.models import InventorySite
from medledger.parties.models import Site
from medledger.parties.views import page_number, who
from medledger.purchasing import service, suggestions
from medledger.web.nav import N_, NavEntry, register_nav
from medledger.web.ui import UiPage, UiRoute

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
