"""Trace: index the serials of a lot (``trace_items (tenant_id, lot_item_id)``)

The trace answers requests that arrive before its in-memory snapshot is loaded with a
recursive SQL walk (``trace/snapshot.py``, ``sql_snapshot``); its lot → serials step probes
this index (without it, every step scans the tenant's items).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 18:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_trace_items_lot", "trace_items", ["tenant_id", "lot_item_id"])


def downgrade() -> None:
    op.drop_index("ix_trace_items_lot", table_name="trace_items")
