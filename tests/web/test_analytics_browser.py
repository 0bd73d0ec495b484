"""The analytics screens in a real browser: the KPI board, a supplier scorecard with its
drill-down, forecasts and control charts — in English and Chinese, on a desktop and a phone
(390×844, nothing scrolls sideways), and a supplier's user seeing only its own scorecard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.analytics.builders import build_board_world
from tests.builders import token_headers
from tests.web import test_browser
from tests.web.test_browser import log_in

pytestmark = pytest.mark.browser

shots = test_browser.shots

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _no_sideways_scroll(page: Any, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


@pytest.mark.parametrize(
    ("user", "locale", "viewport"),
    [
        ("sc-purchasing", "en", DESKTOP),
        ("sc-purchasing", "en", PHONE),
        ("sc-qa", "zh_Hans", DESKTOP),
        ("sc-qa", "zh_Hans", PHONE),
    ],
    ids=["en-desktop", "en-phone", "zh-desktop", "zh-phone"],
)
def test_board_scorecard_forecast_and_spc_screens(
    user: str,
    locale: str,
    viewport: dict[str, int],
    chromium: Any,
    live_server: str,
    client: TestClient,
    factory: Any,
    shots: Path,
) -> None:
    world = build_board_world(client, factory)
    supplier = world.h.w.network.supplier_id
    headers = token_headers(client, user)
    assert client.patch(
        "/api/v1/me/preferences", json={"locale": locale}, headers=headers
    ).is_success
    context = chromium.new_context(base_url=live_server, locale="en-US", viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(20_000)
    name = f"{locale}-{'phone' if viewport is PHONE else 'desktop'}"
    try:
        log_in(page, user)
        # The KPI board: six tiles, each chart drawn, the on-time rate as the API computes it
        page.goto("/analytics/kpis?date_from=2026-07-01")
        page.wait_for_selector('[data-line-chart="on_time"][data-drawn="true"]')
        assert page.locator("[data-kpi]").count() == 6
        assert page.locator('[data-kpi="on_time"] .tile-value').inner_text() == "25.0 %"
        heading = page.locator("h1").inner_text()
        assert heading == ("KPI board" if locale == "en" else "KPI 看板")
        # Both exports are offered for the period shown
        for kind in ("xlsx", "pdf"):
            link = page.get_by_test_id(f"export-{kind}").get_attribute("href") or ""
            assert link.endswith(f"format={kind}") and "date_from=2026-07-01" in link
        _no_sideways_scroll(page, viewport["width"])
        page.screenshot(path=str(shots / f"kpi-board-{name}.png"), full_page=True)
        # The on-time drill-down lists the four order lines behind the figure
        page.goto("/analytics/kpis/on_time?date_from=2026-07-01")
        assert page.locator("[data-testid=records] tbody tr").count() == 4
        assert "25.0 %" in page.get_by_test_id("records-figure").inner_text()
        _no_sideways_scroll(page, viewport["width"])
        # The supplier's scorecard: trend drawn, the NCR figure opens the two NCRs
        page.goto(f"/analytics/scorecards/{supplier}")
        page.wait_for_selector('[data-line-chart="scorecard"][data-drawn="true"]')
        _no_sideways_scroll(page, viewport["width"])
        page.screenshot(path=str(shots / f"scorecard-{name}.png"), full_page=True)
        row = page.locator("table[data-testid=scorecard] tbody tr").first
        row.locator('[data-factor="ncr"] a').click()
        page.wait_for_selector("[data-testid=records]")
        assert page.locator("[data-testid=records] tbody tr").count() == 2
        # Forecasts and control charts render (no order history yet: the empty state)
        page.goto("/analytics/forecasts")
        _no_sideways_scroll(page, viewport["width"])
        page.goto("/analytics/spc?characteristic=inspection_time")
        page.wait_for_selector('[data-line-chart="spc"][data-drawn="true"]')
        assert page.locator("[data-testid=spc-points] tbody tr").count() == 2
        _no_sideways_scroll(page, viewport["width"])
        page.goto("/analytics/plans")
        _no_sideways_scroll(page, viewport["width"])
    finally:
        context.close()


def test_a_supplier_sees_only_its_own_scorecard_on_a_phone(
    chromium: Any, live_server: str, client: TestClient, factory: Any, shots: Path
) -> None:
    world = build_board_world(client, factory)
    net = world.h.w.network
    context = chromium.new_context(base_url=live_server, locale="en-US", viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        log_in(page, "sc-supplier")
        page.goto("/analytics/scorecards")
        rows = page.locator("[data-testid=supplier-scores] tbody tr[data-supplier]")
        assert rows.count() == 1
        assert rows.first.get_attribute("data-supplier") == str(net.supplier_id)
        rows.first.locator("a").click()
        page.wait_for_selector('[data-line-chart="scorecard"][data-drawn="true"]')
        _no_sideways_scroll(page, PHONE["width"])
        page.screenshot(path=str(shots / "scorecard-supplier-phone.png"), full_page=True)
        response = page.goto(f"/analytics/scorecards/{net.distributor_id}")
        assert response is not None and response.status == 404
        assert page.locator("h1").inner_text() == "Not found"
        # no KPI board for a partner
        assert page.locator('nav [data-nav="kpis"]').count() == 0
    finally:
        context.close()
