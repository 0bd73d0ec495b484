"""Transport lanes: from an origin site of the hub to a destination region (or one ship-to),
with carrier, mode, cost, transit days and cold-chain capability; and the lane a planner chose
for an order line (allocation then ships that line only on it)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from medledger.core.db import Base, BigId, TenantScoped, UTCDateTime, utcnow


class TransportMode(StrEnum):
    ROAD = "road"
    AIR = "air"
    SEA = "sea"
    RAIL = "rail"
    PARCEL = "parcel"


class TransportLane(TenantScoped, Base):
    """A way to ship from ``origin_site_id`` to every ship-to of ``destination_region`` or,
    when ``ship_to_id`` is set, to that ship-to only. ``cost`` is per shipment."""

    __tablename__ = "transport_lanes"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        Index("ix_transport_lanes_origin", "tenant_id", "origin_site_id"),
    )
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    origin_site_id: Mapped[int] = mapped_column(BigId, ForeignKey("sites.id"))
    destination_region: Mapped[str] = mapped_column(String(8))
    ship_to_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("customer_ship_tos.id"), nullable=True
    )
    carrier: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(10), default=TransportMode.ROAD.value)
    cost: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    transit_days: Mapped[int] = mapped_column(Integer)
    cold_chain: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class LaneChoice(TenantScoped, Base):
    """The lane chosen for an order line: planning serves the line only from the lane's origin
    site, with the lane's transit days."""

    __tablename__ = "transport_lane_choices"
    __table_args__ = (UniqueConstraint("order_line_id"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("order_lines.id", ondelete="CASCADE")
    )
    lane_id: Mapped[int] = mapped_column(BigId, ForeignKey("transport_lanes.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    chosen_by: Mapped[str] = mapped_column(String(200), default="")
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
