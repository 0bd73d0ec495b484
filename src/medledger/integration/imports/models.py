"""Import runs, the rows they rejected, and saved column mappings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from medledger.core.db import Base, BigId, TenantScoped, UTCDateTime, utcnow


class ImportMapping(TenantScoped, Base):
    """A party's saved mapping from a file's column names to the fields of an entity."""

    __tablename__ = "import_mappings"
    __audit__ = True
    __table_args__ = (
        Index("ix_import_mappings_name", "tenant_id", "party_id", "name", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"))
    name: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(32))
    columns: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ImportRun(TenantScoped, Base):
    """One file imported (or dry-run): what, by whom, its SHA-256, and what became of its rows."""

    __tablename__ = "import_runs"
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"))
    entity: Mapped[str] = mapped_column(String(32))
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    mapping_name: Mapped[str] = mapped_column(String(100), default="")
    dry_run: Mapped[bool] = mapped_column(Boolean)
    total_rows: Mapped[int] = mapped_column(Integer)
    accepted_rows: Mapped[int] = mapped_column(Integer)
    rejected_rows: Mapped[int] = mapped_column(Integer)
    replayed_rows: Mapped[int] = mapped_column(Integer, default=0)
    rule_counts: Mapped[dict[str, int]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))


class ImportRow(TenantScoped, Base):
    """A row a run rejected: its mapped values and errors; corrected and replayed later."""

    __tablename__ = "import_rows"
    __table_args__ = (Index("ix_import_rows_run", "run_id", "row_number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    run_id: Mapped[int] = mapped_column(BigId, ForeignKey("import_runs.id"))
    row_number: Mapped[int] = mapped_column(Integer)
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))  # rejected | replayed
    record_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
