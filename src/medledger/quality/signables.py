"""NCR, CAPA and change requests as signable records: what a signature's hash covers.

The signed content is every field that says what the record *is* (never its workflow state,
version counter or bookkeeping times), so a later workflow step keeps earlier signatures
matching while any edit of signed content makes them stop matching (and pages and the API say
so). A CAPA's content includes its actions (description, owner, due date).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from medledger.compliance.signables import Meaning, SignableKind, register_signable
from medledger.core.principal import Permission
from medledger.quality import repository as repo
from medledger.quality.models import (
    Capa,
    ChangeRequest,
    Complaint,
    Deviation,
    Inspection,
    LotRelease,
    Ncr,
)

_REVIEW = {Meaning.REVIEWED: Permission.QUALITY_WRITE}

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


register_signable(
    SignableKind(
        kind="ncr",
        model=Ncr,
        content=lambda session, ncr: _fields(ncr, NCR_FIELDS),
        author=lambda ncr: ncr.created_by_user_id,
        label=lambda ncr: ncr.number,
        path=lambda ncr: f"/quality/ncrs/{ncr.id}",
        permissions=_REVIEW,
    )
)
register_signable(
    SignableKind(
        kind="capa",
        model=Capa,
        content=_capa_content,
        author=lambda capa: capa.created_by_user_id,
        label=lambda capa: capa.number,
        path=lambda capa: f"/quality/capas/{capa.id}",
        permissions=_REVIEW,
    )
)
register_signable(
    SignableKind(
        kind="change",
        model=ChangeRequest,
        content=lambda session, change: _fields(change, CHANGE_FIELDS),
        author=lambda change: change.created_by_user_id,
        label=lambda change: change.number,
        path=lambda change: f"/quality/changes/{change.id}",
        permissions=_REVIEW,
    )
)
register_signable(
    SignableKind(
        kind="deviation",
        model=Deviation,
        content=lambda session, deviation: _fields(deviation, DEVIATION_FIELDS),
        author=lambda deviation: deviation.created_by_user_id,
        label=lambda deviation: deviation.number,
        path=lambda deviation: f"/quality/deviations/{deviation.id}",
        permissions=_REVIEW,
    )
)
register_signable(
    SignableKind(
        kind="complaint",
        model=Complaint,
        content=lambda session, complaint: _fields(complaint, COMPLAINT_FIELDS),
        author=lambda complaint: complaint.created_by_user_id,
        label=lambda complaint: complaint.number,
        path=lambda complaint: f"/quality/complaints/{complaint.id}",
        permissions=_REVIEW,
    )
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

register_signable(
    SignableKind(
        kind="inspection",
        model=Inspection,
        content=lambda session, inspection: _fields(inspection, INSPECTION_FIELDS),
        author=lambda inspection: inspection.created_by_user_id,
        label=lambda inspection: inspection.number,
        path=lambda inspection: f"/quality/inspections/{inspection.id}",
        permissions=_REVIEW,
    )
)
register_signable(
    SignableKind(
        kind="lot_release",
        model=LotRelease,
        content=lambda session, release: _fields(release, LOT_RELEASE_FIELDS),
        author=lambda release: release.created_by_user_id,
        label=lambda release: release.number,
        path=lambda release: f"/quality/lot-releases/{release.id}",
        permissions={},
    )
)
