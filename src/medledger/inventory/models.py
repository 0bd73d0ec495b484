"""Stock movements (append-only), stock balances (their projection), lots and shipments."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from medledger.core.db import Base, BigId, TenantScoped, UTCDateTime, utcnow


class StockStatus(StrEnum):
    QUARANTINE = "quarantine"
    RELEASED = "released"
    ON_HOLD = "on_hold"
    REJECTED = "rejected"
    RECALLED = "recalled"


class MovementKind(StrEnum):
    RECEIPT = "receipt"
    PUT_AWAY = "put_away"
    TRANSFER = "transfer"
    PICK = "pick"
    PACK = "pack"
    UNPACK = "unpack"
    SHIP = "ship"
    ADJUST = "adjust"
    CONSUME = "consume"
    PRODUCE = "produce"
    RETURN = "return"
    SCRAP = "scrap"
    STATUS_CHANGE = "status_change"
    REVERSAL = "reversal"


class ShipmentStatus(StrEnum):
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    RETRACTED = "retracted"  # the shipping event was declared an error


class StockMovement(TenantScoped, Base):
    """One append-only change of stock: ``quantity`` leaves the ``from_*`` balance (if any) and
    enters the ``to_*`` balance (if any). A receipt has no source, a shipment no destination,
    a status change the same location on both sides. Never updated, never deleted: a reversal
    is a new movement pointing at the one it reverses."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_stock_movements_tenant_event", "tenant_id", "epcis_event_row_id"),
        Index("ix_stock_movements_tenant_lot", "tenant_id", "gtin", "lot"),
    )
    # Not audited row by row: each operation writes one audit entry listing its movements
    # (inventory.projection.audit_movements), as a capture writes one entry per document.

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    gtin: Mapped[str] = mapped_column(String(14))
    lot: Mapped[str] = mapped_column(String(20), default="")
    serial: Mapped[str] = mapped_column(String(20), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    from_location_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("locations.id"), nullable=True
    )
    from_container: Mapped[str] = mapped_column(String(18), default="")
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_location_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("locations.id"), nullable=True
    )
    to_container: Mapped[str] = mapped_column(String(18), default="")
    to_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # The captured EPCIS event this movement projects (None: status changes and adjustments).
    epcis_event_row_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    reversal_of_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("stock_movements.id"), nullable=True, unique=True
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    # When it happened physically (the event's time); demand history is read from it.
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StockBalance(TenantScoped, Base):
    """How much of a lot/serial is at a location (optionally packed in a logistic unit) in one
    status: the sum of the movements in and out. Never negative (also a CHECK)."""

    __tablename__ = "stock_balances"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "location_id", "gtin", "lot", "serial", "container", "status"
        ),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        Index("ix_stock_balances_tenant_lot", "tenant_id", "gtin", "lot"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    location_id: Mapped[int] = mapped_column(BigId, ForeignKey("locations.id"), index=True)
    gtin: Mapped[str] = mapped_column(String(14))
    lot: Mapped[str] = mapped_column(String(20), default="")
    serial: Mapped[str] = mapped_column(String(20), default="")
    container: Mapped[str] = mapped_column(String(18), default="")
    status: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class InventoryLot(TenantScoped, Base):
    """What inventory knows of a lot: its expiry (expired is derived from it) and whether it is
    recalled."""

    __tablename__ = "inventory_lots"
    __table_args__ = (UniqueConstraint("tenant_id", "gtin", "lot"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    gtin: Mapped[str] = mapped_column(String(14))
    lot: Mapped[str] = mapped_column(String(20))
    expiry: Mapped[date | None] = mapped_column(Date, nullable=True)
    recalled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Shipment(TenantScoped, Base):
    """A logistic unit shipped from a hub location to a party; delivered when that party's
    receiving event for it is captured (proof of delivery)."""

    __tablename__ = "shipments"
    __table_args__ = (Index("ix_shipments_tenant_sscc", "tenant_id", "sscc"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    sscc: Mapped[str] = mapped_column(String(18))
    from_location_id: Mapped[int] = mapped_column(BigId, ForeignKey("locations.id"))
    destination_party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    destination_gln: Mapped[str] = mapped_column(String(13))
    status: Mapped[str] = mapped_column(String(12), default=ShipmentStatus.SHIPPED.value)
    ship_event_row_id: Mapped[int] = mapped_column(BigId)
    delivery_event_row_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    shipped_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ReplenishmentSetting(TenantScoped, Base):
    """Per product and site: supplier, lead time, service level, and the computed reorder
    point and safety stock (see docs/inventory.md for the method)."""

    __tablename__ = "replenishment_settings"
    __table_args__ = (UniqueConstraint("tenant_id", "site_id", "gtin"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    site_id: Mapped[int] = mapped_column(BigId, ForeignKey("sites.id"), index=True)
    gtin: Mapped[str] = mapped_column(String(14))
    supplier_party_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("parties.id"), nullable=True
    )
    lead_time_days: Mapped[int] = mapped_column(Integer, default=14)
    service_z: Mapped[float] = mapped_column(Numeric(6, 3), default=1.645)
    reorder_point: Mapped[int] = mapped_column(Integer, default=0)
    safety_stock: Mapped[int] = mapped_column(Integer, default=0)
    order_quantity: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class InventorySite(TenantScoped, Base):
    """A hub site whose stock inventory manages. Events of the ledger move stock at its
    locations from the first event captured after it was enabled (earlier history is trace
    only)."""

    __tablename__ = "inventory_sites"
    __table_args__ = (UniqueConstraint("tenant_id", "site_id"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    site_id: Mapped[int] = mapped_column(BigId, ForeignKey("sites.id"))
    # Events with a larger epcis_events.id move stock here.
    after_event_row_id: Mapped[int] = mapped_column(BigId, default=0)
    enabled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProductTemperatureRange(TenantScoped, Base):
    """The temperatures a product may see (its label's storage conditions), in °C."""

    __tablename__ = "product_temperature_ranges"
    __table_args__ = (UniqueConstraint("tenant_id", "gtin"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    gtin: Mapped[str] = mapped_column(String(14))
    min_celsius: Mapped[float] = mapped_column(Numeric(6, 2))
    max_celsius: Mapped[float] = mapped_column(Numeric(6, 2))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class TemperatureExcursion(TenantScoped, Base):
    """Readings outside a product's range, for a lot/serial or a logistic unit: the stock
    concerned was put on hold for QA to release or reject."""

    __tablename__ = "temperature_excursions"
    __table_args__ = (Index("ix_temperature_excursions_tenant_lot", "tenant_id", "gtin", "lot"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    gtin: Mapped[str] = mapped_column(String(14))
    lot: Mapped[str] = mapped_column(String(20), default="")
    serial: Mapped[str] = mapped_column(String(20), default="")
    source: Mapped[str] = mapped_column(String(8))  # "epcis" | "logger"
    epcis_event_row_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    asn_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    min_celsius: Mapped[float] = mapped_column(Numeric(6, 2))
    max_celsius: Mapped[float] = mapped_column(Numeric(6, 2))
    # The readings outside the range: [{"time": ISO, "celsius": x}, …]
    readings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    held_quantity: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LotHold(TenantScoped, Base):
    """A hold another context asked for on a lot (an NCR): how many released units it put on
    hold, everywhere in own stock, and when it was lifted. Lifting gives back to released at
    most what the hold took (a manual hold of the same lot stays)."""

    __tablename__ = "inventory_lot_holds"
    __table_args__ = (Index("ix_inventory_lot_holds_lot", "tenant_id", "gtin", "lot"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    gtin: Mapped[str] = mapped_column(String(14))
    lot: Mapped[str] = mapped_column(String(20))
    source_kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int] = mapped_column(BigId)
    source_label: Mapped[str] = mapped_column(String(64), default="")
    quantity_held: Mapped[int] = mapped_column(Integer, default=0)
    quantity_released: Mapped[int] = mapped_column(Integer, default=0)
    held_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
