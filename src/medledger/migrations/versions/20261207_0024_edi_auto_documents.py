"""EDI: despatch advices sent by themselves at every shipping event (per partner), and the
order responses written to partners' outbound folders

Revision ID: 0024
Revises: 0020
Create Date: 2026-12-07 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from medledger.core.db import UTCDateTime
from medledger.migrations.rls import enable_tenant_rls

revision: str = "0024"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("edi_partner_settings") as batch:
        batch.add_column(
            sa.Column(
                "despatch_advice_auto", sa.Boolean(), nullable=False, server_default=sa.true()
            )
        )
    op.create_table(
        "edi_outbound_files",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("tenant_id", _ID, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("party_id", _ID, sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("written_path", sa.String(800), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_edi_outbound_files_tenant_id", "edi_outbound_files", ["tenant_id"])
    op.create_index("ix_edi_outbound_files_party_id", "edi_outbound_files", ["party_id"])
    enable_tenant_rls("edi_outbound_files")


def downgrade() -> None:
    op.drop_table("edi_outbound_files")
    with op.batch_alter_table("edi_partner_settings") as batch:
        batch.drop_column("despatch_advice_auto")
