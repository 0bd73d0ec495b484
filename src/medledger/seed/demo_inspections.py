"""Demo inspections and lot releases: the signed release the inventory demo uses for its
released lots, inspection plans, passed and failed inspections (the failure opened an NCR),
an inspection waiting at the test lab, and a release waiting for the QA approver's signature.
Nothing is back-dated: the KPI's monthly trend starts with the demo's month and grows as
lots are released."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from medledger.compliance.workflow import perform
from medledger.core.system import system_unit_of_work
from medledger.inventory.models import StockBalance
from medledger.quality import inspection as inspections
from medledger.quality import lot_release
from medledger.quality.inspection_schemas import (
    CharacteristicIn,
    InspectionIn,
    LotReleaseIn,
    PlanIn,
    ResultIn,
    ResultsIn,
)
from medledger.quality.lot_workflows import LOT_RELEASE_WORKFLOW
from medledger.quality.models import LotRelease
from medledger.seed.demo import DemoNetwork


def signed_release(
    session: Session, network: DemoNetwork, gtin: str, lot: str, comment: str = ""
) -> LotRelease:
    """QA (``quality``) requests the release of a lot, the QA approver signs it ``released``."""
    from medledger.seed.demo_quality import _as, _signed

    quality = _as(session, network, "quality")
    release = lot_release.request_release(session, quality, LotReleaseIn(gtin=gtin, lot=lot))
    approver = _as(session, network, "qa_approver")
    lot_release.refresh_evidence(session, release)
    perform(
        session,
        approver,
        LOT_RELEASE_WORKFLOW,
        release,
        "release",
        credentials=_signed(comment or "Incoming inspection passed."),
    )
    return release


def _quarantine_lots(session: Session, network: DemoNetwork, gtin: str) -> list[str]:
    return sorted(
        set(
            session.scalars(
                select(StockBalance.lot).where(
                    StockBalance.tenant_id == network.tenant_id,
                    StockBalance.gtin == gtin,
                    StockBalance.status == "quarantine",
                    StockBalance.quantity > 0,
                )
            )
        )
    )


def seed_demo_inspections(factory: sessionmaker[Session], network: DemoNetwork) -> dict[str, int]:
    """Plans, inspections and lot decisions (one transaction); returns ids by key."""
    from medledger.seed.demo_quality import _as

    ids: dict[str, int] = {}
    lab = network.parties["lab"].id
    with system_unit_of_work(factory, label="seed") as session:
        quality = _as(session, network, "quality")
        tube = network.products["c-pebax-tube"]
        glide = network.products["glide-2515"]
        tube_plan = inspections.create_plan(
            session,
            quality,
            PlanIn(
                title="Pebax tubing — incoming inspection",
                product_id=tube.id,
                kind="incoming",
                characteristics=[
                    CharacteristicIn(
                        name="Outer diameter",
                        kind="numeric",
                        unit="mm",
                        lower=1.95,
                        upper=2.05,
                        sample_size=3,
                    ),
                    CharacteristicIn(
                        name="Wall thickness",
                        kind="numeric",
                        unit="mm",
                        lower=0.12,
                        upper=0.16,
                        sample_size=3,
                    ),
                    CharacteristicIn(name="Surface", kind="attribute", expected="no defects"),
                ],
            ),
        )
        glide_plan = inspections.create_plan(
            session,
            quality,
            PlanIn(
                title="Guidewire — biocompatibility lot test (test lab)",
                product_id=glide.id,
                kind="incoming",
                characteristics=[
                    CharacteristicIn(name="Cytotoxicity grade", kind="numeric", lower=0, upper=2),
                    CharacteristicIn(name="Endotoxin", kind="attribute", expected="pass"),
                ],
            ),
        )
        ids |= {"tube_plan": tube_plan.id, "glide_plan": glide_plan.id}
        # The tubing lots in quarantine: one passed, one failed (→ NCR), one still waits for
        # its release signature.
        tube_lots = _quarantine_lots(session, network, tube.gtin)
        readings = {
            "pass": [
                ResultIn(name="Outer diameter", values=[2.0, 2.01, 1.99]),
                ResultIn(name="Wall thickness", values=[0.14, 0.14, 0.15]),
                ResultIn(name="Surface", values=["no defects"]),
            ],
            "fail": [
                ResultIn(name="Outer diameter", values=[2.0, 2.09, 2.01]),
                ResultIn(name="Wall thickness", values=[0.14, 0.13, 0.14]),
                ResultIn(name="Surface", values=["no defects"]),
            ],
        }
        for lot, verdict in zip(tube_lots, ("pass",), strict=False):
            inspection = inspections.create_inspection(
                session, quality, InspectionIn(gtin=tube.gtin, lot=lot)
            )
            inspections.record_results(
                session, quality, inspection.id, ResultsIn(results=readings[verdict])
            )
            pending = lot_release.request_release(
                session, quality, LotReleaseIn(gtin=tube.gtin, lot=lot, note="CoA on file.")
            )
            ids |= {"passed_inspection": inspection.id, "pending_release": pending.id}
        # A failed inspection of a guidewire lot, by the test lab: it opened an NCR.
        glide_lots = _quarantine_lots(session, network, glide.gtin)
        if glide_lots:
            failed = inspections.create_inspection(
                session,
                quality,
                InspectionIn(gtin=glide.gtin, lot=glide_lots[0], lab_party_id=lab),
            )
            lab_user = _as(session, network, "lab")
            inspections.record_results(
                session,
                lab_user,
                failed.id,
                ResultsIn(
                    results=[
                        ResultIn(name="Cytotoxicity grade", values=[3]),
                        ResultIn(name="Endotoxin", values=["pass"]),
                    ]
                ),
            )
            ids["failed_inspection"] = failed.id
        # An inspection waiting at the test lab (its analyst sees it in her tasks).
        quality = _as(session, network, "quality")
        released = sorted(
            set(
                session.scalars(
                    select(StockBalance.lot).where(
                        StockBalance.tenant_id == network.tenant_id,
                        StockBalance.gtin == glide.gtin,
                        StockBalance.status == "released",
                    )
                )
            )
        )
        if released:
            # A periodic re-test of a released lot, sent to the lab.
            waiting = inspections.create_inspection(
                session,
                quality,
                InspectionIn(gtin=glide.gtin, lot=released[-1], lab_party_id=lab),
            )
            ids["lab_inspection"] = waiting.id
    return ids
