"""The trace explorer pages (``/trace``, ``/trace/event``, ``/trace/export.csv``) over the
hand-built network of ``tests/trace/network.py``, through the TestClient with a browser session.
"""

from __future__ import annotations

import csv
import html
import io
import re

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
    sscc_scan,
)
from tests.web.browsing import log_in, nav_keys


@pytest.fixture
def net(factory: sessionmaker[Session]) -> TraceNetwork:
    return build_trace_network(factory)


def counts(page: str) -> dict[str, int]:
    return {
        name: int(value)
        for name, value in re.findall(r'data-count="([a-z_]+)"><strong>(\d+)</strong>', page)
    }


def tree(page: str, side: str) -> list[tuple[int, str]]:
    """(depth, last path segment of the URI) of the tree items of one side, in page order."""
    match = re.search(
        rf'<ul class="trace-tree" data-side="{side}">(.*?)</ul>\s*</li>\s*</ul>', page, re.S
    )
    assert match, side
    return [
        (int(depth), uri.rsplit("/", 1)[-1])
        for uri, depth in re.findall(r'data-uri="([^"]+)" data-depth="(\d+)"', match.group(1))
    ]


def test_planner_explores_a_component_lot_downstream(client: TestClient, net: TraceNetwork) -> None:
    # given a planner logged in
    log_in(client, "acme-planner")
    # when it traces component lot C1 downstream
    response = client.get(
        "/trace", params={"id": dl_lot(COMPONENT, "C1"), "direction": "downstream"}
    )
    # then the page shows the counts, the indented tree, parties, gaps and events
    assert response.status_code == 200, response.text
    page = response.text
    assert "trace" in nav_keys(page)
    assert counts(page) == {
        "lots": 1,
        "serials": 3,
        "logistic_units": 2,
        "parties": 3,
        "events": 11,
        "gaps": 1,
    }
    # and how complete the record is: 3 of 4 shipments received, both lots of known origin
    completeness = re.search(r'data-testid="trace-completeness">(.*?)</p>', page, re.S)
    assert completeness is not None
    assert " ".join(html.unescape(re.sub(r"<[^>]+>", " ", completeness.group(1))).split()) == (
        "Traceability completeness: 83.3 % · 3 of 4 shipments received · "
        "2 of 2 lots with a known origin"
    )
    p1, p2 = sscc_scan(1)[4:], sscc_scan(2)[4:]
    assert tree(page, "downstream") == [
        (1, "F1"),
        (2, "S1"),
        (3, p1),
        (2, "S2"),
        (2, "S3"),
        (3, p2),
    ]
    assert 'data-side="upstream"' not in page
    parties = re.search(r'data-testid="trace-parties">(.*?)</table>', page, re.S)
    assert parties is not None
    assert re.findall(r'<td class="mono">(\d{13})</td>', parties.group(1)) == [
        HUB_GLN,
        DIST_GLN,
        HOSP_GLN,
    ]
    assert "Shipped, never received" in page
    assert 'href="/trace/event?id=urn%3Auuid%3Amake-f1' in page
    assert 'href="/trace/export.csv?id=%2801%29' in page


def test_event_drill_in_shows_the_stored_event(client: TestClient, net: TraceNetwork) -> None:
    log_in(client, "acme-qa")
    response = client.get("/trace/event", params={"id": "urn:uuid:make-f1"})
    assert response.status_code == 200, response.text
    page = html.unescape(response.text)
    assert '<dd class="mono" data-testid="event-id">urn:uuid:make-f1</dd>' in page
    assert '<h1 data-testid="event-kind">Transformation event · add</h1>' in page
    assert '"name": "make-f1"' in page  # the stored JSON


def test_csv_export_uses_the_browser_session(client: TestClient, net: TraceNetwork) -> None:
    log_in(client, "acme-planner")
    response = client.get("/trace/export.csv", params={"id": dl_lot(FINISHED, "F1")})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    api = client.get(
        "/api/v1/trace",
        params={"id": dl_lot(FINISHED, "F1"), "direction": "both", "format": "csv"},
        headers=token_headers(client, "acme-planner"),
    )
    assert response.text == api.text
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["direction"], r["lot"], r["serial"]) for r in rows[:2]] == [
        ("root", "F1", ""),
        ("upstream", "C1", ""),
    ]


def test_partner_sees_only_its_part_of_the_trace(client: TestClient, net: TraceNetwork) -> None:
    # given the distributor's clerk
    log_in(client, "acme-distributor")
    # when it traces the SSCC it received, both ways
    response = client.get("/trace", params={"id": sscc_scan(1)})
    # then it sees its own receipt and onward shipment, not the lot, serials or the hub's
    # other consignees
    assert response.status_code == 200, response.text
    page = response.text
    assert "Limited to what your organisation handled." in page
    assert counts(page) == {
        "lots": 0,
        "serials": 0,
        "logistic_units": 0,
        "parties": 3,
        "events": 3,
        "gaps": 1,
    }
    assert "make-f1" not in page and "/10/C1" not in page and "/21/S1" not in page
    # and items or events it never handled do not exist for it
    hidden = client.get("/trace", params={"id": dl_lot(COMPONENT, "C1")})
    assert hidden.status_code == 404
    assert 'data-code="trace.item_not_found"' in hidden.text
    assert client.get("/trace/event", params={"id": "urn:uuid:make-f1"}).status_code == 404
    assert client.get("/trace/event", params={"id": "urn:uuid:p1-onward"}).status_code == 200


def test_malformed_identifier_is_shown_on_the_field(client: TestClient, net: TraceNetwork) -> None:
    log_in(client, "acme-planner")
    response = client.get("/trace", params={"id": "(01)04098760000010(10)X"})
    assert response.status_code == 422
    assert 'id="id-error"' in response.text and 'aria-invalid="true"' in response.text
    empty = client.get("/trace")
    assert empty.status_code == 200 and 'data-testid="trace-counts"' not in empty.text


def test_anonymous_visitors_go_to_the_login_page(client: TestClient, net: TraceNetwork) -> None:
    response = client.get("/trace", params={"id": "x"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
