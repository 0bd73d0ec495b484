"""orders board: priority rule-set versions, line scores, reservations, shortfalls, approvals
of exceptions, and the board column of an order (tenant row-level security on PostgreSQL)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 14:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from medledger.migrations.rls import enable_tenant_rls

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TABLES = (
    "priority_rule_sets",
    "order_line_scores",
    "order_reservations",
    "order_line_shortfalls",
    "order_approvals",
)


def _tenant(table: str) -> sa.Column:
    return sa.Column(
        "tenant_id",
        ID,
        sa.ForeignKey("tenants.id", name=f"fk_{table}_tenant_id_tenants"),
        nullable=False,
    )


def _party(table: str) -> sa.Column:
    return sa.Column(
        "party_id",
        ID,
        sa.ForeignKey("parties.id", name=f"fk_{table}_party_id_parties"),
        nullable=False,
    )


def _fk(
    table: str, column: str, target: str, ondelete: str | None = None, nullable: bool = False
) -> sa.Column:
    return sa.Column(
        column,
        ID,
        sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}", ondelete=ondelete),
        nullable=nullable,
    )


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("board_state", sa.String(length=16), nullable=False, server_default="new")
        )
    op.create_table(
        "priority_rule_sets",
        sa.Column("id", ID, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_priority_rule_sets"),
        _tenant("priority_rule_sets"),
        _party("priority_rule_sets"),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by_user_id", ID, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("tenant_id", "version", name="uq_priority_rule_sets_tenant_id_version"),
    )
    op.create_table(
        "order_line_scores",
        sa.Column("id", ID, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_order_line_scores"),
        _tenant("order_line_scores"),
        _party("order_line_scores"),
        _fk("order_line_scores", "order_id", "orders", "CASCADE"),
        _fk("order_line_scores", "order_line_id", "order_lines", "CASCADE"),
        _fk("order_line_scores", "rule_set_id", "priority_rule_sets"),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("contributions", sa.JSON(), nullable=False),
        sa.Column("override_score", sa.Float(), nullable=True),
        sa.Column("override_approval_id", ID, nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("order_line_id", name="uq_order_line_scores_order_line_id"),
    )
    op.create_index(
        "ix_order_line_scores_tenant_score", "order_line_scores", ["tenant_id", "score"]
    )
    op.create_table(
        "order_reservations",
        sa.Column("id", ID, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_order_reservations"),
        _tenant("order_reservations"),
        _party("order_reservations"),
        _fk("order_reservations", "order_id", "orders", "CASCADE"),
        _fk("order_reservations", "order_line_id", "order_lines", "CASCADE"),
        _fk("order_reservations", "location_id", "locations"),
        sa.Column("gtin", sa.String(14), nullable=False),
        sa.Column("lot", sa.String(20), nullable=False),
        sa.Column("expiry", sa.Date(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_order_reservations_lot", "order_reservations", ["tenant_id", "gtin", "lot"])
    op.create_index("ix_order_reservations_order_id", "order_reservations", ["order_id"])
    op.create_index("ix_order_reservations_order_line_id", "order_reservations", ["order_line_id"])
    op.create_table(
        "order_line_shortfalls",
        sa.Column("id", ID, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_order_line_shortfalls"),
        _tenant("order_line_shortfalls"),
        _party("order_line_shortfalls"),
        _fk("order_line_shortfalls", "order_id", "orders", "CASCADE"),
        _fk("order_line_shortfalls", "order_line_id", "order_lines", "CASCADE"),
        sa.Column("gtin", sa.String(14), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("order_line_id", name="uq_order_line_shortfalls_order_line_id"),
    )
    op.create_table(
        "order_approvals",
        sa.Column("id", ID, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_order_approvals"),
        _tenant("order_approvals"),
        _party("order_approvals"),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("order_line_id", ID, nullable=True),
        sa.Column("reservation_id", ID, nullable=True),
        sa.Column("rule_set_id", ID, nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by_user_id", ID, nullable=True),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
    )
    op.create_index("ix_order_approvals_tenant_state", "order_approvals", ["tenant_id", "state"])
    for table in TABLES:
        op.create_index(f"ix_{table}_tenant_id", table, ["tenant_id"])
        op.create_index(f"ix_{table}_party_id", table, ["party_id"])
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("board_state")
