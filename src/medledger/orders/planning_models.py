"""Priority and allocation, persisted: rule-set versions, line scores, stock reservations and
approvals of exceptions (manual priority overrides, pre-emptions, rule-set activations).

The engines in ``medledger.priority`` are pure; these tables are what orders keeps of their
answers. Scores and reservations are derived data (recomputed when facts change), so they are
not row-audited one by one; every decision a person takes (a rule-set version, an approval, a
board move, a pre-emption) is.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from medledger.core.db import Base, BigId, TenantScoped, UTCDateTime, utcnow


class RuleSetState(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    RETIRED = "retired"


class PriorityRuleSet(TenantScoped, Base):
    """One version of the priority rules (the engine's rule-set JSON and its digest)."""

    __tablename__ = "priority_rule_sets"
    __table_args__ = (UniqueConstraint("tenant_id", "version"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    # Rule sets are the hub's: its party owns them (partners never see them).
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12), default=RuleSetState.DRAFT.value)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_user_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"


class LineScore(TenantScoped, Base):
    """The current priority score of one open order line, with its factor contributions."""

    __tablename__ = "order_line_scores"
    __table_args__ = (
        UniqueConstraint("order_line_id"),
        Index("ix_order_line_scores_tenant_score", "tenant_id", "score"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("order_lines.id", ondelete="CASCADE")
    )
    rule_set_id: Mapped[int] = mapped_column(BigId, ForeignKey("priority_rule_sets.id"))
    # The total: the computed factor contributions plus the manual override's adjustment.
    score: Mapped[float] = mapped_column(Float)
    # [[factor key, contribution], …] in rule-set order (float32 values, as computed).
    contributions: Mapped[list[Any]] = mapped_column(JSON)
    # An approved manual override: the score the line gets (the adjustment is explained).
    override_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    override_approval_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReservationStatus(StrEnum):
    RESERVED = "reserved"
    PICKED = "picked"
    SHIPPED = "shipped"


class Reservation(TenantScoped, Base):
    """Units of one lot at one location held for one order line (until picked and shipped)."""

    __tablename__ = "order_reservations"
    __table_args__ = (Index("ix_order_reservations_lot", "tenant_id", "gtin", "lot"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    order_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    order_line_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("order_lines.id", ondelete="CASCADE"), index=True
    )
    location_id: Mapped[int] = mapped_column(BigId, ForeignKey("locations.id"))
    gtin: Mapped[str] = mapped_column(String(14))
    lot: Mapped[str] = mapped_column(String(20))
    expiry: Mapped[date | None] = mapped_column(Date, nullable=True)
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default=ReservationStatus.RESERVED.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LineShortfall(TenantScoped, Base):
    """What the last plan could not reserve for an open line, why, and when it is promised."""

    __tablename__ = "order_line_shortfalls"
    __table_args__ = (UniqueConstraint("order_line_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("order_lines.id", ondelete="CASCADE")
    )
    gtin: Mapped[str] = mapped_column(String(14))
    quantity: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    # The earliest delivery incoming supply (confirmed purchase orders, production, else the
    # supplier's lead time) covers the shortfall by; None: nothing covers it.
    promise_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApprovalKind(StrEnum):
    OVERRIDE = "override"
    PREEMPTION = "preemption"
    RULE_SET = "rule_set"


class ApprovalState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class PlanningApproval(TenantScoped, Base):
    """A request that needs a second person's signed approval (see orders/approvals.py)."""

    __tablename__ = "order_approvals"
    __table_args__ = (Index("ix_order_approvals_tenant_state", "tenant_id", "state"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    state: Mapped[str] = mapped_column(String(10), default=ApprovalState.PENDING.value)
    order_line_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    reservation_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    rule_set_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    # What is asked (override: {"score"}; pre-emption: the reservation as it was; rule set:
    # {"digest"}): the signed content.
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    requested_by_user_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    requested_by: Mapped[str] = mapped_column(String(200), default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[str] = mapped_column(String(200), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decision_note: Mapped[str] = mapped_column(Text, default="")

    @property
    def number(self) -> str:
        return f"APR-{self.id:06d}"
