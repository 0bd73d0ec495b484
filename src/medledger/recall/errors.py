"""The codes raised by the recall context (never translated, never renamed)."""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Stable codes of the recall context."""

    IDENTIFIERS_REQUIRED = "recall.identifiers_required"
    NCR_UNKNOWN = "recall.ncr_unknown"
    EVENTS_NOT_CAPTURED = "recall.events_not_captured"
    NOT_OPEN = "recall.not_open"
    NOTICE_NOT_FOUND = "recall.notice_not_found"
    REASON_REQUIRED = "recall.reason_on_behalf_required"
    NOT_ALL_ACKNOWLEDGED = "recall.not_all_acknowledged"
    QUANTITIES_EXCEED = "recall.quantities_exceed_units"
    DRILL_UNSUPPORTED_DATABASE = "recall.drill_unsupported_database"
