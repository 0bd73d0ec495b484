"""Errors as pages: a browser asking for HTML gets an HTML error page in its user's language
with a way back; API clients keep RFC 9457 problem+json (``core.problems``).

Errors raised inside an HTML route are rendered by ``web.ui.UiRoute``; this module covers what
happens before any route runs (an unknown URL, a method a page does not accept).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from medledger.core.errors import Code as CoreCode
from medledger.core.errors import DomainError

# Paths that are API endpoints whatever the client accepts.
API_PREFIXES = ("/api/", "/epcis", "/openapi.json", "/vendor/", "/static/")


class Code(StrEnum):
    """The web layer raises no code of its own: its pages show the codes of the services they
    call, and the HTTP errors below are ``core``'s (documented in docs/api.md with them)."""


HTTP_CODES = {
    404: CoreCode.NOT_FOUND,
    405: CoreCode.METHOD_NOT_ALLOWED,
    401: CoreCode.AUTHENTICATION_FAILED,
}


def wants_html(request: Request) -> bool:
    """True for a browser's page request (it accepts HTML and the path is not an API's)."""
    if request.url.path.startswith(API_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "")


def _render(request: Request, error: DomainError) -> Response:
    from medledger.core.deps import resolve_principal
    from medledger.core.i18n import negotiate_locale
    from medledger.web.ui import Ui, error_page

    session = request.app.state.session_factory()
    try:
        principal = None
        try:
            principal = resolve_principal(request, session)
        except DomainError:
            principal = None  # a stale cookie: show the page as to a visitor
        user_locale = principal.locale if principal is not None else None
        locale = negotiate_locale(user_locale, request.headers.get("accept-language"))
        ui = Ui(request, session, principal, locale)
        if principal is not None:
            ui.party_name = principal.party_name
        request.state.ui = ui
        return error_page(request, error)
    finally:
        session.rollback()
        session.close()


def install_html_error_pages(app: FastAPI) -> None:
    """Route HTTP errors of page requests to an HTML page; the rest to the problem handler."""
    problem_handler: Any = app.exception_handlers.get(StarletteHTTPException)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if not wants_html(request):
            return await problem_handler(request, exc)
        code = HTTP_CODES.get(exc.status_code, CoreCode.HTTP_ERROR)
        error = DomainError(str(exc.detail), code=code, status=exc.status_code)
        return await run_in_threadpool(_render, request, error)
