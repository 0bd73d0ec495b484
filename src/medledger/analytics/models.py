"""Analytics' own records: the tenant's scorecard weights and KPI targets (data, not code), and
supplier improvement plans with their actions and reviews."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from medledger.core.db import Base, BigId, TenantScoped, UTCDateTime, utcnow


class PlanState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ActionSide(StrEnum):
    HUB = "hub"
    SUPPLIER = "supplier"


class AnalyticsSettings(TenantScoped, Base):
    """Per tenant: the scorecard's weights and scoring parameters and the KPI targets, as JSON
    documents validated by ``analytics.schemas`` (the defaults live in ``analytics.scorecard`` and
    ``analytics.kpis``)."""

    __tablename__ = "analytics_settings"
    __table_args__ = (UniqueConstraint("tenant_id"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    scorecard: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    kpi_targets: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ImprovementPlan(TenantScoped, Base):
    """A supplier improvement plan: a goal for a supplier, linked to the NCRs and CAPAs that
    triggered it; shared with that supplier's users."""

    __tablename__ = "improvement_plans"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        Index("ix_improvement_plans_supplier", "tenant_id", "supplier_party_id"),
    )
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    number: Mapped[str] = mapped_column(String(32))
    supplier_party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"))
    title: Mapped[str] = mapped_column(String(200))
    goal: Mapped[str] = mapped_column(Text, default="")
    owner_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), nullable=True)
    due_date: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10), default=PlanState.OPEN.value)
    ncr_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    capa_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ImprovementAction(TenantScoped, Base):
    """One action of a plan, owned by the hub or by the supplier (a named person)."""

    __tablename__ = "improvement_actions"
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    plan_id: Mapped[int] = mapped_column(BigId, ForeignKey("improvement_plans.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    side: Mapped[str] = mapped_column(String(10))
    owner_name: Mapped[str] = mapped_column(String(200))
    due_date: Mapped[date] = mapped_column(Date)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    done_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ImprovementReview(TenantScoped, Base):
    """A periodic review of a plan: who reviewed it, when, and what was concluded."""

    __tablename__ = "improvement_reviews"
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    plan_id: Mapped[int] = mapped_column(BigId, ForeignKey("improvement_plans.id"), index=True)
    reviewer_label: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text)
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
