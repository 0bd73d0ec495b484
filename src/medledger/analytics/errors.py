"""The codes raised by the analytics context (scorecards, KPI board, plans, SPC, forecasts)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from medledger.core.errors import Conflict, ValidationFailed, field_conflict, field_error


class Code(StrEnum):
    """Stable codes of the analytics context (never translated, never renamed)."""

    PERIOD_INVALID = "analytics.period_invalid"
    FACTOR_UNKNOWN = "analytics.factor_unknown"
    KPI_UNKNOWN = "analytics.kpi_unknown"
    DIMENSION_UNKNOWN = "analytics.dimension_unknown"
    WEIGHTS_INVALID = "analytics.weights_invalid"
    PLAN_CLOSED = "analytics.plan_closed"
    ACTION_DONE = "analytics.action_done"
    LINK_UNKNOWN = "analytics.link_unknown"
    SUPPLIER_UNKNOWN = "analytics.supplier_unknown"
    SERIES_TOO_SHORT = "analytics.series_too_short"
    FORM_INCOMPLETE = "analytics.form_incomplete"
    NOTE_REQUIRED = "analytics.note_required"


def invalid(code: Code, message: str, field: str, /, **params: Any) -> ValidationFailed:
    """A 422 naming the offending field."""
    return field_error(field, code, message, **params)


def conflict(code: Code, message: str, field: str = "", /, **params: Any) -> Conflict:
    """A 409 (a business rule forbids it in the record's state)."""
    return field_conflict(field, code, message, **params)
