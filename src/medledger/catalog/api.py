"""REST routes: products, market authorisations, bills of material."""

from __future__ import annotations

from fastapi import APIRouter, status

from medledger.catalog import service
from medledger.catalog.schemas import (
    AuthorisationIn,
    AuthorisationOut,
    BomIn,
    BomOut,
    ProductIn,
    ProductOut,
    ProductUpdate,
)
from medledger.core.deps import CurrentPrincipal, DbSession
from medledger.core.schemas import Page, ReasonIn
from medledger.core.types import PageNumber, PageSize, RecordId
from medledger.core.work import work_of

router = APIRouter(prefix="/api/v1")


def _reason(session: DbSession, body: ReasonIn | None) -> None:
    if body is not None and body.reason:
        work_of(session).give_reason(body.reason)


@router.get("/products", response_model=Page[ProductOut], tags=["products"])
def list_products(
    session: DbSession,
    principal: CurrentPrincipal,
    q: str | None = None,
    gtin: str | None = None,
    tracking_level: str | None = None,
    storage_class: str | None = None,
    active: bool | None = None,
    page: PageNumber = 1,
    page_size: PageSize = 50,
) -> Page[ProductOut]:
    """The product catalogue, paged and filtered."""
    items, total = service.list_products(
        session,
        principal,
        q=q,
        gtin=gtin,
        tracking_level=tracking_level,
        storage_class=storage_class,
        active=active,
        page=page,
        page_size=page_size,
    )
    return Page(
        items=[ProductOut.model_validate(i) for i in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.post(
    "/products", response_model=ProductOut, status_code=status.HTTP_201_CREATED, tags=["products"]
)
def create_product(session: DbSession, principal: CurrentPrincipal, data: ProductIn) -> ProductOut:
    """Add a product (GTIN-8/12/13 are accepted and stored as GTIN-14)."""
    return ProductOut.model_validate(service.create_product(session, principal, data))


@router.get("/products/{product_id}", response_model=ProductOut, tags=["products"])
def read_product(
    session: DbSession, principal: CurrentPrincipal, product_id: RecordId
) -> ProductOut:
    return ProductOut.model_validate(service.get_product(session, principal, product_id))


@router.patch("/products/{product_id}", response_model=ProductOut, tags=["products"])
def update_product(
    session: DbSession, principal: CurrentPrincipal, product_id: RecordId, data: ProductUpdate
) -> ProductOut:
    return ProductOut.model_validate(service.update_product(session, principal, product_id, data))


@router.post("/products/{product_id}/deactivate", response_model=ProductOut, tags=["products"])
def deactivate_product(
    session: DbSession,
    principal: CurrentPrincipal,
    product_id: RecordId,
    body: ReasonIn | None = None,
) -> ProductOut:
    _reason(session, body)
    return ProductOut.model_validate(
        service.set_product_active(session, principal, product_id, False)
    )


@router.post("/products/{product_id}/reactivate", response_model=ProductOut, tags=["products"])
def reactivate_product(
    session: DbSession,
    principal: CurrentPrincipal,
    product_id: RecordId,
    body: ReasonIn | None = None,
) -> ProductOut:
    _reason(session, body)
    return ProductOut.model_validate(
        service.set_product_active(session, principal, product_id, True)
    )


@router.get(
    "/products/{product_id}/authorisations",
    response_model=list[AuthorisationOut],
    tags=["products"],
)
def list_authorisations(
    session: DbSession, principal: CurrentPrincipal, product_id: RecordId
) -> list[AuthorisationOut]:
    """Market authorisations of a product (FDA, EU MDR, NMPA) with their validity."""
    return [
        AuthorisationOut.model_validate(a)
        for a in service.list_authorisations(session, principal, product_id)
    ]


@router.post(
    "/products/{product_id}/authorisations",
    response_model=AuthorisationOut,
    status_code=status.HTTP_201_CREATED,
    tags=["products"],
)
def add_authorisation(
    session: DbSession, principal: CurrentPrincipal, product_id: RecordId, data: AuthorisationIn
) -> AuthorisationOut:
    return AuthorisationOut.model_validate(
        service.add_authorisation(session, principal, product_id, data)
    )


@router.post(
    "/authorisations/{authorisation_id}/deactivate",
    response_model=AuthorisationOut,
    tags=["products"],
)
def deactivate_authorisation(
    session: DbSession,
    principal: CurrentPrincipal,
    authorisation_id: RecordId,
    body: ReasonIn | None = None,
) -> AuthorisationOut:
    _reason(session, body)
    return AuthorisationOut.model_validate(
        service.set_authorisation_active(session, principal, authorisation_id, False)
    )


@router.get("/products/{product_id}/boms", response_model=list[BomOut], tags=["bills of material"])
def list_boms(
    session: DbSession, principal: CurrentPrincipal, product_id: RecordId
) -> list[BomOut]:
    """Every version of the product's bill of material, newest first."""
    return service.list_boms(session, principal, product_id)


@router.post(
    "/products/{product_id}/boms",
    response_model=BomOut,
    status_code=status.HTTP_201_CREATED,
    tags=["bills of material"],
)
def create_bom(
    session: DbSession, principal: CurrentPrincipal, product_id: RecordId, data: BomIn
) -> BomOut:
    """A new draft BOM version."""
    return service.create_bom(session, principal, product_id, data)


@router.get("/boms/{bom_id}", response_model=BomOut, tags=["bills of material"])
def read_bom(session: DbSession, principal: CurrentPrincipal, bom_id: RecordId) -> BomOut:
    return service.get_bom(session, principal, bom_id)


@router.post("/boms/{bom_id}/activate", response_model=BomOut, tags=["bills of material"])
def activate_bom(session: DbSession, principal: CurrentPrincipal, bom_id: RecordId) -> BomOut:
    """Make a draft the active version; the previous active version becomes obsolete."""
    return service.activate_bom(session, principal, bom_id)
