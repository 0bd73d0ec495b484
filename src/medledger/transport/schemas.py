"""Lanes in and out, lane choices, and the comparison of lanes for an order line."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from medledger.catalog.models import Region
from medledger.core.types import RecordId, Text
from medledger.transport.models import TransportMode


class LaneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Text = Field(min_length=1, max_length=32)
    origin_site_id: RecordId
    destination_region: Region
    ship_to_id: RecordId | None = None
    carrier: Text = Field(min_length=1, max_length=200)
    mode: TransportMode = TransportMode.ROAD
    cost: Decimal = Field(ge=0, le=10_000_000, max_digits=12, decimal_places=2)
    currency: str = Field("EUR", pattern=r"^[A-Z]{3}$")
    transit_days: int = Field(ge=0, le=365)
    cold_chain: bool = False
    active: bool = True
    note: str = Field("", max_length=2000)


class LaneUpdate(BaseModel):
    """What may change on a lane (its route stays; make a new lane for another route)."""

    model_config = ConfigDict(extra="forbid")
    carrier: Text | None = Field(None, min_length=1, max_length=200)
    mode: TransportMode | None = None
    cost: Decimal | None = Field(None, ge=0, le=10_000_000, max_digits=12, decimal_places=2)
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")
    transit_days: int | None = Field(None, ge=0, le=365)
    cold_chain: bool | None = None
    active: bool | None = None
    note: str | None = Field(None, max_length=2000)


class LaneOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    origin_site_id: int
    destination_region: str
    ship_to_id: int | None
    carrier: str
    mode: str
    cost: Decimal
    currency: str
    transit_days: int
    cold_chain: bool
    active: bool
    note: str
    created_at: datetime
    updated_at: datetime


class ChoiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lane_id: RecordId
    reason: str = Field("", max_length=500)


class LaneOptionOut(BaseModel):
    lane_id: int
    code: str
    origin_site_id: int
    origin_site: str
    carrier: str
    mode: str
    cost: Decimal
    currency: str
    transit_days: int
    cold_chain: bool
    origin_units: int
    arrival: date
    days_to_spare: int
    problems: list[str]
    recommended: bool
    chosen: bool


class ComparisonOut(BaseModel):
    order_line_id: int
    order_id: int
    gtin: str
    quantity_open: int
    ship_to_id: int
    ship_to_region: str
    ship_to_cold_chain_capable: bool
    cold_product: bool
    as_of: date
    promised_date: date
    options: list[LaneOptionOut]
    recommended_lane_id: int | None
    basis: str
    explanation: str
    chosen_lane_id: int | None
    planned_transit_days: int | None  # what allocation uses now for the line's stock
