"""Integration gateway: per-partner EDI settings, despatch advices, API key expiry, rotation
and rate limits, user expiry, data dictionary versions

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from medledger.core.db import UTCDateTime
from medledger.migrations.rls import enable_tenant_rls

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "edi_partner_settings",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("tenant_id", _ID, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("party_id", _ID, sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("syntax", sa.String(8), nullable=False),
        sa.Column("our_id", sa.String(40), nullable=False),
        sa.Column("partner_id", sa.String(40), nullable=False),
        sa.Column("element_separator", sa.String(1), nullable=False),
        sa.Column("component_separator", sa.String(1), nullable=False),
        sa.Column("segment_terminator", sa.String(1), nullable=False),
        sa.Column("outbound_folder", sa.String(500), nullable=False),
        sa.Column("deliver_via_outbox", sa.Boolean(), nullable=False),
        sa.Column("test_indicator", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("tenant_id", "party_id"),
    )
    op.create_index("ix_edi_partner_settings_tenant_id", "edi_partner_settings", ["tenant_id"])
    op.create_index("ix_edi_partner_settings_party_id", "edi_partner_settings", ["party_id"])
    op.create_table(
        "edi_despatch_advices",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("tenant_id", _ID, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("party_id", _ID, sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("ship_event_row_id", _ID, nullable=False),
        sa.Column("number", sa.String(35), nullable=False),
        sa.Column("syntax", sa.String(8), nullable=False),
        sa.Column("standard", sa.String(8), nullable=False),
        sa.Column("control_reference", sa.String(14), nullable=False),
        sa.Column("ssccs", sa.JSON(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("written_path", sa.String(800), nullable=False),
        sa.Column("outbox_message_id", sa.String(36), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
    )
    op.create_index("ix_edi_despatch_advices_tenant_id", "edi_despatch_advices", ["tenant_id"])
    op.create_index("ix_edi_despatch_advices_party_id", "edi_despatch_advices", ["party_id"])
    op.create_index(
        "ix_edi_despatch_advices_tenant_event",
        "edi_despatch_advices",
        ["tenant_id", "ship_event_row_id"],
    )
    op.create_table(
        "dictionary_versions",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("tenant_id", _ID, sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_by_user_id", _ID, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("approved_at", UTCDateTime(), nullable=True),
        sa.Column("signature_id", _ID, nullable=True),
        sa.UniqueConstraint("tenant_id", "number"),
    )
    op.create_index("ix_dictionary_versions_tenant_id", "dictionary_versions", ["tenant_id"])
    for table in ("edi_partner_settings", "edi_despatch_advices", "dictionary_versions"):
        enable_tenant_rls(table)
    op.create_table(
        "api_rate_windows",
        sa.Column("key_id", _ID, primary_key=True),
        sa.Column("window_start", _ID, primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    op.add_column("api_keys", sa.Column("expires_at", UTCDateTime(), nullable=True))
    op.add_column("api_keys", sa.Column("replaced_by_id", _ID, nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        # SQLite cannot add a constraint to an existing table (the column still works).
        op.create_foreign_key(
            "fk_api_keys_replaced_by_id", "api_keys", "api_keys", ["replaced_by_id"], ["id"]
        )
    op.add_column("api_keys", sa.Column("rate_limit_requests", sa.Integer(), nullable=True))
    op.add_column("users", sa.Column("expires_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("expires_at")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("rate_limit_requests")
        batch.drop_column("replaced_by_id")
        batch.drop_column("expires_at")
    op.drop_table("api_rate_windows")
    op.drop_table("dictionary_versions")
    op.drop_table("edi_despatch_advices")
    op.drop_table("edi_partner_settings")
