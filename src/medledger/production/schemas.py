"""API shapes of work orders and their device history record."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from medledger.core.types import RecordId, Text
from medledger.identifiers.fields import GTIN

_LOT = Field("", max_length=20, pattern=r"^[!-~]*$")


class WorkOrderIn(BaseModel):
    """Plan a work order: ``quantity`` of the product by its active BOM at a managed
    production location, as one finished ``lot`` (and/or the listed ``serials``)."""

    model_config = ConfigDict(extra="forbid")
    gtin: GTIN
    location_id: RecordId
    quantity: int = Field(ge=1, le=1_000_000)
    lot: str = _LOT
    serials: list[str] = Field(default_factory=list, max_length=1000)
    expiry: date | None = None
    # Planned completion: the date allocation promises shortfalls of the product from.
    due_date: date | None = None
    number: str = Field("", max_length=30, pattern=r"^[!-~]*$")
    note: str = Field("", max_length=2000)

    @field_validator("serials")
    @classmethod
    def _serials(cls, value: list[str]) -> list[str]:
        for serial in value:
            if not serial or len(serial) > 20 or not all("!" <= c <= "~" for c in serial):
                raise ValueError("A serial is 1 to 20 printable ASCII characters.")
        return value


class ComponentIn(BaseModel):
    """A component lot/serial the operator chose to consume (instead of first expiry first
    out)."""

    model_config = ConfigDict(extra="forbid")
    gtin: GTIN
    lot: str = _LOT
    serial: str = _LOT
    quantity: int = Field(1, ge=1, le=10_000_000)


class StartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    operators: list[Text] = Field(default_factory=list, max_length=20)


class CompleteIn(BaseModel):
    """Complete: consume ``components`` (default: first expiry first out per BOM line from
    released stock at the production location) and produce the finished lot/serials."""

    model_config = ConfigDict(extra="forbid")
    components: list[ComponentIn] = Field(default_factory=list, max_length=500)
    operators: list[Text] = Field(default_factory=list, max_length=20)


class RequirementOut(BaseModel):
    gtin: str
    quantity_per: str
    required: int
    available: int


class ComponentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    gtin: str
    lot: str
    serial: str
    quantity: int
    expiry: date | None
    due_date: date | None = None


class WorkOrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    gtin: str
    product_id: int
    bom_id: int
    bom_version: int
    location_id: int
    quantity: int
    lot: str
    serials: list[str]
    expiry: date | None
    status: str
    note: str
    created_by: str
    created_at: datetime
    started_by: str
    started_at: datetime | None
    completed_by: str
    completed_at: datetime | None
    operators: list[str]
    event_id: str
    components: list[ComponentOut] = []


class DeviceHistoryOut(BaseModel):
    """The device history record of a finished lot: the work order(s) that made it."""

    gtin: str
    lot: str
    work_orders: list[WorkOrderOut]
