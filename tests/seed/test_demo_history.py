"""The demo year of EPCIS history: exact event counts, all captured, audited, deterministic, and
traceable from a supplier's component lot down to hospitals (with its deliberate gap).

Seeding the network and its history takes seconds, so one seeded database is shared by the
read-only tests of this module; the determinism test seeds a second fresh database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from medledger.compliance.audit import verify_chain
from medledger.compliance.models import AuditEntry
from medledger.core.db import make_session_factory
from medledger.core.principal import Principal, make_principal
from medledger.seed.demo import DemoNetwork, build_demo_network
from medledger.seed.demo_history import (
    HistorySummary,
    plan_demo_history,
    seed_demo_history,
    sscc_number,
)
from medledger.trace.engine import Direction
from medledger.trace.models import CaptureJob, EpcisEvent
from medledger.trace.service import TraceRequest, trace
from tests.seed.test_demo import _fresh_engine

# 12 months of: 15 component lots (10 for Suzhou, 5 for Galway) shipped in 10 shipments
# (per supplier, plant and storage class); 6 finished lots; 6 SSCCs per lot, 3 through a
# distributor and 3 straight to a hospital. Plus one wrong shipment and its error declaration,
# minus two receipts that never happen.
EXPECTED_EVENTS = {
    ("ObjectEvent", "commissioning"): 15 * 12,
    # suppliers 10×12, hub 6×6×12 + the wrong one, its declaration, distributors onward 3×6×12
    ("ObjectEvent", "shipping"): 120 + 432 + 1 + 1 + 216,
    # hub 10×12, first consignees 432 − 1, hospitals from distributors 216 − 1
    ("ObjectEvent", "receiving"): 120 + 431 + 215,
    ("TransformationEvent", "assembling"): 5 * 12,
    ("TransformationEvent", "commissioning"): 1 * 12,  # the IVD reagent
    ("AggregationEvent", "packing"): 432,
}
TOTAL_EVENTS = 2220


@pytest.fixture(scope="module")
def seeded_engine(
    database_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    yield from _fresh_engine(database_template, tmp_path_factory.mktemp("history"), "history_a")


@pytest.fixture(scope="module")
def seeded(seeded_engine: Engine) -> tuple[DemoNetwork, HistorySummary]:
    factory = make_session_factory(seeded_engine)
    network = build_demo_network(factory)
    return network, seed_demo_history(factory, network)


@pytest.fixture(scope="module")
def network(seeded: tuple[DemoNetwork, HistorySummary]) -> DemoNetwork:
    return seeded[0]


@pytest.fixture
def session(seeded_engine: Engine, network: DemoNetwork) -> Iterator[Session]:
    # Read-only; on PostgreSQL the test role owns the tables, so RLS does not apply.
    with make_session_factory(seeded_engine)() as s:
        yield s


def _event_ids(engine: Engine) -> set[str]:
    with make_session_factory(engine)() as s:
        return set(s.scalars(select(EpcisEvent.event_id)))


def _planner(network: DemoNetwork) -> Principal:
    return make_principal(
        user_id=None,
        tenant_id=network.tenant_id,
        party_id=network.hub.id,
        role="planner",
        username="planner",
        display_name="Planner",
        hub_party_id=network.hub.id,
    )


def _downstream(session: Session, network: DemoNetwork, identifier: str) -> dict[str, Any]:
    return trace(
        session, _planner(network), TraceRequest(identifier, Direction.DOWNSTREAM)
    ).to_json()


def _parties(network: DemoNetwork, body: dict[str, Any]) -> dict[str, tuple[list[str], Any]]:
    key_of = {party.gln: key for key, party in network.parties.items()}
    return {key_of[p["gln"]]: (p["roles"], p["quantity_received"]) for p in body["parties"]}


def _gaps(network: DemoNetwork, body: dict[str, Any]) -> set[tuple[str, str, str]]:
    key_of = {party.gln: key for key, party in network.parties.items()}
    return {
        (gap["kind"], gap["uri"].rsplit("/", 1)[-1], key_of[gap["party"]["gln"]])
        for gap in body["gaps"]
    }


# --- content -----------------------------------------------------------------------------------


def test_every_document_is_captured_with_the_planned_events(
    seeded: tuple[DemoNetwork, HistorySummary], session: Session
) -> None:
    network, summary = seeded
    assert summary == HistorySummary(documents=636, events=TOTAL_EVENTS)
    jobs = session.execute(select(CaptureJob.state, CaptureJob.captured_count)).all()
    assert len(jobs) == 636
    assert {state for state, _ in jobs} == {"succeeded"}
    assert sum(count for _, count in jobs) == TOTAL_EVENTS
    rows = session.execute(select(EpcisEvent.event_type, EpcisEvent.biz_step)).all()
    assert Counter(tuple(row) for row in rows) == EXPECTED_EVENTS
    assert plan_demo_history(network).event_counts() == EXPECTED_EVENTS


def test_events_are_attributed_to_the_parties_that_recorded_them(
    network: DemoNetwork, session: Session
) -> None:
    roles = {party.id: party.roles[0] for party in network.parties.values()}
    by_role = Counter(
        roles[party_id] for party_id in session.scalars(select(EpcisEvent.capturing_party_id))
    )
    assert by_role == {
        # per month: 13 lots commissioned and 9 shipments (the CMO has 2 lots and 1 shipment)
        "supplier": 12 * (13 + 9),
        "contract_manufacturer": 12 * (2 + 1),
        # plant receipts, productions, packs, shipments + the wrong one, the declaration
        "manufacturer": 120 + 72 + 432 + 433 + 1,
        "distributor": 216 + 216,
        "hospital": 215 + 215,
    }
    # Hospitals send no eventID: theirs are the ledger's CBV event hashes.
    hospitals = [party.id for party in network.parties_with_role("hospital")]
    hospital_ids = session.scalars(
        select(EpcisEvent.event_id).where(EpcisEvent.capturing_party_id.in_(hospitals))
    ).all()
    assert len(hospital_ids) == 430
    assert all(not event_id.startswith("urn:uuid:") for event_id in hospital_ids)


def test_event_times_carry_the_real_offset_of_the_capturing_site(
    network: DemoNetwork, session: Session
) -> None:
    def offsets(party_key: str) -> Counter[str]:
        return Counter(
            session.scalars(
                select(EpcisEvent.event_time_zone_offset).where(
                    EpcisEvent.capturing_party_id == network.parties[party_key].id
                )
            )
        )

    # Suzhou is always +08:00; Galway (per month 4 receipts, 2 lots, 12 packs, 12 shipments)
    # follows Irish summer time, from the end of March to the end of October.
    hub = offsets("hub")
    assert set(hub) == {"+08:00", "+00:00", "+01:00"}
    assert hub["+00:00"] + hub["+01:00"] == 12 * (4 + 2 + 12 + 12)
    assert hub["+01:00"] == 7 * (4 + 2 + 12 + 12)  # April to October
    assert offsets("supplier-packaging").keys() == {"-05:00", "-04:00"}
    assert offsets("supplier-coatings").keys() == {"+09:00"}
    assert offsets("hosp-us-03").keys() <= {"-08:00", "-07:00"}


def test_history_captures_are_in_the_verified_audit_chain(
    seeded_engine: Engine, network: DemoNetwork, session: Session
) -> None:
    with seeded_engine.connect() as conn:
        report = verify_chain(conn, network.tenant_id)
    assert report.ok, report.broken
    captures = session.scalars(select(AuditEntry).where(AuditEntry.action == "epcis.capture"))
    names = {party.id: party.name for party in network.parties.values()}
    labels: Counter[int] = Counter()
    for entry in captures:
        assert entry.new_values is not None
        assert entry.new_values["state"] == "succeeded"
        party_id = entry.new_values["capturing_party_id"]
        assert entry.actor_label == f"seed ({names[party_id]} (demo history))"
        labels[party_id] += 1
    assert sum(labels.values()) == 636
    # hub: per month 2 receipts, 2 productions, 2 packings, 2 shipments (+1 June correction)
    assert labels[network.hub.id] == 12 * 8 + 1
    total = session.scalar(select(func.count()).select_from(AuditEntry))
    assert report.entries == total


# --- tracing -----------------------------------------------------------------------------------


def test_a_supplier_lot_traces_down_to_hospitals_with_its_gap(
    network: DemoNetwork, session: Session
) -> None:
    stent_tube = network.products["c-stent-tube"].gtin
    vela = network.products["vela-3018"].gtin
    body = _downstream(session, network, f"(01){stent_tube}(10)HPA2512S01")

    assert [(lot["gtin"], lot["lot"]) for lot in body["lots"]] == [(vela, "VS2512")]
    serials = {(s["gtin"], s["serial"], s["lot"]) for s in body["serials"]}
    assert serials == {(vela, f"VS2512-{n:03d}", "VS2512") for n in range(1, 17)}
    ssccs = [sscc_number("plant-suzhou", network.hub.gln, 12, 0, k) for k in range(6)]
    assert ssccs[0] == "169712340000120004"
    assert sorted(u["sscc"] for u in body["logistic_units"]) == ssccs
    received = (["holder", "consignee"], 1)
    assert _parties(network, body) == {
        # 16 stents × 0.025 m + 5 %, rounded up to a tenth
        "hub": (["holder", "consignee"], 0.5),
        "dist-cn-east": (["consignee"], 1),
        "dist-eu-de": (["consignee"], 1),
        "dist-us": (["consignee"], 1),
        "hosp-cn-01": received,
        "hosp-eu-02": received,
        "hosp-us-05": received,
        "hosp-cn-10": received,
        "hosp-eu-04": received,
        "hosp-us-08": (["consignee"], 0),  # never received
    }
    assert _gaps(network, body) == {("unreceived_shipment", ssccs[5], "hosp-us-08")}


def test_a_shared_component_lot_reaches_both_products_and_both_gaps(
    network: DemoNetwork, session: Session
) -> None:
    balloon = network.products["c-balloon"].gtin
    body = _downstream(session, network, f"(01){balloon}(10)MDT2512S01")
    assert sorted(lot["lot"] for lot in body["lots"]) == ["GP2512", "VS2512"]
    assert len(body["serials"]) == 16 and len(body["logistic_units"]) == 12
    glide = [sscc_number("plant-suzhou", network.hub.gln, 12, 3, k) for k in range(6)]
    vela_unreceived = sscc_number("plant-suzhou", network.hub.gln, 12, 0, 5)
    assert _gaps(network, body) == {
        ("unreceived_shipment", vela_unreceived, "hosp-us-08"),
        ("unreceived_shipment", glide[2], "hosp-us-03"),  # the US distributor's onward shipment
    }
    assert _parties(network, body)["dist-us"] == (["holder", "consignee"], 2)


def test_the_corrected_shipment_reaches_the_right_distributor_only(
    network: DemoNetwork, session: Session
) -> None:
    glide = network.products["glide-3015"].gtin
    body = _downstream(session, network, f"(01){glide}(10)GP2506")
    parties = _parties(network, body)
    # Shipped to MediFlow by mistake, declared an error, shipped to Iberia Medical instead.
    assert "dist-eu-de" not in parties
    assert parties["dist-eu-es"] == (["consignee"], 1)
    assert body["gaps"] == []
    retracted = session.scalars(
        select(EpcisEvent.event_id).where(EpcisEvent.retracted_by_event_id.is_not(None))
    ).all()
    declarations = session.scalars(
        select(EpcisEvent.event_id).where(EpcisEvent.event_id.like("%#errorDeclaration"))
    ).all()
    assert declarations == [f"{retracted[0]}#errorDeclaration"]


# --- determinism -------------------------------------------------------------------------------


def test_the_history_is_deterministic(
    seeded_engine: Engine, network: DemoNetwork, engine: Engine
) -> None:
    # ``engine`` is a second fresh database (the per-test one), seeded independently.
    factory = make_session_factory(engine)
    again = build_demo_network(factory)
    assert again == network
    assert plan_demo_history(again) == plan_demo_history(network)
    seed_demo_history(factory, again)
    first, second = _event_ids(seeded_engine), _event_ids(engine)
    assert len(first) == TOTAL_EVENTS
    assert second == first
