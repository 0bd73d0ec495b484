"""Error codes of the integration gateway (documented in docs/api.md)."""

from __future__ import annotations

from typing import Any

from medledger.core.errors import Conflict, FieldError, ValidationFailed

UNKNOWN_EVENT_TYPE = "integration.unknown_event_type"
URL_NOT_ALLOWED = "integration.url_not_allowed"
NOT_REPLAYABLE = "integration.delivery_not_replayable"


def field_invalid(field: str, code: str, message: str, **params: Any) -> ValidationFailed:
    return ValidationFailed(
        message,
        code=code,
        params=params,
        errors=[FieldError(field=field, code=code, message=message, params=params)],
    )


def not_replayable(state: str) -> Conflict:
    return Conflict(
        "Only a dead or retrying delivery can be replayed; this one is {state}.",
        code=NOT_REPLAYABLE,
        params={"state": state},
    )
