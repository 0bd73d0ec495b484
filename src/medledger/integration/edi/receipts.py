"""Receiving advices in: EANCOM RECADV and X12 861, through the order inbox (kept, replayed).

A receiving advice is the partner's statement that units the hub shipped arrived. It is read
into a :class:`Receipt` (the units by SSCC, optionally the lines received in each), checked
against what the hub shipped — each SSCC a shipment of ours to that partner, each line a GTIN
that was in the unit with the quantity shipped, the receipt date not before the shipping —
and then recorded the way inventory records every proof of delivery: an EPCIS ``receiving``
ObjectEvent for the SSCCs at the partner's location, captured for the partner, so the
shipments become ``delivered`` and ``receipt.confirmed`` goes to the outbox. A problem keeps
the whole message failed in the inbox with its reasons (per segment) until it is corrected
and replayed; units already delivered are skipped (a replayed advice delivers nothing twice).

Registered with ``orders.edi.handlers`` at import time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from medledger.core.db import utcnow
from medledger.core.errors import FieldError, ValidationFailed
from medledger.core.principal import Permission, Principal, Role, make_principal
from medledger.identifiers.checkdigit import gs1_check_digit
from medledger.integration.edi.models import EdiPartnerSetting
from medledger.integration.errors import Code, field_problem
from medledger.inventory.models import MovementKind, Shipment, ShipmentStatus, StockMovement
from medledger.orders.edi import edifact, handlers, x12
from medledger.parties.models import Party, Site, Tenant
from medledger.trace.ledger.capture import STANDARD_CONTEXT, capture_document

DL = "https://id.gs1.org"


@dataclass
class ReceivedLine:
    gtin: str
    quantity: int | None
    where: str  # the segment naming the item
    quantity_where: str = ""  # the field holding the quantity


@dataclass
class ReceivedUnit:
    sscc: str
    where: str
    lines: list[ReceivedLine] = field(default_factory=list)


@dataclass
class Receipt:
    number: str
    received_at: datetime | None
    receiver_gln: str
    units: list[ReceivedUnit] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)
    where: dict[str, str] = field(default_factory=dict)


def _when(value: str, fmt: str, where: str, receipt: Receipt) -> datetime | None:
    try:
        if fmt == "203":
            return datetime.strptime(value, "%Y%m%d%H%M").replace(tzinfo=UTC)
        day = datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        receipt.errors.append(
            field_problem(
                where,
                Code.RECEIPT_DATE_INVALID,
                "{value} is not a date in format {format}.",
                value=value,
                format=fmt or "102",
            )
        )
        return None
    # A date without a time: the end of that day, but never later than now.
    return min(datetime.combine(day, time(23, 59), tzinfo=UTC), utcnow())


def _quantity(value: str, where: str, receipt: Receipt) -> int | None:
    text = value.replace(",", ".").strip()
    if not text:
        return None  # a unit received without a line quantity
    try:
        number = float(text)
    except ValueError:
        number = -1.0
    if number < 0 or number != int(number):
        receipt.errors.append(
            field_problem(
                where,
                Code.RECEIPT_SYNTAX,
                "{value} is not a whole quantity.",
                value=value,
            )
        )
        return None
    return int(number)


def read_recadv(message: edifact.Message) -> Receipt:
    """The receipt in an EANCOM RECADV (D.96A EAN003 or later)."""
    receipt = Receipt("", None, "")
    parties: dict[str, str] = {}
    unit: ReceivedUnit | None = None
    gtin, gtin_where = "", ""
    for segment in message.segments:
        if segment.tag == "BGM":
            receipt.number = segment.get(1)
            receipt.where["number"] = f"{segment.label}.number"
        elif segment.tag == "DTM" and segment.get(0, 0) in ("50", "17"):
            receipt.where["received_at"] = f"{segment.label}.date"
            receipt.received_at = _when(
                segment.get(0, 1), segment.get(0, 2), receipt.where["received_at"], receipt
            )
        elif segment.tag == "NAD":
            parties[segment.get(0)] = segment.get(1, 0)
            receipt.where.setdefault("receiver", f"{segment.label}.gln")
        elif segment.tag == "GIN" and segment.get(0) == "BJ":
            unit = ReceivedUnit(segment.get(1, 0), f"{segment.label}.sscc")
            receipt.units.append(unit)
        elif segment.tag == "LIN":
            gtin, gtin_where = segment.get(2, 0), segment.label
        elif segment.tag == "QTY" and segment.get(0, 0) == "194" and gtin:
            quantity_where = f"{segment.label}.quantity"
            quantity = _quantity(segment.get(0, 1), quantity_where, receipt)
            line = ReceivedLine(gtin, quantity, gtin_where, quantity_where)
            if unit is None:
                receipt.errors.append(
                    field_problem(
                        f"{gtin_where}.gtin",
                        Code.RECEIPT_NO_UNITS,
                        "Line {gtin} names no SSCC (GIN+BJ) it arrived in.",
                        gtin=gtin,
                    )
                )
            else:
                unit.lines.append(line)
            gtin = ""
    receipt.receiver_gln = parties.get("DP") or parties.get("ST") or parties.get("BY") or ""
    return receipt


def read_861(transaction_set: x12.TransactionSet) -> Receipt:
    """The receipt in an X12 861 (BRA, DTM*050, N1*ST, RCD / LIN / MAN*GM)."""
    receipt = Receipt("", None, "")
    receipt.errors.extend(transaction_set.problems)
    parties: dict[str, str] = {}
    units: dict[str, ReceivedUnit] = {}
    pending: list[ReceivedLine] = []
    line: ReceivedLine | None = None

    def unit_for(sscc: str, where: str) -> ReceivedUnit:
        if sscc not in units:
            units[sscc] = ReceivedUnit(sscc, where)
            receipt.units.append(units[sscc])
        return units[sscc]

    for segment in transaction_set.segments:
        if segment.tag == "BRA":
            receipt.number = segment.get(1)
            receipt.where["number"] = f"{segment.label}.number"
            if segment.get(2):
                receipt.where["received_at"] = f"{segment.label}.date"
                receipt.received_at = _when(
                    segment.get(2), "102", receipt.where["received_at"], receipt
                )
        elif segment.tag == "DTM" and segment.get(1) == "050":
            receipt.where["received_at"] = f"{segment.label}.date"
            receipt.received_at = _when(
                segment.get(2), "102", receipt.where["received_at"], receipt
            )
        elif segment.tag == "N1" and segment.get(3) == "UL":
            parties[segment.get(1)] = segment.get(4)
            receipt.where.setdefault("receiver", f"{segment.label}.gln")
        elif segment.tag == "RCD":
            quantity_where = f"{segment.label}.quantity"
            line = ReceivedLine(
                "",
                _quantity(segment.get(2), quantity_where, receipt),
                segment.label,
                quantity_where,
            )
            pending.append(line)
        elif segment.tag == "LIN" and line is not None:
            elements = segment.elements
            for index in range(1, len(elements) - 1, 2):
                if elements[index] in ("UK", "EN", "UP"):
                    line.gtin = elements[index + 1].strip()
        elif segment.tag == "MAN" and segment.get(1) == "GM":
            unit = unit_for(segment.get(2), f"{segment.label}.sscc")
            if line is not None and line in pending:
                pending.remove(line)
                unit.lines.append(line)
    for orphan in pending:
        receipt.errors.append(
            field_problem(
                f"{orphan.where}.gtin",
                Code.RECEIPT_NO_UNITS,
                "Line {gtin} names no SSCC (MAN*GM) it arrived in.",
                gtin=orphan.gtin,
            )
        )
    receipt.receiver_gln = parties.get("ST") or parties.get("BY") or ""
    return receipt


def _party_of(session: Session, tenant_id: int, gln: str) -> int | None:
    party = session.scalar(select(Party.id).where(Party.tenant_id == tenant_id, Party.gln == gln))
    if party is not None:
        return int(party)
    site = session.scalar(select(Site.party_id).where(Site.tenant_id == tenant_id, Site.gln == gln))
    return int(site) if site is not None else None


def _party_of_sender(session: Session, tenant_id: int, sender: str) -> int | None:
    party = session.scalar(
        select(EdiPartnerSetting.party_id).where(
            EdiPartnerSetting.tenant_id == tenant_id, EdiPartnerSetting.partner_id == sender
        )
    )
    return int(party) if party is not None else None


def confirm(
    session: Session, principal: Principal, receipt: Receipt, sender: str
) -> handlers.Handled:
    """Check ``receipt`` against the hub's shipments and record the delivery (see module)."""
    principal.require(Permission.ORDERS_INBOX)
    tenant_id = principal.tenant_id
    errors = list(receipt.errors)
    if receipt.receiver_gln:
        party_id = _party_of(session, tenant_id, receipt.receiver_gln)
    else:
        party_id = _party_of_sender(session, tenant_id, sender)
    if party_id is None:
        errors.append(
            field_problem(
                receipt.where.get("receiver", "interchange"),
                Code.RECEIPT_WRONG_PARTY,
                "The receiving party {gln} is not known.",
                gln=receipt.receiver_gln or sender,
            )
        )
    if not receipt.units:
        errors.append(
            field_problem(
                receipt.where.get("number", "message"),
                Code.RECEIPT_NO_UNITS,
                "The receiving advice names no SSCC.",
            )
        )
    to_deliver: list[Shipment] = []
    for unit in receipt.units:
        sscc = unit.sscc
        if len(sscc) != 18 or not sscc.isdigit() or gs1_check_digit(sscc[:-1]) != sscc[-1]:
            errors.append(
                field_problem(
                    unit.where, Code.RECEIPT_SSCC_INVALID, "{sscc} is not a valid SSCC.", sscc=sscc
                )
            )
            continue
        shipment = session.scalar(
            select(Shipment)
            .where(
                Shipment.tenant_id == tenant_id,
                Shipment.sscc == sscc,
                Shipment.status != ShipmentStatus.RETRACTED.value,
            )
            .order_by(Shipment.id.desc())
        )
        if shipment is None:
            errors.append(
                field_problem(
                    unit.where,
                    Code.RECEIPT_SSCC_UNKNOWN,
                    "SSCC {sscc} was not shipped by us.",
                    sscc=sscc,
                )
            )
            continue
        if party_id is not None and shipment.destination_party_id != party_id:
            errors.append(
                field_problem(
                    unit.where,
                    Code.RECEIPT_WRONG_PARTY,
                    "SSCC {sscc} was shipped to another party.",
                    sscc=sscc,
                )
            )
            continue
        shipped: dict[str, int] = {}
        for movement in session.scalars(
            select(StockMovement).where(
                StockMovement.tenant_id == tenant_id,
                StockMovement.epcis_event_row_id == shipment.ship_event_row_id,
                StockMovement.kind == MovementKind.SHIP.value,
                StockMovement.from_container == sscc,
                StockMovement.reversal_of_id.is_(None),
            )
        ):
            shipped[movement.gtin] = shipped.get(movement.gtin, 0) + movement.quantity
        received: dict[str, tuple[int, str]] = {}
        for line in unit.lines:
            if not line.gtin:
                continue  # the unit received as a whole (no item line)
            if line.gtin not in shipped:
                errors.append(
                    field_problem(
                        f"{line.where}.gtin",
                        Code.RECEIPT_ITEM_NOT_SHIPPED,
                        "GTIN {gtin} was not shipped in SSCC {sscc}.",
                        gtin=line.gtin,
                        sscc=sscc,
                    )
                )
            elif line.quantity is not None:
                before = received.get(line.gtin, (0, ""))[0]
                received[line.gtin] = (before + line.quantity, line.quantity_where)
        for gtin, (quantity, where) in received.items():
            if quantity != shipped[gtin]:
                errors.append(
                    field_problem(
                        where,
                        Code.RECEIPT_QUANTITY_MISMATCH,
                        "{received} of {gtin} received in SSCC {sscc}; {shipped} were shipped.",
                        received=quantity,
                        shipped=shipped[gtin],
                        gtin=gtin,
                        sscc=sscc,
                    )
                )
        if receipt.received_at is not None and receipt.received_at < shipment.shipped_at:
            errors.append(
                field_problem(
                    receipt.where.get("received_at", "message"),
                    Code.RECEIPT_DATE_INVALID,
                    "The goods cannot have arrived before they were shipped ({shipped}).",
                    shipped=shipment.shipped_at.isoformat(timespec="minutes"),
                )
            )
        if shipment.status == ShipmentStatus.SHIPPED.value:
            to_deliver.append(shipment)
    if errors:
        raise ValidationFailed(
            "The receiving advice cannot be applied.", code=Code.RECEIPT_SYNTAX, errors=errors
        )
    assert party_id is not None
    if to_deliver:
        _capture_receipt(session, principal, party_id, receipt, to_deliver)
    return handlers.Handled(party_id, receipt.number)


def _capture_receipt(
    session: Session,
    principal: Principal,
    party_id: int,
    receipt: Receipt,
    shipments: list[Shipment],
) -> None:
    """Record the arrival as the partner's own EPCIS receiving event (proof of delivery)."""
    party = session.get(Party, party_id)
    tenant = session.get(Tenant, principal.tenant_id)
    assert party is not None
    receiver = make_principal(
        user_id=None,
        tenant_id=principal.tenant_id,
        party_id=party_id,
        role=Role.PARTNER_USER.value,
        username="edi-receiving-advice",
        display_name=f"{party.name}: receiving advice {receipt.number} via {principal.label}"[:200],
        hub_party_id=tenant.owner_party_id if tenant else None,
    )
    gln = receipt.receiver_gln or shipments[0].destination_gln
    when = receipt.received_at or utcnow()
    latest = max(s.shipped_at for s in shipments)
    when = max(when, latest + timedelta(seconds=1))
    event = {
        "type": "ObjectEvent",
        "eventID": f"urn:uuid:{uuid.uuid4()}",
        "eventTime": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "eventTimeZoneOffset": "+00:00",
        "epcList": [f"{DL}/00/{s.sscc}" for s in shipments],
        "action": "OBSERVE",
        "bizStep": "receiving",
        "disposition": "in_progress",
        "readPoint": {"id": f"{DL}/414/{gln}"},
        "bizLocation": {"id": f"{DL}/414/{gln}"},
        "bizTransactionList": [
            {"type": "recadv", "bizTransaction": f"urn:medledger:recadv:{receipt.number}"}
        ],
    }
    document = {
        "@context": [STANDARD_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": utcnow().isoformat(timespec="seconds").replace("+00:00", "Z"),
        "epcisBody": {"eventList": [event]},
    }
    job = capture_document(session, receiver, document)
    if job.state != "succeeded":
        raise ValidationFailed(
            "The receipt could not be recorded: {errors}",
            code=Code.RECEIPT_SYNTAX,
            params={"errors": str(job.errors)[:500]},
        )


def _edifact_handler(
    session: Session, principal: Principal, message: edifact.Message, sender: str
) -> handlers.Handled:
    return confirm(session, principal, read_recadv(message), sender)


def _x12_handler(
    session: Session, principal: Principal, transaction_set: x12.TransactionSet, sender: str
) -> handlers.Handled:
    return confirm(session, principal, read_861(transaction_set), sender)


handlers.register_edifact("RECADV", _edifact_handler)
handlers.register_x12("861", _x12_handler)
