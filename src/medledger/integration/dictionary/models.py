"""Versions of the data dictionary."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from medledger.core.db import Base, BigId, TenantScoped, UTCDateTime, utcnow


class DictionaryVersion(TenantScoped, Base):
    """One version of the tenant's data dictionary: the full list of field definitions
    (``fields``), in force from ``effective_from`` once approved by an electronic signature.
    An approved version is never changed; a change is a new version."""

    __tablename__ = "dictionary_versions"
    __table_args__ = (UniqueConstraint("tenant_id", "number"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="draft")  # draft | approved
    effective_from: Mapped[date] = mapped_column(Date)
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_user_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    signature_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
