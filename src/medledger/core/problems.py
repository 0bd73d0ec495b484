"""One handler maps every error to RFC 9457 ``application/problem+json``.

``code`` is stable across languages; ``title``/``detail``/field ``message``s are translated into
the caller's language. Every error answer, including those of the request guard
(``core.bodies``) and of routing (404, 405), goes through :func:`problem_response`, so a branch
answering HTML requests with an error page belongs there alone.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from medledger.core.bodies import BadRequestBody, Receive, RequestGuard, Scope, Send
from medledger.core.config import Settings
from medledger.core.errors import (
    AuthenticationFailed,
    Code,
    DomainError,
    FieldError,
    MethodNotAllowed,
    NotFound,
    ServiceUnavailable,
    UnsupportedMediaType,
)
from medledger.core.i18n import negotiate_locale, translate
from medledger.core.types import MESSAGE_TEMPLATES

log = logging.getLogger("medledger.errors")
PROBLEM_JSON = "application/problem+json"


def request_locale(request: Request) -> str:
    principal = getattr(request.state, "principal", None)
    user_locale = getattr(principal, "locale", None) if principal else None
    return negotiate_locale(user_locale, request.headers.get("accept-language"))


def field_errors_from_pydantic(errors: list[Any]) -> list[FieldError]:
    """Pydantic's errors as our field errors: dotted path without the ``body``/``query`` prefix."""
    result = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        if loc and loc[0] in ("body", "query", "path", "header", "form", "cookie"):
            loc = loc[1:]
        ctx = {
            k: v for k, v in (error.get("ctx") or {}).items() if isinstance(v, (str, int, float))
        }
        code = str(error.get("type", "invalid"))
        template = MESSAGE_TEMPLATES.get(code)
        message = template if template is not None else str(error.get("msg", "Invalid value"))
        if code == "value_error" and "msg" in error:
            message = str(error["msg"]).removeprefix("Value error, ")
        result.append(
            FieldError(field=".".join(loc) or "body", code=code, message=message, params=ctx)
        )
    return result


def problem_body(exc: DomainError, locale: str, instance: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"https://medledger.dev/problems/{exc.code}",
        "title": translate(locale, exc.title),
        "status": exc.status,
        "code": exc.code,
        "detail": translate(locale, exc.message, exc.params),
    }
    if instance:
        body["instance"] = instance
    if exc.errors:
        body["errors"] = [
            {"field": e.field, "code": e.code, "message": translate(locale, e.message, e.params)}
            for e in exc.errors
        ]
    return body


class ProblemFieldError(BaseModel):
    """One offending field of a problem."""

    field: str = Field(description="Dotted path of the field (`gtin`, `events.3.bizStep`).")
    code: str = Field(description="Stable code of this field's error.")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every error is answered (`application/problem+json`)."""

    type: str
    title: str
    status: int
    code: str = Field(description="Stable code, never translated (table in docs/api.md).")
    detail: str
    instance: str | None = None
    errors: list[ProblemFieldError] | None = None


def problem_headers(exc: DomainError) -> dict[str, str] | None:
    """``WWW-Authenticate`` on 401, ``Retry-After`` on 503 and 429 (any error that knows when
    to come back)."""
    if exc.status == 401:
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(exc, ServiceUnavailable):
        return {"Retry-After": str(exc.retry_after)}
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        return {"Retry-After": str(retry_after)}
    return None


def problem_response(
    exc: DomainError, request: Request, headers: dict[str, str] | None = None
) -> JSONResponse:
    headers = {**(headers or {}), **(problem_headers(exc) or {})}
    return JSONResponse(
        problem_body(exc, request_locale(request), str(request.url.path)),
        status_code=exc.status,
        media_type=PROBLEM_JSON,
        headers=headers or None,
    )


async def respond_with_problem(
    scope: Scope, receive: Receive, send: Send, exc: DomainError
) -> None:
    """ASGI answer with the problem ``exc`` (for middleware that runs before routing)."""
    request = Request(scope, receive)
    await problem_response(exc, request)(scope, receive, send)


def _allowed_methods(request: Request) -> str:
    """Every method some route at this path accepts (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        if route.path and route.methods and _path_regex(route.path).match(request.url.path):
            methods |= route.methods
    return ", ".join(sorted(methods))


@lru_cache(maxsize=512)
def _path_regex(path: str) -> re.Pattern[str]:
    return compile_path(path)[0]


def _http_error(exc: StarletteHTTPException) -> DomainError:
    status = exc.status_code
    if status == 404:
        return NotFound("Nothing is found at this address.")
    if status == 405:
        return MethodNotAllowed("This address does not accept this HTTP method.")
    if status == 415:
        return UnsupportedMediaType("The body is in a media type this address does not read.")
    if status == 401:
        return AuthenticationFailed("Log in first.", code=Code.AUTHENTICATION_REQUIRED)
    if status == 400:
        # FastAPI's own body parser: the body of a pydantic endpoint is not JSON.
        return BadRequestBody(
            "The body is not JSON.",
            errors=[FieldError("body", Code.MALFORMED_JSON, "The body is not JSON.")],
        )
    return DomainError(str(exc.detail), code=Code.HTTP_ERROR, status=status)


# Paths whose bodies may be as large as an EPCIS capture document (settings.max_capture_body_bytes).
CAPTURE_PATHS = ("/epcis/capture", "/epcis/events")


def install_request_guard(app: FastAPI, settings: Settings) -> None:
    """Put the request guard (``core.bodies``) in front of every route of ``app``."""

    def limit_for(path: str) -> int:
        if path.rstrip("/") in CAPTURE_PATHS:
            return settings.max_capture_body_bytes
        return settings.max_body_bytes

    app.add_middleware(RequestGuard, limit_for=limit_for, respond=respond_with_problem)


def install_problem_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``, and declare the problems in its OpenAPI description."""
    from medledger.core.openapi import install_openapi

    install_openapi(app)
    from medledger.core.errors import ValidationFailed

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(PoolTimeout)
    async def _pool_timeout(request: Request, exc: PoolTimeout) -> JSONResponse:
        # No connection came free within the pool timeout: overload, answered at once.
        log.warning("overload: %s %s: %s", request.method, request.url.path, exc)
        return problem_response(
            ServiceUnavailable("The server is busy. Try again in a few seconds."), request
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = field_errors_from_pydantic(list(exc.errors()))
        return problem_response(
            ValidationFailed("The request has invalid fields.", errors=errors), request
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        allow = _allowed_methods(request) if exc.status_code == 405 else None
        return problem_response(_http_error(exc), request, {"Allow": allow} if allow else None)
