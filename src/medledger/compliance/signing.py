"""Electronic signatures (21 CFR Part 11): sign a record version, list and verify signatures.

Signing re-authenticates the signer (11.200(a)(1)): the password is checked again with the
argon2id hasher of ``core.security``, plus a second factor when one is registered for the user
(:func:`register_second_factor`; none is built in). The signature records the printed name,
UTC time and meaning (11.50) and the SHA-256 of the record version signed (11.70), and is
written with its audit entry in the caller's transaction.

A refused attempt must survive the rollback of the change it was part of, so refusals raise
:class:`SigningRefused` carrying a :class:`FailedAttempt`; the caller (API, page, CLI) undoes
its transaction and keeps the attempt with :func:`keep_failed_attempt` (or the context manager
:func:`failed_attempts_kept`). ``policy.max_failures`` failures within
``policy.lockout_minutes`` (since the user's last good signature) lock signing for that user
until the window has passed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from medledger.compliance import audit
from medledger.compliance.errors import Code
from medledger.compliance.models import ElectronicSignature, SigningFailure
from medledger.compliance.signables import (
    APPROVING_MEANINGS,
    Meaning,
    content_hash,
    load_record,
    record_content,
    signable,
)
from medledger.core.db import set_tenant_guc, utcnow
from medledger.core.errors import DomainError, FieldError, PermissionDenied, field_error
from medledger.core.principal import Principal
from medledger.core.repository import list_visible
from medledger.core.security import verify_password
from medledger.core.types import RecordId


@dataclass(frozen=True)
class SigningPolicy:
    """How many failed attempts lock signing, and for how long (settings ``signing_*``)."""

    max_failures: int = 3
    lockout_minutes: int = 30

    @classmethod
    def from_settings(cls, settings: Any) -> SigningPolicy:
        return cls(settings.signing_max_failures, settings.signing_lockout_minutes)


@dataclass(frozen=True)
class Credentials:
    """What the signer types in the signature dialog."""

    password: str
    comment: str = ""
    second_factor: str | None = None


class Signer(Protocol):
    """What signing needs to know of a person (the parties package's user satisfies it)."""

    @property
    def id(self) -> int: ...
    @property
    def party_id(self) -> int: ...
    @property
    def username(self) -> str: ...
    @property
    def display_name(self) -> str: ...
    @property
    def password_hash(self) -> str: ...
    @property
    def role(self) -> str: ...
    @property
    def active(self) -> bool: ...


#: Loads the signer with a user id, or None. The parties package owns the users and registers
#: it (``parties/signers.py``), so compliance, below parties, does not import them.
SignerLookup = Callable[[Session, RecordId], Signer | None]
_SIGNER_LOOKUP: list[SignerLookup] = []


def register_signer_lookup(lookup: SignerLookup) -> None:
    """Set how signing loads a signer (one lookup; registering again replaces it)."""
    _SIGNER_LOOKUP[:] = [lookup]


def _load_signer(session: Session, user_id: RecordId) -> Signer | None:
    if not _SIGNER_LOOKUP:
        raise RuntimeError("No signer lookup registered: import medledger.parties first.")
    return _SIGNER_LOOKUP[0](session, user_id)


class SecondFactor(Protocol):
    """A second signing factor (TOTP, a hardware key …) a deployment can plug in."""

    name: str

    def required_for(self, session: Session, user: Signer) -> bool: ...

    def verify(self, session: Session, user: Signer, code: str) -> bool: ...


_SECOND_FACTORS: list[SecondFactor] = []


def register_second_factor(factor: SecondFactor) -> None:
    """Require ``factor`` (for the users it says) in addition to the password when signing."""
    _SECOND_FACTORS.append(factor)


def unregister_second_factor(factor: SecondFactor) -> None:
    _SECOND_FACTORS.remove(factor)


def second_factor_required(session: Session, user_id: RecordId | None) -> bool:
    """Whether signing asks this user for a second factor (the dialog then shows its field)."""
    user = _load_signer(session, user_id) if user_id is not None else None
    return user is not None and any(f.required_for(session, user) for f in _SECOND_FACTORS)


@dataclass(frozen=True)
class FailedAttempt:
    tenant_id: RecordId
    user_id: RecordId
    record_kind: str
    record_id: RecordId
    meaning: str
    cause: str  # wrong_password | second_factor | locked


class SigningRefused(DomainError):
    """The signer could not be re-authenticated (HTTP 403); the attempt is kept."""

    status = 403
    code = Code.SIGNATURE_INVALID_CREDENTIALS
    title = "The signature was refused"

    def __init__(self, attempt: FailedAttempt, message: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.attempt = attempt


class SigningLocked(SigningRefused):
    """Too many failed attempts: signing is locked for the user (HTTP 423)."""

    status = 423
    code = Code.SIGNATURE_LOCKED
    title = "Signing is locked"


def _refuse_changes(_mapper: Any, _connection: Any, target: ElectronicSignature) -> None:
    raise PermissionDenied(
        "Electronic signatures cannot be changed or deleted.", code=Code.SIGNATURE_APPEND_ONLY
    )


# Signatures are append-only (11.10(e), 11.70): the ORM refuses to update or delete one.
event.listen(ElectronicSignature, "before_update", _refuse_changes)
event.listen(ElectronicSignature, "before_delete", _refuse_changes)


def locked_until(
    session: Session, user_id: RecordId, policy: SigningPolicy, now: datetime | None = None
) -> datetime | None:
    """When the user's signing lock ends, or None if signing is not locked."""
    now = now or utcnow()
    since = now - timedelta(minutes=policy.lockout_minutes)
    last_good = session.scalar(
        select(func.max(ElectronicSignature.signed_at)).where(
            ElectronicSignature.signer_user_id == user_id
        )
    )
    stmt = select(SigningFailure.at).where(
        SigningFailure.user_id == user_id,
        SigningFailure.at >= since,
        SigningFailure.cause != "locked",
    )
    if last_good is not None:
        stmt = stmt.where(SigningFailure.at > last_good)
    recent = list(session.scalars(stmt.order_by(SigningFailure.at.desc())))
    if len(recent) < policy.max_failures:
        return None
    until: datetime = recent[policy.max_failures - 1] + timedelta(minutes=policy.lockout_minutes)
    return until if until > now else None


def _signer(session: Session, principal: Principal) -> Signer:
    if principal.user_id is None:
        raise PermissionDenied(
            "Only a person can sign; machine clients (API keys) cannot.",
            code=Code.SIGNATURE_PERSON_REQUIRED,
        )
    user = _load_signer(session, principal.user_id)
    if user is None or not user.active:
        raise PermissionDenied(
            "Only a person can sign; machine clients (API keys) cannot.",
            code=Code.SIGNATURE_PERSON_REQUIRED,
        )
    return user


def check_not_author(
    session: Session, principal: Principal, kind: str, record: Any, meaning: Meaning
) -> None:
    """The author of a record (or whoever signed it as author) cannot approve, release or
    close it (403 ``signature.author_cannot_approve``)."""
    if meaning not in APPROVING_MEANINGS or principal.user_id is None:
        return
    spec = signable(kind)
    authored = session.scalar(
        select(ElectronicSignature.id).where(
            ElectronicSignature.tenant_id == principal.tenant_id,
            ElectronicSignature.record_kind == kind,
            ElectronicSignature.record_id == record.id,
            ElectronicSignature.meaning == Meaning.AUTHORED.value,
            ElectronicSignature.signer_user_id == principal.user_id,
        )
    )
    if spec.author(record) == principal.user_id or authored is not None:
        raise PermissionDenied(
            "The author of {record} cannot sign it as {meaning}.",
            code=Code.SIGNATURE_AUTHOR_CANNOT_APPROVE,
            params={"record": spec.label(record), "meaning": meaning.value},
        )


def sign(
    session: Session,
    principal: Principal,
    kind: str,
    record: Any,
    meaning: Meaning,
    credentials: Credentials | None,
    *,
    policy: SigningPolicy | None = None,
    workflow_action: str | None = None,
) -> ElectronicSignature:
    """Sign the current version of ``record`` (already loaded through the caller's scoping)
    with ``meaning``, re-authenticating the signer. Raises :class:`SigningRefused` (keep the
    attempt with :func:`keep_failed_attempt`), 403 for the record's author approving it, 422 if
    no credentials were given."""
    policy = policy or SigningPolicy()
    spec = signable(kind)
    user = _signer(session, principal)
    if credentials is None or not credentials.password:
        raise DomainError(
            "This step needs your electronic signature: re-enter your password.",
            code=Code.SIGNATURE_REQUIRED,
            status=422,
            errors=[
                FieldError(
                    "signature.password",
                    Code.SIGNATURE_REQUIRED,
                    "This step needs your electronic signature: re-enter your password.",
                )
            ],
        )
    check_not_author(session, principal, kind, record, meaning)
    attempt = FailedAttempt(
        principal.tenant_id, user.id, kind, int(record.id), meaning.value, "wrong_password"
    )
    until = locked_until(session, user.id, policy)
    if until is not None:
        raise SigningLocked(
            FailedAttempt(**{**attempt.__dict__, "cause": "locked"}),
            "Signing is locked after {count} failed attempts; try again after {minutes} minutes.",
            params={"count": policy.max_failures, "minutes": policy.lockout_minutes},
        )
    if not verify_password(user.password_hash, credentials.password):
        raise SigningRefused(
            attempt,
            "The password is wrong; the record was not signed.",
            errors=[
                FieldError(
                    "signature.password",
                    Code.SIGNATURE_INVALID_CREDENTIALS,
                    "The password is wrong; the record was not signed.",
                )
            ],
        )
    method = "password"
    for factor in _SECOND_FACTORS:
        if not factor.required_for(session, user):
            continue
        if not credentials.second_factor or not factor.verify(
            session, user, credentials.second_factor
        ):
            raise SigningRefused(
                FailedAttempt(**{**attempt.__dict__, "cause": "second_factor"}),
                "The second factor is missing or wrong; the record was not signed.",
                errors=[
                    FieldError(
                        "signature.second_factor",
                        Code.SIGNATURE_INVALID_CREDENTIALS,
                        "The second factor is missing or wrong; the record was not signed.",
                    )
                ],
            )
        method = f"password+{factor.name}"
    content = record_content(session, kind, record)
    signature = ElectronicSignature(
        tenant_id=principal.tenant_id,
        record_kind=kind,
        record_id=int(record.id),
        record_label=spec.label(record)[:64],
        meaning=meaning.value,
        signer_user_id=user.id,
        signer_party_id=user.party_id,
        signer_username=user.username,
        printed_name=user.display_name,
        signed_at=utcnow(),
        content_hash=content_hash(content),
        content=content,
        record_state=str(getattr(record, "state", "") or ""),
        workflow_action=workflow_action,
        comment=(credentials.comment or "").strip()[:1000],
        authentication=method,
    )
    session.add(signature)
    session.flush()
    return signature


def keep_failed_attempt(
    session: Session, principal: Principal, refusal: SigningRefused, policy: SigningPolicy
) -> None:
    """Undo the caller's transaction, then record the failed attempt (and the lock it may set)
    in the audit trail and commit that alone: the refused change is gone, the attempt stays."""
    session.rollback()
    set_tenant_guc(session, principal.tenant_id)
    attempt = refusal.attempt
    now = utcnow()
    session.add(
        SigningFailure(
            tenant_id=attempt.tenant_id,
            user_id=attempt.user_id,
            record_kind=attempt.record_kind,
            record_id=attempt.record_id,
            meaning=attempt.meaning,
            cause=attempt.cause,
            at=now,
        )
    )
    session.flush()
    details = {
        "record_kind": attempt.record_kind,
        "record_id": attempt.record_id,
        "meaning": attempt.meaning,
        "cause": attempt.cause,
    }
    audit.record(
        session,
        tenant_id=attempt.tenant_id,
        action="sign_failed",
        entity_type="users",
        entity_id=attempt.user_id,
        new_values=details,
        reason="",
    )
    if attempt.cause != "locked":
        until = locked_until(session, attempt.user_id, policy, now)
        if until is not None:
            audit.record(
                session,
                tenant_id=attempt.tenant_id,
                action="sign_locked",
                entity_type="users",
                entity_id=attempt.user_id,
                new_values={"locked_until": until.isoformat(), "failures": policy.max_failures},
                reason="",
            )
    session.commit()


@contextmanager
def failed_attempts_kept(
    session: Session, principal: Principal, policy: SigningPolicy
) -> Iterator[None]:
    """Run a block that may sign; a refused signature is kept (see module docstring)."""
    try:
        yield
    except SigningRefused as refusal:
        keep_failed_attempt(session, principal, refusal, policy)
        raise


# --- reading and verifying -------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedSignature:
    """A signature with whether the record still has the content it signed."""

    signature: ElectronicSignature
    valid: bool


@dataclass(frozen=True)
class RecordSignatures:
    kind: str
    record_id: RecordId
    label: str
    current_hash: str
    signatures: list[CheckedSignature]

    @property
    def all_valid(self) -> bool:
        return all(s.valid for s in self.signatures)


def signatures_of(
    session: Session, principal: Principal, kind: str, record: Any
) -> RecordSignatures:
    """Every signature of a record the caller already loaded, oldest first, each checked
    against the record's current content hash."""
    current = content_hash(record_content(session, kind, record))
    items, _ = list_visible(
        session,
        ElectronicSignature,
        principal,
        filters=[
            ElectronicSignature.record_kind == kind,
            ElectronicSignature.record_id == record.id,
        ],
        order_by=ElectronicSignature.signed_at,
        page_size=1000,
    )
    return RecordSignatures(
        kind,
        int(record.id),
        signable(kind).label(record),
        current,
        [CheckedSignature(s, s.content_hash == current) for s in items],
    )


def record_signatures(
    session: Session, principal: Principal, kind: str, record_id: RecordId
) -> RecordSignatures:
    """Signatures of any signable record the caller may see (404 otherwise)."""
    from medledger.core.principal import Permission

    principal.require(Permission.QUALITY_READ)
    record = load_record(session, principal, kind, record_id)
    return signatures_of(session, principal, kind, record)


def sign_record(
    session: Session,
    principal: Principal,
    kind: str,
    record_id: RecordId,
    meaning: str,
    credentials: Credentials | None,
    *,
    policy: SigningPolicy | None = None,
) -> ElectronicSignature:
    """Sign any signable record directly (outside a workflow step): the kind says which
    permission each meaning needs."""
    spec = signable(kind)
    try:
        meaning_value = Meaning(meaning)
    except ValueError:
        raise field_error(
            "meaning",
            Code.SIGNATURE_UNKNOWN_MEANING,
            "{meaning} is not a signature meaning.",
            meaning=meaning,
        ) from None
    permission = spec.permissions.get(meaning_value)
    if permission is None:
        raise field_error(
            "meaning",
            Code.SIGNATURE_MEANING_NOT_ALLOWED,
            "A {kind} record cannot be signed as {meaning} outside its workflow.",
            kind=kind,
            meaning=meaning,
        )
    principal.require(permission)
    record = load_record(session, principal, kind, record_id)
    return sign(session, principal, kind, record, meaning_value, credentials, policy=policy)
