"""``GET /api/v1/trace``: JSON and CSV answers, problem+json errors, partner isolation."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.builders import token_headers
from tests.trace.network import (
    COMPONENT,
    DIST_GLN,
    FINISHED,
    HOSP_GLN,
    HUB_GLN,
    TraceNetwork,
    build_trace_network,
    dl_lot,
    dl_serial,
    sscc_scan,
)


@pytest.fixture
def net(factory: sessionmaker[Session]) -> TraceNetwork:
    return build_trace_network(factory)


def test_downstream_json(client: TestClient, net: TraceNetwork) -> None:
    headers = token_headers(client, "acme-planner")
    response = client.get("/api/v1/trace", params={"id": dl_lot(COMPONENT, "C1")}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["direction"] == "downstream"
    assert [lot["lot"] for lot in body["lots"]] == ["F1"]
    assert sorted(s["serial"] for s in body["serials"]) == ["S1", "S2", "S3"]
    assert body["counts"]["logistic_units"] == 2


def test_csv_listing_by_format_and_by_accept(client: TestClient, net: TraceNetwork) -> None:
    headers = token_headers(client, "acme-planner")
    by_format = client.get(
        "/api/v1/trace", headers=headers, params={"id": dl_lot(FINISHED, "F1"), "format": "csv"}
    )
    by_accept = client.get(
        "/api/v1/trace",
        params={"id": dl_lot(FINISHED, "F1")},
        headers={**headers, "Accept": "text/csv"},
    )
    assert by_format.status_code == by_accept.status_code == 200
    assert by_format.headers["content-type"].startswith("text/csv")
    assert by_format.text == by_accept.text
    rows = list(csv.DictReader(io.StringIO(by_format.text)))
    assert [(r["kind"], r["lot"] or r["sscc"], r["serial"], r["holder_gln"]) for r in rows] == [
        ("lot", "F1", "", HUB_GLN),
        ("serial", "F1", "S1", HUB_GLN),
        ("serial", "F1", "S2", HUB_GLN),
        ("serial", "F1", "S3", HUB_GLN),
        ("sscc", sscc_scan(1)[4:], "", DIST_GLN),
        ("sscc", sscc_scan(2)[4:], "", HOSP_GLN),
    ]
    assert rows[4]["location"] == "urn:dist:wh" and rows[4]["disposition"] == "in_transit"


def test_unknown_item_is_404_problem_and_malformed_is_422(
    client: TestClient, net: TraceNetwork
) -> None:
    headers = token_headers(client, "acme-planner")
    missing = client.get("/api/v1/trace", params={"id": dl_lot(COMPONENT, "ZZ")}, headers=headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["code"] == "trace.item_not_found"
    malformed = client.get("/api/v1/trace", params={"id": "(01)123"}, headers=headers)
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["field"] == "id"
    bad_direction = client.get(
        "/api/v1/trace",
        headers=headers,
        params={"id": dl_lot(COMPONENT, "C1"), "direction": "sideways"},
    )
    assert bad_direction.status_code == 422


def test_authentication_is_required(client: TestClient, net: TraceNetwork) -> None:
    response = client.get("/api/v1/trace", params={"id": dl_lot(COMPONENT, "C1")})
    assert response.status_code == 401


def test_partner_isolation(client: TestClient, net: TraceNetwork) -> None:
    headers = token_headers(client, "acme-distributor")
    hidden = client.get("/api/v1/trace", params={"id": dl_serial(FINISHED, "S1")}, headers=headers)
    assert hidden.status_code == 404
    own = client.get("/api/v1/trace", params={"id": sscc_scan(1)}, headers=headers)
    assert own.status_code == 200
    body = own.json()
    assert body["scoped_to_party"] is True
    assert {p["gln"] for p in body["parties"]} == {DIST_GLN, HOSP_GLN}
    supplier = token_headers(client, "acme-supplier")
    assert (
        client.get("/api/v1/trace", params={"id": sscc_scan(1)}, headers=supplier).status_code
        == 404
    )
