"""Scale-out with real processes: two ``medledger serve`` (uvicorn) and two ``medledger worker``
processes on one database; facts captured through both servers, every webhook delivered once.

Runs on both databases: on PostgreSQL the workers claim with ``SKIP LOCKED``; on SQLite the
processes share one WAL file and the claiming UPDATE is the lock (docs/integration.md).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.system import system_unit_of_work
from medledger.integration.models import Delivery
from tests.builders import PASSWORD, Network, build_network
from tests.integration.conftest import Receiver
from tests.integration.processes import free_port, medledger, terminate, wait_for_port
from tests.integration.test_webhooks import _snippet
from tests.trace.epcis_scenario import capture, document, sgtin_urn, ship

CAPTURES = 24


@pytest.fixture
def net(factory: sessionmaker[Session]) -> Network:
    return build_network(factory, "so")


@pytest.fixture
def environment(engine: Engine) -> dict[str, str]:
    return {
        "MEDLEDGER_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "MEDLEDGER_SECRET_KEY": "test-secret",
        "MEDLEDGER_WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true",
        "MEDLEDGER_CAPTURE_WORKERS": "0",
        "MEDLEDGER_OUTBOX_DELIVERY": "worker",
    }


@pytest.fixture
def servers(environment: dict[str, str], tmp_path: Path) -> Iterator[list[str]]:
    ports = [free_port(), free_port()]
    processes = [
        medledger(
            ["serve", "--host", "127.0.0.1", "--port", str(port)],
            environment,
            tmp_path / f"serve-{port}.log",
        )
        for port in ports
    ]
    try:
        for port, process in zip(ports, processes, strict=True):
            wait_for_port(port, process, timeout=120)
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for process in processes:
            terminate(process)


def _token(base_url: str, username: str) -> dict[str, str]:
    response = httpx.post(
        f"{base_url}/api/v1/auth/token",
        data={"username": username, "password": PASSWORD},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _delivered(factory: sessionmaker[Session]) -> Counter[str]:
    with system_unit_of_work(factory) as session:
        return Counter(session.scalars(select(Delivery.state)))


def test_two_servers_and_two_workers_deliver_every_webhook_once(
    factory: sessionmaker[Session],
    net: Network,
    receiver: Receiver,
    servers: list[str],
    environment: dict[str, str],
    tmp_path: Path,
) -> None:
    first, second = servers
    # Given the distributor subscribed through one server and the hub through the other
    secrets = []
    for base_url, username in ((first, "so-distributor"), (second, "so-admin")):
        response = httpx.post(
            f"{base_url}/api/v1/integration/subscriptions",
            json={"name": username, "url": receiver.url, "event_types": ["shipment.despatched"]},
            headers=_token(base_url, username),
            timeout=30,
        )
        assert response.status_code == 201, response.text
        secrets.append(response.json()["secret"])
    # And two worker processes running
    workers = [
        medledger(["worker", "--threads", "2"], environment, tmp_path / f"worker-{i}.log")
        for i in range(2)
    ]
    try:
        # When shipments are captured through both servers, alternately
        with httpx.Client(timeout=60) as http:
            hub = [_token(first, "so-warehouse"), _token(second, "so-warehouse")]
            for n in range(CAPTURES):
                base_url = servers[n % 2]
                doc = document(ship(n + 1, sgtin_urn("04098760000206", f"S{n}"), f"PO{n}"))
                job = capture(_Prefixed(http, base_url), hub[n % 2], doc)  # type: ignore[arg-type]
                assert job["state"] == "succeeded", job["errors"]
        # Then the workers deliver every webhook (one per capture and subscription)
        deadline = time.monotonic() + 180
        while _delivered(factory) != Counter({"delivered": 2 * CAPTURES}):
            assert time.monotonic() < deadline, _delivered(factory)
            assert all(w.poll() is None for w in workers), "a worker exited"
            time.sleep(0.2)
    finally:
        codes = [terminate(w) for w in workers]
    assert codes == [0, 0]  # SIGTERM stops a worker cleanly
    # Exactly once: each message reached each subscription once, signed with its secret
    verify = _snippet()["verify_webhook"]
    seen: Counter[tuple[str, str]] = Counter()
    for request in receiver.requests:
        [secret] = [s for s in secrets if verify(s, request.headers, request.body)]
        seen[(secret, request.headers["MedLedger-Message-Id"])] += 1
    assert len(receiver.requests) == 2 * CAPTURES
    assert set(seen.values()) == {1}
    assert Counter(secret for secret, _ in seen) == Counter(
        {secrets[0]: CAPTURES, secrets[1]: CAPTURES}
    )
    subjects = sorted(request.json["subject"] for request in receiver.requests)  # type: ignore[type-var]
    assert len(set(subjects)) == CAPTURES


class _Prefixed:
    """An ``httpx.Client`` seen through a base URL, shaped like the TestClient helpers use."""

    def __init__(self, client: httpx.Client, base_url: str) -> None:
        self.client, self.base_url = client, base_url

    def post(self, path: str, **kwargs: object) -> httpx.Response:
        return self.client.post(self.base_url + path, **kwargs)  # type: ignore[arg-type]
