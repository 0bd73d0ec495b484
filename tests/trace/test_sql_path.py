"""Traces before the snapshot is loaded: the recursive SQL path answers exactly as the
in-memory snapshot does, and a server answers traces while its snapshots load in the
background (docs/trace.md, "Memory and start")."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from tests.builders import token_headers
from tests.trace.epcis_scenario import sscc_number
from tests.trace.test_trace_e2e import COMPONENT, FINISHED, build

from medledger.core.config import Settings
from medledger.trace.snapshot import SNAPSHOTS

P1, P2 = sscc_number(1), sscc_number(2)
IDENTIFIERS = [
    f"(01){COMPONENT}(10)C1",
    f"(01){COMPONENT}(10)C2",
    f"(01){FINISHED}(10)F1",
    f"(01){FINISHED}(21)S1",
    f"(01){FINISHED}(21)S2",
    f"(01){FINISHED}(21)S3",
    f"(00){P1}",
    f"(00){P2}",
]
USERS = ["acme-planner", "acme-distributor", "acme-supplier"]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    SNAPSHOTS.clear()
    SNAPSHOTS.loading_gate = None
    yield
    if SNAPSHOTS.loading_gate is not None:
        SNAPSHOTS.loading_gate.set()
    SNAPSHOTS.wait_loaded()
    SNAPSHOTS.loading_gate = None
    SNAPSHOTS.clear()


def answers(client: TestClient) -> dict[tuple[str, str, str, str], Any]:
    """Every user's answer (status, JSON or CSV) for every identifier and direction."""
    found: dict[tuple[str, str, str, str], Any] = {}
    for user in USERS:
        headers = token_headers(client, user)
        for identifier in IDENTIFIERS:
            for direction in ("upstream", "downstream", "both"):
                for form in ("json", "csv"):
                    response = client.get(
                        "/api/v1/trace",
                        params={"id": identifier, "direction": direction, "format": form},
                        headers=headers,
                    )
                    body = response.json() if form == "json" else response.text
                    found[(user, identifier, direction, form)] = (response.status_code, body)
    return found


def test_the_sql_path_answers_exactly_as_the_snapshot(
    client: TestClient, factory: sessionmaker[Session], engine: Engine
) -> None:
    # given the captured network (packing, unpacking, transformations, a retracted shipment)
    build(client, factory)
    # when every user traces every item both ways: from a loaded snapshot …
    SNAPSHOTS.clear()
    from_snapshot = answers(client)
    assert SNAPSHOTS.sql_traces == 0
    # … and while the snapshot is loading (held back), so that the SQL path answers
    SNAPSHOTS.clear()
    SNAPSHOTS.loading_gate = threading.Event()
    SNAPSHOTS.start_background(engine)
    from_sql = answers(client)
    # then every answer came from SQL, and is the same
    assert not SNAPSHOTS.ready(engine, _tenant_of(factory))
    assert SNAPSHOTS.sql_traces > 0
    assert from_sql.keys() == from_snapshot.keys()
    for key, answer in from_snapshot.items():
        assert from_sql[key] == answer, key
    # and the partner rules held on both paths (404 for what the distributor never held)
    assert from_sql[("acme-distributor", f"(01){COMPONENT}(10)C1", "both", "json")][0] == 404
    assert from_sql[("acme-planner", f"(01){COMPONENT}(10)C1", "downstream", "json")][0] == 200


def test_a_server_answers_by_sql_while_its_snapshots_load(
    settings: Settings, engine: Engine, factory: sessionmaker[Session]
) -> None:
    # given a server that preloads trace snapshots, its loading held back
    from medledger.web.app import create_app

    SNAPSHOTS.loading_gate = threading.Event()
    app = create_app(settings.model_copy(update={"trace_preload": True}), engine)
    with TestClient(app) as client:
        build(client, factory)
        traced = "acme-planner", f"(01){COMPONENT}(10)C1", "downstream"
        # when a trace arrives while the snapshots are loading
        during = _one(client, *traced)
        # then it is answered, by SQL, and no snapshot was loaded for it
        assert SNAPSHOTS.sql_traces == 1
        tenant = _tenant_of(factory)
        assert not SNAPSHOTS.ready(engine, tenant)
        # when the load finishes
        SNAPSHOTS.loading_gate.set()
        SNAPSHOTS.wait_loaded()
        after = _one(client, *traced)
        # then the next trace reads the loaded snapshot, with the same answer
        assert SNAPSHOTS.ready(engine, tenant)
        snapshot = SNAPSHOTS.peek(engine, tenant)
        assert snapshot is not None and snapshot.loads == 1
        assert SNAPSHOTS.sql_traces == 1
        assert after == during
        assert [lot["lot"] for lot in after["lots"]] == ["F1"]


def _one(client: TestClient, user: str, identifier: str, direction: str) -> dict[str, Any]:
    response = client.get(
        "/api/v1/trace",
        params={"id": identifier, "direction": direction},
        headers=token_headers(client, user),
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _tenant_of(factory: sessionmaker[Session]) -> int:
    from sqlalchemy import select

    from medledger.core.system import system_unit_of_work
    from medledger.parties.models import Tenant

    with system_unit_of_work(factory) as session:
        return int(session.scalar(select(Tenant.id).where(Tenant.slug == "acme")) or 0)


def test_an_incrementally_refreshed_snapshot_answers_as_the_sql_path(
    client: TestClient, factory: sessionmaker[Session], engine: Engine
) -> None:
    # given a snapshot refreshed after every capture of the build (arcs spliced in, never
    # reloaded), a trace of each item after each capture
    def trace_everything() -> None:
        for identifier in IDENTIFIERS:
            client.get(
                "/api/v1/trace",
                params={"id": identifier, "direction": "both"},
                headers=token_headers(client, "acme-planner"),
            )

    build(client, factory, after_each_capture=trace_everything)
    snapshot = SNAPSHOTS.peek(engine, _tenant_of(factory))
    assert snapshot is not None and snapshot.loads == 1 and snapshot.refreshes >= 3
    refreshed = answers(client)
    # when the same is asked while a snapshot is loading (the SQL path)
    SNAPSHOTS.clear()
    SNAPSHOTS.loading_gate = threading.Event()
    SNAPSHOTS.start_background(engine)
    from_sql = answers(client)
    # then the answers are the same, parents and vias included
    assert SNAPSHOTS.sql_traces > 0
    for key, answer in refreshed.items():
        assert from_sql[key] == answer, key
