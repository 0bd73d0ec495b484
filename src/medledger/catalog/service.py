"""Use cases for products, market authorisations and versioned bills of material."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from medledger.catalog import repository as repo
from medledger.catalog.errors import Code
from medledger.catalog.models import (
    BillOfMaterials,
    BomLine,
    BomStatus,
    MarketAuthorisation,
    Product,
)
from medledger.catalog.schemas import (
    AuthorisationIn,
    BomIn,
    BomLineOut,
    BomOut,
    ProductIn,
    ProductUpdate,
)
from medledger.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from medledger.core.principal import Permission, Principal
from medledger.core.record_checks import refuse_invalid
from medledger.core.repository import apply_changes, get_visible, list_visible
from medledger.parties.errors import Code as PartiesCode
from medledger.parties.models import Party


def _field(
    cls: type[Conflict] | type[ValidationFailed], field: str, code: str, message: str, **params: Any
) -> Any:
    return cls(
        message,
        code=code,
        params=params,
        errors=[FieldError(field=field, code=code, message=message, params=params)],
    )


def list_products(
    session: Session,
    principal: Principal,
    *,
    q: str | None = None,
    gtin: str | None = None,
    tracking_level: str | None = None,
    storage_class: str | None = None,
    active: bool | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[Product], int]:
    """The catalogue, filtered."""
    principal.require(Permission.CATALOG_READ)
    filters: list[ColumnElement[bool]] = []
    if q:
        filters.append(Product.name.ilike(f"%{q}%") | (Product.gtin == q))
    if gtin:
        filters.append(Product.gtin == gtin)
    if tracking_level:
        filters.append(Product.tracking_level == tracking_level)
    if storage_class:
        filters.append(Product.storage_class == storage_class)
    if active is not None:
        filters.append(Product.active.is_(active))
    return list_visible(
        session,
        Product,
        principal,
        filters=filters,
        order_by=Product.name,
        page=page,
        page_size=page_size,
    )


def get_product(session: Session, principal: Principal, product_id: int) -> Product:
    """One product, or 404."""
    principal.require(Permission.CATALOG_READ)
    return get_visible(session, Product, product_id, principal)


def create_product(session: Session, principal: Principal, data: ProductIn) -> Product:
    """Add a product under its GTIN (which is its UDI-DI unless another is given)."""
    principal.require(Permission.CATALOG_WRITE)
    refuse_invalid(session, principal, "product", data.model_dump(mode="json"))
    if repo.gtin_in_use(session, principal.tenant_id, data.gtin):
        raise _field(
            Conflict,
            "gtin",
            Code.GTIN_TAKEN,
            "GTIN {gtin} is already in the catalogue.",
            gtin=data.gtin,
        )
    owner = data.owner_party_id if data.owner_party_id is not None else principal.hub_party_id
    # The principal's hub is its tenant's own party (from the credential lookup): no query.
    if owner is None or (
        owner != principal.hub_party_id
        and session.scalar(
            select(Party.id).where(Party.id == owner, Party.tenant_id == principal.tenant_id)
        )
        is None
    ):
        raise _field(
            ValidationFailed,
            "owner_party_id",
            PartiesCode.PARTY_UNKNOWN,
            "Party {id} does not exist.",
            id=owner,
        )
    values = data.model_dump(mode="json")
    values["owner_party_id"] = owner
    values["udi_di"] = data.udi_di or data.gtin
    product = Product(tenant_id=principal.tenant_id, active=True, **values)
    session.add(product)
    session.flush()
    return product


def update_product(
    session: Session, principal: Principal, product_id: int, data: ProductUpdate
) -> Product:
    """Change a product's master data (its GTIN is its identity and does not change)."""
    principal.require(Permission.CATALOG_WRITE)
    product = get_visible(session, Product, product_id, principal)
    changes = data.model_dump(exclude_unset=True, mode="json")
    refuse_invalid(session, principal, "product", changes)
    apply_changes(product, changes)
    session.flush()
    return product


def set_product_active(
    session: Session, principal: Principal, product_id: int, active: bool
) -> Product:
    """Deactivate or reactivate a product."""
    principal.require(Permission.CATALOG_WRITE)
    product = get_visible(session, Product, product_id, principal)
    apply_changes(product, {"active": active})
    session.flush()
    return product


# --- market authorisations -------------------------------------------------------------------


def list_authorisations(
    session: Session, principal: Principal, product_id: int
) -> list[MarketAuthorisation]:
    """A product's market authorisations."""
    get_product(session, principal, product_id)
    items, _ = list_visible(
        session,
        MarketAuthorisation,
        principal,
        filters=[MarketAuthorisation.product_id == product_id],
        order_by=(MarketAuthorisation.region, MarketAuthorisation.valid_from),
        page_size=500,
    )
    return items


def add_authorisation(
    session: Session, principal: Principal, product_id: int, data: AuthorisationIn
) -> MarketAuthorisation:
    """Record a product's authorisation for one market."""
    principal.require(Permission.CATALOG_WRITE)
    product = get_visible(session, Product, product_id, principal)
    assert data.region is not None
    duplicate = session.scalar(
        select(MarketAuthorisation.id).where(
            MarketAuthorisation.product_id == product.id,
            MarketAuthorisation.region == data.region.value,
            MarketAuthorisation.certificate_number == data.certificate_number,
        )
    )
    if duplicate is not None:
        raise _field(
            Conflict,
            "certificate_number",
            Code.AUTHORISATION_DUPLICATE,
            "Certificate {number} is already recorded for this product.",
            number=data.certificate_number,
        )
    authorisation = MarketAuthorisation(
        tenant_id=principal.tenant_id,
        product_id=product.id,
        region=data.region.value,
        kind=data.kind.value,
        certificate_number=data.certificate_number,
        authority=data.authority,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        active=True,
    )
    session.add(authorisation)
    session.flush()
    return authorisation


def set_authorisation_active(
    session: Session, principal: Principal, authorisation_id: int, active: bool
) -> MarketAuthorisation:
    """Withdraw (or restore) a market authorisation."""
    principal.require(Permission.CATALOG_WRITE)
    authorisation = get_visible(session, MarketAuthorisation, authorisation_id, principal)
    apply_changes(authorisation, {"active": active})
    session.flush()
    return authorisation


def is_authorised(session: Session, tenant_id: int, product_id: int, region: str, on: date) -> bool:
    """Whether ``product_id`` may be placed on the ``region`` market on day ``on``."""
    rows = session.scalars(
        select(MarketAuthorisation).where(
            MarketAuthorisation.tenant_id == tenant_id,
            MarketAuthorisation.product_id == product_id,
            MarketAuthorisation.region == region,
            MarketAuthorisation.active.is_(True),
        )
    )
    return any(r.valid_from <= on and (r.valid_until is None or on <= r.valid_until) for r in rows)


# --- bills of material -----------------------------------------------------------------------


def _bom_out(bom: BillOfMaterials, lines: list[BomLine]) -> BomOut:
    return BomOut(
        id=bom.id,
        product_id=bom.product_id,
        version=bom.version,
        status=bom.status,
        valid_from=bom.valid_from,
        note=bom.note,
        lines=[BomLineOut.model_validate(line) for line in lines],
    )


def list_boms(session: Session, principal: Principal, product_id: int) -> list[BomOut]:
    """Every version of a product's bill of material, newest first."""
    principal.require(Permission.BOM_READ)
    get_product(session, principal, product_id)
    boms, _ = list_visible(
        session,
        BillOfMaterials,
        principal,
        filters=[BillOfMaterials.product_id == product_id],
        order_by=BillOfMaterials.version.desc(),
        page_size=500,
    )
    lines = repo.bom_lines(session, [b.id for b in boms])
    return [_bom_out(b, lines[b.id]) for b in boms]


def get_bom(session: Session, principal: Principal, bom_id: int) -> BomOut:
    """One BOM version with its lines."""
    principal.require(Permission.BOM_READ)
    bom = get_visible(session, BillOfMaterials, bom_id, principal)
    return _bom_out(bom, repo.bom_lines(session, [bom.id])[bom.id])


def create_bom(session: Session, principal: Principal, product_id: int, data: BomIn) -> BomOut:
    """A new draft version of a product's BOM (the next version number)."""
    principal.require(Permission.BOM_WRITE)
    product = get_visible(session, Product, product_id, principal)
    seen: set[str] = set()
    errors: list[FieldError] = []
    for index, line in enumerate(data.lines):
        if line.component_gtin == product.gtin:
            errors.append(
                FieldError(
                    f"lines.{index}.component_gtin",
                    Code.BOM_SELF_REFERENCE,
                    "A product cannot be its own component.",
                )
            )
        if line.component_gtin in seen:
            errors.append(
                FieldError(
                    f"lines.{index}.component_gtin",
                    Code.BOM_DUPLICATE_COMPONENT,
                    "Component {gtin} is listed twice.",
                    {"gtin": line.component_gtin},
                )
            )
        seen.add(line.component_gtin)
    if errors:
        raise ValidationFailed(
            "The bill of material has invalid lines.", code=Code.BOM_INVALID, errors=errors
        )
    bom = BillOfMaterials(
        tenant_id=principal.tenant_id,
        product_id=product.id,
        version=repo.latest_bom_version(session, product.id) + 1,
        status=BomStatus.DRAFT.value,
        valid_from=data.valid_from,
        note=data.note,
    )
    session.add(bom)
    session.flush()
    lines = [
        BomLine(
            tenant_id=principal.tenant_id,
            bom_id=bom.id,
            component_gtin=line.component_gtin,
            quantity_per=line.quantity_per,
            unit_of_measure=line.unit_of_measure.upper(),
        )
        for line in data.lines
    ]
    session.add_all(lines)
    session.flush()
    return _bom_out(bom, sorted(lines, key=lambda x: x.component_gtin))


def activate_bom(session: Session, principal: Principal, bom_id: int) -> BomOut:
    """Make a draft BOM the product's active version; the previous active one becomes obsolete."""
    principal.require(Permission.BOM_WRITE)
    bom = get_visible(session, BillOfMaterials, bom_id, principal)
    if bom.status != BomStatus.DRAFT.value:
        raise Conflict(
            "Only a draft BOM can be activated; this one is {status}.",
            code=Code.BOM_NOT_DRAFT,
            params={"status": bom.status},
        )
    for other in session.scalars(
        select(BillOfMaterials).where(
            BillOfMaterials.product_id == bom.product_id,
            BillOfMaterials.status == BomStatus.ACTIVE.value,
        )
    ):
        other.status = BomStatus.OBSOLETE.value
    bom.status = BomStatus.ACTIVE.value
    session.flush()
    return _bom_out(bom, repo.bom_lines(session, [bom.id])[bom.id])


def find_product_by_gtin(session: Session, principal: Principal, gtin: str) -> Product:
    """A visible product by GTIN, or 404."""
    principal.require(Permission.CATALOG_READ)
    product = session.scalar(
        select(Product).where(Product.tenant_id == principal.tenant_id, Product.gtin == gtin)
    )
    if product is None:
        raise NotFound("{entity} {id} was not found.", params={"entity": "product", "id": gtin})
    return product
