"""Inspection plans, inspections with results from the hub and from a test lab (isolated from
other partners), automatic verdicts and the NCR a failure opens; through the real HTTP API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.inventory.builders import AMBIENT_GTIN
from tests.quality.inspection_builders import Lab, balances, build_lab, ok, plan, receive, state


@pytest.fixture
def lab(client: TestClient, factory: sessionmaker[Session]) -> Lab:
    return build_lab(client, factory)


def test_a_plan_needs_acceptance_criteria_and_every_edit_is_a_new_version(
    client: TestClient, lab: Lab
) -> None:
    qa = lab.w.qa
    bad = client.post(
        "/api/v1/quality/inspection-plans",
        json={
            "title": "x",
            "product_id": lab.product_id,
            "characteristics": [{"name": "Length", "kind": "numeric"}],
        },
        headers=qa,
    )
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (
        422,
        "characteristics.0",
    )
    twice = client.post(
        "/api/v1/quality/inspection-plans",
        json={
            "title": "x",
            "product_id": lab.product_id,
            "characteristics": [
                {"name": "Burr", "kind": "attribute", "expected": "none"},
                {"name": "burr", "kind": "attribute", "expected": "none"},
            ],
        },
        headers=qa,
    )
    assert (twice.status_code, twice.json()["errors"][0]["code"]) == (
        422,
        "inspection.characteristic_duplicate",
    )
    created = plan(client, lab)
    assert (created["number"][:3], created["version"]) == ("IP-", 1)
    edited = ok(
        client.patch(
            f"/api/v1/quality/inspection-plans/{created['id']}",
            json={"title": "Incoming inspection, rev. B"},
            headers=qa,
        )
    )
    assert (edited["version"], edited["title"]) == (2, "Incoming inspection, rev. B")
    audit = ok(
        client.get("/api/v1/audit", params={"entity_type": "inspection_plan"}, headers=lab.w.admin)
    )
    assert [e["action"] for e in audit["items"]][-2:] in (
        ["create", "update"],
        ["update", "create"],
    )
    # Partners do not see plans (hub-only table)
    assert (
        client.get(f"/api/v1/quality/inspection-plans/{created['id']}", headers=lab.lab).status_code
        == 404
    )


def test_a_test_lab_enters_results_of_its_lots_only_and_a_failure_opens_an_ncr(
    client: TestClient, factory: sessionmaker[Session], lab: Lab
) -> None:
    # Given a plan and a received lot sent to the lab
    plan(client, lab)
    receive(client, lab.w, "F-1", 10)
    inspection = ok(
        client.post(
            "/api/v1/quality/inspections",
            json={
                "gtin": AMBIENT_GTIN,
                "lot": "F-1",
                "lab_party_id": lab.lab_id,
                "supplier_party_id": lab.w.network.supplier_id,
            },
            headers=lab.w.qa,
        ),
        201,
    )
    assert (inspection["state"], inspection["verdict"], inspection["plan_version"]) == (
        "open",
        None,
        1,
    )
    assert inspection["received_at"] is not None
    path = f"/api/v1/quality/inspections/{inspection['id']}"
    # The lab sees it (and it waits in its tasks); another lab and the supplier do not
    assert ok(client.get(path, headers=lab.lab))["number"] == inspection["number"]
    tasks = ok(client.get("/api/v1/quality/tasks", headers=lab.lab))
    assert [(t["number"], t["kind"]) for t in tasks] == [(inspection["number"], "inspection")]
    for headers in (lab.other_lab, lab.w.supplier):
        assert client.get(path, headers=headers).status_code == 404
        listed = ok(client.get("/api/v1/quality/inspections", headers=headers))
        assert listed["total"] == 0
        refused = client.post(
            f"{path}/results",
            json={"results": [{"name": "Burr", "values": ["none"]}]},
            headers=headers,
        )
        assert refused.status_code == 404
    # A reading count that is not the sample size is refused, and nothing changes
    before = state(factory)
    wrong = client.post(
        f"{path}/results",
        json={"results": [{"name": "Outer diameter", "values": [3.0, 3.0]}]},
        headers=lab.lab,
    )
    error = wrong.json()["errors"][0]
    assert (wrong.status_code, error["field"], error["code"], error["message"]) == (
        422,
        "results.0.values",
        "inspection.sample_size",
        "Outer diameter needs 3 readings; 2 given.",
    )
    assert state(factory) == before
    # Partial results: a verdict per characteristic, none overall yet
    partial = ok(
        client.post(
            f"{path}/results",
            json={"results": [{"name": "Outer diameter", "values": [3.0, 2.95, 3.1]}]},
            headers=lab.lab,
        )
    )
    assert partial["results"]["Outer diameter"]["verdict"] == "pass"
    assert (partial["state"], partial["verdict"]) == ("open", None)
    # The last reading fails: the inspection fails and opens an NCR with the lot
    failed = ok(
        client.post(
            f"{path}/results",
            json={"results": [{"name": "Burr", "values": ["sharp burr"]}]},
            headers=lab.lab,
        )
    )
    assert (failed["state"], failed["verdict"]) == ("failed", "fail")
    assert failed["results"]["Burr"]["verdict"] == "fail"
    ncr = ok(client.get(f"/api/v1/quality/ncrs/{failed['ncr_id']}", headers=lab.w.qa))
    assert (ncr["source"], ncr["state"], ncr["affected_lots"], ncr["supplier_party_id"]) == (
        "inspection",
        "open",
        [{"gtin": AMBIENT_GTIN, "lot": "F-1"}],
        lab.w.network.supplier_id,
    )
    assert "Burr" in ncr["title"]
    # Quarantine stock stays in quarantine (not usable anyway; release is refused under the NCR)
    assert balances(factory, "F-1") == [("quarantine", lab.w.dock, 10)]
    # Decided results no longer change
    again = client.post(
        f"{path}/results",
        json={"results": [{"name": "Burr", "values": ["none"]}]},
        headers=lab.lab,
    )
    assert (again.status_code, again.json()["code"]) == (409, "inspection.decided")
    history = [h["action"] for h in failed["history"]]
    assert history == ["fail"]


def test_hub_results_pass_an_inspection_and_a_supplier_plan_comes_first(
    client: TestClient, lab: Lab
) -> None:
    plan(client, lab)
    own = plan(
        client,
        lab,
        title="Supplier-specific",
        supplier_party_id=lab.w.network.supplier_id,
        characteristics=[{"name": "Colour", "kind": "attribute", "expected": "blue"}],
    )
    inspection = ok(
        client.post(
            "/api/v1/quality/inspections",
            json={
                "gtin": AMBIENT_GTIN,
                "lot": "P-1",
                "supplier_party_id": lab.w.network.supplier_id,
            },
            headers=lab.w.qa,
        ),
        201,
    )
    assert inspection["plan_id"] == own["id"]
    # The warehouse may report NCRs but not enter inspection results
    denied = client.post(
        f"/api/v1/quality/inspections/{inspection['id']}/results",
        json={"results": [{"name": "Colour", "values": ["Blue "]}]},
        headers=lab.w.warehouse,
    )
    assert denied.status_code == 403
    passed = ok(
        client.post(
            f"/api/v1/quality/inspections/{inspection['id']}/results",
            json={"results": [{"name": "Colour", "values": ["Blue "]}]},
            headers=lab.w.qa,
        )
    )
    assert (passed["state"], passed["verdict"], passed["ncr_id"]) == ("passed", "pass", None)
    # No plan of that kind: refused with the field
    none = client.post(
        "/api/v1/quality/inspections",
        json={"gtin": AMBIENT_GTIN, "lot": "P-2", "kind": "final"},
        headers=lab.w.qa,
    )
    assert (none.status_code, none.json()["errors"][0]["field"]) == (422, "kind")
    # Only a test lab can be assigned
    not_lab = client.post(
        "/api/v1/quality/inspections",
        json={"gtin": AMBIENT_GTIN, "lot": "P-3", "lab_party_id": lab.w.network.supplier_id},
        headers=lab.w.qa,
    )
    assert (not_lab.status_code, not_lab.json()["code"]) == (422, "inspection.not_a_test_lab")
