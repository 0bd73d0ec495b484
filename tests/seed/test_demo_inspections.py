"""The inspection demo: plans, a passed and a failed inspection (with its NCR), one waiting at
the test lab, a release waiting for its signature, and signed releases of the stock demo."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from medledger.compliance.audit import verify_chain
from medledger.compliance.models import ElectronicSignature
from medledger.core.system import system_unit_of_work
from medledger.inventory.models import StockBalance
from medledger.quality.models import Inspection, LotRelease, Ncr
from medledger.seed.demo import build_demo_network
from medledger.seed.demo_inspections import seed_demo_inspections
from medledger.seed.demo_inventory import seed_demo_inventory
from medledger.seed.demo_quality import seed_demo_quality


def test_demo_inspections_and_signed_lot_releases(factory: sessionmaker[Session]) -> None:
    network = build_demo_network(factory)
    seed_demo_inventory(factory, network)
    seed_demo_quality(factory, network)
    ids = seed_demo_inspections(factory, network)
    with system_unit_of_work(factory) as session:
        states = {
            key: session.get(model, ids[key]).state  # type: ignore[union-attr]
            for key, model in (
                ("passed_inspection", Inspection),
                ("failed_inspection", Inspection),
                ("lab_inspection", Inspection),
                ("pending_release", LotRelease),
            )
        }
        assert states == {
            "passed_inspection": "passed",
            "failed_inspection": "failed",
            "lab_inspection": "open",
            "pending_release": "requested",
        }
        failed = session.get(Inspection, ids["failed_inspection"])
        assert failed is not None and failed.ncr_id is not None
        ncr = session.get(Ncr, failed.ncr_id)
        assert ncr is not None and ncr.source == "inspection"
        # Every released lot of the stock demo has a signed release (meaning "released")
        released_lots = set(
            session.execute(
                select(StockBalance.gtin, StockBalance.lot).where(StockBalance.status == "released")
            ).all()
        )
        signed = set(
            session.execute(
                select(LotRelease.gtin, LotRelease.lot).where(LotRelease.state == "released")
            ).all()
        )
        assert released_lots and released_lots <= signed
        assert session.scalar(
            select(func.count())
            .select_from(ElectronicSignature)
            .where(ElectronicSignature.meaning == "released")
        ) == len(signed)
        assert verify_chain(session.connection(), network.tenant_id).ok
