"""Domain errors with stable codes.

Every error a user can see is a :class:`DomainError` (or subclass) carrying a stable ``code``
(never translated), an HTTP status, a human message (an English msgid, translated at render
time) and optional field-level details. The API layer maps them to RFC 9457
``application/problem+json``; the HTML layer shows the same messages next to form fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from enum import StrEnum
from typing import Any


class Code(StrEnum):
    """The codes raised by ``core`` (each package lists its own in its ``errors.py``; every
    code is unique across packages and documented in ``docs/api.md``)."""

    BAD_REQUEST = "bad_request"
    VALIDATION_FAILED = "validation_failed"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    PERMISSION_DENIED = "permission_denied"
    AUTHENTICATION_FAILED = "authentication_failed"
    AUTHENTICATION_REQUIRED = "authentication_required"
    RATE_LIMITED = "rate_limited"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    HTTP_ERROR = "http_error"
    SERVICE_OVERLOADED = "service.overloaded"
    TOKEN_INVALID = "token.invalid"
    API_KEY_INVALID = "api_key.invalid"
    API_KEY_RATE_LIMITED = "api_key.rate_limited"
    CSRF_INVALID = "csrf.invalid"
    MALFORMED_JSON = "request.malformed_json"
    JSON_TOO_DEEP = "request.json_too_deep"
    NON_FINITE_NUMBER = "request.non_finite_number"
    CONTROL_CHARACTER = "request.control_character"
    BODY_TOO_LARGE = "request.body_too_large"
    NULL_NOT_ALLOWED = "request.null_not_allowed"
    COUNTRY_INVALID = "country.invalid"
    TIME_ZONE_UNKNOWN = "time_zone.unknown"


@dataclass(frozen=True)
class FieldError:
    """One offending field: ``field`` is a dotted path (``gtin``, ``events.3.bizStep``)."""

    field: str
    code: str
    message: str
    params: dict[str, Any] = dataclass_field(default_factory=dict)


class DomainError(Exception):
    """Base of every error with a stable ``code``.

    ``message`` is an English msgid with ``{name}`` placeholders filled from ``params``; it is
    translated into the caller's language when rendered.
    """

    status: int = 400
    code: str = Code.BAD_REQUEST
    title: str = "Bad request"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        params: dict[str, Any] | None = None,
        errors: list[FieldError] | None = None,
        status: int | None = None,
    ) -> None:
        self.message = message or self.title
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.params = params or {}
        self.errors = errors or []
        super().__init__(self.render_english())

    def render_english(self) -> str:
        try:
            return self.message.format(**self.params)
        except (KeyError, IndexError, ValueError):
            return self.message


class ValidationFailed(DomainError):
    """Input is malformed or breaks a field rule (HTTP 422)."""

    status = 422
    code: str = Code.VALIDATION_FAILED
    title = "The request has invalid fields"


class NotFound(DomainError):
    """The record does not exist or the caller may not see it (HTTP 404, never 403)."""

    status = 404
    code: str = Code.NOT_FOUND
    title = "Not found"


class Conflict(DomainError):
    """A business rule forbids the change in the current state (HTTP 409)."""

    status = 409
    code: str = Code.CONFLICT
    title = "Conflict"


class PermissionDenied(DomainError):
    """The caller can see the record but its role may not perform the action (HTTP 403)."""

    status = 403
    code: str = Code.PERMISSION_DENIED
    title = "Permission denied"


class AuthenticationFailed(DomainError):
    """Missing or invalid credentials (HTTP 401)."""

    status = 401
    code: str = Code.AUTHENTICATION_FAILED
    title = "Authentication failed"


class RateLimited(DomainError):
    """Too many attempts (HTTP 429)."""

    status = 429
    code: str = Code.RATE_LIMITED
    title = "Too many attempts"
    # Seconds after which a retry may succeed (answered as the Retry-After header).
    retry_after: int | None = None


class MethodNotAllowed(DomainError):
    """The path exists but not with this HTTP method (HTTP 405, with ``Allow``)."""

    status = 405
    code: str = Code.METHOD_NOT_ALLOWED
    title = "Method not allowed"


class UnsupportedMediaType(DomainError):
    """The body is in a media type the endpoint does not read (HTTP 415)."""

    status = 415
    code: str = Code.UNSUPPORTED_MEDIA_TYPE
    title = "Unsupported media type"


class ServiceUnavailable(DomainError):
    """The server is overloaded: no database connection (or SQLite write slot) came free within
    the bounded wait (HTTP 503 with ``Retry-After``). Nothing was changed."""

    status = 503
    code: str = Code.SERVICE_OVERLOADED
    title = "Service temporarily unavailable"
    #: Seconds a client should wait before retrying (the ``Retry-After`` header).
    retry_after = 2


def field_error(field_name: str, code: str, message: str, /, **params: Any) -> ValidationFailed:
    """Shortcut: a 422 with a single offending field."""
    return ValidationFailed(
        message,
        code=code,
        params=params,
        errors=[FieldError(field=field_name, code=code, message=message, params=params)],
    )


def field_conflict(field_name: str, code: str, message: str, /, **params: Any) -> Conflict:
    """Shortcut: a 409 (a business rule forbids it in the record's state), naming the field
    when there is one (``""``: the record as a whole)."""
    return Conflict(
        message,
        code=code,
        params=params,
        errors=[FieldError(field=field_name, code=code, message=message, params=params)]
        if field_name
        else [],
    )
