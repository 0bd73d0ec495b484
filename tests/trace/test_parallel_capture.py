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
import time
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
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
from tests.trace.test_projection_batches import ledger

from medledger.core.system import system_unit_of_work
from medledger.trace.epcis import parallel
from medledger.trace.epcis.document import locate_events
from medledger.trace.epcis.validation import fast_skeleton_valid
from medledger.trace.ledger.capture import _check_and_normalise, error_entry
from medledger.trace.models import EpcisEvent


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
    monkeypatch.setattr(parallel, "SLICE_EVENTS", 1)


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


def _as_one_slice(doc: Any) -> list[Any] | None:
    """What the parallel path's checks give for the whole event list as one slice (what
    every slice runs, here or in a worker), after its document-level check; None when
    they reject it or the path does not apply."""
    if not isinstance(doc, dict) or not fast_skeleton_valid(doc):
        return None
    raw = (doc.get("epcisBody") or {}).get("eventList")
    located = locate_events(doc)
    if not isinstance(raw, list) or len(raw) != len(located):
        return None
    return parallel._normalise_slice(raw, [item.event for item in located])


@pytest.mark.usefixtures("parallel_path")
@pytest.mark.parametrize("path", VALID, ids=[p.name for p in VALID])
def test_a_valid_openepcis_document_gives_the_serial_result(path: Path) -> None:
    doc = _load(path)
    serial = _serial(doc)
    located = locate_events(doc)
    checked = parallel.prepare_document(doc, located)
    if serial is None:
        assert checked is None  # the one schema-invalid "valid" document (see that module)
        assert _as_one_slice(doc) is None
    elif "queryResults" in json.dumps(doc.get("epcisBody", {})):
        assert checked is None  # query-result documents are checked serially
    else:
        assert _as_one_slice(doc) == serial
        # One event per slice: the worker checks every event but the first.
        assert checked == (serial if len(located) > 1 else None)


@pytest.mark.usefixtures("parallel_path")
@pytest.mark.parametrize("path", INVALID, ids=[p.name for p in INVALID])
def test_an_invalid_openepcis_document_is_never_accepted(path: Path) -> None:
    doc = _load(path)
    assert _serial(doc) is None
    located = locate_events(doc) if isinstance(doc, dict) else []
    assert parallel.prepare_document(doc, located) is None
    assert _as_one_slice(doc) is None


@pytest.mark.usefixtures("parallel_path")
@pytest.mark.parametrize("here", [False, True], ids=["worker-slices", "taken-over-slices"])
def test_a_generated_document_gives_the_serial_events_in_order(
    monkeypatch: pytest.MonkeyPatch, here: bool
) -> None:
    # 180 one-event slices: the worker checks all but the first, or the capturing
    # process takes over every slice the worker has not started when it gets to one.
    monkeypatch.setattr(parallel.ParallelRun, "_worth_checking_here", lambda self, index: here)
    doc = _network_document(30)
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


def test_capture_through_the_api_stores_the_same_ledger_either_way(
    client: TestClient,
    factory: sessionmaker[Session],
    parallel_path: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a = build_network(factory, "par")
    b = build_network(factory, "ser")  # the same GLNs: they are unique per tenant
    doc = _network_document(12)

    job = capture(client, token_headers(client, "par-warehouse"), doc)
    monkeypatch.setattr(parallel, "MIN_EVENTS", 10**9)  # the serial path, for the other tenant
    serial_job = capture(client, token_headers(client, "ser-warehouse"), doc)

    assert (job["state"], job["capturedCount"]) == ("succeeded", 72)
    assert (serial_job["state"], serial_job["capturedCount"]) == ("succeeded", 72)
    assert ledger(factory, a) == ledger(factory, b)  # every projection row


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
    entries = [error_entry(error) for error in serial_errors]
    assert [{k: e[k] for k in entries[0]} for e in job["errors"]] == entries


@pytest.mark.parametrize(("behaviour", "stored"), [("rollback", 0), ("proceed", 59)])
def test_an_invalid_event_among_the_workers_leaves_nothing_of_the_checked_slice(
    client: TestClient,
    factory: sessionmaker[Session],
    parallel_path: None,
    monkeypatch: pytest.MonkeyPatch,
    behaviour: str,
    stored: int,
) -> None:
    # The capturing process inserts each slice's events while later slices are checked; the
    # invalid event of the 7th slice must roll the first six back before the serial path
    # decides.
    network = build_network(factory, "late")
    hub = token_headers(client, "late-warehouse")
    doc = _network_document(10)
    monkeypatch.setattr(parallel, "SLICE_EVENTS", 8)
    assert parallel._slices(60)[:7] == [(n, n + 8) for n in range(0, 56, 8)]  # 55 in the 7th
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
    with pytest.raises(BrokenProcessPool):  # what the pool says once it has noticed
        pool.submit(parallel._ready, 0).result()

    first = capture(client, hub, _network_document(3))  # 18 one-event slices
    assert (first["state"], first["capturedCount"]) == ("succeeded", 18)
    assert parallel._get_pool() is not pool  # the broken pool was discarded

    second = capture(client, hub, document(commission(), transform(), pack()))
    assert (second["state"], second["capturedCount"]) == ("succeeded", 3)
    assert parallel.prepare() == 1


def test_a_worker_dying_with_a_slice_ends_the_parallel_run(parallel_path: None) -> None:
    doc = _network_document(1)
    pool = parallel._get_pool()
    assert pool is not None
    pid = pool.submit(parallel._ready, 0).result()
    blocker = pool.submit(time.sleep, 30)  # the worker is busy, the next slice queued to it
    run = parallel.start(doc, locate_events(doc))
    assert run is not None
    while not run._futures[1].running():  # handed to the worker: no longer ours to take
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)

    slices = run.slices()
    first = next(slices)
    assert first is not None and [e.event_id for e in first] == [
        e.event_id for e in (_serial(doc) or [])[:1]
    ]
    assert next(slices) is None  # the worker's slice failed: the caller goes serial
    assert list(slices) == []
    assert blocker.exception() is not None
    assert parallel._get_pool() is not pool
    assert parallel.prepare() == 1
