"""EPCIS query subscriptions: by webhook (through the outbox and the worker, signed with the
subscriber's ``signatureToken``, to a real receiver on loopback) and by WebSocket; each
subscriber receives exactly the matching events it may see."""

from __future__ import annotations

import hashlib
import hmac
import random
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.websockets import WebSocketDisconnect

from medledger.core.db import utcnow
from medledger.core.system import system_unit_of_work
from medledger.integration.models import WebhookSubscription
from medledger.integration.worker import WorkerConfig, run_once
from tests.builders import build_network, gln, token_headers
from tests.integration.conftest import Receiver
from tests.trace.epcis_scenario import (
    CONTEXT,
    FINISHED_GTIN,
    at,
    document,
    event_id,
    run_scenario,
    sgtin_urn,
)

FAST = WorkerConfig(backoff_base_seconds=10, backoff_cap_seconds=3600, max_attempts=4)
NUMBERS = {event_id(n): n for n in range(1, 40)}


def _deliver_all(factory: sessionmaker[Session]) -> None:
    with httpx.Client(timeout=5) as http:
        while run_once(
            factory, worker="w", client=http, config=FAST, clock=utcnow, rng=random.Random(1)
        ):
            pass


def _signed(secret: str, headers: dict[str, str], body: bytes) -> bool:
    timestamp = headers["MedLedger-Timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest("v1=" + expected.hexdigest(), headers["MedLedger-Signature"])


def _subscribe(
    client: TestClient, headers: dict[str, str], name: str, steps: list[str], url: str, token: str
) -> str:
    query = {"name": name, "query": {"EQ_bizStep": steps}}
    assert client.post("/epcis/queries", json=query, headers=headers).status_code == 201
    answer = client.post(
        f"/epcis/queries/{name}/subscriptions",
        json={"dest": url, "stream": True, "signatureToken": token},
        headers=headers,
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["Location"].endswith(answer.json()["subscriptionID"])
    return str(answer.json()["subscriptionID"])


def test_webhook_subscribers_receive_signed_reports_of_only_what_they_may_see(
    client: TestClient, factory: sessionmaker[Session], receiver: Receiver
) -> None:
    build_network(factory, "es")
    hub = token_headers(client, "es-warehouse")
    distributor = token_headers(client, "es-distributor")
    hub_token, distributor_token = "hub-signature-token-0001", "distributor-signature-token"
    ours = _subscribe(client, hub, "shipments", ["shipping"], receiver.url, hub_token)
    theirs = _subscribe(
        client, distributor, "arrivals", ["shipping", "receiving"], receiver.url, distributor_token
    )

    run_scenario(client, hub, distributor)
    _deliver_all(factory)

    reports: dict[str, list[int]] = {}
    for request in receiver.requests:
        body = request.json
        data = body["data"]
        assert isinstance(data, dict)
        results = data["epcisBody"]["queryResults"]
        subscription = results["subscriptionID"]
        secret = hub_token if subscription == ours else distributor_token
        assert _signed(secret, request.headers, request.body)
        assert body["type"] == "epcis.query_result"
        assert data["type"] == "EPCISQueryDocument"
        events = results["resultsBody"]["eventList"]
        assert all("recordTime" in event for event in events)
        reports.setdefault(subscription, []).extend(NUMBERS[e["eventID"]] for e in events)
    # The hub sees every shipment (e7 and its error declaration e8); the distributor only the
    # shipment of the case it received and its own receipt: e7 (S2 alone) is not its to see.
    assert reports == {ours: [5, 7, 7], theirs: [5, 6]}


def test_deleting_a_query_ends_its_subscriptions(
    client: TestClient, factory: sessionmaker[Session], receiver: Receiver
) -> None:
    build_network(factory, "ed")
    hub = token_headers(client, "ed-warehouse")
    subscription = _subscribe(client, hub, "gone", ["shipping"], receiver.url, "x" * 20)
    listed = client.get("/epcis/queries/gone/subscriptions", headers=hub).json()
    assert [s["subscriptionID"] for s in listed] == [subscription]
    assert client.delete("/epcis/queries/gone", headers=hub).status_code == 204
    assert client.get("/epcis/queries/gone", headers=hub).status_code == 404
    with system_unit_of_work(factory) as session:
        webhook = session.scalars(select(WebhookSubscription)).one()
        assert (webhook.active, webhook.event_types) == (False, ["epcis.query_result"])
    run_scenario(client, hub, token_headers(client, "ed-distributor"))
    _deliver_all(factory)
    assert receiver.requests == []


def _event(n: int, step: str, serial: str, place: str) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventID": event_id(n),
        "eventTime": at(n),
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
        "bizStep": step,
        "epcList": [sgtin_urn(FINISHED_GTIN, serial)],
        "readPoint": {"id": f"https://id.gs1.org/414/{place}"},
    }


def test_a_websocket_subscriber_receives_new_matching_events_it_may_see(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    build_network(factory, "ws")
    hub = token_headers(client, "ws-warehouse")
    distributor = token_headers(client, "ws-distributor")
    query = {"name": "arrivals", "query": {"EQ_bizStep": ["receiving"]}}
    assert client.post("/epcis/queries", json=query, headers=distributor).status_code == 201
    before = document(_event(30, "receiving", "W0", gln(2)))
    assert client.post("/epcis/capture", json=before, headers=distributor).status_code == 202

    with client.websocket_connect("/epcis/queries/arrivals/events", headers=distributor) as ws:
        # The hub's receipt of its own unit: not the distributor's to see.
        hidden = document(_event(31, "receiving", "W1", gln(1)))
        assert client.post("/epcis/capture", json=hidden, headers=hub).status_code == 202
        # A shipment by the distributor: not what the query selects.
        shipped = document(_event(32, "shipping", "W2", gln(2)))
        assert client.post("/epcis/capture", json=shipped, headers=distributor).status_code == 202
        mine = {"@context": CONTEXT, **_event(33, "receiving", "W3", gln(2))}
        assert client.post("/epcis/events", json=mine, headers=distributor).status_code == 201
        report = ws.receive_json()

    assert report["type"] == "EPCISQueryDocument"
    assert report["epcisBody"]["queryResults"]["queryName"] == "arrivals"
    events = report["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    # Only what arrived after the upgrade, matching, and visible: e33 (not e30, e31, e32).
    assert [NUMBERS[e["eventID"]] for e in events] == [33]


def test_a_websocket_without_credentials_or_query_is_refused(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    build_network(factory, "wr")
    for headers in ({}, token_headers(client, "wr-distributor")):
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            client.websocket_connect("/epcis/queries/none/events", headers=headers),
        ):
            pass
        assert refused.value.code == 1008
