"""FastAPI dependencies: the unit of work per request and the authenticated principal.

Credentials, in order: ``Authorization: Bearer <token>`` (from ``POST /api/v1/auth/token``),
``X-API-Key: mlk_…`` (a party's machine client), or the browser session cookie. Unsafe methods
authenticated by cookie must carry the session's CSRF token (header ``X-CSRF-Token`` or form
field ``csrf_token``), so a cross-site form cannot act for a logged-in user.

Checking credentials is the ``parties`` package's business: the application registers its
:data:`Authenticator` in ``app.state.authenticator`` (``web/app.py``), so ``core`` imports no
domain package. Every dependency that touches the database is a plain function, which FastAPI
runs in its thread pool: a request waiting for a pooled connection never blocks the event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from medledger.core.config import Settings
from medledger.core.db import is_postgres, set_tenant_guc
from medledger.core.errors import AuthenticationFailed, Code, DomainError, ServiceUnavailable
from medledger.core.principal import Principal
from medledger.core.security import constant_time_equal
from medledger.core.work import work_of

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


@dataclass(frozen=True)
class Credentials:
    """What a request presented: a bearer token, an API key and/or a session cookie."""

    bearer: str | None
    api_key: str | None
    cookie: str | None


@dataclass(frozen=True)
class Authenticated:
    """Who the credentials belong to, the session's CSRF token and the kind of credential."""

    principal: Principal
    csrf_token: str | None
    kind: str  # "bearer" | "api_key" | "browser"


#: Checks credentials (with row-level security bypassed): the principal, ``None`` when there
#: are none or only a stale cookie, or raises ``AuthenticationFailed`` for a bad token or key.
Authenticator = Callable[[Session, Credentials], Authenticated | None]


def _db(request: Request) -> Iterator[Session]:
    """One transaction per request: commit after the endpoint returns, roll back if it raises."""
    factory = request.app.state.session_factory
    session: Session = factory()
    work_of(session).give_reason(request.headers.get("x-audit-reason", "")[:500])
    request.state.db = session
    try:
        yield session
        session.commit()
    except PoolTimeout as exc:
        # The pool stayed empty for its whole timeout: overload, a 503 (HTML pages too).
        session.rollback()
        raise ServiceUnavailable() from exc
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
    settings: Settings = request.app.state.settings
    authenticator: Authenticator = request.app.state.authenticator
    authorization = request.headers.get("authorization", "")
    credentials = Credentials(
        bearer=authorization[7:].strip() if authorization.lower().startswith("bearer ") else None,
        api_key=(request.headers.get("x-api-key") or "").strip() or None,
        cookie=request.cookies.get(settings.session_cookie_name),
    )
    resolved = None
    if credentials.bearer is not None or credentials.api_key or credentials.cookie:
        _bypass_rls(session, True)
        try:
            resolved = authenticator(session, credentials)
        finally:
            _bypass_rls(session, False)
    if resolved is None:
        # Nobody signed in: the connection may still hold the tenant of its last request.
        set_tenant_guc(session, None)
        return None
    request.state.csrf_token = resolved.csrf_token
    request.state.auth_kind = resolved.kind
    principal = resolved.principal
    request.state.principal = principal
    work_of(session).act_as(principal)
    set_tenant_guc(session, principal.tenant_id)
    return principal


async def _csrf_form_token(request: Request) -> str | None:
    """The CSRF token of a form body (read on the event loop: it awaits the body)."""
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


def _current_principal(
    request: Request,
    session: DbSession,
    form_token: Annotated[str | None, Depends(_csrf_form_token)],
) -> Principal:
    # A plain function: run in the thread pool, so its database work never blocks the loop.
    principal = resolve_principal(request, session)
    if principal is None:
        raise AuthenticationFailed("Log in first.", code=Code.AUTHENTICATION_REQUIRED)
    check_csrf(request, form_token)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(_current_principal)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def authenticated(principal: CurrentPrincipal) -> None:
    """Router-level dependency: any logged-in principal may call."""
