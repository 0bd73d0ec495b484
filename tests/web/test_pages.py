"""Record pages (breadcrumbs, history panel, names for related records), the home page's tiles
per role, errors as pages, and the API documentation served from local files."""

from __future__ import annotations

import html
import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from medledger.catalog.schemas import ProductIn
from medledger.catalog.service import create_product
from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.core.work import work_of
from medledger.trace.models import TraceItem
from tests.builders import Network, build_network, gtin
from tests.trace.builders import sscc_number
from tests.trace.network import COMPONENT, FINISHED, TraceNetwork, build_trace_network
from tests.web.browsing import csrf, list_column, log_in


def _history(page: str) -> list[tuple[str, str]]:
    """(action, text) of each entry of a record's history panel, newest first."""
    panel = page.split('data-testid="history"', 1)[1].split("</section>", 1)[0]
    return [
        (action, html.unescape(" ".join(re.sub(r"<[^>]+>", " ", body).split())))
        for action, body in re.findall(r'data-action="([^"]+)">(.*?)</li>', panel, re.S)
    ]


def test_a_record_page_has_breadcrumbs_and_its_own_history(
    client: TestClient, factory: Any
) -> None:
    network = build_network(factory)
    log_in(client, "acme-admin")
    token = csrf(client)
    client.post(
        f"/parties/{network.supplier_id}/deactivate",
        data={"csrf_token": token, "reason": "Audit finding 12"},
    )
    page = client.get(f"/parties/{network.supplier_id}").text
    assert re.search(
        r'<nav class="crumbs" aria-label="Breadcrumbs"><ol>\s*<li><a href="/">Home</a></li>\s*'
        r'<li><a href="/parties">Parties</a></li>\s*'
        r'<li><span aria-current="page">acme Components</span></li>',
        page,
    )
    entries = _history(page)
    assert [action for action, _ in entries] == ["deactivate", "create"]
    assert entries[0][1].startswith("deactivated · acme-admin (acme admin) · ")
    assert "+01:00" in entries[0][1] or "+02:00" in entries[0][1]  # the admin's zone (Berlin)
    assert "Reason: Audit finding 12" in entries[0][1]
    assert "Active yes → no" in entries[0][1]
    # Only this record's entries: the other parties' creations are not in its panel.
    assert len(entries) == 2
    # A role that may not read the audit trail gets no panel at all.
    client.cookies.clear()
    log_in(client, "acme-planner")
    assert 'data-testid="history"' not in client.get(f"/parties/{network.supplier_id}").text


def _product(factory: Any, network: Network, number: int, name: str) -> int:
    with system_unit_of_work(factory) as session:
        admin = tenant_admin(session, network.tenant_id)
        work_of(session).act_as(admin)
        product = create_product(
            session,
            admin,
            ProductIn(
                gtin=gtin(number),
                name=name,
                tracking_level="lot",
                storage_class="ambient",
                shelf_life_days=365,
            ),
        )
        return product.id


def _trace_network_with_products(factory: Any) -> tuple[TraceNetwork, int, int]:
    net = build_trace_network(factory)
    component = _product(factory, net.network, COMPONENT, "Nitinol wire")
    finished = _product(factory, net.network, FINISHED, "Stent system")
    with system_unit_of_work(factory) as session:
        session.execute(
            update(TraceItem)
            .where(TraceItem.id == net.ids["F1"])
            .values(expiry="2099-12-31", last_disposition="active", last_biz_step="packing")
        )
        session.execute(
            update(TraceItem).where(TraceItem.id == net.ids["C1"]).values(expiry="2020-01-31")
        )
    return net, component, finished


def test_product_page_lists_its_lots_and_serials(client: TestClient, factory: Any) -> None:
    net, _component, finished = _trace_network_with_products(factory)
    log_in(client, "acme-planner")
    page = html.unescape(client.get(f"/products/{finished}").text)
    lots = page.split('data-testid="product-lots"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r'href="/lots/(\d+)">(\w+)</a>', lots) == [
        (str(net.ids["F1"]), "F1"),
        (str(net.ids["S1"]), "S1"),
        (str(net.ids["S2"]), "S2"),
        (str(net.ids["S3"]), "S3"),
    ]
    assert "Dec 31, 2099" in lots and "active" in lots and "packing" in lots


def test_lot_page_shows_where_it_is_and_links_to_its_trace(
    client: TestClient, factory: Any
) -> None:
    net, _component, finished = _trace_network_with_products(factory)
    log_in(client, "acme-planner")
    response = client.get(f"/lots/{net.ids['F1']}")
    assert response.status_code == 200
    page = html.unescape(response.text)
    assert f'<a href="/products/{finished}">Stent system</a>' in page
    assert "held by acme Medical" in page
    assert re.findall(r'href="/lots/\d+">(S\d)</a>', page) == ["S1", "S2", "S3"]
    assert 'href="/trace?id=https%3A%2F%2Fid.gs1.org%2F01%2F' in response.text
    expired = html.unescape(client.get(f"/lots/{net.ids['C1']}").text)
    assert '<span class="badge badge-alert">expired</span>' in expired
    # The lots list filters by expiry and by open trace gaps (for the home page's tiles).
    assert list_column(client.get("/lots?expired=true").text, "identifier") == ["C1"]
    gaps = list_column(client.get("/lots?gap=open").text, "identifier")
    assert gaps == [sscc_number(1)]  # P1: shipped to the hospital, never received
    # A partner does not see lots that do not concern it: 404, not 403.
    client.cookies.clear()
    log_in(client, "acme-supplier")
    assert client.get(f"/lots/{net.ids['F1']}").status_code == 404
    assert client.get(f"/lots/{net.ids['C1']}").status_code == 200


def test_event_page_is_a_readable_card_with_the_json_behind_a_toggle(
    client: TestClient, factory: Any
) -> None:
    _trace_network_with_products(factory)
    log_in(client, "acme-qa")
    page = html.unescape(client.get("/trace/event", params={"id": "urn:uuid:pack-p1"}).text)
    assert '<h1 data-testid="event-kind">Aggregation event · add</h1>' in page
    assert '<dd data-testid="event-biz-step">packing</dd>' in page
    assert "<dt>Captured by</dt><dd>acme Medical" in page
    assert "<summary>Stored EPCIS JSON</summary>" in page
    client.cookies.clear()
    log_in(client, "acme-admin")
    zh = client.get(
        "/trace/event", params={"id": "urn:uuid:pack-p1"}, headers={"Accept-Language": "zh-CN"}
    )
    assert '<dd data-testid="event-biz-step">包装</dd>' in zh.text


def _tiles(page: str) -> dict[str, str]:
    return {
        key: value
        for key, value in re.findall(
            r'data-tile="([a-z_]+)">\s*<a href="[^"]*">\s*<span class="tile-value"'
            r'(?: data-value="([^"]*)")?',
            page,
        )
    }


def test_home_shows_the_work_of_each_role(client: TestClient, factory: Any) -> None:
    _trace_network_with_products(factory)
    expected = {
        "acme-admin": {
            "trace_gaps": "1",
            "near_expiry": "0",
            "recent_captures": "0",
            "recall_notices_open": "0",
            "failed_captures": "0",
            "users_expiring": "0",
            "api_keys_expiring": "0",
            "audit_chain": "",
        },
        "acme-warehouse": {
            "trace_gaps": "1",
            "near_expiry": "0",
            "recent_captures": "0",
            "recall_notices_open": "0",
            "failed_captures": "0",
        },
        # The distributor is involved with P1 only; its gap counts (it concerns it).
        "acme-distributor": {
            "trace_gaps": "1",
            "near_expiry": "0",
            "recent_captures": "0",
            "recall_notices_open": "0",
            "failed_captures": "0",
            "users_expiring": "0",
        },
        "acme-supplier": {
            "trace_gaps": "0",
            "near_expiry": "0",
            "recent_captures": "0",
            "recall_notices_open": "0",
            "failed_captures": "0",
            "users_expiring": "0",
        },
    }
    for username, tiles in expected.items():
        client.cookies.clear()
        log_in(client, username)
        page = client.get("/").text
        assert _tiles(page) == tiles, username
        assert 'href="/lots?gap=open"' in page
        assert 'data-chart="events_per_month"' in page
        assert '<script src="/vendor/chart.js/dist/chart.umd.min.js"></script>' in page
    # The audit tile is filled by the chain verification after the page loaded.
    client.cookies.clear()
    log_in(client, "acme-admin")
    tile = client.get("/audit/verify?tile=1", headers={"HX-Request": "true"})
    assert tile.text.strip() == '<span class="tile-ok" data-result="ok">intact</span>'


def test_an_unknown_page_is_an_html_page_for_browsers_and_problem_json_for_apis(
    client: TestClient, factory: Any
) -> None:
    build_network(factory)
    browser = client.get("/no/such/page", headers={"Accept": "text/html,application/xhtml+xml"})
    assert browser.status_code == 404
    assert browser.headers["content-type"].startswith("text/html")
    assert "<h1>Not found</h1>" in browser.text
    assert '<a class="button primary" href="/">Go to the home page</a>' in browser.text
    api = client.get("/api/v1/no-such-thing", headers={"Accept": "text/html"})
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["code"] == "not_found"
    plain = client.get("/no/such/page")
    assert plain.headers["content-type"] == "application/problem+json"
    # In the user's language, with the navigation, and for records the user may not see.
    log_in(client, "acme-admin")
    zh = client.get("/no/such/page", headers={"Accept": "text/html", "Accept-Language": "zh-CN"})
    assert "<h1>未找到</h1>" in zh.text and 'data-nav="parties"' in zh.text
    record = client.get("/parties/999999", headers={"Referer": "http://testserver/parties"})
    assert record.status_code == 404
    assert "<h1>Not found</h1>" in record.text
    assert "parties 999999" not in record.text
    assert '<a class="button" href="/parties">Back to the previous page</a>' in record.text


def test_api_docs_are_served_from_local_files(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert '<script src="/vendor/swagger-ui-dist/swagger-ui-bundle.js"></script>' in docs.text
    assert 'href="/vendor/swagger-ui-dist/swagger-ui.css"' in docs.text
    redoc = client.get("/redoc")
    assert '<script src="/vendor/redoc/bundles/redoc.standalone.js"> </script>' in redoc.text
    for page in (docs.text, redoc.text):
        assert not re.search(r'(src|href)="https?://', page), page
    for asset in (
        "/vendor/swagger-ui-dist/swagger-ui-bundle.js",
        "/vendor/swagger-ui-dist/swagger-ui.css",
        "/vendor/redoc/bundles/redoc.standalone.js",
        "/vendor/chart.js/dist/chart.umd.min.js",
    ):
        assert client.get(asset).status_code == 200, asset
