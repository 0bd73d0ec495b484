"""Projections other contexts register with the ledger run in the capture transaction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.builders import build_network, token_headers
from tests.trace.epcis_scenario import capture, commission, declare_error, document, event_id

from medledger.core.system import system_unit_of_work
from medledger.trace.ledger.registry import (
    LedgerChange,
    register_projection,
    registered_projections,
    unregister_projection,
)
from medledger.trace.models import EpcisEvent


class Recorder:
    """Records what each capture hands it: (eventIDs, retracted row ids)."""

    name = "test.recorder"

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[list[str], list[int], int]] = []
        self.fail = fail

    def apply(self, change: LedgerChange) -> None:
        stored = change.session.scalar(
            select(func.count())
            .select_from(EpcisEvent)
            .where(EpcisEvent.tenant_id == change.tenant_id)
        )
        self.calls.append(
            (
                [e.event.event_id for e in change.events],
                list(change.retracted_event_row_ids),
                int(stored or 0),
            )
        )
        if self.fail:
            raise RuntimeError("projection failed")


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    recorder = Recorder()
    register_projection(recorder)
    yield recorder
    unregister_projection(Recorder.name)


def _row_id(factory: sessionmaker[Session], eventid: str) -> int:
    with system_unit_of_work(factory) as session:
        return int(
            session.scalars(select(EpcisEvent.id).where(EpcisEvent.event_id == eventid)).one()
        )


def test_a_registered_projection_sees_each_capture_and_its_retractions(
    client: TestClient, factory: sessionmaker[Session], recorder: Recorder
) -> None:
    # Given a network and a registered projection
    build_network(factory, "rg")
    hub = token_headers(client, "rg-warehouse")
    # When an event is captured, then declared erroneous
    assert capture(client, hub, document(commission()))["state"] == "succeeded"
    original_row = _row_id(factory, event_id(1))
    assert capture(client, hub, document(declare_error(commission())))["state"] == "succeeded"
    # Then the projection ran once per capture, inside it (the rows are already there), with
    # the events stored and the row id the declaration retracted
    assert recorder.calls == [
        ([event_id(1)], [], 1),
        ([event_id(1)], [original_row], 2),
    ]


def test_a_failing_projection_rolls_the_capture_back(
    app: Any, factory: sessionmaker[Session]
) -> None:
    build_network(factory, "rf")
    register_projection(Recorder(fail=True))
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            hub = token_headers(client, "rf-warehouse")
            response = client.post("/epcis/capture", json=document(commission()), headers=hub)
    finally:
        unregister_projection(Recorder.name)
    assert response.status_code == 500
    with system_unit_of_work(factory) as session:
        assert session.scalar(select(func.count()).select_from(EpcisEvent)) == 0


def test_registering_twice_replaces() -> None:
    before = registered_projections()
    first, second = Recorder(), Recorder()
    register_projection(first)
    register_projection(second)
    try:
        assert registered_projections() == (*before, second)
    finally:
        unregister_projection(Recorder.name)
    assert registered_projections() == before
