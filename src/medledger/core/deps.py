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

import functools
import inspect
from collections.abc import AsyncIterator, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.utils import is_body_allowed_for_status_code
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from starlette.responses import Response

from medledger.core.admission import Admission
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
    rate_limit_requests: int | None = None  # an API key's own limit (None: the default)


#: Checks credentials (with row-level security bypassed): the principal, ``None`` when there
#: are none or only a stale cookie, or raises ``AuthenticationFailed`` for a bad token or key.
Authenticator = Callable[[Session, Credentials], Authenticated | None]


def _end(session: Session, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


async def _end_in_thread(session: Session, commit: bool) -> None:
    if not session.in_transaction():
        # Already committed by the endpoint (or never used): closing does no I/O.
        session.close()
        return
    # Commit/rollback is blocking I/O: a thread, but not one from the request pool's limited
    # capacity (the session holds a connection; waiting for a pool thread could deadlock), and
    # shielded so a client that went away cannot leave the transaction open.
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(_end, session, commit, limiter=anyio.CapacityLimiter(1))


# The request's session, seen by the endpoint's thread (the thread pool copies the context).
_REQUEST_SESSION: ContextVar[Session | None] = ContextVar("medledger_request_session", default=None)


async def _db(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: admitted first (``core.admission``), committed after the
    endpoint returns, rolled back if it raises. Opening the session does no I/O, so it happens
    on the event loop; the commit runs in a thread."""
    admission: Admission = request.app.state.admission
    await admission.enter()
    try:
        session: Session = request.app.state.session_factory()
        work_of(session).give_reason(request.headers.get("x-audit-reason"))
        request.state.db = session
        current = _REQUEST_SESSION.set(session)
        try:
            yield session
        except PoolTimeout as exc:
            # The pool stayed empty for its whole timeout: overload, a 503 (HTML pages too).
            await _end_in_thread(session, commit=False)
            raise ServiceUnavailable("The server is busy. Try again in a few seconds.") from exc
        except BaseException:
            await _end_in_thread(session, commit=False)
            raise
        else:
            await _end_in_thread(session, commit=True)
        finally:
            _REQUEST_SESSION.reset(current)
    finally:
        admission.leave()


# scope="function": commit happens before the response is sent, so a 2xx means committed.
DbSession = Annotated[Session, Depends(_db, scope="function")]


def _uses_db(dependant: Dependant) -> bool:
    return any(dep.call is _db or _uses_db(dep) for dep in dependant.dependencies)


def _sets_response(dependant: Dependant) -> bool:
    """Whether a dependency (not the endpoint itself) takes FastAPI's sub-response."""
    return any(dep.response_param_name or _sets_response(dep) for dep in dependant.dependencies)


def _json_response_of(route: APIRoute) -> Callable[[Any, dict[str, Any]], Any] | None:
    """How the endpoint's own thread turns its result into the JSON response FastAPI would
    build (the response model's validation and ``serialize_json``, its options, the status
    code and the headers set on the endpoint's ``Response`` parameter), or None where FastAPI
    must do it (a custom response class, no response model, a dependency setting headers)."""
    field = route.response_field
    if (
        field is None
        or not isinstance(route.response_class, DefaultPlaceholder)
        or _sets_response(route.dependant)
    ):
        return None
    sub_response_name = route.dependant.response_param_name

    def respond(result: Any, kwargs: dict[str, Any]) -> Any:
        if isinstance(result, Response):
            return result
        value, errors = field.validate(result, {}, loc=("response",))
        if errors:
            return result  # FastAPI validates it again and raises ResponseValidationError
        content = field.serialize_json(
            value,
            include=route.response_model_include,
            exclude=route.response_model_exclude,
            by_alias=route.response_model_by_alias,
            exclude_unset=route.response_model_exclude_unset,
            exclude_defaults=route.response_model_exclude_defaults,
            exclude_none=route.response_model_exclude_none,
        )
        sub = kwargs.get(sub_response_name) if sub_response_name else None
        status_code = (sub.status_code if sub is not None else None) or route.status_code or 200
        response = Response(content=content, media_type="application/json", status_code=status_code)
        if not is_body_allowed_for_status_code(status_code):
            response.body = b""
        if sub is not None:
            response.headers.raw.extend(sub.headers.raw)
        return response

    return respond


def _committing(
    endpoint: Callable[..., Any], respond: Callable[[Any, dict[str, Any]], Any] | None
) -> Callable[..., Any]:
    @functools.wraps(endpoint)
    def run_and_commit(*args: Any, **kwargs: Any) -> Any:
        result = endpoint(*args, **kwargs)
        session = _REQUEST_SESSION.get()
        if session is not None:
            session.commit()
        return result if respond is None else respond(result, kwargs)

    return run_and_commit


def commit_in_endpoint_thread(app: FastAPI) -> None:
    """Commit each request's transaction in the endpoint's own thread, as soon as it returns,
    and build its JSON response there too.

    FastAPI ends a dependency's scope only after it has validated and serialised the response,
    which takes another hop through the thread pool, and the commit one more: row locks taken
    by the transaction (the audit chain's head, SQLite's writer) were held across both, and
    under load every hop waits for the event loop. Here every plain-function endpoint that
    uses :data:`DbSession` commits before it hands its result back; the dependency then only
    closes the session (or rolls back, if the endpoint or the commit raised). Its result is
    validated and serialised in the same thread (exactly as FastAPI would, see
    :func:`_json_response_of`), so FastAPI receives a finished response: one thread hop per
    request fewer.
    """
    for route in app.routes:
        dependant = getattr(route, "dependant", None)
        if (
            isinstance(route, APIRoute)
            and isinstance(dependant, Dependant)
            and dependant.call is not None
            and not inspect.iscoroutinefunction(dependant.call)
            and _uses_db(dependant)
            and not getattr(dependant.call, "__wrapped__", None)
        ):
            dependant.call = _committing(dependant.call, _json_response_of(route))


def _bypass_rls(session: Session, on: bool) -> None:
    if is_postgres(session):
        # On the driver's cursor (as ``set_tenant_guc`` does): twice per authenticated request,
        # and building a SQLAlchemy statement execution cost more than the round trip.
        cursor = session.connection().connection.cursor()
        try:
            cursor.execute(
                "SELECT set_config('app.rls_bypass', %(v)s, true)", {"v": "on" if on else "off"}
            )
        finally:
            cursor.close()


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
