"""Authentication: password login with rate limiting, browser sessions, bearer tokens, API keys.

Lookups here happen before the tenant is known, so on PostgreSQL they run with the row-level
security bypass of the login path (see ``core/rls.py``); everything after login is scoped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, event, func, inspect, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from medledger.compliance import audit
from medledger.core.config import Settings
from medledger.core.db import utcnow
from medledger.core.deps import Authenticated, Credentials
from medledger.core.errors import AuthenticationFailed, RateLimited
from medledger.core.errors import Code as CoreCode
from medledger.core.principal import Principal, make_principal
from medledger.core.security import (
    constant_time_equal,
    hash_password,
    needs_rehash,
    new_token,
    token_digest,
    verify_password,
)
from medledger.core.work import work_of
from medledger.parties.errors import Code
from medledger.parties.models import ApiKey, AuthSession, LoginAttempt, Party, Tenant, User

log = logging.getLogger("medledger.security")

# session.info key: the user whose password hash a login just upgraded (same password).
_REHASHED = "medledger.password_rehashed"


@dataclass(frozen=True)
class IssuedSession:
    token: str
    csrf_token: str
    expires_in_seconds: int
    user: User


def _principal_for_user(session: Session, user: User) -> Principal:
    tenant = session.get(Tenant, user.tenant_id)
    return make_principal(
        user_id=user.id,
        tenant_id=user.tenant_id,
        party_id=user.party_id,
        role=user.role,
        username=user.username,
        display_name=user.display_name,
        hub_party_id=tenant.owner_party_id if tenant else None,
        locale=user.locale,
        time_zone=user.time_zone,
    )


def _recent_failures(session: Session, settings: Settings, *, username: str, client: str) -> int:
    since = utcnow() - timedelta(minutes=settings.login_window_minutes)
    by_user = (
        session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                LoginAttempt.username == username,
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.at >= since,
            )
        )
        or 0
    )
    by_client = (
        session.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(
                LoginAttempt.client == client,
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.at >= since,
            )
        )
        or 0
    )
    return max(int(by_user), int(by_client) // 4)


def authenticate(
    session: Session, settings: Settings, *, username: str, password: str, client: str
) -> User:
    """Check a password login. Failures are recorded (the caller commits even on failure) and
    too many within the window are refused with 429 before the password is checked."""
    username = username.strip()
    if (
        _recent_failures(session, settings, username=username, client=client)
        >= settings.login_max_failures
    ):
        log.warning("login refused (rate limit) username=%s client=%s", username, client)
        session.add(LoginAttempt(username=username[:64], client=client[:64], succeeded=False))
        session.flush()
        raise RateLimited(
            "Too many failed logins. Try again in {minutes} minutes.",
            code=Code.LOGIN_RATE_LIMITED,
            params={"minutes": settings.login_window_minutes},
        )
    user = session.scalar(select(User).where(User.username == username))
    ok = verify_password(user.password_hash if user else None, password)
    expired = user is not None and user.expires_at is not None and user.expires_at <= utcnow()
    if not ok or user is None or not user.active or expired:
        log.warning("login failed username=%s client=%s", username, client)
        session.add(LoginAttempt(username=username[:64], client=client[:64], succeeded=False))
        session.flush()
        raise AuthenticationFailed(
            "Wrong username or password.", code=Code.LOGIN_INVALID_CREDENTIALS
        )
    party = session.get(Party, user.party_id)
    if party is None or not party.active:
        session.add(LoginAttempt(username=username[:64], client=client[:64], succeeded=False))
        session.flush()
        raise AuthenticationFailed(
            "Wrong username or password.", code=Code.LOGIN_INVALID_CREDENTIALS
        )
    session.add(LoginAttempt(username=username[:64], client=client[:64], succeeded=True))
    if needs_rehash(user.password_hash):
        # A stronger hash of the same password is not a password change: no session ends.
        work_of(session).act_as(_principal_for_user(session, user))
        user.password_hash = hash_password(password)
        session.info[_REHASHED] = user.id
    session.flush()
    log.info("login ok username=%s client=%s", username, client)
    return user


def issue_session(session: Session, settings: Settings, user: User, *, kind: str) -> IssuedSession:
    """A new browser session or bearer token for ``user``; only the token's hash is stored."""
    ttl = settings.session_ttl_minutes if kind == "browser" else settings.token_ttl_minutes
    token = new_token()
    csrf = new_token(24)
    session.add(
        AuthSession(
            tenant_id=user.tenant_id,
            user_id=user.id,
            kind=kind,
            token_hash=token_digest(token),
            csrf_token=csrf,
            expires_at=utcnow() + timedelta(minutes=ttl),
            credential_epoch=user.credential_epoch,
        )
    )
    session.flush()
    # The user acts for itself from here on: the login entry is attributed to it.
    work_of(session).act_as(_principal_for_user(session, user))
    audit.record(
        session,
        tenant_id=user.tenant_id,
        action="login",
        entity_type="users",
        entity_id=user.id,
        new_values={"kind": kind},
    )
    return IssuedSession(token=token, csrf_token=csrf, expires_in_seconds=ttl * 60, user=user)


# Built once: the statement every authenticated request runs (building it per request cost
# more than executing it).
_TOKEN_LOOKUP = (
    select(
        AuthSession.id,
        AuthSession.csrf_token,
        AuthSession.expires_at,
        AuthSession.revoked_at,
        AuthSession.credential_epoch,
        User.id,
        User.tenant_id,
        User.party_id,
        User.role,
        User.username,
        User.display_name,
        User.locale,
        User.time_zone,
        User.active,
        User.expires_at,
        User.credential_epoch,
        Party.name,
        Party.active,
        Tenant.owner_party_id,
    )
    .join(User, User.id == AuthSession.user_id)
    .join(Party, Party.id == User.party_id)
    .join(Tenant, Tenant.id == User.tenant_id)
    .where(AuthSession.token_hash == bindparam("token_hash"), AuthSession.kind == bindparam("kind"))
)


def resolve_token(session: Session, token: str, *, kind: str) -> Authenticated | None:
    """The principal behind a session cookie or bearer token, if it is still valid: not logged
    out, unexpired, issued under the user's current credential epoch, user and party active.

    One indexed lookup joins everything the check and the principal need, so every request on
    every server process sees a revocation as soon as it is committed.
    """
    row = session.execute(_TOKEN_LOOKUP, {"token_hash": token_digest(token), "kind": kind}).first()
    if row is None:
        return None
    (
        session_id,
        csrf_token,
        expires_at,
        revoked_at,
        session_epoch,
        user_id,
        tenant_id,
        party_id,
        role,
        username,
        display_name,
        locale,
        time_zone,
        user_active,
        user_expires_at,
        user_epoch,
        party_name,
        party_active,
        hub_party_id,
    ) = row
    if (
        revoked_at is not None
        or expires_at <= utcnow()
        or session_epoch != user_epoch
        or not user_active
        or not party_active
        or (user_expires_at is not None and user_expires_at <= utcnow())
    ):
        return None
    principal = make_principal(
        user_id=user_id,
        tenant_id=tenant_id,
        party_id=party_id,
        role=role,
        username=username,
        display_name=display_name,
        hub_party_id=hub_party_id,
        locale=locale,
        time_zone=time_zone,
        party_name=party_name,
        auth_session_id=session_id,
    )
    return Authenticated(principal, csrf_token, kind)


def resolve_api_key(session: Session, key: str) -> Authenticated | None:
    """The principal of a machine client's API key (``mlk_<prefix>_<secret>``); refused while
    the key is revoked or its party is inactive."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "mlk":
        return None
    row = session.execute(
        select(ApiKey, Party.name, Party.active, Tenant.owner_party_id)
        .join(Party, Party.id == ApiKey.party_id)
        .join(Tenant, Tenant.id == ApiKey.tenant_id)
        .where(ApiKey.prefix == parts[1])
    ).first()
    if row is None:
        return None
    api_key, party_name, party_active, hub_party_id = row
    if api_key.revoked_at is not None or not party_active:
        return None
    if api_key.expires_at is not None and api_key.expires_at <= utcnow():
        return None
    if not constant_time_equal(api_key.key_hash, token_digest(key)):
        return None
    principal = make_principal(
        user_id=None,
        tenant_id=api_key.tenant_id,
        party_id=api_key.party_id,
        role=api_key.role,
        username=f"api-key-{api_key.prefix}",
        display_name=f"{party_name}: {api_key.name}",
        hub_party_id=hub_party_id,
        api_key_id=api_key.id,
        party_name=party_name,
    )
    return Authenticated(principal, None, "api_key", api_key.rate_limit_requests)


def authenticate_request(session: Session, credentials: Credentials) -> Authenticated | None:
    """The request's principal (``core.deps.Authenticator``): a bearer token, else an API key,
    else the session cookie. A bad token or key is refused with 401; a stale cookie is ignored
    (the visitor is anonymous and pages send it to the login form)."""
    if credentials.bearer is not None:
        resolved = resolve_token(session, credentials.bearer, kind="bearer")
        if resolved is None:
            raise AuthenticationFailed(
                "The access token is invalid or expired.", code=CoreCode.TOKEN_INVALID
            )
        return resolved
    if credentials.api_key:
        resolved = resolve_api_key(session, credentials.api_key)
        if resolved is None:
            raise AuthenticationFailed(
                "The API key is invalid or revoked.", code=CoreCode.API_KEY_INVALID
            )
        return resolved
    if credentials.cookie:
        return resolve_token(session, credentials.cookie, kind="browser")
    return None


def revoke_session(session: Session, auth_session_id: int) -> None:
    """Log out: this browser session or bearer token stops working at once."""
    session.execute(
        update(AuthSession)
        .where(AuthSession.id == auth_session_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def revoke_token(session: Session, token: str) -> None:
    """Log out by the secret itself (the browser logout, which holds the cookie)."""
    auth_session_id = session.scalar(
        select(AuthSession.id).where(AuthSession.token_hash == token_digest(token))
    )
    if auth_session_id is not None:
        revoke_session(session, auth_session_id)


# --- ending sessions when credentials change --------------------------------------------------


def _deactivated(obj: object) -> bool:
    history = inspect(obj).attrs.active.history
    return list(history.added) == [False] and list(history.deleted) != [False]


def _end_sessions_on_credential_change(session: Session, _flush_context: Any) -> None:
    """Raise the credential epoch of users whose password changed or who were deactivated, and
    of every user of a deactivated party, in the transaction of that change: their sessions and
    tokens are refused from the commit on, by every server process, and reactivating the user
    or party later does not revive them.

    Someone changing their own password keeps the session they did it with (as most sites do:
    the other devices are signed out, the one in hand is not).
    """
    user_ids: set[int] = set()
    keep: dict[int, int] = {}  # user id -> the session that changed its own password
    party_ids: set[int] = set()
    actor = work_of(session).actor
    for obj in session.dirty:
        if isinstance(obj, User):
            password_changed = (
                bool(inspect(obj).attrs.password_hash.history.deleted)
                and session.info.get(_REHASHED) != obj.id
            )
            if password_changed or _deactivated(obj):
                user_ids.add(obj.id)
                own_session = getattr(actor, "auth_session_id", None)
                if (
                    password_changed
                    and obj.active
                    and own_session is not None
                    and getattr(actor, "user_id", None) == obj.id
                ):
                    keep[obj.id] = own_session
        elif isinstance(obj, Party) and _deactivated(obj):
            party_ids.add(obj.id)
    if not user_ids and not party_ids:
        return
    # Core statements on the flush's connection: no ORM bookkeeping, no audit entry of their
    # own (the change that caused them is audited).
    connection = session.connection()
    conditions: list[ColumnElement[bool]] = []
    if user_ids:
        conditions.append(User.id.in_(sorted(user_ids)))
    if party_ids:
        conditions.append(User.party_id.in_(sorted(party_ids)))
    connection.execute(
        update(User).where(or_(*conditions)).values(credential_epoch=User.credential_epoch + 1)
    )
    for user_id, auth_session_id in keep.items():
        current = select(User.credential_epoch).where(User.id == user_id).scalar_subquery()
        connection.execute(
            update(AuthSession)
            .where(AuthSession.id == auth_session_id, AuthSession.user_id == user_id)
            .values(credential_epoch=current)
        )


event.listen(Session, "after_flush", _end_sessions_on_credential_change)


def new_csrf() -> str:
    return new_token(24)
