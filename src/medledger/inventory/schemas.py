"""API shapes for stock, movements and the warehouse operations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from medledger.core.types import RecordId
from medledger.core.types import rule_error as _rule_error
from medledger.identifiers.fields import GTIN
from medledger.inventory.errors import Code

_LOT = Field("", max_length=20, pattern=r"^[!-~]*$")


class StockLineIn(BaseModel):
    """A quantity of a lot, or one serial."""

    model_config = ConfigDict(extra="forbid")
    gtin: GTIN
    lot: str = _LOT
    serial: str = _LOT
    quantity: int = Field(1, ge=1, le=10_000_000)
    expiry: date | None = None

    @model_validator(mode="after")
    def _serial_is_one(self) -> StockLineIn:
        if self.serial and self.quantity != 1:
            raise _rule_error(Code.SERIAL_QUANTITY, "A serial is always quantity 1.")
        return self


class ReceiptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    location_id: RecordId
    lines: list[StockLineIn] = Field(min_length=1, max_length=500)
    source_party_id: RecordId | None = None
    reference: str = Field("", max_length=35)


class MoveIn(BaseModel):
    """Put away, transfer or pick: lines go from one managed location to another."""

    model_config = ConfigDict(extra="forbid")
    from_location_id: RecordId
    to_location_id: RecordId
    lines: list[StockLineIn] = Field(min_length=1, max_length=500)


class PackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    location_id: RecordId
    sscc: str = Field(pattern=r"^\d{18}$")
    lines: list[StockLineIn] = Field(min_length=1, max_length=500)


class ShipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    location_id: RecordId
    ssccs: list[str] = Field(min_length=1, max_length=100)
    destination_party_id: RecordId
    reference: str = Field("", max_length=35)


class ScrapIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    location_id: RecordId
    lines: list[StockLineIn] = Field(min_length=1, max_length=500)
    reason: str = Field(min_length=1, max_length=500)


StatusAction = Literal["release", "hold", "unhold", "reject", "recall"]


class StatusChangeIn(BaseModel):
    """Change the status of stock of a lot (or serial) at one location, or everywhere."""

    model_config = ConfigDict(extra="forbid")
    action: StatusAction
    gtin: GTIN
    lot: str = _LOT
    serial: str = _LOT
    location_id: RecordId | None = None
    quantity: int | None = Field(None, ge=1, le=10_000_000)
    reason: str = Field(min_length=1, max_length=500)


class AdjustIn(BaseModel):
    """A counted correction (cycle count, found, lost): no EPCIS event, a reason."""

    model_config = ConfigDict(extra="forbid")
    location_id: RecordId
    gtin: GTIN
    lot: str = _LOT
    serial: str = _LOT
    status: Literal["quarantine", "released", "on_hold", "rejected", "recalled"]
    delta: int = Field(ge=-10_000_000, le=10_000_000)
    reason: str = Field(min_length=1, max_length=500)


class PickListIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site_id: RecordId
    gtin: GTIN
    quantity: int = Field(ge=1, le=10_000_000)
    to_location_id: RecordId | None = None


class MovementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    gtin: str
    lot: str
    serial: str
    quantity: int
    from_location_id: RecordId | None
    from_container: str
    from_status: str | None
    to_location_id: RecordId | None
    to_container: str
    to_status: str | None
    epcis_event_row_id: RecordId | None
    reversal_of_id: RecordId | None
    reason: str
    created_at: datetime


class StockRowOut(BaseModel):
    location_id: RecordId
    location_code: str
    site_id: RecordId
    gtin: str
    lot: str
    serial: str
    container: str
    status: str
    quantity: int
    expiry: date | None
    expired: bool
    near_expiry: bool


class PickOut(BaseModel):
    location_id: RecordId
    location_code: str
    gtin: str
    lot: str
    serial: str
    quantity: int
    expiry: date | None


class PickListOut(BaseModel):
    gtin: str
    requested: int
    picks: list[PickOut]
    shortfall: int


class OperationOut(BaseModel):
    """What a warehouse operation did: its EPCIS event (if any) and the movements."""

    event_id: str | None
    movements: list[MovementOut]


class ShipmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    sscc: str
    from_location_id: RecordId
    destination_party_id: RecordId
    destination_gln: str
    status: str
    shipped_at: datetime
    delivered_at: datetime | None


class InventorySiteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    site_id: RecordId
    after_event_row_id: int
    enabled_at: datetime


class TemperatureRangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gtin: GTIN
    min_celsius: float = Field(ge=-200, le=200)
    max_celsius: float = Field(ge=-200, le=200)


class TemperatureRangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    gtin: str
    min_celsius: float
    max_celsius: float


class ExcursionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    gtin: str
    lot: str
    serial: str
    source: str
    min_celsius: float
    max_celsius: float
    readings: list[dict[str, object]]
    held_quantity: int
    epcis_event_row_id: RecordId | None
    asn_id: RecordId | None
    created_at: datetime


class LotIn(BaseModel):
    """A lot known before any stock of it moves here (migration, supplier master data)."""

    model_config = ConfigDict(extra="forbid")
    gtin: GTIN
    lot: str = Field(min_length=1, max_length=20, pattern=r"^[!-~]+$")
    expiry: date | None = None


class OpeningStockIn(BaseModel):
    """Stock on hand when inventory starts at a site: received (an EPCIS receiving event) and,
    unless it stays in quarantine, given its status."""

    model_config = ConfigDict(extra="forbid")
    location_id: RecordId
    gtin: GTIN
    lot: str = _LOT
    serial: str = _LOT
    quantity: int = Field(1, ge=1, le=10_000_000)
    expiry: date | None = None
    status: Literal["quarantine", "released", "on_hold", "rejected"] = "released"

    @model_validator(mode="after")
    def _serial_is_one(self) -> OpeningStockIn:
        if self.serial and self.quantity != 1:
            raise _rule_error(Code.SERIAL_QUANTITY, "A serial is always quantity 1.")
        return self
