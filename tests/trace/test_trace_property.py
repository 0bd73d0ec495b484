"""Property: random multi-tier networks captured through the API trace like a reference walk.

Hypothesis draws a network — suppliers commissioning component lots and shipping them to the
hub, the hub assembling units of finished lots, packing them into SSCCs and shipping them to
distributors, distributors unpacking and shipping units on to hospitals, units shipped
straight to hospitals, any receipt possibly missing, every party registered or known only
by its GLN, every identifier written as an EPC URN or a Digital Link URI — and captures it
through ``POST /epcis/capture`` in one to three documents. Every component lot is traced
downstream and every unit upstream; the answers are compared with a walk over the drawn
facts written here, independently of the ledger: lots, serials, SSCCs, consignees,
suppliers, holders and gaps.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker
from tests.builders import build_network, gln, gtin, party_in, token_headers
from tests.trace.epcis_scenario import (
    DL,
    _base,
    capture,
    document,
    lgtin_urn,
    pgln_urn,
    sgln_urn,
    sgtin_urn,
    sscc_number,
)

from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.core.work import work_of
from medledger.parties.models import PartyRole
from medledger.parties.service import create_party

COMPONENT, FINISHED = gtin(10), gtin(20)
HUB = gln(1)
# Registered parties (besides the hub): the network's distributor and supplier, a hospital.
REGISTERED = {"distributor": gln(2), "supplier": gln(3), "hospital": gln(4)}
_tenants = itertools.count(1)


@dataclass
class Hop:
    item: str  # the short name: "C1", "S3", "P2"
    sender: str
    receiver: str
    received: bool


@dataclass
class Network:
    """The drawn facts, and the events that record them."""

    suppliers: list[str]
    events: list[dict[str, Any]] = field(default_factory=list)
    lots: dict[str, str] = field(default_factory=dict)  # component lot → its supplier
    made_from: dict[str, set[str]] = field(default_factory=dict)  # unit → component lots
    lot_of: dict[str, str] = field(default_factory=dict)  # unit → finished lot
    packed: dict[str, set[str]] = field(default_factory=dict)  # SSCC → units ever in it
    hops: list[Hop] = field(default_factory=list)
    holder: dict[str, str] = field(default_factory=dict)
    contents: dict[str, list[str]] = field(default_factory=dict)  # SSCC → units in it now

    def add(self, event: dict[str, Any]) -> None:
        self.events.append(event)


def _id(style: str, kind: str, value: str, key: str = "") -> str:
    """An identifier as an EPC URN or a Digital Link URI."""
    if kind == "serial":
        return sgtin_urn(FINISHED, value) if style == "urn" else f"{DL}/01/{FINISHED}/21/{value}"
    if kind == "lot":
        return lgtin_urn(key, value) if style == "urn" else f"{DL}/01/{key}/10/{value}"
    if kind == "sscc":
        number = sscc_number(int(value[1:]))
        return (
            f"urn:epc:id:sscc:{number[1:8]}.{number[0]}{number[8:17]}"
            if style == "urn"
            else (f"{DL}/00/{number}")
        )
    if kind == "pgln":
        return pgln_urn(value) if style == "urn" else f"{DL}/417/{value}"
    return sgln_urn(value) if style == "urn" else f"{DL}/414/{value}"


@st.composite
def networks(draw: st.DrawFn) -> Network:
    style = lambda: draw(st.sampled_from(["urn", "dl"]))  # noqa: E731
    n = itertools.count(1)

    def party(role: str, number: int) -> str:
        registered = number == 0 and draw(st.booleans())
        offset = {"supplier": 0, "distributor": 10, "hospital": 20}[role]
        return REGISTERED[role] if registered else gln(900 + offset + number)

    suppliers = [party("supplier", k) for k in range(draw(st.integers(1, 2)))]
    distributors = [party("distributor", k) for k in range(draw(st.integers(1, 2)))]
    hospitals = [party("hospital", k) for k in range(draw(st.integers(1, 2)))]
    net = Network(suppliers)

    def ship(items: list[tuple[str, str]], sender: str, receiver: str, quantities: bool) -> None:
        """Ship ``items`` ((short name, identifier)); maybe receive them."""
        fields: dict[str, Any] = {
            "action": "OBSERVE",
            "bizStep": "shipping",
            "disposition": "in_transit",
            "sourceList": [{"type": "owning_party", "source": _id(style(), "pgln", sender)}],
            "destinationList": [
                {"type": "owning_party", "destination": _id(style(), "pgln", receiver)}
            ],
        }
        listed = {"epcList": [], "quantityList": []}
        for _, identifier in items:
            if quantities:
                listed["quantityList"].append({"epcClass": identifier, "quantity": 5})
            else:
                listed["epcList"].append(identifier)
        net.add(_base(next(n), "ObjectEvent", **fields, **listed))
        received = draw(st.booleans()) or draw(st.booleans())
        for name, _ in items:
            net.hops.append(Hop(name, sender, receiver, received))
        if received:
            receipt: dict[str, Any] = {
                "action": "OBSERVE",
                "bizStep": "receiving",
                "disposition": "in_progress",
            }
            if draw(st.booleans()):
                receipt["destinationList"] = [
                    {"type": "owning_party", "destination": _id(style(), "pgln", receiver)}
                ]
            else:  # only where it arrived: the location's party (or its GLN)
                receipt["bizLocation"] = {"id": _id(style(), "sgln", receiver)}
            net.add(_base(next(n), "ObjectEvent", **receipt, **listed))
            for name, _ in items:
                for held in [name, *net.contents.get(name, [])]:
                    net.holder[held] = receiver

    # Suppliers commission component lots at their site and ship them to the hub.
    for k, supplier in enumerate(suppliers):
        lot = f"C{k + 1}"
        net.lots[lot] = supplier
        identifier = _id(style(), "lot", lot, COMPONENT)
        net.add(
            _base(
                next(n),
                "ObjectEvent",
                action="ADD",
                bizStep="commissioning",
                epcList=[],
                quantityList=[{"epcClass": identifier, "quantity": 100}],
                bizLocation={"id": _id(style(), "sgln", supplier)},
            )
        )
        net.holder[lot] = supplier
        ship([(lot, _id(style(), "lot", lot, COMPONENT))], supplier, HUB, quantities=True)

    # The hub assembles units of one or two finished lots from some component lots.
    units: list[str] = []
    for f in range(draw(st.integers(1, 2))):
        inputs = draw(st.lists(st.sampled_from(sorted(net.lots)), min_size=1, unique=True))
        made = [f"S{len(units) + k + 1}" for k in range(draw(st.integers(1, 3)))]
        units += made
        net.add(
            _base(
                next(n),
                "TransformationEvent",
                bizStep="assembling",
                inputQuantityList=[
                    {"epcClass": _id(style(), "lot", lot, COMPONENT), "quantity": 1}
                    for lot in inputs
                ],
                outputEPCList=[_id(style(), "serial", s) for s in made],
                ilmd={"cbvmda:lotNumber": f"F{f + 1}"},
                bizLocation={"id": _id(style(), "sgln", HUB)},
            )
        )
        for unit in made:
            net.made_from[unit] = set(inputs)
            net.lot_of[unit] = f"F{f + 1}"
            net.holder[unit] = HUB

    # Packing into SSCCs, shipping them to distributors; unpacking and shipping on.
    loose = list(units)
    for p in range(draw(st.integers(0, 2))):
        if not loose:
            break
        inside = draw(st.lists(st.sampled_from(loose), min_size=1, unique=True))
        loose = [u for u in loose if u not in inside]
        sscc = f"P{p + 1}"
        net.add(
            _base(
                next(n),
                "AggregationEvent",
                action="ADD",
                bizStep="packing",
                parentID=_id(style(), "sscc", sscc),
                childEPCs=[_id(style(), "serial", u) for u in inside],
            )
        )
        net.packed[sscc] = set(inside)
        net.contents[sscc] = list(inside)
        net.holder[sscc] = HUB
        distributor = draw(st.sampled_from(distributors))
        ship([(sscc, _id(style(), "sscc", sscc))], HUB, distributor, quantities=False)
        if net.holder[sscc] == distributor and draw(st.booleans()):
            net.add(
                _base(
                    next(n),
                    "AggregationEvent",
                    action="DELETE",
                    bizStep="unpacking",
                    parentID=_id(style(), "sscc", sscc),
                    childEPCs=[],
                )
            )
            net.contents[sscc] = []
            onward = draw(st.lists(st.sampled_from(sorted(inside)), unique=True))
            if onward:
                hospital = draw(st.sampled_from(hospitals))
                items = [(u, _id(style(), "serial", u)) for u in onward]
                ship(items, distributor, hospital, quantities=False)
    # Units straight to hospitals.
    direct = draw(st.lists(st.sampled_from(loose), unique=True)) if loose else []
    if direct:
        hospital = draw(st.sampled_from(hospitals))
        ship([(u, _id(style(), "serial", u)) for u in direct], HUB, hospital, quantities=False)
    return net


# --- the reference walk ------------------------------------------------------------------


def expected_downstream(net: Network, lot: str) -> dict[str, Any]:
    units = {u for u, inputs in net.made_from.items() if lot in inputs}
    ssccs = {p for p, inside in net.packed.items() if inside & units}
    reached = {lot} | units | ssccs
    hops = [hop for hop in net.hops if hop.item in reached]
    return {
        "serials": sorted(units),
        "logistic_units": sorted(ssccs),
        "consignees": sorted({hop.receiver for hop in hops}),
        "gaps": sorted((hop.item, hop.receiver) for hop in hops if not hop.received),
        "holders": {u: net.holder[u] for u in units},
    }


def expected_upstream(net: Network, unit: str) -> dict[str, Any]:
    lots = net.made_from[unit]
    reached = {unit} | lots
    hops = [hop for hop in net.hops if hop.item in reached]
    return {
        "lots": sorted({*lots, net.lot_of[unit]}),
        "suppliers": sorted({hop.sender for hop in hops}),
        "gaps": sorted((hop.item, hop.receiver) for hop in hops if not hop.received),
    }


# --- the property ------------------------------------------------------------------------


def _short(row: dict[str, Any]) -> str:
    if row["kind"] == "sscc":
        return f"P{int(row['sscc'][7:17])}"
    return row.get("serial") or row["lot"]


def _roles(body: dict[str, Any], role: str) -> list[str]:
    return sorted(p["gln"] for p in body["parties"] if role in p["roles"])


def _gaps(body: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for gap in body["gaps"]:
        assert gap["kind"] == "unreceived_shipment", gap
        tail = gap["uri"].rsplit("/", 3)
        name = f"P{int(tail[-1][7:17])}" if tail[-2] == "00" else tail[-1]
        found.append((name, gap["party"]["gln"]))
    return sorted(found)


def _trace(client: TestClient, headers: dict[str, str], identifier: str, direction: str) -> Any:
    response = client.get(
        "/api/v1/trace", params={"id": identifier, "direction": direction}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(net=networks(), cuts=st.lists(st.integers(1, 40), max_size=2, unique=True))
def test_random_networks_trace_like_the_reference_walk(
    client: TestClient, factory: sessionmaker[Session], net: Network, cuts: list[int]
) -> None:
    # given the network captured by the hub in one to three documents
    slug = f"prop{next(_tenants)}"
    network = build_network(factory, slug)
    with system_unit_of_work(factory) as session:
        admin = tenant_admin(session, network.tenant_id)
        work_of(session).act_as(admin)
        create_party(session, admin, party_in("City Hospital", 4, [PartyRole.HOSPITAL]))
    hub = token_headers(client, f"{slug}-warehouse")
    bounds = [0, *sorted(c for c in cuts if c < len(net.events)), len(net.events)]
    for start, stop in itertools.pairwise(bounds):
        if start < stop:
            job = capture(client, hub, document(*net.events[start:stop]))
            assert job["state"] == "succeeded", job
    qa = token_headers(client, f"{slug}-qa")

    # then every component lot traces downstream like the reference walk
    for lot in sorted(net.lots):
        body = _trace(client, qa, f"(01){COMPONENT}(10){lot}", "downstream")
        want = expected_downstream(net, lot)
        assert sorted(_short(r) for r in body["serials"]) == want["serials"]
        assert sorted(_short(r) for r in body["logistic_units"]) == want["logistic_units"]
        assert _roles(body, "consignee") == want["consignees"]
        assert _gaps(body) == want["gaps"]
        assert {_short(r): (r["holder"] or {}).get("gln") for r in body["serials"]} == want[
            "holders"
        ]
        assert body["completeness"]["shipments_received"] == body["completeness"][
            "shipments"
        ] - len(want["gaps"])
    # and every unit upstream
    for unit in sorted(net.made_from):
        body = _trace(client, qa, f"(01){FINISHED}(21){unit}", "upstream")
        want = expected_upstream(net, unit)
        assert sorted(_short(r) for r in body["lots"]) == want["lots"]
        assert _roles(body, "supplier") == want["suppliers"]
        assert _gaps(body) == want["gaps"]
