"""HTML pages: the work order list (ListSpec), a new work order, and the work order's record
page with its requirements, *Start* and *Complete*, and its device history record."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select

from medledger.catalog.models import BillOfMaterials, BomStatus, Product
from medledger.core.principal import Permission
from medledger.core.repository import list_visible
from medledger.inventory.models import InventorySite
from medledger.parties.models import Location, Site
from medledger.production import service
from medledger.production.models import WorkOrder
from medledger.production.schemas import CompleteIn, StartIn, WorkOrderIn
from medledger.web.forms import FormState, empty_form, parse_form
from medledger.web.lists import (
    IN_MEMORY_LIMIT,
    NP_,
    Column,
    Empty,
    Filter,
    ListQuery,
    ListSpec,
    badge,
    list_page,
)
from medledger.web.nav import N_, NavEntry, register_nav
from medledger.web.pages import options, submit, who
from medledger.web.record import record_history
from medledger.web.ui import Ui, UiPage, UiRoute

router = APIRouter(include_in_schema=False, route_class=UiRoute)

register_nav(
    NavEntry("work_orders", N_("Work orders"), "/work-orders", Permission.INVENTORY_READ, order=106)
)

STATUS_LABELS = {
    "planned": N_("Planned"),
    "in_progress": N_("In progress"),
    "completed": N_("Completed"),
    "cancelled": N_("Cancelled"),
}
_TONES = {"planned": "draft", "in_progress": "warn", "completed": "ok", "cancelled": "off"}


def _names(ui: Ui) -> dict[str, str]:
    if "product_names" not in ui.extra:
        rows = ui.session.execute(
            select(Product.gtin, Product.name).where(Product.tenant_id == who(ui).tenant_id)
        ).all()
        ui.extra["product_names"] = {g: n for g, n in rows}
    names: dict[str, str] = ui.extra["product_names"]
    return names


def _location_codes(ui: Ui) -> dict[int, str]:
    if "location_codes" not in ui.extra:
        rows = ui.session.execute(
            select(Location.id, Location.code).where(Location.tenant_id == who(ui).tenant_id)
        ).all()
        ui.extra["location_codes"] = {i: c for i, c in rows}
    codes: dict[int, str] = ui.extra["location_codes"]
    return codes


def _fetch(ui: Ui, query: ListQuery) -> list[Any]:
    orders, _ = service.list_work_orders(
        ui.session, who(ui), status=query.get("status") or None, page_size=IN_MEMORY_LIMIT
    )
    return orders


def _product(ui: Ui, order: Any) -> str:
    return _names(ui).get(order.gtin, order.gtin)


def _status(ui: Ui, order: Any) -> str:
    return ui._(STATUS_LABELS.get(order.status, order.status))


WORK_ORDER_LIST = ListSpec(
    key="work_orders",
    title=N_("Work orders"),
    path="/work-orders",
    columns=(
        Column(
            "number",
            N_("Number"),
            lambda o: o.number,
            href=lambda o: f"/work-orders/{o.id}",
            css="mono nowrap",
            searchable=True,
        ),
        Column("product", N_("Product"), lambda o: o.gtin, text=_product, searchable=True),
        Column("lot", N_("Finished lot"), lambda o: o.lot, css="mono", searchable=True),
        Column("quantity", N_("Quantity"), lambda o: o.quantity, css="num"),
        Column(
            "location",
            N_("Location"),
            lambda o: o.location_id,
            text=lambda ui, o: _location_codes(ui).get(o.location_id, str(o.location_id)),
            css="mono",
        ),
        Column(
            "status",
            N_("Status"),
            lambda o: o.status,
            text=_status,
            html=lambda ui, o: badge(_status(ui, o), _TONES.get(o.status, "off")),
        ),
        Column("created_at", N_("Created"), lambda o: o.created_at, css="nowrap"),
        Column("completed_at", N_("Completed"), lambda o: o.completed_at, css="nowrap"),
    ),
    fetch=_fetch,
    count=NP_("{n} work order", "{n} work orders"),
    filters=(
        Filter(
            "status",
            N_("Status"),
            options=lambda ui: options(ui, STATUS_LABELS, list(STATUS_LABELS)),
        ),
    ),
    search=N_("Number, product or lot"),
    default_sort="-created_at",
    create=Empty("", N_("New work order"), "/work-orders/new", Permission.INVENTORY_MOVE),
    empty=Empty(
        N_("No work orders yet. Plan one for a product with an active bill of material."),
        N_("New work order"),
        "/work-orders/new",
        Permission.INVENTORY_MOVE,
    ),
    permission=Permission.INVENTORY_READ,
)


@router.get("/work-orders")
def work_order_list(ui: UiPage) -> Response:
    """Every work order, newest first."""
    return list_page(ui, WORK_ORDER_LIST)


def _choices(ui: Ui) -> dict[str, Any]:
    tenant = who(ui).tenant_id
    products = ui.session.execute(
        select(Product.gtin, Product.name)
        .join(BillOfMaterials, BillOfMaterials.product_id == Product.id)
        .where(Product.tenant_id == tenant, BillOfMaterials.status == BomStatus.ACTIVE.value)
        .order_by(Product.name)
    ).all()
    locations = ui.session.execute(
        select(Location.id, Location.code, Location.name, Site.name)
        .join(Site, Site.id == Location.site_id)
        .join(InventorySite, InventorySite.site_id == Site.id)
        .where(Location.tenant_id == tenant, Location.active.is_(True))
        .order_by(Site.name, Location.code)
    ).all()
    return {
        "product_options": [(g, f"{n} · {g}") for g, n in products],
        "location_options": [(str(i), f"{s} · {c} · {n}") for i, c, n, s in locations],
    }


@router.get("/work-orders/new")
def work_order_new(ui: UiPage) -> Response:
    who(ui).require(Permission.INVENTORY_MOVE)
    return ui.render(
        "production/work_order_new.html",
        form=empty_form(ui.locale, {"quantity": "1"}),
        **_choices(ui),
    )


@router.post("/work-orders/new")
def work_order_create(ui: UiPage) -> Response:
    """Plan a work order with the API's rules."""
    form = ui.form
    raw = str(form.get("serials", "")) if form is not None else ""
    serials = [s.strip() for s in raw.replace(",", "\n").splitlines() if s.strip()]
    state = parse_form(
        WorkOrderIn, form, ui.locale, skip=frozenset({"serials"}), extra={"serials": serials}
    )
    state.values["serials"] = raw
    order = submit(ui, state, lambda data: service.create_work_order(ui.session, who(ui), data))
    if order is not None:
        return ui.redirect(f"/work-orders/{order.id}")
    return ui.render(
        "production/work_order_new.html", status=state.status, form=state, **_choices(ui)
    )


def _record(ui: Ui, work_order_id: int, form: FormState[Any] | None = None) -> Response:
    principal = who(ui)
    order: WorkOrder = service.get_work_order(ui.session, principal, work_order_id)
    location = ui.session.get(Location, order.location_id)
    products, _ = list_visible(ui.session, Product, principal, page_size=IN_MEMORY_LIMIT)
    names = {p.gtin: p.name for p in products}
    product_id = next((p.id for p in products if p.gtin == order.gtin), None)
    open_ = order.status in ("planned", "in_progress")
    return ui.render(
        "production/work_order.html",
        status=form.status if form else 200,
        order=order,
        product_id=product_id,
        location=location,
        names=names,
        requirements=service.requirements(ui.session, order) if open_ else [],
        components=service.components_of(ui.session, order),
        can_move=principal.can(Permission.INVENTORY_MOVE),
        status_label=_status(ui, order),
        tone=_TONES.get(order.status, "off"),
        form=form or empty_form(ui.locale),
        history=record_history(ui, "work_orders", order.id),
    )


@router.get("/work-orders/{work_order_id}")
def work_order_page(ui: UiPage, work_order_id: int) -> Response:
    """A work order: product, BOM version, requirements, and — once completed — the device
    history record (components and lots consumed, operators, times)."""
    return _record(ui, work_order_id)


def _operators(ui: Ui) -> list[str]:
    raw = str(ui.form.get("operators", "")) if ui.form is not None else ""
    return [s.strip() for s in raw.split(",") if s.strip()][:20]


@router.post("/work-orders/{work_order_id}/start")
def work_order_start(ui: UiPage, work_order_id: int) -> Response:
    state = parse_form(StartIn, None, ui.locale, extra={"operators": _operators(ui)})
    done = submit(
        ui,
        state,
        lambda data: service.start_work_order(ui.session, who(ui), work_order_id, data),
    )
    if done is not None:
        return ui.redirect(f"/work-orders/{work_order_id}")
    return _record(ui, work_order_id, state)


@router.post("/work-orders/{work_order_id}/complete")
def work_order_complete(ui: UiPage, work_order_id: int) -> Response:
    state = parse_form(CompleteIn, None, ui.locale, extra={"operators": _operators(ui)})
    done = submit(
        ui,
        state,
        lambda data: service.complete_work_order(ui.session, who(ui), work_order_id, data),
    )
    if done is not None:
        return ui.redirect(f"/work-orders/{work_order_id}")
    return _record(ui, work_order_id, state)
