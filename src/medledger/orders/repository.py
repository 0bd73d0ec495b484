"""Order queries and partner-visibility rules.

A partner user (distributor, hospital) sees its own customer record, ship-tos, contracts,
tenders, item references, orders, versions, deliveries, acknowledgements and the inbox
messages recognised as its own. Everything else in this package is the hub's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from medledger.core.principal import Principal
from medledger.core.scoping import party_rule, scoped
from medledger.orders.models import (
    Acknowledgement,
    Contract,
    Customer,
    Delivery,
    IdempotencyKey,
    InboundMessage,
    ItemReference,
    Order,
    OrderLine,
    OrderStatus,
    OrderVersion,
    ShipTo,
    Tender,
    TenderLine,
)
from medledger.orders.planning_models import (
    LineScore,
    LineShortfall,
    PlanningApproval,
    PriorityRuleSet,
    Reservation,
)


def _own(model: type) -> None:
    @party_rule(model)
    def _rule(principal: Principal) -> ColumnElement[bool]:
        return model.party_id == principal.party_id  # type: ignore[attr-defined]


for _model in (
    Customer,
    ShipTo,
    Contract,
    Tender,
    TenderLine,
    ItemReference,
    Order,
    OrderLine,
    OrderVersion,
    Delivery,
    IdempotencyKey,
    InboundMessage,
    Acknowledgement,
    LineScore,
    LineShortfall,
    Reservation,
    PriorityRuleSet,  # the hub's own party
    PlanningApproval,  # the hub's own party
):
    _own(_model)


@dataclass(frozen=True)
class OrderLineFacts:
    """One open order line as the priority and allocation engines take it (plain data)."""

    order_line_id: int
    order_id: int
    customer_id: int
    customer_party_id: int
    gtin: str
    quantity_open: int
    requested_delivery_date: date
    promised_date: date
    ship_to_id: int
    ship_to_country: str
    ship_to_region: str
    ship_to_cold_chain_capable: bool
    customer_tier: str
    service_level_days: int | None
    penalty_per_day_late: Decimal | None
    min_remaining_shelf_life_days: int
    clinical_urgency: str
    surgery_date: date | None
    channel: str
    order_kind: str
    order_date: date
    unit_price: Decimal | None
    status: str


OPEN_STATUSES = (OrderStatus.OPEN.value, OrderStatus.PARTIALLY_DELIVERED.value)


def open_line_facts(
    session: Session,
    principal: Principal,
    *,
    order_ids: set[int] | None = None,
    gtins: set[str] | None = None,
) -> list[OrderLineFacts]:
    """Every open line the principal may see (of ``order_ids`` / ``gtins`` if given), with the
    joined customer/contract/ship-to facts, in (promised date, line id) order."""
    stmt = cast(
        Select[Any],
        select(
            OrderLine.id,
            Order.id,
            Customer.id,
            Customer.party_id,
            OrderLine.gtin,
            OrderLine.quantity - OrderLine.delivered_quantity,
            OrderLine.requested_delivery_date,
            OrderLine.promised_date,
            ShipTo.id,
            ShipTo.country,
            ShipTo.region,
            ShipTo.cold_chain_capable,
            Customer.tier,
            Contract.service_level_days,
            Contract.penalty_per_day_late,
            OrderLine.min_remaining_shelf_life_days,
            OrderLine.clinical_urgency,
            OrderLine.surgery_date,
            Order.channel,
            Order.kind,
            Order.order_date,
            OrderLine.unit_price,
            OrderLine.status,
        )
        .join(Order, Order.id == OrderLine.order_id)
        .join(Customer, Customer.id == Order.customer_id)
        .join(ShipTo, ShipTo.id == Order.ship_to_id)
        .outerjoin(Contract, Contract.id == Order.contract_id)
        .where(OrderLine.status.in_(OPEN_STATUSES))
        .order_by(OrderLine.promised_date, OrderLine.id),
    )
    if order_ids is not None:
        stmt = stmt.where(OrderLine.order_id.in_(sorted(order_ids)))
    if gtins is not None:
        stmt = stmt.where(OrderLine.gtin.in_(sorted(gtins)))
    stmt = scoped(stmt, OrderLine, principal)
    return [OrderLineFacts(*row) for row in session.execute(stmt)]


def customer_for_party(session: Session, tenant_id: int, party_id: int) -> Customer | None:
    return session.scalars(
        select(Customer).where(Customer.tenant_id == tenant_id, Customer.party_id == party_id)
    ).first()


def lines_of(session: Session, order_ids: list[int]) -> dict[int, list[OrderLine]]:
    result: dict[int, list[OrderLine]] = {i: [] for i in order_ids}
    if order_ids:
        for line in session.scalars(
            select(OrderLine)
            .where(OrderLine.order_id.in_(order_ids))
            .order_by(OrderLine.order_id, OrderLine.line_number)
        ):
            result[line.order_id].append(line)
    return result
