"""Inventory's domain errors (stable codes)."""

from __future__ import annotations

from typing import Any

from medledger.core.errors import Conflict, FieldError, ValidationFailed


def conflict(code: str, message: str, field: str = "", /, **params: Any) -> Conflict:
    """A 409 naming the offending field (``lines.0.lot``, ``to_location_id`` …)."""
    return Conflict(
        message,
        code=code,
        params=params,
        errors=[FieldError(field=field, code=code, message=message, params=params)]
        if field
        else [],
    )


def invalid(code: str, message: str, field: str, /, **params: Any) -> ValidationFailed:
    return ValidationFailed(
        message,
        code=code,
        params=params,
        errors=[FieldError(field=field, code=code, message=message, params=params)],
    )


INSUFFICIENT_STOCK = "inventory.insufficient_stock"
NOT_RELEASED = "inventory.stock_not_released"
LOT_EXPIRED = "inventory.lot_expired"
LOT_RECALLED = "inventory.lot_recalled"
STORAGE_CLASS = "inventory.storage_class_mismatch"
FRACTIONAL = "inventory.fractional_quantity"
NOT_MANAGED = "inventory.location_not_managed"
