"""Purchasing queries and partner-visibility rules: a supplier's users see the purchase orders
addressed to their party, with their lines and ASNs, and nothing else."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from medledger.core.principal import Principal
from medledger.core.scoping import party_rule
from medledger.purchasing.models import (
    AdvanceShipNotice,
    AsnLine,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    ReceiptDiscrepancy,
)


def _sent_to(principal: Principal) -> ColumnElement[bool]:
    # A draft (a replenishment suggestion) is the buyer's until approved and sent.
    return (PurchaseOrder.supplier_party_id == principal.party_id) & (
        PurchaseOrder.status != PurchaseOrderStatus.DRAFT.value
    )


@party_rule(PurchaseOrder)
def _order_visible(principal: Principal) -> ColumnElement[bool]:
    return _sent_to(principal)


@party_rule(PurchaseOrderLine)
def _order_line_visible(principal: Principal) -> ColumnElement[bool]:
    return PurchaseOrderLine.purchase_order_id.in_(
        select(PurchaseOrder.id).where(_sent_to(principal))
    )


@party_rule(AdvanceShipNotice)
def _asn_visible(principal: Principal) -> ColumnElement[bool]:
    return AdvanceShipNotice.supplier_party_id == principal.party_id


@party_rule(AsnLine)
def _asn_line_visible(principal: Principal) -> ColumnElement[bool]:
    return AsnLine.asn_id.in_(
        select(AdvanceShipNotice.id).where(
            AdvanceShipNotice.supplier_party_id == principal.party_id
        )
    )


@party_rule(ReceiptDiscrepancy)
def _discrepancy_visible(principal: Principal) -> ColumnElement[bool]:
    # The supplier sees what was flagged on its own deliveries.
    return ReceiptDiscrepancy.asn_id.in_(
        select(AdvanceShipNotice.id).where(
            AdvanceShipNotice.supplier_party_id == principal.party_id
        )
    )


def order_lines(session: Session, order_ids: list[int]) -> dict[int, list[PurchaseOrderLine]]:
    result: dict[int, list[PurchaseOrderLine]] = {i: [] for i in order_ids}
    if order_ids:
        for line in session.scalars(
            select(PurchaseOrderLine)
            .where(PurchaseOrderLine.purchase_order_id.in_(order_ids))
            .order_by(PurchaseOrderLine.purchase_order_id, PurchaseOrderLine.line_number)
        ):
            result[line.purchase_order_id].append(line)
    return result


def asn_lines(session: Session, asn_ids: list[int]) -> dict[int, list[AsnLine]]:
    result: dict[int, list[AsnLine]] = {i: [] for i in asn_ids}
    if asn_ids:
        for line in session.scalars(
            select(AsnLine).where(AsnLine.asn_id.in_(asn_ids)).order_by(AsnLine.id)
        ):
            result[line.asn_id].append(line)
    return result


def next_order_number(session: Session, tenant_id: int) -> str:
    count = session.scalar(
        select(PurchaseOrder.id)
        .where(PurchaseOrder.tenant_id == tenant_id)
        .order_by(PurchaseOrder.id.desc())
        .limit(1)
    )
    return f"PO-{(count or 0) + 1:06d}"
