"""Lot release and rejection with a Part 11 signature, and the NCR lot holds in inventory:
refusals change nothing; exact balances after every step (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.system import system_unit_of_work
from medledger.inventory.models import LotHold
from tests.builders import PASSWORD, token_headers
from tests.inventory.builders import AMBIENT_GTIN, release_lot
from tests.quality.inspection_builders import Lab, balances, build_lab, ok, plan, receive, state

RELEASES = "/api/v1/quality/lot-releases"


@pytest.fixture
def lab(client: TestClient, factory: sessionmaker[Session]) -> Lab:
    return build_lab(client, factory, "rel")


def _step(
    client: TestClient,
    headers: dict[str, str],
    release_id: int,
    action: str,
    password: str | None = PASSWORD,
    reason: str = "",
) -> Any:
    body: dict[str, Any] = {"action": action, "reason": reason}
    if password is not None:
        body["signature"] = {"password": password, "comment": action}
    return client.post(f"{RELEASES}/{release_id}/transitions", json=body, headers=headers)


def _refused(
    client: TestClient,
    factory: sessionmaker[Session],
    response_of: Any,
    status: int,
    code: str,
) -> None:
    before = state(factory)
    response = response_of()
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    after = state(factory)
    if code.startswith("signature.invalid"):
        # A wrong password is kept as a failed attempt; nothing else changes.
        assert after["signing_failures"] == before["signing_failures"] + 1
        after["signing_failures"] = before["signing_failures"]
    assert after == before


def test_a_lot_is_released_with_a_signature_after_a_passed_inspection(
    client: TestClient, factory: sessionmaker[Session], lab: Lab
) -> None:
    w = lab.w
    plan(client, lab)
    receive(client, w, "A-1", 10)
    release = ok(
        client.post(RELEASES, json={"gtin": AMBIENT_GTIN, "lot": "A-1"}, headers=w.qa), 201
    )
    assert (release["number"][:3], release["state"]) == ("LR-", "requested")
    # A second request for the same lot waits for the first
    again = client.post(RELEASES, json={"gtin": AMBIENT_GTIN, "lot": "A-1"}, headers=w.qa)
    assert (again.status_code, again.json()["code"]) == (409, "lot_release.already_requested")
    rid = release["id"]
    # The product has a plan: no passed inspection, no release
    _refused(
        client,
        factory,
        lambda: _step(client, w.qa_approver, rid, "release"),
        409,
        "lot_release.inspection_missing",
    )
    inspection = ok(
        client.post(
            "/api/v1/quality/inspections",
            json={"gtin": AMBIENT_GTIN, "lot": "A-1", "supplier_party_id": w.network.supplier_id},
            headers=w.qa,
        ),
        201,
    )
    ok(
        client.post(
            f"/api/v1/quality/inspections/{inspection['id']}/results",
            json={
                "results": [
                    {"name": "Outer diameter", "values": [3.0, 3.0, 3.05]},
                    {"name": "Burr", "values": ["None"]},
                ]
            },
            headers=w.qa,
        )
    )
    # QA (the requester) may not sign a release (no approve permission; author rule below)
    _refused(client, factory, lambda: _step(client, w.qa, rid, "release"), 403, "permission_denied")
    # No signature, a wrong password: refused, nothing changes (the failed attempt is kept)
    _refused(
        client,
        factory,
        lambda: _step(client, w.qa_approver, rid, "release", None),
        422,
        "signature.required",
    )
    _refused(
        client,
        factory,
        lambda: _step(client, w.qa_approver, rid, "release", "wrong"),
        403,
        "signature.invalid_credentials",
    )
    assert balances(factory, "A-1") == [("quarantine", w.dock, 10)]
    # The approver signs: quarantine → released, exactly
    released = ok(_step(client, w.qa_approver, rid, "release"))
    assert (released["state"], released["quantity"], released["inspection_id"]) == (
        "released",
        10,
        inspection["id"],
    )
    assert released["supplier_party_id"] == w.network.supplier_id
    [signature] = released["signatures"]
    assert (
        signature["meaning"],
        signature["signer_username"],
        signature["matches_current_version"],
    ) == (
        "released",
        "rel-qa_approver",
        True,
    )
    assert balances(factory, "A-1") == [("released", w.dock, 10)]
    # KPI: one lot, per month / product / supplier
    kpi = ok(
        client.get(
            "/api/v1/quality/kpis/inspection-time", params={"group": "supplier"}, headers=w.qa
        )
    )
    assert [(r["key"], r["lots"]) for r in kpi["rows"]] == [(str(w.network.supplier_id), 1)]
    assert kpi["rows"][0]["receipt_to_release_hours"] is not None
    # Nothing left in quarantine: a new request cannot be released
    second = ok(client.post(RELEASES, json={"gtin": AMBIENT_GTIN, "lot": "A-1"}, headers=w.qa), 201)
    _refused(
        client,
        factory,
        lambda: _step(client, w.qa_approver, second["id"], "release"),
        409,
        "lot_release.nothing_in_quarantine",
    )


def test_the_requester_cannot_release_and_a_failed_lot_cannot_be_released_but_rejected(
    client: TestClient, factory: sessionmaker[Session], lab: Lab
) -> None:
    w = lab.w
    admin = token_headers(client, "rel-admin")
    # A product without a plan: the signature alone releases, but not the requester's
    receive(client, w, "B-1", 4)
    mine = ok(
        client.post(RELEASES, json={"gtin": AMBIENT_GTIN, "lot": "B-1"}, headers=w.qa_approver), 201
    )
    _refused(
        client,
        factory,
        lambda: _step(client, w.qa_approver, mine["id"], "release"),
        403,
        "signature.author_cannot_approve",
    )
    assert ok(_step(client, admin, mine["id"], "release"))["state"] == "released"
    assert balances(factory, "B-1") == [("released", w.dock, 4)]
    # With a plan and a failed inspection: release refused (and an NCR holds the lot) …
    plan(client, lab)
    receive(client, w, "B-2", 6)
    inspection = ok(
        client.post(
            "/api/v1/quality/inspections", json={"gtin": AMBIENT_GTIN, "lot": "B-2"}, headers=w.qa
        ),
        201,
    )
    failed = ok(
        client.post(
            f"/api/v1/quality/inspections/{inspection['id']}/results",
            json={
                "results": [
                    {"name": "Outer diameter", "values": [3.0, 3.4, 3.0]},
                    {"name": "Burr", "values": ["none"]},
                ]
            },
            headers=w.qa,
        )
    )
    assert failed["verdict"] == "fail"
    release = ok(
        client.post(RELEASES, json={"gtin": AMBIENT_GTIN, "lot": "B-2"}, headers=w.qa), 201
    )
    _refused(
        client,
        factory,
        lambda: _step(client, w.qa_approver, release["id"], "release"),
        409,
        "lot_release.lot_under_ncr",
    )
    # … rejecting needs a reason and the signature, then moves the stock to rejected
    _refused(
        client,
        factory,
        lambda: _step(client, w.qa_approver, release["id"], "reject"),
        422,
        "workflow.reason_required",
    )
    rejected = ok(
        _step(client, w.qa_approver, release["id"], "reject", reason="diameter out of spec")
    )
    assert (rejected["state"], rejected["quantity"]) == ("rejected", 6)
    assert [s["meaning"] for s in rejected["signatures"]] == ["rejected"]
    assert balances(factory, "B-2") == [("rejected", w.dock, 6)]


def test_an_ncr_holds_its_lots_everywhere_and_closing_releases_what_no_other_ncr_holds(
    client: TestClient, factory: sessionmaker[Session], lab: Lab
) -> None:
    w = lab.w
    receive(client, w, "H-1", 10)
    release_lot(client, w, AMBIENT_GTIN, "H-1")
    ok(
        client.post(
            "/api/v1/inventory/put-aways",
            json={
                "from_location_id": w.dock,
                "to_location_id": w.ambient,
                "lines": [{"gtin": AMBIENT_GTIN, "lot": "H-1", "quantity": 6}],
            },
            headers=w.warehouse,
        ),
        201,
    )
    # One unit at A1 held by hand (a damaged box)
    ok(
        client.post(
            "/api/v1/inventory/status-changes",
            json={
                "action": "hold",
                "gtin": AMBIENT_GTIN,
                "lot": "H-1",
                "location_id": w.ambient,
                "quantity": 1,
                "reason": "damaged box",
            },
            headers=w.warehouse,
        )
    )
    assert balances(factory, "H-1") == sorted(
        [("released", w.dock, 4), ("released", w.ambient, 5), ("on_hold", w.ambient, 1)]
    )
    lots = [{"gtin": AMBIENT_GTIN, "lot": "H-1"}]
    first = ok(
        client.post(
            "/api/v1/quality/ncrs", json={"title": "Burr", "affected_lots": lots}, headers=w.qa
        ),
        201,
    )
    # Every released unit, everywhere, is on hold at once
    assert balances(factory, "H-1") == sorted([("on_hold", w.dock, 4), ("on_hold", w.ambient, 6)])
    second = ok(
        client.post(
            "/api/v1/quality/ncrs", json={"title": "Crack", "affected_lots": lots}, headers=w.qa
        ),
        201,
    )
    with system_unit_of_work(factory) as session:
        holds = sorted(
            (h.source_id, h.quantity_held, h.released_at is None)
            for h in session.scalars(select(LotHold).where(LotHold.lot == "H-1"))
        )
    assert holds == [(first["id"], 9, True), (second["id"], 0, True)]
    # Cancelling the first: the second still names the lot, so nothing is released
    ok(
        client.post(
            f"/api/v1/quality/ncrs/{first['id']}/transitions",
            json={"action": "cancel", "reason": "duplicate"},
            headers=w.qa_approver,
        )
    )
    assert balances(factory, "H-1") == sorted([("on_hold", w.dock, 4), ("on_hold", w.ambient, 6)])
    # Cancelling the second releases what the NCRs held — not the unit held by hand
    ok(
        client.post(
            f"/api/v1/quality/ncrs/{second['id']}/transitions",
            json={"action": "cancel", "reason": "not a defect"},
            headers=w.qa_approver,
        )
    )
    assert balances(factory, "H-1") == sorted(
        [("released", w.dock, 4), ("released", w.ambient, 5), ("on_hold", w.ambient, 1)]
    )
    with system_unit_of_work(factory) as session:
        assert all(
            h.released_at is not None
            for h in session.scalars(select(LotHold).where(LotHold.lot == "H-1"))
        )
    audit = ok(client.get("/api/v1/audit", params={"entity_type": "ncr"}, headers=w.admin))
    handled = [e["new_values"]["handlers"] for e in audit["items"] if e["action"] == "lot_hold"]
    assert handled and all("inventory" in h for h in handled)
