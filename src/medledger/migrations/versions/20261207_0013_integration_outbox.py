"""Integration gateway: webhook subscriptions, outbox messages, deliveries

Revision ID: 0013
Revises: 0004
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from medledger.core.db import UTCDateTime
from medledger.migrations.rls import enable_tenant_rls

revision: str = "0013"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("tenant_id", _ID, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("party_id", _ID, sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
    )
    op.create_index("ix_webhook_subscriptions_tenant_id", "webhook_subscriptions", ["tenant_id"])
    op.create_index("ix_webhook_subscriptions_party_id", "webhook_subscriptions", ["party_id"])
    op.create_table(
        "outbox_messages",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("tenant_id", _ID, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("message_id", sa.String(36), nullable=False, unique=True),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_outbox_messages_tenant_id", "outbox_messages", ["tenant_id"])
    op.create_index(
        "ix_outbox_messages_tenant_created", "outbox_messages", ["tenant_id", "created_at"]
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("tenant_id", _ID, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("message_row_id", _ID, sa.ForeignKey("outbox_messages.id"), nullable=False),
        sa.Column(
            "subscription_id", _ID, sa.ForeignKey("webhook_subscriptions.id"), nullable=False
        ),
        sa.Column("party_id", _ID, sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("last_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_webhook_deliveries_tenant_id", "webhook_deliveries", ["tenant_id"])
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["state", "next_attempt_at"])
    op.create_index(
        "ix_webhook_deliveries_subscription",
        "webhook_deliveries",
        ["tenant_id", "subscription_id", "id"],
    )
    for table in ("webhook_subscriptions", "outbox_messages", "webhook_deliveries"):
        enable_tenant_rls(table)


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("outbox_messages")
    op.drop_table("webhook_subscriptions")
