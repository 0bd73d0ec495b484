"""HTML pages: stock by site/location/lot with status and expiry, and the receiving screen
(scan against an ASN; works with a keyboard-wedge scanner on a phone-sized screen).

Forms parse into the API's schemas and call the same services (same rules, same messages).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select

from medledger.catalog.models import Product
from medledger.core.errors import ValidationFailed
from medledger.core.principal import Permission
from medledger.core.types import RecordId
from medledger.identifiers.gs1 import parse_gs1
from medledger.inventory import service
from medledger.inventory.errors import Code, invalid
from medledger.inventory.models import InventorySite, StockStatus
from medledger.inventory.schemas import MoveIn, PackIn, PickListIn, ShipIn, StockLineIn
from medledger.parties.models import Location, Party, Site
from medledger.parties.views import submit, who
from medledger.purchasing import service as purchasing
from medledger.purchasing.models import AsnStatus
from medledger.purchasing.schemas import ScanIn
from medledger.web.forms import empty_form, parse_form
from medledger.web.lists import NP_, Column, Empty, Filter, ListQuery, ListSpec, badge, list_page
from medledger.web.nav import N_, NavEntry, register_nav
from medledger.web.ui import Ui, UiPage, UiRoute

router = APIRouter(include_in_schema=False, route_class=UiRoute)

register_nav(NavEntry("stock", N_("Stock"), "/stock", Permission.INVENTORY_READ, order=100))
register_nav(
    NavEntry("receiving", N_("Receiving"), "/receiving", Permission.INVENTORY_MOVE, order=102)
)
register_nav(NavEntry("picking", N_("Picking"), "/picking", Permission.INVENTORY_MOVE, order=103))
register_nav(NavEntry("packing", N_("Packing"), "/packing", Permission.INVENTORY_MOVE, order=104))
register_nav(
    NavEntry("shipping", N_("Shipping"), "/shipping", Permission.INVENTORY_MOVE, order=105)
)

STATUS_LABELS = {
    "quarantine": N_("Quarantine"),
    "released": N_("Released"),
    "on_hold": N_("On hold"),
    "rejected": N_("Rejected"),
    "recalled": N_("Recalled"),
}


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


def _product_names(ui: Ui) -> dict[str, str]:
    if "product_names" not in ui.extra:
        rows = ui.session.execute(
            select(Product.gtin, Product.name).where(Product.tenant_id == who(ui).tenant_id)
        ).all()
        ui.extra["product_names"] = {g: n for g, n in rows}
    names: dict[str, str] = ui.extra["product_names"]
    return names


def _fetch_stock(ui: Ui, query: ListQuery) -> list[Any]:
    """Every stock row matching the filters the service applies in SQL (site, GTIN, lot,
    status); search, sorting and paging are the toolkit's."""
    return service.stock(
        ui.session,
        who(ui),
        site_id=_int(query.get("site_id")),
        gtin=query.get("gtin") or None,
        lot=query.get("lot") or None,
        status=query.get("status") or None,
        near_expiry_days=ui.request.app.state.settings.near_expiry_days,
    )


def _stock_status(ui: Ui, row: Any) -> str:
    return ui._(STATUS_LABELS.get(row.status, row.status))


def _expiry_text(ui: Ui, row: Any) -> str:
    if row.expiry is None:
        return ""
    return ui.day(row.expiry) + (" · " + ui._("expired") if row.expired else "")


def _stock_row(row: Any) -> dict[str, str]:
    shade = "expired" if row.expired else "near-expiry" if row.near_expiry else ""
    attrs = {"data-lot": row.lot, "data-status": row.status}
    return {"class": shade, **attrs} if shade else attrs


_STATUS_TONES = {
    "released": "ok",
    "quarantine": "draft",
    "on_hold": "warn",
    "rejected": "off",
    "recalled": "alert",
}

STOCK_LIST = ListSpec(
    key="stock",
    title=N_("Stock"),
    path="/stock",
    columns=(
        Column("location", N_("Location"), lambda r: r.location_code, css="mono", searchable=True),
        Column(
            "product",
            N_("Product"),
            lambda r: r.gtin,
            text=lambda ui, r: _product_names(ui).get(r.gtin, r.gtin),
            searchable=True,
        ),
        Column("gtin", N_("GTIN"), lambda r: r.gtin, css="mono", searchable=True),
        Column("lot", N_("Lot"), lambda r: r.lot, css="mono", searchable=True),
        Column("serial", N_("Serial"), lambda r: r.serial, css="mono", searchable=True),
        Column("sscc", N_("SSCC"), lambda r: r.container, css="mono", searchable=True),
        Column(
            "status",
            N_("Status"),
            lambda r: r.status,
            text=_stock_status,
            html=lambda ui, r: badge(_stock_status(ui, r), _STATUS_TONES.get(r.status, "off")),
        ),
        Column("quantity", N_("Quantity"), lambda r: r.quantity, css="num"),
        Column("expiry", N_("Expiry"), lambda r: r.expiry, text=_expiry_text, css="nowrap"),
    ),
    fetch=_fetch_stock,
    count=NP_("{n} stock line", "{n} stock lines"),
    filters=(
        Filter("site_id", N_("Site"), options=_managed_sites),
        Filter(
            "status",
            N_("Status"),
            options=lambda ui: [(s.value, ui._(STATUS_LABELS[s.value])) for s in StockStatus],
        ),
        Filter("gtin", N_("GTIN"), kind="text", size=14),
        Filter("lot", N_("Lot"), kind="text", size=10),
    ),
    search=N_("Location, product, lot, serial or SSCC"),
    default_sort="location",
    row_id=lambda r: f"{r.location_id}:{r.gtin}:{r.lot}:{r.serial}:{r.container}:{r.status}",
    row_attrs=_stock_row,
    head="inventory/_stock_legend.html",
    empty=Empty(
        N_("No stock yet. Stock appears when goods are received against an advance ship notice."),
        N_("Receiving"),
        "/receiving",
        Permission.INVENTORY_MOVE,
    ),
    permission=Permission.INVENTORY_READ,
)


@router.get("/stock")
def stock_page(ui: UiPage) -> Response:
    """Stock by site, location, lot and status; expired and near-expiry lots coloured."""
    return list_page(
        ui, STOCK_LIST, near_expiry_days=ui.request.app.state.settings.near_expiry_days
    )


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
        for a in purchasing.list_asns(ui.session, who(ui), status=AsnStatus.OPEN.value)
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
    picks = None
    scan = query.get("scan", "").strip()
    refused: ValidationFailed | None = None
    if scan:
        # A scanned product barcode (GTIN, maybe lot) chooses what to pick.
        try:
            values["gtin"] = parse_gs1(scan).gtin or ""
        except ValidationFailed as exc:
            refused = invalid(exc.code, exc.message, "scan", **exc.params)
        values["quantity"] = values["quantity"] or "1"
    state = empty_form(ui.locale, values)
    if refused is not None:
        state.reject(refused)
    if state.status == 200 and values["site_id"] and values["gtin"] and values["quantity"]:
        state = parse_form(PickListIn, None, ui.locale, extra=values)
        state.values.update(values)
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


# -- packing and shipping screens ------------------------------------------------------------


def _sscc_of(scan: str) -> str:
    """The SSCC of a scanned logistic-unit label (element string, Digital Link or 18 digits)."""
    text = scan.strip()
    if text.isdigit() and len(text) == 18:
        return text
    try:
        sscc = parse_gs1(text).sscc
    except ValidationFailed as exc:
        raise invalid(exc.code, exc.message, "scan", **exc.params) from None
    if not sscc:
        raise invalid(Code.SCAN_NOT_SSCC, "This barcode holds no SSCC (AI 00).", "scan", scan=text)
    return sscc


def _line_of(item: str) -> StockLineIn:
    """A ticked row of the packing screen (``gtin|lot|serial|quantity``)."""
    gtin, lot, serial, quantity = [*item.split("|"), "", "", "", ""][:4]
    try:
        return StockLineIn(gtin=gtin, lot=lot, serial=serial, quantity=int(quantity))
    except (ValueError, ValidationError):
        raise invalid(Code.BAD_ITEM, "This row cannot be packed.", "items") from None


class PackForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    location_id: RecordId
    scan: str = Field(min_length=1, max_length=200)
    items: list[str] = Field(min_length=1, max_length=500)


class ShipForm(BaseModel):
    model_config = ConfigDict(extra="ignore")
    location_id: RecordId
    destination_party_id: RecordId
    reference: str = Field("", max_length=35)
    scan: str = Field("", max_length=200)
    ssccs: list[str] = Field(default_factory=list, max_length=100)


def _bay_choices(ui: Ui) -> list[tuple[str, str]]:
    rows = ui.session.execute(
        select(Location.id, Location.code, Site.name)
        .join(Site, Site.id == Location.site_id)
        .join(InventorySite, InventorySite.site_id == Site.id)
        .where(Location.tenant_id == who(ui).tenant_id, Location.active.is_(True))
        .order_by(Location.zone_purpose != "shipping", Site.name, Location.code)
    ).all()
    return [(str(i), f"{code} · {site}") for i, code, site in rows]


def _loose(ui: Ui, location_id: int | None) -> list[Any]:
    if location_id is None:
        return []
    return [
        r
        for r in service.stock(ui.session, who(ui), location_id=location_id, status="released")
        if not r.container
    ]


def _item_key(row: Any) -> str:
    return f"{row.gtin}|{row.lot}|{row.serial}|{row.quantity}"


def _packing(
    ui: Ui, form: Any, location_id: int | None, status: int = 200, **extra: Any
) -> Response:
    return ui.render(
        "inventory/packing.html",
        status=status,
        form=form,
        location_options=_bay_choices(ui),
        rows=_loose(ui, location_id),
        item_key=_item_key,
        **extra,
    )


@router.get("/packing")
def packing_page(ui: UiPage) -> Response:
    """Pack picked, released stock at a location into a logistic unit: scan its SSCC label."""
    who(ui).require(Permission.INVENTORY_MOVE)
    query = ui.request.query_params
    location_id = _int(query.get("location_id"))
    values = {"location_id": query.get("location_id", "")}
    return _packing(ui, empty_form(ui.locale, values), location_id, packed=query.get("packed"))


@router.post("/packing")
def packing_confirm(ui: UiPage) -> Response:
    """One AggregationEvent ADD: the ticked rows into the scanned SSCC."""
    state = parse_form(PackForm, ui.form, ui.locale, lists=frozenset({"items"}))

    def pack(data: PackForm) -> str:
        sscc = _sscc_of(data.scan)
        lines = [_line_of(item) for item in data.items]
        service.pack(
            ui.session, who(ui), PackIn(location_id=data.location_id, sscc=sscc, lines=lines)
        )
        return sscc

    sscc = submit(ui, state, pack)
    location = str(state.values.get("location_id", ""))
    if sscc is not None:
        return ui.redirect(f"/packing?location_id={location}&packed={sscc}")
    return _packing(ui, state, _int(location), status=state.status, packed=None)


def _packed(ui: Ui, location_id: int | None) -> list[tuple[str, list[Any]]]:
    if location_id is None:
        return []
    units: dict[str, list[Any]] = {}
    for row in service.stock(ui.session, who(ui), location_id=location_id):
        if row.container:
            units.setdefault(row.container, []).append(row)
    return sorted(units.items())


def _party_choices(ui: Ui) -> list[tuple[str, str]]:
    principal = who(ui)
    rows = ui.session.execute(
        select(Party.id, Party.name, Party.gln)
        .where(
            Party.tenant_id == principal.tenant_id,
            Party.id != principal.hub_party_id,
            Party.active.is_(True),
        )
        .order_by(Party.name)
    ).all()
    return [(str(i), f"{name} · {gln}") for i, name, gln in rows]


def _shipping(
    ui: Ui, form: Any, location_id: int | None, status: int = 200, **extra: Any
) -> Response:
    return ui.render(
        "inventory/shipping.html",
        status=status,
        form=form,
        location_options=_bay_choices(ui),
        party_options=_party_choices(ui),
        units=_packed(ui, location_id),
        **extra,
    )


@router.get("/shipping")
def shipping_page(ui: UiPage) -> Response:
    """Ship packed logistic units to a party with a despatch advice reference."""
    who(ui).require(Permission.INVENTORY_MOVE)
    query = ui.request.query_params
    location_id = _int(query.get("location_id"))
    values = {k: query.get(k, "") for k in ("location_id", "destination_party_id")}
    return _shipping(ui, empty_form(ui.locale, values), location_id, shipped=query.get("shipped"))


@router.post("/shipping")
def shipping_confirm(ui: UiPage) -> Response:
    """One EPCIS shipping event for the scanned and ticked SSCCs, to the chosen party."""
    state = parse_form(ShipForm, ui.form, ui.locale, lists=frozenset({"ssccs"}))

    def ship(data: ShipForm) -> int:
        ssccs = list(dict.fromkeys([*data.ssccs, *([_sscc_of(data.scan)] if data.scan else [])]))
        if not ssccs:
            raise invalid(Code.NOTHING_TO_SHIP, "Scan or tick the logistic units to ship.", "scan")
        service.ship(
            ui.session,
            who(ui),
            ShipIn(
                location_id=data.location_id,
                ssccs=ssccs,
                destination_party_id=data.destination_party_id,
                reference=data.reference,
            ),
        )
        return len(ssccs)

    shipped = submit(ui, state, ship)
    location = str(state.values.get("location_id", ""))
    party = str(state.values.get("destination_party_id", ""))
    if shipped is not None:
        return ui.redirect(
            f"/shipping?location_id={location}&destination_party_id={party}&shipped={shipped}"
        )
    return _shipping(ui, state, _int(location), status=state.status, shipped=None)
