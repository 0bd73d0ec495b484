"""Catalog queries and partner-visibility rules.

Products and their market authorisations are the network's shared catalogue: every party of
the tenant sees them (partners order, ship and receive them). Bills of material are the hub's
design data and stay invisible to partner users.
"""

from __future__ import annotations

from sqlalchemy import select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from medledger.catalog.models import BillOfMaterials, BomLine, MarketAuthorisation, Product
from medledger.core.principal import Principal
from medledger.core.scoping import party_rule


@party_rule(Product)
def _product_visible(principal: Principal) -> ColumnElement[bool]:
    return true()


@party_rule(MarketAuthorisation)
def _authorisation_visible(principal: Principal) -> ColumnElement[bool]:
    return true()


def gtin_in_use(session: Session, tenant_id: int, gtin: str) -> bool:
    return (
        session.scalar(
            select(Product.id).where(Product.tenant_id == tenant_id, Product.gtin == gtin).limit(1)
        )
        is not None
    )


def bom_lines(session: Session, bom_ids: list[int]) -> dict[int, list[BomLine]]:
    result: dict[int, list[BomLine]] = {i: [] for i in bom_ids}
    if bom_ids:
        for line in session.scalars(
            select(BomLine).where(BomLine.bom_id.in_(bom_ids)).order_by(BomLine.component_gtin)
        ):
            result[line.bom_id].append(line)
    return result


def latest_bom_version(session: Session, product_id: int) -> int:
    from sqlalchemy import func

    return int(
        session.scalar(
            select(func.max(BillOfMaterials.version)).where(
                BillOfMaterials.product_id == product_id
            )
        )
        or 0
    )
