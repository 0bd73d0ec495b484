"""users.credential_epoch and auth_sessions.credential_epoch: revoking sessions at once

A user's credential epoch is raised when its password changes, when it is deactivated and when
its party is deactivated; a session or bearer token carries the epoch it was issued under and
is refused once the user's epoch has moved on, on every server process (the check is part of
the lookup that resolves the token). Both tables already have row-level security.

Revision ID: 0015
Revises: 0023
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("users", "auth_sessions"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("credential_epoch", sa.Integer(), server_default="0", nullable=False)
            )


def downgrade() -> None:
    for table in ("auth_sessions", "users"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("credential_epoch")
