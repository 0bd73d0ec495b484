"""Production: work orders and the components each consumed (device history record)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from medledger.core.db import UTCDateTime
from medledger.migrations.rls import enable_tenant_rls

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "work_orders",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("tenant_id", _ID, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("number", sa.String(30), nullable=False),
        sa.Column("product_id", _ID, sa.ForeignKey("products.id"), nullable=False),
        sa.Column("gtin", sa.String(14), nullable=False),
        sa.Column("bom_id", _ID, sa.ForeignKey("boms.id"), nullable=False),
        sa.Column("bom_version", sa.Integer(), nullable=False),
        sa.Column("location_id", _ID, sa.ForeignKey("locations.id"), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("lot", sa.String(20), nullable=False),
        sa.Column("serials", sa.JSON(), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_by", sa.String(200), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("completed_by", sa.String(200), nullable=False),
        sa.Column("completed_at", UTCDateTime(), nullable=True),
        sa.Column("operators", sa.JSON(), nullable=False),
        sa.Column("event_id", sa.String(100), nullable=False),
        sa.Column("epcis_event_row_id", _ID, nullable=True),
        sa.UniqueConstraint("tenant_id", "number"),
        sa.CheckConstraint("quantity > 0", name="work_order_quantity_positive"),
    )
    op.create_index("ix_work_orders_tenant_id", "work_orders", ["tenant_id"])
    op.create_index("ix_work_orders_tenant_lot", "work_orders", ["tenant_id", "gtin", "lot"])
    op.create_table(
        "work_order_components",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("tenant_id", _ID, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column(
            "work_order_id",
            _ID,
            sa.ForeignKey("work_orders.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("gtin", sa.String(14), nullable=False),
        sa.Column("lot", sa.String(20), nullable=False),
        sa.Column("serial", sa.String(20), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=True),
        sa.CheckConstraint("quantity > 0", name="work_order_component_positive"),
    )
    op.create_index("ix_work_order_components_tenant_id", "work_order_components", ["tenant_id"])
    op.create_index(
        "ix_work_order_components_work_order_id", "work_order_components", ["work_order_id"]
    )
    for table in ("work_orders", "work_order_components"):
        enable_tenant_rls(table)


def downgrade() -> None:
    op.drop_table("work_order_components")
    op.drop_table("work_orders")
