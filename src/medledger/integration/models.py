"""Outbox messages, webhook subscriptions and their deliveries.

A business fact a partner may need is written as an :class:`OutboxMessage` in the transaction
of the change, together with one :class:`Delivery` per matching active subscription. The
worker delivers after commit; a delivery's state moves pending → delivered, or pending →
retrying → … → delivered | dead, with the last error kept. Messages and deliveries are the
delivery machinery's own bookkeeping, not business records: they are not audited row by row
(subscriptions and replays are).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from medledger.core.db import Base, BigId, TenantScoped, UTCDateTime, utcnow


class DeliveryState(StrEnum):
    PENDING = "pending"
    RETRYING = "retrying"
    DELIVERED = "delivered"
    DEAD = "dead"


class WebhookSubscription(TenantScoped, Base):
    """A party's subscription to event types, delivered to ``url`` signed with ``secret``.

    The secret is shown once, at creation; it is kept (HMAC needs it at every delivery) and
    redacted from the audit trail."""

    __tablename__ = "webhook_subscriptions"
    __audit__ = True
    __audit_redact__ = frozenset({"secret"})

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))


class OutboxMessage(TenantScoped, Base):
    """One business fact to deliver. ``message_id`` is the idempotency id every delivery of it
    carries: a receiver that remembers it applies the fact once however often it arrives.
    ``audience`` are the party ids that may see the fact (the hub's subscriptions see all)."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    event_type: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(300))
    audience: Mapped[list[int]] = mapped_column(JSON)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Delivery(TenantScoped, Base):
    """The delivery of one message to one subscription."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_subscription", "tenant_id", "subscription_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    message_row_id: Mapped[int] = mapped_column(BigId, ForeignKey("outbox_messages.id"))
    subscription_id: Mapped[int] = mapped_column(BigId, ForeignKey("webhook_subscriptions.id"))
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"))
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
