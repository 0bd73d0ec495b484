"""A multi-tier network captured through ``POST /epcis/capture``, then traced exactly.

Supplier commissions component lots C1, C2 and ships them to the hub, which receives them,
transforms them into serials S1–S3 of finished lot F1, packs S1+S2 into SSCC P1 and S3 into
P2, and ships P1 to the distributor. The distributor receives P1 and ships it onward to the
hospital (never received). The hub ships P2 to the distributor by mistake, declares that
shipment an error, and ships P2 to the hospital instead (never received).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from tests.builders import build_network, gln, gtin, token_headers
from tests.trace.epcis_scenario import (
    DL,
    _base,
    capture,
    document,
    event_id,
    lgtin_urn,
    pgln_urn,
    sgln_urn,
    sgtin_urn,
    sscc_number,
)
from tests.trace.network import add_hospital

from medledger.trace.snapshot import SNAPSHOTS

COMPONENT, FINISHED = gtin(10), gtin(20)
HUB, DIST, SUPP, HOSP = gln(1), gln(2), gln(3), gln(4)
P1, P2 = sscc_number(1), sscc_number(2)


def shipping(
    n: int,
    epcs: list[str],
    source: str,
    destination: str,
    quantities: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return _base(
        n,
        "ObjectEvent",
        action="OBSERVE",
        bizStep="shipping",
        disposition="in_transit",
        epcList=epcs,
        quantityList=quantities or [],
        sourceList=[{"type": "owning_party", "source": pgln_urn(source)}],
        destinationList=[{"type": "owning_party", "destination": f"{DL}/417/{destination}"}],
    )


def receiving(
    n: int, epcs: list[str], party: str, quantities: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return _base(
        n,
        "ObjectEvent",
        action="OBSERVE",
        bizStep="receiving",
        disposition="in_progress",
        epcList=epcs,
        quantityList=quantities or [],
        bizLocation={"id": sgln_urn(party)},
        destinationList=[{"type": "owning_party", "destination": pgln_urn(party)}],
    )


def lot_quantity(gtin_value: str, lot: str, quantity: int) -> dict[str, Any]:
    return {"epcClass": lgtin_urn(gtin_value, lot), "quantity": quantity, "uom": "KGM"}


def build(
    client: TestClient,
    factory: sessionmaker[Session],
    after_each_capture: Callable[[], None] | None = None,
) -> None:
    network = build_network(factory, "acme")
    add_hospital(factory, network)
    supplier = token_headers(client, "acme-supplier")
    hub = token_headers(client, "acme-warehouse")
    distributor = token_headers(client, "acme-distributor")
    components = [lot_quantity(COMPONENT, "C1", 500), lot_quantity(COMPONENT, "C2", 200)]
    serials = [sgtin_urn(FINISHED, s) for s in ("S1", "S2", "S3")]
    p1, p2 = f"{DL}/00/{P1}", f"{DL}/00/{P2}"
    wrong = shipping(8, [p2], HUB, DIST)
    steps = [
        (
            supplier,
            [
                _base(
                    1,
                    "ObjectEvent",
                    action="ADD",
                    bizStep="commissioning",
                    disposition="active",
                    epcList=[],
                    quantityList=components,
                    bizLocation={"id": sgln_urn(SUPP)},
                ),
                shipping(2, [], SUPP, HUB, components),
            ],
        ),
        (
            hub,
            [
                receiving(3, [], HUB, components),
                _base(
                    4,
                    "TransformationEvent",
                    bizStep="assembling",
                    disposition="active",
                    inputQuantityList=[
                        lot_quantity(COMPONENT, "C1", 10),
                        lot_quantity(COMPONENT, "C2", 5),
                    ],
                    outputEPCList=serials,
                    outputQuantityList=[{"epcClass": lgtin_urn(FINISHED, "F1"), "quantity": 3}],
                    ilmd={"cbvmda:lotNumber": "F1"},
                ),
                _base(
                    5,
                    "AggregationEvent",
                    action="ADD",
                    bizStep="packing",
                    parentID=p1,
                    childEPCs=serials[:2],
                ),
                _base(
                    6,
                    "AggregationEvent",
                    action="ADD",
                    bizStep="packing",
                    parentID=p2,
                    childEPCs=serials[2:],
                ),
                shipping(7, [p1], HUB, DIST),
                wrong,
            ],
        ),
        (distributor, [receiving(9, [p1], DIST), shipping(10, [p1], DIST, HOSP)]),
        (
            hub,
            [
                {
                    **wrong,
                    "errorDeclaration": {
                        "declarationTime": "2026-03-03T00:00:00Z",
                        "reason": "incorrect_data",
                        "correctiveEventIDs": [event_id(11)],
                    },
                },
                shipping(11, [p2], HUB, HOSP),
            ],
        ),
    ]
    for headers, events in steps:
        job = capture(client, headers, document(*events))
        assert job["state"] == "succeeded", client.get(
            f"/epcis/capture/{job['captureID']}", headers=headers
        ).json()
        if after_each_capture is not None:
            after_each_capture()


def trace(client: TestClient, user: str, identifier: str, direction: str) -> dict[str, Any]:
    response = client.get(
        "/api/v1/trace",
        params={"id": identifier, "direction": direction},
        headers=token_headers(client, user),
    )
    assert response.status_code == 200, response.text
    return response.json()


def parties(body: dict[str, Any]) -> dict[str, tuple[list[str], int | float]]:
    return {p["gln"]: (p["roles"], p["quantity_received"]) for p in body["parties"]}


def gaps(body: dict[str, Any]) -> set[tuple[str, str, str | None]]:
    return {
        (g["kind"], g["uri"].rsplit("/", 1)[-1], (g["party"] or {}).get("gln"))
        for g in body["gaps"]
    }


def short(event: dict[str, Any]) -> int:
    return int(event["eventID"].rsplit("-", 1)[-1])


def test_downstream_of_a_supplier_lot_through_capture(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    build(client, factory)
    body = trace(client, "acme-planner", f"(01){COMPONENT}(10)C1", "downstream")
    assert [(lot["gtin"], lot["lot"]) for lot in body["lots"]] == [(FINISHED, "F1")]
    assert {(s["gtin"], s["serial"], s["lot"]) for s in body["serials"]} == {
        (FINISHED, "S1", "F1"),
        (FINISHED, "S2", "F1"),
        (FINISHED, "S3", "F1"),
    }
    assert sorted(u["sscc"] for u in body["logistic_units"]) == [P1, P2]
    assert parties(body) == {
        HUB: (["holder", "consignee"], 500),
        DIST: (["holder", "consignee"], 1),
        HOSP: (["consignee"], 0),
    }
    # the retracted shipment of P2 to the distributor is neither a hop nor a gap
    assert gaps(body) == {("unreceived_shipment", P1, HOSP), ("unreceived_shipment", P2, HOSP)}
    assert sorted(short(e) for e in body["events"]) == [1, 2, 3, 4, 5, 6, 7, 9, 10, 11]


def test_upstream_of_a_serial_through_capture(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    build(client, factory)
    body = trace(client, "acme-qa", f"(01){FINISHED}(21)S3", "upstream")
    assert {(lot["lot"], lot["depth"]) for lot in body["lots"]} == {("F1", 1), ("C1", 1), ("C2", 1)}
    assert all(lot["inspections"] == [] for lot in body["lots"])
    assert parties(body) == {SUPP: (["supplier"], 0), HUB: (["holder"], 700)}
    assert body["gaps"] == []
    up_from_unit = trace(client, "acme-qa", f"(00){P1}", "upstream")
    assert sorted(s["serial"] for s in up_from_unit["serials"]) == ["S1", "S2"]
    assert {lot["lot"] for lot in up_from_unit["lots"]} == {"F1", "C1", "C2"}


def test_partner_isolation_of_traces(client: TestClient, factory: sessionmaker[Session]) -> None:
    build(client, factory)
    body = trace(client, "acme-distributor", f"(00){P1}", "both")
    assert body["scoped_to_party"] is True
    # the distributor held P1, so it sees what was packed in it (and held it with P1)
    assert body["lots"] == [] and body["logistic_units"] == []
    assert [(s["serial"], s["containment"], s["holder"]["gln"]) for s in body["serials"]] == [
        ("S1", "current", DIST),
        ("S2", "current", DIST),
    ]
    assert parties(body) == {
        DIST: (["supplier", "holder", "consignee"], 1),
        HOSP: (["consignee"], 0),
        HUB: (["supplier"], 0),
    }
    assert gaps(body) == {("unreceived_shipment", P1, HOSP)}
    assert body["completeness"] == {
        "score": 0.5,
        "shipments": 2,
        "shipments_received": 1,
        "lots": None,
        "lots_with_origin": None,
    }
    # the hub's packing of P1 links items it sees; not the assembling of S1/S2
    assert sorted(short(e) for e in body["events"]) == [5, 7, 9, 10]
    headers = token_headers(client, "acme-distributor")
    for hidden in (f"(01){COMPONENT}(10)C1", f"(01){FINISHED}(10)F1", f"(00){P2}"):
        response = client.get("/api/v1/trace", params={"id": hidden}, headers=headers)
        assert response.status_code == 404, hidden
    # a unit it held inside P1 it can trace, up to what it may see
    unit = trace(client, "acme-distributor", f"(01){FINISHED}(21)S1", "both")
    assert [u["sscc"] for u in unit["logistic_units"]] == [P1]
    assert unit["lots"] == [] and unit["serials"] == []
    supplier = trace(client, "acme-supplier", f"(01){COMPONENT}(10)C1", "downstream")
    assert supplier["lots"] == [] and supplier["serials"] == []
    assert parties(supplier) == {HUB: (["holder", "consignee"], 500)}


def test_traces_between_captures_follow_the_ledger_incrementally(
    client: TestClient, factory: sessionmaker[Session], engine: Engine
) -> None:
    # given a trace of C1 after every capture of the build (each one refreshes the snapshot)
    seen: list[dict[str, Any]] = []

    def trace_c1() -> None:
        seen.append(trace(client, "acme-planner", f"(01){COMPONENT}(10)C1", "downstream"))

    build(client, factory, after_each_capture=trace_c1)
    # then the snapshot was loaded once and refreshed, never reloaded, and the last answer is
    # exactly the one of a snapshot loaded from scratch (edges, receipts, the retraction)
    tenant = _tenant_id(factory, "acme")
    snapshot = SNAPSHOTS.peek(engine, tenant)
    assert snapshot is not None and snapshot.loads == 1 and snapshot.refreshes >= 3
    assert [lot["lot"] for lot in seen[0]["lots"]] == []
    incremental = seen[-1]
    SNAPSHOTS.clear()
    assert trace(client, "acme-planner", f"(01){COMPONENT}(10)C1", "downstream") == incremental
    assert gaps(incremental) == {
        ("unreceived_shipment", P1, HOSP),
        ("unreceived_shipment", P2, HOSP),
    }


def test_aggregation_delete_after_a_trace_is_seen_by_the_next_trace(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    # given the network and a warm snapshot: P1 holds S1 and S2
    build(client, factory)
    before = trace(client, "acme-qa", f"(00){P1}", "upstream")
    assert sorted(s["serial"] for s in before["serials"]) == ["S1", "S2"]
    # when the hub takes S2 out of P1 and packs it into P2
    unpack = _base(
        20,
        "AggregationEvent",
        action="DELETE",
        bizStep="unpacking",
        parentID=f"{DL}/00/{P1}",
        childEPCs=[sgtin_urn(FINISHED, "S2")],
    )
    repack = _base(
        21,
        "AggregationEvent",
        action="ADD",
        bizStep="packing",
        parentID=f"{DL}/00/{P2}",
        childEPCs=[sgtin_urn(FINISHED, "S2")],
    )
    job = capture(client, token_headers(client, "acme-warehouse"), document(unpack, repack))
    assert job["state"] == "succeeded"
    # then
    # then P1 still reaches S2 (it was packed in it), now as a past containment
    after = trace(client, "acme-qa", f"(00){P1}", "upstream")
    assert sorted((s["serial"], s["containment"]) for s in after["serials"]) == [
        ("S1", "current"),
        ("S2", "ended"),
    ]
    into_p2 = trace(client, "acme-qa", f"(00){P2}", "upstream")
    assert sorted((s["serial"], s["containment"]) for s in into_p2["serials"]) == [
        ("S2", "current"),
        ("S3", "current"),
    ]
    down = trace(client, "acme-qa", f"(01){FINISHED}(21)S2", "downstream")
    assert sorted((u["sscc"], u["containment"]) for u in down["logistic_units"]) == [
        (P1, "ended"),
        (P2, "current"),
    ]


def test_two_tenants_keep_their_own_snapshots(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    # given acme's network traced once, and a second tenant using the same GTIN and lot
    build(client, factory)
    acme_before = trace(client, "acme-planner", f"(01){COMPONENT}(10)C1", "downstream")
    build_network(factory, "beta")
    beta_hub = token_headers(client, "beta-warehouse")
    make_f9 = _base(
        30,
        "TransformationEvent",
        bizStep="assembling",
        inputQuantityList=[lot_quantity(COMPONENT, "C1", 1)],
        outputQuantityList=[{"epcClass": lgtin_urn(FINISHED, "F9"), "quantity": 1}],
    )
    assert capture(client, beta_hub, document(make_f9))["state"] == "succeeded"
    # when both trace C1 downstream
    acme_after = trace(client, "acme-planner", f"(01){COMPONENT}(10)C1", "downstream")
    beta = trace(client, "beta-planner", f"(01){COMPONENT}(10)C1", "downstream")
    # then each sees its own genealogy only
    assert acme_after == acme_before
    assert [lot["lot"] for lot in beta["lots"]] == ["F9"]
    assert beta["serials"] == [] and beta["logistic_units"] == []


def _tenant_id(factory: sessionmaker[Session], slug: str) -> int:
    from sqlalchemy import select

    from medledger.core.system import system_unit_of_work
    from medledger.parties.models import Tenant

    with system_unit_of_work(factory) as session:
        return int(session.scalar(select(Tenant.id).where(Tenant.slug == slug)) or 0)
