"""Authentication: password login with rate limiting, browser sessions, bearer tokens, API keys.

Lookups here happen before the tenant is known, so on PostgreSQL they run with the row-level
security bypass of the login path (see ``core/rls.py``); everything after login is scoped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medledger.compliance import audit
from medledger.core.config import Settings
from medledger.core.db import utcnow
from medledger.core.errors import AuthenticationFailed, RateLimited
from medledger.core.principal import Principal, make_principal
from medledger.core.security import (
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
        work_of(session).act_as(_principal_for_user(session, user))
        user.password_hash = hash_password(password)
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
        )
    )
    session.flush()
    principal = _principal_for_user(session, user)
    audit.append_entries(
        session.connection(),
        user.tenant_id,
        principal,
        [
            {
                "action": "login",
                "entity_type": "users",
                "entity_id": user.id,
                "old_values": None,
                "new_values": {"kind": kind},
            }
        ],
        "",
    )
    return IssuedSession(token=token, csrf_token=csrf, expires_in_seconds=ttl * 60, user=user)


@dataclass(frozen=True)
class ResolvedSession:
    principal: Principal
    csrf_token: str | None
    kind: str
    rate_limit_requests: int | None = None  # an API key's own limit


def resolve_token(session: Session, token: str, *, kind: str) -> ResolvedSession | None:
    """The principal behind a session cookie or bearer token, if valid and unexpired."""
    row = session.execute(
        select(AuthSession, User)
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.token_hash == token_digest(token), AuthSession.kind == kind)
    ).first()
    if row is None:
        return None
    auth_session, user = row
    if (
        auth_session.revoked_at is not None
        or auth_session.expires_at <= utcnow()
        or not user.active
        or (user.expires_at is not None and user.expires_at <= utcnow())
    ):
        return None
    return ResolvedSession(_principal_for_user(session, user), auth_session.csrf_token, kind)


def resolve_api_key(session: Session, key: str) -> ResolvedSession | None:
    """The principal of a machine client's API key (``mlk_<prefix>_<secret>``)."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "mlk":
        return None
    api_key = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1]))
    if api_key is None or api_key.revoked_at is not None:
        return None
    if api_key.expires_at is not None and api_key.expires_at <= utcnow():
        return None
    from medledger.core.security import constant_time_equal

    if not constant_time_equal(api_key.key_hash, token_digest(key)):
        return None
    party = session.get(Party, api_key.party_id)
    tenant = session.get(Tenant, api_key.tenant_id)
    if party is None or not party.active:
        return None
    principal = make_principal(
        user_id=None,
        tenant_id=api_key.tenant_id,
        party_id=api_key.party_id,
        role=api_key.role,
        username=f"api-key-{api_key.prefix}",
        display_name=f"{party.name}: {api_key.name}",
        hub_party_id=tenant.owner_party_id if tenant else None,
        api_key_id=api_key.id,
    )
    return ResolvedSession(principal, None, "api_key", api_key.rate_limit_requests)


def revoke_token(session: Session, token: str) -> None:
    """Log out: the session or token stops working at once."""
    auth_session = session.scalar(
        select(AuthSession).where(AuthSession.token_hash == token_digest(token))
    )
    if auth_session is not None and auth_session.revoked_at is None:
        auth_session.revoked_at = utcnow()
        session.flush()


def new_csrf() -> str:
    return new_token(24)
