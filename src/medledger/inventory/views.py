"""HTML pages: stock by site/location/lot with status and expiry, and the receiving screen
(scan against an ASN; works with a keyboard-wedge scanner on a phone-sized screen).

Forms parse into the API's schemas and call the same services (same rules, same messages).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select

from medledger.core.principal import Permission
from medledger.inventory import service
from medledger.inventory.models import InventorySite, StockStatus
from medledger.inventory.schemas import MoveIn, PickListIn, StockLineIn
from medledger.parties.models import Location, Site
from medledger.parties.views import page_number, submit, who
from medledger.purchasing import service as purchasing
from medledger.purchasing.models import AsnStatus
from medledger.purchasing.schemas import ScanIn
from medledger.web.forms import empty_form, parse_form
from medledger.web.nav import N_, NavEntry, register_nav
from medledger.web.ui import Ui, UiPage, UiRoute

router = APIRouter(include_in_schema=False, route_class=UiRoute)

register_nav(NavEntry("stock", N_("Stock"), "/stock", Permission.INVENTORY_READ, order=100))
register_nav(
    NavEntry("receiving", N_("Receiving"), "/receiving", Permission.INVENTORY_MOVE, order=102)
)
register_nav(NavEntry("picking", N_("Picking"), "/picking", Permission.INVENTORY_MOVE, order=103))

STATUS_LABELS = {
    "quarantine": N_("Quarantine"),
    "released": N_("Released"),
    "on_hold": N_("On hold"),
    "rejected": N_("Rejected"),
    "recalled": N_("Recalled"),
}
PAGE_SIZE = 200


def _managed_sites(ui: Ui) -> list[tuple[str, str]]:
    rows = ui.session.execute(
        select(Site.id, Site.name)
        .join(InventorySite, InventorySite.site_id == Site.id)
        .where(InventorySite.tenant_id == who(ui).tenant_id)
        .order_by(Site.name)
    ).all()
    return [(str(site_id), name) for site_id, name in rows]


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@router.get("/stock")
def stock_page(ui: UiPage) -> Response:
    """Stock by site, location, lot and status; expired and near-expiry lots coloured."""
    query = ui.request.query_params
    params = {k: query.get(k, "") for k in ("site_id", "lot", "gtin", "status")}
    rows = service.stock(
        ui.session,
        who(ui),
        site_id=_int(params["site_id"]),
        gtin=params["gtin"] or None,
        lot=params["lot"] or None,
        status=params["status"] or None,
        near_expiry_days=ui.request.app.state.settings.near_expiry_days,
    )
    page = page_number(query.get("page"))
    shown = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return ui.render(
        "inventory/stock.html",
        rows=shown,
        total=len(rows),
        page=page,
        page_size=PAGE_SIZE,
        params=params,
        site_options=_managed_sites(ui),
        status_options=[(s.value, ui._(STATUS_LABELS[s.value])) for s in StockStatus],
        status_labels=STATUS_LABELS,
        near_expiry_days=ui.request.app.state.settings.near_expiry_days,
    )


@router.get("/receiving")
def receiving_list(ui: UiPage) -> Response:
    """Open ASNs to receive against."""
    who(ui).require(Permission.INVENTORY_MOVE)
    asns = purchasing.list_asns(ui.session, who(ui), status=AsnStatus.OPEN.value)
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
    asn = purchasing.get_asn(ui.session, who(ui), asn_id)
    order = purchasing.get_order(ui.session, who(ui), asn.purchase_order_id)
    return ui.render(
        "inventory/receiving.html",
        status=status,
        asn=purchasing.asn_out(ui.session, asn),
        order=order,
        form=form,
        dock_options=_docks(ui, order.ship_to_site_id),
        discrepancies=purchasing.discrepancies(ui.session, who(ui), asn_id),
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
    result = submit(
        ui, state, lambda data: purchasing.receive_scan(ui.session, who(ui), asn_id, data)
    )
    if result is not None:
        assert state.data is not None
        return ui.redirect(
            f"/receiving/{asn_id}?location_id={state.data.location_id}"
            f"&lot={result.lot}&quantity={result.quantity}"
        )
    flagged = state.code.startswith("purchasing.") and state.status == 409
    return _receiving(ui, asn_id, state, status=state.status, flagged=flagged, last=None)


def _shipping_bays(ui: Ui, site_id: int) -> list[tuple[str, str]]:
    rows = ui.session.execute(
        select(Location.id, Location.code, Location.name)
        .where(
            Location.tenant_id == who(ui).tenant_id,
            Location.site_id == site_id,
            Location.zone_purpose == "shipping",
            Location.active.is_(True),
        )
        .order_by(Location.code)
    ).all()
    return [(str(i), f"{code} · {name}") for i, code, name in rows]


@router.get("/picking")
def picking_page(ui: UiPage) -> Response:
    """A pick list for a GTIN and quantity at a site, first expiry first out."""
    who(ui).require(Permission.INVENTORY_MOVE)
    query = ui.request.query_params
    values = {k: query.get(k, "") for k in ("site_id", "gtin", "quantity")}
    state = empty_form(ui.locale, values)
    picks = None
    if values["site_id"] and values["gtin"] and values["quantity"]:
        state = parse_form(PickListIn, None, ui.locale, extra=values)
        picks = submit(ui, state, lambda data: service.pick_list(ui.session, who(ui), data))
    site_id = _int(values["site_id"])
    return ui.render(
        "inventory/picking.html",
        status=state.status,
        form=state,
        picks=picks,
        site_options=_managed_sites(ui),
        bay_options=_shipping_bays(ui, site_id) if site_id else [],
        picked=query.get("picked"),
    )


@router.post("/picking")
def picking_confirm(ui: UiPage) -> Response:
    """Pick the proposed lines to a shipping bay (one EPCIS picking event per location)."""
    form = ui.form
    assert form is not None
    site_id, gtin, quantity = (str(form.get(k, "")) for k in ("site_id", "gtin", "quantity"))
    state = parse_form(
        PickListIn, None, ui.locale, extra={"site_id": site_id, "gtin": gtin, "quantity": quantity}
    )

    def pick(data: PickListIn) -> int:
        proposal = service.pick_list(ui.session, who(ui), data)
        bay = _int(str(form.get("to_location_id", ""))) or 0
        by_location: dict[int, list[StockLineIn]] = {}
        for p in proposal.picks:
            by_location.setdefault(p.location_id, []).append(
                StockLineIn(gtin=p.gtin, lot=p.lot, serial=p.serial, quantity=p.quantity)
            )
        for location_id, lines in by_location.items():
            service.move(
                ui.session,
                who(ui),
                MoveIn(from_location_id=location_id, to_location_id=bay, lines=lines),
                picking=True,
            )
        return sum(p.quantity for p in proposal.picks)

    picked = submit(ui, state, pick)
    if picked is not None:
        return ui.redirect(f"/picking?site_id={site_id}&picked={picked}")
    return ui.render(
        "inventory/picking.html",
        status=state.status,
        form=state,
        picks=None,
        site_options=_managed_sites(ui),
        bay_options=_shipping_bays(ui, _int(site_id) or 0),
        picked=None,
    )
