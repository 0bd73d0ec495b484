"""API shapes of quality records, workflow steps and signatures."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from medledger.core.types import RecordId
from medledger.identifiers.fields import GTIN
from medledger.quality.models import (
    Disposition,
    Harm,
    NcrSource,
    ServiceKind,
    ServiceOutcome,
    Severity,
)

_TEXT = Field("", max_length=10_000)


class SignatureIn(BaseModel):
    """The signature dialog: the signer's password again (and a second factor if required)."""

    model_config = ConfigDict(extra="forbid")
    password: str = Field(..., min_length=1, max_length=200)
    comment: str = Field("", max_length=1000)
    second_factor: str | None = Field(None, max_length=64)


class TransitionIn(BaseModel):
    """A workflow step: the action, a reason (kept in the audit trail) and, where the step
    needs one, the electronic signature."""

    model_config = ConfigDict(extra="forbid")
    action: str = Field(..., min_length=1, max_length=32)
    reason: str = Field("", max_length=500)
    signature: SignatureIn | None = None


class LotIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gtin: GTIN
    lot: str = Field(..., min_length=1, max_length=20)


class NcrIn(BaseModel):
    """Raise an NCR by hand, from a partner's report or from a complaint (with the UDI)."""

    model_config = ConfigDict(extra="forbid")
    title: str = Field(..., min_length=1, max_length=200)
    description: str = _TEXT
    source: NcrSource = NcrSource.MANUAL
    severity: Severity = Severity.MAJOR
    product_id: RecordId | None = None
    supplier_party_id: RecordId | None = None
    complaint_udi: str | None = Field(None, max_length=200)
    affected_lots: list[LotIn] = Field(default_factory=list, max_length=200)
    owner_user_id: RecordId | None = None
    due_date: date | None = None


class NcrUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    severity: Severity | None = None
    product_id: RecordId | None = None
    supplier_party_id: RecordId | None = None
    affected_lots: list[LotIn] | None = Field(None, max_length=200)
    investigation: str | None = Field(None, max_length=10_000)
    disposition: Disposition | None = None
    disposition_rationale: str | None = Field(None, max_length=10_000)
    owner_user_id: RecordId | None = None
    due_date: date | None = None
    capa_id: RecordId | None = None


class SupplierResponseIn(BaseModel):
    """The supplier's answer to an NCR about its material (SCAR)."""

    model_config = ConfigDict(extra="forbid")
    response: str = Field(..., min_length=1, max_length=10_000)


class CapaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(..., min_length=1, max_length=200)
    problem: str = _TEXT
    source_ncr_id: RecordId | None = None
    supplier_party_id: RecordId | None = None
    owner_user_id: RecordId | None = None
    due_date: date | None = None
    effectiveness_criteria: str = _TEXT


class CapaUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, min_length=1, max_length=200)
    problem: str | None = Field(None, max_length=10_000)
    investigation: str | None = Field(None, max_length=10_000)
    root_cause: str | None = Field(None, max_length=10_000)
    effectiveness_criteria: str | None = Field(None, max_length=10_000)
    effectiveness_result: str | None = Field(None, max_length=10_000)
    effective: bool | None = None
    owner_user_id: RecordId | None = None
    due_date: date | None = None


class CapaActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field("corrective", pattern="^(corrective|preventive|containment)$")
    description: str = Field(..., min_length=1, max_length=2000)
    owner_user_id: RecordId
    due_date: date


class CapaActionDoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field("", max_length=2000)


class ChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(..., min_length=1, max_length=200)
    description: str = _TEXT
    reason_for_change: str = _TEXT
    impact_assessment: str = _TEXT
    affected_product_ids: list[RecordId] = Field(default_factory=list, max_length=200)
    affected_bom_ids: list[RecordId] = Field(default_factory=list, max_length=200)
    affected_documents: list[str] = Field(default_factory=list, max_length=200)
    extra_party_ids: list[RecordId] = Field(default_factory=list, max_length=200)
    effective_date: date | None = None
    owner_user_id: RecordId | None = None
    due_date: date | None = None

    @field_validator("affected_documents")
    @classmethod
    def _documents(cls, value: list[str]) -> list[str]:
        return [v.strip()[:200] for v in value if v.strip()]


class ChangeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    reason_for_change: str | None = Field(None, max_length=10_000)
    impact_assessment: str | None = Field(None, max_length=10_000)
    affected_product_ids: list[RecordId] | None = Field(None, max_length=200)
    affected_bom_ids: list[RecordId] | None = Field(None, max_length=200)
    affected_documents: list[str] | None = Field(None, max_length=200)
    extra_party_ids: list[RecordId] | None = Field(None, max_length=200)
    effective_date: date | None = None
    owner_user_id: RecordId | None = None
    due_date: date | None = None


class AcknowledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: str = Field("", max_length=2000)


# --- out -------------------------------------------------------------------------------------


class SignatureOut(BaseModel):
    id: int
    record_kind: str
    record_id: RecordId
    record_label: str
    meaning: str
    printed_name: str
    signer_username: str
    signer_user_id: RecordId
    signed_at: datetime
    content_hash: str
    record_state: str
    workflow_action: str | None
    comment: str
    authentication: str
    # The signature's row still hashes to what was signed (integrity of the signature itself).
    intact: bool
    # The record still has exactly the content this signature covers.
    matches_current_version: bool


class RecordSignaturesOut(BaseModel):
    record_kind: str
    record_id: RecordId
    record_label: str
    current_hash: str
    all_match: bool
    signatures: list[SignatureOut]


class SignIn(BaseModel):
    """Sign a record directly (outside a workflow step)."""

    model_config = ConfigDict(extra="forbid")
    record_kind: str = Field(..., min_length=1, max_length=32)
    record_id: RecordId
    meaning: str = Field(..., min_length=1, max_length=16)
    password: str = Field(..., min_length=1, max_length=200)
    comment: str = Field("", max_length=1000)
    second_factor: str | None = Field(None, max_length=64)


class TransitionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    action: str
    from_state: str
    to_state: str
    actor_label: str
    reason: str
    signature_id: RecordId | None
    at: datetime


class ActionOffer(BaseModel):
    action: str
    target: str
    signature: str | None
    reason_required: bool
    blocked_code: str | None


class _RecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    number: str
    title: str
    state: str
    owner_user_id: RecordId | None
    due_date: date | None
    created_by_user_id: RecordId | None
    created_by_party_id: RecordId
    version: int
    created_at: datetime
    updated_at: datetime
    overdue: bool = False
    signatures: list[SignatureOut] = Field(default_factory=list)
    history: list[TransitionOut] = Field(default_factory=list)
    actions_available: list[ActionOffer] = Field(default_factory=list)


class NcrOut(_RecordOut):
    description: str
    source: str
    severity: str
    product_id: RecordId | None
    supplier_party_id: RecordId | None
    complaint_udi: str | None
    udi_gtin: str | None
    udi_lot: str | None
    udi_serial: str | None
    udi_expiry: str | None
    affected_lots: list[dict[str, Any]]
    investigation: str
    disposition: str | None
    disposition_rationale: str
    supplier_response: str
    supplier_responded_at: datetime | None
    capa_id: RecordId | None


class CapaActionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    description: str
    owner_user_id: RecordId
    due_date: date
    done_at: datetime | None
    done_note: str


class CapaOut(_RecordOut):
    problem: str
    source_ncr_id: RecordId | None
    supplier_party_id: RecordId | None
    investigation: str
    root_cause: str
    effectiveness_criteria: str
    effectiveness_result: str
    effective: bool | None
    actions: list[CapaActionOut] = Field(default_factory=list)


class ChangeNoticeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    party_id: RecordId
    why: str
    notified_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by_user_id: RecordId | None
    comment: str


class ChangeOut(_RecordOut):
    description: str
    reason_for_change: str
    impact_assessment: str
    affected_product_ids: list[RecordId]
    affected_bom_ids: list[RecordId]
    affected_documents: list[str]
    extra_party_ids: list[RecordId]
    effective_date: date | None
    notices: list[ChangeNoticeOut] = Field(default_factory=list)


class TaskOut(BaseModel):
    """One line of "my tasks": a record waiting for the user, or overdue."""

    kind: str
    id: int
    number: str
    title: str
    state: str
    due_date: date | None
    overdue: bool
    path: str


class DeviationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(..., min_length=1, max_length=200)
    description: str = _TEXT
    kind: str = Field("unplanned", pattern="^(planned|unplanned)$")
    product_id: RecordId | None = None
    supplier_party_id: RecordId | None = None
    affected_lots: list[LotIn] = Field(default_factory=list, max_length=200)
    risk_assessment: str = _TEXT
    valid_from: date | None = None
    valid_until: date | None = None
    owner_user_id: RecordId | None = None
    due_date: date | None = None


class DeviationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    product_id: RecordId | None = None
    supplier_party_id: RecordId | None = None
    affected_lots: list[LotIn] | None = Field(None, max_length=200)
    risk_assessment: str | None = Field(None, max_length=10_000)
    valid_from: date | None = None
    valid_until: date | None = None
    closure_summary: str | None = Field(None, max_length=10_000)
    owner_user_id: RecordId | None = None
    due_date: date | None = None


class DeviationOut(_RecordOut):
    description: str
    kind: str
    product_id: RecordId | None
    supplier_party_id: RecordId | None
    affected_lots: list[dict[str, Any]]
    risk_assessment: str
    valid_from: date | None
    valid_until: date | None
    closure_summary: str


# --- complaints and service records ----------------------------------------------------------


class ComplaintIn(BaseModel):
    """A complaint or adverse-event report: the device by its UDI (scanned or typed: GS1 element
    string, bracketed string or Digital Link), what happened and to whom."""

    model_config = ConfigDict(extra="forbid")
    title: str = Field(..., min_length=1, max_length=200)
    udi: str = Field(..., min_length=1, max_length=200)
    description: str = _TEXT
    event_date: date | None = None
    harm: Harm = Harm.NONE
    patient_involved: bool = False
    reporter_contact: str = Field("", max_length=200)
    owner_user_id: RecordId | None = None
    due_date: date | None = None


class ComplaintUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    event_date: date | None = None
    harm: Harm | None = None
    patient_involved: bool | None = None
    reporter_contact: str | None = Field(None, max_length=200)
    investigation: str | None = Field(None, max_length=10_000)
    fda_mdr_reportable: bool | None = None
    eu_vigilance_reportable: bool | None = None
    nmpa_reportable: bool | None = None
    reportability_rationale: str | None = Field(None, max_length=10_000)
    report_references: str | None = Field(None, max_length=500)
    conclusion: str | None = Field(None, max_length=10_000)
    owner_user_id: RecordId | None = None
    due_date: date | None = None


class ComplaintOut(_RecordOut):
    description: str
    received_at: datetime
    event_date: date | None
    reporter_contact: str
    harm: str
    patient_involved: bool
    udi: str
    udi_gtin: str
    udi_lot: str | None
    udi_serial: str | None
    udi_expiry: str | None
    product_id: RecordId | None
    investigation: str
    fda_mdr_reportable: bool | None
    eu_vigilance_reportable: bool | None
    nmpa_reportable: bool | None
    reportability_rationale: str
    report_references: str
    conclusion: str
    ncr_id: RecordId | None
    capa_id: RecordId | None


class ComplaintNcrIn(BaseModel):
    """Open an NCR from a complaint (its UDI and lot go with it, and the lot is put on hold)."""

    model_config = ConfigDict(extra="forbid")
    severity: Severity = Severity.MAJOR
    supplier_party_id: RecordId | None = None


class ComplaintTrendOut(BaseModel):
    month: str  # YYYY-MM
    gtin: str
    lot: str | None
    product_id: RecordId | None
    complaints: int
    with_harm: int


class ServiceRecordIn(BaseModel):
    """One servicing of one device, named by its UDI (which must carry a serial)."""

    model_config = ConfigDict(extra="forbid")
    udi: str = Field(..., min_length=1, max_length=200)
    kind: ServiceKind
    performed_on: date
    description: str = _TEXT
    parts_replaced: list[str] = Field(default_factory=list, max_length=100)
    outcome: ServiceOutcome = ServiceOutcome.IN_SERVICE
    complaint_id: RecordId | None = None

    @field_validator("parts_replaced")
    @classmethod
    def _parts(cls, value: list[str]) -> list[str]:
        return [part.strip()[:200] for part in value if part.strip()]


class ServiceRecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    gtin: str
    serial: str
    lot: str | None
    product_id: RecordId | None
    kind: str
    performed_on: date
    performed_by_party_id: RecordId
    performed_by_user_id: RecordId | None
    description: str
    parts_replaced: list[str]
    outcome: str
    complaint_id: RecordId | None
    created_at: datetime
