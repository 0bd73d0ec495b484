"""The transition tables of NCR, CAPA and change control (see docs/quality.md for them as tables).

Each row: (state, action) → next state, the permission, the guard, the signature meaning, and
whether the record's author may take the step. ``compliance.workflow.perform`` enforces them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from medledger.catalog.models import BomLine, Product
from medledger.compliance.signables import Meaning
from medledger.compliance.workflow import GuardFailure, Transition, Workflow
from medledger.core.db import utcnow
from medledger.core.principal import Permission, Principal
from medledger.quality import facts
from medledger.quality import repository as repo
from medledger.quality.errors import Code
from medledger.quality.hooks import LotHoldRequest, LotRef, emit_lot_hold
from medledger.quality.models import (
    Capa,
    ChangeNotice,
    ChangeRequest,
    Complaint,
    Deviation,
    Ncr,
)

P = Permission
M = Meaning


def N_(message: str) -> str:
    """Mark a state or button label for extraction (translated when shown)."""
    return message


# --- NCR -------------------------------------------------------------------------------------


def _ncr_has_supplier(session: Session, principal: Principal, ncr: Ncr) -> GuardFailure | None:
    if ncr.supplier_party_id is None:
        return GuardFailure(
            Code.NCR_NO_SUPPLIER,
            "Name the supplier concerned before asking it to respond.",
            "supplier_party_id",
        )
    return None


def _ncr_supplier_answered(session: Session, principal: Principal, ncr: Ncr) -> GuardFailure | None:
    if principal.party_id not in (ncr.supplier_party_id, principal.hub_party_id):
        return GuardFailure(
            Code.NCR_NOT_THE_SUPPLIER, "Only the supplier concerned can answer this NCR."
        )
    if not ncr.supplier_response.strip():
        return GuardFailure(
            Code.NCR_RESPONSE_MISSING, "Write the supplier's response first.", "supplier_response"
        )
    return None


def _ncr_disposition_ready(session: Session, principal: Principal, ncr: Ncr) -> GuardFailure | None:
    if not ncr.disposition:
        return GuardFailure(
            Code.NCR_DISPOSITION_MISSING, "Choose a disposition first.", "disposition"
        )
    if not ncr.disposition_rationale.strip():
        return GuardFailure(
            Code.NCR_RATIONALE_MISSING,
            "Explain the disposition (rationale) first.",
            "disposition_rationale",
        )
    return None


NCR_CLOSED = frozenset({"closed", "cancelled"})


def release_ncr_lots(session: Session, principal: Principal, ncr: Ncr) -> None:
    """Closing or cancelling an NCR releases the holds it asked for, except lots another open
    NCR still names."""
    still_held = repo.lots_held_by_other_open_ncrs(session, ncr.tenant_id, ncr.id, NCR_CLOSED)
    lots = tuple(
        LotRef(str(lot["gtin"]), str(lot["lot"]))
        for lot in ncr.affected_lots or []
        if (str(lot["gtin"]), str(lot["lot"])) not in still_held
    )
    emit_lot_hold(
        LotHoldRequest(
            session,
            ncr.tenant_id,
            "release",
            lots,
            "ncr",
            ncr.id,
            ncr.number,
            f"{ncr.number} {ncr.state}",
            principal,
        )
    )


NCR_WORKFLOW = Workflow(
    kind="ncr",
    states={
        "open": N_("open"),
        "investigating": N_("investigating"),
        "awaiting_supplier": N_("awaiting supplier"),
        "disposition_proposed": N_("disposition proposed"),
        "dispositioned": N_("dispositioned"),
        "closed": N_("closed"),
        "cancelled": N_("cancelled"),
    },
    initial="open",
    closed_states=NCR_CLOSED,
    transitions=(
        Transition("open", "investigate", "investigating", P.QUALITY_WRITE, N_("Investigate")),
        Transition(
            "investigating",
            "request_supplier_response",
            "awaiting_supplier",
            P.QUALITY_WRITE,
            N_("Ask the supplier to respond (SCAR)"),
            guard=_ncr_has_supplier,
        ),
        Transition(
            "awaiting_supplier",
            "respond",
            "investigating",
            P.QUALITY_REPORT,
            N_("Send the response"),
            guard=_ncr_supplier_answered,
        ),
        Transition(
            "investigating",
            "propose_disposition",
            "disposition_proposed",
            P.QUALITY_WRITE,
            N_("Propose the disposition"),
            signature=M.REVIEWED,
            guard=_ncr_disposition_ready,
        ),
        Transition(
            "disposition_proposed",
            "approve_disposition",
            "dispositioned",
            P.QUALITY_APPROVE,
            N_("Approve the disposition"),
            signature=M.APPROVED,
            author_may_not=True,
        ),
        Transition(
            "disposition_proposed",
            "reject_disposition",
            "investigating",
            P.QUALITY_APPROVE,
            N_("Reject the disposition"),
            signature=M.REJECTED,
            reason_required=True,
        ),
        Transition(
            "dispositioned",
            "close",
            "closed",
            P.QUALITY_APPROVE,
            N_("Close"),
            signature=M.CLOSED,
            author_may_not=True,
            effect=release_ncr_lots,
        ),
        Transition(
            "open",
            "cancel",
            "cancelled",
            P.QUALITY_APPROVE,
            N_("Cancel"),
            reason_required=True,
            effect=release_ncr_lots,
        ),
        Transition(
            "investigating",
            "cancel",
            "cancelled",
            P.QUALITY_APPROVE,
            N_("Cancel"),
            reason_required=True,
            effect=release_ncr_lots,
        ),
    ),
)

# --- CAPA ------------------------------------------------------------------------------------


def _capa_plan_ready(session: Session, principal: Principal, capa: Capa) -> GuardFailure | None:
    if not capa.root_cause.strip():
        return GuardFailure(
            Code.CAPA_ROOT_CAUSE_MISSING, "Record the root cause first.", "root_cause"
        )
    if not repo.capa_actions(session, [capa.id])[capa.id]:
        return GuardFailure(Code.CAPA_NO_ACTIONS, "Plan at least one action first.", "actions")
    return None


def _capa_actions_done(session: Session, principal: Principal, capa: Capa) -> GuardFailure | None:
    open_actions = [a for a in repo.capa_actions(session, [capa.id])[capa.id] if a.done_at is None]
    if open_actions:
        return GuardFailure(
            Code.CAPA_ACTIONS_OPEN,
            "{count} actions are not done yet.",
            "actions",
            {"count": len(open_actions)},
        )
    return None


def _capa_effective(session: Session, principal: Principal, capa: Capa) -> GuardFailure | None:
    if capa.effective is not True or not capa.effectiveness_result.strip():
        return GuardFailure(
            Code.CAPA_EFFECTIVENESS_UNVERIFIED,
            "Record an effectiveness check that found the actions effective before closing.",
            "effectiveness_result",
        )
    return None


CAPA_CLOSED = frozenset({"closed", "cancelled"})

CAPA_WORKFLOW = Workflow(
    kind="capa",
    states={
        "open": N_("open"),
        "investigation": N_("investigation"),
        "plan_review": N_("plan in review"),
        "implementation": N_("implementation"),
        "effectiveness_check": N_("effectiveness check"),
        "closed": N_("closed"),
        "cancelled": N_("cancelled"),
    },
    initial="open",
    closed_states=CAPA_CLOSED,
    transitions=(
        Transition(
            "open", "investigate", "investigation", P.QUALITY_WRITE, N_("Start the investigation")
        ),
        Transition(
            "investigation",
            "submit_plan",
            "plan_review",
            P.QUALITY_WRITE,
            N_("Submit the plan for approval"),
            signature=M.AUTHORED,
            guard=_capa_plan_ready,
        ),
        Transition(
            "plan_review",
            "approve_plan",
            "implementation",
            P.QUALITY_APPROVE,
            N_("Approve the plan"),
            signature=M.APPROVED,
            author_may_not=True,
        ),
        Transition(
            "plan_review",
            "reject_plan",
            "investigation",
            P.QUALITY_APPROVE,
            N_("Reject the plan"),
            signature=M.REJECTED,
            reason_required=True,
        ),
        Transition(
            "implementation",
            "check_effectiveness",
            "effectiveness_check",
            P.QUALITY_WRITE,
            N_("Start the effectiveness check"),
            guard=_capa_actions_done,
        ),
        Transition(
            "effectiveness_check",
            "reopen",
            "implementation",
            P.QUALITY_WRITE,
            N_("Not effective: back to implementation"),
            reason_required=True,
        ),
        Transition(
            "effectiveness_check",
            "close",
            "closed",
            P.QUALITY_APPROVE,
            N_("Close"),
            signature=M.CLOSED,
            guard=_capa_effective,
            author_may_not=True,
        ),
        Transition(
            "open", "cancel", "cancelled", P.QUALITY_APPROVE, N_("Cancel"), reason_required=True
        ),
        Transition(
            "investigation",
            "cancel",
            "cancelled",
            P.QUALITY_APPROVE,
            N_("Cancel"),
            reason_required=True,
        ),
    ),
)

# --- change control --------------------------------------------------------------------------


def _change_ready(
    session: Session, principal: Principal, change: ChangeRequest
) -> GuardFailure | None:
    if not (change.affected_product_ids or change.affected_bom_ids or change.affected_documents):
        return GuardFailure(
            Code.CHANGE_NOTHING_AFFECTED,
            "Name the affected products, BOMs or documents first.",
            "affected_product_ids",
        )
    if not change.impact_assessment.strip():
        return GuardFailure(
            Code.CHANGE_IMPACT_MISSING, "Write the impact assessment first.", "impact_assessment"
        )
    if change.effective_date is None:
        return GuardFailure(
            Code.CHANGE_EFFECTIVE_DATE_MISSING, "Set the effective date first.", "effective_date"
        )
    return None


def _change_due(
    session: Session, principal: Principal, change: ChangeRequest
) -> GuardFailure | None:
    if change.effective_date is None or change.effective_date > utcnow().date():
        return GuardFailure(
            Code.CHANGE_NOT_YET_EFFECTIVE,
            "The change becomes effective on {day}.",
            "effective_date",
            {"day": str(change.effective_date)},
        )
    return None


def affected_parties(
    session: Session, change: ChangeRequest, hub_party_id: int | None
) -> dict[int, str]:
    """Partner parties whose items the change touches, each with why: owners of affected
    products, owners of the components of affected BOMs, and parties named by hand."""
    why: dict[int, str] = {}
    if change.affected_product_ids:
        for party_id, gtin in session.execute(
            select(Product.owner_party_id, Product.gtin).where(
                Product.tenant_id == change.tenant_id,
                Product.id.in_(change.affected_product_ids),
            )
        ):
            why.setdefault(int(party_id), f"product {gtin}")
    if change.affected_bom_ids:
        for party_id, gtin in session.execute(
            select(Product.owner_party_id, Product.gtin)
            .join(BomLine, BomLine.component_gtin == Product.gtin)
            .where(
                Product.tenant_id == change.tenant_id,
                BomLine.bom_id.in_(change.affected_bom_ids),
            )
        ):
            why.setdefault(int(party_id), f"component {gtin}")
    for party_id in change.extra_party_ids or []:
        why.setdefault(int(party_id), "named")
    why.pop(hub_party_id or -1, None)
    return why


def notify_partners(session: Session, principal: Principal, change: ChangeRequest) -> None:
    """An approved change is notified to every partner whose items it touches (a notice in
    its portal)."""
    existing = {n.party_id for n in repo.change_notices(session, change.id)}
    for party_id, why in sorted(affected_parties(session, change, principal.hub_party_id).items()):
        if party_id in existing:
            continue
        notice = ChangeNotice(
            tenant_id=change.tenant_id,
            change_id=change.id,
            party_id=party_id,
            why=why[:200],
            notified_at=utcnow(),
        )
        session.add(notice)
        facts.change_notified(session, change, notice)
    session.flush()


CHANGE_CLOSED = frozenset({"closed", "cancelled"})

CHANGE_WORKFLOW = Workflow(
    kind="change",
    states={
        "draft": N_("draft"),
        "in_review": N_("in review"),
        "approved": N_("approved"),
        "effective": N_("effective"),
        "closed": N_("closed"),
        "cancelled": N_("cancelled"),
    },
    initial="draft",
    closed_states=CHANGE_CLOSED,
    transitions=(
        Transition(
            "draft",
            "submit",
            "in_review",
            P.QUALITY_WRITE,
            N_("Submit for approval"),
            signature=M.AUTHORED,
            guard=_change_ready,
        ),
        Transition(
            "in_review",
            "approve",
            "approved",
            P.QUALITY_APPROVE,
            N_("Approve"),
            signature=M.APPROVED,
            author_may_not=True,
            effect=notify_partners,
        ),
        Transition(
            "in_review",
            "reject",
            "draft",
            P.QUALITY_APPROVE,
            N_("Reject"),
            signature=M.REJECTED,
            reason_required=True,
        ),
        Transition(
            "approved",
            "make_effective",
            "effective",
            P.QUALITY_WRITE,
            N_("Make effective"),
            guard=_change_due,
        ),
        Transition(
            "effective",
            "close",
            "closed",
            P.QUALITY_APPROVE,
            N_("Close"),
            signature=M.CLOSED,
            author_may_not=True,
        ),
        Transition(
            "draft", "cancel", "cancelled", P.QUALITY_WRITE, N_("Cancel"), reason_required=True
        ),
    ),
)

# --- deviations ------------------------------------------------------------------------------


def _deviation_ready(
    session: Session, principal: Principal, deviation: Deviation
) -> GuardFailure | None:
    if not deviation.risk_assessment.strip():
        return GuardFailure(
            Code.DEVIATION_RISK_MISSING, "Write the risk assessment first.", "risk_assessment"
        )
    if deviation.kind == "planned" and (
        deviation.valid_from is None or deviation.valid_until is None
    ):
        return GuardFailure(
            Code.DEVIATION_WINDOW_MISSING,
            "A planned deviation needs the dates it is valid from and until.",
            "valid_until",
        )
    return None


def _deviation_summarised(
    session: Session, principal: Principal, deviation: Deviation
) -> GuardFailure | None:
    if not deviation.closure_summary.strip():
        return GuardFailure(
            Code.DEVIATION_SUMMARY_MISSING,
            "Summarise the outcome (lots made, checks done) before closing.",
            "closure_summary",
        )
    return None


DEVIATION_CLOSED = frozenset({"closed", "cancelled"})

DEVIATION_WORKFLOW = Workflow(
    kind="deviation",
    states={
        "draft": N_("draft"),
        "in_review": N_("in review"),
        "approved": N_("approved"),
        "closed": N_("closed"),
        "cancelled": N_("cancelled"),
    },
    initial="draft",
    closed_states=DEVIATION_CLOSED,
    transitions=(
        Transition(
            "draft",
            "submit",
            "in_review",
            P.QUALITY_WRITE,
            N_("Submit for approval"),
            signature=M.AUTHORED,
            guard=_deviation_ready,
        ),
        Transition(
            "in_review",
            "approve",
            "approved",
            P.QUALITY_APPROVE,
            N_("Approve"),
            signature=M.APPROVED,
            author_may_not=True,
        ),
        Transition(
            "in_review",
            "reject",
            "draft",
            P.QUALITY_APPROVE,
            N_("Reject"),
            signature=M.REJECTED,
            reason_required=True,
        ),
        Transition(
            "approved",
            "close",
            "closed",
            P.QUALITY_APPROVE,
            N_("Close"),
            signature=M.CLOSED,
            guard=_deviation_summarised,
            author_may_not=True,
        ),
        Transition(
            "draft", "cancel", "cancelled", P.QUALITY_WRITE, N_("Cancel"), reason_required=True
        ),
    ),
)

# --- complaints ------------------------------------------------------------------------------


def _complaint_decided(
    session: Session, principal: Principal, complaint: Complaint
) -> GuardFailure | None:
    if not complaint.investigation.strip():
        return GuardFailure(
            Code.COMPLAINT_INVESTIGATION_MISSING,
            "Record the investigation before proposing the decision.",
            "investigation",
        )
    for field in ("fda_mdr_reportable", "eu_vigilance_reportable", "nmpa_reportable"):
        if getattr(complaint, field) is None:
            return GuardFailure(
                Code.COMPLAINT_REPORTABILITY_MISSING,
                "Decide whether the complaint is reportable to each regulator (FDA MDR, EU MDR "
                "vigilance, NMPA adverse event).",
                field,
            )
    if not complaint.reportability_rationale.strip():
        return GuardFailure(
            Code.COMPLAINT_RATIONALE_MISSING,
            "Explain the reportability decision (rationale).",
            "reportability_rationale",
        )
    return None


def _complaint_concluded(
    session: Session, principal: Principal, complaint: Complaint
) -> GuardFailure | None:
    if not complaint.conclusion.strip():
        return GuardFailure(
            Code.COMPLAINT_CONCLUSION_MISSING, "Write the conclusion before closing.", "conclusion"
        )
    return None


COMPLAINT_CLOSED = frozenset({"closed", "cancelled"})

COMPLAINT_WORKFLOW = Workflow(
    kind="complaint",
    states={
        "received": N_("received"),
        "investigating": N_("investigating"),
        "decision_review": N_("decision in review"),
        "decided": N_("decided"),
        "closed": N_("closed"),
        "cancelled": N_("cancelled"),
    },
    initial="received",
    closed_states=COMPLAINT_CLOSED,
    transitions=(
        Transition("received", "investigate", "investigating", P.QUALITY_WRITE, N_("Investigate")),
        Transition(
            "investigating",
            "propose_decision",
            "decision_review",
            P.QUALITY_WRITE,
            N_("Propose the reportability decision"),
            signature=M.REVIEWED,
            guard=_complaint_decided,
        ),
        Transition(
            "decision_review",
            "approve_decision",
            "decided",
            P.QUALITY_APPROVE,
            N_("Approve the decision"),
            signature=M.APPROVED,
            author_may_not=True,
        ),
        Transition(
            "decision_review",
            "reject_decision",
            "investigating",
            P.QUALITY_APPROVE,
            N_("Send back"),
            signature=M.REJECTED,
            reason_required=True,
        ),
        Transition(
            "decided",
            "close",
            "closed",
            P.QUALITY_APPROVE,
            N_("Close"),
            signature=M.CLOSED,
            guard=_complaint_concluded,
            author_may_not=True,
        ),
        Transition(
            "received", "cancel", "cancelled", P.QUALITY_APPROVE, N_("Cancel"), reason_required=True
        ),
        Transition(
            "investigating",
            "cancel",
            "cancelled",
            P.QUALITY_APPROVE,
            N_("Cancel"),
            reason_required=True,
        ),
    ),
)
