"""API and form shapes for products, market authorisations and bills of material."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_validator,
)

from medledger.catalog.errors import Code
from medledger.catalog.models import (
    AUTHORISATION_REGION,
    DEVICE_CLASSES,
    AuthorisationKind,
    Region,
    TrackingLevel,
)
from medledger.core.schemas import PatchIn
from medledger.core.types import Gtin14Out, RecordId, Text, rule_error
from medledger.identifiers.fields import GTIN
from medledger.parties.models import StorageClass

_BASIC_UDI = re.compile(r"^[0-9A-Z!\"%&'()*+,\-./:;<=>?_]{3,25}$")
_UOM = re.compile(r"^[A-Z0-9]{2,3}$")
_CERTIFICATE_PATTERNS: dict[AuthorisationKind, tuple[re.Pattern[str], str]] = {
    AuthorisationKind.FDA_510K: (re.compile(r"^K\d{6}$"), "K123456"),
    AuthorisationKind.FDA_PMA: (re.compile(r"^P\d{6}(/S\d{3})?$"), "P123456"),
    AuthorisationKind.FDA_DE_NOVO: (re.compile(r"^DEN\d{6}$"), "DEN123456"),
}


def _device_class(region: Region, value: str | None) -> str | None:
    if value is None or value == "":
        return None
    allowed = DEVICE_CLASSES[region]
    for option in allowed:
        if value.upper() == option.upper():
            return option
    raise rule_error(
        Code.DEVICE_CLASS_INVALID,
        "Device class {value} does not exist in {region}; use one of {allowed}.",
        {"value": value, "region": region.value, "allowed": ", ".join(allowed)},
    )


class _ProductRules(BaseModel):
    @field_validator("device_class_us", check_fields=False)
    @classmethod
    def _us(cls, v: str | None) -> str | None:
        return _device_class(Region.US, v)

    @field_validator("device_class_eu", check_fields=False)
    @classmethod
    def _eu(cls, v: str | None) -> str | None:
        return _device_class(Region.EU, v)

    @field_validator("device_class_cn", check_fields=False)
    @classmethod
    def _cn(cls, v: str | None) -> str | None:
        return _device_class(Region.CN, v)

    @field_validator("basic_udi_di", check_fields=False)
    @classmethod
    def _basic_udi(cls, v: str | None) -> str | None:
        if v is None or v == "":
            return None
        v = v.strip().upper()
        if not _BASIC_UDI.match(v):
            raise rule_error(
                Code.BASIC_UDI_DI_INVALID,
                "A Basic UDI-DI has 3 to 25 characters from the GS1 character set.",
            )
        return v

    @field_validator("unit_of_measure", check_fields=False)
    @classmethod
    def _uom(cls, v: str | None) -> str | None:
        if v is None:
            return v
        v = v.strip().upper()
        if not _UOM.match(v):
            raise rule_error(
                Code.UNIT_OF_MEASURE_INVALID,
                "Use a UN/ECE Recommendation 20 code such as EA or BX.",
            )
        return v


class ProductIn(_ProductRules):
    model_config = ConfigDict(extra="forbid")
    gtin: GTIN
    name: Text = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=4000)
    udi_di: GTIN | None = None
    basic_udi_di: str | None = None
    device_class_us: str | None = None
    device_class_eu: str | None = None
    device_class_cn: str | None = None
    tracking_level: TrackingLevel
    shelf_life_days: int | None = Field(None, ge=1, le=36500)
    storage_class: StorageClass
    unit_of_measure: str = "EA"
    owner_party_id: RecordId | None = None


class ProductUpdate(PatchIn, _ProductRules):
    clearable = frozenset(
        {"basic_udi_di", "device_class_us", "device_class_eu", "device_class_cn", "shelf_life_days"}
    )
    name: Text | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=4000)
    basic_udi_di: str | None = None
    device_class_us: str | None = None
    device_class_eu: str | None = None
    device_class_cn: str | None = None
    tracking_level: TrackingLevel | None = None
    shelf_life_days: int | None = Field(None, ge=1, le=36500)
    storage_class: StorageClass | None = None
    unit_of_measure: str | None = None


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    owner_party_id: int
    gtin: Gtin14Out
    name: str
    description: str
    udi_di: Gtin14Out
    basic_udi_di: str | None
    device_class_us: str | None
    device_class_eu: str | None
    device_class_cn: str | None
    tracking_level: str
    shelf_life_days: int | None
    storage_class: str
    unit_of_measure: str
    active: bool
    created_at: datetime
    updated_at: datetime


class AuthorisationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: AuthorisationKind
    region: Region | None = None
    certificate_number: Text = Field(min_length=1, max_length=64)
    authority: str = Field("", max_length=120)
    valid_from: date
    valid_until: date | None = None

    @model_validator(mode="after")
    def _rules(self) -> AuthorisationIn:
        expected = AUTHORISATION_REGION[self.kind]
        if self.region is None:
            self.region = expected
        elif self.region != expected:
            raise rule_error(
                Code.AUTHORISATION_REGION_MISMATCH,
                "A {kind} authorises the {expected} market, not {region}.",
                {"kind": self.kind.value, "expected": expected.value, "region": self.region.value},
            )
        pattern = _CERTIFICATE_PATTERNS.get(self.kind)
        if pattern and not pattern[0].match(self.certificate_number):
            raise rule_error(
                Code.AUTHORISATION_CERTIFICATE_FORMAT,
                "Certificate number {value} does not look like {example}.",
                {"value": self.certificate_number, "example": pattern[1]},
            )
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise rule_error(
                Code.AUTHORISATION_VALIDITY_ORDER, "The validity ends before it starts."
            )
        return self


class AuthorisationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    product_id: int
    region: str
    kind: str
    certificate_number: str
    authority: str
    valid_from: date
    valid_until: date | None
    active: bool


class BomLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    component_gtin: GTIN
    quantity_per: Decimal = Field(gt=0, max_digits=18, decimal_places=6)
    unit_of_measure: str = "EA"


class BomIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field("", max_length=2000)
    valid_from: date | None = None
    lines: list[BomLineIn] = Field(min_length=1)


class BomLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    component_gtin: Gtin14Out
    quantity_per: Decimal
    unit_of_measure: str

    @field_serializer("quantity_per")
    def _plain_decimal(self, value: Decimal) -> str:
        # The same text on every database: no exponent, no trailing zeros.
        return format(value.normalize(), "f")


class BomOut(BaseModel):
    id: int
    product_id: int
    version: int
    status: str
    valid_from: date | None
    note: str
    lines: list[BomLineOut]
