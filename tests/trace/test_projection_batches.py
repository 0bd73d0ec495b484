"""Projections collected batch by batch equal those of the whole document at once.

A large capture inserts and collects its events slice by slice (``projection.Projection``,
``capture._EventStore``) while worker processes check later slices. Each batch preloads from
the database only what no earlier batch did, so the stored projections must not depend on
where the batches are cut. The document below is captured on top of an earlier one (stored
aggregation edges, an open hop, a transformationID member) and exercises what crosses a cut:
a receipt closing the stored hop ahead of a newer one, an aggregation DELETE of stored and new
children, transformationID joins with a stored and a new member, error declarations of
events in other batches, out-of-order event times (also against a stored newer state) and
the serial-lot rule. It is captured
into identical networks in one batch and cut into batches of 1, 2, 3 and 5 events, and every
projection row is compared.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker
from tests.builders import Network, build_network, gln
from tests.trace.epcis_scenario import (
    COMPONENT_GTIN,
    DL,
    FINISHED_GTIN,
    _base,
    document,
    sscc_number,
)

from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.trace.epcis.document import locate_events
from medledger.trace.ledger.capture import _check_and_normalise, _EventStore, store_events
from medledger.trace.models import (
    CustodyHop,
    EpcisEvent,
    EventItem,
    GenealogyEdge,
    ItemParty,
    TraceItem,
)

TID = f"{DL}/253/401234555555498"
PALLET = f"{DL}/00/{sscc_number(700)}"


def serial(gtin_value: str, number: str) -> str:
    return f"{DL}/01/{gtin_value}/21/{number}"


C1, C2, C3 = (serial(COMPONENT_GTIN, f"C{n}") for n in (1, 2, 3))
X, Y, W = serial(FINISHED_GTIN, "X"), serial(FINISHED_GTIN, "Y"), serial(FINISHED_GTIN, "W")
IN1, IN2, IN3 = (serial(COMPONENT_GTIN, f"IN{n}") for n in (1, 2, 3))
OUT1, OUT2, OUT3 = (serial(FINISHED_GTIN, f"OUT{n}") for n in (1, 2, 3))


def _ship(n: int, epc: str, hub: str, distributor: str) -> dict[str, Any]:
    return _base(
        n,
        "ObjectEvent",
        action="OBSERVE",
        bizStep="shipping",
        disposition="in_transit",
        epcList=[epc],
        sourceList=[{"type": "owning_party", "source": f"{DL}/417/{hub}"}],
        destinationList=[{"type": "owning_party", "destination": f"{DL}/417/{distributor}"}],
    )


def _receive(n: int, epc: str, distributor: str) -> dict[str, Any]:
    return _base(
        n,
        "ObjectEvent",
        action="OBSERVE",
        bizStep="receiving",
        disposition="in_progress",
        epcList=[epc],
        bizLocation={"id": f"{DL}/414/{distributor}"},
        destinationList=[{"type": "owning_party", "destination": f"{DL}/417/{distributor}"}],
    )


def _aggregate(n: int, action: str, children: list[str]) -> dict[str, Any]:
    return _base(
        n,
        "AggregationEvent",
        action=action,
        bizStep="packing" if action == "ADD" else "unpacking",
        parentID=PALLET,
        childEPCs=children,
    )


def _transform(n: int, inputs: list[str], outputs: list[str]) -> dict[str, Any]:
    return _base(
        n,
        "TransformationEvent",
        bizStep="assembling",
        inputEPCList=inputs,
        outputEPCList=outputs,
        transformationID=TID,
    )


def _commission(n: int, epcs: list[str], lot: str, hours: int | None = None) -> dict[str, Any]:
    event = _base(
        n,
        "ObjectEvent",
        action="ADD",
        bizStep="commissioning",
        disposition="active",
        epcList=epcs,
        ilmd={"cbvmda:lotNumber": lot, "cbvmda:itemExpirationDate": "2029-01-31"},
    )
    if hours is not None:
        event["eventTime"] = _base(hours, "ObjectEvent")["eventTime"]
    return event


def _observe(n: int, epc: str, hours: int, **fields: Any) -> dict[str, Any]:
    event = _base(n, "ObjectEvent", action="OBSERVE", epcList=[epc], **fields)
    event["eventTime"] = _base(hours, "ObjectEvent")["eventTime"]
    return event


def _declare(original: dict[str, Any]) -> dict[str, Any]:
    return {
        **original,
        "errorDeclaration": {"declarationTime": "2026-03-05T00:00:00Z", "reason": "incorrect_data"},
    }


def _earlier(hub: str, distributor: str) -> dict[str, Any]:
    """What the ledger holds before: C1, C2 on the pallet, X shipped, a TID member, W
    stored at 13:00."""
    return document(
        _commission(1, [C1, C2, X], "L0"),
        _aggregate(2, "ADD", [C1, C2]),
        _ship(3, X, hub, distributor),
        _transform(4, [IN1], [OUT1]),
        _observe(5, W, 5, bizStep="storing", disposition="active"),
    )


def _batched(hub: str, distributor: str) -> dict[str, Any]:
    """The document cut into batches; the comments say what crosses a cut."""
    ship_y = _ship(11, Y, hub, distributor)
    join = _transform(16, [IN2], [OUT2])
    return document(
        ship_y,  # a new hop for Y
        _observe(24, W, 2, bizStep="inspecting", disposition="damaged"),  # older than stored
        _ship(12, X, hub, distributor),  # a second, newer hop for X
        _receive(13, X, distributor),  # closes the stored hop of X, not the newer one
        _aggregate(14, "ADD", [C3]),  # the stored edges of the pallet are preloaded here
        _aggregate(15, "DELETE", []),  # retracts the stored C1, C2 and the new C3
        join,  # joined with the stored TID member
        _transform(17, [IN3], [OUT3]),  # joined with both
        _declare(join),  # retracts 16's edges and joins
        _declare(ship_y),  # retracts the hop of 11
        _receive(20, X, distributor),  # closes the newer hop of X
        _commission(21, [OUT3], "L1", hours=30),  # newer than 22 although earlier here
        _commission(22, [OUT3], "L2", hours=25),  # a second lot: kept as an item only
        _aggregate(23, "ADD", [C1]),  # back on the pallet after the DELETE
        _observe(25, W, 26, bizStep="inspecting"),  # newer than stored: its step only
    )


def _store(
    factory: sessionmaker[Session], net: Network, doc: dict[str, Any], size: int | None
) -> None:
    errors, normalised = _check_and_normalise(doc, locate_events(doc))
    assert errors == []
    with system_unit_of_work(factory) as session:
        principal = tenant_admin(session, net.tenant_id)
        if size is None:
            store_events(
                session, principal, normalised, job_id=None, document_context=doc["@context"]
            )
            return
        store = _EventStore(session, principal, job_id=None, document_context=doc["@context"])
        for start in range(0, len(normalised), size):
            store.insert(normalised[start : start + size])
        store.finish()


def ledger(factory: sessionmaker[Session], net: Network) -> dict[str, Any]:
    """Every event (in capture order, as stored) and projection row of the tenant, ids
    replaced by event IDs, URIs and party names."""
    parties = {net.hub_id: "hub", net.distributor_id: "distributor", net.supplier_id: "supplier"}
    parties[None] = None  # type: ignore[index]
    with system_unit_of_work(factory) as session:
        tenant = net.tenant_id
        event = dict(
            session.execute(
                select(EpcisEvent.id, EpcisEvent.event_id).where(EpcisEvent.tenant_id == tenant)
            ).all()
        )
        event[None] = None  # type: ignore[index]
        items = session.scalars(
            select(TraceItem).where(TraceItem.tenant_id == tenant).order_by(TraceItem.uri)
        ).all()
        uri = {item.id: item.uri for item in items}
        uri[None] = None  # type: ignore[index]

        def rows(model: Any) -> list[Any]:
            return list(
                session.scalars(select(model).where(model.tenant_id == tenant).order_by(model.id))
            )

        return {
            "events": [
                (e, event[r], document)
                for e, r, document in session.execute(
                    select(
                        EpcisEvent.event_id, EpcisEvent.retracted_by_event_id, EpcisEvent.document
                    )
                    .where(EpcisEvent.tenant_id == tenant)
                    .order_by(EpcisEvent.id)
                )
            ],
            "items": [
                (
                    i.uri,
                    i.kind,
                    i.gtin,
                    i.lot,
                    i.serial,
                    i.sscc,
                    uri[i.lot_item_id],
                    event[i.first_event_id],
                    i.commissioned,
                    i.last_event_time,
                    i.last_biz_step,
                    i.last_disposition,
                    i.last_biz_location,
                    parties[i.holder_party_id],
                    i.expiry,
                    i.holder_gln,
                )
                for i in items
            ],
            "event_items": [
                (event[r.event_row_id], uri[r.item_id], r.role, r.quantity, r.uom)
                for r in rows(EventItem)
            ],
            "edges": [
                (
                    e.kind,
                    uri[e.from_item_id],
                    uri[e.to_item_id],
                    event[e.event_row_id],
                    e.quantity,
                    event[e.retracted_by_event_id],
                    event[e.joined_event_row_id],
                    event[e.ended_by_event_id],
                    e.ended_at,
                )
                for e in rows(GenealogyEdge)
            ],
            "hops": [
                (
                    uri[h.item_id],
                    parties[h.from_party_id],
                    parties[h.to_party_id],
                    h.quantity,
                    event[h.ship_event_row_id],
                    event[h.receive_event_row_id],
                    h.shipped_at,
                    h.received_at,
                    event[h.retracted_by_event_id],
                )
                for h in rows(CustodyHop)
            ],
            "item_parties": [
                (uri[p.item_id], parties[p.party_id], p.relation) for p in rows(ItemParty)
            ],
        }


@pytest.fixture
def whole(factory: sessionmaker[Session]) -> dict[str, Any]:
    net = build_network(factory, "whole", offset=200)
    hub, distributor = gln(201), gln(202)
    _store(factory, net, _earlier(hub, distributor), None)
    _store(factory, net, _batched(hub, distributor), None)
    return ledger(factory, net)


def test_the_document_exercises_every_cross_batch_case(whole: dict[str, Any]) -> None:
    def eid(n: int) -> str:
        return _base(n, "ObjectEvent")["eventID"]

    hops = {(hop[0], hop[4]): hop for hop in whole["hops"]}
    assert hops[(X, eid(3))][5] == eid(13)  # the stored hop is closed by the first receipt
    assert hops[(X, eid(12))][5] == eid(20)  # the newer one by the second
    assert hops[(Y, eid(11))][8] == eid(11) + "#errorDeclaration"
    # the unpacking (e15) ended the containments; none is retracted
    pallet = [(e[1], e[3], e[7]) for e in whole["edges"] if e[0] == "aggregation"]
    assert {e[5] for e in whole["edges"] if e[0] == "aggregation"} == {None}
    assert pallet == [
        (C1, eid(2), eid(15)),
        (C2, eid(2), eid(15)),
        (C3, eid(14), eid(15)),
        (C1, eid(23), None),
    ]
    joins = sorted((e[1], e[2], e[3], e[5], e[6]) for e in whole["edges"] if e[6] is not None)
    declared = eid(16) + "#errorDeclaration"
    assert joins == [
        (IN1, OUT2, eid(16), declared, eid(4)),
        (IN1, OUT3, eid(17), None, eid(4)),
        (IN2, OUT1, eid(16), declared, eid(4)),
        (IN2, OUT3, eid(17), declared, eid(16)),
        (IN3, OUT1, eid(17), None, eid(4)),
        (IN3, OUT2, eid(17), declared, eid(16)),
    ]
    out3 = next(item for item in whole["items"] if item[0] == OUT3)
    assert (out3[6], out3[9].hour) == (f"{DL}/01/{FINISHED_GTIN}/10/L1", 14)  # 08:00 + 30 h
    assert f"{DL}/01/{FINISHED_GTIN}/10/L2" in [item[0] for item in whole["items"]]
    # The older event's disposition does not replace the stored newer one's.
    w = next(item for item in whole["items"] if item[0] == W)
    assert (w[9].hour, w[10], w[11]) == (10, "inspecting", "active")  # 08:00 + 26 h


@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_batches_store_the_projections_of_the_whole_document(
    factory: sessionmaker[Session], whole: dict[str, Any], size: int
) -> None:
    net = build_network(factory, f"batch{size}", offset=200)  # GLNs are unique per tenant
    hub, distributor = gln(201), gln(202)
    _store(factory, net, _earlier(hub, distributor), None)

    _store(factory, net, _batched(hub, distributor), size)

    assert ledger(factory, net) == whole


def test_stored_items_are_updated_without_rewriting_their_ids(
    engine: Engine, factory: sessionmaker[Session]
) -> None:
    # Rewriting a primary key, even to itself, makes SQLite check every table referencing
    # the item: a scan of the tenant's ledger per capture. Only the state columns are SET.
    net = build_network(factory, "ids", offset=200)
    hub, distributor = gln(201), gln(202)
    _store(factory, net, _earlier(hub, distributor), None)
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        _store(factory, net, _batched(hub, distributor), None)
    finally:
        event.remove(engine, "before_cursor_execute", seen)

    updates = [s for s in statements if s.startswith("UPDATE trace_items SET")]
    assert updates  # X, the pallet's children and W are stored items whose state changes
    assert all(" id=" not in s.split(" WHERE ")[0] for s in updates)
