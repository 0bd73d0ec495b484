"""The quality record kinds, declared once each: NCR, CAPA, change request, deviation,
complaint, inspection and lot release.

A :class:`RecordKind` says everything the rest of the context needs about a kind — its table,
its workflow (transition table), its place in the URLs of the pages and the API, its names
(singular, plural, the count's plural pair), what its electronic signatures cover (the signed
content) and who may sign it outside its workflow, whether partners report it, whether it
names one lot — and the API, the pages, the lists, the signing registry and the audit trail
(the kind is the model's ``__audit_entity__``) all read it from :data:`RECORD_KINDS`.

The signed content is every field that says what the record *is* (never its workflow state,
version counter or bookkeeping times), so a later workflow step keeps earlier signatures
matching while any edit of signed content makes them stop matching (and pages and the API say
so). A CAPA's content includes its actions (description, owner, due date).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from medledger.compliance.signables import Meaning
from medledger.compliance.workflow import Workflow
from medledger.core.principal import Permission
from medledger.quality import repository as repo
from medledger.quality.lot_workflows import INSPECTION_WORKFLOW, LOT_RELEASE_WORKFLOW
from medledger.quality.models import (
    Capa,
    ChangeRequest,
    Complaint,
    Deviation,
    Inspection,
    LotRelease,
    Ncr,
)
from medledger.quality.workflows import (
    CAPA_WORKFLOW,
    CHANGE_WORKFLOW,
    COMPLAINT_WORKFLOW,
    DEVIATION_WORKFLOW,
    NCR_WORKFLOW,
)


def N_(message: str) -> str:
    return message


def NP_(singular: str, plural: str) -> tuple[str, str]:
    return singular, plural


NCR_FIELDS = (
    "number",
    "title",
    "description",
    "source",
    "severity",
    "product_id",
    "supplier_party_id",
    "complaint_udi",
    "affected_lots",
    "investigation",
    "disposition",
    "disposition_rationale",
    "supplier_response",
    "capa_id",
)
CAPA_FIELDS = (
    "number",
    "title",
    "problem",
    "source_ncr_id",
    "supplier_party_id",
    "investigation",
    "root_cause",
    "effectiveness_criteria",
    "effectiveness_result",
    "effective",
)
CHANGE_FIELDS = (
    "number",
    "title",
    "description",
    "reason_for_change",
    "impact_assessment",
    "affected_product_ids",
    "affected_bom_ids",
    "affected_documents",
    "extra_party_ids",
    "effective_date",
)

DEVIATION_FIELDS = (
    "number",
    "title",
    "description",
    "kind",
    "product_id",
    "supplier_party_id",
    "affected_lots",
    "risk_assessment",
    "valid_from",
    "valid_until",
    "closure_summary",
)

COMPLAINT_FIELDS = (
    "number",
    "title",
    "description",
    "received_at",
    "event_date",
    "harm",
    "patient_involved",
    "udi",
    "product_id",
    "investigation",
    "fda_mdr_reportable",
    "eu_vigilance_reportable",
    "nmpa_reportable",
    "reportability_rationale",
    "report_references",
    "conclusion",
    "ncr_id",
    "capa_id",
)


INSPECTION_FIELDS = (
    "number",
    "kind",
    "plan_id",
    "plan_version",
    "gtin",
    "lot",
    "supplier_party_id",
    "lab_party_id",
    "characteristics",
    "results",
)
LOT_RELEASE_FIELDS = (
    "number",
    "title",
    "product_id",
    "gtin",
    "lot",
    "supplier_party_id",
    "note",
    "inspection_id",
)


def _fields(record: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(record, name) for name in names}


def _capa_content(session: Session, capa: Capa) -> dict[str, Any]:
    content = _fields(capa, CAPA_FIELDS)
    content["actions"] = [
        {
            "id": a.id,
            "kind": a.kind,
            "description": a.description,
            "owner_user_id": a.owner_user_id,
            "due_date": a.due_date,
        }
        for a in repo.capa_actions(session, [capa.id])[capa.id]
    ]
    return content


# Meanings a record may be signed with outside its workflow (and the permission they need).
REVIEW = {Meaning.REVIEWED: Permission.QUALITY_WRITE}


@dataclass(frozen=True)
class RecordKind:
    """One kind of quality record (see the module docstring)."""

    kind: str
    model: Any
    workflow: Workflow
    path: str  # the URL segment: /quality/<path>/<id>, /api/v1/quality/<path>
    label: str  # English msgids
    plural: str
    count: tuple[str, str]
    signed_fields: tuple[str, ...]
    content: Callable[[Session, Any], dict[str, Any]] | None = None
    signature_permissions: dict[Meaning, Permission] = field(default_factory=lambda: REVIEW)
    reported_by_partners: bool = False
    names_a_lot: bool = False

    def page(self, record_id: int) -> str:
        return f"/quality/{self.path}/{record_id}"

    def signed_content(self, session: Session, record: Any) -> dict[str, Any]:
        if self.content is not None:
            return self.content(session, record)
        return _fields(record, self.signed_fields)


RECORD_KINDS: dict[str, RecordKind] = {
    spec.kind: spec
    for spec in (
        RecordKind(
            "ncr",
            Ncr,
            NCR_WORKFLOW,
            "ncrs",
            N_("NCR"),
            N_("NCRs"),
            NP_("{n} NCR", "{n} NCRs"),
            NCR_FIELDS,
            reported_by_partners=True,
        ),
        RecordKind(
            "capa",
            Capa,
            CAPA_WORKFLOW,
            "capas",
            N_("CAPA"),
            N_("CAPAs"),
            NP_("{n} CAPA", "{n} CAPAs"),
            CAPA_FIELDS,
            content=_capa_content,
        ),
        RecordKind(
            "change",
            ChangeRequest,
            CHANGE_WORKFLOW,
            "changes",
            N_("Change request"),
            N_("Change requests"),
            NP_("{n} change request", "{n} change requests"),
            CHANGE_FIELDS,
        ),
        RecordKind(
            "deviation",
            Deviation,
            DEVIATION_WORKFLOW,
            "deviations",
            N_("Deviation"),
            N_("Deviations"),
            NP_("{n} deviation", "{n} deviations"),
            DEVIATION_FIELDS,
        ),
        RecordKind(
            "complaint",
            Complaint,
            COMPLAINT_WORKFLOW,
            "complaints",
            N_("Complaint"),
            N_("Complaints"),
            NP_("{n} complaint", "{n} complaints"),
            COMPLAINT_FIELDS,
            reported_by_partners=True,
        ),
        RecordKind(
            "inspection",
            Inspection,
            INSPECTION_WORKFLOW,
            "inspections",
            N_("Inspection"),
            N_("Inspections"),
            NP_("{n} inspection", "{n} inspections"),
            INSPECTION_FIELDS,
            names_a_lot=True,
        ),
        RecordKind(
            "lot_release",
            LotRelease,
            LOT_RELEASE_WORKFLOW,
            "lot-releases",
            N_("Lot release"),
            N_("Lot releases"),
            NP_("{n} lot release", "{n} lot releases"),
            LOT_RELEASE_FIELDS,
            signature_permissions={},
            names_a_lot=True,
        ),
    )
}

WORKFLOWS: dict[str, Workflow] = {kind: spec.workflow for kind, spec in RECORD_KINDS.items()}


def record_kind(kind: str) -> RecordKind | None:
    return RECORD_KINDS.get(kind)


def state_label(kind: str, state: str) -> str:
    return WORKFLOWS[kind].states.get(state, state)


def is_open(kind: str, record: Any) -> bool:
    return record.state not in WORKFLOWS[kind].closed_states
