"""Customers, contracts, tenders, orders (with versions), deliveries, the EDI/CSV inbox and the
acknowledgement outbox.

An order line carries every fact the priority and allocation engines need, either on the row
(GTIN, quantity, requested and promised dates, clinical urgency, minimum remaining shelf life
copied from the contract) or one join away (customer tier, ship-to region and cold-chain
capability, contract service level and penalty); see
:func:`medledger.orders.repository.open_line_facts`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from medledger.core.db import Base, BigId, TenantScoped, UTCDateTime, utcnow


class CustomerTier(StrEnum):
    """How much a customer weighs in priority scoring (strategic first)."""

    STRATEGIC = "strategic"
    KEY = "key"
    STANDARD = "standard"


class Channel(StrEnum):
    UI = "ui"
    API = "api"
    CSV = "csv"
    EDIFACT = "edifact"
    X12 = "x12"


class OrderKind(StrEnum):
    STANDARD = "standard"
    TENDER_CALL_OFF = "tender_call_off"


class OrderStatus(StrEnum):
    OPEN = "open"
    PARTIALLY_DELIVERED = "partially_delivered"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class ClinicalUrgency(StrEnum):
    ROUTINE = "routine"
    SCHEDULED_SURGERY = "scheduled_surgery"
    URGENT = "urgent"
    EMERGENCY = "emergency"


class VersionKind(StrEnum):
    CREATED = "created"
    AMENDED = "amended"
    CANCELLED = "cancelled"


class InboxStatus(StrEnum):
    ACCEPTED = "accepted"
    FAILED = "failed"
    DISCARDED = "discarded"


class AckStatus(StrEnum):
    PENDING = "pending"  # waiting for the integration gateway's outbox worker
    SENT = "sent"


class Customer(TenantScoped, Base):
    """A party that buys: its tier and the identifiers its EDI interchanges carry."""

    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("tenant_id", "party_id"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    tier: Mapped[str] = mapped_column(String(16), default=CustomerTier.STANDARD.value)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    # Interchange sender ids, e.g. {"x12": "01:000123456", "edifact": "14:8711576000012"}.
    edi_sender_ids: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ShipTo(TenantScoped, Base):
    """Where a customer receives goods: market region and whether it can take cold chain."""

    __tablename__ = "customer_ship_tos"
    __table_args__ = (UniqueConstraint("customer_id", "code"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    # The customer's party, denormalised so party scoping is one comparison.
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    # The buyer's own code for the location (X12 N1*ST*…*92*code); unique per customer.
    code: Mapped[str] = mapped_column(String(35))
    name: Mapped[str] = mapped_column(String(200))
    gln: Mapped[str | None] = mapped_column(String(13), nullable=True, index=True)
    country: Mapped[str] = mapped_column(String(2))
    region: Mapped[str] = mapped_column(String(8))
    cold_chain_capable: Mapped[bool] = mapped_column(Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Contract(TenantScoped, Base):
    """Terms agreed with a customer: service level, late penalty, minimum remaining shelf life."""

    __tablename__ = "customer_contracts"
    __table_args__ = (UniqueConstraint("tenant_id", "number"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    number: Mapped[str] = mapped_column(String(35))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    service_level_days: Mapped[int] = mapped_column(Integer)
    penalty_per_day_late: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    min_remaining_shelf_life_days: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Tender(TenantScoped, Base):
    """A tender award: quantities the customer committed to call off under a contract."""

    __tablename__ = "tenders"
    __table_args__ = (UniqueConstraint("tenant_id", "reference"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    contract_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("customer_contracts.id"), nullable=True
    )
    reference: Mapped[str] = mapped_column(String(35))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class TenderLine(TenantScoped, Base):
    """One awarded product: committed quantity and how much has been called off so far."""

    __tablename__ = "tender_lines"
    __table_args__ = (UniqueConstraint("tender_id", "product_id"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    tender_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("tenders.id", ondelete="CASCADE"), index=True
    )
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"))
    gtin: Mapped[str] = mapped_column(String(14))
    committed_quantity: Mapped[int] = mapped_column(Integer)
    # Kept by the call-off service with an atomic UPDATE that refuses to pass the commitment.
    called_off_quantity: Mapped[int] = mapped_column(Integer, default=0)
    unit_price: Mapped[Decimal | None] = mapped_column(Numeric(14, 4), nullable=True)


class ItemReference(TenantScoped, Base):
    """A trading partner's item number for one of our products (X12 ``VN``/``BP``, EDIFACT
    ``SA``/``IN``), so orders that carry no GTIN still resolve to one."""

    __tablename__ = "item_references"
    __table_args__ = (UniqueConstraint("tenant_id", "customer_id", "qualifier", "code"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    qualifier: Mapped[str] = mapped_column(String(4))  # VN vendor's (ours), BP buyer's
    code: Mapped[str] = mapped_column(String(48))
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"))


class Order(TenantScoped, Base):
    """A customer's purchase order as we hold it (current version; history in versions)."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "customer_id", "customer_reference"),
        Index("ix_orders_tenant_status", "tenant_id", "status"),
    )
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customers.id"), index=True)
    # The buying party: partner users see the orders of their own party only.
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    customer_reference: Mapped[str] = mapped_column(String(35))
    channel: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16), default=OrderKind.STANDARD.value)
    ship_to_id: Mapped[int] = mapped_column(BigId, ForeignKey("customer_ship_tos.id"))
    contract_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("customer_contracts.id"), nullable=True
    )
    tender_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("tenders.id"), nullable=True)
    order_date: Mapped[date] = mapped_column(Date)
    requested_delivery_date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(24), default=OrderStatus.OPEN.value)
    # The column of the order on the board (orders/board.py decides every move).
    board_state: Mapped[str] = mapped_column(String(16), default="new")
    version: Mapped[int] = mapped_column(Integer, default=1)
    note: Mapped[str] = mapped_column(Text, default="")
    source_message_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def number(self) -> str:
        """Our order number (the id is enough; no second write to number an order)."""
        return f"SO-{self.id:07d}"


class OrderLine(TenantScoped, Base):
    """What is ordered, when it is wanted and promised, and what has been delivered."""

    __tablename__ = "order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "line_number"),
        Index("ix_order_lines_tenant_status", "tenant_id", "status"),
    )
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    order_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    line_number: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"), index=True)
    gtin: Mapped[str] = mapped_column(String(14))
    buyer_item_code: Mapped[str | None] = mapped_column(String(48), nullable=True)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_of_measure: Mapped[str] = mapped_column(String(3), default="EA")
    unit_price: Mapped[Decimal | None] = mapped_column(Numeric(14, 4), nullable=True)
    requested_delivery_date: Mapped[date] = mapped_column(Date)
    promised_date: Mapped[date] = mapped_column(Date)
    clinical_urgency: Mapped[str] = mapped_column(String(20), default=ClinicalUrgency.ROUTINE.value)
    surgery_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    min_remaining_shelf_life_days: Mapped[int] = mapped_column(Integer, default=0)
    tender_line_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("tender_lines.id"), nullable=True
    )
    status: Mapped[str] = mapped_column(String(24), default=OrderStatus.OPEN.value)
    delivered_quantity: Mapped[int] = mapped_column(Integer, default=0)
    delivered_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    # The date the line became fully delivered (None until then): on time means <= promised.
    completed_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    # Write-only link so a new order and its lines go in one flush (never loaded implicitly).
    order: Mapped[Order] = relationship(lazy="raise")


class OrderVersion(TenantScoped, Base):
    """An immutable snapshot of an order after each change, with the reason for it."""

    __tablename__ = "order_versions"
    __table_args__ = (UniqueConstraint("order_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    order_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(8))
    source_message_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    order: Mapped[Order] = relationship(lazy="raise")


class Delivery(TenantScoped, Base):
    """A delivered quantity of an order line (today recorded by hand; later from proof of
    delivery / the partner's receiving event)."""

    __tablename__ = "order_deliveries"
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("order_lines.id"), index=True)
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    delivered_on: Mapped[date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16), default="manual")
    reference: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IdempotencyKey(TenantScoped, Base):
    """``Idempotency-Key`` of an order POST: the body's hash and the order it created."""

    __tablename__ = "order_idempotency_keys"
    __table_args__ = (UniqueConstraint("tenant_id", "party_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    # The calling party (keys of different partners never collide).
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    order: Mapped[Order] = relationship(lazy="raise")


class InboundMessage(TenantScoped, Base):
    """Every EDI message and CSV order received, accepted or not: nothing is lost.

    ``content`` is self-contained (an EDI message inside its own interchange envelope, or the
    CSV header and the rows of one order), so it can be corrected and replayed on its own.
    """

    __tablename__ = "order_inbox"
    __table_args__ = (Index("ix_order_inbox_tenant_status", "tenant_id", "status"),)
    __audit__ = True
    # The audit trail keeps the fact of a correction, not a second copy of the document.
    __audit_redact__ = frozenset({"content"})

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    # The sending customer's party when it could be recognised (None: hub staff only).
    party_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("parties.id"), nullable=True, index=True
    )
    channel: Mapped[str] = mapped_column(String(8))
    filename: Mapped[str] = mapped_column(String(255), default="")
    interchange_reference: Mapped[str] = mapped_column(String(35), default="")
    message_reference: Mapped[str] = mapped_column(String(35), default="")
    document_reference: Mapped[str] = mapped_column(String(35), default="")
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("orders.id"), nullable=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Acknowledgement(TenantScoped, Base):
    """An order response (EANCOM ORDRSP or X12 855) waiting in the outbox for the gateway."""

    __tablename__ = "order_acknowledgements"
    __audit__ = True
    __audit_redact__ = frozenset({"content"})

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), index=True)
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    message_id: Mapped[int] = mapped_column(BigId, ForeignKey("order_inbox.id"), index=True)
    order_version: Mapped[int] = mapped_column(Integer)
    standard: Mapped[str] = mapped_column(String(8))  # "ORDRSP" | "855"
    control_reference: Mapped[str] = mapped_column(String(14))
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8), default=AckStatus.PENDING.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
