"""On time, in full, per customer, channel, product and month.

A line counts once it is due (its promised date has passed, or it is fully delivered) and
not cancelled. For such a line:

* **on time**: its first delivery arrived on or before the promised date;
* **in full**: the whole ordered quantity has been delivered;
* **OTIF**: the whole quantity had arrived by the promised date (``completed_date`` ≤ promised).

The month is the month of the promised date. Delivery facts come from
:func:`medledger.orders.service.record_delivery` (later from proof of delivery and receiving
events).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medledger.catalog.models import Product
from medledger.core.db import utcnow
from medledger.core.errors import FieldError, ValidationFailed
from medledger.core.principal import Permission, Principal
from medledger.core.scoping import scoped
from medledger.orders.errors import Code
from medledger.orders.models import Customer, Delivery, Order, OrderLine, OrderStatus
from medledger.orders.schemas import OtifRow
from medledger.parties.models import Party

DIMENSIONS = ("customer", "channel", "product", "month")


def otif(
    session: Session,
    principal: Principal,
    *,
    group_by: list[str],
    date_from: date | None = None,
    date_to: date | None = None,
    as_of: date | None = None,
) -> list[OtifRow]:
    """OTIF counts and rate grouped by the given dimensions (partner users: their own lines)."""
    principal.require(Permission.ORDERS_READ)
    unknown = [name for name in group_by if name not in DIMENSIONS]
    if unknown or not group_by:
        raise ValidationFailed(
            errors=[
                FieldError(
                    "group_by",
                    Code.GROUP_BY_INVALID,
                    "Group by one or more of: {expected}.",
                    {"expected": ", ".join(DIMENSIONS)},
                )
            ]
        )
    today = as_of or utcnow().date()
    first_delivery = (
        select(Delivery.order_line_id, func.min(Delivery.delivered_on).label("first"))
        .group_by(Delivery.order_line_id)
        .subquery()
    )
    stmt = (
        select(
            OrderLine.quantity,
            OrderLine.delivered_quantity,
            OrderLine.promised_date,
            OrderLine.completed_date,
            first_delivery.c.first,
            Order.channel,
            Customer.id,
            Party.name,
            OrderLine.gtin,
            Product.name,
        )
        .join(Order, Order.id == OrderLine.order_id)
        .join(Customer, Customer.id == Order.customer_id)
        .join(Party, Party.id == Customer.party_id)
        .join(Product, Product.id == OrderLine.product_id)
        .outerjoin(first_delivery, first_delivery.c.order_line_id == OrderLine.id)
        .where(OrderLine.status != OrderStatus.CANCELLED.value)
        .where((OrderLine.promised_date < today) | (OrderLine.completed_date.is_not(None)))
    )
    if date_from is not None:
        stmt = stmt.where(OrderLine.promised_date >= date_from)
    if date_to is not None:
        stmt = stmt.where(OrderLine.promised_date <= date_to)
    stmt = scoped(stmt, OrderLine, principal)
    buckets: dict[tuple[tuple[str, str], ...], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for (
        quantity,
        delivered,
        promised,
        completed,
        first,
        channel,
        customer_id,
        customer_name,
        gtin,
        product_name,
    ) in session.execute(stmt):
        values = {
            "customer": (str(customer_id), customer_name),
            "channel": (channel, channel),
            "product": (gtin, product_name),
            "month": (promised.strftime("%Y-%m"), promised.strftime("%Y-%m")),
        }
        key = tuple(values[name] for name in group_by)
        counts = buckets[key]
        counts[0] += 1
        counts[1] += int(first is not None and first <= promised)
        counts[2] += int(delivered >= quantity)
        counts[3] += int(completed is not None and completed <= promised)
    rows = []
    for key in sorted(buckets, key=lambda k: tuple(part[0] for part in k)):
        due, on_time, in_full, both = buckets[key]
        labels = {}
        for name, (ident, label) in zip(group_by, key, strict=True):
            labels[name] = ident
            if name in ("customer", "product"):
                labels[f"{name}_name"] = label
        rows.append(
            OtifRow(
                key=labels,
                lines_due=due,
                on_time=on_time,
                in_full=in_full,
                on_time_in_full=both,
                otif_rate=round(both / due, 4) if due else None,
            )
        )
    return rows
