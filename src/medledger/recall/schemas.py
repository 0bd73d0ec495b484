"""Recall API shapes: initiation (with its signature), acknowledgement, workflow step, and the
answers (a recall with its effectiveness and notices; the hub also gets the scope)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from medledger.core.types import RecordId
from medledger.recall.models import Depth, HazardClass, RecallAction

_QUANTITY = Field(0, ge=0, le=100_000_000)


class SignatureIn(BaseModel):
    """The signature dialog: the signer's password again (and a second factor if required)."""

    model_config = ConfigDict(extra="forbid")
    password: str = Field(..., min_length=1, max_length=200)
    comment: str = Field("", max_length=1000)
    second_factor: str | None = Field(None, max_length=64)


class RecallIn(BaseModel):
    """Start a recall: what (identifiers the trace accepts), how serious (health-hazard class),
    how far (depth), why, what consignees must do — signed by the initiator."""

    model_config = ConfigDict(extra="forbid")
    identifiers: list[str] = Field(..., min_length=1, max_length=50)
    title: str = Field(..., min_length=1, max_length=200)
    hazard_class: HazardClass
    depth: Depth
    action: RecallAction = RecallAction.REMOVAL
    reason: str = Field(..., min_length=1, max_length=4000)
    health_hazard: str = Field("", max_length=4000)
    instructions: str = Field("", max_length=4000)
    ncr_id: RecordId | None = None
    signature: SignatureIn | None = None


class AcknowledgementIn(BaseModel):
    """A consignee's answer: it received the notice, and what it did with the units."""

    model_config = ConfigDict(extra="forbid")
    quantity_on_hand: int = _QUANTITY
    quantity_returned: int = _QUANTITY
    quantity_destroyed: int = _QUANTITY
    comment: str = Field("", max_length=2000)
    # Required when the hub records the answer on the consignee's behalf.
    reason: str = Field("", max_length=500)


class TransitionIn(BaseModel):
    """A workflow step (``close``), with its reason and signature."""

    model_config = ConfigDict(extra="forbid")
    action: str = Field(..., min_length=1, max_length=32)
    reason: str = Field("", max_length=500)
    signature: SignatureIn | None = None


class NoticeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    recall_id: int
    party_id: int | None
    gln: str | None
    name: str
    items: list[dict[str, Any]]
    units: int
    notified_at: datetime
    outbox_message_id: str | None
    acknowledged_at: datetime | None
    acknowledged_by: str
    on_behalf: bool
    on_behalf_reason: str
    quantity_on_hand: int
    quantity_returned: int
    quantity_destroyed: int
    comment: str


class EffectivenessOut(BaseModel):
    consignees: int
    consignees_acknowledged: int
    consignee_share: float
    units: int
    units_accounted: int
    unit_share: float
    hours_to_all_notified: float | None
    hours_to_all_acknowledged: float | None


class RecallOut(BaseModel):
    id: int
    number: str
    title: str
    state: str
    hazard_class: str
    depth: str
    action: str
    reason: str
    health_hazard: str
    instructions: str
    identifiers: list[str]
    ncr_id: int | None
    scope_hash: str
    # The scope's figures are the hub's: null for a partner (they describe other parties).
    lots_in_scope: int | None
    serials_in_scope: int | None
    logistic_units_in_scope: int | None
    shipments_in_scope: int | None
    consignees: int | None
    units_held: int | None
    trace_completeness: float | None
    initiated_at: datetime
    all_notified_at: datetime | None
    all_acknowledged_at: datetime | None
    closed_at: datetime | None
    created_by_user_id: int | None
    version: int
    effectiveness: EffectivenessOut
    notices: list[NoticeOut]
    signatures: list[dict[str, Any]]
    history: list[dict[str, Any]]
    actions_available: list[dict[str, Any]]


class RecallSummaryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    title: str
    state: str
    hazard_class: str
    depth: str
    initiated_at: datetime
    all_notified_at: datetime | None
    all_acknowledged_at: datetime | None
    closed_at: datetime | None


class KpiMonthOut(BaseModel):
    month: str
    recalls: int
    acknowledged: int
    hours_to_all_notified: float | None
    hours_to_all_acknowledged: float | None


class KpiOut(BaseModel):
    recalls: int
    open: int
    hours_to_all_notified: float | None
    hours_to_all_acknowledged: float | None
    consignee_share: float
    by_month: list[KpiMonthOut]
    per_recall: list[dict[str, Any]]
