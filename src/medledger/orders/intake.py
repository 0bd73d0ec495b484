"""Order intake from files: EDI interchanges (EANCOM ORDERS, X12 850) and CSV uploads.

Every message (or every order of a CSV file) is first kept in the inbox with its own
self-contained content, then processed from that content inside a savepoint: accepted messages
point at their order and get an acknowledgement; failed ones keep their errors (RFC 9457
field problems naming the segment or row) and wait to be corrected and replayed. Nothing
received is ever dropped; a discarded message stays as a record.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from medledger.core.db import utcnow
from medledger.core.errors import DomainError, FieldError, ValidationFailed
from medledger.core.principal import Permission, Principal
from medledger.core.repository import get_visible, list_visible
from medledger.core.work import work_of
from medledger.orders import facts, service
from medledger.orders import repository as repo
from medledger.orders.draft import LineDraft, OrderDraft, Purpose
from medledger.orders.edi import acks, edifact, handlers, mapping, x12
from medledger.orders.errors import (
    Code,
    EdiSyntaxError,
    OrderValidationFailed,
    order_conflict,
    problem,
)
from medledger.orders.models import (
    Acknowledgement,
    Channel,
    Customer,
    InboundMessage,
    InboxStatus,
    Order,
)
from medledger.parties.models import Party

CSV_COLUMNS = (
    "customer_reference",
    "ship_to_code",
    "gtin",
    "quantity",
    "requested_delivery_date",
    "unit_price",
    "clinical_urgency",
    "surgery_date",
    "contract_number",
    "tender_reference",
    "customer_gln",
)
REQUIRED_CSV_COLUMNS = ("customer_reference", "gtin", "quantity")


def _problems(error: DomainError) -> list[dict[str, Any]]:
    """An error as stored problem details (English message with its parameters)."""
    if error.errors:
        return [
            {"field": e.field, "code": e.code, "message": e.message, "params": e.params}
            for e in error.errors
        ]
    return [{"field": "", "code": error.code, "message": error.message, "params": error.params}]


# --- EDI -------------------------------------------------------------------------------------


def import_edi(
    session: Session, principal: Principal, content: str, *, filename: str = ""
) -> list[InboundMessage]:
    """Receive an EDI interchange: keep each message in the inbox and process it.

    An interchange that cannot be read at all is kept whole as one failed message.
    """
    principal.require(Permission.ORDERS_INBOX)
    rows: list[InboundMessage] = []
    try:
        if edifact.looks_like_edifact(content):
            interchange = edifact.read(content)
            for message in interchange.messages:
                rows.append(
                    _keep(
                        session,
                        principal,
                        Channel.EDIFACT,
                        filename,
                        message.content,
                        interchange.control_reference,
                        message.reference,
                    )
                )
        elif x12.looks_like_x12(content):
            ix = x12.read(content)
            for transaction_set in ix.transaction_sets:
                rows.append(
                    _keep(
                        session,
                        principal,
                        Channel.X12,
                        filename,
                        ix.envelope(transaction_set),
                        ix.control_number,
                        transaction_set.control_number,
                    )
                )
        else:
            raise EdiSyntaxError(
                "The file is neither UN/EDIFACT (UNA/UNB) nor ANSI X12 (ISA).",
                code=Code.EDI_FORMAT_UNKNOWN,
            )
    except EdiSyntaxError as error:
        row = _keep(session, principal, None, filename, content, "", "")
        row.status = InboxStatus.FAILED.value
        row.errors = _problems(error)
        session.flush()
        return [row]
    if not rows:
        row = _keep(session, principal, None, filename, content, "", "")
        row.errors = [
            {
                "field": "",
                "code": Code.EDI_NO_MESSAGES,
                "message": "The interchange holds no messages.",
                "params": {},
            }
        ]
        session.flush()
        return [row]
    for row in rows:
        _process(session, principal, row)
    return rows


def _keep(
    session: Session,
    principal: Principal,
    channel: Channel | None,
    filename: str,
    content: str,
    interchange_reference: str,
    message_reference: str,
) -> InboundMessage:
    row = InboundMessage(
        tenant_id=principal.tenant_id,
        party_id=None,
        channel=channel.value if channel else "unknown",
        filename=filename[:255],
        interchange_reference=interchange_reference[:35],
        message_reference=message_reference[:35],
        content=content,
        status=InboxStatus.FAILED.value,
        errors=[],
        attempts=1,
    )
    session.add(row)
    session.flush()
    return row


def _process(session: Session, principal: Principal, row: InboundMessage) -> None:
    """Turn one kept message into an order change, or keep its errors (savepoint)."""
    seen: dict[str, str] = {}
    savepoint = session.begin_nested()
    try:
        order = _apply(session, principal, row, seen)
    except DomainError as error:
        savepoint.rollback()
        row.status = InboxStatus.FAILED.value
        row.errors = _problems(error)
        row.order_id = None
    else:
        savepoint.commit()
        row.status = InboxStatus.ACCEPTED.value
        row.errors = []
        if isinstance(order, handlers.Handled):  # another context's message (a receipt, …)
            row.order_id = None
            row.party_id = order.party_id
        else:
            row.order_id = order.id
            row.party_id = order.party_id
    # Set outside the savepoint so that a failed message still shows which order it carried.
    row.document_reference = seen.get("reference", "")[:35]
    session.flush()


def _hub_gln(session: Session, principal: Principal) -> str:
    hub = session.get(Party, principal.hub_party_id) if principal.hub_party_id else None
    return hub.gln if hub else ""


def _handled(
    handler: handlers.Handler | None,
    session: Session,
    principal: Principal,
    message: object,
    sender: str,
    seen: dict[str, str],
) -> handlers.Handled | None:
    if handler is None:
        return None
    done = handler(session, principal, message, sender)
    seen["reference"] = done.reference
    return done


def _apply(
    session: Session, principal: Principal, row: InboundMessage, seen: dict[str, str]
) -> Order | handlers.Handled:
    if row.channel == Channel.EDIFACT.value:
        interchange = edifact.read(row.content)
        if len(interchange.messages) != 1:
            raise EdiSyntaxError(
                "The message must hold exactly one order.", code=Code.EDI_MESSAGE_COUNT
            )
        message = interchange.messages[0]
        done = _handled(
            handlers.edifact_handler(message.type),
            session,
            principal,
            message,
            interchange.sender,
            seen,
        )
        if done is not None:
            return done
        if message.type != "ORDERS":
            raise order_conflict(
                "segment 1 UNH",
                Code.EDI_MESSAGE_TYPE,
                "Message type {type} is not an order.",
                type=message.type,
            )
        draft = mapping.edifact_order(message, interchange.sender)
        sender = interchange.sender
    elif row.channel == Channel.X12.value:
        ix = x12.read(row.content)
        if len(ix.transaction_sets) != 1:
            raise EdiSyntaxError(
                "The message must hold exactly one order.", code=Code.EDI_MESSAGE_COUNT
            )
        transaction_set = ix.transaction_sets[0]
        done = _handled(
            handlers.x12_handler(transaction_set.code),
            session,
            principal,
            transaction_set,
            ix.sender,
            seen,
        )
        if done is not None:
            return done
        if transaction_set.code != "850":
            raise order_conflict(
                "segment 1 ST",
                Code.EDI_MESSAGE_TYPE,
                "Message type {type} is not an order.",
                type=transaction_set.code,
            )
        draft = mapping.x12_order(transaction_set, ix.sender)
        sender = ix.sender
    elif row.channel == Channel.CSV.value:
        draft = csv_draft(row.content)
        sender = ""
        if row.party_id is not None and not draft.buyer_gln and principal.sees_all_parties:
            # A partner's own upload, replayed by the hub: the order stays the partner's.
            customer = repo.customer_for_party(session, principal.tenant_id, row.party_id)
            draft.customer_id = customer.id if customer else None
    else:
        raise EdiSyntaxError(
            "The file is neither UN/EDIFACT (UNA/UNB) nor ANSI X12 (ISA).",
            code=Code.EDI_FORMAT_UNKNOWN,
        )
    seen["reference"] = draft.customer_reference or ""
    hub_gln = _hub_gln(session, principal)
    if draft.supplier_gln and draft.supplier_gln != hub_gln:
        draft.errors.append(
            problem(
                draft.where("supplier_gln"),
                Code.EDI_SUPPLIER_UNKNOWN,
                "The order is addressed to supplier {gln}, not to us.",
                gln=draft.supplier_gln,
            )
        )
    channel = Channel(row.channel)
    order = _order_change(session, principal, draft, channel, row.id)
    if channel in (Channel.EDIFACT, Channel.X12):
        _acknowledge(session, order, row, sender, hub_gln)
    return order


def _order_change(
    session: Session, principal: Principal, draft: OrderDraft, channel: Channel, message_id: int
) -> Order:
    if draft.purpose == Purpose.ORIGINAL:
        return service.place_order(
            session, principal, draft, channel=channel, source_message_id=message_id
        )
    # A replacement or cancellation names an order we hold by its purchase order number.
    errors: list[FieldError] = list(draft.errors)
    probe = OrderDraft(
        customer_reference=draft.customer_reference,
        customer_id=draft.customer_id,
        buyer_gln=draft.buyer_gln,
        sender_id=draft.sender_id,
        paths=draft.paths,
    )
    customer = service._customer(session, principal, probe, errors)
    existing = (
        service.find_order_by_reference(
            session, principal.tenant_id, customer.id, draft.customer_reference or ""
        )
        if customer is not None
        else None
    )
    if existing is None:
        errors.append(
            problem(
                draft.where("customer_reference"),
                Code.ORDER_UNKNOWN_REFERENCE,
                "There is no order {reference} to change.",
                reference=draft.customer_reference or "",
            )
        )
    if errors or existing is None:
        raise OrderValidationFailed(errors=errors)
    reason = f"EDI message {message_id}"
    if draft.purpose == Purpose.CANCEL:
        return service.cancel_order(
            session,
            principal,
            existing.id,
            f"cancelled by {reason}",
            channel=channel,
            source_message_id=message_id,
        )
    draft.reason = f"replaced by {reason}"
    return service.amend_order(
        session, principal, existing.id, draft, channel=channel, source_message_id=message_id
    )


def _acknowledge(
    session: Session, order: Order, row: InboundMessage, sender: str, hub_gln: str
) -> Acknowledgement:
    lines = service.order_lines(session, order)
    now = utcnow()
    control = f"{row.id:09d}"
    if row.channel == Channel.EDIFACT.value:
        interchange = edifact.read(row.content)
        buyer = session.get(Customer, order.customer_id)
        party = session.get(Party, buyer.party_id) if buyer else None
        content = acks.ordrsp(
            order,
            lines,
            our_id=f"14:{hub_gln}",
            partner=sender,
            message_reference="1",
            control_reference=control,
            buyer_gln=party.gln if party else "",
            supplier_gln=hub_gln,
            now=now,
        )
        standard = "ORDRSP"
        del interchange
    else:
        ix = x12.read(row.content)
        content = acks.x12_855(order, lines, interchange=ix, control_number=control, now=now)
        standard = "855"
    ack = Acknowledgement(
        tenant_id=order.tenant_id,
        order_id=order.id,
        party_id=order.party_id,
        message_id=row.id,
        order_version=order.version,
        standard=standard,
        control_reference=control,
        content=content,
    )
    session.add(ack)
    session.flush()
    facts.acknowledged(session, order, ack)
    return ack


# --- CSV -------------------------------------------------------------------------------------


def import_csv(
    session: Session, principal: Principal, content: str, *, filename: str = ""
) -> list[InboundMessage]:
    """Receive a CSV of order lines: rows with the same customer and purchase order number
    make one order; each order is kept in the inbox and processed like an EDI message."""
    principal.require(Permission.ORDERS_WRITE)
    reader = csv.reader(io.StringIO(content.lstrip("\ufeff")))
    rows = list(reader)
    if not rows:
        raise ValidationFailed(
            "The CSV file is empty.",
            code=Code.CSV_EMPTY,
            errors=[problem("file", Code.CSV_EMPTY, "The CSV file is empty.")],
        )
    header = [name.strip().lower() for name in rows[0]]
    missing = [name for name in REQUIRED_CSV_COLUMNS if name not in header]
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if missing or unknown:
        errors = [
            problem("header", Code.CSV_COLUMN_MISSING, "Column {column} is missing.", column=name)
            for name in missing
        ] + [
            problem("header", Code.CSV_COLUMN_UNKNOWN, "Column {column} is not known.", column=name)
            for name in unknown
        ]
        raise ValidationFailed("The CSV header is not usable.", code=Code.CSV_HEADER, errors=errors)
    groups: dict[tuple[str, str], list[list[str]]] = {}
    for record in rows[1:]:
        if not any(cell.strip() for cell in record):
            continue
        values = dict(zip(header, record, strict=False))
        key = (values.get("customer_gln", "").strip(), values.get("customer_reference", "").strip())
        groups.setdefault(key, []).append(record)
    if not principal.sees_all_parties:
        principal.require(Permission.ORDERS_WRITE)
    messages = []
    for (_, reference), records in groups.items():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(records)
        row = _keep(session, principal, Channel.CSV, filename, buffer.getvalue(), "", reference)
        row.party_id = None if principal.sees_all_parties else principal.party_id
        messages.append(row)
    for row in messages:
        _process(session, principal, row)
    return messages


def _csv_value(values: dict[str, str], name: str) -> str:
    return (values.get(name) or "").strip()


def csv_draft(content: str) -> OrderDraft:
    """The order in a CSV group (header + rows of one purchase order) as a draft."""
    rows = list(csv.reader(io.StringIO(content)))
    header = [name.strip().lower() for name in rows[0]]
    records = [dict(zip(header, record, strict=False)) for record in rows[1:]]
    first = records[0] if records else {}
    draft = OrderDraft(
        customer_reference=_csv_value(first, "customer_reference") or None,
        buyer_gln=_csv_value(first, "customer_gln") or None,
        ship_to_code=_csv_value(first, "ship_to_code") or None,
        contract_number=_csv_value(first, "contract_number") or None,
        tender_reference=_csv_value(first, "tender_reference") or None,
        paths={
            "customer_reference": "row 1.customer_reference",
            "customer_id": "row 1.customer_gln",
            "ship_to_code": "row 1.ship_to_code",
            "ship_to_id": "row 1.ship_to_code",
            "contract_number": "row 1.contract_number",
            "tender_reference": "row 1.tender_reference",
        },
    )
    for index, values in enumerate(records, start=1):
        path = f"row {index}"
        line = LineDraft(line_number=index, path=path)
        gtin = _csv_value(values, "gtin")
        if gtin:
            line.gtin = mapping.read_gtin(gtin, f"{path}.gtin", draft.errors)
            if line.gtin is None:
                line.unreadable.add("gtin")
        quantity = _csv_value(values, "quantity")
        if quantity:
            line.quantity = mapping.read_quantity(quantity, f"{path}.quantity", draft.errors)
            if line.quantity is None:
                line.unreadable.add("quantity")
        line.unit_price = _csv_decimal(values, "unit_price", path, draft.errors)
        line.requested_delivery_date = _csv_date(
            values, "requested_delivery_date", path, draft.errors
        )
        line.surgery_date = _csv_date(values, "surgery_date", path, draft.errors)
        line.clinical_urgency = _csv_value(values, "clinical_urgency") or None
        draft.lines.append(line)
    return draft


def _csv_date(
    values: dict[str, str], name: str, path: str, errors: list[FieldError]
) -> date | None:
    raw = _csv_value(values, name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors.append(problem(f"{path}.{name}", Code.DATE_PARSING, "Enter a date as YYYY-MM-DD."))
        return None


def _csv_decimal(
    values: dict[str, str], name: str, path: str, errors: list[FieldError]
) -> Decimal | None:
    raw = _csv_value(values, name)
    if not raw:
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:
        errors.append(problem(f"{path}.{name}", Code.DECIMAL_PARSING, "Enter a number."))
        return None


# --- the inbox -------------------------------------------------------------------------------


def list_inbox(
    session: Session,
    principal: Principal,
    *,
    status: str | None = None,
    channel: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[InboundMessage], int]:
    """Inbox messages, newest first (partner users: their own recognised messages)."""
    principal.require(Permission.ORDERS_READ)
    filters: list[ColumnElement[bool]] = []
    if status:
        filters.append(InboundMessage.status == status)
    if channel:
        filters.append(InboundMessage.channel == channel)
    return list_visible(
        session,
        InboundMessage,
        principal,
        filters=filters,
        order_by=InboundMessage.id.desc(),
        page=page,
        page_size=page_size,
    )


def get_message(session: Session, principal: Principal, message_id: int) -> InboundMessage:
    principal.require(Permission.ORDERS_READ)
    return get_visible(session, InboundMessage, message_id, principal)


def replay(
    session: Session,
    principal: Principal,
    message_id: int,
    *,
    content: str | None = None,
    reason: str = "",
) -> InboundMessage:
    """Process a failed message again, optionally with corrected content (the correction and
    its reason are audited)."""
    principal.require(Permission.ORDERS_INBOX)
    row = get_visible(session, InboundMessage, message_id, principal)
    if row.status != InboxStatus.FAILED.value:
        raise order_conflict(
            "status",
            Code.INBOX_NOT_FAILED,
            "Message {id} is {status}; only failed messages can be replayed.",
            id=row.id,
            status=row.status,
        )
    if reason:
        work_of(session).give_reason(reason)
    if content is not None and content != row.content:
        row.content = content
        if row.channel == "unknown":
            if edifact.looks_like_edifact(content):
                row.channel = Channel.EDIFACT.value
            elif x12.looks_like_x12(content):
                row.channel = Channel.X12.value
    row.attempts += 1
    session.flush()
    _process(session, principal, row)
    return row


def discard(session: Session, principal: Principal, message_id: int, reason: str) -> InboundMessage:
    """Mark a failed message as dealt with otherwise (it stays, with the reason, audited)."""
    principal.require(Permission.ORDERS_INBOX)
    row = get_visible(session, InboundMessage, message_id, principal)
    if row.status != InboxStatus.FAILED.value:
        raise order_conflict(
            "status",
            Code.INBOX_NOT_FAILED,
            "Message {id} is {status}; only failed messages can be replayed.",
            id=row.id,
            status=row.status,
        )
    if not reason:
        raise OrderValidationFailed(
            errors=[problem("reason", Code.REASON_REQUIRED, "Say why the message is discarded.")]
        )
    work_of(session).give_reason(reason)
    row.status = InboxStatus.DISCARDED.value
    session.flush()
    return row


def acknowledgements(session: Session, principal: Principal, order: Order) -> list[Acknowledgement]:
    return list(
        session.scalars(
            select(Acknowledgement)
            .where(Acknowledgement.order_id == order.id)
            .order_by(Acknowledgement.id)
        )
    )


def get_acknowledgement(session: Session, principal: Principal, ack_id: int) -> Acknowledgement:
    principal.require(Permission.ORDERS_READ)
    return get_visible(session, Acknowledgement, ack_id, principal)
