"""API and form shapes for tenants, parties, sites, locations and users."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from medledger.core.principal import Role
from medledger.core.schemas import PatchIn
from medledger.core.types import (
    CountryCode,
    GlnOut,
    RecordId,
    Text,
    TimeZoneName,
    rule_error,
)
from medledger.identifiers.fields import GLN
from medledger.parties.errors import Code
from medledger.parties.models import PartyRole, StorageClass, ZonePurpose

REGIONS = ("US", "EU", "CN", "UK", "JP", "KR", "CA", "AU", "BR", "IN", "OTHER")


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Text = Field(min_length=1, max_length=200)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    function: str = Field("", max_length=100)


class PartyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Text = Field(min_length=1, max_length=200)
    gln: GLN
    roles: list[PartyRole] = Field(min_length=1)
    country: CountryCode
    region: str = Field(min_length=2, max_length=8)
    time_zone: TimeZoneName = "UTC"
    contacts: list[Contact] = Field(default_factory=list)

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:

        value = value.upper()
        if value not in REGIONS:
            raise rule_error(
                Code.REGION_UNKNOWN, "Unknown market region {value}.", {"value": value}
            )
        return value


class PartyUpdate(PatchIn):
    name: Text | None = Field(None, min_length=1, max_length=200)
    gln: GLN | None = None
    roles: list[PartyRole] | None = Field(None, min_length=1)
    country: CountryCode | None = None
    region: str | None = Field(None, min_length=2, max_length=8)
    time_zone: TimeZoneName | None = None
    contacts: list[Contact] | None = None


class PartyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    gln: GlnOut
    roles: list[str]
    country: str
    region: str
    time_zone: str
    contacts: list[Contact]
    active: bool
    created_at: datetime
    updated_at: datetime


class SiteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    party_id: RecordId
    name: Text = Field(min_length=1, max_length=200)
    gln: GLN
    country: CountryCode
    address: str = Field("", max_length=1000)
    time_zone: TimeZoneName = "UTC"


class SiteUpdate(PatchIn):
    name: Text | None = Field(None, min_length=1, max_length=200)
    gln: GLN | None = None
    country: CountryCode | None = None
    address: str | None = Field(None, max_length=1000)
    time_zone: TimeZoneName | None = None


class SiteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    party_id: int
    name: str
    gln: GlnOut
    country: str
    address: str
    time_zone: str
    active: bool
    created_at: datetime
    updated_at: datetime


class LocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site_id: RecordId
    code: Text = Field(min_length=1, max_length=20, pattern=r"^[!-~]+$")
    gln: GLN | None = None
    name: Text = Field(min_length=1, max_length=200)
    storage_class: StorageClass
    zone_purpose: ZonePurpose


class LocationUpdate(PatchIn):
    clearable = frozenset({"gln"})
    code: Text | None = Field(None, min_length=1, max_length=20, pattern=r"^[!-~]+$")
    gln: GLN | None = None
    name: Text | None = Field(None, min_length=1, max_length=200)
    storage_class: StorageClass | None = None
    zone_purpose: ZonePurpose | None = None


class LocationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    site_id: int
    party_id: int
    code: str
    gln: GlnOut | None
    name: str
    storage_class: str
    zone_purpose: str
    active: bool
    created_at: datetime
    updated_at: datetime


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Text = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    display_name: Text = Field(min_length=1, max_length=200)
    email: str = Field("", max_length=254)
    password: str = Field(min_length=10, max_length=200)
    role: Role
    party_id: RecordId | None = None
    locale: str | None = Field(None, pattern=r"^(en|zh_Hans)$")
    time_zone: TimeZoneName = "UTC"
    expires_at: AwareDatetime | None = None


class UserUpdate(PatchIn):
    clearable = frozenset({"locale", "expires_at"})
    display_name: Text | None = Field(None, min_length=1, max_length=200)
    email: str | None = Field(None, max_length=254)
    role: Role | None = None
    locale: str | None = Field(None, pattern=r"^(en|zh_Hans)$")
    time_zone: TimeZoneName | None = None
    password: str | None = Field(None, min_length=10, max_length=200)
    expires_at: AwareDatetime | None = None


class PreferencesIn(PatchIn):
    """What every user may change about itself."""

    clearable = frozenset({"locale"})
    locale: str | None = Field(None, pattern=r"^(en|zh_Hans)$")
    time_zone: TimeZoneName | None = None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    party_id: int
    username: str
    display_name: str
    email: str
    role: str
    locale: str | None
    time_zone: str
    active: bool
    expires_at: datetime | None = None
    created_at: datetime


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    party_id: RecordId
    name: Text = Field(min_length=1, max_length=100)
    role: Role = Role.PARTNER_USER
    expires_at: AwareDatetime | None = Field(None, description="When the key stops working.")
    rate_limit_requests: int | None = Field(
        None, ge=1, le=1_000_000, description="Requests per window (default: the deployment's)."
    )


class ApiKeyRotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    overlap_hours: int | None = Field(
        None, ge=0, le=24 * 90, description="How long the old key keeps working (default 24)."
    )
    expires_at: AwareDatetime | None = Field(
        None, description="When the new key stops working (default: as the old one)."
    )


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    party_id: int
    name: str
    role: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None = None
    replaced_by_id: int | None = None
    rate_limit_requests: int | None = None
    last_used_at: datetime | None = None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The secret, shown only once.")


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class MeOut(BaseModel):
    user_id: int | None
    username: str
    display_name: str
    role: str
    party_id: int
    tenant_id: int
    locale: str | None
    time_zone: str
    permissions: list[str]
