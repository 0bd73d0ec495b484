"""Inventory's domain errors (stable codes)."""

from __future__ import annotations

from enum import StrEnum
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


class Code(StrEnum):
    """Stable codes of the inventory context (never translated, never renamed)."""

    INSUFFICIENT_STOCK = "inventory.insufficient_stock"
    NOT_RELEASED = "inventory.stock_not_released"
    LOT_EXPIRED = "inventory.lot_expired"
    LOT_RECALLED = "inventory.lot_recalled"
    STORAGE_CLASS = "inventory.storage_class_mismatch"
    FRACTIONAL = "inventory.fractional_quantity"
    NOT_MANAGED = "inventory.location_not_managed"
    NOT_A_HUB_SITE = "inventory.not_a_hub_site"
    EVENT_INVALID = "inventory.event_invalid"
    SAME_LOCATION = "inventory.same_location"
    SSCC_CHECK_DIGIT = "inventory.sscc_check_digit"
    ZERO_ADJUSTMENT = "inventory.zero_adjustment"
    LOT_EXISTS = "inventory.lot_exists"
    UNKNOWN_PRODUCT = "inventory.unknown_product"
    SERIAL_QUANTITY = "inventory.serial_quantity"
    TEMPERATURE_RANGE = "inventory.temperature_range"
    LOGGER_ROW = "inventory.logger_row"
    LOGGER_EMPTY = "inventory.logger_empty"
    SCAN_NOT_SSCC = "inventory.scan_not_sscc"
    BAD_ITEM = "inventory.bad_item"
    NOTHING_TO_SHIP = "inventory.nothing_to_ship"


# The names the context used before the enum (kept for its modules and callers).
INSUFFICIENT_STOCK = Code.INSUFFICIENT_STOCK
NOT_RELEASED = Code.NOT_RELEASED
LOT_EXPIRED = Code.LOT_EXPIRED
LOT_RECALLED = Code.LOT_RECALLED
STORAGE_CLASS = Code.STORAGE_CLASS
FRACTIONAL = Code.FRACTIONAL
NOT_MANAGED = Code.NOT_MANAGED
