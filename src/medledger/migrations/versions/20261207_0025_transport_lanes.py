"""Transport lanes and lane choices; promise dates of shortfalls; due dates of work orders

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 18:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from medledger.migrations.rls import enable_tenant_rls

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "transport_lanes",
        sa.Column("id", ID, nullable=False),
        sa.Column("tenant_id", ID, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("origin_site_id", ID, nullable=False),
        sa.Column("destination_region", sa.String(length=8), nullable=False),
        sa.Column("ship_to_id", ID, nullable=True),
        sa.Column("carrier", sa.String(length=200), nullable=False),
        sa.Column("mode", sa.String(length=10), nullable=False),
        sa.Column("cost", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("transit_days", sa.Integer(), nullable=False),
        sa.Column("cold_chain", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["origin_site_id"], ["sites.id"], name=op.f("fk_transport_lanes_origin_site_id_sites")
        ),
        sa.ForeignKeyConstraint(
            ["ship_to_id"],
            ["customer_ship_tos.id"],
            name=op.f("fk_transport_lanes_ship_to_id_customer_ship_tos"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_transport_lanes_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transport_lanes")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_transport_lanes_tenant_id_code")),
    )
    with op.batch_alter_table("transport_lanes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_transport_lanes_origin", ["tenant_id", "origin_site_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_transport_lanes_tenant_id"), ["tenant_id"], unique=False
        )
    op.create_table(
        "transport_lane_choices",
        sa.Column("id", ID, nullable=False),
        sa.Column("tenant_id", ID, nullable=False),
        sa.Column("order_line_id", ID, nullable=False),
        sa.Column("lane_id", ID, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("chosen_by", sa.String(length=200), nullable=False),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lane_id"],
            ["transport_lanes.id"],
            name=op.f("fk_transport_lane_choices_lane_id_transport_lanes"),
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_lines.id"],
            name=op.f("fk_transport_lane_choices_order_line_id_order_lines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_transport_lane_choices_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transport_lane_choices")),
        sa.UniqueConstraint("order_line_id", name=op.f("uq_transport_lane_choices_order_line_id")),
    )
    with op.batch_alter_table("transport_lane_choices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transport_lane_choices_tenant_id"), ["tenant_id"], unique=False
        )
    for table in ("transport_lanes", "transport_lane_choices"):
        enable_tenant_rls(table)
    with op.batch_alter_table("order_line_shortfalls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("promise_date", sa.Date(), nullable=True))
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("work_orders", schema=None) as batch_op:
        batch_op.drop_column("due_date")
    with op.batch_alter_table("order_line_shortfalls", schema=None) as batch_op:
        batch_op.drop_column("promise_date")
    with op.batch_alter_table("transport_lane_choices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transport_lane_choices_tenant_id"))
    op.drop_table("transport_lane_choices")
    with op.batch_alter_table("transport_lanes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transport_lanes_tenant_id"))
        batch_op.drop_index("ix_transport_lanes_origin")
    op.drop_table("transport_lanes")
