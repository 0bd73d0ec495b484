"""Order intake errors: stable codes, English msgids, field paths (``lines.2.gtin`` for the API,
``segment 11 LIN.3`` for EDI, ``row 4.quantity`` for CSV)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from medledger.core.errors import Code as CoreCode
from medledger.core.errors import Conflict, FieldError, NotFound, ValidationFailed


class Code(StrEnum):
    """Stable codes of the orders context: intake (API, EDI, CSV), customers, contracts and
    tenders, amendments and deliveries, and planning (priority rule sets, allocation, the board,
    approvals). Never translated, never renamed; documented in docs/api.md."""

    ORDER_INVALID = "order.invalid"
    ORDER_CONFLICT = "order.conflict"
    ORDER_DUPLICATE = "order.duplicate"
    ORDER_NOT_CHANGEABLE = "order.not_changeable"
    ORDER_UNKNOWN_REFERENCE = "order.unknown_reference"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key.reused"
    CUSTOMER_UNKNOWN = "customer.unknown"
    CUSTOMER_NOT_REGISTERED = "customer.not_registered"
    CUSTOMER_INACTIVE = "customer.inactive"
    CUSTOMER_EXISTS = "customer.exists"
    CUSTOMER_REFERENCE_MISSING = "customer_reference.missing"
    SHIP_TO_UNKNOWN = "ship_to.unknown"
    SHIP_TO_CODE_TAKEN = "ship_to.code_taken"
    CONTRACT_UNKNOWN = "contract.unknown"
    CONTRACT_NUMBER_TAKEN = "contract.number_taken"
    VALID_UNTIL_BEFORE_START = "valid_until.before_start"
    TENDER_UNKNOWN = "tender.unknown"
    TENDER_REFERENCE_TAKEN = "tender.reference_taken"
    TENDER_LINE_DUPLICATE = "tender.line_duplicate"
    TENDER_PRODUCT_NOT_AWARDED = "tender.product_not_awarded"
    TENDER_EXHAUSTED = "tender.exhausted"
    LINES_MISSING = "lines.missing"
    LINE_NUMBER_DUPLICATE = "line_number.duplicate"
    LINE_NOT_OPEN = "line.not_open"
    LINE_CANCELLED = "line.cancelled"
    LINE_DELIVERED = "line.delivered"
    LINE_PRODUCT_LOCKED = "line.product_locked"
    PRODUCT_MISSING = "product.missing"
    PRODUCT_INACTIVE = "product.inactive"
    ITEM_REFERENCE_UNKNOWN = "item_reference.unknown"
    ITEM_REFERENCE_TAKEN = "item_reference.taken"
    QUANTITY_MISSING = "quantity.missing"
    QUANTITY_INVALID = "quantity.invalid"
    QUANTITY_BELOW_DELIVERED = "quantity.below_delivered"
    PRICE_INVALID = "price.invalid"
    UNIT_OF_MEASURE_UNSUPPORTED = "unit_of_measure.unsupported"
    REQUESTED_DELIVERY_DATE_REQUIRED = "requested_delivery_date.required"
    REQUESTED_DELIVERY_DATE_BEFORE_ORDER = "requested_delivery_date.before_order"
    CLINICAL_URGENCY_INVALID = "clinical_urgency.invalid"
    SURGERY_DATE_PAST = "surgery_date.past"
    DELIVERY_OVER_QUANTITY = "delivery.over_quantity"
    DELIVERED_ON_BEFORE_ORDER = "delivered_on.before_order"
    REASON_REQUIRED = "reason.required"
    GROUP_BY_INVALID = "group_by.invalid"
    UPLOAD_EMPTY = "upload.empty"
    UPLOAD_TOO_LARGE = "upload.too_large"
    INBOX_NOT_FAILED = "inbox.not_failed"
    CSV_EMPTY = "csv.empty"
    CSV_HEADER = "csv.header"
    CSV_COLUMN_MISSING = "csv.column_missing"
    CSV_COLUMN_UNKNOWN = "csv.column_unknown"
    # The field codes pydantic gives the same mistakes in the API's JSON.
    DATE_PARSING = "date_parsing"
    DECIMAL_PARSING = "decimal_parsing"
    EDI_SYNTAX = "edi.syntax"
    EDI_FORMAT_UNKNOWN = "edi.format_unknown"
    EDI_NO_MESSAGES = "edi.no_messages"
    EDI_MESSAGE_COUNT = "edi.message_count"
    EDI_MESSAGE_TYPE = "edi.message_type"
    EDI_MESSAGE_FUNCTION = "edi.message_function"
    EDI_SUPPLIER_UNKNOWN = "edi.supplier_unknown"
    EDI_SEGMENT_TERMINATOR_MISSING = "edi.segment_terminator_missing"
    EDI_SEGMENT_COUNT = "edi.segment_count"
    EDI_UNTERMINATED = "edi.unterminated"
    EDI_DATE_INVALID = "edi.date_invalid"
    EDI_LINE_COUNT = "edi.line_count"
    RULE_SET_INVALID = "rule_set.invalid"
    RULE_SET_NOT_DRAFT = "rule_set.not_draft"
    BOARD_MOVE_NOT_ALLOWED = "board.move_not_allowed"
    BOARD_NOT_READY = "board.not_ready"
    BOARD_UNKNOWN_COLUMN = "board.unknown_column"
    APPROVAL_NOT_PENDING = "approval.not_pending"
    APPROVAL_PENDING_EXISTS = "approval.pending_exists"
    RESERVATION_PICKED = "reservation.picked"
    RESERVATION_NOT_ACTIVE = "reservation.not_active"
    PREEMPTION_INELIGIBLE = "preemption.ineligible"
    PREEMPTION_NOT_NEEDED = "preemption.not_needed"
    ORDER_LINE_NOT_OPEN = "order_line.not_open"


class OrderValidationFailed(ValidationFailed):
    """An order (from any channel) breaks one or more rules; every offending field is listed."""

    code = Code.ORDER_INVALID
    title = "The order has invalid fields"


class EdiSyntaxError(ValidationFailed):
    """The EDI interchange cannot be read at all (no envelope, bad separators)."""

    code = Code.EDI_SYNTAX
    title = "The EDI interchange cannot be read"


class IdempotencyKeyReused(Conflict):
    code = Code.IDEMPOTENCY_KEY_REUSED
    title = "Idempotency key reused with a different request"


class OrderConflict(Conflict):
    code = Code.ORDER_CONFLICT
    title = "The order cannot be changed this way"


def problem(field: str, code: str, message: str, /, **params: Any) -> FieldError:
    """One field error (collected, then raised together)."""
    return FieldError(field=field, code=code, message=message, params=params)


def order_conflict(field: str, code: str, message: str, /, **params: Any) -> OrderConflict:
    return OrderConflict(
        message, code=code, params=params, errors=[problem(field, code, message, **params)]
    )


def not_found(entity: str, record_id: Any) -> NotFound:
    return NotFound(
        "{entity} {id} was not found.",
        code=CoreCode.NOT_FOUND,
        params={"entity": entity, "id": record_id},
    )


def planning_conflict(code: Code, message: str, field: str = "", /, **params: Any) -> Conflict:
    return Conflict(
        message,
        code=code.value,
        params=params,
        errors=[problem(field, code.value, message, **params)] if field else [],
    )


def planning_invalid(code: Code, message: str, field: str, /, **params: Any) -> ValidationFailed:
    return ValidationFailed(
        message,
        code=code.value,
        params=params,
        errors=[problem(field, code.value, message, **params)],
    )
