"""API shapes of inspection plans, inspections, lot releases and the inspection-time KPI."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from medledger.core.types import RecordId
from medledger.identifiers.fields import GTIN
from medledger.quality.models import InspectionKind
from medledger.quality.schemas import _RecordOut

_NAME = Field(..., min_length=1, max_length=80)
_LIMIT = Field(None, ge=-1e12, le=1e12, allow_inf_nan=False)


class CharacteristicIn(BaseModel):
    """One thing to inspect: a measured value within limits (numeric) or an observed attribute
    that must equal the expected value; ``sample_size`` readings per inspection."""

    model_config = ConfigDict(extra="forbid")
    name: str = _NAME
    kind: Literal["numeric", "attribute"]
    unit: str = Field("", max_length=20)
    lower: float | None = _LIMIT
    upper: float | None = _LIMIT
    expected: str | None = Field(None, max_length=80)
    sample_size: int = Field(1, ge=1, le=200)

    @model_validator(mode="after")
    def _criteria(self) -> CharacteristicIn:
        if self.kind == "numeric":
            if self.lower is None and self.upper is None:
                raise ValueError("a numeric characteristic needs a lower or an upper limit")
            if self.lower is not None and self.upper is not None and self.lower > self.upper:
                raise ValueError("the lower limit is above the upper limit")
            if self.expected is not None:
                raise ValueError("a numeric characteristic has limits, not an expected value")
        else:
            if not (self.expected or "").strip():
                raise ValueError("an attribute characteristic needs its expected value")
            if self.lower is not None or self.upper is not None:
                raise ValueError("an attribute characteristic has an expected value, not limits")
        return self


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(..., min_length=1, max_length=200)
    product_id: RecordId
    supplier_party_id: RecordId | None = None
    kind: InspectionKind = InspectionKind.INCOMING
    characteristics: list[CharacteristicIn] = Field(..., min_length=1, max_length=50)


class PlanUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, min_length=1, max_length=200)
    supplier_party_id: RecordId | None = None
    characteristics: list[CharacteristicIn] | None = Field(None, min_length=1, max_length=50)
    active: bool | None = None


class PlanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    title: str
    product_id: RecordId
    supplier_party_id: RecordId | None
    kind: str
    characteristics: list[dict[str, Any]]
    active: bool
    version: int
    created_by_user_id: RecordId | None
    created_at: datetime
    updated_at: datetime


class InspectionIn(BaseModel):
    """Inspect a lot: the plan is found from the product (by GTIN), the kind and the supplier
    unless named; ``lab_party_id`` sends it to a test lab whose users enter the results."""

    model_config = ConfigDict(extra="forbid")
    gtin: GTIN
    lot: str = Field(..., min_length=1, max_length=20)
    kind: InspectionKind = InspectionKind.INCOMING
    plan_id: RecordId | None = None
    supplier_party_id: RecordId | None = None
    lab_party_id: RecordId | None = None
    owner_user_id: RecordId | None = None


class ResultIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = _NAME
    values: list[float | str] = Field(..., min_length=1, max_length=200)


class ResultsIn(BaseModel):
    """Readings for some or all characteristics; the inspection is decided when every
    characteristic has its readings."""

    model_config = ConfigDict(extra="forbid")
    results: list[ResultIn] = Field(..., min_length=1, max_length=50)


class InspectionOut(_RecordOut):
    kind: str
    plan_id: RecordId
    plan_version: int
    product_id: RecordId
    gtin: str
    lot: str
    supplier_party_id: RecordId | None
    lab_party_id: RecordId | None
    characteristics: list[dict[str, Any]]
    results: dict[str, Any]
    verdict: str | None
    received_at: datetime | None
    decided_at: datetime | None
    ncr_id: RecordId | None


class LotReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gtin: GTIN
    lot: str = Field(..., min_length=1, max_length=20)
    note: str = Field("", max_length=2000)
    owner_user_id: RecordId | None = None


class LotReleaseOut(_RecordOut):
    product_id: RecordId
    gtin: str
    lot: str
    supplier_party_id: RecordId | None
    note: str
    inspection_id: RecordId | None
    received_at: datetime | None
    decided_at: datetime | None
    quantity: int


class KpiRow(BaseModel):
    key: str
    label: str
    lots: int
    receipt_to_decision_hours: float | None
    decision_to_release_hours: float | None
    receipt_to_release_hours: float | None


class InspectionTimeOut(BaseModel):
    group: str
    rows: list[KpiRow]
