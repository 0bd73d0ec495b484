"""Transport choice in a real browser: the lanes page (a lane added through its form) and an
order line's lane comparison (the recommendation explained, a lane chosen) — in English and
Chinese, on a desktop and a phone (390×844, nothing scrolls sideways)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from medledger.core.db import utcnow
from tests.builders import token_headers
from tests.orders.builders import STENT, build_order_world, headers
from tests.orders.planning_builders import _ok, stock_up
from tests.web import test_browser
from tests.web.test_browser import log_in

pytestmark = pytest.mark.browser

shots = test_browser.shots

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _no_sideways_scroll(page: Any, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


@pytest.mark.parametrize(
    ("locale", "viewport"),
    [("en", DESKTOP), ("en", PHONE), ("zh_Hans", DESKTOP), ("zh_Hans", PHONE)],
    ids=["en-desktop", "en-phone", "zh-desktop", "zh-phone"],
)
def test_lanes_and_the_lane_choice_of_an_order_line(
    locale: str,
    viewport: dict[str, int],
    chromium: Any,
    live_server: str,
    client: TestClient,
    factory: Any,
    shots: Path,
) -> None:
    build_order_world(factory)
    places = stock_up(client, [(STENT, "S1", 40, "2030-06-30")])
    planner = headers(client, "planner")
    for code, days, cost in (("ROAD", 4, "100.00"), ("EXPRESS", 2, "250.00")):
        _ok(
            client.post(
                "/api/v1/transport/lanes",
                json={
                    "code": code,
                    "origin_site_id": places["site"],
                    "destination_region": "EU",
                    "carrier": f"{code} GmbH",
                    "cost": cost,
                    "transit_days": days,
                },
                headers=planner,
            )
        )
    wanted = (utcnow().date() + timedelta(days=3)).isoformat()
    order = _ok(
        client.post(
            "/api/v1/orders",
            json={
                "customer_reference": "BR-1",
                "requested_delivery_date": wanted,
                "lines": [{"gtin": STENT, "quantity": 10}],
            },
            headers=headers(client, "hospital"),
        )
    )
    line_id = order["lines"][0]["id"]
    assert client.patch(
        "/api/v1/me/preferences",
        json={"locale": locale},
        headers=token_headers(client, "acme-planner"),
    ).is_success
    context = chromium.new_context(base_url=live_server, locale="en-US", viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(20_000)
    name = f"{locale}-{'phone' if viewport is PHONE else 'desktop'}"
    zh = locale == "zh_Hans"
    try:
        log_in(page, "acme-planner")
        # The lanes page lists both lanes; a third is added through the form
        page.goto("/transport/lanes")
        assert page.locator("h1").inner_text() == ("运输线路" if zh else "Transport lanes")
        assert page.locator("[data-testid=lanes] tbody tr[data-lane]").count() == 2
        form = page.get_by_test_id("lane-form")
        form.locator("[name=code]").fill("AIR")
        form.locator("[name=carrier]").fill("Air cargo")
        form.locator("[name=mode]").select_option("air")
        form.locator("[name=cost]").fill("400")
        form.locator("[name=transit_days]").fill("1")
        form.locator("[name=cold_chain]").check()
        form.locator("button[type=submit]").click()
        page.wait_for_selector('[data-testid=lanes] tr[data-lane="AIR"]')
        assert page.locator('tr[data-lane="AIR"] [data-testid=transit]').inner_text() == "1"
        _no_sideways_scroll(page, viewport["width"])
        page.screenshot(path=str(shots / f"transport-lanes-{name}.png"), full_page=True)
        # A bad lane is refused with the reason next to nothing changed
        form = page.get_by_test_id("lane-form")
        form.locator("[name=code]").fill("AIR")
        form.locator("[name=carrier]").fill("Again")
        form.locator("[name=cost]").fill("1")
        form.locator("[name=transit_days]").fill("1")
        form.locator("button[type=submit]").click()
        page.wait_for_selector("[role=alert]")
        assert "AIR" in page.locator("[role=alert]").inner_text()
        assert page.locator("[data-testid=lanes] tbody tr[data-lane]").count() == 3
        # The order line's comparison: EXPRESS is the cheapest lane on time
        page.goto(f"/transport/order-lines/{line_id}")
        recommendation = page.get_by_test_id("recommendation")
        assert recommendation.get_attribute("data-basis") == "cheapest_on_time"
        assert "EXPRESS" in recommendation.inner_text()
        assert ("最便宜" in recommendation.inner_text()) == zh
        assert page.locator("tr[data-recommended]").get_attribute("data-lane") == "EXPRESS"
        assert page.get_by_test_id("planned-transit").inner_text().startswith("1")
        _no_sideways_scroll(page, viewport["width"])
        page.screenshot(path=str(shots / f"transport-choice-{name}.png"), full_page=True)
        # Choosing the road lane: allocation now uses its 4 days
        road = page.locator('tr[data-lane="ROAD"]')
        road.locator("[name=reason]").fill("weekly truck")
        road.locator("button[type=submit]").click()
        page.wait_for_selector("[role=status]")
        assert page.get_by_test_id("planned-transit").inner_text().startswith("4")
        _no_sideways_scroll(page, viewport["width"])
    finally:
        context.close()
