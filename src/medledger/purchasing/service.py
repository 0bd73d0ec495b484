"""Purchasing use cases: order, confirm (by the supplier), notify shipment (ASN), receive
against the ASN by scanning, close the ASN.

Receiving goes through ``inventory.service.receive``: one EPCIS receiving event per scan, stock
into quarantine. Over-, wrong-lot and unexpected receipts are refused with a stable code
unless the clerk confirms them with a reason; then they are received and recorded as a
discrepancy. Closing an ASN records every short line as an under-receipt.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from medledger.core.db import utcnow
from medledger.core.errors import Conflict, FieldError, ValidationFailed
from medledger.core.principal import Permission, Principal
from medledger.core.repository import get_visible, list_visible
from medledger.core.work import work_of
from medledger.identifiers.gs1 import parse_gs1
from medledger.inventory import service as inventory
from medledger.inventory.errors import Code as InventoryCode
from medledger.inventory.schemas import ReceiptIn, StockLineIn
from medledger.parties.models import Party, Site
from medledger.purchasing import repository as repo
from medledger.purchasing.errors import Code
from medledger.purchasing.models import (
    AdvanceShipNotice,
    AsnLine,
    AsnStatus,
    DiscrepancyKind,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    ReceiptDiscrepancy,
)
from medledger.purchasing.schemas import (
    AsnIn,
    AsnLineOut,
    AsnOut,
    ConfirmIn,
    DiscrepancyOut,
    OrderIn,
    OrderLineOut,
    OrderOut,
    ScanIn,
    ScanOut,
)


def _error(
    status: type[Conflict] | type[ValidationFailed],
    code: str,
    message: str,
    field: str,
    /,
    **params: Any,
) -> Any:
    return status(
        message,
        code=code,
        params=params,
        errors=[FieldError(field=field, code=code, message=message, params=params)],
    )


def order_out(session: Session, principal: Principal, order: PurchaseOrder) -> OrderOut:
    """An order as ``principal`` may see it: prices only for the buyer side."""
    lines = repo.order_lines(session, [order.id])[order.id]
    show_prices = principal.sees_all_parties
    return OrderOut(
        id=order.id,
        number=order.number,
        supplier_party_id=order.supplier_party_id,
        ship_to_site_id=order.ship_to_site_id,
        status=order.status,
        currency=order.currency,
        note=order.note,
        created_at=order.created_at,
        confirmed_at=order.confirmed_at,
        lines=[
            OrderLineOut(
                id=line.id,
                line_number=line.line_number,
                gtin=line.gtin,
                quantity=line.quantity,
                unit_price=line.unit_price if show_prices else None,
                requested_date=line.requested_date,
                confirmed_quantity=line.confirmed_quantity,
                confirmed_date=line.confirmed_date,
                received_quantity=line.received_quantity,
            )
            for line in lines
        ],
    )


def asn_out(session: Session, asn: AdvanceShipNotice) -> AsnOut:
    lines = repo.asn_lines(session, [asn.id])[asn.id]
    return AsnOut(
        id=asn.id,
        purchase_order_id=asn.purchase_order_id,
        supplier_party_id=asn.supplier_party_id,
        number=asn.number,
        ship_date=asn.ship_date,
        status=asn.status,
        lines=[AsnLineOut.model_validate(line) for line in lines],
    )


def create_order(
    session: Session, principal: Principal, data: OrderIn, *, status: str = "sent"
) -> PurchaseOrder:
    """Order from a supplier party for delivery to a hub site."""
    principal.require(Permission.PURCHASING_WRITE)
    supplier = get_visible(session, Party, data.supplier_party_id, principal)
    if supplier.id == principal.hub_party_id:
        raise _error(
            ValidationFailed,
            Code.SUPPLIER_IS_HUB,
            "The hub cannot order from itself.",
            "supplier_party_id",
        )
    site = get_visible(session, Site, data.ship_to_site_id, principal)
    if site.party_id != principal.hub_party_id:
        raise _error(
            ValidationFailed,
            Code.NOT_A_HUB_SITE,
            "Goods are delivered to a site of the hub; site {site_id} is not one.",
            "ship_to_site_id",
            site_id=site.id,
        )
    order = PurchaseOrder(
        tenant_id=principal.tenant_id,
        number=repo.next_order_number(session, principal.tenant_id),
        supplier_party_id=supplier.id,
        ship_to_site_id=site.id,
        status=status,
        currency=data.currency,
        note=data.note,
    )
    session.add(order)
    session.flush()
    for number, line in enumerate(data.lines, start=1):
        session.add(
            PurchaseOrderLine(
                tenant_id=principal.tenant_id,
                purchase_order_id=order.id,
                line_number=number,
                gtin=line.gtin,
                quantity=line.quantity,
                unit_price=line.unit_price,
                requested_date=line.requested_date,
            )
        )
    session.flush()
    return order


def approve_order(session: Session, principal: Principal, order_id: int) -> PurchaseOrder:
    """A buyer approves a suggested (draft) order: it is sent to the supplier."""
    principal.require(Permission.PURCHASING_WRITE)
    order = get_visible(session, PurchaseOrder, order_id, principal)
    if order.status != PurchaseOrderStatus.DRAFT.value:
        raise _error(
            Conflict,
            Code.NOT_A_DRAFT,
            "Order {number} is {status}, not a draft.",
            "status",
            number=order.number,
            status=order.status,
        )
    order.status = PurchaseOrderStatus.SENT.value
    session.flush()
    return order


def list_orders(
    session: Session,
    principal: Principal,
    *,
    status: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[PurchaseOrder], int]:
    """Purchase orders; a supplier's users see only those addressed to their party."""
    principal.require(Permission.PURCHASING_READ)
    filters = [PurchaseOrder.status == status] if status else []
    return list_visible(
        session,
        PurchaseOrder,
        principal,
        filters=filters,
        order_by=PurchaseOrder.id.desc(),
        page=page,
        page_size=page_size,
    )


def get_order(session: Session, principal: Principal, order_id: int) -> PurchaseOrder:
    principal.require(Permission.PURCHASING_READ)
    return get_visible(session, PurchaseOrder, order_id, principal)


def confirm_order(
    session: Session, principal: Principal, order_id: int, data: ConfirmIn
) -> PurchaseOrder:
    """The supplier confirms quantities and dates, line by line (its own users or API key)."""
    principal.require(Permission.PURCHASING_SUPPLY)
    order = get_visible(session, PurchaseOrder, order_id, principal)
    if order.status not in (PurchaseOrderStatus.SENT.value, PurchaseOrderStatus.CONFIRMED.value):
        raise _error(
            Conflict,
            Code.NOT_CONFIRMABLE,
            "Order {number} is {status}; it cannot be confirmed.",
            "status",
            number=order.number,
            status=order.status,
        )
    lines = {line.line_number: line for line in repo.order_lines(session, [order.id])[order.id]}
    for index, confirmation in enumerate(data.lines):
        line = lines.get(confirmation.line_number)
        if line is None:
            raise _error(
                ValidationFailed,
                Code.UNKNOWN_LINE,
                "Order {number} has no line {line}.",
                f"lines.{index}.line_number",
                number=order.number,
                line=confirmation.line_number,
            )
        line.confirmed_quantity = confirmation.confirmed_quantity
        line.confirmed_date = confirmation.confirmed_date
    order.status = PurchaseOrderStatus.CONFIRMED.value
    order.confirmed_at = utcnow()
    session.flush()
    return order


def create_asn(session: Session, principal: Principal, data: AsnIn) -> AdvanceShipNotice:
    """The supplier announces a shipment against a confirmed order: lots, expiry, SSCCs."""
    principal.require(Permission.PURCHASING_SUPPLY)
    order = get_visible(session, PurchaseOrder, data.purchase_order_id, principal)
    if order.status not in (
        PurchaseOrderStatus.CONFIRMED.value,
        PurchaseOrderStatus.PARTIALLY_RECEIVED.value,
    ):
        raise _error(
            Conflict,
            Code.ORDER_NOT_CONFIRMED,
            "Order {number} must be confirmed before goods are announced.",
            "purchase_order_id",
            number=order.number,
        )
    lines = {line.line_number: line for line in repo.order_lines(session, [order.id])[order.id]}
    duplicate = session.scalar(
        select(AdvanceShipNotice.id).where(
            AdvanceShipNotice.tenant_id == principal.tenant_id,
            AdvanceShipNotice.supplier_party_id == order.supplier_party_id,
            AdvanceShipNotice.number == data.number,
        )
    )
    if duplicate is not None:
        raise _error(
            Conflict,
            Code.ASN_NUMBER_TAKEN,
            "ASN {number} was already sent.",
            "number",
            number=data.number,
        )
    for index, asn_line in enumerate(data.lines):
        if asn_line.line_number not in lines:
            raise _error(
                ValidationFailed,
                Code.UNKNOWN_LINE,
                "Order {number} has no line {line}.",
                f"lines.{index}.line_number",
                number=order.number,
                line=asn_line.line_number,
            )
    asn = AdvanceShipNotice(
        tenant_id=principal.tenant_id,
        purchase_order_id=order.id,
        supplier_party_id=order.supplier_party_id,
        number=data.number,
        ship_date=data.ship_date,
    )
    session.add(asn)
    session.flush()
    for asn_line in data.lines:
        order_line = lines[asn_line.line_number]
        session.add(
            AsnLine(
                tenant_id=principal.tenant_id,
                asn_id=asn.id,
                purchase_order_line_id=order_line.id,
                gtin=order_line.gtin,
                lot=asn_line.lot,
                expiry=asn_line.expiry,
                sscc=asn_line.sscc,
                quantity=asn_line.quantity,
            )
        )
    session.flush()
    return asn


def get_asn(session: Session, principal: Principal, asn_id: int) -> AdvanceShipNotice:
    principal.require(Permission.PURCHASING_READ)
    return get_visible(session, AdvanceShipNotice, asn_id, principal)


def list_asns(
    session: Session, principal: Principal, *, status: str | None = None
) -> list[AdvanceShipNotice]:
    principal.require(Permission.PURCHASING_READ)
    filters = [AdvanceShipNotice.status == status] if status else []
    items, _ = list_visible(
        session,
        AdvanceShipNotice,
        principal,
        filters=filters,
        order_by=AdvanceShipNotice.id.desc(),
        page_size=500,
    )
    return items


def _flag(kind: DiscrepancyKind, data: ScanIn, *, code: str, message: str, **params: Any) -> None:
    """Refuse a flagged receipt unless the clerk confirmed it with a reason."""
    if data.accept_discrepancy and data.reason.strip():
        return
    raise _error(Conflict, code, message, "scan", **params)


def receive_scan(session: Session, principal: Principal, asn_id: int, data: ScanIn) -> ScanOut:
    """Receive what one scan names against an open ASN, into quarantine at ``location_id``.

    An SSCC receives every ASN line packed in it; GTIN + lot receives ``quantity`` of that
    lot. Refuses (409, nothing changes) a wrong lot, an item the ASN does not list and more
    than announced, unless ``accept_discrepancy`` with a ``reason``: then the receipt is
    recorded with its discrepancy.
    """
    principal.require(Permission.INVENTORY_MOVE)
    asn = get_visible(session, AdvanceShipNotice, asn_id, principal)
    if asn.status != AsnStatus.OPEN.value:
        raise _error(
            Conflict,
            Code.ASN_CLOSED,
            "ASN {number} is closed.",
            "asn_id",
            number=asn.number,
        )
    try:
        parsed = parse_gs1(data.scan.strip())
    except ValidationFailed as error:
        raise _error(ValidationFailed, error.code, error.message, "scan", **error.params) from None
    lines = repo.asn_lines(session, [asn.id])[asn.id]
    if data.reason:
        work_of(session).give_reason(data.reason)
    receipts: list[tuple[AsnLine | None, StockLineIn]] = []
    discrepancy: ReceiptDiscrepancy | None = None
    if parsed.sscc and not parsed.gtin:
        packed = [
            line
            for line in lines
            if line.sscc == parsed.sscc and line.received_quantity < line.quantity
        ]
        if not packed:
            raise _error(
                Conflict,
                Code.SSCC_NOT_EXPECTED,
                "SSCC {sscc} is not announced in ASN {number} (or already received).",
                "scan",
                sscc=parsed.sscc,
                number=asn.number,
            )
        for line in packed:
            receipts.append(
                (
                    line,
                    StockLineIn(
                        gtin=line.gtin,
                        lot=line.lot,
                        quantity=line.quantity - line.received_quantity,
                        expiry=line.expiry,
                    ),
                )
            )
    elif parsed.gtin and parsed.lot:
        same_product = [line for line in lines if line.gtin == parsed.gtin]
        matching = [line for line in same_product if line.lot == parsed.lot]
        matched: AsnLine | None = matching[0] if matching else None
        if not same_product:
            _flag(
                DiscrepancyKind.UNEXPECTED_ITEM,
                data,
                code=Code.UNEXPECTED_ITEM,
                message=(
                    "{gtin} is not in ASN {number}. Confirm it with a reason to receive it anyway."
                ),
                gtin=parsed.gtin,
                number=asn.number,
            )
            discrepancy = _discrepancy(
                principal,
                asn,
                None,
                DiscrepancyKind.UNEXPECTED_ITEM,
                parsed.gtin,
                parsed.lot,
                0,
                data,
            )
        elif matched is None:
            expected = ", ".join(sorted({x.lot for x in same_product}))
            _flag(
                DiscrepancyKind.WRONG_LOT,
                data,
                code=Code.WRONG_LOT,
                message=(
                    "Lot {lot} of {gtin} is not announced in ASN {number} (expected {expected}). "
                    "Confirm it with a reason to receive it anyway."
                ),
                lot=parsed.lot,
                gtin=parsed.gtin,
                number=asn.number,
                expected=expected,
            )
            discrepancy = _discrepancy(
                principal, asn, None, DiscrepancyKind.WRONG_LOT, parsed.gtin, parsed.lot, 0, data
            )
        elif matched.received_quantity + data.quantity > matched.quantity:
            _flag(
                DiscrepancyKind.OVER,
                data,
                code=Code.OVER_RECEIPT,
                message=(
                    "{quantity} more of lot {lot} would exceed the {announced} announced "
                    "({received} received). Confirm it with a reason to receive it anyway."
                ),
                quantity=data.quantity,
                lot=parsed.lot,
                announced=matched.quantity,
                received=matched.received_quantity,
            )
            discrepancy = _discrepancy(
                principal,
                asn,
                matched,
                DiscrepancyKind.OVER,
                parsed.gtin,
                parsed.lot,
                matched.quantity,
                data,
            )
        expiry = parsed.expiry or (matched.expiry if matched else None)
        receipts.append(
            (
                matched,
                StockLineIn(
                    gtin=parsed.gtin, lot=parsed.lot, quantity=data.quantity, expiry=expiry
                ),
            )
        )
    else:
        raise _error(
            ValidationFailed,
            Code.SCAN_NOT_RECEIVABLE,
            "Scan an SSCC or a GTIN with its lot (AI 10).",
            "scan",
        )
    event_id, _ = inventory.receive(
        session,
        principal,
        ReceiptIn(
            location_id=data.location_id,
            lines=[stock for _, stock in receipts],
            source_party_id=asn.supplier_party_id,
            reference=asn.number,
        ),
        asn_number=asn.number,
    )
    order_lines = {
        line.id: line
        for line in repo.order_lines(session, [asn.purchase_order_id])[asn.purchase_order_id]
    }
    for received_line, stock in receipts:
        target = received_line
        if target is None:
            continue
        target.received_quantity += stock.quantity
        order_lines[target.purchase_order_line_id].received_quantity += stock.quantity
    if discrepancy is not None:
        discrepancy.received_quantity = sum(stock.quantity for _, stock in receipts)
        if discrepancy.kind == DiscrepancyKind.OVER.value and receipts[0][0] is not None:
            discrepancy.received_quantity = receipts[0][0].received_quantity
        session.add(discrepancy)
    order = session.get(PurchaseOrder, asn.purchase_order_id)
    assert order is not None
    complete = all(
        line.received_quantity >= (line.confirmed_quantity or line.quantity)
        for line in order_lines.values()
    )
    order.status = (
        PurchaseOrderStatus.RECEIVED if complete else PurchaseOrderStatus.PARTIALLY_RECEIVED
    ).value
    session.flush()
    first = receipts[0][1]
    return ScanOut(
        event_id=event_id,
        gtin=first.gtin,
        lot=first.lot,
        quantity=sum(stock.quantity for _, stock in receipts),
        discrepancy=DiscrepancyOut.model_validate(discrepancy) if discrepancy is not None else None,
        asn=asn_out(session, asn),
    )


def _discrepancy(
    principal: Principal,
    asn: AdvanceShipNotice,
    line: AsnLine | None,
    kind: DiscrepancyKind,
    gtin: str,
    lot: str,
    expected: int,
    data: ScanIn,
) -> ReceiptDiscrepancy:
    return ReceiptDiscrepancy(
        tenant_id=principal.tenant_id,
        asn_id=asn.id,
        asn_line_id=line.id if line else None,
        kind=kind.value,
        gtin=gtin,
        lot=lot,
        expected_quantity=expected,
        received_quantity=data.quantity,
        reason=data.reason.strip(),
    )


def close_asn(
    session: Session, principal: Principal, asn_id: int, reason: str = ""
) -> list[ReceiptDiscrepancy]:
    """Close an ASN: every line received short is recorded as an under-receipt."""
    principal.require(Permission.INVENTORY_MOVE)
    asn = get_visible(session, AdvanceShipNotice, asn_id, principal)
    if asn.status != AsnStatus.OPEN.value:
        raise _error(
            Conflict,
            Code.ASN_CLOSED,
            "ASN {number} is closed.",
            "asn_id",
            number=asn.number,
        )
    if reason:
        work_of(session).give_reason(reason)
    flagged = []
    for line in repo.asn_lines(session, [asn.id])[asn.id]:
        if line.received_quantity < line.quantity:
            flagged.append(
                ReceiptDiscrepancy(
                    tenant_id=principal.tenant_id,
                    asn_id=asn.id,
                    asn_line_id=line.id,
                    kind=DiscrepancyKind.UNDER.value,
                    gtin=line.gtin,
                    lot=line.lot,
                    expected_quantity=line.quantity,
                    received_quantity=line.received_quantity,
                    reason=reason,
                )
            )
    session.add_all(flagged)
    asn.status = AsnStatus.CLOSED.value
    asn.closed_at = utcnow()
    session.flush()
    return flagged


def discrepancies(session: Session, principal: Principal, asn_id: int) -> list[ReceiptDiscrepancy]:
    principal.require(Permission.PURCHASING_READ)
    asn = get_visible(session, AdvanceShipNotice, asn_id, principal)
    items, _ = list_visible(
        session,
        ReceiptDiscrepancy,
        principal,
        filters=[ReceiptDiscrepancy.asn_id == asn.id],
        page_size=500,
    )
    return items


def upload_temperature_log(
    session: Session, principal: Principal, asn_id: int, text: str
) -> list[Any]:
    """Check a data logger's readings (CSV ``time,celsius``) that travelled with an inbound
    shipment against the range of each lot it announces; excursions put the received stock
    of those lots on hold (``inventory.coldchain``)."""
    from medledger.inventory import coldchain
    from medledger.inventory.plan import ItemKey

    principal.require(Permission.INVENTORY_MOVE)
    asn = get_visible(session, AdvanceShipNotice, asn_id, principal)
    readings = coldchain.logger_readings(text)
    if not readings:
        raise _error(
            ValidationFailed, InventoryCode.LOGGER_EMPTY, "The logger file has no readings.", "file"
        )
    items = sorted(
        {ItemKey(line.gtin, line.lot) for line in repo.asn_lines(session, [asn.id])[asn.id]},
        key=lambda i: (i.gtin, i.lot),
    )
    return coldchain.check_excursions(
        session, principal.tenant_id, items, [], readings, source="logger", asn_id=asn.id
    )
