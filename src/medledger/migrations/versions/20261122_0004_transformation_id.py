"""epcis_events.transformation_id and genealogy_edges.joined_event_row_id

TransformationEvents sharing a transformationID describe one transformation: the id is stored
(indexed per tenant) so a capture can join a new event to the earlier ones, and the edges such
a join creates name the earlier event, so retracting it retracts them. Both tables already
have row-level security (0002); new columns are covered by their policies.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("epcis_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transformation_id", sa.String(length=300), nullable=True))
        batch_op.create_index(
            "ix_epcis_events_transformation",
            ["tenant_id", "transformation_id"],
            unique=False,
            sqlite_where=sa.text("transformation_id IS NOT NULL"),
            postgresql_where=sa.text("transformation_id IS NOT NULL"),
        )
    with op.batch_alter_table("genealogy_edges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("joined_event_row_id", _ID, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("genealogy_edges", schema=None) as batch_op:
        batch_op.drop_column("joined_event_row_id")
    with op.batch_alter_table("epcis_events", schema=None) as batch_op:
        batch_op.drop_index("ix_epcis_events_transformation")
        batch_op.drop_column("transformation_id")
