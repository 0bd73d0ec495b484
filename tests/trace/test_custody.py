"""Custody and visibility through the HTTP API (issues 11.1–11.4 and 12.1–12.4).

Who holds an item changes only where an event says custody changed (a receipt, a
commissioning or transformation, the packing of a container nobody holds), parties outside
master data are known by their GLN, contents follow their container, an unpacking ends a
containment without erasing it, and a partner reads only what the custody chain gives it —
in the trace and in the event query alike.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.builders import build_network, gln, gtin, token_headers
from tests.trace.epcis_scenario import (
    DL,
    _base,
    capture,
    document,
    event_ids,
    lgtin_urn,
    pgln_urn,
    sgln_urn,
    sgtin_urn,
    sscc_number,
)

from medledger.compliance.models import AuditEntry
from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.core.work import work_of
from medledger.identifiers.epc import epc_urn_to_digital_link
from medledger.parties.models import StorageClass, ZonePurpose
from medledger.parties.schemas import LocationIn, SiteIn
from medledger.parties.service import create_location, create_site
from medledger.trace.epcis.hashing import event_hash
from medledger.trace.models import EpcisEvent

COMPONENT, FINISHED = gtin(10), gtin(20)
HUB, DIST, SUPP = gln(1), gln(2), gln(3)
# Parties nobody registered: a supplier, a distributor and two hospitals.
OUTSIDE_SUPPLIER, OUTSIDE_DISTRIBUTOR, OUTSIDE_HOSPITAL, OTHER_HOSPITAL = (
    gln(71),
    gln(72),
    gln(73),
    gln(74),
)
P1, P2 = sscc_number(1), sscc_number(2)


def _party(kind: str, number: str, style: str) -> str:
    """A party or location identifier, as an EPC URN or a Digital Link URI."""
    if kind == "pgln":
        return pgln_urn(number) if style == "urn" else f"{DL}/417/{number}"
    return sgln_urn(number) if style == "urn" else f"{DL}/414/{number}"


def commissioning(n: int, lots: list[tuple[str, str, int]], at_gln: str) -> dict[str, Any]:
    return _base(
        n,
        "ObjectEvent",
        action="ADD",
        bizStep="commissioning",
        disposition="active",
        epcList=[],
        quantityList=[
            {"epcClass": lgtin_urn(g, lot), "quantity": q, "uom": "KGM"} for g, lot, q in lots
        ],
        bizLocation={"id": sgln_urn(at_gln)},
    )


def shipping(
    n: int,
    epcs: list[str],
    source: str | None,
    destination: str,
    quantities: list[dict[str, Any]] | None = None,
    style: str = "urn",
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "action": "OBSERVE",
        "bizStep": "shipping",
        "disposition": "in_transit",
        "epcList": epcs,
        "quantityList": quantities or [],
        "destinationList": [
            {"type": "owning_party", "destination": _party("pgln", destination, style)}
        ],
    }
    if source is not None:
        fields["sourceList"] = [{"type": "owning_party", "source": _party("pgln", source, style)}]
    return _base(n, "ObjectEvent", **fields)


def receiving(
    n: int,
    epcs: list[str],
    party: str | None,
    location: str | None = None,
    quantities: list[dict[str, Any]] | None = None,
    style: str = "urn",
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "action": "OBSERVE",
        "bizStep": "receiving",
        "disposition": "in_progress",
        "epcList": epcs,
        "quantityList": quantities or [],
    }
    if party is not None:
        fields["destinationList"] = [
            {"type": "owning_party", "destination": _party("pgln", party, style)}
        ]
    if location is not None:
        fields["bizLocation"] = {"id": _party("sgln", location, style)}
    return _base(n, "ObjectEvent", **fields)


def assembling(n: int, inputs: list[tuple[str, str, int]], serials: list[str]) -> dict[str, Any]:
    return _base(
        n,
        "TransformationEvent",
        bizStep="assembling",
        disposition="active",
        inputQuantityList=[
            {"epcClass": lgtin_urn(g, lot), "quantity": q, "uom": "KGM"} for g, lot, q in inputs
        ],
        outputEPCList=[sgtin_urn(FINISHED, s) for s in serials],
        ilmd={"cbvmda:lotNumber": "F1"},
        bizLocation={"id": sgln_urn(HUB)},
    )


def packing(n: int, sscc: str, serials: list[str], action: str = "ADD") -> dict[str, Any]:
    return _base(
        n,
        "AggregationEvent",
        action=action,
        bizStep="packing" if action == "ADD" else "unpacking",
        parentID=f"{DL}/00/{sscc}",
        childEPCs=[sgtin_urn(FINISHED, s) for s in serials],
    )


def quantity(g: str, lot: str, amount: int) -> dict[str, Any]:
    return {"epcClass": lgtin_urn(g, lot), "quantity": amount, "uom": "KGM"}


def trace(client: TestClient, user: str, identifier: str, direction: str) -> dict[str, Any]:
    response = client.get(
        "/api/v1/trace",
        params={"id": identifier, "direction": direction},
        headers=token_headers(client, user),
    )
    assert response.status_code == 200, response.text
    return response.json()


def traced_status(client: TestClient, user: str, identifier: str) -> int:
    response = client.get(
        "/api/v1/trace", params={"id": identifier}, headers=token_headers(client, user)
    )
    return response.status_code


def parties(body: dict[str, Any]) -> dict[str, tuple[list[str], bool]]:
    return {p["gln"]: (p["roles"], p["registered"]) for p in body["parties"]}


def gaps(body: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    return sorted(
        (g["kind"], g["uri"].rsplit("/", 1)[-1], (g["party"] or {}).get("gln"))
        for g in body["gaps"]
    )


def holders(body: dict[str, Any]) -> dict[str, str | None]:
    rows = [body["item"], *body["lots"], *body["serials"], *body["logistic_units"]]
    return {row["uri"].rsplit("/", 1)[-1]: (row["holder"] or {}).get("gln") for row in rows}


def ok(client: TestClient, headers: dict[str, str], *events: dict[str, Any]) -> None:
    job = capture(client, headers, document(*events))
    assert job["state"] == "succeeded", client.get(
        f"/epcis/capture/{job['captureID']}", headers=headers
    ).json()


# --- 12.1: unpacking ends a containment, recall scope still walks it -----------------------


def test_units_unpacked_by_a_distributor_and_shipped_on_stay_in_the_recall(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    # given component lot C1 made into S1, S2 packed into P1 by the hub and shipped to the
    # distributor, who receives P1, unpacks it and ships S1 on to a hospital that is not
    # registered (its receipt captured by the distributor on its behalf)
    build_network(factory, "unpack")
    hub = token_headers(client, "unpack-warehouse")
    distributor = token_headers(client, "unpack-distributor")
    ok(
        client,
        hub,
        commissioning(1, [(COMPONENT, "C1", 100)], HUB),
        assembling(2, [(COMPONENT, "C1", 10)], ["S1", "S2"]),
        packing(3, P1, ["S1", "S2"]),
        shipping(4, [f"{DL}/00/{P1}"], HUB, DIST),
    )
    ok(
        client,
        distributor,
        receiving(5, [f"{DL}/00/{P1}"], DIST, DIST),
        packing(6, P1, [], action="DELETE"),
        shipping(7, [sgtin_urn(FINISHED, "S1")], DIST, OUTSIDE_HOSPITAL, style="dl"),
        receiving(8, [sgtin_urn(FINISHED, "S1")], OUTSIDE_HOSPITAL, style="dl"),
    )

    # when the hub traces the component lot downstream
    body = trace(client, "unpack-qa", f"(01){COMPONENT}(10)C1", "downstream")

    # then P1 is still reached (as a past containment) and both consignees are listed
    assert [(u["sscc"], u["containment"]) for u in body["logistic_units"]] == [(P1, "ended")]
    assert sorted(s["serial"] for s in body["serials"]) == ["S1", "S2"]
    assert parties(body) == {
        HUB: (["holder"], True),
        DIST: (["holder", "consignee"], True),
        OUTSIDE_HOSPITAL: (["holder", "consignee"], False),
    }
    assert holders(body) == {"C1": HUB, "S1": OUTSIDE_HOSPITAL, "S2": DIST, P1: DIST}
    assert gaps(body) == []
    assert body["completeness"] == {
        "score": 1.0,
        "shipments": 2,
        "shipments_received": 2,
        "lots": 1,
        "lots_with_origin": 1,
    }
    # and the units say where they are now: S2 is no longer in P1
    up = trace(client, "unpack-qa", f"(00){P1}", "upstream")
    assert sorted((s["serial"], s["containment"]) for s in up["serials"]) == [
        ("S1", "ended"),
        ("S2", "ended"),
    ]


# --- 12.2: parties outside master data are parties, known by GLN --------------------------


def test_unregistered_supplier_distributor_and_hospital_with_receipts_by_the_hub(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    # given a supplier nobody registered ships C1 to the hub (the hub records the shipment
    # and its receipt), the hub ships S1 to an unregistered distributor and records its
    # receipt on its behalf, and a hospital known only by its location receives S2
    build_network(factory, "outside")
    hub = token_headers(client, "outside-warehouse")
    ok(
        client,
        hub,
        commissioning(1, [(COMPONENT, "C1", 100)], OUTSIDE_SUPPLIER),
        shipping(2, [], OUTSIDE_SUPPLIER, HUB, [quantity(COMPONENT, "C1", 100)], style="dl"),
        receiving(3, [], HUB, HUB, [quantity(COMPONENT, "C1", 100)]),
        assembling(4, [(COMPONENT, "C1", 10)], ["S1", "S2"]),
        shipping(5, [sgtin_urn(FINISHED, "S1")], HUB, OUTSIDE_DISTRIBUTOR),
        receiving(6, [sgtin_urn(FINISHED, "S1")], OUTSIDE_DISTRIBUTOR),
        # no source: the sender is the holder (the hub), never a guess from the capturer
        shipping(7, [sgtin_urn(FINISHED, "S2")], None, OTHER_HOSPITAL, style="dl"),
        receiving(8, [sgtin_urn(FINISHED, "S2")], None, OTHER_HOSPITAL),
    )

    # when the component lot is traced downstream and a serial upstream
    down = trace(client, "outside-qa", f"(01){COMPONENT}(10)C1", "downstream")
    up = trace(client, "outside-qa", f"(01){FINISHED}(21)S1", "upstream")

    # then the unregistered parties are there by GLN, holders follow receipts, no false gaps
    assert parties(down) == {
        HUB: (["holder", "consignee"], True),
        OUTSIDE_DISTRIBUTOR: (["holder", "consignee"], False),
        OTHER_HOSPITAL: (["holder", "consignee"], False),
    }
    assert holders(down) == {
        "C1": HUB,
        "S1": OUTSIDE_DISTRIBUTOR,
        "S2": OTHER_HOSPITAL,
    }
    assert gaps(down) == []
    assert down["completeness"]["shipments"] == 3
    assert down["completeness"]["shipments_received"] == 3
    assert parties(up) == {
        OUTSIDE_SUPPLIER: (["supplier"], False),
        HUB: (["supplier", "holder"], True),
        OUTSIDE_DISTRIBUTOR: (["holder"], False),
    }
    assert gaps(up) == []


# --- 12.3: contents follow their container; a partner traces what it held ------------------


def _distributor_site(factory: sessionmaker[Session], tenant_id: int, party_id: int) -> str:
    """A registered site of the distributor with a storage location; the location's GLN."""
    with system_unit_of_work(factory) as session:
        admin = tenant_admin(session, tenant_id)
        work_of(session).act_as(admin)
        site = create_site(
            session,
            admin,
            SiteIn(party_id=party_id, name="Shanghai DC", gln=gln(81), country="CN"),
        )
        create_location(
            session,
            admin,
            LocationIn(
                site_id=site.id,
                code="A-01",
                gln=gln(82),
                name="Bay A",
                storage_class=StorageClass.AMBIENT,
                zone_purpose=ZonePurpose.RELEASED,
            ),
        )
    return gln(82)


def test_contents_follow_the_container_to_a_registered_storage_location(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    # given P1 (S1, S2) and P2 (S3) packed by the hub; P1 shipped to the distributor, whose
    # receipt names only its storage location (no destination); P2 never leaves the hub
    net = build_network(factory, "follow")
    location = _distributor_site(factory, net.tenant_id, net.distributor_id)
    hub = token_headers(client, "follow-warehouse")
    distributor = token_headers(client, "follow-distributor")
    ok(
        client,
        hub,
        commissioning(1, [(COMPONENT, "C1", 100)], HUB),
        assembling(2, [(COMPONENT, "C1", 10)], ["S1", "S2", "S3"]),
        packing(3, P1, ["S1", "S2"]),
        packing(4, P2, ["S3"]),
        shipping(5, [f"{DL}/00/{P1}"], HUB, DIST),
    )
    ok(client, distributor, receiving(6, [f"{DL}/00/{P1}"], None, location, style="dl"))

    # when the hub traces the lot, and the distributor traces P1 and a unit inside it
    hub_view = trace(client, "follow-qa", f"(01){COMPONENT}(10)C1", "downstream")
    p1 = trace(client, "follow-distributor", f"(00){P1}", "upstream")
    s1 = trace(client, "follow-distributor", f"(01){FINISHED}(21)S1", "both")

    # then the units in P1 are held by the distributor, the one in P2 by the hub
    assert holders(hub_view) == {
        "C1": HUB,
        "S1": DIST,
        "S2": DIST,
        "S3": HUB,
        P1: DIST,
        P2: HUB,
    }
    assert gaps(hub_view) == []
    # and the distributor sees exactly what it held: P1 and its units, nothing upstream
    assert sorted(s["serial"] for s in p1["serials"]) == ["S1", "S2"]
    assert p1["lots"] == []
    assert parties(p1) == {HUB: (["supplier"], True), DIST: (["holder"], True)}
    assert [u["sscc"] for u in s1["logistic_units"]] == [P1]
    assert s1["lots"] == [] and s1["serials"] == []
    # and nothing it never held: S3, P2, the component and finished lots
    for hidden in (
        f"(01){FINISHED}(21)S3",
        f"(00){P2}",
        f"(01){COMPONENT}(10)C1",
        f"(01){FINISHED}(10)F1",
    ):
        assert traced_status(client, "follow-distributor", hidden) == 404, hidden


# --- 11.2: an observation never takes custody nor opens history ----------------------------


def test_an_observation_by_a_partner_takes_no_custody_and_unlocks_nothing(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    # given a hub serial the distributor never held
    build_network(factory, "observe")
    hub = token_headers(client, "observe-warehouse")
    distributor = token_headers(client, "observe-distributor")
    ok(
        client,
        hub,
        commissioning(1, [(COMPONENT, "C1", 100)], HUB),
        assembling(2, [(COMPONENT, "C1", 10)], ["S1"]),
        packing(3, P1, ["S1"]),
    )
    assert traced_status(client, "observe-distributor", f"(01){FINISHED}(21)S1") == 404

    # when the distributor observes it (allowed: that is how a diverted unit is found), and
    # tries to commission it and to receive it without any shipment to it
    seen = _base(
        9,
        "ObjectEvent",
        action="OBSERVE",
        bizStep="inspecting",
        epcList=[sgtin_urn(FINISHED, "S1")],
        bizLocation={"id": sgln_urn(DIST)},
    )
    grab = _base(
        10,
        "ObjectEvent",
        action="ADD",
        bizStep="commissioning",
        epcList=[sgtin_urn(FINISHED, "S1")],
        bizLocation={"id": sgln_urn(DIST)},
    )
    ok(client, distributor, seen, grab, receiving(11, [sgtin_urn(FINISHED, "S1")], DIST))

    # then the hub still holds it, the distributor still cannot trace it
    body = trace(client, "observe-qa", f"(01){FINISHED}(21)S1", "downstream")
    assert holders(body)["S1"] == HUB
    assert traced_status(client, "observe-distributor", f"(01){FINISHED}(21)S1") == 404
    # and the event query gives it its own events only, not the hub's history of the unit
    response = client.get(
        "/epcis/events",
        params={"MATCH_anyEPC": f"{DL}/01/{FINISHED}/21/S1"},
        headers=distributor,
    )
    assert response.status_code == 200
    assert [e.rsplit("-", 1)[-1] for e in event_ids(response.json())] == [
        "000000000009",
        "000000000010",
        "000000000011",
    ]


# --- 11.1: only the capturer (or the hub's QA, with a reason) may declare an error ---------


def _hub_shipment(client: TestClient, factory: sessionmaker[Session], slug: str) -> None:
    build_network(factory, slug)
    ok(
        client,
        token_headers(client, f"{slug}-warehouse"),
        commissioning(1, [(COMPONENT, "C1", 100)], HUB),
        shipping(2, [], HUB, DIST, [quantity(COMPONENT, "C1", 100)]),
    )


def _declaration(original: dict[str, Any], reason: str | None) -> dict[str, Any]:
    declaration: dict[str, Any] = {"declarationTime": "2026-03-03T00:00:00Z"}
    if reason is not None:
        declaration["reason"] = reason
    return {**original, "errorDeclaration": declaration}


def test_a_partner_cannot_retract_another_partys_event(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    # given a hub shipment of C1 to the distributor
    _hub_shipment(client, factory, "retract")
    before = trace(client, "retract-qa", f"(01){COMPONENT}(10)C1", "downstream")
    distributor = token_headers(client, "retract-distributor")
    shipment = shipping(2, [], HUB, DIST, [quantity(COMPONENT, "C1", 100)])

    # when the distributor declares the hub's shipment an error, in either error behaviour
    for behaviour in ("rollback", "proceed"):
        job = capture(client, distributor, document(_declaration(shipment, None)), behaviour)

        # then its job fails with an error for that event, naming it, and nothing changes
        assert job["state"] == "failed"
        detail = client.get(f"/epcis/capture/{job['captureID']}", headers=distributor).json()
        assert [
            (e["eventIndex"], e["eventID"], e["pointer"], e["code"]) for e in detail["errors"]
        ] == [
            (
                0,
                shipment["eventID"],
                "/epcisBody/eventList/0/errorDeclaration",
                "epcis.not_event_owner",
            )
        ]
        assert detail["capturedCount"] == 0
    assert trace(client, "retract-qa", f"(01){COMPONENT}(10)C1", "downstream") == before
    with system_unit_of_work(factory) as session:
        assert session.scalars(
            select(EpcisEvent.retracted_by_event_id).where(
                EpcisEvent.event_id == shipment["eventID"]
            )
        ).all() == [None]


def test_the_hubs_qa_may_retract_a_partners_event_with_a_reason_audited(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    # given a receipt the distributor captured
    _hub_shipment(client, factory, "qafix")
    distributor = token_headers(client, "qafix-distributor")
    receipt = receiving(3, [], DIST, None, [quantity(COMPONENT, "C1", 100)])
    ok(client, distributor, receipt)
    qa = token_headers(client, "qafix-qa")
    warehouse = token_headers(client, "qafix-warehouse")

    # when the hub's warehouse tries, and its QA declares it without and with a reason
    refused = capture(client, warehouse, document(_declaration(receipt, "incorrect_data")))
    no_reason = capture(client, qa, document(_declaration(receipt, None)))
    job = capture(client, qa, document(_declaration(receipt, "incorrect_data")))

    # then only the QA declaration with a reason is stored, and it is audited with the reason
    assert (refused["state"], no_reason["state"], job["state"]) == ("failed", "failed", "succeeded")
    body = trace(client, "qafix-qa", f"(01){COMPONENT}(10)C1", "downstream")
    assert gaps(body) == [("unreceived_shipment", "C1", DIST)]
    with system_unit_of_work(factory) as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "epcis.error_declared_by_qa")
        ).all()
        assert [(e.entity_id, e.reason, e.new_values["reason"]) for e in entries] == [
            (receipt["eventID"], "incorrect_data", "incorrect_data")
        ]


# --- 11.3: one eventID, one content ------------------------------------------------------


def test_an_event_id_reused_for_other_content_is_an_error_naming_it(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    build_network(factory, "dupe")
    hub = token_headers(client, "dupe-warehouse")
    first = commissioning(1, [(COMPONENT, "C1", 100)], HUB)
    other = {**first, "quantityList": [quantity(COMPONENT, "C1", 999)]}
    # the same content written with Digital Link URIs: the same event
    same = {
        **first,
        "quantityList": [{"epcClass": f"{DL}/01/{COMPONENT}/10/C1", "quantity": 100, "uom": "KGM"}],
        "bizLocation": {"id": f"{DL}/414/{HUB}"},
    }

    # within one document
    job = capture(client, hub, document(first, other))
    detail = client.get(f"/epcis/capture/{job['captureID']}", headers=hub).json()
    assert job["state"] == "failed"
    assert [(e["eventIndex"], e["eventID"], e["code"]) for e in detail["errors"]] == [
        (1, first["eventID"], "epcis.duplicate_event_id")
    ]
    assert detail["capturedCount"] == 0

    # on re-capture
    ok(client, hub, first)
    job = capture(client, hub, document(other))
    detail = client.get(f"/epcis/capture/{job['captureID']}", headers=hub).json()
    assert (job["state"], [e["eventID"] for e in detail["errors"]]) == (
        "failed",
        [first["eventID"]],
    )
    # the same content again is idempotent
    again = capture(client, hub, document(same, first))
    assert (again["state"], again["capturedCount"]) == ("succeeded", 0)

    # and on POST /epcis/events
    response = client.post(
        "/epcis/events", json={**other, "@context": document()["@context"]}, headers=hub
    )
    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "epcis.duplicate_event_id"
    assert first["eventID"] in problem["detail"]
    response = client.post(
        "/epcis/events", json={**same, "@context": document()["@context"]}, headers=hub
    )
    assert (response.status_code, response.json()["eventID"]) == (201, first["eventID"])
    with system_unit_of_work(factory) as session:
        stored = session.scalars(select(EpcisEvent.document)).all()
        assert [d["quantityList"][0]["quantity"] for d in stored] == [100]


# --- 11.4: the event query shows no more than the trace ------------------------------------


def test_the_event_query_withholds_identifiers_the_party_may_not_see(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    # given the supplier's lot C1 assembled by the hub into S1 and S2 (the hub's event has no
    # eventID: its ID is its hash), S1 shipped to and received by the distributor
    build_network(factory, "redact")
    supplier = token_headers(client, "redact-supplier")
    hub = token_headers(client, "redact-warehouse")
    ok(client, supplier, commissioning(1, [(COMPONENT, "C1", 100)], SUPP))
    ok(client, supplier, shipping(2, [], SUPP, HUB, [quantity(COMPONENT, "C1", 100)]))
    hashed = assembling(3, [(COMPONENT, "C1", 10)], ["S1", "S2"])
    del hashed["eventID"]
    ok(
        client,
        hub,
        receiving(4, [], HUB, HUB, [quantity(COMPONENT, "C1", 100)]),
        hashed,
        shipping(5, [sgtin_urn(FINISHED, "S1")], HUB, DIST),
        receiving(6, [sgtin_urn(FINISHED, "S1")], DIST),
    )

    def assembling_as(user: str) -> dict[str, Any]:
        response = client.get(
            "/epcis/events",
            params={"EQ_bizStep": "assembling"},
            # identifiers as sent (the default answers them as Digital Links)
            headers={**token_headers(client, user), "GS1-EPC-Format": "Never_Translates"},
        )
        assert response.status_code == 200
        events = response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        assert len(events) == 1
        return events[0]

    # when the hub, the supplier and the distributor query the assembling event
    whole = assembling_as("redact-qa")
    as_supplier = assembling_as("redact-supplier")
    as_distributor = assembling_as("redact-distributor")

    # then the hub sees it whole, and its hash verifies
    assert whole["outputEPCList"] == [sgtin_urn(FINISHED, "S1"), sgtin_urn(FINISHED, "S2")]
    assert event_hash(whole) == whole["eventID"]
    # the supplier sees its lot going in, not the units made of it
    assert as_supplier["inputQuantityList"] == [quantity(COMPONENT, "C1", 10)]
    assert as_supplier["outputEPCList"] == []
    # the distributor sees the unit it received, not the other one nor the supplier's lot
    assert as_distributor["outputEPCList"] == [sgtin_urn(FINISHED, "S1")]
    assert as_distributor["inputQuantityList"] == []
    assert as_distributor["eventID"] == whole["eventID"]
    # the single-event read answers the same
    single = client.get(
        f"/epcis/events/{quote(whole['eventID'], safe='')}",
        headers=token_headers(client, "redact-distributor"),
    )
    [shown] = single.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert shown["outputEPCList"] == [epc_urn_to_digital_link(sgtin_urn(FINISHED, "S1"))]
    # and the stored document stays whole
    with system_unit_of_work(factory) as session:
        stored = session.scalars(
            select(EpcisEvent.document).where(EpcisEvent.event_id == whole["eventID"])
        ).one()
        assert len(stored["outputEPCList"]) == 2
