"""Purchase orders, their lines, advance ship notices (ASNs) and receiving discrepancies."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from medledger.core.db import Base, BigId, TenantScoped, UTCDateTime, utcnow


class PurchaseOrderStatus(StrEnum):
    DRAFT = "draft"  # a suggestion not yet approved by a buyer
    SENT = "sent"
    CONFIRMED = "confirmed"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CANCELLED = "cancelled"


class AsnStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class DiscrepancyKind(StrEnum):
    OVER = "over_receipt"
    UNDER = "under_receipt"
    WRONG_LOT = "wrong_lot"
    UNEXPECTED_ITEM = "unexpected_item"


class PurchaseOrder(TenantScoped, Base):
    """An order of the hub to one supplier party, delivered to one hub site."""

    __tablename__ = "purchase_orders"
    __table_args__ = (UniqueConstraint("tenant_id", "number"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    number: Mapped[str] = mapped_column(String(32))
    supplier_party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    ship_to_site_id: Mapped[int] = mapped_column(BigId, ForeignKey("sites.id"))
    status: Mapped[str] = mapped_column(String(20), default=PurchaseOrderStatus.SENT.value)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PurchaseOrderLine(TenantScoped, Base):
    __tablename__ = "purchase_order_lines"
    __table_args__ = (UniqueConstraint("purchase_order_id", "line_number"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    purchase_order_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("purchase_orders.id"), index=True
    )
    line_number: Mapped[int] = mapped_column(Integer)
    gtin: Mapped[str] = mapped_column(String(14))
    quantity: Mapped[int] = mapped_column(Integer)
    # The buyer's price: never shown to the supplier's users (see schemas).
    unit_price: Mapped[Decimal | None] = mapped_column(Numeric(14, 4), nullable=True)
    requested_date: Mapped[date] = mapped_column(Date)
    confirmed_quantity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    confirmed_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    received_quantity: Mapped[int] = mapped_column(Integer, default=0)


class AdvanceShipNotice(TenantScoped, Base):
    """A supplier's notice of what it ships against a purchase order: lots, expiry, SSCCs."""

    __tablename__ = "advance_ship_notices"
    __table_args__ = (UniqueConstraint("tenant_id", "supplier_party_id", "number"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    purchase_order_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("purchase_orders.id"), index=True
    )
    supplier_party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    number: Mapped[str] = mapped_column(String(35))
    ship_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default=AsnStatus.OPEN.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AsnLine(TenantScoped, Base):
    __tablename__ = "asn_lines"
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    asn_id: Mapped[int] = mapped_column(BigId, ForeignKey("advance_ship_notices.id"), index=True)
    purchase_order_line_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("purchase_order_lines.id")
    )
    gtin: Mapped[str] = mapped_column(String(14))
    lot: Mapped[str] = mapped_column(String(20))
    expiry: Mapped[date | None] = mapped_column(Date, nullable=True)
    sscc: Mapped[str | None] = mapped_column(String(18), nullable=True)
    quantity: Mapped[int] = mapped_column(Integer)
    received_quantity: Mapped[int] = mapped_column(Integer, default=0)


class ReceiptDiscrepancy(TenantScoped, Base):
    """An over-, under-, wrong-lot or unexpected receipt, flagged when it happened."""

    __tablename__ = "receipt_discrepancies"
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    asn_id: Mapped[int] = mapped_column(BigId, ForeignKey("advance_ship_notices.id"), index=True)
    asn_line_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("asn_lines.id"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    gtin: Mapped[str] = mapped_column(String(14))
    lot: Mapped[str] = mapped_column(String(20), default="")
    expected_quantity: Mapped[int] = mapped_column(Integer, default=0)
    received_quantity: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
