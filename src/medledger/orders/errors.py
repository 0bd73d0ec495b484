"""Order intake errors: stable codes, English msgids, field paths (``lines.2.gtin`` for the API,
``segment 11 LIN.3`` for EDI, ``row 4.quantity`` for CSV)."""

from __future__ import annotations

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
