"""The trace service over hand-built projections: exact reached sets, parties, gaps, scoping."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from tests.builders import admin_principal, gtin
from tests.trace.builders import ledger
from tests.trace.network import (
    COMPONENT,
    DIST_GLN,
    FINISHED,
    HOSP_GLN,
    HUB_GLN,
    SUPP_GLN,
    TraceNetwork,
    build_trace_network,
    dl_lot,
    dl_serial,
    sscc_scan,
)

from medledger.core.db import set_tenant_guc, unit_of_work
from medledger.core.errors import NotFound, PermissionDenied, ValidationFailed
from medledger.core.principal import Principal, make_principal
from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.core.work import work_of
from medledger.parties.schemas import PartyUpdate
from medledger.parties.service import update_party
from medledger.trace import service
from medledger.trace.engine import Direction


@pytest.fixture
def net(factory: sessionmaker[Session]) -> TraceNetwork:
    return build_trace_network(factory)


def run(
    factory: sessionmaker[Session], principal: Principal, identifier: str, direction: Direction
) -> dict[str, Any]:
    with unit_of_work(factory, principal=principal) as session:
        set_tenant_guc(session, principal.tenant_id)
        return service.trace(
            session, principal, service.TraceRequest(identifier, direction)
        ).to_json()


def partner(net: TraceNetwork, party_id: int, role: str = "partner_user") -> Principal:
    return make_principal(
        user_id=None,
        tenant_id=net.network.tenant_id,
        party_id=party_id,
        role=role,
        username="p",
        display_name="P",
        hub_party_id=net.network.hub_id,
    )


def names(entries: list[dict[str, Any]], key: str) -> set[str]:
    return {entry[key] for entry in entries}


def parties(body: dict[str, Any]) -> dict[str, tuple[list[str], int | float]]:
    return {p["gln"]: (p["roles"], p["quantity_received"]) for p in body["parties"]}


def test_downstream_of_a_component_lot_reaches_units_shipments_and_consignees(
    factory: sessionmaker[Session], net: TraceNetwork
) -> None:
    # given the network; when the hub traces component lot C1 downstream
    body = run(
        factory,
        admin_principal(factory, net.network.tenant_id),
        dl_lot(COMPONENT, "C1"),
        Direction.DOWNSTREAM,
    )
    # then
    assert body["item"]["lot"] == "C1" and body["item"]["gtin"] == gtin(COMPONENT)
    assert [(lot["gtin"], lot["lot"]) for lot in body["lots"]] == [(gtin(FINISHED), "F1")]
    assert names(body["serials"], "serial") == {"S1", "S2", "S3"}
    assert {s["lot"] for s in body["serials"]} == {"F1"}
    assert [u["sscc"] for u in body["logistic_units"]] == [sscc_scan(1)[4:], sscc_scan(2)[4:]]
    assert parties(body) == {
        HUB_GLN: (["holder", "consignee"], 100),
        DIST_GLN: (["holder", "consignee"], 1),
        HOSP_GLN: (["holder", "consignee"], 1),
    }
    assert [(g["kind"], g["uri"].rsplit("/", 1)[-1], g["party"]["gln"]) for g in body["gaps"]] == [
        ("unreceived_shipment", sscc_scan(1)[4:], HOSP_GLN)
    ]
    assert [e["eventID"].removeprefix("urn:uuid:") for e in body["events"]] == [
        "c1-commission",
        "c1-ship",
        "c1-receive",
        "make-f1",
        "pack-p1",
        "pack-p2",
        "p1-ship",
        "p1-receive",
        "p1-onward",
        "p2-ship",
        "p2-receive",
    ]
    assert body["counts"]["serials"] == 3 and body["counts"]["downstream"] == 6


def test_upstream_of_a_serial_ignores_retracted_edges_and_reports_uncommissioned_lots(
    factory: sessionmaker[Session], net: TraceNetwork
) -> None:
    body = run(
        factory,
        admin_principal(factory, net.network.tenant_id),
        dl_serial(FINISHED, "S1"),
        Direction.UPSTREAM,
    )
    assert {(lot["lot"], lot["depth"]) for lot in body["lots"]} == {("F1", 1), ("C1", 2), ("C3", 2)}
    assert all(lot["inspections"] == [] for lot in body["lots"])
    assert body["serials"] == [] and body["logistic_units"] == []
    # the hub made F1 (its commissioning transformation), so it supplied S1 too
    assert parties(body) == {SUPP_GLN: (["supplier"], 0), HUB_GLN: (["supplier", "holder"], 100)}
    assert [(g["kind"], g["uri"].rsplit("/", 1)[-1]) for g in body["gaps"]] == [
        ("no_commissioning", "C3")
    ]


def test_both_directions_of_the_finished_lot(
    factory: sessionmaker[Session], net: TraceNetwork
) -> None:
    body = run(
        factory,
        admin_principal(factory, net.network.tenant_id),
        "https://example.com/01/" + gtin(FINISHED) + "/10/F1?17=271231",
        Direction.BOTH,
    )
    sides = {
        (item["direction"], item.get("lot") or item.get("sscc"), item.get("serial"))
        for key in ("lots", "serials", "logistic_units")
        for item in body[key]
    }
    assert sides == {
        ("upstream", "C1", None),
        ("upstream", "C3", None),
        ("downstream", "F1", "S1"),
        ("downstream", "F1", "S2"),
        ("downstream", "F1", "S3"),
        ("downstream", sscc_scan(1)[4:], None),
        ("downstream", sscc_scan(2)[4:], None),
    }


def test_an_edge_captured_after_a_trace_is_seen_by_the_next_trace(
    factory: sessionmaker[Session], net: TraceNetwork
) -> None:
    admin = admin_principal(factory, net.network.tenant_id)
    before = run(factory, admin, sscc_scan(2), Direction.DOWNSTREAM)
    assert before["logistic_units"] == []
    with ledger(factory, net.network.tenant_id) as book:
        book.ids.update(net.ids)
        book.logistic_unit("PALLET", 9, holder=net.network.hub_id)
        book.edge(
            "P2",
            "PALLET",
            "aggregation",
            book.event("palletise", "AggregationEvent", "packing", net.network.hub_id),
        )
    after = run(factory, admin, sscc_scan(2), Direction.DOWNSTREAM)
    assert [u["sscc"] for u in after["logistic_units"]] == [sscc_scan(9)[4:]]


def test_distributor_sees_its_own_shipments_and_counterparties_only(
    factory: sessionmaker[Session], net: TraceNetwork
) -> None:
    distributor = partner(net, net.network.distributor_id)
    down = run(factory, distributor, sscc_scan(1), Direction.DOWNSTREAM)
    assert down["scoped_to_party"] is True
    assert parties(down) == {DIST_GLN: (["holder", "consignee"], 1), HOSP_GLN: (["consignee"], 0)}
    assert [g["party"]["gln"] for g in down["gaps"]] == [HOSP_GLN]
    assert [e["eventID"].removeprefix("urn:uuid:") for e in down["events"]] == [
        "p1-ship",
        "p1-receive",
        "p1-onward",
    ]
    up = run(factory, distributor, sscc_scan(1), Direction.UPSTREAM)
    # the serials, the finished lot, its components and the supplier stay hidden
    assert up["lots"] == [] and up["serials"] == []
    assert parties(up) == {HUB_GLN: (["supplier"], 0), DIST_GLN: (["supplier", "holder"], 1)}


def test_partner_may_not_trace_items_it_never_held(
    factory: sessionmaker[Session], net: TraceNetwork
) -> None:
    distributor = partner(net, net.network.distributor_id)
    for identifier in (dl_lot(FINISHED, "F1"), dl_serial(FINISHED, "S1"), sscc_scan(2)):
        with pytest.raises(NotFound) as error:
            run(factory, distributor, identifier, Direction.DOWNSTREAM)
        assert error.value.code == "trace.item_not_found"
    supplier = partner(net, net.network.supplier_id)
    body = run(factory, supplier, dl_lot(COMPONENT, "C1"), Direction.DOWNSTREAM)
    # the supplier sees its lot and its shipment to the hub, nothing of the hub's production
    assert body["lots"] == [] and body["serials"] == [] and body["logistic_units"] == []
    assert parties(body) == {HUB_GLN: (["holder", "consignee"], 100)}


def test_unknown_malformed_and_unauthorised(
    factory: sessionmaker[Session], net: TraceNetwork
) -> None:
    admin = admin_principal(factory, net.network.tenant_id)
    with pytest.raises(NotFound):
        run(factory, admin, dl_lot(COMPONENT, "NOPE"), Direction.DOWNSTREAM)
    with pytest.raises(ValidationFailed) as malformed:
        run(factory, admin, "(01)04098760000017(10)X", Direction.DOWNSTREAM)
    assert malformed.value.code == "gs1.bad_check_digit"
    assert malformed.value.errors[0].field == "id"
    with pytest.raises(ValidationFailed) as not_item:
        run(factory, admin, f"(414){HUB_GLN}", Direction.DOWNSTREAM)
    assert not_item.value.code == "trace.not_an_item"
    no_trace = make_principal(
        user_id=None,
        tenant_id=net.network.tenant_id,
        party_id=net.network.hub_id,
        role="admin",
        username="x",
        display_name="x",
        hub_party_id=net.network.hub_id,
    )
    object.__setattr__(no_trace, "permissions", frozenset())
    with pytest.raises(PermissionDenied):
        run(factory, no_trace, dl_lot(COMPONENT, "C1"), Direction.DOWNSTREAM)


def test_a_party_renamed_after_a_trace_is_named_anew(
    factory: sessionmaker[Session], net: TraceNetwork
) -> None:
    # given a trace that named the distributor
    admin = admin_principal(factory, net.network.tenant_id)
    before = run(factory, admin, sscc_scan(1), Direction.DOWNSTREAM)
    assert {p["gln"]: p["name"] for p in before["parties"]}[DIST_GLN] == "acme Distribution"
    # when the distributor is renamed (no ledger event)
    with system_unit_of_work(factory) as session:
        principal = tenant_admin(session, net.network.tenant_id)
        work_of(session).act_as(principal)
        update_party(
            session, principal, net.network.distributor_id, PartyUpdate(name="Acme Logistics")
        )
    # then the next trace names it anew
    after = run(factory, admin, sscc_scan(1), Direction.DOWNSTREAM)
    assert {p["gln"]: p["name"] for p in after["parties"]}[DIST_GLN] == "Acme Logistics"
