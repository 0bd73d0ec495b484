"""The integrations page (subscribe, see deliveries, replay) and the worker/outbox commands."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from medledger.cli import app
from medledger.core.config import get_settings
from medledger.core.system import system_unit_of_work
from medledger.integration.models import Delivery, WebhookSubscription
from medledger.integration.worker import WorkerConfig, run_once
from tests.builders import build_network, token_headers
from tests.integration.conftest import Receiver
from tests.trace.epcis_scenario import capture, document, sgtin_urn, ship
from tests.web.browsing import csrf, log_in

runner = CliRunner()


@pytest.fixture
def configured(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("MEDLEDGER_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("MEDLEDGER_WEBHOOK_MAX_ATTEMPTS", "1")
    get_settings.cache_clear()
    yield engine
    get_settings.cache_clear()


def test_a_partner_subscribes_on_the_page_and_replays_a_dead_delivery(
    client: TestClient, factory: sessionmaker[Session], receiver: Receiver
) -> None:
    build_network(factory, "pg")
    log_in(client, "pg-distributor")
    page = client.get("/integration")
    assert page.status_code == 200
    assert "No subscription yet" in page.text
    # Subscribe through the form: the secret is shown once
    created = client.post(
        "/integration/subscriptions",
        data={
            "csrf_token": csrf(client, "/integration"),
            "name": "our WMS",
            "url": receiver.url,
            "event_types": "shipment.despatched",
        },
    )
    assert created.status_code == 201, created.text
    secret = re.search(r"(whsec_[A-Za-z0-9_-]+)", created.text)
    assert secret is not None
    with system_unit_of_work(factory) as session:
        stored = session.scalars(select(WebhookSubscription)).one()
        assert (stored.name, stored.event_types, stored.secret) == (
            "our WMS",
            ["shipment.despatched"],
            secret.group(1),
        )
    assert secret.group(1) not in client.get("/integration").text
    # A shipment to the distributor fails to deliver once and is dead
    receiver.always_fail = True
    hub = token_headers(client, "pg-warehouse")
    job = capture(client, hub, document(ship(5, sgtin_urn("04098760000206", "S5"), "PO5")))
    assert job["state"] == "succeeded"
    with httpx.Client() as http:
        assert run_once(factory, worker="w", client=http, config=WorkerConfig(max_attempts=1)) == {
            "dead": 1
        }
    with system_unit_of_work(factory) as session:
        delivery_id = session.scalars(select(Delivery.id)).one()
    dead_page = client.get("/integration/deliveries?state=dead")
    assert f'name="ids" value="{delivery_id}"' in dead_page.text
    assert "HTTP 500" in dead_page.text
    assert "HTTP 500" not in client.get("/integration/deliveries?state=delivered").text
    replay = client.post(
        "/integration/deliveries?state=dead",
        data={
            "csrf_token": csrf(client, "/integration/deliveries"),
            "action": "replay",
            "ids": str(delivery_id),
        },
        follow_redirects=False,
    )
    assert replay.status_code == 303
    with system_unit_of_work(factory) as session:
        assert session.scalars(select(Delivery.state)).one() == "pending"


def test_a_bad_url_is_shown_at_the_field_and_nothing_is_stored(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    build_network(factory, "pb")
    log_in(client, "pb-distributor")
    page = client.post(
        "/integration/subscriptions",
        data={
            "csrf_token": csrf(client, "/integration"),
            "name": "x",
            "url": "ftp://example.com/in",
            "event_types": "shipment.despatched",
        },
    )
    assert page.status_code == 422
    assert "Give an http or https URL with a host name." in page.text
    with system_unit_of_work(factory) as session:
        assert session.scalars(select(WebhookSubscription)).all() == []


def test_planners_do_not_see_the_page(client: TestClient, factory: sessionmaker[Session]) -> None:
    build_network(factory, "pp")
    log_in(client, "pp-planner")
    assert client.get("/integration").status_code == 403


def test_worker_once_and_outbox_replay_from_the_command_line(
    configured: Engine, client: TestClient, factory: sessionmaker[Session], receiver: Receiver
) -> None:
    build_network(factory, "pc")
    response = client.post(
        "/api/v1/integration/subscriptions",
        json={"name": "wms", "url": receiver.url, "event_types": ["shipment.despatched"]},
        headers=token_headers(client, "pc-distributor"),
    )
    assert response.status_code == 201
    job = capture(
        client,
        token_headers(client, "pc-warehouse"),
        document(ship(5, sgtin_urn("04098760000206", "S5"), "PO5")),
    )
    assert job["state"] == "succeeded"
    receiver.always_fail = True
    result = runner.invoke(app, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "1 dead"
    status = runner.invoke(app, ["outbox", "status"])
    assert status.output.strip().endswith("1 dead")
    replay = runner.invoke(app, ["outbox", "replay", "--dead"])
    assert replay.exit_code == 0, replay.output
    assert replay.output.strip() == "1 deliveries queued again"
    receiver.always_fail = False
    delivered = runner.invoke(app, ["worker", "--once"])
    assert delivered.output.strip() == "1 delivered"
    assert len(receiver.requests) == 2
    nothing = runner.invoke(app, ["outbox", "replay", "--delivery", "999"])
    assert nothing.exit_code == 2
    assert "not_found" in nothing.output
