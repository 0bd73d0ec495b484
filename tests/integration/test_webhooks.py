"""Outbox, subscriptions and the delivery worker, against a real HTTP receiver on loopback."""

from __future__ import annotations

import random
import re
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from medledger.compliance.models import AuditEntry
from medledger.core.db import utcnow
from medledger.core.system import system_unit_of_work
from medledger.integration.models import Delivery, OutboxMessage, WebhookSubscription
from medledger.integration.outbox import publish
from medledger.integration.worker import (
    WorkerConfig,
    backoff_delay,
    claim_due,
    run_once,
    send,
)
from tests.builders import Network, build_network, token_headers
from tests.integration.conftest import Receiver
from tests.trace.epcis_scenario import capture, document, event_id, receive, sgtin_urn, ship

FAST = WorkerConfig(backoff_base_seconds=10, backoff_cap_seconds=3600, max_attempts=4)


def _snippet() -> dict[str, Any]:
    """The verification snippet receivers are told to use, executed as documented."""
    text = (Path(__file__).parents[2] / "docs" / "integration.md").read_text()
    match = re.search(
        r"<!-- verification-snippet -->\n```python\n(.*?)```\n<!-- /verification-snippet -->",
        text,
        re.S,
    )
    assert match is not None
    namespace: dict[str, Any] = {}
    exec(match.group(1), namespace)
    return namespace


def _subscribe(
    client: TestClient, headers: dict[str, str], url: str, *types: str
) -> dict[str, Any]:
    response = client.post(
        "/api/v1/integration/subscriptions",
        json={"name": "partner system", "url": url, "event_types": list(types)},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


def _ship(client: TestClient, hub: dict[str, str], n: int) -> None:
    job = capture(client, hub, document(ship(n, sgtin_urn("04098760000206", f"S{n}"), f"PO{n}")))
    assert job["state"] == "succeeded", job["errors"]


def _deliveries(factory: sessionmaker[Session]) -> list[tuple[Any, ...]]:
    with system_unit_of_work(factory) as session:
        return [
            tuple(row)
            for row in session.execute(
                select(Delivery.party_id, Delivery.state, Delivery.attempts).order_by(Delivery.id)
            )
        ]


def _run(
    factory: sessionmaker[Session],
    at: datetime,
    config: WorkerConfig = FAST,
    worker: str = "w1",
) -> dict[str, int]:
    with httpx.Client(timeout=5) as client:
        return run_once(
            factory,
            worker=worker,
            client=client,
            config=config,
            clock=lambda: at,
            rng=random.Random(7),
        )


@pytest.fixture
def net(factory: sessionmaker[Session]) -> Network:
    return build_network(factory, "wh")


def test_a_subscribed_partner_receives_a_signed_shipment_once(
    client: TestClient, factory: sessionmaker[Session], net: Network, receiver: Receiver
) -> None:
    # Given the distributor subscribed to shipments, the supplier too
    distributor = token_headers(client, "wh-distributor")
    created = _subscribe(client, distributor, receiver.url, "shipment.despatched")
    _subscribe(client, token_headers(client, "wh-supplier"), receiver.url, "shipment.despatched")
    assert created["secret"].startswith("whsec_")
    assert (created["party_id"], created["event_types"], created["active"]) == (
        net.distributor_id,
        ["shipment.despatched"],
        True,
    )
    # When the hub ships to the distributor and the worker runs
    _ship(client, token_headers(client, "wh-warehouse"), 5)
    assert _run(factory, utcnow()) == {"delivered": 1}
    # Then only the distributor (named as destination) received it, signed and complete
    assert _deliveries(factory) == [(net.distributor_id, "delivered", 1)]
    [request] = receiver.requests
    assert _snippet()["verify_webhook"](created["secret"], request.headers, request.body)
    assert not _snippet()["verify_webhook"]("whsec_wrong", request.headers, request.body)
    assert not _snippet()["verify_webhook"](created["secret"], request.headers, request.body + b" ")
    body = request.json
    data = body["data"]
    assert isinstance(data, dict)
    assert (body["type"], body["subject"], data["eventID"], data["bizStep"]) == (
        "shipment.despatched",
        event_id(5),
        event_id(5),
        "shipping",
    )
    assert data["bizTransactionList"] == [{"type": "po", "bizTransaction": "PO5"}]
    assert request.headers["MedLedger-Message-Id"] == body["id"]
    assert request.headers["MedLedger-Event-Type"] == "shipment.despatched"
    # And nothing is due any more
    assert _run(factory, utcnow()) == {}


def test_the_hub_sees_every_fact_and_no_subscription_means_no_message(
    client: TestClient, factory: sessionmaker[Session], net: Network, receiver: Receiver
) -> None:
    hub = token_headers(client, "wh-warehouse")
    _ship(client, hub, 5)  # nobody subscribed yet: nothing stored
    with system_unit_of_work(factory) as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    _subscribe(client, token_headers(client, "wh-admin"), receiver.url, "receipt.confirmed")
    _ship(client, hub, 7)  # a shipment: the hub subscribed to receipts only
    job = capture(client, token_headers(client, "wh-distributor"), document(receive()))
    assert job["state"] == "succeeded", job["errors"]
    assert _run(factory, utcnow()) == {"delivered": 1}
    assert [r.json["type"] for r in receiver.requests] == ["receipt.confirmed"]
    assert _deliveries(factory) == [(net.hub_id, "delivered", 1)]


def test_failed_deliveries_are_retried_with_backoff_then_succeed(
    client: TestClient, factory: sessionmaker[Session], net: Network, receiver: Receiver
) -> None:
    receiver.fail_first = 2
    _subscribe(client, token_headers(client, "wh-distributor"), receiver.url, "shipment.despatched")
    _ship(client, token_headers(client, "wh-warehouse"), 5)
    t0 = utcnow()
    # First attempt fails: retrying, due again after the backoff, not before
    assert _run(factory, t0) == {"retrying": 1}
    with system_unit_of_work(factory) as session:
        delivery = session.scalars(select(Delivery)).one()
        assert (delivery.state, delivery.attempts, delivery.last_status) == ("retrying", 1, 500)
        assert delivery.last_error.startswith("HTTP 500")
        wait = (delivery.next_attempt_at - t0).total_seconds()
    assert 5 <= wait <= 10  # between half and all of base × 2^0
    assert _run(factory, t0 + timedelta(seconds=wait - 1)) == {}
    t1 = t0 + timedelta(seconds=wait)
    assert _run(factory, t1) == {"retrying": 1}
    with system_unit_of_work(factory) as session:
        delivery = session.scalars(select(Delivery)).one()
        second_wait = (delivery.next_attempt_at - t1).total_seconds()
    assert 10 <= second_wait <= 20  # base × 2^1
    assert _run(factory, t1 + timedelta(seconds=second_wait)) == {"delivered": 1}
    assert _deliveries(factory) == [(net.distributor_id, "delivered", 3)]
    # Every attempt carried the same idempotency id
    assert len({r.headers["MedLedger-Message-Id"] for r in receiver.requests}) == 1
    assert len(receiver.requests) == 3


def test_backoff_is_exponential_capped_and_jittered() -> None:
    config = WorkerConfig(backoff_base_seconds=5, backoff_cap_seconds=60)
    rng = random.Random(3)
    for attempts, ceiling in ((1, 5), (2, 10), (3, 20), (4, 40), (5, 60), (9, 60)):
        delays = [backoff_delay(attempts, config, rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) == 50  # jittered


def test_a_dead_delivery_is_replayed_by_api_and_audited(
    client: TestClient, factory: sessionmaker[Session], net: Network, receiver: Receiver
) -> None:
    receiver.always_fail = True
    distributor = token_headers(client, "wh-distributor")
    _subscribe(client, distributor, receiver.url, "shipment.despatched")
    _ship(client, token_headers(client, "wh-warehouse"), 5)
    config = WorkerConfig(max_attempts=2, backoff_base_seconds=1)
    t = utcnow()
    assert _run(factory, t, config) == {"retrying": 1}
    assert _run(factory, t + timedelta(seconds=5), config) == {"dead": 1}
    dead = client.get("/api/v1/integration/deliveries?state=dead", headers=distributor).json()
    assert dead["total"] == 1
    [item] = dead["items"]
    assert (item["state"], item["attempts"], item["last_status"]) == ("dead", 2, 500)
    # Nothing is due while it is dead
    assert _run(factory, t + timedelta(days=1), config) == {}
    # When the partner is back and replays it
    receiver.always_fail = False
    replayed = client.post(
        f"/api/v1/integration/deliveries/{item['id']}/replay", headers=distributor
    )
    assert replayed.status_code == 200, replayed.text
    assert (replayed.json()["state"], replayed.json()["attempts"]) == ("pending", 0)
    assert _run(factory, utcnow() + timedelta(seconds=1), config) == {"delivered": 1}
    # A delivered one cannot be replayed
    again = client.post(f"/api/v1/integration/deliveries/{item['id']}/replay", headers=distributor)
    assert again.status_code == 409
    assert again.json()["code"] == "integration.delivery_not_replayable"
    with system_unit_of_work(factory) as session:
        entries = session.execute(
            select(AuditEntry.action, AuditEntry.actor_label, AuditEntry.new_values).where(
                AuditEntry.entity_type == "webhook_deliveries"
            )
        ).all()
    assert [(a, n) for a, _, n in entries] == [("replay", {"state": "pending", "attempts": 0})]
    assert entries[0][1].startswith("wh-distributor")


def test_a_killed_workers_claims_are_delivered_by_another_after_the_lease(
    client: TestClient, factory: sessionmaker[Session], net: Network, receiver: Receiver
) -> None:
    _subscribe(client, token_headers(client, "wh-distributor"), receiver.url, "shipment.despatched")
    _ship(client, token_headers(client, "wh-warehouse"), 5)
    config = WorkerConfig(lease_seconds=30)
    t0 = utcnow()
    # Worker A claims and dies before sending
    [held] = claim_due(factory, "worker-a", t0, config)
    # Worker B finds nothing while the lease holds
    assert _run(factory, t0 + timedelta(seconds=29), config, worker="worker-b") == {}
    # After it, B delivers
    assert _run(factory, t0 + timedelta(seconds=31), config, worker="worker-b") == {"delivered": 1}
    assert len(receiver.requests) == 1
    assert receiver.requests[0].headers["MedLedger-Message-Id"] == held.message_id


def test_a_redelivery_after_a_crash_takes_effect_once(
    client: TestClient, factory: sessionmaker[Session], net: Network, receiver: Receiver
) -> None:
    created = _subscribe(
        client, token_headers(client, "wh-distributor"), receiver.url, "shipment.despatched"
    )
    _ship(client, token_headers(client, "wh-warehouse"), 5)
    config = WorkerConfig(lease_seconds=30)
    t0 = utcnow()
    # Worker A sends, then dies before recording the outcome
    [held] = claim_due(factory, "worker-a", t0, config)
    with httpx.Client(timeout=5) as http:
        assert send(http, held, int(t0.timestamp())).ok
    # Worker B delivers the same message again after the lease
    assert _run(factory, t0 + timedelta(seconds=31), config, worker="worker-b") == {"delivered": 1}
    assert len(receiver.requests) == 2
    # The receiver, following the documented pattern, applies it once
    snippet = _snippet()
    seen: set[str] = set()
    effects: list[str] = []
    for request in receiver.requests:
        assert snippet["verify_webhook"](created["secret"], request.headers, request.body)
        snippet["handle_once"](
            seen, request.headers, lambda r=request: effects.append(r.json["subject"])
        )
    assert effects == [event_id(5)]


def test_parallel_workers_deliver_each_message_exactly_once(
    client: TestClient, factory: sessionmaker[Session], net: Network, receiver: Receiver
) -> None:
    _subscribe(client, token_headers(client, "wh-distributor"), receiver.url, "shipment.despatched")
    with system_unit_of_work(factory) as session:
        ids = []
        for n in range(120):
            message = publish(
                session,
                tenant_id=net.tenant_id,
                event_type="shipment.despatched",
                subject=f"m{n}",
                payload={"n": n},
                audience=[net.distributor_id],
            )
            assert message is not None
            ids.append(message.message_id)
    config = WorkerConfig(batch_size=7)
    at = utcnow() + timedelta(seconds=1)
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            with httpx.Client(timeout=5) as http:
                while run_once(factory, worker=name, client=http, config=config, clock=lambda: at):
                    pass
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    received = sorted(r.headers["MedLedger-Message-Id"] for r in receiver.requests)
    assert received == sorted(ids)  # every message once, none twice
    assert {state for _, state, _ in _deliveries(factory)} == {"delivered"}


def test_partners_see_and_change_only_their_own_subscriptions(
    client: TestClient, factory: sessionmaker[Session], net: Network, receiver: Receiver
) -> None:
    distributor = token_headers(client, "wh-distributor")
    supplier = token_headers(client, "wh-supplier")
    admin = token_headers(client, "wh-admin")
    own = _subscribe(client, distributor, receiver.url, "shipment.despatched")
    _subscribe(client, supplier, receiver.url, "receipt.confirmed")
    mine = client.get("/api/v1/integration/subscriptions", headers=distributor).json()
    assert [s["id"] for s in mine["items"]] == [own["id"]]
    assert "secret" not in mine["items"][0]
    assert client.get("/api/v1/integration/subscriptions", headers=admin).json()["total"] == 2
    path = f"/api/v1/integration/subscriptions/{own['id']}"
    assert client.get(path, headers=supplier).status_code == 404
    assert client.patch(path, json={"active": False}, headers=supplier).status_code == 404
    assert client.post(f"{path}/rotate-secret", headers=supplier).status_code == 404
    switched = client.patch(path, json={"active": False}, headers=distributor)
    assert (switched.status_code, switched.json()["active"]) == (200, False)
    rotated = client.post(f"{path}/rotate-secret", headers=distributor).json()
    assert rotated["secret"] != own["secret"]
    # The secret never reaches the audit trail
    with system_unit_of_work(factory) as session:
        values = session.scalars(
            select(AuditEntry.new_values).where(AuditEntry.entity_type == "webhook_subscriptions")
        ).all()
    assert values and all(own["secret"] not in str(v) for v in values)
    assert all(rotated["secret"] not in str(v) for v in values)


def test_an_inactive_subscriptions_deliveries_are_parked(
    client: TestClient, factory: sessionmaker[Session], net: Network, receiver: Receiver
) -> None:
    distributor = token_headers(client, "wh-distributor")
    own = _subscribe(client, distributor, receiver.url, "shipment.despatched")
    _ship(client, token_headers(client, "wh-warehouse"), 5)
    client.patch(
        f"/api/v1/integration/subscriptions/{own['id']}",
        json={"active": False},
        headers=distributor,
    )
    assert _run(factory, utcnow()) == {"dead": 1}
    assert receiver.requests == []
    with system_unit_of_work(factory) as session:
        assert session.scalars(select(Delivery.last_error)).one() == "subscription inactive"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        (
            {"name": "x", "url": "http://127.0.0.1:9/hook", "event_types": ["nope.unknown"]},
            "event_types",
            "integration.unknown_event_type",
        ),
        (
            {"name": "x", "url": "ftp://example.com/x", "event_types": ["shipment.despatched"]},
            "url",
            "integration.url_not_allowed",
        ),
    ],
)
def test_bad_subscriptions_are_refused_and_nothing_is_stored(
    client: TestClient,
    factory: sessionmaker[Session],
    net: Network,
    body: dict[str, Any],
    field: str,
    code: str,
) -> None:
    response = client.post(
        "/api/v1/integration/subscriptions",
        json=body,
        headers=token_headers(client, "wh-distributor"),
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == code
    assert [e["field"] for e in problem["errors"]] == [field]
    with system_unit_of_work(factory) as session:
        assert session.scalar(select(func.count()).select_from(WebhookSubscription)) == 0


def test_private_addresses_are_refused_unless_allowed() -> None:
    from medledger.core.errors import ValidationFailed
    from medledger.integration.service import check_url

    for url in (
        "http://127.0.0.1/x",
        "http://localhost:8000/x",
        "https://10.1.2.3/x",
        "http://[::1]/x",
        "http://169.254.169.254/latest",
    ):
        with pytest.raises(ValidationFailed):
            check_url(url, allow_private_networks=False)
        assert check_url(url, allow_private_networks=True) == url
    assert check_url("https://wms.example.com/hook", allow_private_networks=False)


def test_roles_without_the_permission_cannot_subscribe(
    client: TestClient, net: Network, receiver: Receiver
) -> None:
    response = client.post(
        "/api/v1/integration/subscriptions",
        json={"name": "x", "url": receiver.url, "event_types": ["shipment.despatched"]},
        headers=token_headers(client, "wh-planner"),
    )
    assert response.status_code == 403
