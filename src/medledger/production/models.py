"""Work orders and the device history record of what each consumed."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from medledger.core.db import Base, BigId, TenantScoped, UTCDateTime, utcnow


class WorkOrderStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class WorkOrder(TenantScoped, Base):
    """Make ``quantity`` of a product per a BOM version at a managed production location:
    one finished lot (``lot``) or the listed ``serials``. Completing it captures one EPCIS
    TransformationEvent (components in, finished lot/serials out); the rows of
    ``work_order_components`` and the operator and time columns are its device history
    record."""

    __tablename__ = "work_orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        CheckConstraint("quantity > 0", name="work_order_quantity_positive"),
    )
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    number: Mapped[str] = mapped_column(String(30))
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"))
    gtin: Mapped[str] = mapped_column(String(14))
    bom_id: Mapped[int] = mapped_column(BigId, ForeignKey("boms.id"))
    bom_version: Mapped[int] = mapped_column(Integer)
    location_id: Mapped[int] = mapped_column(BigId, ForeignKey("locations.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    lot: Mapped[str] = mapped_column(String(20), default="")
    serials: Mapped[list[Any]] = mapped_column(JSON, default=list)
    expiry: Mapped[date | None] = mapped_column(Date, nullable=True)
    # When the finished lot is planned to be ready: allocation promises shortfalls from it.
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(12), default=WorkOrderStatus.PLANNED.value)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_by: Mapped[str] = mapped_column(String(200), default="")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completed_by: Mapped[str] = mapped_column(String(200), default="")
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    operators: Mapped[list[Any]] = mapped_column(JSON, default=list)
    event_id: Mapped[str] = mapped_column(String(100), default="")
    epcis_event_row_id: Mapped[int | None] = mapped_column(BigId, nullable=True)


class WorkOrderComponent(TenantScoped, Base):
    """One component lot/serial a completed work order consumed (device history record)."""

    __tablename__ = "work_order_components"
    __table_args__ = (CheckConstraint("quantity > 0", name="work_order_component_positive"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    work_order_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("work_orders.id", ondelete="CASCADE"), index=True
    )
    gtin: Mapped[str] = mapped_column(String(14))
    lot: Mapped[str] = mapped_column(String(20), default="")
    serial: Mapped[str] = mapped_column(String(20), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    expiry: Mapped[date | None] = mapped_column(Date, nullable=True)
