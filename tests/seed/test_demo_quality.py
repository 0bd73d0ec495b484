"""The demo quality records: real workflow states, real signatures, partner visibility."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from medledger.compliance.audit import verify_chain
from medledger.compliance.models import ElectronicSignature
from medledger.compliance.signables import content_hash, record_content
from medledger.core.principal import make_principal
from medledger.core.system import system_unit_of_work
from medledger.parties.models import User
from medledger.quality import service
from medledger.quality.models import (
    Capa,
    ChangeNotice,
    ChangeRequest,
    Complaint,
    Ncr,
    ServiceRecord,
)
from medledger.seed.demo import DemoNetwork, build_demo_network
from medledger.seed.demo_quality import seed_demo_quality


@pytest.fixture
def seeded(factory: sessionmaker[Session]) -> Iterator[tuple[DemoNetwork, dict[str, int]]]:
    network = build_demo_network(factory)
    yield network, seed_demo_quality(factory, network)


def test_demo_has_a_closed_capa_open_supplier_ncrs_and_changes_in_progress(
    factory: sessionmaker[Session], seeded: tuple[DemoNetwork, dict[str, int]]
) -> None:
    network, ids = seeded
    with system_unit_of_work(factory) as session:
        state = {key: _state(session, key, record_id) for key, record_id in ids.items()}
        assert state == {
            "closed_ncr": "closed",
            "closed_capa": "closed",
            "scar_ncr": "awaiting_supplier",
            "ncr_for_approval": "disposition_proposed",
            "open_ncr": "open",
            "approved_change": "approved",
            "change_in_review": "in_review",
            "complaint": "decision_review",
        }
        signatures = session.execute(
            select(
                ElectronicSignature.record_kind,
                ElectronicSignature.meaning,
                ElectronicSignature.printed_name,
            ).order_by(ElectronicSignature.id)
        ).all()
        assert [tuple(s) for s in signatures] == [
            ("ncr", "reviewed", "Siobhan Murphy"),
            ("ncr", "approved", "Dr. Anna Weber"),
            ("capa", "authored", "Siobhan Murphy"),
            ("capa", "approved", "Dr. Anna Weber"),
            ("capa", "closed", "Dr. Anna Weber"),
            ("ncr", "closed", "Dr. Anna Weber"),
            ("ncr", "reviewed", "Siobhan Murphy"),
            ("change", "authored", "Siobhan Murphy"),
            ("change", "approved", "Dr. Anna Weber"),
            ("change", "authored", "Siobhan Murphy"),
            ("complaint", "reviewed", "Siobhan Murphy"),
        ]
        # the closing signature of the CAPA covers its final version
        capa = session.get(Capa, ids["closed_capa"])
        closing = session.scalars(
            select(ElectronicSignature).where(
                ElectronicSignature.record_kind == "capa", ElectronicSignature.meaning == "closed"
            )
        ).one()
        assert closing.content_hash == content_hash(record_content(session, "capa", capa))
        notices = session.execute(select(ChangeNotice.change_id, ChangeNotice.party_id)).all()
        assert [tuple(n) for n in notices] == [
            (ids["approved_change"], network.parties["supplier-alloys"].id)
        ]
        complaint = session.get(Complaint, ids["complaint"])
        assert complaint is not None
        assert (complaint.harm, complaint.fda_mdr_reportable, complaint.udi_serial) == (
            "malfunction",
            True,
            "DEMO-0001",
        )
        services = session.scalars(select(ServiceRecord)).all()
        assert [(s.serial, s.complaint_id, s.outcome) for s in services] == [
            ("DEMO-0001", complaint.id, "out_of_service")
        ]
        report = verify_chain(session.connection(), network.tenant_id)
        assert report.ok, report.broken
        # the supplier's clerk sees the NCRs about its material and the change notified to it
        user = session.scalars(select(User).where(User.username == "supplier")).one()
        clerk = make_principal(
            user_id=user.id,
            tenant_id=user.tenant_id,
            party_id=user.party_id,
            role=user.role,
            username=user.username,
            display_name=user.display_name,
            hub_party_id=network.hub.id,
        )
        ncrs, _ = service.list_records(session, clerk, "ncr")
        assert sorted(n.id for n in ncrs) == sorted(
            [ids["closed_ncr"], ids["scar_ncr"], ids["ncr_for_approval"]]
        )
        changes, _ = service.list_records(session, clerk, "change")
        assert [c.id for c in changes] == [ids["approved_change"]]
        tasks = service.my_tasks(session, clerk)
        assert {(t.kind, t.id, t.why) for t in tasks} == {
            ("ncr", ids["scar_ncr"], "supplier_response"),
            ("change", ids["approved_change"], "notice"),
        }


def _state(session: Session, key: str, record_id: int) -> str:
    model = (
        Capa
        if "capa" in key
        else ChangeRequest
        if "change" in key
        else Complaint
        if key == "complaint"
        else Ncr
    )
    record = session.get(model, record_id)
    assert record is not None
    return str(record.state)
