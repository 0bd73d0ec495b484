"""Supplier improvement plans: linked to the supplier's NCRs and CAPAs, visible to that
supplier only, actions and reviews, overdue actions on both sides' home pages."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.analytics.builders import build_supplier_history, ok
from tests.web.browsing import log_in


def test_a_plan_is_shared_with_its_supplier_and_its_overdue_actions_show_on_both_homes(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    h = build_supplier_history(client, factory)
    w = h.w
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    body = {
        "supplier_party_id": w.network.supplier_id,
        "title": "Deburring capability",
        "goal": "No burr NCR for three months",
        "due_date": (date.today() + timedelta(days=60)).isoformat(),
        "ncr_ids": h.ncr_ids,
        "capa_ids": [h.capa_id],
        "actions": [
            {
                "description": "Tool-wear study",
                "side": "supplier",
                "owner_name": "Wang Lei",
                "due_date": yesterday,
            },
            {
                "description": "Tightened inspection",
                "side": "hub",
                "owner_name": "QA",
                "due_date": yesterday,
            },
        ],
    }
    plan = ok(client.post("/api/v1/analytics/plans", json=body, headers=w.purchasing), 201)
    assert [n["id"] for n in plan["ncrs"]] == h.ncr_ids
    assert [c["id"] for c in plan["capas"]] == [h.capa_id]
    assert [(a["side"], a["overdue"]) for a in plan["actions"]] == [
        ("supplier", True),
        ("hub", True),
    ]
    # A link to another supplier's record is refused, naming the field
    other = client.post(
        "/api/v1/analytics/plans",
        json={**body, "supplier_party_id": w.network.distributor_id},
        headers=w.purchasing,
    )
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "ncr_ids.0"
    assert other.json()["code"] == "analytics.link_unknown"
    # The supplier sees it (read-only); the distributor does not
    assert [p["id"] for p in ok(client.get("/api/v1/analytics/plans", headers=w.supplier))] == [
        plan["id"]
    ]
    assert client.get("/api/v1/analytics/plans", headers=w.distributor).json() == []
    assert (
        client.get(f"/api/v1/analytics/plans/{plan['id']}", headers=w.distributor).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/v1/analytics/plans/{plan['id']}/reviews",
            json={"note": "x"},
            headers=w.supplier,
        ).status_code
        == 403
    )
    # Both homes show the overdue action of their own side
    supplier_home = TestClient(client.app)
    log_in(supplier_home, "sc-supplier")
    page = supplier_home.get("/").text
    assert 'data-testid="overdue-plan-actions"' in page and "Tool-wear study" in page
    assert "Tightened inspection" not in page
    hub_home = TestClient(client.app)
    log_in(hub_home, "sc-purchasing")
    page = hub_home.get("/").text
    assert "Tightened inspection" in page and "Tool-wear study" not in page
    # Done and reviewed: the action leaves the home, a closing review ends the plan
    hub_action = plan["actions"][1]["id"]
    done = ok(
        client.post(
            f"/api/v1/analytics/plans/{plan['id']}/actions/{hub_action}/done",
            json={"note": "10 lots checked"},
            headers=w.qa,
        )
    )
    assert done["actions"][1]["done"] is True
    again = client.post(
        f"/api/v1/analytics/plans/{plan['id']}/actions/{hub_action}/done",
        json={},
        headers=w.qa,
    )
    assert (again.status_code, again.json()["code"]) == (409, "analytics.action_done")
    assert "Tightened inspection" not in hub_home.get("/").text
    closed = ok(
        client.post(
            f"/api/v1/analytics/plans/{plan['id']}/reviews",
            json={"note": "Goal met.", "close": True},
            headers=w.purchasing,
        )
    )
    assert closed["state"] == "closed" and closed["reviews"][0]["note"] == "Goal met."
    late = client.post(
        f"/api/v1/analytics/plans/{plan['id']}/reviews",
        json={"note": "more"},
        headers=w.purchasing,
    )
    assert (late.status_code, late.json()["code"]) == (409, "analytics.plan_closed")
    # and the plan page shows it to the supplier in its own words
    page = supplier_home.get(f"/analytics/plans/{plan['id']}")
    assert page.status_code == 200 and "Deburring capability" in page.text
