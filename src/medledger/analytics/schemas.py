"""Analytics API shapes."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from medledger.core.types import RecordId


class MonthScoreOut(BaseModel):
    month: str
    total: float | None
    scores: dict[str, float | None]
    lines_due: int
    lines_otif: int
    otif_rate: float | None
    units_decided: int
    units_accepted: int
    acceptance_rate: float | None
    ncrs: dict[str, int]
    scar_answered: int
    scar_response_days: float | None
    scar_closure_days: float | None
    open_capas: int


class SupplierScoreOut(BaseModel):
    supplier_party_id: int
    supplier_name: str
    month: str
    total: float | None


class ScorecardOut(BaseModel):
    supplier_party_id: int
    supplier_name: str
    date_from: date
    date_to: date
    weights: dict[str, float]
    months: list[MonthScoreOut]


class RecordOut(BaseModel):
    """One record behind a figure: what it is, a link to it, and the values that counted."""

    kind: str
    id: int | str
    label: str
    link: str | None
    values: dict[str, Any]


class ScorecardSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weights: dict[str, float] = Field(default_factory=dict)
    ncr_penalty: dict[str, float] = Field(default_factory=dict)
    scar_target_days: float | None = Field(default=None, gt=0, le=365)
    capa_penalty: float | None = Field(default=None, ge=0, le=100)


class SettingsOut(BaseModel):
    scorecard: dict[str, Any]
    kpi_targets: dict[str, float]


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scorecard: ScorecardSettingsIn | None = None
    kpi_targets: dict[str, float] | None = None


class BreakdownRowOut(BaseModel):
    key: str
    label: str
    value: float | None
    count: int


class KpiOut(BaseModel):
    key: str
    unit: str
    value: float | None
    target: float | None
    higher_is_better: bool
    count: int
    note: str | None
    trend: list[dict[str, Any]]
    breakdowns: dict[str, list[BreakdownRowOut]]


class BoardOut(BaseModel):
    date_from: date
    date_to: date
    kpis: list[KpiOut]


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = Field(min_length=1, max_length=2000)
    side: str = Field(pattern="^(hub|supplier)$")
    owner_name: str = Field(min_length=1, max_length=200)
    due_date: date


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    supplier_party_id: RecordId
    title: str = Field(min_length=1, max_length=200)
    goal: str = Field(default="", max_length=5000)
    due_date: date
    ncr_ids: list[RecordId] = Field(default_factory=list, max_length=50)
    capa_ids: list[RecordId] = Field(default_factory=list, max_length=50)
    actions: list[ActionIn] = Field(default_factory=list, max_length=50)


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=5000)
    close: bool = False


class ActionDoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=2000)


class ActionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    description: str
    side: str
    owner_name: str
    due_date: date
    done: bool
    done_note: str
    overdue: bool


class ReviewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    reviewer_label: str
    note: str
    reviewed_at: Any


class LinkOut(BaseModel):
    id: int
    number: str
    title: str
    state: str


class PlanOut(BaseModel):
    id: int
    number: str
    supplier_party_id: int
    supplier_name: str
    title: str
    goal: str
    due_date: date
    state: str
    overdue: bool
    ncrs: list[LinkOut]
    capas: list[LinkOut]
    actions: list[ActionOut]
    reviews: list[ReviewOut]
