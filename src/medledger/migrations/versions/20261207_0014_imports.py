"""Imports: saved column mappings, import runs and the rows they rejected

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from medledger.core.db import UTCDateTime
from medledger.migrations.rls import enable_tenant_rls

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "import_mappings",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("tenant_id", _ID, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("party_id", _ID, sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_import_mappings_tenant_id", "import_mappings", ["tenant_id"])
    op.create_index(
        "ix_import_mappings_name", "import_mappings", ["tenant_id", "party_id", "name"], unique=True
    )
    op.create_table(
        "import_runs",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("tenant_id", _ID, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("party_id", _ID, sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("mapping_name", sa.String(100), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("accepted_rows", sa.Integer(), nullable=False),
        sa.Column("rejected_rows", sa.Integer(), nullable=False),
        sa.Column("replayed_rows", sa.Integer(), nullable=False),
        sa.Column("rule_counts", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
    )
    op.create_index("ix_import_runs_tenant_id", "import_runs", ["tenant_id"])
    op.create_table(
        "import_rows",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("tenant_id", _ID, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("run_id", _ID, sa.ForeignKey("import_runs.id"), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("record_id", _ID, nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_import_rows_tenant_id", "import_rows", ["tenant_id"])
    op.create_index("ix_import_rows_run", "import_rows", ["run_id", "row_number"])
    for table in ("import_mappings", "import_runs", "import_rows"):
        enable_tenant_rls(table)


def downgrade() -> None:
    op.drop_table("import_rows")
    op.drop_table("import_runs")
    op.drop_table("import_mappings")
