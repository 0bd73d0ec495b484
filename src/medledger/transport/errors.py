"""The codes raised by the transport context (lanes and lane choices)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from medledger.core.errors import Conflict, ValidationFailed, field_conflict, field_error


class Code(StrEnum):
    """Stable codes of the transport context (never translated, never renamed)."""

    NOT_A_HUB_SITE = "transport.not_a_hub_site"
    SHIP_TO_REGION = "transport.ship_to_region"
    CODE_TAKEN = "transport.code_taken"
    LANE_INACTIVE = "transport.lane_inactive"
    LANE_NOT_SERVING = "transport.lane_not_serving"
    LINE_NOT_OPEN = "transport.line_not_open"


def invalid(code: Code, message: str, field: str, /, **params: Any) -> ValidationFailed:
    """A 422 naming the offending field."""
    return field_error(field, code, message, **params)


def conflict(code: Code, message: str, field: str = "", /, **params: Any) -> Conflict:
    """A 409 (a business rule forbids it in the record's state)."""
    return field_conflict(field, code, message, **params)
