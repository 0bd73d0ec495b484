"""quality records (NCR, CAPA, change control), electronic signatures, workflow transitions

Every table is tenant data under row-level security on PostgreSQL. Electronic signatures are
append-only in the database as well: a trigger refuses UPDATE and DELETE on both databases
(21 CFR 11.10(e), 11.70).

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-07 11:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from medledger.migrations.rls import enable_tenant_rls, is_postgres

revision: str = "0011"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "electronic_signatures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("record_kind", sa.String(length=32), nullable=False),
        sa.Column(
            "record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("record_label", sa.String(length=64), nullable=False),
        sa.Column("meaning", sa.String(length=16), nullable=False),
        sa.Column(
            "signer_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "signer_party_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("signer_username", sa.String(length=64), nullable=False),
        sa.Column("printed_name", sa.String(length=200), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("record_state", sa.String(length=32), nullable=False),
        sa.Column("workflow_action", sa.String(length=32), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("authentication", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["signer_party_id"],
            ["parties.id"],
            name=op.f("fk_electronic_signatures_signer_party_id_parties"),
        ),
        sa.ForeignKeyConstraint(
            ["signer_user_id"],
            ["users.id"],
            name=op.f("fk_electronic_signatures_signer_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_electronic_signatures_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_electronic_signatures")),
    )
    with op.batch_alter_table("electronic_signatures", schema=None) as batch_op:
        batch_op.create_index(
            "ix_electronic_signatures_record",
            ["tenant_id", "record_kind", "record_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_electronic_signatures_signer_user_id"), ["signer_user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_electronic_signatures_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "quality_capas",
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column(
            "source_ncr_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "supplier_party_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("investigation", sa.Text(), nullable=False),
        sa.Column("root_cause", sa.Text(), nullable=False),
        sa.Column("effectiveness_criteria", sa.Text(), nullable=False),
        sa.Column("effectiveness_result", sa.Text(), nullable=False),
        sa.Column("effective", sa.Boolean(), nullable=True),
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
            ["created_by_party_id"],
            ["parties.id"],
            name=op.f("fk_quality_capas_created_by_party_id_parties"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_quality_capas_created_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_user_id"], ["users.id"], name=op.f("fk_quality_capas_owner_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_party_id"],
            ["parties.id"],
            name=op.f("fk_quality_capas_supplier_party_id_parties"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_quality_capas_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_capas")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_quality_capas_tenant_id_number")),
    )
    with op.batch_alter_table("quality_capas", schema=None) as batch_op:
        batch_op.create_index("ix_quality_capas_state", ["tenant_id", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_quality_capas_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "quality_changes",
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("reason_for_change", sa.Text(), nullable=False),
        sa.Column("impact_assessment", sa.Text(), nullable=False),
        sa.Column("affected_product_ids", sa.JSON(), nullable=False),
        sa.Column("affected_bom_ids", sa.JSON(), nullable=False),
        sa.Column("affected_documents", sa.JSON(), nullable=False),
        sa.Column("extra_party_ids", sa.JSON(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=True),
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
            ["created_by_party_id"],
            ["parties.id"],
            name=op.f("fk_quality_changes_created_by_party_id_parties"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_quality_changes_created_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_user_id"], ["users.id"], name=op.f("fk_quality_changes_owner_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_quality_changes_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_changes")),
        sa.UniqueConstraint(
            "tenant_id", "number", name=op.f("uq_quality_changes_tenant_id_number")
        ),
    )
    with op.batch_alter_table("quality_changes", schema=None) as batch_op:
        batch_op.create_index("ix_quality_changes_state", ["tenant_id", "state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_quality_changes_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "signing_failures",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("record_kind", sa.String(length=32), nullable=False),
        sa.Column(
            "record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("meaning", sa.String(length=16), nullable=False),
        sa.Column("cause", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_signing_failures_tenant_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_signing_failures_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_failures")),
    )
    with op.batch_alter_table("signing_failures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signing_failures_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index("ix_signing_failures_user_time", ["user_id", "at"], unique=False)

    op.create_table(
        "quality_capa_actions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("capa_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "owner_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["capa_id"],
            ["quality_capas.id"],
            name=op.f("fk_quality_capa_actions_capa_id_quality_capas"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_user_id"],
            ["users.id"],
            name=op.f("fk_quality_capa_actions_owner_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_quality_capa_actions_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_capa_actions")),
    )
    with op.batch_alter_table("quality_capa_actions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quality_capa_actions_capa_id"), ["capa_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_quality_capa_actions_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "quality_change_notices",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "change_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("party_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("why", sa.String(length=200), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "acknowledged_by_user_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_id"],
            ["quality_changes.id"],
            name=op.f("fk_quality_change_notices_change_id_quality_changes"),
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_quality_change_notices_party_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_quality_change_notices_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_change_notices")),
        sa.UniqueConstraint(
            "change_id", "party_id", name=op.f("uq_quality_change_notices_change_id_party_id")
        ),
    )
    with op.batch_alter_table("quality_change_notices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quality_change_notices_change_id"), ["change_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_quality_change_notices_party_id"), ["party_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_quality_change_notices_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "quality_ncrs",
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "supplier_party_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("complaint_udi", sa.String(length=200), nullable=True),
        sa.Column("udi_gtin", sa.String(length=14), nullable=True),
        sa.Column("udi_lot", sa.String(length=20), nullable=True),
        sa.Column("udi_serial", sa.String(length=20), nullable=True),
        sa.Column("udi_expiry", sa.String(length=10), nullable=True),
        sa.Column("affected_lots", sa.JSON(), nullable=False),
        sa.Column("investigation", sa.Text(), nullable=False),
        sa.Column("disposition", sa.String(length=24), nullable=True),
        sa.Column("disposition_rationale", sa.Text(), nullable=False),
        sa.Column("supplier_response", sa.Text(), nullable=False),
        sa.Column("supplier_responded_at", sa.DateTime(timezone=True), nullable=True),
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
            ["capa_id"], ["quality_capas.id"], name=op.f("fk_quality_ncrs_capa_id_quality_capas")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_party_id"],
            ["parties.id"],
            name=op.f("fk_quality_ncrs_created_by_party_id_parties"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_quality_ncrs_created_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_user_id"], ["users.id"], name=op.f("fk_quality_ncrs_owner_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_quality_ncrs_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_party_id"],
            ["parties.id"],
            name=op.f("fk_quality_ncrs_supplier_party_id_parties"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_quality_ncrs_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_ncrs")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_quality_ncrs_tenant_id_number")),
    )
    with op.batch_alter_table("quality_ncrs", schema=None) as batch_op:
        batch_op.create_index("ix_quality_ncrs_state", ["tenant_id", "state"], unique=False)
        batch_op.create_index(
            "ix_quality_ncrs_supplier", ["tenant_id", "supplier_party_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_quality_ncrs_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "workflow_transitions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("record_kind", sa.String(length=32), nullable=False),
        sa.Column(
            "record_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=False),
        sa.Column("to_state", sa.String(length=32), nullable=False),
        sa.Column(
            "actor_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "actor_party_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("actor_label", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "signature_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["signature_id"],
            ["electronic_signatures.id"],
            name=op.f("fk_workflow_transitions_signature_id_electronic_signatures"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_workflow_transitions_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_transitions")),
    )
    with op.batch_alter_table("workflow_transitions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_workflow_transitions_record",
            ["tenant_id", "record_kind", "record_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_workflow_transitions_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "quality_deviations",
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "supplier_party_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("affected_lots", sa.JSON(), nullable=False),
        sa.Column("risk_assessment", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("closure_summary", sa.Text(), nullable=False),
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
            ["created_by_party_id"],
            ["parties.id"],
            name=op.f("fk_quality_deviations_created_by_party_id_parties"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_quality_deviations_created_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_user_id"], ["users.id"], name=op.f("fk_quality_deviations_owner_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_quality_deviations_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_party_id"],
            ["parties.id"],
            name=op.f("fk_quality_deviations_supplier_party_id_parties"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_quality_deviations_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_deviations")),
        sa.UniqueConstraint(
            "tenant_id", "number", name=op.f("uq_quality_deviations_tenant_id_number")
        ),
    )
    with op.batch_alter_table("quality_deviations", schema=None) as batch_op:
        batch_op.create_index("ix_quality_deviations_state", ["tenant_id", "state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_quality_deviations_tenant_id"), ["tenant_id"], unique=False
        )
    for table in (
        "electronic_signatures",
        "signing_failures",
        "workflow_transitions",
        "quality_capas",
        "quality_capa_actions",
        "quality_changes",
        "quality_change_notices",
        "quality_ncrs",
        "quality_deviations",
    ):
        enable_tenant_rls(table)
    _append_only_signatures()


_SIGNATURES_APPEND_ONLY = "electronic signatures are append-only"


def _append_only_signatures() -> None:
    if is_postgres():
        op.execute(
            "CREATE FUNCTION electronic_signatures_append_only() RETURNS trigger AS $$ "
            f"BEGIN RAISE EXCEPTION '{_SIGNATURES_APPEND_ONLY}'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER electronic_signatures_append_only BEFORE UPDATE OR DELETE "
            "ON electronic_signatures FOR EACH ROW "
            "EXECUTE FUNCTION electronic_signatures_append_only()"
        )
        return
    for operation in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER electronic_signatures_no_{operation.lower()} BEFORE {operation} "
            f"ON electronic_signatures BEGIN SELECT RAISE(ABORT, '{_SIGNATURES_APPEND_ONLY}'); END"
        )


def downgrade() -> None:
    if is_postgres():
        op.execute(
            "DROP TRIGGER IF EXISTS electronic_signatures_append_only ON electronic_signatures"
        )
        op.execute("DROP FUNCTION IF EXISTS electronic_signatures_append_only()")
    with op.batch_alter_table("quality_deviations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_deviations_tenant_id"))
        batch_op.drop_index("ix_quality_deviations_state")
    op.drop_table("quality_deviations")

    with op.batch_alter_table("workflow_transitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workflow_transitions_tenant_id"))
        batch_op.drop_index("ix_workflow_transitions_record")

    op.drop_table("workflow_transitions")
    with op.batch_alter_table("quality_ncrs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_ncrs_tenant_id"))
        batch_op.drop_index("ix_quality_ncrs_supplier")
        batch_op.drop_index("ix_quality_ncrs_state")

    op.drop_table("quality_ncrs")
    with op.batch_alter_table("quality_change_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_change_notices_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_quality_change_notices_party_id"))
        batch_op.drop_index(batch_op.f("ix_quality_change_notices_change_id"))

    op.drop_table("quality_change_notices")
    with op.batch_alter_table("quality_capa_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_capa_actions_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_quality_capa_actions_capa_id"))

    op.drop_table("quality_capa_actions")
    with op.batch_alter_table("signing_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_signing_failures_user_time")
        batch_op.drop_index(batch_op.f("ix_signing_failures_tenant_id"))

    op.drop_table("signing_failures")
    with op.batch_alter_table("quality_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_changes_tenant_id"))
        batch_op.drop_index("ix_quality_changes_state")

    op.drop_table("quality_changes")
    with op.batch_alter_table("quality_capas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_capas_tenant_id"))
        batch_op.drop_index("ix_quality_capas_state")

    op.drop_table("quality_capas")
    with op.batch_alter_table("electronic_signatures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_electronic_signatures_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_electronic_signatures_signer_user_id"))
        batch_op.drop_index("ix_electronic_signatures_record")

    op.drop_table("electronic_signatures")
    # ### end Alembic commands ###
