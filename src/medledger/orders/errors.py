"""Order intake errors: stable codes, English msgids, field paths (``lines.2.gtin`` for the API,
``segment 11 LIN.3`` for EDI, ``row 4.quantity`` for CSV)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from medledger.core.errors import Conflict, FieldError, NotFound, ValidationFailed


class OrderValidationFailed(ValidationFailed):
    """An order (from any channel) breaks one or more rules; every offending field is listed."""

    code = "order.invalid"
    title = "The order has invalid fields"


class EdiSyntaxError(ValidationFailed):
    """The EDI interchange cannot be read at all (no envelope, bad separators)."""

    code = "edi.syntax"
    title = "The EDI interchange cannot be read"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key.reused"
    title = "Idempotency key reused with a different request"


class OrderConflict(Conflict):
    code = "order.conflict"
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
        "{entity} {id} was not found.", code="not_found", params={"entity": entity, "id": record_id}
    )


class PlanningCode(StrEnum):
    """Codes of priority rule sets, allocation, the board and approvals (orders/planning)."""

    RULE_SET_INVALID = "rule_set.invalid"
    RULE_SET_NOT_DRAFT = "rule_set.not_draft"
    RULE_SET_NONE_ACTIVE = "rule_set.none_active"
    BOARD_MOVE_NOT_ALLOWED = "board.move_not_allowed"
    BOARD_NOT_READY = "board.not_ready"
    BOARD_UNKNOWN_COLUMN = "board.unknown_column"
    APPROVAL_NOT_PENDING = "approval.not_pending"
    APPROVAL_PENDING_EXISTS = "approval.pending_exists"
    RESERVATION_PICKED = "reservation.picked"
    RESERVATION_NOT_ACTIVE = "reservation.not_active"
    PREEMPTION_INELIGIBLE = "preemption.ineligible"
    PREEMPTION_NOT_NEEDED = "preemption.not_needed"
    LINE_NOT_OPEN = "order_line.not_open"
    REASON_REQUIRED = "reason.required"


def planning_conflict(
    code: PlanningCode, message: str, field: str = "", /, **params: Any
) -> Conflict:
    return Conflict(
        message,
        code=code.value,
        params=params,
        errors=[problem(field, code.value, message, **params)] if field else [],
    )


def planning_invalid(
    code: PlanningCode, message: str, field: str, /, **params: Any
) -> ValidationFailed:
    return ValidationFailed(
        message,
        code=code.value,
        params=params,
        errors=[problem(field, code.value, message, **params)],
    )
