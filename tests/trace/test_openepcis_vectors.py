"""The whole OpenEPCIS capture set through the HTTP API (tests/vectors/epcis, see SOURCES.md).

Valid documents are accepted and every event is stored; invalid ones are rejected whole with
exactly the errors the pure validation engine gives. ``SensorData_with_combined_events.json``
sits among the valid documents but fails the ratified 2.0.1 schema (a sensorReport without
``type``, as SOURCES.md records), so it is expected to be rejected with ``epcis.schema``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.builders import build_network, token_headers

from medledger.core.system import system_unit_of_work
from medledger.trace.epcis.document import locate_events
from medledger.trace.epcis.validation import validate_document
from medledger.trace.ledger.capture import error_entry
from medledger.trace.models import EpcisEvent

ROOT = Path(__file__).parents[1] / "vectors/epcis/openepcis-test-resources/2.0/EPCIS/JSON/Capture"
VALID = sorted((ROOT / "Documents").glob("*.json"))
EVENTS = sorted((ROOT / "Events").glob("*.json"))
INVALID = sorted((ROOT / "Invalid").glob("*.json"))
SCHEMA_INVALID_AMONG_VALID = {"SensorData_with_combined_events.json"}


def _load(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def _stored_count(factory) -> int:  # type: ignore[no-untyped-def]
    with system_unit_of_work(factory) as session:
        return int(session.scalar(select(func.count()).select_from(EpcisEvent)) or 0)


def test_the_vector_set_is_complete() -> None:
    assert (len(VALID), len(EVENTS), len(INVALID)) == (38, 5, 15)


@pytest.mark.parametrize("path", VALID, ids=[p.name for p in VALID])
def test_valid_document_is_accepted_and_stored(path: Path, client: TestClient, factory) -> None:  # type: ignore[no-untyped-def]
    build_network(factory, "vec")
    headers = token_headers(client, "vec-warehouse")
    document = _load(path)
    count = len(locate_events(document))

    response = client.post(
        "/epcis/capture", json=document, headers={**headers, "Content-Type": "application/ld+json"}
    )

    assert response.status_code == 202
    job = response.json()
    if path.name in SCHEMA_INVALID_AMONG_VALID:
        assert (job["state"], job["capturedCount"]) == ("failed", 0)
        assert {e["code"] for e in job["errors"]} == {"epcis.schema"}
        assert _stored_count(factory) == 0
        return
    assert (job["state"], job["eventCount"], job["capturedCount"], job["errors"]) == (
        "succeeded",
        count,
        count,
        [],
    )
    assert _stored_count(factory) == count
    answer = client.get("/epcis/events", params={"perPage": "1000"}, headers=headers).json()
    assert len(answer["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == count


@pytest.mark.parametrize("path", EVENTS, ids=[p.name for p in EVENTS])
def test_single_event_is_captured(path: Path, client: TestClient, factory) -> None:  # type: ignore[no-untyped-def]
    build_network(factory, "one")
    headers = token_headers(client, "one-warehouse")

    response = client.post("/epcis/events", json=_load(path), headers=headers)

    assert response.status_code == 201, response.text
    assert _stored_count(factory) == 1
    assert client.get(response.headers["location"], headers=headers).status_code == 200


@pytest.mark.parametrize("path", INVALID, ids=[p.name for p in INVALID])
def test_invalid_document_is_rejected_with_the_engine_reasons(
    path: Path,
    client: TestClient,
    factory,  # type: ignore[no-untyped-def]
) -> None:
    build_network(factory, "inv")
    headers = token_headers(client, "inv-warehouse")
    document = _load(path)
    expected = [error_entry(error) for error in validate_document(document)]

    response = client.post("/epcis/capture", json=document, headers=headers)

    assert response.status_code == 202
    job = response.json()
    assert (job["state"], job["success"], job["capturedCount"]) == ("failed", False, 0)
    assert expected
    # each error is an RFC 7807 problem of the binding around our entry
    assert [{k: e[k] for k in expected[0]} for e in job["errors"]] == expected
    assert {(e["type"], e["detail"]) for e in job["errors"]} == {
        ("epcisException:ValidationException", e["message"]) for e in expected
    }
    assert _stored_count(factory) == 0
