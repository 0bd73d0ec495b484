"""parties (tenant_id, updated_at) index for the trace freshness probe

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 00:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_parties_tenant_updated", "parties", ["tenant_id", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_parties_tenant_updated", table_name="parties")
