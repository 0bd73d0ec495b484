"""Deviations over HTTP and on their page: guards, author rule, closing summary, partner view."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.builders import PASSWORD, Network, build_network, gtin
from tests.quality.builders import Api, counts
from tests.web.browsing import csrf, log_in


@pytest.fixture
def net(factory: sessionmaker[Session]) -> Network:
    return build_network(factory)


@pytest.fixture
def api(app: object) -> Api:
    return Api(TestClient(app))  # type: ignore[arg-type]


def test_a_planned_deviation_is_assessed_approved_and_closed_with_signatures(
    api: Api, net: Network, factory: sessionmaker[Session]
) -> None:
    # Given a planned deviation for a supplier's lots, drafted by QA without its window
    response = api.post(
        "qa",
        "/api/v1/quality/deviations",
        {
            "title": "Use tubing with cosmetic scratches",
            "kind": "planned",
            "supplier_party_id": net.supplier_id,
            "affected_lots": [{"gtin": gtin(51), "lot": "T-1"}],
            "risk_assessment": "Scratches are outside the blood path; no functional impact.",
        },
    )
    assert response.status_code == 201, response.text
    deviation = response.json()
    assert deviation["number"].startswith("DEV-") and deviation["state"] == "draft"
    path = f"/api/v1/quality/deviations/{deviation['id']}"
    # When it is submitted without its window, it is refused and nothing changes
    before = counts(factory)
    refused = api.step("qa", "deviation", deviation["id"], "submit", password=PASSWORD)
    assert (refused.status_code, refused.json()["code"]) == (409, "deviation.window_missing")
    assert counts(factory) == before
    reversed_window = api.patch(
        "qa",
        path,
        {"valid_from": date.today().isoformat(), "valid_until": "2000-01-01"},
    )
    assert (reversed_window.status_code, reversed_window.json()["code"]) == (
        422,
        "deviation.window_reversed",
    )
    api.patch(
        "qa",
        path,
        {
            "valid_from": date.today().isoformat(),
            "valid_until": (date.today() + timedelta(days=30)).isoformat(),
        },
    )
    assert (
        api.step("qa", "deviation", deviation["id"], "submit", password=PASSWORD).json()["state"]
        == "in_review"
    )
    # the author cannot approve; the approver can
    before = counts(factory)
    refused = api.step("qa", "deviation", deviation["id"], "approve", password=PASSWORD)
    assert refused.status_code == 403
    assert counts(factory) == before
    approved = api.step("qa_approver", "deviation", deviation["id"], "approve", password=PASSWORD)
    assert approved.json()["state"] == "approved"
    # only the closing summary is editable now, and closure needs it
    locked = api.patch("qa", path, {"risk_assessment": "changed"})
    assert (locked.status_code, locked.json()["code"]) == (409, "record.locked_by_state")
    before = counts(factory)
    refused = api.step("qa_approver", "deviation", deviation["id"], "close", password=PASSWORD)
    assert (refused.status_code, refused.json()["code"]) == (409, "deviation.summary_missing")
    assert counts(factory) == before
    api.patch("qa", path, {"closure_summary": "Lot T-1 used; no complaint."})
    closed = api.step("qa_approver", "deviation", deviation["id"], "close", password=PASSWORD)
    body = closed.json()
    assert body["state"] == "closed"
    assert [(s["meaning"], s["matches_current_version"]) for s in body["signatures"]] == [
        ("authored", False),
        ("approved", False),
        ("closed", True),
    ]
    # Then the supplier it concerns sees it; the distributor does not
    assert api.get("supplier", path).status_code == 200
    assert api.get("distributor", path).status_code == 404
    assert [d["id"] for d in api.get("supplier", "/api/v1/quality/deviations").json()["items"]] == [
        deviation["id"]
    ]


def test_record_a_deviation_from_its_page(client: TestClient, net: Network) -> None:
    log_in(client, "acme-qa")
    token = csrf(client, "/quality/deviations/new")
    created = client.post(
        "/quality/deviations/new",
        data={
            "csrf_token": token,
            "title": "Oven 3 ran 2 °C low",
            "kind": "unplanned",
            "risk_assessment": "Within validated range.",
            "affected_lots.0.gtin": gtin(51),
            "affected_lots.0.lot": "O-3",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    page = client.get(created.headers["location"])
    assert page.status_code == 200
    assert "Oven 3 ran 2 °C low" in page.text and f"{gtin(51)} / O-3" in page.text
    assert 'data-action="submit"' in page.text
    home = client.get("/quality").text
    assert "/quality/deviations?open=1" in home
