"""API shapes for purchase orders, confirmations, ASNs and scan receiving."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from medledger.core.types import RecordId
from medledger.identifiers.fields import GTIN


class OrderLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gtin: GTIN
    quantity: int = Field(ge=1, le=10_000_000)
    unit_price: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=4)
    requested_date: date


class OrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    supplier_party_id: RecordId
    ship_to_site_id: RecordId
    currency: str = Field("EUR", pattern=r"^[A-Z]{3}$")
    note: str = Field("", max_length=2000)
    lines: list[OrderLineIn] = Field(min_length=1, max_length=200)


class OrderLineOut(BaseModel):
    id: int
    line_number: int = Field(ge=1, le=100_000)
    gtin: str
    quantity: int
    unit_price: Decimal | None  # None for the supplier's users: prices are the buyer's
    requested_date: date
    confirmed_quantity: int | None
    confirmed_date: date | None
    received_quantity: int


class OrderOut(BaseModel):
    id: int
    number: str
    supplier_party_id: RecordId
    ship_to_site_id: RecordId
    status: str
    currency: str
    note: str
    created_at: datetime
    confirmed_at: datetime | None
    lines: list[OrderLineOut]


class ConfirmLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    line_number: int = Field(ge=1, le=100_000)
    confirmed_quantity: int = Field(ge=0, le=10_000_000)
    confirmed_date: date


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lines: list[ConfirmLineIn] = Field(min_length=1, max_length=200)


class AsnLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    line_number: int = Field(ge=1, le=100_000)
    lot: str = Field(min_length=1, max_length=20, pattern=r"^[!-~]+$")
    expiry: date | None = None
    sscc: str | None = Field(None, pattern=r"^\d{18}$")
    quantity: int = Field(ge=1, le=10_000_000)


class AsnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    purchase_order_id: RecordId
    number: str = Field(min_length=1, max_length=35)
    ship_date: date
    lines: list[AsnLineIn] = Field(min_length=1, max_length=500)


class AsnLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    purchase_order_line_id: RecordId
    gtin: str
    lot: str
    expiry: date | None
    sscc: str | None
    quantity: int
    received_quantity: int


class AsnOut(BaseModel):
    id: int
    purchase_order_id: RecordId
    supplier_party_id: RecordId
    number: str
    ship_date: date
    status: str
    lines: list[AsnLineOut]


class ScanIn(BaseModel):
    """One scan at the receiving dock: a GS1 element string or Digital Link URI."""

    model_config = ConfigDict(extra="forbid")
    scan: str = Field(min_length=1, max_length=500)
    location_id: RecordId
    quantity: int = Field(1, ge=1, le=10_000_000)
    # A flagged receipt (over, wrong lot, unexpected) goes in only when confirmed with a reason.
    accept_discrepancy: bool = False
    reason: str = Field("", max_length=500)


class DiscrepancyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    asn_line_id: RecordId | None
    kind: str
    gtin: str
    lot: str
    expected_quantity: int
    received_quantity: int
    reason: str
    created_at: datetime


class ScanOut(BaseModel):
    event_id: str
    gtin: str
    lot: str
    quantity: int
    discrepancy: DiscrepancyOut | None
    asn: AsnOut


class ReplenishmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site_id: RecordId
    gtin: GTIN
    supplier_party_id: RecordId | None = None
    lead_time_days: int = Field(14, ge=1, le=365)
    service_z: float = Field(1.645, ge=0, le=5)
    order_quantity: int = Field(0, ge=0, le=10_000_000)


class SuggestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site_id: RecordId
    history_days: int = Field(90, ge=7, le=730)


class SuggestionOut(BaseModel):
    site_id: RecordId
    gtin: str
    supplier_party_id: RecordId | None
    lead_time_days: int
    mean_daily_demand: float
    sigma_daily_demand: float
    safety_stock: int
    reorder_point: int
    position: int
    quantity: int
    purchase_order_id: RecordId | None
