"""quality complaints and service records: complaints and adverse-event reports by UDI with
reportability decisions per regulator, and servicing records per serial (both under tenant
row-level security on PostgreSQL)

Revision ID: 0023
Revises: 0012
Create Date: 2026-12-07 14:32:00.866044
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from medledger.migrations.rls import enable_tenant_rls

revision: str = "0023"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quality_complaints",
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=True),
        sa.Column("reporter_contact", sa.String(length=200), nullable=False),
        sa.Column("harm", sa.String(length=16), nullable=False),
        sa.Column("patient_involved", sa.Boolean(), nullable=False),
        sa.Column("udi", sa.String(length=200), nullable=False),
        sa.Column("udi_gtin", sa.String(length=14), nullable=False),
        sa.Column("udi_lot", sa.String(length=20), nullable=True),
        sa.Column("udi_serial", sa.String(length=20), nullable=True),
        sa.Column("udi_expiry", sa.String(length=10), nullable=True),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("investigation", sa.Text(), nullable=False),
        sa.Column("fda_mdr_reportable", sa.Boolean(), nullable=True),
        sa.Column("eu_vigilance_reportable", sa.Boolean(), nullable=True),
        sa.Column("nmpa_reportable", sa.Boolean(), nullable=True),
        sa.Column("reportability_rationale", sa.Text(), nullable=False),
        sa.Column("report_references", sa.String(length=500), nullable=False),
        sa.Column("conclusion", sa.Text(), nullable=False),
        sa.Column("ncr_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("capa_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column(
            "owner_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column(
            "created_by_user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column(
            "created_by_party_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["capa_id"],
            ["quality_capas.id"],
            name=op.f("fk_quality_complaints_capa_id_quality_capas"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_party_id"],
            ["parties.id"],
            name=op.f("fk_quality_complaints_created_by_party_id_parties"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_quality_complaints_created_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["ncr_id"], ["quality_ncrs.id"], name=op.f("fk_quality_complaints_ncr_id_quality_ncrs")
        ),
        sa.ForeignKeyConstraint(
            ["owner_user_id"], ["users.id"], name=op.f("fk_quality_complaints_owner_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_quality_complaints_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_quality_complaints_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_complaints")),
        sa.UniqueConstraint(
            "tenant_id", "number", name=op.f("uq_quality_complaints_tenant_id_number")
        ),
    )
    with op.batch_alter_table("quality_complaints", schema=None) as batch_op:
        batch_op.create_index(
            "ix_quality_complaints_product", ["tenant_id", "udi_gtin", "udi_lot"], unique=False
        )
        batch_op.create_index("ix_quality_complaints_state", ["tenant_id", "state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_quality_complaints_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "quality_service_records",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("gtin", sa.String(length=14), nullable=False),
        sa.Column("serial", sa.String(length=20), nullable=False),
        sa.Column("lot", sa.String(length=20), nullable=True),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("performed_on", sa.Date(), nullable=False),
        sa.Column(
            "performed_by_party_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "performed_by_user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("parts_replaced", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column(
            "complaint_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["quality_complaints.id"],
            name=op.f("fk_quality_service_records_complaint_id_quality_complaints"),
        ),
        sa.ForeignKeyConstraint(
            ["performed_by_party_id"],
            ["parties.id"],
            name=op.f("fk_quality_service_records_performed_by_party_id_parties"),
        ),
        sa.ForeignKeyConstraint(
            ["performed_by_user_id"],
            ["users.id"],
            name=op.f("fk_quality_service_records_performed_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_quality_service_records_product_id_products"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_quality_service_records_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_service_records")),
    )
    with op.batch_alter_table("quality_service_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_quality_service_records_serial", ["tenant_id", "gtin", "serial"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_quality_service_records_tenant_id"), ["tenant_id"], unique=False
        )

    for table in ("quality_complaints", "quality_service_records"):
        enable_tenant_rls(table)


def downgrade() -> None:
    with op.batch_alter_table("quality_service_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_service_records_tenant_id"))
        batch_op.drop_index("ix_quality_service_records_serial")

    op.drop_table("quality_service_records")
    with op.batch_alter_table("quality_complaints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_complaints_tenant_id"))
        batch_op.drop_index("ix_quality_complaints_state")
        batch_op.drop_index("ix_quality_complaints_product")

    op.drop_table("quality_complaints")
