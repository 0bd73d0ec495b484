"""The append-only, hash-chained audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from medledger.core.db import Base, BigId, UTCDateTime


class AuditEntry(Base):
    """One change. ``entry_hash`` = SHA-256 over the canonical JSON of the entry and the
    previous entry's hash, chained per tenant by ``seq``."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        UniqueConstraint("tenant_id", "seq"),
        Index("ix_audit_entries_entity", "tenant_id", "entity_type", "entity_id"),
        Index("ix_audit_entries_actor", "tenant_id", "actor_user_id"),
        Index("ix_audit_entries_time", "tenant_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_user_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    actor_label: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(32))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    old_values: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    new_values: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The last link of each tenant's chain, updated with every append: makes truncation of the
    tail detectable and serialises appends (row lock on PostgreSQL)."""

    __tablename__ = "audit_heads"

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


class ElectronicSignature(Base):
    """A 21 CFR Part 11 electronic signature: who (printed name), when (UTC), what it means, and
    the SHA-256 of the exact record version signed (``content`` is that version's canonical
    content, kept so an inspector can see what was signed). Append-only: rows are never updated
    or deleted (the ORM refuses, see ``compliance.signing``)."""

    __tablename__ = "electronic_signatures"
    __table_args__ = (
        Index("ix_electronic_signatures_record", "tenant_id", "record_kind", "record_id"),
    )
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    record_kind: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[int] = mapped_column(BigId)
    record_label: Mapped[str] = mapped_column(String(64))
    meaning: Mapped[str] = mapped_column(String(16))
    signer_user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    signer_party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"))
    signer_username: Mapped[str] = mapped_column(String(64))
    printed_name: Mapped[str] = mapped_column(String(200))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    content_hash: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    record_state: Mapped[str] = mapped_column(String(32), default="")
    workflow_action: Mapped[str | None] = mapped_column(String(32), nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    # "password", or "password+<factor>" when a second factor was checked as well.
    authentication: Mapped[str] = mapped_column(String(32))


class SigningFailure(Base):
    """A failed signing attempt (wrong password or second factor, or refused while locked):
    counted for the signing lock, and written to the audit trail as well."""

    __tablename__ = "signing_failures"
    __table_args__ = (Index("ix_signing_failures_user_time", "user_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    record_kind: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[int] = mapped_column(BigId)
    meaning: Mapped[str] = mapped_column(String(16))
    cause: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class WorkflowTransition(Base):
    """One step of a quality record's workflow: action, from and to state, actor, reason and the
    signature it required (if any). The record's history, readable by whoever sees the record."""

    __tablename__ = "workflow_transitions"
    __table_args__ = (
        Index("ix_workflow_transitions_record", "tenant_id", "record_kind", "record_id"),
    )
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    record_kind: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[int] = mapped_column(BigId)
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    actor_user_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    actor_party_id: Mapped[int] = mapped_column(BigId)
    actor_label: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    signature_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("electronic_signatures.id"), nullable=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime)
