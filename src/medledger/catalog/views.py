"""HTML pages: products with their market authorisations and bill-of-material versions.

Forms parse into the API's schemas and call the same services (same rules, same messages).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from medledger.catalog import service
from medledger.catalog.models import DEVICE_CLASSES, AuthorisationKind, Region, TrackingLevel
from medledger.catalog.schemas import AuthorisationIn, BomIn, ProductIn, ProductUpdate
from medledger.core.principal import Permission
from medledger.parties.models import StorageClass
from medledger.parties.views import active_filter, options, page_number, set_reason, submit, who
from medledger.web.forms import FormState, empty_form, parse_form
from medledger.web.labels import (
    AUTHORISATION_KIND_LABELS,
    BOM_STATUS_LABELS,
    REGION_LABELS,
    STORAGE_CLASS_LABELS,
    TRACKING_LEVEL_LABELS,
)
from medledger.web.nav import N_, NavEntry, register_nav
from medledger.web.ui import Ui, UiPage, UiRoute

router = APIRouter(include_in_schema=False, route_class=UiRoute)

register_nav(NavEntry("products", N_("Products"), "/products", Permission.CATALOG_READ, order=40))

PAGE_SIZE = 25
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


@router.get("/products")
def product_list(ui: UiPage) -> Response:
    """The catalogue, filtered and paged."""
    params = {
        k: ui.request.query_params.get(k, "")
        for k in ("q", "tracking_level", "storage_class", "active")
    }
    page = page_number(ui.request.query_params.get("page"))
    items, total = service.list_products(
        ui.session,
        who(ui),
        q=params["q"] or None,
        tracking_level=params["tracking_level"] or None,
        storage_class=params["storage_class"] or None,
        active=active_filter(params["active"]),
        page=page,
        page_size=PAGE_SIZE,
    )
    return ui.render(
        "catalog/product_list.html",
        items=items,
        total=total,
        page=page,
        page_size=PAGE_SIZE,
        params=params,
        can_write=who(ui).can(Permission.CATALOG_WRITE),
        **_choices(ui),
    )


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
