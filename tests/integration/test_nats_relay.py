"""The outbox relayed to NATS JetStream (a real nats-server started here) and delivered from it
by the subscriber to a real HTTP receiver on loopback."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import nats
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from medledger.cli import app as cli_app
from medledger.core.config import get_settings
from medledger.core.db import utcnow
from medledger.core.system import system_unit_of_work
from medledger.integration import service
from medledger.integration.models import Delivery
from medledger.integration.nats_relay import (
    NatsConfig,
    deliver_available,
    handed_over_count,
    relay_available,
    relay_forever,
)
from medledger.integration.outbox import publish
from medledger.integration.worker import WorkerConfig
from tests.builders import Network, build_network, token_headers
from tests.integration.conftest import Receiver
from tests.integration.processes import NatsServer, medledger, terminate
from tests.integration.test_webhooks import _snippet, _subscribe


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "jetstream")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def net(factory: sessionmaker[Session]) -> Network:
    return build_network(factory, "nr")


def _nats(server: NatsServer, **overrides: Any) -> NatsConfig:
    # ack_wait as the killed subscriber's process had it (the durable consumer keeps its own)
    return NatsConfig(
        url=server.url,
        retry_base_seconds=0.1,
        retry_cap_seconds=0.5,
        ack_wait_seconds=2,
        **overrides,
    )


CONFIG = WorkerConfig(batch_size=25, backoff_base_seconds=10, max_attempts=4)


def _publish(factory: sessionmaker[Session], net: Network, n: int, start: int = 0) -> list[str]:
    with system_unit_of_work(factory) as session:
        ids = []
        for i in range(start, start + n):
            message = publish(
                session,
                tenant_id=net.tenant_id,
                event_type="shipment.despatched",
                subject=f"m{i}",
                payload={"n": i},
                audience=[net.distributor_id],
            )
            assert message is not None
            ids.append(message.message_id)
    return ids


def _relay(factory: sessionmaker[Session], server: NatsServer, **kwargs: Any) -> int:
    return asyncio.run(
        relay_available(
            factory, relay="relay:test", config=CONFIG, nats_config=_nats(server), **kwargs
        )
    )


def _deliver(
    factory: sessionmaker[Session], server: NatsServer, config: WorkerConfig = CONFIG
) -> dict[str, int]:
    return asyncio.run(
        deliver_available(
            factory, config=config, nats_config=_nats(server), concurrency=3, idle_seconds=0.5
        )
    )


def _stream(server: NatsServer) -> tuple[int, list[str]]:
    """Messages in the stream, and its subjects."""

    async def read() -> tuple[int, list[str]]:
        nc = await nats.connect(server.url)
        try:
            info = await nc.jetstream().stream_info("MEDLEDGER_OUTBOX", subjects_filter=">")
            return info.state.messages, sorted((info.state.subjects or {}).keys())
        finally:
            await nc.close()

    return asyncio.run(read())


def _states(factory: sessionmaker[Session]) -> Counter[tuple[str, int]]:
    with system_unit_of_work(factory) as session:
        return Counter(
            (state, attempts)
            for state, attempts in session.execute(select(Delivery.state, Delivery.attempts))
        )


def _wait_until(condition: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.1)


def test_relayed_messages_are_delivered_once_per_subscription(
    client: TestClient,
    factory: sessionmaker[Session],
    net: Network,
    receiver: Receiver,
    nats_server: NatsServer,
) -> None:
    # Given the distributor and the hub both subscribed to shipments, and 30 facts published
    distributor = _subscribe(
        client, token_headers(client, "nr-distributor"), receiver.url, "shipment.despatched"
    )
    hub = _subscribe(client, token_headers(client, "nr-admin"), receiver.url, "shipment.despatched")
    ids = _publish(factory, net, 30)
    # When the relay runs: every delivery is handed over once, under its own key
    assert _relay(factory, nats_server) == 60
    assert handed_over_count(factory) == 60
    assert _relay(factory, nats_server) == 0  # nothing is handed over twice
    assert _stream(nats_server) == (60, [f"medledger.outbox.{net.tenant_id}.shipment.despatched"])
    assert receiver.requests == []  # the relay itself sends nothing
    # And the subscriber delivers
    assert _deliver(factory, nats_server) == {"delivered": 60}
    assert _states(factory) == Counter({("delivered", 1): 60})
    assert handed_over_count(factory) == 0
    # Then each subscription received each message exactly once, signed with its own secret
    verify = _snippet()["verify_webhook"]
    per_secret: Counter[tuple[str, str]] = Counter()
    for request in receiver.requests:
        [secret] = [
            s["secret"]
            for s in (distributor, hub)
            if verify(s["secret"], request.headers, request.body)
        ]
        assert request.json["id"] == request.headers["MedLedger-Message-Id"]
        per_secret[(secret, request.headers["MedLedger-Message-Id"])] += 1
    assert per_secret == Counter({(s["secret"], i): 1 for s in (distributor, hub) for i in ids})
    # And a second subscriber run finds nothing more
    assert _deliver(factory, nats_server) == {}


def test_a_relay_that_died_before_marking_is_deduplicated_by_jetstream(
    client: TestClient,
    factory: sessionmaker[Session],
    net: Network,
    receiver: Receiver,
    nats_server: NatsServer,
) -> None:
    _subscribe(client, token_headers(client, "nr-distributor"), receiver.url, "shipment.despatched")
    ids = _publish(factory, net, 10)
    assert _relay(factory, nats_server) == 10
    # Given a relay that published but died before marking the handover (its lease over)
    with system_unit_of_work(factory) as session:
        session.execute(
            update(Delivery).values(
                claimed_by="relay:dead", claimed_until=utcnow() - timedelta(seconds=1)
            )
        )
    # When another relay publishes the same attempts again
    assert _relay(factory, nats_server) == 10
    # Then JetStream kept one copy of each, and each is delivered once
    assert _stream(nats_server)[0] == 10
    assert _deliver(factory, nats_server) == {"delivered": 10}
    assert sorted(r.headers["MedLedger-Message-Id"] for r in receiver.requests) == sorted(ids)


def test_failures_follow_the_workers_backoff_and_dead_letter_rules(
    client: TestClient,
    factory: sessionmaker[Session],
    net: Network,
    receiver: Receiver,
    nats_server: NatsServer,
) -> None:
    receiver.always_fail = True
    _subscribe(client, token_headers(client, "nr-distributor"), receiver.url, "shipment.despatched")
    [message_id] = _publish(factory, net, 1)
    config = WorkerConfig(max_attempts=2, backoff_base_seconds=10)
    # First attempt through NATS fails: retrying, not handed over again before it is due
    assert _relay(factory, nats_server) == 1
    assert _deliver(factory, nats_server, config) == {"retrying": 1}
    with system_unit_of_work(factory) as session:
        delivery = session.scalars(select(Delivery)).one()
        assert (delivery.state, delivery.attempts, delivery.last_status, delivery.claimed_by) == (
            "retrying",
            1,
            500,
            None,
        )
        due = delivery.next_attempt_at
    assert 5 <= (due - delivery.last_attempt_at).total_seconds() <= 10
    assert _relay(factory, nats_server) == 0
    # When it is due, the relay hands it over under a new key; the second failure is the last
    assert _relay(factory, nats_server, clock=lambda: due) == 1
    assert _deliver(factory, nats_server, config) == {"dead": 1}
    assert _states(factory) == Counter({("dead", 2): 1})
    # A replay queues it again; the relay and the subscriber deliver it
    receiver.always_fail = False
    with system_unit_of_work(factory) as session:
        assert len(service.replay_dead(session, net.tenant_id)) == 1
    assert _relay(factory, nats_server, clock=lambda: utcnow() + timedelta(seconds=1)) == 1
    assert _deliver(factory, nats_server, config) == {"delivered": 1}
    assert _states(factory) == Counter({("delivered", 1): 1})
    assert [r.headers["MedLedger-Message-Id"] for r in receiver.requests] == [message_id] * 3
    assert _stream(nats_server)[0] == 3


def test_a_subscriber_killed_mid_batch_is_redelivered_and_applied_once(
    client: TestClient,
    engine: Engine,
    factory: sessionmaker[Session],
    net: Network,
    receiver: Receiver,
    nats_server: NatsServer,
    tmp_path: Path,
) -> None:
    created = _subscribe(
        client, token_headers(client, "nr-distributor"), receiver.url, "shipment.despatched"
    )
    ids = _publish(factory, net, 12)
    assert _relay(factory, nats_server) == 12
    # Given a subscriber process that took a batch and hangs on its fourth POST
    receiver.hold_after = 3
    env = {
        "MEDLEDGER_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "MEDLEDGER_OUTBOX_DELIVERY": "nats",
        "MEDLEDGER_NATS_URL": nats_server.url,
        "MEDLEDGER_NATS_ACK_WAIT_SECONDS": "2",
        "MEDLEDGER_WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
    }
    subscriber = medledger(
        ["outbox", "deliver-from-nats", "--concurrency", "1", "--batch", "12"],
        env,
        tmp_path / "subscriber.log",
    )
    try:
        _wait_until(lambda: len(receiver.requests) == 4)
        # When it is killed before it records (or acknowledges) that delivery
        subscriber.kill()
        subscriber.wait()
    finally:
        terminate(subscriber)
        receiver.release()
    assert _states(factory) == Counter({("delivered", 1): 3, ("pending", 0): 9})
    # Then NATS redelivers what it had not acknowledged, and another subscriber delivers it
    time.sleep(2.5)  # past ack_wait
    counts = _deliver(factory, nats_server, CONFIG)
    assert counts == {"delivered": 9}
    assert _states(factory) == Counter({("delivered", 1): 12})
    # The receiver got the interrupted message twice, and, applying ids once, each fact once
    received = [r.headers["MedLedger-Message-Id"] for r in receiver.requests]
    assert len(received) == 13
    assert sorted(set(received)) == sorted(ids)
    assert [i for i, n in Counter(received).items() if n == 2] == [received[3]]
    snippet = _snippet()
    seen: set[str] = set()
    effects: list[str] = []
    for request in receiver.requests:
        assert snippet["verify_webhook"](created["secret"], request.headers, request.body)
        snippet["handle_once"](
            seen, request.headers, lambda r=request: effects.append(r.json["subject"])
        )
    assert sorted(effects) == sorted(f"m{i}" for i in range(12))


def test_while_nats_is_down_the_relay_retries_and_nothing_is_lost(
    client: TestClient,
    factory: sessionmaker[Session],
    net: Network,
    receiver: Receiver,
    nats_server: NatsServer,
) -> None:
    _subscribe(client, token_headers(client, "nr-distributor"), receiver.url, "shipment.despatched")
    first = _publish(factory, net, 5)
    errors: list[BaseException] = []
    stop_relay = threading.Event()

    def run_relay() -> None:
        async def main() -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(
                relay_forever(
                    factory,
                    relay="relay:test",
                    config=WorkerConfig(poll_interval_seconds=0.1),
                    nats_config=_nats(nats_server),
                    stop=stop,
                    on_error=errors.append,
                )
            )
            await asyncio.to_thread(stop_relay.wait)
            stop.set()
            await task

        asyncio.run(main())

    relay_thread = threading.Thread(target=run_relay)
    relay_thread.start()
    try:
        # Given the relay handed the first facts over
        _wait_until(lambda: handed_over_count(factory) == 5)
        # When NATS goes down and more facts are published
        nats_server.stop()
        second = _publish(factory, net, 7, start=5)
        _wait_until(lambda: len(errors) >= 2)
        # Then they wait in the database, due, and nothing was marked handed over
        assert handed_over_count(factory) == 5
        assert _states(factory) == Counter({("pending", 0): 12})
        # And when NATS is back (same store), the relay hands them over
        nats_server.start()
        _wait_until(lambda: handed_over_count(factory) == 12)
    finally:
        stop_relay.set()
        relay_thread.join(timeout=30)
    assert not relay_thread.is_alive()
    # And the subscriber delivers all of them, each once
    assert _deliver(factory, nats_server) == {"delivered": 12}
    assert sorted(r.headers["MedLedger-Message-Id"] for r in receiver.requests) == sorted(
        first + second
    )


@pytest.fixture
def nats_mode(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MEDLEDGER_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("MEDLEDGER_OUTBOX_DELIVERY", "nats")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_one_deployment_delivers_one_way(nats_mode: None) -> None:
    runner = CliRunner()
    worker = runner.invoke(cli_app, ["worker", "--once"])
    assert worker.exit_code == 2
    assert "MEDLEDGER_OUTBOX_DELIVERY is 'nats'" in worker.output
    get_settings.cache_clear()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEDLEDGER_OUTBOX_DELIVERY", "worker")
        get_settings.cache_clear()
        relay = runner.invoke(cli_app, ["outbox", "relay", "--once"])
        assert relay.exit_code == 2
        assert "run `medledger worker`" in relay.output
        get_settings.cache_clear()


def test_the_cli_relays_and_delivers(
    client: TestClient,
    factory: sessionmaker[Session],
    net: Network,
    receiver: Receiver,
    nats_server: NatsServer,
    nats_mode: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEDLEDGER_NATS_URL", nats_server.url)
    monkeypatch.setenv("MEDLEDGER_WEBHOOK_ALLOW_PRIVATE_NETWORKS", "true")
    get_settings.cache_clear()
    _subscribe(client, token_headers(client, "nr-distributor"), receiver.url, "shipment.despatched")
    _publish(factory, net, 3)
    runner = CliRunner()
    relayed = runner.invoke(cli_app, ["outbox", "relay", "--once"])
    assert (relayed.exit_code, relayed.output.strip()) == (0, "3 deliveries handed over")
    delivered = runner.invoke(cli_app, ["outbox", "deliver-from-nats", "--once"])
    assert (delivered.exit_code, delivered.output.strip()) == (0, "3 delivered")
    assert len(receiver.requests) == 3
    nats_server.stop()
    down = runner.invoke(cli_app, ["outbox", "relay", "--once"])
    assert down.exit_code == 1
    assert f"NATS at {nats_server.url}" in down.output
