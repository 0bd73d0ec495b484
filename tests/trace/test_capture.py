"""EPCIS capture through the REST binding: jobs, single events, idempotency, error behaviour,
audit and partner isolation."""

from __future__ import annotations

import gc
from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.builders import build_network, token_headers
from tests.trace.epcis_scenario import (
    CONTEXT,
    S1,
    capture,
    commission,
    document,
    event_id,
    pack,
    transform,
)

from medledger.compliance.models import AuditEntry
from medledger.core.system import system_unit_of_work
from medledger.trace.ledger.capture import paused_gc
from medledger.trace.models import EpcisEvent


def _stored_ids(factory: sessionmaker[Session]) -> list[str]:
    with system_unit_of_work(factory) as session:
        return list(session.scalars(select(EpcisEvent.event_id).order_by(EpcisEvent.id)))


def _bad_step(n: int) -> dict[str, object]:
    event = pack()
    return {**event, "eventID": event_id(n), "bizStep": "flying"}


def test_capture_answers_202_and_the_job_reports_success(client: TestClient, factory) -> None:  # type: ignore[no-untyped-def]
    build_network(factory, "cap")
    hub = token_headers(client, "cap-warehouse")

    job = capture(client, hub, document(commission(), transform()))

    assert (
        job["state"],
        job["running"],
        job["success"],
        job["eventCount"],
        job["capturedCount"],
        job["captureErrorBehaviour"],
        job["errors"],
    ) == ("succeeded", False, True, 2, 2, "rollback", [])
    read = client.get(f"/epcis/capture/{job['captureID']}", headers=hub)
    assert read.status_code == 200
    assert read.json() == job
    assert _stored_ids(factory) == [event_id(1), event_id(2)]


def test_rollback_rejects_the_whole_document_and_lists_every_error(
    client: TestClient, factory
) -> None:  # type: ignore[no-untyped-def]
    build_network(factory, "rb")
    hub = token_headers(client, "rb-warehouse")

    job = capture(client, hub, document(commission(), _bad_step(3)))

    assert (job["state"], job["success"], job["capturedCount"]) == ("failed", False, 0)
    assert [(e["eventIndex"], e["eventID"], e["pointer"], e["code"]) for e in job["errors"]] == [
        (1, event_id(3), "/epcisBody/eventList/1/bizStep", "epcis.unknown_biz_step")
    ]
    assert _stored_ids(factory) == []
    assert client.get(f"/epcis/capture/{job['captureID']}", headers=hub).json()["state"] == "failed"


def test_proceed_stores_valid_events_and_reports_the_invalid_ones(
    client: TestClient, factory
) -> None:  # type: ignore[no-untyped-def]
    build_network(factory, "pr")
    hub = token_headers(client, "pr-warehouse")

    job = capture(client, hub, document(_bad_step(3), commission()), behaviour="proceed")

    assert (job["state"], job["success"], job["eventCount"], job["capturedCount"]) == (
        "failed",
        False,
        2,
        1,
    )
    assert [(e["eventIndex"], e["code"]) for e in job["errors"]] == [(0, "epcis.unknown_biz_step")]
    assert _stored_ids(factory) == [event_id(1)]


def test_unknown_error_behaviour_is_a_400_naming_the_header(client: TestClient, factory) -> None:  # type: ignore[no-untyped-def]
    build_network(factory, "eb")
    hub = token_headers(client, "eb-warehouse")

    response = client.post(
        "/epcis/capture",
        json=document(commission()),
        headers={**hub, "GS1-Capture-Error-Behaviour": "ignore"},
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "epcis.invalid_capture_error_behaviour"
    assert response.json()["errors"][0]["field"] == "GS1-Capture-Error-Behaviour"


def test_recapture_is_idempotent_and_hash_ids_are_assigned(client: TestClient, factory) -> None:  # type: ignore[no-untyped-def]
    build_network(factory, "idem")
    hub = token_headers(client, "idem-warehouse")
    anonymous = {k: v for k, v in commission().items() if k != "eventID"}

    first = capture(client, hub, document(anonymous, transform()))
    second = capture(client, hub, document(anonymous, transform(), transform()))

    assert (first["capturedCount"], second["state"], second["capturedCount"]) == (2, "succeeded", 0)
    ids = _stored_ids(factory)
    assert len(ids) == 2
    assert ids[0].startswith("ni:///sha-256;") and ids[0].endswith("?ver=CBV2.0")
    assert ids[1] == event_id(2)
    stored = client.get(f"/epcis/events/{quote(ids[0], safe='')}", headers=hub)
    assert stored.status_code == 200
    assert (
        stored.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]["eventID"]
        == ids[0]
    )


def test_one_audit_entry_per_capture_job(client: TestClient, factory) -> None:  # type: ignore[no-untyped-def]
    net = build_network(factory, "aud")
    hub = token_headers(client, "aud-warehouse")
    with system_unit_of_work(factory) as session:
        before = session.scalar(select(func.count()).select_from(AuditEntry)) or 0

    job = capture(client, hub, document(commission(), transform(), pack()))

    with system_unit_of_work(factory) as session:
        entries = list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    new = entries[before:]
    assert [(e.tenant_id, e.action, e.entity_type, e.entity_id) for e in new] == [
        (net.tenant_id, "epcis.capture", "epcis_capture_job", job["captureID"])
    ]
    assert new[0].new_values["captured_count"] == 3
    assert new[0].new_values["capturing_party_id"] == net.hub_id
    assert new[0].actor_label.startswith("aud-warehouse")


def test_single_event_capture_201_location_and_read_back(client: TestClient, factory) -> None:  # type: ignore[no-untyped-def]
    build_network(factory, "one")
    hub = token_headers(client, "one-warehouse")
    event = {"@context": CONTEXT, **pack()}

    created = client.post("/epcis/events", json=event, headers=hub)
    again = client.post("/epcis/events", json=event, headers=hub)

    assert created.status_code == 201
    assert created.headers["location"] == f"/epcis/events/{quote(event_id(3), safe='')}"
    assert created.json()["eventID"] == event_id(3)
    assert "recordTime" in created.json()
    assert (again.status_code, again.json()["eventID"]) == (201, event_id(3))
    read = client.get(created.headers["location"], headers=hub)
    assert read.status_code == 200
    assert read.headers["content-type"] == "application/ld+json"
    assert read.json()["type"] == "EPCISQueryDocument"
    [shown] = read.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert (shown["eventID"], shown["childEPCs"]) == (event_id(3), pack()["childEPCs"])
    assert "recordTime" in shown
    assert _stored_ids(factory) == [event_id(3)]
    assert S1 in shown["childEPCs"]


def test_invalid_single_event_is_a_400_validation_problem_with_per_field_errors(
    client: TestClient, factory
) -> None:  # type: ignore[no-untyped-def]
    build_network(factory, "bad")
    hub = token_headers(client, "bad-warehouse")
    event = {"@context": CONTEXT, **_bad_step(3), "action": "MAYBE"}

    response = client.post("/epcis/events", json=event, headers=hub)

    assert response.status_code == 400
    body = response.json()
    assert (body["type"], body["status"]) == ("epcisException:ValidationException", 400)
    assert body["code"] == "epcis.invalid_event"
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("/action", "epcis.schema"),
        ("/bizStep", "epcis.unknown_biz_step"),
    ]
    assert _stored_ids(factory) == []


def test_wrong_media_type_and_malformed_json(client: TestClient, factory) -> None:  # type: ignore[no-untyped-def]
    build_network(factory, "mt")
    hub = token_headers(client, "mt-warehouse")

    xml = client.post(
        "/epcis/capture", content=b"<epcis/>", headers={**hub, "Content-Type": "application/xml"}
    )
    text = client.post(
        "/epcis/capture", content=b"epcis", headers={**hub, "Content-Type": "text/plain"}
    )
    broken = client.post(
        "/epcis/capture",
        content=b"{not json",
        headers={**hub, "Content-Type": "application/ld+json"},
    )

    # XML is read (tests/trace/test_epcis_xml_binding.py); this is not an EPCIS document
    assert (xml.status_code, xml.json()["code"]) == (400, "epcis.invalid_xml")
    assert xml.json()["errors"][0]["field"] == "body"
    assert (text.status_code, text.json()["code"]) == (415, "epcis.unsupported_media_type")
    assert (broken.status_code, broken.json()["code"]) == (400, "request.malformed_json")


def test_capture_needs_the_capture_permission(client: TestClient, factory) -> None:  # type: ignore[no-untyped-def]
    build_network(factory, "perm")
    auditor = token_headers(client, "perm-auditor")

    response = client.post("/epcis/capture", json=document(commission()), headers=auditor)

    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    assert _stored_ids(factory) == []


def test_partner_sees_only_its_own_capture_jobs(client: TestClient, factory) -> None:  # type: ignore[no-untyped-def]
    build_network(factory, "iso")
    hub = token_headers(client, "iso-warehouse")
    distributor = token_headers(client, "iso-distributor")
    supplier = token_headers(client, "iso-supplier")
    hub_job = capture(client, hub, document(commission()))
    own_job = capture(client, distributor, document(transform()))

    assert (
        client.get(f"/epcis/capture/{hub_job['captureID']}", headers=distributor).status_code == 404
    )
    assert [j["captureID"] for j in client.get("/epcis/capture", headers=distributor).json()] == [
        own_job["captureID"]
    ]
    assert client.get("/epcis/capture", headers=supplier).json() == []
    assert [j["captureID"] for j in client.get("/epcis/capture", headers=hub).json()] == [
        own_job["captureID"],
        hub_job["captureID"],
    ]
    assert client.get("/epcis/capture/not-a-number", headers=hub).status_code == 404


def test_capture_pauses_the_garbage_collector_and_restores_it() -> None:
    assert gc.isenabled()

    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():  # a concurrent capture shares the pause
            assert not gc.isenabled()
        assert not gc.isenabled()  # the first capture is still running

    assert gc.isenabled()


def test_a_collector_disabled_before_the_capture_stays_disabled() -> None:
    gc.disable()
    try:
        with paused_gc():
            assert not gc.isenabled()

        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_failing_capture_still_restores_the_collector() -> None:
    try:
        with paused_gc():
            raise RuntimeError("boom")
    except RuntimeError:
        pass

    assert gc.isenabled()


def test_ledger_writes_of_a_tenant_are_serialised_on_postgresql(factory) -> None:  # type: ignore[no-untyped-def]
    """While one transaction writes a tenant's ledger, another cannot start writing it (so event
    ids are allocated in commit order, which the trace snapshot's refresh relies on); another
    tenant is not blocked."""
    import pytest
    from sqlalchemy import text
    from tests.conftest import BACKEND

    from medledger.trace.ledger.capture import (
        _LEDGER_LOCK_NAMESPACE,
        serialise_tenant_ledger_writes,
    )

    if BACKEND != "postgres":
        pytest.skip("advisory locks are PostgreSQL's; SQLite has a single writer by design")
    net = build_network(factory)
    holder = factory()
    other = factory()
    try:
        serialise_tenant_ledger_writes(holder, net.tenant_id)
        try_lock = text("SELECT pg_try_advisory_xact_lock(:n, :t)")
        assert other.scalar(try_lock, {"n": _LEDGER_LOCK_NAMESPACE, "t": net.tenant_id}) is False
        assert other.scalar(try_lock, {"n": _LEDGER_LOCK_NAMESPACE, "t": net.tenant_id + 1}) is True
        other.rollback()
        holder.commit()
        assert other.scalar(try_lock, {"n": _LEDGER_LOCK_NAMESPACE, "t": net.tenant_id}) is True
    finally:
        holder.close()
        other.close()
