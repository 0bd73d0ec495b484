"""The demo's past recalls: one closed with every consignee answered, one open with partial
acknowledgements, made through the real use cases with real signatures."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from medledger.compliance.audit import verify_chain
from medledger.compliance.models import ElectronicSignature
from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.recall import service
from medledger.recall.models import Recall, RecallNotice
from medledger.seed.demo import build_demo_network
from medledger.seed.demo_history import seed_demo_history
from medledger.seed.demo_recall import seed_demo_recalls


def test_demo_has_a_closed_recall_and_an_open_one_with_partial_answers(
    factory: sessionmaker[Session], engine: Engine
) -> None:
    network = build_demo_network(factory)
    seed_demo_history(factory, network)
    ids = seed_demo_recalls(factory, network)
    assert set(ids) == {"closed", "open"}
    distributor = network.parties["dist-eu-de"].id
    with system_unit_of_work(factory) as session:
        closed = session.get(Recall, ids["closed"])
        opened = session.get(Recall, ids["open"])
        assert closed is not None and opened is not None
        assert (closed.state, closed.hazard_class, opened.state, opened.hazard_class) == (
            "closed",
            "II",
            "open",
            "I",
        )
        notices = {
            rid: list(session.scalars(select(RecallNotice).where(RecallNotice.recall_id == rid)))
            for rid in ids.values()
        }
        assert all(n.acknowledged_at is not None for n in notices[closed.id])
        assert closed.all_acknowledged_at is not None
        waiting = [n for n in notices[opened.id] if n.acknowledged_at is None]
        answered = [n for n in notices[opened.id] if n.acknowledged_at is not None]
        assert [n.party_id for n in answered] == [distributor]
        assert len(waiting) >= 1 and opened.all_acknowledged_at is None
        # answered by the distributor's own user, not on its behalf
        assert answered[0].on_behalf is False and answered[0].acknowledged_by.startswith(
            "distributor "
        )
        signatures = session.execute(
            select(ElectronicSignature.record_id, ElectronicSignature.meaning)
            .where(ElectronicSignature.record_kind == "recall")
            .order_by(ElectronicSignature.id)
        ).all()
        assert [tuple(s) for s in signatures] == [
            (closed.id, "authored"),
            (closed.id, "closed"),
            (opened.id, "authored"),
        ]
        kpi = service.kpi(session, tenant_admin(session, network.tenant_id))
        assert (kpi["recalls"], kpi["open"]) == (2, 1)
        months = [m for m in kpi["by_month"] if m["hours_to_all_acknowledged"] is not None]
        assert len(months) == 1 and months[0]["hours_to_all_acknowledged"] > 0
    with engine.connect() as connection:
        assert verify_chain(connection, network.tenant_id).ok
