"""One handler maps every error to RFC 9457 ``application/problem+json``.

``code`` is stable across languages; ``title``/``detail``/field ``message``s are translated into
the caller's language.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from medledger.core.errors import DomainError, FieldError
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


def problem_response(exc: DomainError, request: Request) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse(
        problem_body(exc, request_locale(request), str(request.url.path)),
        status_code=exc.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Register the handlers on ``app``."""
    from medledger.core.errors import ValidationFailed

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = field_errors_from_pydantic(list(exc.errors()))
        return problem_response(
            ValidationFailed("The request has invalid fields.", errors=errors), request
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "authentication_failed"}.get(
            exc.status_code, "http_error"
        )
        error = DomainError(str(exc.detail), code=code, status=exc.status_code)
        return problem_response(error, request)
