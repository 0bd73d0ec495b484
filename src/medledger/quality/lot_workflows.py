"""The transition tables of inspections and lot releases (docs/quality.md shows them as tables).

An inspection is decided by its results, not by a button: when the last characteristic gets
its readings, the service takes ``pass`` or ``fail`` (their guards check the verdict), and a
failed inspection opens an NCR in the same transaction. A lot release is requested by QA and
signed ``released`` (not by its requester) or ``rejected`` by a QA approver; the step's effect
moves the lot's stock through inventory's service.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from medledger.compliance.signables import Meaning
from medledger.compliance.workflow import GuardFailure, Transition, Workflow
from medledger.core.db import utcnow
from medledger.core.principal import Permission, Principal
from medledger.inventory import service as inventory
from medledger.quality.errors import Code
from medledger.quality.inspection_rules import FAIL, PASS, overall
from medledger.quality.models import Inspection, InspectionPlan, LotRelease, Ncr

P = Permission
M = Meaning

NCR_CLOSED = frozenset({"closed", "cancelled"})


def N_(message: str) -> str:
    return message


# --- inspections ----------------------------------------------------------------------------


def _verdict_is(verdict: str):
    def guard(
        session: Session, principal: Principal, inspection: Inspection
    ) -> GuardFailure | None:
        decided = overall(inspection.characteristics, inspection.results or {})
        if decided is None:
            return GuardFailure(
                Code.INSPECTION_RESULTS_MISSING,
                "Enter the readings of every characteristic first.",
                "results",
            )
        if decided != verdict:
            return GuardFailure(
                Code.INSPECTION_VERDICT_DIFFERS,
                "The results say {verdict}.",
                "results",
                {"verdict": decided},
            )
        return None

    return guard


def _decided(session: Session, principal: Principal, inspection: Inspection) -> None:
    inspection.verdict = overall(inspection.characteristics, inspection.results or {})
    inspection.decided_at = utcnow()


def _failed(session: Session, principal: Principal, inspection: Inspection) -> None:
    from medledger.quality.ncr import raise_from_inspection

    _decided(session, principal, inspection)
    inspection.ncr_id = raise_from_inspection(session, principal, inspection).id


INSPECTION_WORKFLOW = Workflow(
    kind="inspection",
    states={
        "open": N_("open"),
        "passed": N_("passed"),
        "failed": N_("failed"),
        "cancelled": N_("cancelled"),
    },
    initial="open",
    closed_states=frozenset({"passed", "failed", "cancelled"}),
    transitions=(
        Transition(
            "open",
            "pass",
            "passed",
            P.QUALITY_REPORT,
            N_("Passed"),
            guard=_verdict_is(PASS),
            effect=_decided,
        ),
        Transition(
            "open",
            "fail",
            "failed",
            P.QUALITY_REPORT,
            N_("Failed"),
            guard=_verdict_is(FAIL),
            effect=_failed,
        ),
        Transition(
            "open", "cancel", "cancelled", P.QUALITY_WRITE, N_("Cancel"), reason_required=True
        ),
    ),
)

# --- lot release ----------------------------------------------------------------------------


def product_has_plan(session: Session, tenant_id: int, product_id: int) -> bool:
    return (
        session.scalar(
            select(InspectionPlan.id)
            .where(
                InspectionPlan.tenant_id == tenant_id,
                InspectionPlan.product_id == product_id,
                InspectionPlan.active.is_(True),
            )
            .limit(1)
        )
        is not None
    )


def latest_decided_inspection(
    session: Session, tenant_id: int, gtin: str, lot: str
) -> Inspection | None:
    return session.scalars(
        select(Inspection)
        .where(
            Inspection.tenant_id == tenant_id,
            Inspection.gtin == gtin,
            Inspection.lot == lot,
            Inspection.state.in_(("passed", "failed")),
        )
        .order_by(Inspection.decided_at.desc(), Inspection.id.desc())
        .limit(1)
    ).first()


def open_ncrs_naming(session: Session, tenant_id: int, gtin: str, lot: str) -> list[str]:
    numbers = []
    for number, lots in session.execute(
        select(Ncr.number, Ncr.affected_lots).where(
            Ncr.tenant_id == tenant_id, Ncr.state.not_in(NCR_CLOSED)
        )
    ):
        if any(str(x.get("gtin")) == gtin and str(x.get("lot")) == lot for x in lots or []):
            numbers.append(number)
    return sorted(numbers)


def _release_ready(
    session: Session, principal: Principal, release: LotRelease
) -> GuardFailure | None:
    tenant = release.tenant_id
    held = open_ncrs_naming(session, tenant, release.gtin, release.lot)
    if held:
        return GuardFailure(
            Code.LOT_RELEASE_LOT_UNDER_NCR,
            "Lot {lot} is named by open NCR {ncrs}; it cannot be released.",
            "lot",
            {"lot": release.lot, "ncrs": ", ".join(held)},
        )
    if product_has_plan(session, tenant, release.product_id):
        inspection = latest_decided_inspection(session, tenant, release.gtin, release.lot)
        if inspection is None:
            return GuardFailure(
                Code.LOT_RELEASE_INSPECTION_MISSING,
                "The product has an inspection plan: lot {lot} needs a passed inspection first.",
                "inspection_id",
                {"lot": release.lot},
            )
        if inspection.verdict != PASS:
            return GuardFailure(
                Code.LOT_RELEASE_INSPECTION_FAILED,
                "The latest inspection of lot {lot} ({number}) failed.",
                "inspection_id",
                {"lot": release.lot, "number": inspection.number},
            )
    quantities = inventory.lot_quantities(session, tenant, release.gtin, release.lot)
    if not quantities.get("quarantine"):
        return GuardFailure(
            Code.LOT_RELEASE_NOTHING_IN_QUARANTINE,
            "No unit of lot {lot} is in quarantine in own stock.",
            "lot",
            {"lot": release.lot},
        )
    return None


def _release(session: Session, principal: Principal, release: LotRelease) -> None:
    moved = inventory.release_lot(
        session, principal, release.gtin, release.lot, f"{release.number} released"
    )
    release.quantity = sum(m.quantity for m in moved)
    release.decided_at = utcnow()


def _reject(session: Session, principal: Principal, release: LotRelease) -> None:
    moved = inventory.reject_lot(
        session, principal, release.gtin, release.lot, f"{release.number} rejected"
    )
    release.quantity = sum(m.quantity for m in moved)
    release.decided_at = utcnow()


LOT_RELEASE_CLOSED = frozenset({"released", "rejected", "cancelled"})

LOT_RELEASE_WORKFLOW = Workflow(
    kind="lot_release",
    states={
        "requested": N_("requested"),
        "released": N_("released"),
        "rejected": N_("rejected"),
        "cancelled": N_("cancelled"),
    },
    initial="requested",
    closed_states=LOT_RELEASE_CLOSED,
    transitions=(
        Transition(
            "requested",
            "release",
            "released",
            P.QUALITY_APPROVE,
            N_("Release the lot"),
            signature=M.RELEASED,
            guard=_release_ready,
            effect=_release,
            author_may_not=True,
        ),
        Transition(
            "requested",
            "reject",
            "rejected",
            P.QUALITY_APPROVE,
            N_("Reject the lot"),
            signature=M.REJECTED,
            effect=_reject,
            reason_required=True,
        ),
        Transition(
            "requested", "cancel", "cancelled", P.QUALITY_WRITE, N_("Cancel"), reason_required=True
        ),
    ),
)
