"""The list and record toolkit, the home page, error pages, the phone layout and the offline API
docs in headless Chromium (issue 13)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from medledger.core.work import work_of
from tests.builders import PASSWORD
from tests.web.test_lists import _network_with_parties
from tests.web.test_pages import _trace_network_with_products

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(chromium: Any, live_server: str) -> Iterator[Any]:
    """A phone-sized page (390 × 844 CSS pixels, touch, as an iPhone 12–15)."""
    context = chromium.new_context(
        base_url=live_server,
        locale="en-US",
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def log_in(page: Any, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


def column(page: Any, key: str) -> list[str]:
    return [t.strip() for t in page.locator(f'#results td[data-col="{key}"]').all_inner_texts()]


def test_sorting_and_searching_a_list(browser_page: Any, factory: Any) -> None:
    # Given parties whose names a code-point sort gets wrong
    _network_with_parties(factory)
    page = browser_page
    log_in(page, "acme-admin")
    page.goto("/parties")
    ascending = column(page, "name")
    assert ascending.index("Calibration Lab") < ascending.index("CVC Logistics")
    # When the user clicks the Name header: the list turns around, in place, and the URL says so
    page.locator('th a[data-sort="name"]').click()
    page.wait_for_url("**/parties?sort=-name")
    assert column(page, "name") == list(reversed(ascending))
    assert page.locator('th[aria-sort="descending"]').inner_text().startswith("Name")
    # When it types in the search field: the rows narrow as it types, keeping the sort
    page.get_by_label("Search").fill("medical")
    page.wait_for_url("**/parties?q=medical&sort=-name")
    page.wait_for_function(
        "document.querySelector('[data-testid=list-count]').textContent === '2 parties'"
    )
    assert column(page, "name") == ["Élan Medical", "acme Medical"]
    # And a filter combines with both
    page.get_by_label("Region").select_option("EU")
    page.wait_for_url("**region=EU**")
    assert column(page, "name") == ["Élan Medical", "acme Medical"]


def test_exporting_a_list_gives_the_rows_shown(browser_page: Any, factory: Any) -> None:
    # Given a filtered, sorted list
    _network_with_parties(factory)
    page = browser_page
    log_in(page, "acme-admin")
    page.goto("/parties?region=EU&sort=-name")
    shown = [
        [cell.strip() for cell in row.locator("td[data-col]").all_inner_texts()]
        for row in page.locator("#results tbody tr").all()
    ]
    assert [row[0] for row in shown] == ["Élan Medical", "Calibration Lab", "acme Medical"]
    # When the user exports it as CSV
    with page.expect_download() as csv_download:
        page.locator('a[data-export="csv"]').click()
    text = Path(csv_download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    # Then the file has the header and exactly the rows of the list, in its order
    assert rows[0] == ["Name", "GLN", "Roles", "Country", "Region", "State"]
    assert rows[1:] == shown
    # And the XLSX file has the same cells
    with page.expect_download() as xlsx_download:
        page.locator('a[data-export="xlsx"]').click()
    workbook = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes()))
    sheet = workbook.active
    assert sheet is not None
    assert [[c or "" for c in row] for row in sheet.values] == rows


def test_a_records_history_panel(browser_page: Any, factory: Any) -> None:
    # Given a QA user who renames a product
    net, _component, finished = _trace_network_with_products(factory)
    assert net
    page = browser_page
    log_in(page, "acme-qa")
    page.goto(f"/products/{finished}")
    page.locator("#f-name").fill("Stent system, 3 mm")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"**/products/{finished}?saved=1")
    # Then the product's history shows the change first: who, when (in the user's zone), what
    history = page.get_by_test_id("history")
    first = history.locator("li").first
    assert first.get_attribute("data-action") == "update"
    head = first.locator(".history-head").inner_text()
    assert head.startswith("changed · acme-qa (acme qa) · ")
    assert head.endswith(("+01:00", "+02:00"))
    assert first.locator("table.changes tr").first.inner_text().split() == [
        "Name",
        "Stent",
        "system",
        "→",
        "Stent",
        "system,",
        "3",
        "mm",
    ]
    assert history.locator("li").last.get_attribute("data-action") == "create"
    # And the page links its lots and serials, the breadcrumbs lead back to the list
    assert page.get_by_test_id("product-lots").locator("a").first.inner_text() == "F1"
    page.get_by_role("navigation", name="Breadcrumbs").get_by_role("link", name="Products").click()
    page.wait_for_url("**/products")
    page.goto(f"/products/{finished}")


def test_the_home_of_three_roles(browser_page: Any, factory: Any) -> None:
    _trace_network_with_products(factory)
    page = browser_page
    expected = {
        "acme-admin": [
            "trace_gaps",
            "near_expiry",
            "recent_captures",
            "recall_notices_open",
            "failed_captures",
            "users_expiring",
            "api_keys_expiring",
            "audit_chain",
        ],
        "acme-warehouse": [
            "trace_gaps",
            "near_expiry",
            "recent_captures",
            "recall_notices_open",
            "failed_captures",
        ],
        "acme-supplier": [
            "trace_gaps",
            "near_expiry",
            "recent_captures",
            "recall_notices_open",
            "failed_captures",
            "users_expiring",
        ],
    }
    gaps = {"acme-admin": "1", "acme-warehouse": "1", "acme-supplier": "0"}
    for username, tiles in expected.items():
        log_in(page, username)
        keys = page.locator("[data-tile]").evaluate_all("els => els.map(e => e.dataset.tile)")
        assert keys == tiles, username
        gap_tile = page.locator('[data-tile="trace_gaps"]')
        assert gap_tile.locator(".tile-value").inner_text() == gaps[username], username
        # The chart is drawn by Chart.js, served from /vendor
        page.wait_for_selector('section[data-chart="events_per_month"][data-drawn="true"]')
        if username == "acme-admin":
            # The audit chain tile is verified after the page loaded
            page.wait_for_selector('[data-tile="audit_chain"] [data-result="ok"]')
            # A tile leads to the list of exactly what it counts
            gap_tile.locator("a").click()
            page.wait_for_url("**/lots?gap=open")
            assert page.get_by_test_id("list-count").inner_text() == "1 item"
        page.context.clear_cookies()


def test_an_unknown_url_is_an_html_404(browser_page: Any, factory: Any) -> None:
    _network_with_parties(factory)
    page = browser_page
    log_in(page, "acme-admin")
    response = page.goto("/no/such/page")
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "Not found"
    assert page.title() == "Not found · MedLedger"
    page.get_by_role("link", name="Go to the home page").click()
    page.wait_for_url("**/")


# Every page of each role, with a record of each kind (filled in by the test).
PHONE_PAGES = [
    "/",
    "/parties",
    "/parties/new",
    "/parties/{supplier}",
    "/sites",
    "/sites/new",
    "/sites/{site}",
    "/locations",
    "/locations/new",
    "/locations/{location}",
    "/products",
    "/products/new",
    "/products/{product}",
    "/boms",
    "/users",
    "/users/new",
    "/users/{user}",
    "/api-keys",
    "/audit",
    "/audit/verify",
    "/lots",
    "/lots/{lot}",
    "/events",
    "/capture-jobs",
    "/trace",
    "/trace?id={lot_uri}",
    "/trace/event?id=urn:uuid:make-f1",
    "/preferences",
    "/no/such/page",
]
PARTNER_PAGES = ["/", "/parties", "/sites", "/locations", "/products", "/users", "/lots", "/events"]


def _site_with_a_location(factory: Any, tenant_id: int, party_id: int) -> int:
    from medledger.core.system import system_unit_of_work, tenant_admin
    from medledger.parties.schemas import LocationIn, SiteIn
    from medledger.parties.service import create_location, create_site
    from tests.builders import gln

    with system_unit_of_work(factory) as session:
        admin = tenant_admin(session, tenant_id)
        work_of(session).act_as(admin)
        site = create_site(
            session,
            admin,
            SiteIn(party_id=party_id, name="Plant Suzhou", gln=gln(70), country="CN"),
        )
        create_location(
            session,
            admin,
            LocationIn(
                site_id=site.id,
                code="COLD-1",
                name="Cold room",
                storage_class="chilled_2_8",
                zone_purpose="released",
            ),
        )
        return site.id


def _first_location(engine: Any) -> int:
    from sqlalchemy import text

    with engine.begin() as conn:
        return int(conn.execute(text("SELECT min(id) FROM locations")).scalar() or 0)


def _no_sideways_scroll(page: Any, path: str) -> None:
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{path} scrolls sideways: {widths}"


def test_the_phone_layout_of_every_page(phone: Any, factory: Any, engine: Any) -> None:
    from sqlalchemy import text

    net, _component, finished = _trace_network_with_products(factory)
    site = _site_with_a_location(factory, net.network.tenant_id, net.network.hub_id)
    with engine.begin() as conn:
        lot_uri = conn.execute(
            text("SELECT uri FROM trace_items WHERE id = :id"), {"id": net.ids["F1"]}
        ).scalar()
    values = {
        "supplier": net.network.supplier_id,
        "site": site,
        "location": _first_location(engine),
        "product": finished,
        "user": net.network.users["planner"],
        "lot": net.ids["F1"],
        "lot_uri": lot_uri,
    }
    page = phone
    log_in(page, "acme-admin")
    # The header is one short row; the menu opens with its button
    assert page.locator("header.topbar").bounding_box()["height"] < 60
    assert not page.locator("nav.mainnav").is_visible()
    page.get_by_role("button", name="Menu").click()
    assert page.locator("nav.mainnav").is_visible()
    page.get_by_role("link", name="Parties").click()
    page.wait_for_url("**/parties")
    for template in PHONE_PAGES:
        path = template.format(**values)
        response = page.goto(path)
        assert response is not None and response.status in (200, 404), path
        page.wait_for_load_state("networkidle")
        _no_sideways_scroll(page, path)
    # A list's rows are cards: each cell carries its column's name
    page.goto("/parties")
    assert page.locator("#results thead").is_hidden()
    page.goto("/")
    # The trace input fits
    page.goto("/trace")
    box = page.locator("#f-id").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    # And the same in Chinese
    page.goto("/preferences")
    page.locator("select[name=locale]").select_option("zh_Hans")
    page.locator("form[action='/preferences'] button[type=submit]").click()
    page.wait_for_url("**/preferences?saved=1")
    for template in PHONE_PAGES:
        path = template.format(**values)
        page.goto(path)
        page.wait_for_load_state("networkidle")
        _no_sideways_scroll(page, path)
    page.goto("/lots")
    # A partner's pages too
    page.context.clear_cookies()
    log_in(page, "acme-distributor")
    for path in PARTNER_PAGES:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        _no_sideways_scroll(page, path)


def test_chinese_desktop_screens(browser_page: Any, factory: Any) -> None:
    net, _component, _finished = _trace_network_with_products(factory)
    page = browser_page
    log_in(page, "acme-admin")
    page.goto("/preferences")
    page.locator("select[name=locale]").select_option("zh_Hans")
    page.locator("form[action='/preferences'] button[type=submit]").click()
    page.wait_for_url("**/preferences?saved=1")
    page.goto(f"/lots/{net.ids['F1']}")
    assert page.locator("h1").inner_text().startswith("批次")
    page.goto("/trace/event?id=urn:uuid:pack-p1")
    assert page.get_by_test_id("event-kind").inner_text() == "聚合事件 · 添加"
    assert page.get_by_test_id("event-biz-step").inner_text() == "包装"
    page.goto("/parties")
    assert page.get_by_test_id("list-count").inner_text() == "4 个参与方"


def test_api_docs_work_offline(browser_page: Any, factory: Any, live_server: str) -> None:
    # Given a browser that may reach nothing but MedLedger itself
    page = browser_page
    blocked: list[str] = []

    def only_local(route: Any) -> None:
        if route.request.url.startswith(live_server):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    # When it opens Swagger UI
    response = page.goto("/docs")
    assert response is not None and response.status == 200
    # Then the operations are rendered from the local OpenAPI document
    page.wait_for_selector(".opblock-summary-path")
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/parties" in [p.strip() for p in paths]
    assert len(paths) > 10
    # And ReDoc too
    page.goto("/redoc")
    page.wait_for_selector("[data-section-id^='tag/'], [data-section-id^='operation/']")
    assert page.locator("[data-section-id^='operation/']").count() > 20
    # And nothing tried to leave the machine
    assert blocked == []
