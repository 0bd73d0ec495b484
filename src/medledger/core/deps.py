"""FastAPI dependencies: the unit of work per request and the authenticated principal.

Credentials, in order: ``Authorization: Bearer <token>`` (from ``POST /api/v1/auth/token``),
``X-API-Key: mlk_…`` (a party's machine client), or the browser session cookie. Unsafe methods
authenticated by cookie must carry the session's CSRF token (header ``X-CSRF-Token`` or form
field ``csrf_token``), so a cross-site form cannot act for a logged-in user.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import text
from sqlalchemy.orm import Session

from medledger.core.config import Settings
from medledger.core.db import is_postgres, set_tenant_guc
from medledger.core.errors import AuthenticationFailed, Code, DomainError
from medledger.core.principal import Principal
from medledger.core.security import constant_time_equal
from medledger.core.work import work_of

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def _db(request: Request) -> Iterator[Session]:
    """One transaction per request: commit after the endpoint returns, roll back if it raises."""
    factory = request.app.state.session_factory
    session: Session = factory()
    work_of(session).give_reason(request.headers.get("x-audit-reason", "")[:500])
    request.state.db = session
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# scope="function": commit happens before the response is sent, so a 2xx means committed.
DbSession = Annotated[Session, Depends(_db, scope="function")]


def _bypass_rls(session: Session, on: bool) -> None:
    if is_postgres(session):
        session.execute(
            text("SELECT set_config('app.rls_bypass', :v, true)"), {"v": "on" if on else "off"}
        )


def resolve_principal(request: Request, session: Session) -> Principal | None:
    """The principal of the request's credentials, or None if there are none (or they are bad)."""
    from medledger.parties import auth

    settings: Settings = request.app.state.settings
    resolved = None
    _bypass_rls(session, True)
    try:
        authorization = request.headers.get("authorization", "")
        api_key = request.headers.get("x-api-key")
        cookie = request.cookies.get(settings.session_cookie_name)
        if authorization.lower().startswith("bearer "):
            resolved = auth.resolve_token(session, authorization[7:].strip(), kind="bearer")
            if resolved is None:
                raise AuthenticationFailed(
                    "The access token is invalid or expired.", code=Code.TOKEN_INVALID
                )
        elif api_key:
            resolved = auth.resolve_api_key(session, api_key.strip())
            if resolved is None:
                raise AuthenticationFailed(
                    "The API key is invalid or revoked.", code=Code.API_KEY_INVALID
                )
        elif cookie:
            resolved = auth.resolve_token(session, cookie, kind="browser")
    finally:
        _bypass_rls(session, False)
    if resolved is None:
        # Nobody signed in: the connection may still hold the tenant of its last request.
        set_tenant_guc(session, None)
        return None
    request.state.csrf_token = resolved.csrf_token
    request.state.auth_kind = resolved.kind
    principal = resolved.principal
    if principal.api_key_id is not None:
        _rate_limit(request, principal.api_key_id, resolved.rate_limit_requests)
    request.state.principal = principal
    work_of(session).act_as(principal)
    set_tenant_guc(session, principal.tenant_id)
    return principal


def _rate_limit(request: Request, key_id: int, own_limit: int | None) -> None:
    """Count the request against its API key's limit (429 with Retry-After when over)."""
    from medledger.core import ratelimit

    settings: Settings = request.app.state.settings
    limit = ratelimit.Limit(
        own_limit if own_limit is not None else settings.api_rate_limit_requests,
        settings.api_rate_limit_window_seconds,
    )
    engine = request.app.state.engine
    clock = getattr(request.app.state, "rate_clock", None) or ratelimit.time.time
    ratelimit.hit(engine, key_id, limit, clock)


async def _csrf_form_token(request: Request) -> str | None:
    content_type = request.headers.get("content-type", "")
    if "form" not in content_type:
        return None
    form = await request.form()
    value = form.get("csrf_token")
    return value if isinstance(value, str) else None


def check_csrf(request: Request, form_token: str | None) -> None:
    if request.method in SAFE_METHODS or getattr(request.state, "auth_kind", None) != "browser":
        return
    expected = getattr(request.state, "csrf_token", None) or ""
    given = request.headers.get("x-csrf-token") or form_token or ""
    if not expected or not constant_time_equal(expected, given):
        raise DomainError(
            "The form expired or came from another site. Reload the page and try again.",
            code=Code.CSRF_INVALID,
            status=403,
        )


async def _current_principal(request: Request, session: DbSession) -> Principal:
    principal = resolve_principal(request, session)
    if principal is None:
        raise AuthenticationFailed("Log in first.", code=Code.AUTHENTICATION_REQUIRED)
    check_csrf(request, await _csrf_form_token(request))
    return principal


CurrentPrincipal = Annotated[Principal, Depends(_current_principal)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def authenticated(principal: CurrentPrincipal) -> None:
    """Router-level dependency: any logged-in principal may call."""
