"""Order use cases: place (every channel ends here), amend, cancel, record a delivery, read.

Validation collects every problem of an order before raising, so an API client, a CSV row or
an EDI segment gets all its errors at once. Nothing is written until the whole order resolved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from medledger.catalog.errors import Code as CatalogCode
from medledger.catalog.models import Product
from medledger.core.db import utcnow
from medledger.core.errors import FieldError
from medledger.core.principal import Permission, Principal
from medledger.core.repository import get_visible, list_visible
from medledger.orders import hooks
from medledger.orders import repository as repo
from medledger.orders.draft import LineDraft, OrderDraft
from medledger.orders.errors import Code, OrderValidationFailed, order_conflict, problem
from medledger.orders.models import (
    Channel,
    ClinicalUrgency,
    Contract,
    Customer,
    Delivery,
    ItemReference,
    Order,
    OrderKind,
    OrderLine,
    OrderStatus,
    OrderVersion,
    ShipTo,
    Tender,
    TenderLine,
    VersionKind,
)
from medledger.parties.models import Party

# Units an order may use for a product counted in each (EA): EDIFACT PCE/C62, X12 EA/UN.
_EACH = {"EA", "PCE", "C62", "UN", "EACH", "PC"}


@dataclass
class _Line:
    draft: LineDraft
    product: Product
    tender_line: TenderLine | None
    requested: date
    promised: date
    urgency: str
    unit_price: Decimal | None


@dataclass
class _Resolved:
    customer: Customer
    ship_to: ShipTo
    contract: Contract | None
    tender: Tender | None
    order_date: date
    requested: date
    lines: list[_Line]


# --- resolution (reads only) ------------------------------------------------------------------


def _customer(
    session: Session, principal: Principal, draft: OrderDraft, errors: list[FieldError]
) -> Customer | None:
    tenant = principal.tenant_id
    customer: Customer | None = None
    if not principal.sees_all_parties:
        customer = repo.customer_for_party(session, tenant, principal.party_id)
        if customer is None:
            errors.append(
                problem(
                    draft.where("customer_id"),
                    Code.CUSTOMER_NOT_REGISTERED,
                    "Your organisation is not registered as a customer.",
                )
            )
            return None
        if draft.customer_id is not None and draft.customer_id != customer.id:
            errors.append(
                problem(
                    draft.where("customer_id"),
                    Code.CUSTOMER_UNKNOWN,
                    "Customer {id} does not exist.",
                    id=draft.customer_id,
                )
            )
            return None
    elif draft.customer_id is not None:
        customer = session.get(Customer, draft.customer_id)
        if customer is None or customer.tenant_id != tenant:
            customer = None
    elif draft.buyer_gln:
        customer = session.scalars(
            select(Customer)
            .join(Party, Party.id == Customer.party_id)
            .where(Customer.tenant_id == tenant, Party.gln == draft.buyer_gln)
        ).first()
    elif draft.sender_id:
        scheme, _, value = draft.sender_id.partition(":")
        for candidate in session.scalars(select(Customer).where(Customer.tenant_id == tenant)):
            if (candidate.edi_sender_ids or {}).get(scheme) == value:
                customer = candidate
                break
    if customer is None:
        given = draft.customer_id or draft.buyer_gln or draft.sender_id
        errors.append(
            problem(
                draft.where("customer_id"),
                Code.CUSTOMER_UNKNOWN,
                "Customer {id} does not exist.",
                id=given if given is not None else "",
            )
        )
        return None
    if not customer.active:
        errors.append(
            problem(
                draft.where("customer_id"),
                Code.CUSTOMER_INACTIVE,
                "Customer {id} is inactive.",
                id=customer.id,
            )
        )
    return customer


def _ship_to(
    session: Session, customer: Customer, draft: OrderDraft, errors: list[FieldError]
) -> ShipTo | None:
    stmt = select(ShipTo).where(ShipTo.customer_id == customer.id, ShipTo.active.is_(True))
    given: object
    if draft.ship_to_id is not None:
        stmt, given, name = (
            stmt.where(ShipTo.id == draft.ship_to_id),
            draft.ship_to_id,
            "ship_to_id",
        )
    elif draft.ship_to_code:
        stmt, given, name = (
            stmt.where(ShipTo.code == draft.ship_to_code),
            draft.ship_to_code,
            "ship_to_code",
        )
    elif draft.ship_to_gln:
        stmt, given, name = (
            stmt.where(ShipTo.gln == draft.ship_to_gln),
            draft.ship_to_gln,
            "ship_to_gln",
        )
    else:
        stmt, given, name = stmt.where(ShipTo.is_default.is_(True)), "default", "ship_to_id"
    ship_to = session.scalars(stmt.order_by(ShipTo.id)).first()
    if ship_to is None:
        errors.append(
            problem(
                draft.where(name),
                Code.SHIP_TO_UNKNOWN,
                "Ship-to {value} is not a delivery address of this customer.",
                value=str(given),
            )
        )
    return ship_to


def _contract(
    session: Session, customer: Customer, draft: OrderDraft, on: date, errors: list[FieldError]
) -> Contract | None:
    stmt = select(Contract).where(
        Contract.customer_id == customer.id,
        Contract.active.is_(True),
        Contract.valid_from <= on,
        (Contract.valid_until.is_(None)) | (Contract.valid_until >= on),
    )
    if draft.contract_number:
        stmt = stmt.where(Contract.number == draft.contract_number)
    contract = session.scalars(stmt.order_by(Contract.valid_from.desc(), Contract.id)).first()
    if contract is None and draft.contract_number:
        errors.append(
            problem(
                draft.where("contract_number"),
                Code.CONTRACT_UNKNOWN,
                "Contract {number} is not in force for this customer on {date}.",
                number=draft.contract_number,
                date=on.isoformat(),
            )
        )
    return contract


def _tender(
    session: Session, customer: Customer, draft: OrderDraft, on: date, errors: list[FieldError]
) -> tuple[Tender | None, dict[int, TenderLine]]:
    if not draft.tender_reference:
        return None, {}
    tender = session.scalars(
        select(Tender).where(
            Tender.customer_id == customer.id,
            Tender.reference == draft.tender_reference,
            Tender.valid_from <= on,
            Tender.valid_until >= on,
        )
    ).first()
    if tender is None:
        errors.append(
            problem(
                draft.where("tender_reference"),
                Code.TENDER_UNKNOWN,
                "Tender {reference} is not in force for this customer on {date}.",
                reference=draft.tender_reference,
                date=on.isoformat(),
            )
        )
        return None, {}
    lines = session.scalars(select(TenderLine).where(TenderLine.tender_id == tender.id))
    return tender, {line.product_id: line for line in lines}


def _products(
    session: Session, principal: Principal, customer: Customer | None, draft: OrderDraft
) -> tuple[dict[str, Product], dict[tuple[str, str], Product]]:
    gtins = {line.gtin for line in draft.lines if line.gtin}
    by_gtin: dict[str, Product] = {}
    if gtins:
        by_gtin = {
            p.gtin: p
            for p in session.scalars(
                select(Product).where(
                    Product.tenant_id == principal.tenant_id, Product.gtin.in_(gtins)
                )
            )
        }
    by_reference: dict[tuple[str, str], Product] = {}
    codes = {
        (line.item_qualifier, line.item_code)
        for line in draft.lines
        if not line.gtin and line.item_qualifier and line.item_code
    }
    if codes and customer is not None:
        rows = session.execute(
            select(ItemReference.qualifier, ItemReference.code, Product)
            .join(Product, Product.id == ItemReference.product_id)
            .where(
                ItemReference.customer_id == customer.id,
                ItemReference.code.in_({code for _, code in codes}),
            )
        )
        by_reference = {(q, c): p for q, c, p in rows}
    return by_gtin, by_reference


def _resolve(session: Session, principal: Principal, draft: OrderDraft) -> _Resolved:
    errors: list[FieldError] = list(draft.errors)
    errors += hooks.check_draft(session, principal, draft)  # e.g. the data dictionary
    today = utcnow().date()
    customer = _customer(session, principal, draft, errors)
    if not draft.customer_reference:
        errors.append(
            problem(
                draft.where("customer_reference"),
                Code.CUSTOMER_REFERENCE_MISSING,
                "The order has no purchase order number.",
            )
        )
    if not draft.lines and not draft.errors:
        errors.append(problem(draft.where("lines"), Code.LINES_MISSING, "The order has no lines."))
    if customer is None:
        raise OrderValidationFailed(errors=errors)
    order_date = draft.order_date or today
    ship_to = _ship_to(session, customer, draft, errors)
    contract = _contract(session, customer, draft, order_date, errors)
    tender, tender_lines = _tender(session, customer, draft, order_date, errors)
    by_gtin, by_reference = _products(session, principal, customer, draft)
    service_days = contract.service_level_days if contract is not None else None
    header_requested = draft.requested_delivery_date
    if header_requested is None and service_days is not None:
        header_requested = order_date + timedelta(days=service_days)
    if header_requested is not None and header_requested < order_date:
        errors.append(
            problem(
                draft.where("requested_delivery_date"),
                Code.REQUESTED_DELIVERY_DATE_BEFORE_ORDER,
                "The requested delivery date {date} is before the order date {order_date}.",
                date=header_requested.isoformat(),
                order_date=order_date.isoformat(),
            )
        )
    seen: set[int] = set()
    lines: list[_Line] = []
    for line in draft.lines:
        resolved = _resolve_line(
            line,
            seen,
            by_gtin,
            by_reference,
            tender,
            tender_lines,
            order_date,
            header_requested,
            service_days,
            errors,
        )
        if resolved is not None:
            lines.append(resolved)
    if errors or ship_to is None:
        raise OrderValidationFailed(errors=errors)
    requested = header_requested or min(line.requested for line in lines)
    return _Resolved(customer, ship_to, contract, tender, order_date, requested, lines)


def _resolve_line(
    line: LineDraft,
    seen: set[int],
    by_gtin: dict[str, Product],
    by_reference: dict[tuple[str, str], Product],
    tender: Tender | None,
    tender_lines: dict[int, TenderLine],
    order_date: date,
    header_requested: date | None,
    service_days: int | None,
    errors: list[FieldError],
) -> _Line | None:
    before = len(errors)
    if line.line_number and line.line_number in seen:
        errors.append(
            problem(
                line.where("line_number"),
                Code.LINE_NUMBER_DUPLICATE,
                "Line number {number} appears twice.",
                number=line.line_number,
            )
        )
    seen.add(line.line_number)
    product: Product | None = None
    if line.gtin:
        product = by_gtin.get(line.gtin)
        if product is None:
            errors.append(
                problem(
                    line.where("gtin"),
                    CatalogCode.PRODUCT_UNKNOWN,
                    "GTIN {gtin} is not in the catalogue.",
                    gtin=line.gtin,
                )
            )
    elif line.item_code:
        product = by_reference.get((line.item_qualifier or "", line.item_code))
        if product is None:
            errors.append(
                problem(
                    line.where("item_code"),
                    Code.ITEM_REFERENCE_UNKNOWN,
                    "Item number {code} ({qualifier}) is not known for this customer.",
                    code=line.item_code,
                    qualifier=line.item_qualifier or "",
                )
            )
    elif "gtin" not in line.unreadable:
        errors.append(
            problem(line.where("gtin"), Code.PRODUCT_MISSING, "The line names no product.")
        )
    if product is not None and not product.active:
        errors.append(
            problem(
                line.where("gtin"),
                Code.PRODUCT_INACTIVE,
                "Product {gtin} is no longer sold.",
                gtin=product.gtin,
            )
        )
    if line.quantity is None:
        if "quantity" not in line.unreadable:
            errors.append(
                problem(line.where("quantity"), Code.QUANTITY_MISSING, "Give a quantity.")
            )
    elif line.quantity <= 0:
        errors.append(
            problem(
                line.where("quantity"),
                Code.QUANTITY_INVALID,
                "The quantity must be a whole number greater than zero.",
            )
        )
    if line.unit_of_measure and product is not None:
        unit = line.unit_of_measure.upper()
        accepted = {product.unit_of_measure} | (_EACH if product.unit_of_measure == "EA" else set())
        if unit not in accepted:
            errors.append(
                problem(
                    line.where("unit_of_measure"),
                    Code.UNIT_OF_MEASURE_UNSUPPORTED,
                    "Unit {unit} cannot be used for {gtin}; it is sold in {expected}.",
                    unit=unit,
                    gtin=product.gtin,
                    expected=product.unit_of_measure,
                )
            )
    urgency = line.clinical_urgency or (
        ClinicalUrgency.SCHEDULED_SURGERY.value
        if line.surgery_date
        else ClinicalUrgency.ROUTINE.value
    )
    if urgency not in {u.value for u in ClinicalUrgency}:
        errors.append(
            problem(
                line.where("clinical_urgency"),
                Code.CLINICAL_URGENCY_INVALID,
                "Choose one of: {expected}.",
                expected=", ".join(u.value for u in ClinicalUrgency),
            )
        )
    if line.surgery_date is not None and line.surgery_date < order_date:
        errors.append(
            problem(
                line.where("surgery_date"),
                Code.SURGERY_DATE_PAST,
                "The surgery date {date} is before the order date.",
                date=line.surgery_date.isoformat(),
            )
        )
    requested = line.requested_delivery_date or header_requested
    if requested is None:
        errors.append(
            problem(
                line.where("requested_delivery_date"),
                Code.REQUESTED_DELIVERY_DATE_REQUIRED,
                "Give a requested delivery date (no contract with a service level applies).",
            )
        )
    elif requested < order_date and line.requested_delivery_date is not None:
        errors.append(
            problem(
                line.where("requested_delivery_date"),
                Code.REQUESTED_DELIVERY_DATE_BEFORE_ORDER,
                "The requested delivery date {date} is before the order date {order_date}.",
                date=requested.isoformat(),
                order_date=order_date.isoformat(),
            )
        )
    tender_line: TenderLine | None = None
    if tender is not None and product is not None:
        tender_line = tender_lines.get(product.id)
        if tender_line is None:
            errors.append(
                problem(
                    line.where("gtin"),
                    Code.TENDER_PRODUCT_NOT_AWARDED,
                    "Product {gtin} is not part of tender {reference}.",
                    gtin=product.gtin,
                    reference=tender.reference,
                )
            )
    if len(errors) > before or product is None or requested is None or line.quantity is None:
        return None
    earliest = order_date + timedelta(days=service_days) if service_days is not None else requested
    promised = max(requested, earliest)
    price = line.unit_price
    if price is None and tender_line is not None:
        price = tender_line.unit_price
    return _Line(line, product, tender_line, requested, promised, urgency, price)


# --- writing ----------------------------------------------------------------------------------


def _call_off(session: Session, tender_line: TenderLine, delta: int, where: str) -> None:
    """Move a tender line's called-off quantity by ``delta`` under a row lock (audited)."""
    locked = session.scalars(
        select(TenderLine).where(TenderLine.id == tender_line.id).with_for_update()
    ).one()
    remaining = locked.committed_quantity - locked.called_off_quantity
    if delta > remaining:
        raise OrderValidationFailed(
            errors=[
                problem(
                    where,
                    Code.TENDER_EXHAUSTED,
                    "Only {remaining} of the {committed} committed units are left to call off.",
                    remaining=remaining,
                    committed=locked.committed_quantity,
                )
            ]
        )
    locked.called_off_quantity = locked.called_off_quantity + delta


def _snapshot(order: Order, lines: list[OrderLine]) -> dict[str, Any]:
    return {
        "customer_reference": order.customer_reference,
        "ship_to_id": order.ship_to_id,
        "contract_id": order.contract_id,
        "tender_id": order.tender_id,
        "order_date": order.order_date.isoformat(),
        "requested_delivery_date": order.requested_delivery_date.isoformat(),
        "status": order.status,
        "note": order.note,
        "lines": [
            {
                "line_number": line.line_number,
                "gtin": line.gtin,
                "quantity": line.quantity,
                "unit_price": None if line.unit_price is None else str(line.unit_price),
                "requested_delivery_date": line.requested_delivery_date.isoformat(),
                "promised_date": line.promised_date.isoformat(),
                "clinical_urgency": line.clinical_urgency,
                "surgery_date": line.surgery_date.isoformat() if line.surgery_date else None,
                "status": line.status,
                "delivered_quantity": line.delivered_quantity,
            }
            for line in sorted(lines, key=lambda item: item.line_number)
        ],
    }


def _add_version(
    session: Session,
    principal: Principal,
    order: Order,
    lines: list[OrderLine],
    kind: VersionKind,
    reason: str,
    channel: str,
    message_id: int | None,
) -> None:
    session.add(
        OrderVersion(
            tenant_id=order.tenant_id,
            order=order,
            party_id=order.party_id,
            version=order.version,
            kind=kind.value,
            reason=reason,
            channel=channel,
            source_message_id=message_id,
            snapshot=_snapshot(order, lines),
            actor=principal.label,
        )
    )


def find_order_by_reference(
    session: Session, tenant_id: int, customer_id: int, reference: str
) -> Order | None:
    return session.scalars(
        select(Order).where(
            Order.tenant_id == tenant_id,
            Order.customer_id == customer_id,
            Order.customer_reference == reference,
        )
    ).first()


def place_order(
    session: Session,
    principal: Principal,
    draft: OrderDraft,
    *,
    channel: Channel,
    source_message_id: int | None = None,
    flush: bool = True,
) -> Order:
    """Validate an order from any channel and store it with its first version.

    Partner users order for their own organisation only. Every problem is reported at once
    (422 ``order.invalid`` with one entry per field); a purchase order number the customer
    used before is a 409 ``order.duplicate``.
    """
    principal.require(Permission.ORDERS_WRITE)
    resolved = _resolve(session, principal, draft)
    customer = resolved.customer
    assert draft.customer_reference is not None
    if find_order_by_reference(session, principal.tenant_id, customer.id, draft.customer_reference):
        raise order_conflict(
            draft.where("customer_reference"),
            Code.ORDER_DUPLICATE,
            "Purchase order {reference} of this customer is already in the system.",
            reference=draft.customer_reference,
        )
    for item in resolved.lines:
        if item.tender_line is not None:
            _call_off(
                session, item.tender_line, item.draft.quantity or 0, item.draft.where("quantity")
            )
    order = Order(
        tenant_id=principal.tenant_id,
        customer_id=customer.id,
        party_id=customer.party_id,
        customer_reference=draft.customer_reference,
        channel=channel.value,
        kind=(OrderKind.TENDER_CALL_OFF if resolved.tender else OrderKind.STANDARD).value,
        ship_to_id=resolved.ship_to.id,
        contract_id=resolved.contract.id if resolved.contract else None,
        tender_id=resolved.tender.id if resolved.tender else None,
        order_date=resolved.order_date,
        requested_delivery_date=resolved.requested,
        currency=customer.currency,
        status=OrderStatus.OPEN.value,
        version=1,
        note=draft.note,
        source_message_id=source_message_id,
    )
    session.add(order)
    # One flush writes the order, its lines and its version (and one batch of audit entries).
    lines = [
        _new_line(order, resolved, item, number)
        for number, item in enumerate(resolved.lines, start=1)
    ]
    session.add_all(lines)
    _add_version(
        session,
        principal,
        order,
        lines,
        VersionKind.CREATED,
        draft.reason,
        channel,
        source_message_id,
    )
    if flush:
        session.flush()
        _planning().order_placed(session, order)
    return order


def _planning() -> Any:
    """Scores and reservations follow every change of an order (orders/planning.py)."""
    from medledger.orders import planning

    return planning


def _new_line(order: Order, resolved: _Resolved, item: _Line, fallback_number: int) -> OrderLine:
    return OrderLine(
        tenant_id=order.tenant_id,
        order=order,
        party_id=order.party_id,
        line_number=item.draft.line_number or fallback_number,
        product_id=item.product.id,
        gtin=item.product.gtin,
        buyer_item_code=item.draft.buyer_item_code,
        quantity=item.draft.quantity or 0,
        unit_of_measure=item.product.unit_of_measure,
        unit_price=item.unit_price,
        requested_delivery_date=item.requested,
        promised_date=item.promised,
        clinical_urgency=item.urgency,
        surgery_date=item.draft.surgery_date,
        min_remaining_shelf_life_days=(
            resolved.contract.min_remaining_shelf_life_days if resolved.contract else 0
        ),
        tender_line_id=item.tender_line.id if item.tender_line else None,
        status=OrderStatus.OPEN.value,
        delivered_quantity=0,
    )


_CHANGEABLE = (OrderStatus.OPEN.value, OrderStatus.PARTIALLY_DELIVERED.value)


def _changeable(order: Order, action: str) -> None:
    if order.status not in _CHANGEABLE:
        raise order_conflict(
            "status",
            Code.ORDER_NOT_CHANGEABLE,
            "Order {number} is {status}; it can no longer be {action}.",
            number=order.number,
            status=order.status,
            action=action,
        )


def amend_order(
    session: Session,
    principal: Principal,
    order_id: int,
    draft: OrderDraft,
    *,
    channel: Channel,
    source_message_id: int | None = None,
) -> Order:
    """Change an open order and keep the new version with its reason.

    ``draft.lines`` is the complete new set, matched to existing lines by line number (0 adds
    a line); existing lines left out are cancelled. A line cannot drop below what was
    delivered, and a delivered line cannot change product.
    """
    principal.require(Permission.ORDERS_WRITE)
    order = get_visible(session, Order, order_id, principal)
    _changeable(order, "amended")
    if not draft.reason:
        raise OrderValidationFailed(
            errors=[problem("reason", Code.REASON_REQUIRED, "Say why the order changes.")]
        )
    draft.customer_id = order.customer_id
    draft.order_date = order.order_date
    draft.tender_reference = None
    if order.tender_id is not None:
        draft.tender_reference = session.get(Tender, order.tender_id).reference  # type: ignore[union-attr]
    if order.contract_id is not None and not draft.contract_number:
        draft.contract_number = session.get(Contract, order.contract_id).number  # type: ignore[union-attr]
    if draft.ship_to_id is None and not draft.ship_to_code and not draft.ship_to_gln:
        draft.ship_to_id = order.ship_to_id
    resolved = _resolve(session, principal, draft)
    existing = {line.line_number: line for line in repo.lines_of(session, [order.id])[order.id]}
    next_number = max(existing, default=0) + 1
    errors: list[FieldError] = []
    kept: set[int] = set()
    for item in resolved.lines:
        number = item.draft.line_number
        line = existing.get(number) if number else None
        quantity = item.draft.quantity or 0
        if line is None:
            if item.tender_line is not None:
                _call_off(session, item.tender_line, quantity, item.draft.where("quantity"))
            new = _new_line(order, resolved, item, next_number)
            new.line_number = number or next_number
            next_number = max(next_number, new.line_number) + 1
            session.add(new)
            kept.add(new.line_number)
            continue
        kept.add(number)
        if line.status == OrderStatus.CANCELLED.value:
            errors.append(
                problem(
                    item.draft.where("line_number"),
                    Code.LINE_CANCELLED,
                    "Line {number} was cancelled and cannot change.",
                    number=number,
                )
            )
            continue
        if quantity < line.delivered_quantity:
            errors.append(
                problem(
                    item.draft.where("quantity"),
                    Code.QUANTITY_BELOW_DELIVERED,
                    "Line {number} has {delivered} delivered already.",
                    number=number,
                    delivered=line.delivered_quantity,
                )
            )
            continue
        if item.product.id != line.product_id and line.delivered_quantity:
            errors.append(
                problem(
                    item.draft.where("gtin"),
                    Code.LINE_PRODUCT_LOCKED,
                    "Line {number} has deliveries; its product cannot change.",
                    number=number,
                )
            )
            continue
        if line.tender_line_id is not None:
            tender_line = session.get(TenderLine, line.tender_line_id)
            assert tender_line is not None
            _call_off(session, tender_line, quantity - line.quantity, item.draft.where("quantity"))
        line.product_id = item.product.id
        line.gtin = item.product.gtin
        line.quantity = quantity
        line.unit_price = item.unit_price if item.unit_price is not None else line.unit_price
        line.requested_delivery_date = item.requested
        line.promised_date = (
            max(item.promised, line.promised_date) if line.delivered_quantity else item.promised
        )
        line.clinical_urgency = item.urgency
        line.surgery_date = item.draft.surgery_date
        _settle_line(line)
    for number, line in existing.items():
        if number in kept or line.status == OrderStatus.CANCELLED.value:
            continue
        if line.delivered_quantity:
            errors.append(
                problem(
                    "lines",
                    Code.LINE_DELIVERED,
                    "Line {number} has deliveries and cannot be removed.",
                    number=number,
                )
            )
            continue
        _cancel_line(session, line)
    if errors:
        raise OrderValidationFailed(errors=errors)
    order.ship_to_id = resolved.ship_to.id
    order.requested_delivery_date = resolved.requested
    if draft.note:
        order.note = draft.note
    order.version += 1
    session.flush()
    lines = repo.lines_of(session, [order.id])[order.id]
    _roll_up(order, lines)
    _add_version(
        session,
        principal,
        order,
        lines,
        VersionKind.AMENDED,
        draft.reason,
        channel,
        source_message_id,
    )
    session.flush()
    _planning().order_changed(session, order, amended=True)
    return order


def _cancel_line(session: Session, line: OrderLine) -> None:
    if line.tender_line_id is not None:
        tender_line = session.get(TenderLine, line.tender_line_id)
        assert tender_line is not None
        _call_off(session, tender_line, -(line.quantity - line.delivered_quantity), "lines")
    line.status = OrderStatus.CANCELLED.value


def cancel_order(
    session: Session,
    principal: Principal,
    order_id: int,
    reason: str,
    *,
    channel: Channel,
    source_message_id: int | None = None,
) -> Order:
    """Cancel what is still open of an order (delivered quantities stay) and keep the version."""
    principal.require(Permission.ORDERS_WRITE)
    order = get_visible(session, Order, order_id, principal)
    _changeable(order, "cancelled")
    if not reason:
        raise OrderValidationFailed(
            errors=[problem("reason", Code.REASON_REQUIRED, "Say why the order is cancelled.")]
        )
    lines = repo.lines_of(session, [order.id])[order.id]
    for line in lines:
        if line.status in _CHANGEABLE:
            if line.delivered_quantity:
                # What was delivered stays; the rest of the line is cancelled.
                if line.tender_line_id is not None:
                    tender_line = session.get(TenderLine, line.tender_line_id)
                    assert tender_line is not None
                    _call_off(
                        session, tender_line, -(line.quantity - line.delivered_quantity), "lines"
                    )
                line.quantity = line.delivered_quantity
                _settle_line(line)
            else:
                _cancel_line(session, line)
    order.status = OrderStatus.CANCELLED.value
    order.version += 1
    session.flush()
    _add_version(
        session, principal, order, lines, VersionKind.CANCELLED, reason, channel, source_message_id
    )
    session.flush()
    _planning().order_changed(session, order)
    return order


def _settle_line(line: OrderLine) -> None:
    if line.status == OrderStatus.CANCELLED.value:
        return
    if line.delivered_quantity >= line.quantity:
        line.status = OrderStatus.DELIVERED.value
        if line.completed_date is None:
            line.completed_date = line.delivered_date
    elif line.delivered_quantity:
        line.status = OrderStatus.PARTIALLY_DELIVERED.value
        line.completed_date = None
    else:
        line.status = OrderStatus.OPEN.value
        line.completed_date = None


def _roll_up(order: Order, lines: list[OrderLine]) -> None:
    if order.status == OrderStatus.CANCELLED.value:
        return
    live = [line for line in lines if line.status != OrderStatus.CANCELLED.value]
    if not live:
        order.status = OrderStatus.CANCELLED.value
    elif all(line.status == OrderStatus.DELIVERED.value for line in live):
        order.status = OrderStatus.DELIVERED.value
    elif any(line.delivered_quantity for line in live):
        order.status = OrderStatus.PARTIALLY_DELIVERED.value
    else:
        order.status = OrderStatus.OPEN.value


def record_delivery(
    session: Session,
    principal: Principal,
    line_id: int,
    *,
    delivered_on: date,
    quantity: int,
    reference: str = "",
    source: str = "manual",
) -> Delivery:
    """Record that ``quantity`` of a line reached the customer on ``delivered_on``.

    Until proof of delivery and the partner's receiving events feed it, the hub records
    deliveries here; OTIF is computed from these facts.
    """
    principal.require(Permission.ORDERS_DELIVER)
    line = get_visible(session, OrderLine, line_id, principal)
    order = session.get(Order, line.order_id)
    assert order is not None
    if line.status not in _CHANGEABLE or order.status == OrderStatus.CANCELLED.value:
        raise order_conflict(
            "order_line_id",
            Code.LINE_NOT_OPEN,
            "Line {number} is {status}; nothing is left to deliver.",
            number=line.line_number,
            status=line.status,
        )
    open_quantity = line.quantity - line.delivered_quantity
    if quantity > open_quantity:
        raise order_conflict(
            "quantity",
            Code.DELIVERY_OVER_QUANTITY,
            "Only {open} units of line {number} are still open.",
            open=open_quantity,
            number=line.line_number,
        )
    if delivered_on < order.order_date:
        raise OrderValidationFailed(
            errors=[
                problem(
                    "delivered_on",
                    Code.DELIVERED_ON_BEFORE_ORDER,
                    "The delivery date is before the order date {order_date}.",
                    order_date=order.order_date.isoformat(),
                )
            ]
        )
    delivery = Delivery(
        tenant_id=line.tenant_id,
        order_line_id=line.id,
        party_id=line.party_id,
        delivered_on=delivered_on,
        quantity=quantity,
        source=source,
        reference=reference,
    )
    session.add(delivery)
    line.delivered_quantity += quantity
    line.delivered_date = max(delivered_on, line.delivered_date or delivered_on)
    _settle_line(line)
    session.flush()
    _roll_up(order, repo.lines_of(session, [order.id])[order.id])
    session.flush()
    _planning().delivered(session, line, quantity)
    return delivery


# --- reading ----------------------------------------------------------------------------------


def list_orders(
    session: Session,
    principal: Principal,
    *,
    status: str | None = None,
    channel: str | None = None,
    customer_id: int | None = None,
    q: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[Order], int]:
    """Orders the principal may see, newest first."""
    principal.require(Permission.ORDERS_READ)
    filters: list[ColumnElement[bool]] = []
    if status:
        filters.append(Order.status == status)
    if channel:
        filters.append(Order.channel == channel)
    if customer_id is not None:
        filters.append(Order.customer_id == customer_id)
    if q:
        filters.append(Order.customer_reference.ilike(f"%{q}%"))
    return list_visible(
        session,
        Order,
        principal,
        filters=filters,
        order_by=Order.id.desc(),
        page=page,
        page_size=page_size,
    )


def get_order(session: Session, principal: Principal, order_id: int) -> Order:
    """One order, or 404 (also for another partner's order)."""
    principal.require(Permission.ORDERS_READ)
    return get_visible(session, Order, order_id, principal)


def order_lines(session: Session, order: Order) -> list[OrderLine]:
    return repo.lines_of(session, [order.id])[order.id]


def order_versions(session: Session, order: Order) -> list[OrderVersion]:
    return list(
        session.scalars(
            select(OrderVersion)
            .where(OrderVersion.order_id == order.id)
            .order_by(OrderVersion.version)
        )
    )


def line_deliveries(session: Session, order: Order) -> list[Delivery]:
    return list(
        session.scalars(
            select(Delivery)
            .join(OrderLine, OrderLine.id == Delivery.order_line_id)
            .where(OrderLine.order_id == order.id)
            .order_by(Delivery.id)
        )
    )


def place_order_once(
    session: Session,
    principal: Principal,
    draft: OrderDraft,
    *,
    key: str,
    request_hash: str,
    channel: Channel = Channel.API,
) -> tuple[Order, bool]:
    """Place an order at most once per ``Idempotency-Key`` of the calling party.

    A retry with the same key and the same body returns the original order (``True``: replayed);
    the same key with another body is a 409 ``idempotency_key.reused`` and changes nothing.
    """
    from medledger.orders.errors import IdempotencyKeyReused
    from medledger.orders.models import IdempotencyKey

    principal.require(Permission.ORDERS_WRITE)
    stored = session.scalars(
        select(IdempotencyKey).where(
            IdempotencyKey.tenant_id == principal.tenant_id,
            IdempotencyKey.party_id == principal.party_id,
            IdempotencyKey.key == key,
        )
    ).first()
    if stored is not None:
        if stored.request_hash != request_hash:
            raise IdempotencyKeyReused(
                "Idempotency key {key} was used for a different request.",
                params={"key": key},
                errors=[
                    problem(
                        "Idempotency-Key",
                        Code.IDEMPOTENCY_KEY_REUSED,
                        "Idempotency key {key} was used for a different request.",
                        key=key,
                    )
                ],
            )
        order = session.get(Order, stored.order_id)
        assert order is not None
        return order, True
    order = place_order(session, principal, draft, channel=channel, flush=False)
    session.add(
        IdempotencyKey(
            tenant_id=principal.tenant_id,
            party_id=principal.party_id,
            key=key,
            request_hash=request_hash,
            order=order,
        )
    )
    session.flush()
    _planning().order_placed(session, order)
    return order, False
