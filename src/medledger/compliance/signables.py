"""Which records can be signed, and the hash of a record version.

A context makes its records signable by registering a :class:`SignableKind` at import time
(``quality/signables.py`` does so for NCR, CAPA and change requests)::

    register_signable(SignableKind(kind="ncr", model=Ncr, label=..., content=..., author=...))

The signature binds to :func:`content_hash` of the record's *content*: the kind's ``content``
function returns the fields that make up what is signed (never the workflow state or
bookkeeping times, so a later transition does not break an earlier signature; any edit of a
signed field does). The hash is SHA-256 over the canonical JSON (sorted keys, no whitespace,
UTF-8; the audit trail's canonical form) of ``{"kind", "id", "content"}``.

Signatures and workflow transitions are visible exactly where their record is: their
partner-visibility rule asks each registered kind's own rule (``core.scoping``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from medledger.compliance.audit import canonical_json
from medledger.compliance.errors import Code
from medledger.compliance.models import ElectronicSignature, WorkflowTransition
from medledger.core.errors import NotFound, field_error
from medledger.core.principal import Permission, Principal
from medledger.core.repository import get_visible
from medledger.core.scoping import party_rule, visibility
from medledger.core.types import RecordId


class Meaning(StrEnum):
    """What a signature means (21 CFR 11.50(a)(3))."""

    AUTHORED = "authored"
    REVIEWED = "reviewed"
    APPROVED = "approved"
    RELEASED = "released"
    REJECTED = "rejected"
    CLOSED = "closed"


# Meanings the author of a record may not give (21 CFR 820 / ISO 13485: independent approval).
APPROVING_MEANINGS = frozenset({Meaning.APPROVED, Meaning.RELEASED, Meaning.CLOSED})


@dataclass(frozen=True)
class SignableKind:
    """A kind of record that can be signed.

    ``content(session, record)`` returns the signed fields (JSON-able); ``author(record)`` the
    user id of the record's author; ``label(record)`` its human number (``NCR-2026-0001``);
    ``permissions`` the permission each meaning needs when signed directly (outside a workflow
    transition, whose own permission applies); ``path(record)`` the record's page.
    """

    kind: str
    model: type
    content: Callable[[Session, Any], dict[str, Any]]
    author: Callable[[Any], int | None]
    label: Callable[[Any], str]
    path: Callable[[Any], str]
    permissions: dict[Meaning, Permission] = field(default_factory=dict)


_KINDS: dict[str, SignableKind] = {}


def register_signable(kind: SignableKind) -> None:
    """Make records of ``kind.kind`` signable (call at import time)."""
    _KINDS[kind.kind] = kind


def signable_kinds() -> dict[str, SignableKind]:
    return dict(_KINDS)


def signable(kind: str) -> SignableKind:
    """The registered kind, or 422 naming the field."""
    found = _KINDS.get(kind)
    if found is None:
        raise field_error(
            "record_kind",
            Code.SIGNATURE_UNKNOWN_KIND,
            "{kind} is not a kind of record that can be signed.",
            kind=kind,
        )
    return found


def load_record(session: Session, principal: Principal, kind: str, record_id: RecordId) -> Any:
    """The record if the principal may see it; 404 otherwise (never 403)."""
    spec = signable(kind)
    return get_visible(session, spec.model, record_id, principal)


def record_content(session: Session, kind: str, record: Any) -> dict[str, Any]:
    """The signed content of ``record`` (JSON values: dates as ISO strings, decimals as text):
    what a signature's hash covers and what the signature row keeps."""
    content = {
        "kind": kind,
        "id": int(record.id),
        "content": signable(kind).content(session, record),
    }
    loaded: dict[str, Any] = json.loads(canonical_json(content))
    return loaded


def content_hash(content: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of a record's signed content."""
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def _visible_records(record_kind: Any, record_id: Any, principal: Principal) -> ColumnElement[bool]:
    conditions = [
        and_(
            record_kind == spec.kind,
            record_id.in_(
                select(spec.model.id).where(visibility(spec.model, principal))  # type: ignore[attr-defined]
            ),
        )
        for spec in _KINDS.values()
    ]
    return or_(*conditions) if conditions else false()


@party_rule(ElectronicSignature)
def _signature_visible(principal: Principal) -> ColumnElement[bool]:
    return _visible_records(
        ElectronicSignature.record_kind, ElectronicSignature.record_id, principal
    )


@party_rule(WorkflowTransition)
def _transition_visible(principal: Principal) -> ColumnElement[bool]:
    return _visible_records(WorkflowTransition.record_kind, WorkflowTransition.record_id, principal)


def not_found(kind: str, record_id: RecordId) -> NotFound:
    return NotFound("{entity} {id} was not found.", params={"entity": kind, "id": record_id})
