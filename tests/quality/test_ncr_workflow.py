"""NCR workflow over HTTP: signatures, refusals that change nothing, SCAR, lot holds, scoping."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from medledger.compliance.models import ElectronicSignature
from medledger.core.errors import PermissionDenied
from medledger.core.system import system_unit_of_work
from medledger.quality.hooks import (
    LotHoldRequest,
    register_lot_hold_handler,
    unregister_lot_hold_handler,
)
from medledger.quality.models import Ncr
from tests.builders import PASSWORD, Network, build_network, gtin
from tests.quality.builders import Api, audit_actions, counts, ncr_ready_for_approval, raise_ncr


@pytest.fixture
def net(factory: sessionmaker[Session]) -> Network:
    return build_network(factory)


@pytest.fixture
def api(client: TestClient) -> Api:
    return Api(client)


class RecordingHolds:
    name = "test-inventory"

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, list[tuple[str, str]]]] = []

    def apply(self, request: LotHoldRequest) -> None:
        self.requests.append(
            (request.action, request.source_label, [(lot.gtin, lot.lot) for lot in request.lots])
        )


@pytest.fixture
def holds() -> Any:
    handler = RecordingHolds()
    register_lot_hold_handler(handler)
    yield handler
    unregister_lot_hold_handler(handler.name)


def test_ncr_goes_through_scar_disposition_and_closure_with_signatures(
    api: Api, net: Network, factory: sessionmaker[Session], holds: RecordingHolds
) -> None:
    # Given an NCR about the supplier's material, raised by QA with one affected lot
    ncr = raise_ncr(api, supplier_party_id=net.supplier_id)
    assert ncr["number"].startswith("NCR-") and ncr["number"].endswith("-0001")
    assert ncr["state"] == "open"
    assert holds.requests == [("hold", ncr["number"], [(gtin(51), "L-100")])]
    # When QA investigates and asks the supplier to respond, and the supplier answers (SCAR)
    assert api.step("qa", "ncr", ncr["id"], "investigate").json()["state"] == "investigating"
    response = api.step("qa", "ncr", ncr["id"], "request_supplier_response")
    assert response.json()["state"] == "awaiting_supplier"
    answer = api.post(
        "supplier",
        f"/api/v1/quality/ncrs/{ncr['id']}/supplier-response",
        {"response": "Tool wear at deburring; tool replaced, lot sorted."},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "investigating"
    assert answer.json()["supplier_response"].startswith("Tool wear")
    # and QA proposes a disposition (signed: reviewed), the approver approves and closes
    proposed = ncr_ready_for_approval_from(api, ncr["id"])
    assert proposed["state"] == "disposition_proposed"
    approved = api.step("qa_approver", "ncr", ncr["id"], "approve_disposition", password=PASSWORD)
    assert approved.status_code == 200, approved.text
    closed = api.step("qa_approver", "ncr", ncr["id"], "close", password=PASSWORD)
    assert closed.status_code == 200, closed.text
    body = closed.json()
    # Then the record shows its three signatures: printed name, meaning, UTC time, still matching
    assert [
        (s["meaning"], s["printed_name"], s["workflow_action"]) for s in body["signatures"]
    ] == [
        ("reviewed", "acme qa", "propose_disposition"),
        ("approved", "acme qa_approver", "approve_disposition"),
        ("closed", "acme qa_approver", "close"),
    ]
    assert all(s["intact"] and s["matches_current_version"] for s in body["signatures"])
    assert all(s["signed_at"].endswith(("Z", "+00:00")) for s in body["signatures"])
    assert all(s["authentication"] == "password" for s in body["signatures"])
    # and the history names every step with its actor
    assert [(h["action"], h["from_state"], h["to_state"]) for h in body["history"]] == [
        ("investigate", "open", "investigating"),
        ("request_supplier_response", "investigating", "awaiting_supplier"),
        ("respond", "awaiting_supplier", "investigating"),
        ("propose_disposition", "investigating", "disposition_proposed"),
        ("approve_disposition", "disposition_proposed", "dispositioned"),
        ("close", "dispositioned", "closed"),
    ]
    assert body["history"][2]["actor_label"] == "acme-supplier (acme supplier clerk)"
    # and closing released the hold
    assert holds.requests[-1] == ("release", ncr["number"], [(gtin(51), "L-100")])
    # and the audit trail has the transitions and signatures, attributed
    transitions = audit_actions(factory, "workflow_transitions")
    assert len(transitions) == 6
    signatures = audit_actions(factory, "electronic_signatures")
    assert [label for _, label in signatures] == [
        "acme-qa (acme qa)",
        "acme-qa_approver (acme qa_approver)",
        "acme-qa_approver (acme qa_approver)",
    ]
    assert ("lot_hold", "acme-qa (acme qa)") in audit_actions(factory, "ncr")
    verify = api.get("qa", "/api/v1/audit/verify").json()
    assert verify["ok"] is True


def ncr_ready_for_approval_from(api: Api, ncr_id: int) -> dict[str, Any]:
    response = api.patch(
        "qa",
        f"/api/v1/quality/ncrs/{ncr_id}",
        {"disposition": "return_to_supplier", "disposition_rationale": "Burr out of spec."},
    )
    assert response.status_code == 200, response.text
    response = api.step("qa", "ncr", ncr_id, "propose_disposition", password=PASSWORD)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _refused(api: Api, factory: sessionmaker[Session], user: str, ncr_id: int, **step: Any) -> Any:
    before = counts(factory)
    response = api.step(user, "ncr", ncr_id, step.pop("action"), **step)
    assert response.headers["content-type"] == "application/problem+json"
    return response, before


def test_wrong_role_cannot_approve_and_nothing_changes(
    api: Api, net: Network, factory: sessionmaker[Session]
) -> None:
    ncr = ncr_ready_for_approval(api, net.supplier_id)
    for user in ("qa", "warehouse", "planner", "supplier"):
        response, before = _refused(
            api, factory, user, ncr["id"], action="approve_disposition", password=PASSWORD
        )
        assert response.status_code == 403, (user, response.text)
        assert response.json()["code"] == "permission_denied"
        assert counts(factory) == before
    # a partner that the NCR does not concern does not even see it
    response, before = _refused(
        api, factory, "distributor", ncr["id"], action="approve_disposition", password=PASSWORD
    )
    assert response.status_code == 404
    assert counts(factory) == before


def test_author_cannot_approve_own_record_and_nothing_changes(
    api: Api, net: Network, factory: sessionmaker[Session]
) -> None:
    # Given an NCR raised and proposed by the approver herself
    ncr = raise_ncr(api, user="qa_approver", supplier_party_id=net.supplier_id)
    api.step("qa_approver", "ncr", ncr["id"], "investigate")
    api.patch(
        "qa_approver",
        f"/api/v1/quality/ncrs/{ncr['id']}",
        {"disposition": "scrap", "disposition_rationale": "Cannot be reworked."},
    )
    proposed = api.step("qa_approver", "ncr", ncr["id"], "propose_disposition", password=PASSWORD)
    assert proposed.status_code == 200, proposed.text
    # When she approves it
    response, before = _refused(
        api, factory, "qa_approver", ncr["id"], action="approve_disposition", password=PASSWORD
    )
    # Then she is refused, and nothing changed
    assert response.status_code == 403
    assert response.json()["code"] == "signature.author_cannot_approve"
    assert counts(factory) == before
    # and the step is not even offered to her
    offered = [a["action"] for a in proposed.json()["actions_available"]]
    assert "approve_disposition" not in offered and "reject_disposition" in offered


def test_missing_signature_is_refused_and_nothing_changes(
    api: Api, net: Network, factory: sessionmaker[Session]
) -> None:
    ncr = ncr_ready_for_approval(api, net.supplier_id)
    response, before = _refused(
        api, factory, "qa_approver", ncr["id"], action="approve_disposition"
    )
    assert response.status_code == 422
    assert response.json()["code"] == "signature.required"
    assert [e["field"] for e in response.json()["errors"]] == ["signature.password"]
    assert counts(factory) == before


def test_wrong_password_is_refused_logged_and_changes_nothing_else(
    api: Api, net: Network, factory: sessionmaker[Session]
) -> None:
    ncr = ncr_ready_for_approval(api, net.supplier_id)
    response, before = _refused(
        api, factory, "qa_approver", ncr["id"], action="approve_disposition", password="wrong"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "signature.invalid_credentials"
    after = counts(factory)
    # the record, its signatures and its history are unchanged; only the failure was kept
    assert after["states"] == before["states"]
    assert after["electronic_signatures"] == before["electronic_signatures"]
    assert after["workflow_transitions"] == before["workflow_transitions"]
    assert after["signing_failures"] == before["signing_failures"] + 1
    assert after["audit"] == before["audit"] + 1
    assert audit_actions(factory, "users")[-1] == (
        "sign_failed",
        "acme-qa_approver (acme qa_approver)",
    )


def test_repeated_failures_lock_signing(
    api: Api, net: Network, factory: sessionmaker[Session]
) -> None:
    # Given an NCR waiting for approval and three wrong passwords (the default limit)
    ncr = ncr_ready_for_approval(api, net.supplier_id)
    for _ in range(3):
        response = api.step("qa_approver", "ncr", ncr["id"], "approve_disposition", password="x")
        assert response.status_code == 403
    assert [a for a, _ in audit_actions(factory, "users")][-2:] == ["sign_failed", "sign_locked"]
    # When the right password is given now
    response, before = _refused(
        api, factory, "qa_approver", ncr["id"], action="approve_disposition", password=PASSWORD
    )
    # Then signing stays locked and the record is unchanged
    assert response.status_code == 423
    assert response.json()["code"] == "signature.locked"
    after = counts(factory)
    assert after["states"] == before["states"]
    assert after["electronic_signatures"] == before["electronic_signatures"]
    # and another user can still sign
    other = api.post(
        "qa",
        "/api/v1/signatures",
        {"record_kind": "ncr", "record_id": ncr["id"], "meaning": "reviewed", "password": PASSWORD},
    )
    assert other.status_code == 201, other.text


def test_a_changed_record_no_longer_matches_its_signatures(
    api: Api, net: Network, factory: sessionmaker[Session]
) -> None:
    # Given a proposed disposition signed "reviewed", rejected back to investigation
    ncr = ncr_ready_for_approval(api, net.supplier_id)
    rejected = api.step(
        "qa_approver",
        "ncr",
        ncr["id"],
        "reject_disposition",
        password=PASSWORD,
        reason="Return is not possible: the supplier lacks capacity.",
    )
    assert rejected.status_code == 200, rejected.text
    listed = api.get("qa", f"/api/v1/signatures?record_kind=ncr&record_id={ncr['id']}").json()
    assert listed["all_match"] is True
    # When the rationale is edited
    api.patch(
        "qa", f"/api/v1/quality/ncrs/{ncr['id']}", {"disposition_rationale": "Scrap instead."}
    )
    # Then both signatures are intact but no longer match the record's current version
    listed = api.get("qa", f"/api/v1/signatures?record_kind=ncr&record_id={ncr['id']}").json()
    assert listed["all_match"] is False
    assert [
        (s["meaning"], s["intact"], s["matches_current_version"]) for s in listed["signatures"]
    ] == [
        ("reviewed", True, False),
        ("rejected", True, False),
    ]
    assert listed["signatures"][0]["content_hash"] != listed["current_hash"]


def test_signatures_are_append_only(api: Api, net: Network, factory: sessionmaker[Session]) -> None:
    ncr_ready_for_approval(api, net.supplier_id)
    with pytest.raises(PermissionDenied), system_unit_of_work(factory) as session:
        signature = session.query(ElectronicSignature).one()
        signature.printed_name = "Someone else"
        session.flush()
    with pytest.raises(DBAPIError), system_unit_of_work(factory) as session:
        session.execute(update(ElectronicSignature).values(printed_name="Someone else"))
    with pytest.raises(DBAPIError), system_unit_of_work(factory) as session:
        session.execute(text("DELETE FROM electronic_signatures"))


def test_reject_needs_a_reason_and_a_guard_names_its_field(
    api: Api, net: Network, factory: sessionmaker[Session]
) -> None:
    ncr = ncr_ready_for_approval(api, net.supplier_id)
    response, before = _refused(
        api, factory, "qa_approver", ncr["id"], action="reject_disposition", password=PASSWORD
    )
    assert response.status_code == 422
    assert response.json()["code"] == "workflow.reason_required"
    assert counts(factory) == before
    other = raise_ncr(api)
    api.step("qa", "ncr", other["id"], "investigate")
    response, before = _refused(
        api, factory, "qa", other["id"], action="propose_disposition", password=PASSWORD
    )
    assert response.status_code == 409
    assert response.json()["code"] == "ncr.disposition_missing"
    assert [e["field"] for e in response.json()["errors"]] == ["disposition"]
    assert counts(factory) == before
    response, before = _refused(api, factory, "qa", other["id"], action="close", password=PASSWORD)
    assert response.status_code == 409
    assert response.json()["code"] == "workflow.not_allowed"
    assert counts(factory) == before


def test_partners_see_only_ncrs_that_concern_them(
    api: Api, net: Network, factory: sessionmaker[Session]
) -> None:
    about_supplier = raise_ncr(api, supplier_party_id=net.supplier_id)
    internal = raise_ncr(api, title="Label misprint")
    # the supplier sees the NCR about its material, and its signatures and history
    listed = api.get("supplier", "/api/v1/quality/ncrs").json()
    assert [n["id"] for n in listed["items"]] == [about_supplier["id"]]
    assert api.get("supplier", f"/api/v1/quality/ncrs/{internal['id']}").status_code == 404
    signatures = api.get(
        "supplier", f"/api/v1/signatures?record_kind=ncr&record_id={internal['id']}"
    )
    assert signatures.status_code == 404
    # the distributor sees none of them
    assert api.get("distributor", "/api/v1/quality/ncrs").json()["items"] == []
    for ncr in (about_supplier, internal):
        assert api.get("distributor", f"/api/v1/quality/ncrs/{ncr['id']}").status_code == 404
    # the supplier cannot edit, the distributor cannot answer
    before = counts(factory)
    assert (
        api.patch(
            "supplier", f"/api/v1/quality/ncrs/{about_supplier['id']}", {"title": "x"}
        ).status_code
        == 403
    )
    answer = api.post(
        "distributor",
        f"/api/v1/quality/ncrs/{about_supplier['id']}/supplier-response",
        {"response": "not ours"},
    )
    assert answer.status_code == 404
    assert counts(factory) == before


def test_a_hospital_complaint_names_the_device_by_udi(
    api: Api, net: Network, holds: RecordingHolds
) -> None:
    # When the distributor reports a complaint with a scanned UDI
    udi = f"(01){gtin(7)}(17)271231(10)LOT-77(21)SN-5"
    response = api.post(
        "distributor",
        "/api/v1/quality/ncrs",
        {"title": "Balloon burst at 8 atm", "source": "complaint", "complaint_udi": udi},
    )
    assert response.status_code == 201, response.text
    ncr = response.json()
    # Then the UDI is resolved to GTIN, lot, serial and expiry, and the lot is held
    assert (ncr["udi_gtin"], ncr["udi_lot"], ncr["udi_serial"], ncr["udi_expiry"]) == (
        gtin(7),
        "LOT-77",
        "SN-5",
        "2027-12-31",
    )
    assert ncr["affected_lots"] == [{"gtin": gtin(7), "lot": "LOT-77"}]
    assert ncr["source"] == "complaint" and ncr["created_by_party_id"] == net.distributor_id
    assert holds.requests == [("hold", ncr["number"], [(gtin(7), "LOT-77")])]
    # and the reporter sees its own report, the supplier does not
    assert api.get("distributor", f"/api/v1/quality/ncrs/{ncr['id']}").status_code == 200
    assert api.get("supplier", f"/api/v1/quality/ncrs/{ncr['id']}").status_code == 404
    # a complaint without a UDI, or with an unreadable one, is refused
    missing = api.post("distributor", "/api/v1/quality/ncrs", {"title": "x", "source": "complaint"})
    assert missing.status_code == 422
    assert missing.json()["code"] == "ncr.udi_required"
    bad = api.post(
        "distributor",
        "/api/v1/quality/ncrs",
        {"title": "x", "source": "complaint", "complaint_udi": "(01)12345678901234"},
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["complaint_udi"]


def test_overdue_records_are_my_tasks(api: Api, net: Network) -> None:
    yesterday = (date.today() - timedelta(days=2)).isoformat()
    overdue = raise_ncr(api, owner_user_id=net.users["qa"], due_date=yesterday)
    later = raise_ncr(
        api,
        owner_user_id=net.users["qa"],
        due_date=(date.today() + timedelta(days=30)).isoformat(),
    )
    tasks = api.get("qa", "/api/v1/quality/tasks").json()
    assert [(t["number"], t["overdue"]) for t in tasks] == [
        (overdue["number"], True),
        (later["number"], False),
    ]
    summary = api.get("qa", "/api/v1/quality/summary").json()
    assert summary["ncr"] == {"open": 2, "overdue": 1}
    listed = api.get("qa", "/api/v1/quality/ncrs?overdue=true").json()
    assert [n["id"] for n in listed["items"]] == [overdue["id"]]
    assert api.get("sales", "/api/v1/quality/tasks").status_code == 403


def test_closing_releases_only_lots_no_other_open_ncr_holds(
    api: Api, net: Network, factory: sessionmaker[Session], holds: RecordingHolds
) -> None:
    first = raise_ncr(
        api,
        affected_lots=[{"gtin": gtin(51), "lot": "A"}, {"gtin": gtin(51), "lot": "B"}],
    )
    raise_ncr(api, affected_lots=[{"gtin": gtin(51), "lot": "B"}])
    response = api.step("qa_approver", "ncr", first["id"], "cancel", reason="Duplicate report")
    assert response.status_code == 200, response.text
    assert holds.requests[-1] == ("release", first["number"], [(gtin(51), "A")])
    with system_unit_of_work(factory) as session:
        assert session.get(Ncr, first["id"]).state == "cancelled"  # type: ignore[union-attr]
