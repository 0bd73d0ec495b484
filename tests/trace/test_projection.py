"""Projections written at capture: items, event items, genealogy, custody, item parties."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.builders import build_network, token_headers
from tests.trace.epcis_scenario import (
    CS1,
    DISTRIBUTOR_GLN,
    DL,
    HUB_GLN,
    LOT_C,
    LOT_F,
    S1,
    S2,
    SSCC,
    SSCC_URI,
    T0,
    event_id,
    pgln_urn,
    run_scenario,
)

from medledger.core.system import system_unit_of_work
from medledger.trace.ledger.item_keys import _parse_item_uri_parts, parse_item_uri
from medledger.trace.models import (
    CustodyHop,
    EpcisEvent,
    EventItem,
    GenealogyEdge,
    ItemParty,
    TraceItem,
)


def _rows(factory: sessionmaker[Session]) -> dict[str, object]:
    with system_unit_of_work(factory) as session:
        events = {row.id: row for row in session.scalars(select(EpcisEvent))}
        items = {row.id: row for row in session.scalars(select(TraceItem))}
        return {
            "events": events,
            "items": items,
            "event_items": list(session.scalars(select(EventItem).order_by(EventItem.id))),
            "edges": list(session.scalars(select(GenealogyEdge).order_by(GenealogyEdge.id))),
            "hops": list(session.scalars(select(CustodyHop).order_by(CustodyHop.id))),
            "parties": list(session.scalars(select(ItemParty).order_by(ItemParty.id))),
        }


def test_scenario_projections_row_by_row(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    # given the network and the scenario captured through the API
    net = build_network(factory, "proj")
    hub = token_headers(client, "proj-warehouse")
    distributor = token_headers(client, "proj-distributor")

    # when
    run_scenario(client, hub, distributor)

    # then
    rows = _rows(factory)
    events = rows["events"]
    assert isinstance(events, dict)
    row_of = {e.event_id: e.id for e in events.values()}
    ev = {n: row_of[event_id(n)] for n in (1, 2, 3, 4, 5, 6, 7)}
    ev[8] = row_of[event_id(7) + "#errorDeclaration"]
    assert len(events) == 8
    # the shipment e7 is kept and marked as retracted by its error declaration e8
    assert {
        e.event_id: e.retracted_by_event_id for e in events.values() if e.retracted_by_event_id
    } == {event_id(7): ev[8]}
    assert events[ev[6]].capturing_party_id == net.distributor_id
    assert {events[ev[n]].capturing_party_id for n in (1, 2, 3, 4, 5, 7, 8)} == {net.hub_id}
    assert events[ev[1]].read_point == f"{DL}/414/{HUB_GLN}"
    assert events[ev[5]].sources == [{"type": "owning_party", "value": f"{DL}/417/{HUB_GLN}"}]

    items = rows["items"]
    assert isinstance(items, dict)
    by_uri = {item.uri: item for item in items.values()}
    assert set(by_uri) == {LOT_C, CS1, S1, S2, LOT_F, SSCC_URI}
    item = {uri: by_uri[uri].id for uri in by_uri}
    summary = {
        uri: (
            i.kind,
            i.gtin,
            i.lot,
            i.serial,
            i.sscc,
            i.commissioned,
            i.expiry,
            i.lot_item_id,
            i.last_biz_step,
            i.last_disposition,
            i.holder_party_id,
        )
        for uri, i in by_uri.items()
    }
    assert summary == {
        LOT_C: (
            "lot",
            LOT_C[22:36],
            "LOTC1",
            None,
            None,
            True,
            "2028-12-31",
            None,
            "commissioning",
            "active",
            net.hub_id,
        ),
        CS1: (
            "serial",
            CS1[22:36],
            None,
            "CS1",
            None,
            True,
            "2028-12-31",
            None,
            "commissioning",
            "active",
            net.hub_id,
        ),
        S1: (
            "serial",
            S1[22:36],
            None,
            "S1",
            None,
            False,
            "2029-06-30",
            item[LOT_F],
            "packing",
            "in_progress",
            # packed in the SSCC the distributor received: it went with its container
            net.distributor_id,
        ),
        # S2's shipment e7 is retracted by e8: its state is back to what e4 (unpacking) left
        S2: (
            "serial",
            S2[22:36],
            None,
            "S2",
            None,
            False,
            "2029-06-30",
            item[LOT_F],
            "unpacking",
            "in_progress",
            net.hub_id,
        ),
        LOT_F: ("lot", LOT_F[22:36], "LOTF1", None, None, False, None, None, None, None, None),
        SSCC_URI: (
            "sscc",
            None,
            None,
            None,
            SSCC,
            False,
            None,
            None,
            "receiving",
            "in_progress",
            net.distributor_id,
        ),
    }
    assert by_uri[SSCC_URI].last_biz_location == f"{DL}/414/{DISTRIBUTOR_GLN}"
    assert by_uri[S2].last_event_time == T0 + timedelta(hours=4)
    assert by_uri[S2].last_biz_location == f"{DL}/414/{HUB_GLN}"

    assert [
        (e.event_row_id, e.item_id, e.role, e.quantity, e.uom) for e in rows["event_items"]
    ] == [  # type: ignore[union-attr]
        (ev[1], item[CS1], "epc", None, None),
        (ev[1], item[LOT_C], "quantity", Decimal("100"), "KGM"),
        (ev[2], item[CS1], "input", None, None),
        (ev[2], item[S1], "output", None, None),
        (ev[2], item[S2], "output", None, None),
        (ev[2], item[LOT_C], "input_quantity", Decimal("10"), "KGM"),
        (ev[3], item[SSCC_URI], "parent", None, None),
        (ev[3], item[S1], "child", None, None),
        (ev[3], item[S2], "child", None, None),
        (ev[4], item[SSCC_URI], "parent", None, None),
        (ev[4], item[S2], "child", None, None),
        (ev[5], item[SSCC_URI], "epc", None, None),
        (ev[6], item[SSCC_URI], "epc", None, None),
        (ev[7], item[S2], "epc", None, None),
        (ev[8], item[S2], "epc", None, None),
    ]

    assert [
        (
            e.from_item_id,
            e.to_item_id,
            e.kind,
            e.event_row_id,
            e.quantity,
            e.retracted_by_event_id,
            e.ended_by_event_id,
        )
        for e in rows["edges"]
    ] == [  # type: ignore[union-attr]
        (item[CS1], item[S1], "transformation", ev[2], None, None, None),
        (item[CS1], item[S2], "transformation", ev[2], None, None, None),
        (item[LOT_C], item[S1], "transformation", ev[2], Decimal("10"), None, None),
        (item[LOT_C], item[S2], "transformation", ev[2], Decimal("10"), None, None),
        (item[S1], item[SSCC_URI], "aggregation", ev[3], None, None, None),
        # unpacked by e4: the containment ended, it is not retracted
        (item[S2], item[SSCC_URI], "aggregation", ev[3], None, None, ev[4]),
    ]

    assert [
        (
            h.item_id,
            h.from_party_id,
            h.to_party_id,
            h.from_ref,
            h.to_ref,
            h.ship_event_row_id,
            h.receive_event_row_id,
            h.shipped_at,
            h.received_at,
            h.retracted_by_event_id,
        )
        for h in rows["hops"]
    ] == [  # type: ignore[union-attr]
        (
            item[SSCC_URI],
            net.hub_id,
            net.distributor_id,
            f"{DL}/417/{HUB_GLN}",
            f"{DL}/417/{DISTRIBUTOR_GLN}",
            ev[5],
            ev[6],
            T0 + timedelta(hours=5),
            T0 + timedelta(hours=6),
            None,
        ),
        (
            item[S2],
            net.hub_id,
            net.distributor_id,
            f"{DL}/417/{HUB_GLN}",
            f"{DL}/417/{DISTRIBUTOR_GLN}",
            ev[7],
            None,
            T0 + timedelta(hours=7),
            None,
            ev[8],
        ),
    ]

    assert sorted((p.item_id, p.party_id, p.relation) for p in rows["parties"]) == sorted(
        [  # type: ignore[union-attr]
            # commissioned (e1), made by the hub's transformation (e2), packed by it (e3)
            (item[CS1], net.hub_id, "holder"),
            (item[LOT_C], net.hub_id, "holder"),
            (item[S1], net.hub_id, "holder"),
            (item[S2], net.hub_id, "holder"),
            (item[SSCC_URI], net.hub_id, "holder"),
            # shipped to the distributor (e5), who received it (e6) with S1 inside
            (item[SSCC_URI], net.distributor_id, "consignee"),
            (item[S1], net.distributor_id, "holder"),
            # the shipment of S2 (e7) was an error (e8): the distributor has no access to S2
        ]
    )
    assert pgln_urn(HUB_GLN).startswith("urn:epc:id:pgln:")


def test_later_receipt_closes_the_open_hop_and_delete_without_children_empties_the_parent(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    from tests.trace.epcis_scenario import capture, document, pack, receive, ship

    # given a packed SSCC shipped in one document
    build_network(factory, "hops")
    hub = token_headers(client, "hops-warehouse")
    distributor = token_headers(client, "hops-distributor")
    capture(client, hub, document(pack(), ship(5, SSCC_URI, "https://example.com/po/1")))
    unpack_all = {
        "type": "AggregationEvent",
        "eventID": event_id(9),
        "eventTime": "2026-03-02T20:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "DELETE",
        "bizStep": "unpacking",
        "parentID": SSCC_URI,
    }

    # when the distributor receives it and unpacks everything in a later document
    capture(client, distributor, document(receive(), unpack_all))

    # then the hop is closed by the receipt and both containments ended (not retracted)
    rows = _rows(factory)
    events = rows["events"]
    assert isinstance(events, dict)
    row_of = {e.event_id: e.id for e in events.values()}
    assert [(h.receive_event_row_id, h.received_at) for h in rows["hops"]] == [  # type: ignore[union-attr]
        (row_of[event_id(6)], T0 + timedelta(hours=6))
    ]
    unpacked_at = T0 + timedelta(hours=12)
    assert [
        (e.retracted_by_event_id, e.ended_by_event_id, e.ended_at)
        for e in rows["edges"]  # type: ignore[union-attr]
    ] == [(None, row_of[event_id(9)], unpacked_at), (None, row_of[event_id(9)], unpacked_at)]


def test_retracting_a_receipt_restores_the_state_the_remaining_events_imply(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    from tests.trace.epcis_scenario import capture, declare_error, document, pack, receive, ship

    # given an SSCC packed and shipped by the hub, and received by the distributor
    net = build_network(factory, "undo")
    hub = token_headers(client, "undo-warehouse")
    distributor = token_headers(client, "undo-distributor")
    capture(client, hub, document(pack(), ship(5, SSCC_URI, "https://example.com/po/1")))
    capture(client, distributor, document(receive()))
    received = {
        i.uri: (i.last_biz_step, i.last_disposition, i.last_biz_location, i.holder_party_id)
        for i in _items(factory)
    }
    assert received[SSCC_URI] == (
        "receiving",
        "in_progress",
        f"{DL}/414/{DISTRIBUTOR_GLN}",
        net.distributor_id,
    )

    # when the distributor declares the receipt an error, in a later document
    job = capture(client, distributor, document(declare_error(receive())))

    # then the SSCC is back to the hub's shipment: in transit, still held by the hub
    assert job["state"] == "succeeded"
    items = {i.uri: i for i in _items(factory)}
    sscc = items[SSCC_URI]
    assert (
        sscc.last_event_time,
        sscc.last_biz_step,
        sscc.last_disposition,
        sscc.last_biz_location,
        sscc.holder_party_id,
    ) == (T0 + timedelta(hours=5), "shipping", "in_transit", None, net.hub_id)
    # and the children, not named by the receipt, keep their last step
    assert items[S1].last_biz_step == "packing"
    # and the hop is open again
    rows = _rows(factory)
    assert [(h.receive_event_row_id, h.received_at) for h in rows["hops"]] == [(None, None)]  # type: ignore[union-attr]


def _items(factory: sessionmaker[Session]) -> list[TraceItem]:
    with system_unit_of_work(factory) as session:
        return list(session.scalars(select(TraceItem).order_by(TraceItem.id)))


@pytest.mark.parametrize(
    "uri",
    [
        "https://id.gs1.org/01/04098760000206/21/S1",
        "https://id.gs1.org/01/04098760000206/10/LOT-1.A_b",
        "https://id.gs1.org/01/04098760000206/21/12345678901234567890",  # 20 characters
        "https://id.gs1.org/01/04098760000206/21/123456789012345678901",  # 21: not a serial
        "https://id.gs1.org/01/04098760000206/21/",  # empty value
        "https://id.gs1.org/01/04098760000206/21/A%2FB",  # escaped: decoded
        "https://id.gs1.org/01/04098760000206/10/L%25",
        "https://id.gs1.org/01/04098760000206/10/L1/21/S1",  # both: the serial
        "https://id.gs1.org/01/0409876000020/21/S1",  # 13-digit GTIN
        "https://id.gs1.org/01/٠٤٠٩٨٧٦٠٠٠٠٢٠٦/21/S1",  # other digits
        "https://id.gs1.org/01/04098760000206",
        "https://id.gs1.org/00/340987600000000017",
        "https://id.gs1.org/414/4098760000015",
        "urn:epc:id:sgtin:4098760.000020.S1",
        "https://example.com/01/04098760000206/21/S1",
    ],
)
def test_the_fast_identifier_path_answers_as_the_general_one(uri: str) -> None:
    assert parse_item_uri(uri) == _parse_item_uri_parts(uri)
