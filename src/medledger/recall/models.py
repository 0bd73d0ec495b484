"""Recall cases: the case itself, its scope snapshot, and one notice per consignee party.

A recall is started from identifiers the trace accepts; at initiation the trace computes the
scope, which is kept as it was (``RecallScope``: the hub's working copy, never shown to
partners). Each consignee gets a ``RecallNotice`` listing what it was shipped and holds; its
users acknowledge it (or the hub records the answer on its behalf, with a reason).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from medledger.core.db import Base, BigId, UTCDateTime, utcnow


class HazardClass(StrEnum):
    """FDA health-hazard class (21 CFR 7.3(m)): I most serious."""

    I = "I"  # noqa: E741
    II = "II"
    III = "III"


class Depth(StrEnum):
    """How far down the distribution chain the recall goes (21 CFR 7.42(b)(1))."""

    CONSUMER = "consumer"
    RETAIL = "retail"
    WHOLESALE = "wholesale"


class RecallAction(StrEnum):
    """21 CFR 806: a removal takes the device away; a correction fixes it where it is."""

    REMOVAL = "removal"
    CORRECTION = "correction"


class Recall(Base):
    """A recall case. ``identifiers`` are as given (scans, bracketed strings, URIs); the
    counts and ``scope_hash`` summarise the scope snapshot the initiator signed."""

    __tablename__ = "recalls"
    __audit_entity__ = "recall"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        Index("ix_recalls_state", "tenant_id", "state"),
    )
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    number: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(32))
    hazard_class: Mapped[str] = mapped_column(String(4))
    depth: Mapped[str] = mapped_column(String(12))
    action: Mapped[str] = mapped_column(String(12), default=RecallAction.REMOVAL.value)
    reason: Mapped[str] = mapped_column(Text)
    health_hazard: Mapped[str] = mapped_column(Text, default="")
    instructions: Mapped[str] = mapped_column(Text, default="")
    identifiers: Mapped[list[str]] = mapped_column(JSON, default=list)
    ncr_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("quality_ncrs.id"), nullable=True)
    scope_hash: Mapped[str] = mapped_column(String(64), default="")
    lots_in_scope: Mapped[int] = mapped_column(Integer, default=0)
    serials_in_scope: Mapped[int] = mapped_column(Integer, default=0)
    logistic_units_in_scope: Mapped[int] = mapped_column(Integer, default=0)
    shipments_in_scope: Mapped[int] = mapped_column(Integer, default=0)
    consignees: Mapped[int] = mapped_column(Integer, default=0)
    units_held: Mapped[int] = mapped_column(Integer, default=0)
    trace_completeness: Mapped[float] = mapped_column(default=1.0)
    initiated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    all_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    all_acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by_user_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id"), nullable=True
    )
    created_by_party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RecallScope(Base):
    """The scope as the trace computed it at initiation (items, shipments, parties, upstream
    context, own stock recalled, completeness). Hub only: no partner-visibility rule."""

    __tablename__ = "recall_scopes"

    recall_id: Mapped[int] = mapped_column(BigId, ForeignKey("recalls.id"), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    seconds_to_scope: Mapped[float] = mapped_column(default=0.0)


class RecallNotice(Base):
    """What one consignee was told: the items it was shipped or holds, and its answer.
    ``party_id`` is None for a consignee known only by its GLN (no portal: the hub records
    its answer)."""

    __tablename__ = "recall_notices"
    __audit_entity__ = "recall_notice"
    __table_args__ = (
        UniqueConstraint("recall_id", "party_key"),
        Index("ix_recall_notices_party", "tenant_id", "party_id"),
    )
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    recall_id: Mapped[int] = mapped_column(BigId, ForeignKey("recalls.id"), index=True)
    party_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("parties.id"), nullable=True)
    # The party id as text, or its GLN/reference when unregistered (one notice per consignee).
    party_key: Mapped[str] = mapped_column(String(300))
    gln: Mapped[str | None] = mapped_column(String(13), nullable=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    units: Mapped[int] = mapped_column(Integer, default=0)
    notified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outbox_message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_by_user_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    acknowledged_by: Mapped[str] = mapped_column(String(200), default="")
    on_behalf: Mapped[bool] = mapped_column(Boolean, default=False)
    on_behalf_reason: Mapped[str] = mapped_column(Text, default="")
    quantity_on_hand: Mapped[int] = mapped_column(Integer, default=0)
    quantity_returned: Mapped[int] = mapped_column(Integer, default=0)
    quantity_destroyed: Mapped[int] = mapped_column(Integer, default=0)
    comment: Mapped[str] = mapped_column(Text, default="")
