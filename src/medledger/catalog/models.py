"""Products (GTIN/UDI), market authorisations and versioned bills of material."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from medledger.core.db import Base, BigId, TenantScoped, UTCDateTime, utcnow


class TrackingLevel(StrEnum):
    LOT = "lot"
    SERIAL = "serial"


class Region(StrEnum):
    US = "US"
    EU = "EU"
    CN = "CN"


# Device classes per regulatory region.
DEVICE_CLASSES: dict[Region, tuple[str, ...]] = {
    Region.US: ("I", "II", "III"),
    Region.EU: ("I", "IIa", "IIb", "III"),
    Region.CN: ("I", "II", "III"),
}


class AuthorisationKind(StrEnum):
    FDA_510K = "fda_510k"
    FDA_PMA = "fda_pma"
    FDA_DE_NOVO = "fda_de_novo"
    FDA_EXEMPT = "fda_exempt"
    EU_MDR_CERTIFICATE = "eu_mdr_certificate"
    EU_IVDR_CERTIFICATE = "eu_ivdr_certificate"
    EU_SELF_DECLARATION = "eu_self_declaration"
    NMPA_REGISTRATION = "nmpa_registration"
    NMPA_FILING = "nmpa_filing"


AUTHORISATION_REGION: dict[AuthorisationKind, Region] = {
    AuthorisationKind.FDA_510K: Region.US,
    AuthorisationKind.FDA_PMA: Region.US,
    AuthorisationKind.FDA_DE_NOVO: Region.US,
    AuthorisationKind.FDA_EXEMPT: Region.US,
    AuthorisationKind.EU_MDR_CERTIFICATE: Region.EU,
    AuthorisationKind.EU_IVDR_CERTIFICATE: Region.EU,
    AuthorisationKind.EU_SELF_DECLARATION: Region.EU,
    AuthorisationKind.NMPA_REGISTRATION: Region.CN,
    AuthorisationKind.NMPA_FILING: Region.CN,
}


class BomStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    OBSOLETE = "obsolete"


class Product(TenantScoped, Base):
    """A trade item: one GTIN-14, which is also its UDI-DI in the GS1 system."""

    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("tenant_id", "gtin"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    owner_party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    gtin: Mapped[str] = mapped_column(String(14))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    udi_di: Mapped[str] = mapped_column(String(14))
    basic_udi_di: Mapped[str | None] = mapped_column(String(25), nullable=True)
    device_class_us: Mapped[str | None] = mapped_column(String(4), nullable=True)
    device_class_eu: Mapped[str | None] = mapped_column(String(4), nullable=True)
    device_class_cn: Mapped[str | None] = mapped_column(String(4), nullable=True)
    tracking_level: Mapped[str] = mapped_column(String(8))
    shelf_life_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    storage_class: Mapped[str] = mapped_column(String(16))
    unit_of_measure: Mapped[str] = mapped_column(String(3), default="EA")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class MarketAuthorisation(TenantScoped, Base):
    """Permission to place a product on one market: FDA 510(k)/PMA, EU MDR certificate, NMPA."""

    __tablename__ = "market_authorisations"
    __table_args__ = (UniqueConstraint("tenant_id", "product_id", "region", "certificate_number"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"), index=True)
    region: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(32))
    certificate_number: Mapped[str] = mapped_column(String(64))
    authority: Mapped[str] = mapped_column(String(120), default="")
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class BillOfMaterials(TenantScoped, Base):
    """One version of what goes into a product. Versions are immutable once active."""

    __tablename__ = "boms"
    __table_args__ = (UniqueConstraint("product_id", "version"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default=BomStatus.DRAFT.value)
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class BomLine(TenantScoped, Base):
    __tablename__ = "bom_lines"
    __table_args__ = (UniqueConstraint("bom_id", "component_gtin"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    bom_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("boms.id", ondelete="CASCADE"), index=True
    )
    component_gtin: Mapped[str] = mapped_column(String(14))
    quantity_per: Mapped[Decimal] = mapped_column(Numeric(18, 6))
    unit_of_measure: Mapped[str] = mapped_column(String(3), default="EA")
