"""Genealogy across TransformationEvents sharing a transformationID, and item state restored
after an error declaration retracts the event that created an item."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.builders import build_network, token_headers
from tests.trace.epcis_scenario import (
    COMPONENT_GTIN,
    DL,
    FINISHED_GTIN,
    _base,
    capture,
    declare_error,
    document,
    event_id,
    event_ids,
    lgtin_urn,
    sgtin_urn,
)

from medledger.core.system import system_unit_of_work
from medledger.trace.models import EpcisEvent, GenealogyEdge, TraceItem

TID = "urn:epc:id:gdti:4012345.55555.98"
TID_DL = f"{DL}/253/401234555555498"
OTHER_TID = f"{DL}/253/401234555555481"


def serial(gtin_value: str, number: str) -> str:
    return f"{DL}/01/{gtin_value}/21/{number}"


def lot(gtin_value: str, number: str) -> str:
    return f"{DL}/01/{gtin_value}/10/{number}"


IN1, IN2, IN3, IN4 = (serial(COMPONENT_GTIN, f"IN{n}") for n in (1, 2, 3, 4))
OUT1, OUT2, OUT3 = (serial(FINISHED_GTIN, f"OUT{n}") for n in (1, 2, 3))
LOT_IN, LOT_OUT = lot(COMPONENT_GTIN, "LIN"), lot(FINISHED_GTIN, "LOUT")


def transformation(
    n: int,
    tid: str | None,
    inputs: list[str] = [],  # noqa: B006 - never mutated
    outputs: list[str] = [],  # noqa: B006
    **fields: Any,
) -> dict[str, Any]:
    extra = {"transformationID": tid} if tid else {}
    return _base(
        n,
        "TransformationEvent",
        bizStep="assembling",
        inputEPCList=inputs,
        outputEPCList=outputs,
        **extra,
        **fields,
    )


def captured(client: TestClient, headers: dict[str, str], *events: dict[str, Any]) -> None:
    """Capture ``events`` in one document; it must succeed."""
    job = capture(client, headers, document(*events))
    assert job["state"] == "succeeded", job["errors"]


def _label(key: str) -> str:
    """``e<n>`` for event n, ``x<n>`` for the error declaration of event n."""
    number = int(key.split("#")[0].rsplit("-", 1)[1])
    return f"x{number}" if key.endswith("#errorDeclaration") else f"e{number}"


def _edges(factory: sessionmaker[Session]) -> list[tuple[Any, ...]]:
    """(from, to, event, joined event, retracted by, quantity) of every edge, in id order."""
    with system_unit_of_work(factory) as session:
        labels = {e.id: _label(e.event_id) for e in session.scalars(select(EpcisEvent))}
        uris = dict(session.execute(select(TraceItem.id, TraceItem.uri)).all())
        return [
            (
                uris[e.from_item_id],
                uris[e.to_item_id],
                labels[e.event_row_id],
                labels.get(e.joined_event_row_id or 0),
                labels.get(e.retracted_by_event_id or 0),
                e.quantity,
            )
            for e in session.scalars(select(GenealogyEdge).order_by(GenealogyEdge.id))
        ]


def _upstream(client: TestClient, user: str, number: str) -> list[tuple[str, str]]:
    """(serial, event it was reached through) upstream of finished serial ``number``."""
    response = client.get(
        "/api/v1/trace",
        params={"id": f"(01){FINISHED_GTIN}(21){number}", "direction": "upstream"},
        headers=token_headers(client, user),
    )
    assert response.status_code == 200, response.text
    return sorted(
        (item["serial"], _label(item["via_event_id"])) for item in response.json()["serials"]
    )


def test_events_sharing_a_transformation_id_are_joined_across_documents_and_in_one(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    # given a first event of the transformation (inputs only) and an unrelated one
    build_network(factory, "tj")
    hub = token_headers(client, "tj-warehouse")
    captured(
        client,
        hub,
        transformation(11, TID, inputs=[IN1]),
        transformation(12, OTHER_TID, inputs=[IN3], outputs=[OUT3]),
    )

    # when two more events of the transformation come in a later document, one with a
    # quantity input and an instance output, one with a quantity output only
    captured(
        client,
        hub,
        transformation(
            13,
            TID,
            outputs=[OUT1],
            inputQuantityList=[{"epcClass": LOT_IN, "quantity": 5, "uom": "KGM"}],
        ),
        transformation(
            14,
            TID,
            outputQuantityList=[
                {"epcClass": lgtin_urn(FINISHED_GTIN, "LOUT"), "quantity": 7, "uom": "KGM"}
            ],
        ),
    )

    # then every input of the transformation went into every output, each edge attributed to
    # the event completing it and naming the earlier event it joins; e12 stays apart
    assert _edges(factory) == [
        (IN3, OUT3, "e12", None, None, None),
        (LOT_IN, OUT1, "e13", None, None, Decimal("5")),
        (IN1, OUT1, "e13", "e11", None, None),
        (IN1, LOT_OUT, "e14", "e11", None, None),
        (LOT_IN, LOT_OUT, "e14", "e13", None, Decimal("5")),
    ]
    with system_unit_of_work(factory) as session:
        stored = session.execute(select(EpcisEvent.event_id, EpcisEvent.transformation_id))
        assert {_label(key): tid for key, tid in stored} == {
            "e11": TID_DL,
            "e12": OTHER_TID,
            "e13": TID_DL,
            "e14": TID_DL,
        }
    # and EQ_transformationID finds the events of the transformation, in any spelling
    for spelling in (TID, TID_DL):
        response = client.get(
            "/epcis/events", params={"EQ_transformationID": spelling}, headers=hub
        )
        assert response.status_code == 200, response.text
        assert event_ids(response.json()) == [event_id(11), event_id(13), event_id(14)]


def test_retracting_an_event_of_a_transformation_retracts_the_joins_it_took_part_in(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    # given three events of one transformation: e15 and e16 (sharing input IN1) in one
    # document, e17 in a later one
    build_network(factory, "tr")
    hub = token_headers(client, "tr-warehouse")
    first = transformation(15, TID, inputs=[IN1], outputs=[OUT1])
    captured(client, hub, first, transformation(16, TID, [IN1, IN2], [OUT2]))
    third = transformation(17, TID, inputs=[IN3], outputs=[OUT3])
    captured(client, hub, third)
    # a pair one event links by itself (IN1 → OUT2 by e16) is not joined again
    assert _edges(factory) == [
        (IN1, OUT1, "e15", None, None, None),
        (IN1, OUT2, "e16", None, None, None),
        (IN2, OUT2, "e16", None, None, None),
        (IN2, OUT1, "e16", "e15", None, None),
        (IN3, OUT3, "e17", None, None, None),
        (IN1, OUT3, "e17", "e15", None, None),
        (IN3, OUT1, "e17", "e15", None, None),
        (IN1, OUT3, "e17", "e16", None, None),
        (IN2, OUT3, "e17", "e16", None, None),
        (IN3, OUT2, "e17", "e16", None, None),
    ]
    assert _upstream(client, "tr-qa", "OUT1") == [("IN1", "e15"), ("IN2", "e16"), ("IN3", "e17")]

    # when the earliest event is declared an error, then a new event of the transformation
    # comes, then the third event is declared an error too
    captured(client, hub, declare_error(first))
    captured(client, hub, transformation(18, TID, inputs=[IN4]))
    captured(client, hub, declare_error(third))

    # then e15's own edges and every join with it are retracted by its declaration (IN1 →
    # OUT3 stays through e16), e18 joins only the events left, and e17's declaration
    # retracts what e17 completed and e18's join with it
    assert _edges(factory) == [
        (IN1, OUT1, "e15", None, "x15", None),
        (IN1, OUT2, "e16", None, None, None),
        (IN2, OUT2, "e16", None, None, None),
        (IN2, OUT1, "e16", "e15", "x15", None),
        (IN3, OUT3, "e17", None, "x17", None),
        (IN1, OUT3, "e17", "e15", "x15", None),
        (IN3, OUT1, "e17", "e15", "x15", None),
        (IN1, OUT3, "e17", "e16", "x17", None),
        (IN2, OUT3, "e17", "e16", "x17", None),
        (IN3, OUT2, "e17", "e16", "x17", None),
        (IN4, OUT2, "e18", "e16", None, None),
        (IN4, OUT3, "e18", "e17", "x17", None),
    ]
    # and traces follow (the snapshot refreshed incrementally)
    assert _upstream(client, "tr-qa", "OUT1") == []
    assert _upstream(client, "tr-qa", "OUT2") == [("IN1", "e16"), ("IN2", "e16"), ("IN4", "e18")]


def test_a_join_with_an_event_corrected_in_the_same_document_is_retracted_with_it(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    # given
    build_network(factory, "tb")
    hub = token_headers(client, "tb-warehouse")
    wrong = transformation(21, TID, inputs=[IN1], outputs=[OUT1])

    # when an event, its error declaration and another event of the transformation come in
    # one document
    captured(client, hub, wrong, declare_error(wrong), transformation(22, TID, [IN2], [OUT2]))

    # then the join of e22 with e21 is retracted with e21
    assert _edges(factory) == [
        (IN1, OUT1, "e21", None, "x21", None),
        (IN2, OUT2, "e22", None, None, None),
        (IN1, OUT2, "e22", "e21", "x21", None),
        (IN2, OUT1, "e22", "e21", "x21", None),
    ]


# --- item state after a retracted commissioning ---------------------------------------------

SER1, SER2 = serial(FINISHED_GTIN, "SER1"), serial(FINISHED_GTIN, "SER2")
LOT_X = lot(COMPONENT_GTIN, "LOTX")
LOT_F1, LOT_F2 = lot(FINISHED_GTIN, "LOTF1"), lot(FINISHED_GTIN, "LOTF2")


def commissioning(
    n: int, epcs: list[str], classes: list[str], ilmd: dict[str, str]
) -> dict[str, Any]:
    return _base(
        n,
        "ObjectEvent",
        action="ADD",
        bizStep="commissioning",
        disposition="active",
        epcList=epcs,
        quantityList=[{"epcClass": c, "quantity": 10, "uom": "KGM"} for c in classes],
        ilmd=ilmd,
    )


def _origins(factory: sessionmaker[Session]) -> dict[str, tuple[Any, ...]]:
    """uri → (commissioned, expiry, lot uri, first event, last biz step) of every item."""
    with system_unit_of_work(factory) as session:
        labels = {e.id: _label(e.event_id) for e in session.scalars(select(EpcisEvent))}
        items = list(session.scalars(select(TraceItem)))
        uris = {item.id: item.uri for item in items}
        return {
            item.uri: (
                item.commissioned,
                item.expiry,
                uris.get(item.lot_item_id or 0),
                labels.get(item.first_event_id or 0),
                item.last_biz_step,
            )
            for item in items
        }


def test_a_serial_keeps_the_first_lot_it_is_given_within_one_document_too(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    build_network(factory, "fl")
    hub = token_headers(client, "fl-warehouse")
    first = commissioning(41, [SER2], [], {"cbvmda:lotNumber": "LOTF1"})
    again = commissioning(42, [SER2], [], {"cbvmda:lotNumber": "LOTF2"})

    captured(client, hub, first, again)

    origins = _origins(factory)
    assert origins[SER2][2] == LOT_F1
    assert origins[LOT_F2][0:3] == (False, None, None)  # known as a lot, given to no serial


def test_retracting_a_commissioning_restores_what_the_events_left_set(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    # given e31 commissions serials SER1, SER2 (lot LOTF1, expiry 2029-06-30 by ILMD) and lot
    # LOTX; e32 inspects SER1; e33 commissions LOTX again and SER2 (lot LOTF2, later expiry)
    build_network(factory, "rc")
    hub = token_headers(client, "rc-warehouse")
    first = commissioning(
        31,
        [sgtin_urn(FINISHED_GTIN, "SER1"), SER2],
        [lgtin_urn(COMPONENT_GTIN, "LOTX")],
        {"cbvmda:lotNumber": "LOTF1", "cbvmda:itemExpirationDate": "2029-06-30"},
    )
    inspection = _base(32, "ObjectEvent", action="OBSERVE", bizStep="inspecting", epcList=[SER1])
    again = commissioning(
        33,
        [SER2],
        [LOT_X],
        {"cbvmda:lotNumber": "LOTF2", "cbvmda:itemExpirationDate": "2030-01-31"},
    )
    captured(client, hub, first)
    captured(client, hub, inspection, again)
    at_capture = _origins(factory)
    assert {uri: at_capture[uri] for uri in (SER1, SER2, LOT_X)} == {
        SER1: (True, "2029-06-30", LOT_F1, "e31", "inspecting"),
        # the first lot a serial is given stays; the last expiry captured wins
        SER2: (True, "2030-01-31", LOT_F1, "e31", "commissioning"),
        LOT_X: (True, "2030-01-31", None, "e31", "commissioning"),
    }

    # when the inspection is declared an error, what the commissioning set stays
    captured(client, hub, declare_error(inspection))
    assert _origins(factory)[SER1] == (True, "2029-06-30", LOT_F1, "e31", "commissioning")

    # when the first commissioning is declared an error
    captured(client, hub, declare_error(first))

    # then SER1 has no event left; SER2 and LOTX take what e33 set
    restored = _origins(factory)
    assert {uri: restored[uri] for uri in (SER1, SER2, LOT_X)} == {
        SER1: (False, None, None, None, None),
        SER2: (True, "2030-01-31", LOT_F2, "e33", "commissioning"),
        LOT_X: (True, "2030-01-31", None, "e33", "commissioning"),
    }

    # when the second commissioning is declared an error too
    captured(client, hub, declare_error(again))

    # then nothing commissions SER2 and LOTX any more
    final = _origins(factory)
    assert {uri: final[uri] for uri in (SER2, LOT_X)} == {
        SER2: (False, None, None, None, None),
        LOT_X: (False, None, None, None, None),
    }
