"""Large capture documents checked, normalised and hashed in worker processes (parallel.py).

The parallel path must give exactly what the serial path gives for a valid document, never
accept an invalid one (the serial path then reports the errors), and survive a dead worker.
``MIN_EVENTS`` is lowered so that every document takes the parallel path; one worker process
serves the whole module.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.builders import build_network, token_headers
from tests.trace.epcis_scenario import (
    CONTEXT,
    DISTRIBUTOR_GLN,
    DL,
    FINISHED_GTIN,
    HUB_GLN,
    capture,
    commission,
    document,
    pack,
    pgln_urn,
    sgln_urn,
    sgtin_urn,
    sscc_number,
    transform,
)
from tests.trace.test_openepcis_vectors import INVALID, VALID

from medledger.core.system import system_unit_of_work
from medledger.trace.capture import _check_and_normalise, error_entry
from medledger.trace.epcis import parallel
from medledger.trace.epcis.document import locate_events
from medledger.trace.models import EpcisEvent, GenealogyEdge, TraceItem


@pytest.fixture(scope="module")
def one_worker() -> Iterator[None]:
    saved = parallel._wanted
    parallel.configure(1)
    assert parallel.prepare() == 1
    yield
    parallel.configure(saved)


@pytest.fixture
def parallel_path(one_worker: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_EVENTS", 1)


def _serial(doc: dict[str, Any]) -> list[Any] | None:
    errors, normalised = _check_and_normalise(doc, locate_events(doc))
    return None if errors else [event for event, _raw in normalised]


def _load(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def _network_document(groups: int) -> dict[str, Any]:
    """Per group: 4 commissioned serials with a lot, packed into an SSCC, shipped."""
    events: list[dict[str, Any]] = []
    for g in range(groups):
        serials = [f"P{g}S{k}" for k in range(4)]
        minute = g * 6
        for k, serial in enumerate(serials):
            events.append(
                {
                    "type": "ObjectEvent",
                    "eventTime": f"2026-04-01T{minute // 60:02d}:{minute % 60:02d}:{k:02d}Z",
                    "eventTimeZoneOffset": "+08:00",
                    "action": "ADD",
                    "bizStep": "commissioning",
                    "disposition": "active",
                    "epcList": [sgtin_urn(FINISHED_GTIN, serial)],
                    "readPoint": {"id": sgln_urn(HUB_GLN)},
                    "ilmd": {"cbvmda:lotNumber": f"PL{g % 3}"},
                }
            )
        sscc = f"{DL}/00/{sscc_number(1000 + g)}"
        events.append(
            {
                "type": "AggregationEvent",
                "eventTime": f"2026-04-01T{minute // 60:02d}:{minute % 60:02d}:10Z",
                "eventTimeZoneOffset": "+08:00",
                "action": "ADD",
                "bizStep": "packing",
                "parentID": sscc,
                "childEPCs": [f"{DL}/01/{FINISHED_GTIN}/21/{s}" for s in serials],
            }
        )
        events.append(
            {
                "type": "ObjectEvent",
                "eventTime": f"2026-04-01T{minute // 60:02d}:{minute % 60:02d}:20Z",
                "eventTimeZoneOffset": "+08:00",
                "action": "OBSERVE",
                "bizStep": "shipping",
                "disposition": "in_transit",
                "epcList": [sscc],
                "sourceList": [{"type": "owning_party", "source": pgln_urn(HUB_GLN)}],
                "destinationList": [
                    {"type": "owning_party", "destination": f"{DL}/417/{DISTRIBUTOR_GLN}"}
                ],
            }
        )
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-04-01T00:00:00Z",
        "epcisBody": {"eventList": events},
    }


@pytest.mark.usefixtures("parallel_path")
@pytest.mark.parametrize("path", VALID, ids=[p.name for p in VALID])
def test_a_valid_openepcis_document_gives_the_serial_result(path: Path) -> None:
    doc = _load(path)
    serial = _serial(doc)
    checked = parallel.prepare_document(doc, locate_events(doc))
    if serial is None:
        assert checked is None  # the one schema-invalid "valid" document (see that module)
    elif "queryResults" in json.dumps(doc.get("epcisBody", {})):
        assert checked is None  # query-result documents are checked serially
    else:
        assert checked == serial


@pytest.mark.usefixtures("parallel_path")
@pytest.mark.parametrize("path", INVALID, ids=[p.name for p in INVALID])
def test_an_invalid_openepcis_document_is_never_accepted(path: Path) -> None:
    doc = _load(path)
    assert _serial(doc) is None
    located = locate_events(doc) if isinstance(doc, dict) else []
    assert parallel.prepare_document(doc, located) is None


@pytest.mark.usefixtures("parallel_path")
def test_a_generated_document_gives_the_serial_events_in_order() -> None:
    doc = _network_document(30)  # 180 events: the worker takes the second half
    serial = _serial(doc)
    assert serial is not None and len(serial) == 180

    checked = parallel.prepare_document(doc, locate_events(doc))

    assert checked == serial
    assert [event.original for event in checked] == [item.event for item in locate_events(doc)]


@pytest.mark.usefixtures("parallel_path")
def test_one_invalid_event_in_the_workers_half_sends_the_document_serial() -> None:
    doc = _network_document(10)
    doc["epcisBody"]["eventList"][55]["bizStep"] = "flying"
    assert parallel.prepare_document(doc, locate_events(doc)) is None


def _projection(factory: sessionmaker[Session], tenant_id: int) -> dict[str, Any]:
    with system_unit_of_work(factory) as session:
        events = session.execute(
            select(EpcisEvent.event_id, EpcisEvent.document)
            .where(EpcisEvent.tenant_id == tenant_id)
            .order_by(EpcisEvent.id)
        ).all()
        items = session.scalars(
            select(TraceItem.uri).where(TraceItem.tenant_id == tenant_id).order_by(TraceItem.id)
        ).all()
        edges = session.execute(
            select(GenealogyEdge.kind, GenealogyEdge.from_item_id, GenealogyEdge.to_item_id)
            .where(GenealogyEdge.tenant_id == tenant_id)
            .order_by(GenealogyEdge.id)
        ).all()
    first_item = _first_item_id(factory, tenant_id)
    return {
        "events": [(event_id, document) for event_id, document in events],
        "items": list(items),
        "edges": [(kind, a - first_item, b - first_item) for kind, a, b in edges],
    }


def _first_item_id(factory: sessionmaker[Session], tenant_id: int) -> int:
    with system_unit_of_work(factory) as session:
        return int(
            session.scalar(
                select(TraceItem.id)
                .where(TraceItem.tenant_id == tenant_id)
                .order_by(TraceItem.id)
                .limit(1)
            )
            or 0
        )


def test_capture_through_the_api_stores_the_same_ledger_either_way(
    client: TestClient,
    factory: sessionmaker[Session],
    parallel_path: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a = build_network(factory, "par", offset=0)
    b = build_network(factory, "ser", offset=100)
    doc = _network_document(12)

    job = capture(client, token_headers(client, "par-warehouse"), doc)
    monkeypatch.setattr(parallel, "MIN_EVENTS", 10**9)  # the serial path, for the other tenant
    serial_job = capture(client, token_headers(client, "ser-warehouse"), doc)

    assert (job["state"], job["capturedCount"]) == ("succeeded", 72)
    assert (serial_job["state"], serial_job["capturedCount"]) == ("succeeded", 72)
    assert _projection(factory, a.tenant_id) == _projection(factory, b.tenant_id)


def test_a_rejected_large_document_reports_exactly_the_serial_errors(
    client: TestClient, factory: sessionmaker[Session], parallel_path: None
) -> None:
    build_network(factory, "rej")
    hub = token_headers(client, "rej-warehouse")
    doc = _network_document(10)
    doc["epcisBody"]["eventList"][41]["bizStep"] = "flying"
    doc["epcisBody"]["eventList"][3]["eventTime"] = "2026-02-30T10:00:00Z"

    job = capture(client, hub, doc, behaviour="proceed")

    assert (job["state"], job["capturedCount"]) == ("failed", 58)
    assert [(e["eventIndex"], e["pointer"], e["code"]) for e in job["errors"]] == [
        (3, "/epcisBody/eventList/3/eventTime", "epcis.schema"),
        (41, "/epcisBody/eventList/41/bizStep", "epcis.unknown_biz_step"),
    ]
    serial_errors, _ = _check_and_normalise(doc, locate_events(doc))
    assert job["errors"] == [error_entry(error) for error in serial_errors]


@pytest.mark.parametrize(("behaviour", "stored"), [("rollback", 0), ("proceed", 59)])
def test_an_invalid_event_among_the_workers_leaves_nothing_of_the_checked_slice(
    client: TestClient,
    factory: sessionmaker[Session],
    parallel_path: None,
    behaviour: str,
    stored: int,
) -> None:
    # The capturing process inserts its own slice while the worker checks the rest; the
    # worker's invalid event must roll that back before the serial path decides.
    network = build_network(factory, "late")
    hub = token_headers(client, "late-warehouse")
    doc = _network_document(10)
    assert parallel._slices(60, 1)[0] == (0, 28)
    doc["epcisBody"]["eventList"][55]["bizStep"] = "flying"

    job = capture(client, hub, doc, behaviour=behaviour)

    assert (job["state"], job["capturedCount"]) == ("failed", stored)
    assert [(e["eventIndex"], e["code"]) for e in job["errors"]] == [(55, "epcis.unknown_biz_step")]
    with system_unit_of_work(factory) as session:
        rows = session.scalars(
            select(EpcisEvent.document)
            .where(EpcisEvent.tenant_id == network.tenant_id)
            .order_by(EpcisEvent.id)
        ).all()
    expected = [e for n, e in enumerate(doc["epcisBody"]["eventList"]) if n != 55][:stored]
    assert [row["eventTime"] for row in rows] == [e["eventTime"] for e in expected]


def test_a_dead_worker_costs_one_serial_capture_and_is_replaced(
    client: TestClient, factory: sessionmaker[Session], parallel_path: None
) -> None:
    build_network(factory, "dead")
    hub = token_headers(client, "dead-warehouse")
    pool = parallel._get_pool()
    assert pool is not None
    pid = pool.submit(parallel._ready, 0).result()
    os.kill(pid, signal.SIGKILL)

    first = capture(client, hub, document(commission(), transform(), pack()))
    assert (first["state"], first["capturedCount"]) == ("succeeded", 3)
    assert parallel._get_pool() is not pool  # the broken pool was discarded

    second = capture(client, hub, _network_document(3))
    assert (second["state"], second["capturedCount"]) == ("succeeded", 18)
    assert parallel.prepare() == 1
