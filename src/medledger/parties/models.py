"""Tenants, parties, sites, locations, users and their credentials."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from medledger.core.db import Base, BigId, TenantScoped, UTCDateTime, utcnow


class PartyRole(StrEnum):
    MANUFACTURER = "manufacturer"
    SUPPLIER = "supplier"
    CONTRACT_MANUFACTURER = "contract_manufacturer"
    TEST_LAB = "test_lab"
    LOGISTICS_PROVIDER = "logistics_provider"
    DISTRIBUTOR = "distributor"
    HOSPITAL = "hospital"
    AUDITOR = "auditor"


class StorageClass(StrEnum):
    AMBIENT = "ambient"
    CHILLED_2_8 = "chilled_2_8"
    FROZEN = "frozen"


class ZonePurpose(StrEnum):
    RECEIVING_QUARANTINE = "receiving_quarantine"
    RELEASED = "released"
    REJECTED = "rejected"
    SHIPPING = "shipping"


class Tenant(Base):
    """One network: usually one device maker (the hub) and its partners."""

    __tablename__ = "tenants"
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    # The device maker that runs the hub; its users are the "internal" users.
    owner_party_id: Mapped[int | None] = mapped_column(
        BigId,
        ForeignKey("parties.id", use_alter=True, name="fk_tenants_owner_party"),
        nullable=True,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def tenant_id(self) -> int:
        """A tenant's own changes are chained in its own audit trail."""
        return self.id


class Party(TenantScoped, Base):
    """An organisation in the network, identified by its GLN."""

    __tablename__ = "parties"
    __table_args__ = (
        UniqueConstraint("tenant_id", "gln"),
        # The trace service's freshness probe reads max(updated_at) per tenant on every trace.
        Index("ix_parties_tenant_updated", "tenant_id", "updated_at"),
    )
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    gln: Mapped[str] = mapped_column(String(13))
    # Sorted list of PartyRole values.
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    country: Mapped[str] = mapped_column(String(2))
    # Market region the party sits in (US, EU, CN, ...), used for market authorisation.
    region: Mapped[str] = mapped_column(String(8))
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Site(TenantScoped, Base):
    """A physical site of a party (plant, distribution centre, hospital store)."""

    __tablename__ = "sites"
    __table_args__ = (UniqueConstraint("tenant_id", "gln"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    gln: Mapped[str] = mapped_column(String(13))
    country: Mapped[str] = mapped_column(String(2))
    address: Mapped[str] = mapped_column(Text, default="")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Location(TenantScoped, Base):
    """A storage location inside a site: a GLN or a sub-location id (AI 254 extension)."""

    __tablename__ = "locations"
    __table_args__ = (UniqueConstraint("site_id", "code"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    site_id: Mapped[int] = mapped_column(BigId, ForeignKey("sites.id"), index=True)
    # Denormalised owner so party scoping is one indexed comparison.
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    gln: Mapped[str | None] = mapped_column(String(13), nullable=True)
    name: Mapped[str] = mapped_column(String(200))
    storage_class: Mapped[str] = mapped_column(String(16))
    zone_purpose: Mapped[str] = mapped_column(String(24))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class User(TenantScoped, Base):
    """A person. Belongs to exactly one party; its role decides what it may do."""

    __tablename__ = "users"
    __audit__ = True
    __audit_redact__ = frozenset({"password_hash"})

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    locale: Mapped[str | None] = mapped_column(String(16), nullable=True)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Raised whenever the user's credentials must stop working (password changed, user or party
    # deactivated); a session or token issued under an older epoch is refused (parties/auth.py).
    credential_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The account stops working at this time (None: it does not expire).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AuthSession(Base):
    """A browser session (cookie) or an API bearer token; only the SHA-256 of the secret is kept."""

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # "browser" | "bearer"
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The user's credential epoch when the session was issued; valid only while it is current.
    credential_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ApiKey(TenantScoped, Base):
    """A machine client's key, bound to one party; acts with the partner-user role of that party
    (or the role given). The secret is shown once; only its SHA-256 is stored."""

    __tablename__ = "api_keys"
    __audit__ = True
    __audit_redact__ = frozenset({"key_hash"})

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The key stops working at this time (None: never). Rotation sets it to the end of the
    # overlap window and points at the key that replaces it.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    replaced_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("api_keys.id"), nullable=True
    )
    # Requests per rate-limit window for this key (None: the deployment's default).
    rate_limit_requests: Mapped[int | None] = mapped_column(Integer, nullable=True)


class LoginAttempt(Base):
    """Every login attempt, kept for rate limiting and for the security log."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
