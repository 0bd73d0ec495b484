"""EANCOM ORDERS and X12 850 messages as channel-neutral order drafts.

Only what order intake needs is read; anything else in the message is kept in the inbox copy.
Values that cannot be read (a bad date, a fractional quantity, a GTIN with a wrong check digit)
become field errors that name the segment, so the whole message is reported at once.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from medledger.core.errors import DomainError, FieldError
from medledger.identifiers.checkdigit import normalise_gtin
from medledger.orders.draft import LineDraft, OrderDraft, Purpose
from medledger.orders.edi import edifact, x12
from medledger.orders.errors import Code, problem

# BGM 1225 message function: 9 original, 5 replace, 4 change, 1 cancellation, 3 deletion.
_EDIFACT_PURPOSE = {
    "9": Purpose.ORIGINAL,
    "5": Purpose.REPLACE,
    "4": Purpose.REPLACE,
    "1": Purpose.CANCEL,
    "3": Purpose.CANCEL,
}
# BEG01 transaction set purpose: 00 original, 05 replace, 04 change, 01 cancellation.
_X12_PURPOSE = {
    "00": Purpose.ORIGINAL,
    "05": Purpose.REPLACE,
    "04": Purpose.REPLACE,
    "01": Purpose.CANCEL,
}
# X12 product/service id qualifiers that carry a GTIN (UPC-A, EAN-13, GTIN-14).
_X12_GTIN = {"UP", "EN", "UK", "UA"}
_X12_ITEM = {"VN", "BP", "IN", "SA"}


def _date(value: str, fmt: str, where: str, errors: list[FieldError]) -> date | None:
    patterns = {"102": "%Y%m%d", "203": "%Y%m%d%H%M", "204": "%Y%m%d%H%M%S"}
    try:
        return datetime.strptime(value, patterns.get(fmt or "102", "%Y%m%d")).date()
    except ValueError:
        errors.append(
            problem(
                where,
                Code.EDI_DATE_INVALID,
                "{value} is not a date in format {format}.",
                value=value,
                format=fmt or "102",
            )
        )
        return None


def read_quantity(value: str, where: str, errors: list[FieldError]) -> int | None:
    try:
        number = Decimal(value.replace(",", "."))
    except InvalidOperation:
        number = Decimal("NaN")
    if number.is_nan() or number != number.to_integral_value():
        errors.append(
            problem(
                where,
                Code.QUANTITY_INVALID,
                "The quantity must be a whole number greater than zero.",
            )
        )
        return None
    return int(number)


def _price(value: str, where: str, errors: list[FieldError]) -> Decimal | None:
    if not value:
        return None
    try:
        return Decimal(value.replace(",", "."))
    except InvalidOperation:
        errors.append(problem(where, Code.PRICE_INVALID, "{value} is not a price.", value=value))
        return None


def read_gtin(value: str, where: str, errors: list[FieldError]) -> str | None:
    try:
        return normalise_gtin(value, field=where)
    except DomainError as error:
        errors.append(problem(where, error.code, error.message, **error.params))
        return None


def edifact_order(message: edifact.Message, sender: str) -> OrderDraft:
    """An EANCOM ORDERS message (D.96A EAN008 and later) as a draft."""
    draft = OrderDraft(customer_reference=None, sender_id=f"edifact:{sender}")
    errors = draft.errors
    line: LineDraft | None = None
    for segment in message.segments:
        tag, where = segment.tag, segment.label
        if tag == "BGM":
            draft.customer_reference = segment.get(1) or None
            draft.paths["customer_reference"] = where
            function = segment.get(2) or "9"
            if function not in _EDIFACT_PURPOSE:
                errors.append(
                    problem(
                        where,
                        Code.EDI_MESSAGE_FUNCTION,
                        "Message function {code} is not supported.",
                        code=function,
                    )
                )
            draft.purpose = _EDIFACT_PURPOSE.get(function, Purpose.ORIGINAL)
        elif tag == "DTM":
            qualifier, value, fmt = segment.get(0, 0), segment.get(0, 1), segment.get(0, 2)
            if qualifier == "137" and line is None:
                draft.order_date = _date(value, fmt, where, errors)
            elif qualifier == "2":
                requested = _date(value, fmt, where, errors)
                if line is None:
                    draft.requested_delivery_date = requested
                    draft.paths["requested_delivery_date"] = where
                else:
                    line.requested_delivery_date = requested
                    line.paths["requested_delivery_date"] = where
        elif tag == "RFF" and line is None and segment.get(0, 0) == "CT":
            draft.contract_number = segment.get(0, 1)
            draft.paths["contract_number"] = where
        elif tag == "NAD":
            role, gln = segment.get(0), segment.get(1, 0)
            if role == "BY":
                draft.buyer_gln = gln or None
                draft.paths["customer_id"] = where
            elif role in ("DP", "ST"):
                draft.ship_to_gln = gln or None
                draft.paths["ship_to_gln"] = where
            elif role == "SU":
                draft.supplier_gln = gln or None
                draft.paths["supplier_gln"] = where
        elif tag == "CUX":
            draft.currency = segment.get(0, 1) or None
        elif tag == "LIN":
            number = segment.get(0)
            line = LineDraft(
                line_number=int(number) if number.isdigit() else len(draft.lines) + 1,
                path=where,
            )
            code, kind = segment.get(2, 0), segment.get(2, 1)
            if code:
                if kind in ("EN", "SRV", "UP", ""):
                    line.gtin = read_gtin(code, f"{where}.gtin", errors)
                    if line.gtin is None:
                        line.unreadable.add("gtin")
                    line.paths["gtin"] = f"{where}.gtin"
                else:
                    line.item_qualifier, line.item_code = kind, code
            draft.lines.append(line)
        elif tag == "PIA" and line is not None and not line.gtin:
            line.item_code, line.item_qualifier = segment.get(1, 0), segment.get(1, 1)
            line.paths["item_code"] = where
        elif tag == "QTY" and line is not None and segment.get(0, 0) == "21":
            line.quantity = read_quantity(segment.get(0, 1), where, errors)
            if line.quantity is None:
                line.unreadable.add("quantity")
            line.unit_of_measure = segment.get(0, 2) or None
            line.paths["quantity"] = where
            line.paths["unit_of_measure"] = where
        elif tag == "PRI" and line is not None and segment.get(0, 0) in ("AAA", "AAB"):
            line.unit_price = _price(segment.get(0, 1), where, errors)
    return draft


def x12_order(transaction_set: x12.TransactionSet, sender: str) -> OrderDraft:
    """An X12 850 purchase order as a draft."""
    draft = OrderDraft(customer_reference=None, sender_id=f"x12:{sender}")
    errors = draft.errors
    errors.extend(transaction_set.problems)
    line: LineDraft | None = None
    po1_count = 0
    for segment in transaction_set.segments:
        tag, where = segment.tag, segment.label
        if tag == "BEG":
            purpose = segment.get(1)
            if purpose not in _X12_PURPOSE:
                errors.append(
                    problem(
                        where,
                        Code.EDI_MESSAGE_FUNCTION,
                        "Message function {code} is not supported.",
                        code=purpose,
                    )
                )
            draft.purpose = _X12_PURPOSE.get(purpose, Purpose.ORIGINAL)
            draft.customer_reference = segment.get(3) or None
            draft.paths["customer_reference"] = where
            if segment.get(5):
                draft.order_date = _date(segment.get(5), "102", where, errors)
        elif tag == "CUR" and segment.get(1) == "BY":
            draft.currency = segment.get(2) or None
        elif tag == "REF" and line is None and segment.get(1) == "CT":
            draft.contract_number = segment.get(2)
            draft.paths["contract_number"] = where
        elif tag == "DTM" and segment.get(1) == "002":
            requested = _date(segment.get(2), "102", where, errors)
            if line is None:
                draft.requested_delivery_date = requested
                draft.paths["requested_delivery_date"] = where
            else:
                line.requested_delivery_date = requested
                line.paths["requested_delivery_date"] = where
        elif tag == "N1" and line is None:
            role, qualifier, code = segment.get(1), segment.get(3), segment.get(4)
            if role == "ST":
                if qualifier == "UL" and code:
                    draft.ship_to_gln = code
                    draft.paths["ship_to_gln"] = where
                elif code:
                    draft.ship_to_code = code
                    draft.paths["ship_to_code"] = where
                else:
                    draft.paths["ship_to_id"] = where
            elif role == "BY" and qualifier == "UL" and code:
                draft.buyer_gln = code
                draft.paths["customer_id"] = where
        elif tag == "PO1":
            po1_count += 1
            number = segment.get(1)
            line = LineDraft(
                line_number=int(number) if number.isdigit() else po1_count,
                path=where,
                quantity=read_quantity(segment.get(2), where, errors),
                unit_of_measure=segment.get(3) or None,
                unit_price=_price(segment.get(4), where, errors),
            )
            line.paths.update(quantity=where, unit_of_measure=where)
            if line.quantity is None:
                line.unreadable.add("quantity")
            pairs = [
                (segment.get(i), segment.get(i + 1)) for i in range(6, len(segment.elements), 2)
            ]
            gtin_pair = next(((q, v) for q, v in pairs if q in _X12_GTIN and v), None)
            item_pair = next(((q, v) for q, v in pairs if q in _X12_ITEM and v), None)
            if gtin_pair is not None:
                line.gtin = read_gtin(gtin_pair[1], f"{where}.gtin", errors)
                if line.gtin is None:
                    line.unreadable.add("gtin")
                line.paths["gtin"] = f"{where}.gtin"
            elif item_pair is not None:
                line.item_qualifier, line.item_code = item_pair
                line.paths["item_code"] = where
            buyer = next((v for q, v in pairs if q == "BP" and v), None)
            line.buyer_item_code = buyer
            draft.lines.append(line)
        elif tag == "CTT" and segment.get(1) != str(po1_count):
            errors.append(
                problem(
                    where,
                    Code.EDI_LINE_COUNT,
                    "CTT says {declared} lines; the order has {actual}.",
                    declared=segment.get(1),
                    actual=po1_count,
                )
            )
    return draft
