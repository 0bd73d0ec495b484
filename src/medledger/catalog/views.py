"""HTML pages: products with their market authorisations and bill-of-material versions.

Forms parse into the API's schemas and call the same services (same rules, same messages).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from medledger.catalog import service
from medledger.catalog.models import (
    DEVICE_CLASSES,
    AuthorisationKind,
    BillOfMaterials,
    Region,
    TrackingLevel,
)
from medledger.catalog.schemas import AuthorisationIn, BomIn, ProductIn, ProductUpdate
from medledger.core.principal import Permission
from medledger.core.repository import list_visible
from medledger.parties.models import StorageClass
from medledger.web.forms import FormState, empty_form, parse_form
from medledger.web.labels import (
    AUTHORISATION_KIND_LABELS,
    BOM_STATUS_LABELS,
    REGION_LABELS,
    STORAGE_CLASS_LABELS,
    TRACKING_LEVEL_LABELS,
    label,
)
from medledger.web.lists import (
    IN_MEMORY_LIMIT,
    NP_,
    BulkAction,
    Column,
    Empty,
    Filter,
    ListQuery,
    ListSpec,
    active_column,
    badge,
    link_cell,
    list_page,
)
from medledger.web.nav import N_, NavEntry, register_nav
from medledger.web.pages import active_filter, options, set_reason, submit, who
from medledger.web.record import record_history
from medledger.web.ui import Ui, UiPage, UiRoute

router = APIRouter(include_in_schema=False, route_class=UiRoute)

register_nav(NavEntry("products", N_("Products"), "/products", Permission.CATALOG_READ, order=40))
register_nav(NavEntry("boms", N_("Bills of material"), "/boms", Permission.BOM_READ, order=45))

BOM_ROWS = 5
_PRODUCT_FIELDS = (
    "name",
    "description",
    "basic_udi_di",
    "device_class_us",
    "device_class_eu",
    "device_class_cn",
    "tracking_level",
    "shelf_life_days",
    "storage_class",
    "unit_of_measure",
)
_NULLABLE = frozenset(
    {"basic_udi_di", "device_class_us", "device_class_eu", "device_class_cn", "shelf_life_days"}
)


def _choices(ui: Ui) -> dict[str, Any]:
    return {
        "tracking_options": options(ui, TRACKING_LEVEL_LABELS, [t.value for t in TrackingLevel]),
        "storage_options": options(ui, STORAGE_CLASS_LABELS, [s.value for s in StorageClass]),
        "kind_options": options(
            ui, AUTHORISATION_KIND_LABELS, [k.value for k in AuthorisationKind]
        ),
        "region_options": options(ui, REGION_LABELS, [r.value for r in Region]),
        "device_class_options": {
            region.value.lower(): [(c, c) for c in classes]
            for region, classes in DEVICE_CLASSES.items()
        },
        "labels": {
            "tracking": TRACKING_LEVEL_LABELS,
            "storage": STORAGE_CLASS_LABELS,
            "kind": AUTHORISATION_KIND_LABELS,
            "bom_status": BOM_STATUS_LABELS,
            "region": REGION_LABELS,
        },
    }


def _fetch_products(ui: Ui, query: ListQuery) -> list[Any]:
    items, _ = service.list_products(
        ui.session,
        who(ui),
        tracking_level=query.get("tracking_level") or None,
        storage_class=query.get("storage_class") or None,
        active=active_filter(query.get("active")),
        page_size=IN_MEMORY_LIMIT,
    )
    return items


def _set_products_active(active: bool) -> Any:
    def run(ui: Ui, ids: list[int]) -> None:
        for product_id in ids:
            service.set_product_active(ui.session, who(ui), product_id, active)

    return run


def _shelf_life(ui: Ui, product: Any) -> str:
    days = product.shelf_life_days
    return ui._("{days} days", days=days) if days else ""


PRODUCT_LIST = ListSpec(
    key="products",
    title=N_("Products"),
    path="/products",
    columns=(
        Column(
            "name",
            N_("Name"),
            lambda p: p.name,
            href=lambda p: f"/products/{p.id}",
            searchable=True,
        ),
        Column("gtin", N_("GTIN"), lambda p: p.gtin, css="mono nowrap", searchable=True),
        Column(
            "tracking_level",
            N_("Tracking"),
            lambda p: p.tracking_level,
            text=lambda ui, p: ui._(label(TRACKING_LEVEL_LABELS, p.tracking_level)),
        ),
        Column(
            "storage_class",
            N_("Storage class"),
            lambda p: p.storage_class,
            text=lambda ui, p: ui._(label(STORAGE_CLASS_LABELS, p.storage_class)),
            css="nowrap",
        ),
        Column(
            "shelf_life_days",
            N_("Shelf life"),
            lambda p: p.shelf_life_days,
            text=_shelf_life,
            css="nowrap num",
        ),
        active_column(N_("State")),
    ),
    fetch=_fetch_products,
    count=NP_("{n} product", "{n} products"),
    filters=(
        Filter(
            "tracking_level",
            N_("Tracking"),
            options=lambda ui: options(ui, TRACKING_LEVEL_LABELS, [t.value for t in TrackingLevel]),
        ),
        Filter(
            "storage_class",
            N_("Storage class"),
            options=lambda ui: options(ui, STORAGE_CLASS_LABELS, [c.value for c in StorageClass]),
        ),
        Filter("active", N_("State"), kind="state"),
    ),
    search=N_("Name or GTIN"),
    default_sort="name",
    actions=(
        BulkAction(
            "deactivate",
            N_("Deactivate"),
            _set_products_active(False),
            Permission.CATALOG_WRITE,
            danger=True,
            reason=True,
        ),
        BulkAction(
            "reactivate",
            N_("Reactivate"),
            _set_products_active(True),
            Permission.CATALOG_WRITE,
            reason=True,
        ),
    ),
    create=Empty("", N_("New product"), "/products/new", Permission.CATALOG_WRITE),
    empty=Empty(
        N_("No products yet. Add a product with its GTIN to trace its lots and serials."),
        N_("New product"),
        "/products/new",
        Permission.CATALOG_WRITE,
    ),
    permission=Permission.CATALOG_READ,
)


@router.get("/products")
@router.post("/products")
def product_list(ui: UiPage) -> Response:
    """The catalogue: search, filters, sort, export, bulk (de)activation."""
    return list_page(ui, PRODUCT_LIST)


def _fetch_boms(ui: Ui, query: ListQuery) -> list[Any]:
    principal = who(ui)
    principal.require(Permission.BOM_READ)
    boms, _ = list_visible(ui.session, BillOfMaterials, principal, page_size=IN_MEMORY_LIMIT)
    products, _ = service.list_products(ui.session, principal, page_size=IN_MEMORY_LIMIT)
    ui.extra["product_names"] = {p.id: p.name for p in products}
    status = query.get("status")
    return [b for b in boms if not status or b.status == status]


def _product_name(ui: Ui, bom: Any) -> str:
    return str(ui.extra.get("product_names", {}).get(bom.product_id, bom.product_id))


_BOM_TONES = {"active": "ok", "draft": "draft", "obsolete": "off"}

BOM_LIST = ListSpec(
    key="boms",
    title=N_("Bills of material"),
    path="/boms",
    columns=(
        Column(
            "product",
            N_("Product"),
            lambda b: b.product_id,
            text=_product_name,
            html=lambda ui, b: link_cell(f"/products/{b.product_id}#boms", _product_name(ui, b)),
            searchable=True,
        ),
        Column("version", N_("Version"), lambda b: b.version, css="num"),
        Column(
            "status",
            N_("Status"),
            lambda b: b.status,
            text=lambda ui, b: ui._(label(BOM_STATUS_LABELS, b.status)),
            html=lambda ui, b: badge(
                ui._(label(BOM_STATUS_LABELS, b.status)), _BOM_TONES.get(b.status, "off")
            ),
        ),
        Column("valid_from", N_("Valid from"), lambda b: b.valid_from, css="nowrap"),
        Column("note", N_("Note"), lambda b: b.note, searchable=True),
        Column("updated_at", N_("Changed"), lambda b: b.updated_at, css="nowrap"),
    ),
    fetch=_fetch_boms,
    count=NP_("{n} bill of material", "{n} bills of material"),
    filters=(
        Filter(
            "status",
            N_("Status"),
            options=lambda ui: options(ui, BOM_STATUS_LABELS, list(BOM_STATUS_LABELS)),
        ),
    ),
    search=N_("Product or note"),
    default_sort="product",
    empty=Empty(
        N_("No bill of material yet. Open a product and add a draft version of its BOM."),
        N_("Products"),
        "/products",
    ),
    permission=Permission.BOM_READ,
)


@router.get("/boms")
def bom_list(ui: UiPage) -> Response:
    """Every BOM version of the catalogue."""
    return list_page(ui, BOM_LIST)


@router.get("/products/new")
def product_new(ui: UiPage) -> Response:
    who(ui).require(Permission.CATALOG_WRITE)
    values = {"unit_of_measure": "EA", "tracking_level": "lot", "storage_class": "ambient"}
    return ui.render("catalog/product_new.html", form=empty_form(ui.locale, values), **_choices(ui))


@router.post("/products/new")
def product_create(ui: UiPage) -> Response:
    """Create a product with the API's rules (GTIN-8/12/13 are padded to GTIN-14)."""
    state = parse_form(ProductIn, ui.form, ui.locale)
    product = submit(ui, state, lambda data: service.create_product(ui.session, who(ui), data))
    if product is not None:
        return ui.redirect(f"/products/{product.id}?saved=1")
    return ui.render("catalog/product_new.html", status=state.status, form=state, **_choices(ui))


def _product_page(
    ui: Ui,
    product_id: int,
    *,
    form: FormState[Any] | None = None,
    authorisation_form: FormState[Any] | None = None,
    bom_form: FormState[Any] | None = None,
) -> Response:
    principal = who(ui)
    product = service.get_product(ui.session, principal, product_id)
    authorisations = service.list_authorisations(ui.session, principal, product.id)
    boms = (
        service.list_boms(ui.session, principal, product.id)
        if principal.can(Permission.BOM_READ)
        else []
    )
    values = {k: getattr(product, k) for k in _PRODUCT_FIELDS}
    gtins = {line.component_gtin for bom in boms for line in bom.lines}
    components: dict[str, Any] = {}
    if gtins:
        products, _ = service.list_products(ui.session, principal, page_size=IN_MEMORY_LIMIT)
        components = {p.gtin: p for p in products if p.gtin in gtins}
    lots, lots_total = (
        _lots_of_product(ui, product.gtin) if principal.can(Permission.TRACE_READ) else (None, 0)
    )
    status = next((f.status for f in (form, authorisation_form, bom_form) if f is not None), 200)
    return ui.render(
        "catalog/product_detail.html",
        status=status,
        product=product,
        authorisations=authorisations,
        boms=boms,
        form=form or empty_form(ui.locale, {k: "" if v is None else v for k, v in values.items()}),
        authorisation_form=authorisation_form or empty_form(ui.locale),
        bom_form=bom_form or empty_form(ui.locale, {"lines.0.unit_of_measure": "EA"}),
        bom_rows=BOM_ROWS,
        can_write=principal.can(Permission.CATALOG_WRITE),
        can_write_bom=principal.can(Permission.BOM_WRITE),
        components=components,
        lots=lots,
        lots_total=lots_total,
        history=record_history(ui, "products", product.id),
        **_choices(ui),
    )


@router.get("/products/{product_id}")
def product_detail(ui: UiPage, product_id: int) -> Response:
    """One product with its market authorisations and BOM versions."""
    return _product_page(ui, product_id)


@router.post("/products/{product_id}")
def product_update(ui: UiPage, product_id: int) -> Response:
    state = parse_form(ProductUpdate, ui.form, ui.locale, mode="update", nullable=_NULLABLE)
    product = submit(
        ui, state, lambda data: service.update_product(ui.session, who(ui), product_id, data)
    )
    if product is not None:
        return ui.redirect(f"/products/{product_id}?saved=1")
    return _product_page(ui, product_id, form=state)


@router.post("/products/{product_id}/deactivate")
def product_deactivate(ui: UiPage, product_id: int) -> Response:
    set_reason(ui)
    service.set_product_active(ui.session, who(ui), product_id, False)
    return ui.redirect(f"/products/{product_id}?saved=1")


@router.post("/products/{product_id}/reactivate")
def product_reactivate(ui: UiPage, product_id: int) -> Response:
    set_reason(ui)
    service.set_product_active(ui.session, who(ui), product_id, True)
    return ui.redirect(f"/products/{product_id}?saved=1")


@router.post("/products/{product_id}/authorisations")
def authorisation_add(ui: UiPage, product_id: int) -> Response:
    """Record a market authorisation (FDA, EU MDR, NMPA …) for the product."""
    state = parse_form(AuthorisationIn, ui.form, ui.locale)
    added = submit(
        ui, state, lambda data: service.add_authorisation(ui.session, who(ui), product_id, data)
    )
    if added is not None:
        return ui.redirect(f"/products/{product_id}?saved=1#authorisations")
    return _product_page(ui, product_id, authorisation_form=state)


@router.post("/authorisations/{authorisation_id}/deactivate")
def authorisation_withdraw(ui: UiPage, authorisation_id: int) -> Response:
    set_reason(ui)
    authorisation = service.set_authorisation_active(ui.session, who(ui), authorisation_id, False)
    return ui.redirect(f"/products/{authorisation.product_id}?saved=1#authorisations")


@router.post("/products/{product_id}/boms")
def bom_create(ui: UiPage, product_id: int) -> Response:
    """A new draft BOM version from the component rows."""
    state = parse_form(BomIn, ui.form, ui.locale, rows=frozenset({"lines"}))
    created = submit(
        ui, state, lambda data: service.create_bom(ui.session, who(ui), product_id, data)
    )
    if created is not None:
        return ui.redirect(f"/products/{product_id}?saved=1#boms")
    return _product_page(ui, product_id, bom_form=state)


@router.post("/boms/{bom_id}/activate")
def bom_activate(ui: UiPage, bom_id: int) -> Response:
    """Make a draft the active BOM version."""
    bom = service.activate_bom(ui.session, who(ui), bom_id)
    return ui.redirect(f"/products/{bom.product_id}?saved=1#boms")


#: The lots and serials of a product for its page, ``(ui, gtin) -> (rows, total)``: the trace
#: ledger knows lots and registers it (``trace/ledger_views.py``), so the catalogue imports
#: nothing of trace (tests/test_import_graph.py).
LotsSource = Callable[[Ui, str], tuple[Any, int]]
_lots_source: LotsSource | None = None


def register_lots_source(source: LotsSource) -> None:
    global _lots_source
    _lots_source = source


def _lots_of_product(ui: Ui, gtin: str) -> tuple[Any, int]:
    if _lots_source is None:
        return [], 0
    return _lots_source(ui, gtin)
