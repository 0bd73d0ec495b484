"""EPCIS REST binding: named queries and their subscriptions (tenant row-level security)

Revision ID: 0020
Revises: 0022
Create Date: 2026-12-07 14:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from medledger.migrations.rls import enable_tenant_rls

revision: str = "0020"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "epcis_named_queries",
        sa.Column("id", BIG, nullable=False),
        sa.Column("tenant_id", BIG, nullable=False),
        sa.Column("party_id", BIG, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("query", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["party_id"], ["parties.id"]),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "party_id", "name"),
    )
    op.create_index(op.f("ix_epcis_named_queries_tenant_id"), "epcis_named_queries", ["tenant_id"])
    op.create_table(
        "epcis_query_subscriptions",
        sa.Column("id", BIG, nullable=False),
        sa.Column("tenant_id", BIG, nullable=False),
        sa.Column("party_id", BIG, nullable=False),
        sa.Column("query_id", BIG, nullable=False),
        sa.Column("subscription_id", sa.String(length=64), nullable=False),
        sa.Column("dest", sa.String(length=2000), nullable=False),
        sa.Column("webhook_subscription_id", BIG, nullable=True),
        sa.Column("user_id", BIG, nullable=True),
        sa.Column("api_key_id", BIG, nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("username", sa.String(length=200), nullable=False),
        sa.Column("epc_format", sa.String(length=32), nullable=False),
        sa.Column("report_if_empty", sa.Boolean(), nullable=False),
        sa.Column("initial_record_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["party_id"], ["parties.id"]),
        sa.ForeignKeyConstraint(["query_id"], ["epcis_named_queries.id"]),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscription_id"),
    )
    op.create_index(
        op.f("ix_epcis_query_subscriptions_tenant_id"), "epcis_query_subscriptions", ["tenant_id"]
    )
    op.create_index(
        op.f("ix_epcis_query_subscriptions_query_id"), "epcis_query_subscriptions", ["query_id"]
    )
    for table in ("epcis_named_queries", "epcis_query_subscriptions"):
        enable_tenant_rls(table)


def downgrade() -> None:
    op.drop_table("epcis_query_subscriptions")
    op.drop_table("epcis_named_queries")
