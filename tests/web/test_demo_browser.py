"""The demo network in the browser, as a new user meets it: the main screens of the admin (in
English) and of the planner (who works in Chinese), on a desktop and on a phone. They render,
none scrolls sideways, and they are the README's screenshots (``MEDLEDGER_SCREENSHOTS=1``
writes them to ``docs/screenshots``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from medledger.seed.demo import DEMO_PASSWORD, seed_demo_network

pytestmark = pytest.mark.browser

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    return DOCS_SCREENSHOTS if os.environ.get("MEDLEDGER_SCREENSHOTS") == "1" else tmp_path


def _log_in(page: Any, username: str) -> None:
    page.goto("/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/")


def _ids(engine: Engine) -> dict[str, Any]:
    with engine.begin() as conn:
        lot = conn.execute(
            text(
                "SELECT l.id, l.gtin, l.uri FROM trace_items l WHERE l.kind = 'lot' AND EXISTS "
                "(SELECT 1 FROM trace_items s WHERE s.lot_item_id = l.id) ORDER BY l.id LIMIT 1"
            )
        ).one()
        product = conn.execute(
            text("SELECT id FROM products WHERE gtin = :g"), {"g": lot.gtin}
        ).scalar_one()
        event = conn.execute(
            text(
                "SELECT event_id FROM epcis_events WHERE biz_step = 'shipping' "
                "AND destinations IS NOT NULL ORDER BY id LIMIT 1"
            )
        ).scalar_one()
    return {"lot": lot.id, "lot_uri": lot.uri, "product": product, "event": event}


def _show(page: Any, path: str, shot: Path | None = None, full: bool = False) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, path
    page.wait_for_load_state("networkidle")
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{path} scrolls sideways: {widths}"
    if shot is not None:
        page.screenshot(path=str(shot), full_page=full)


def test_the_demo_on_desktop_and_phone_in_english_and_chinese(
    chromium: Any, live_server: str, factory: Any, engine: Engine, shots: Path
) -> None:
    # Given the demo network (a year of EPCIS history)
    seed_demo_network(factory)
    ids = _ids(engine)
    event = f"/trace/event?id={ids['event']}"
    trace = f"/trace?id={quote(ids['lot_uri'])}&direction=both"
    desktop = chromium.new_context(base_url=live_server, viewport={"width": 1366, "height": 900})
    phone = chromium.new_context(
        base_url=live_server,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    try:
        # The administrator, in English, on a desktop
        page = desktop.new_page()
        _log_in(page, "admin")
        page.wait_for_selector('[data-tile="audit_chain"] [data-result="ok"]')
        page.wait_for_selector('section[data-chart][data-drawn="true"]')
        page.screenshot(path=str(shots / "home-en.png"))
        _show(page, "/parties", shots / "parties-en.png")
        _show(page, "/products", shots / "products-en.png")
        _show(page, f"/products/{ids['product']}", shots / "product-detail-en.png", full=True)
        _show(page, f"/lots/{ids['lot']}", shots / "lot-en.png")
        _show(page, event, shots / "event-en.png")
        _show(page, "/audit", shots / "audit-en.png")
        _show(page, "/events")
        _show(page, "/capture-jobs")
        _show(page, "/lots?expires=90&kind=lot")
        # The KPI board shows recorded figures at first login; the plan's overdue action is on
        # the home page
        _show(page, "/analytics/kpis", shots / "kpi-board-en.png", full=True)
        page.wait_for_selector('[data-line-chart="on_time"][data-drawn="true"]')
        assert page.locator('[data-kpi="on_time"] .tile-value').get_attribute("data-value")
        _show(page, "/analytics/scorecards", shots / "scorecards-en.png")
        _show(page, "/analytics/plans")
        # The order board, stock, the quality home and the trace of a lot
        _show(page, "/orders/board", shots / "orders-board-en.png")
        _show(page, "/stock", shots / "stock-en.png")
        _show(page, "/quality", shots / "quality-en.png")
        _show(page, trace, shots / "trace-lot-en.png")
        page.goto("/")
        assert page.get_by_test_id("overdue-plan-actions").count() == 1
        # The planner, who works in Simplified Chinese
        page.context.clear_cookies()
        _log_in(page, "planner")
        assert page.locator("html").get_attribute("lang") == "zh-Hans"
        page.wait_for_selector('section[data-chart][data-drawn="true"]')
        page.screenshot(path=str(shots / "home-zh.png"))
        _show(page, "/products", shots / "products-zh.png")
        _show(page, f"/lots/{ids['lot']}", shots / "lot-zh.png")
        _show(page, event, shots / "event-zh.png")
        _show(page, "/analytics/kpis", shots / "kpi-board-zh.png", full=True)
        _show(page, "/orders/board", shots / "orders-board-zh.png")
        _show(page, "/stock", shots / "stock-zh.png")
        _show(page, "/quality", shots / "quality-zh.png")
        _show(page, trace, shots / "trace-lot-zh.png")
        # On a phone: the admin in English, the planner in Chinese
        page = phone.new_page()
        _log_in(page, "admin")
        _show(page, "/", shots / "phone-home-en.png")
        page.get_by_role("button", name="Menu").click()
        page.screenshot(path=str(shots / "phone-menu-en.png"))
        _show(page, "/parties", shots / "phone-parties-en.png")
        _show(page, f"/products/{ids['product']}")
        _show(page, "/audit")
        _show(page, "/orders/board")
        _show(page, "/stock", shots / "phone-stock-en.png")
        _show(page, "/quality", shots / "phone-quality-en.png")
        _show(page, trace, shots / "phone-trace-lot-en.png")
        _show(page, "/analytics/kpis", shots / "phone-kpi-board-en.png")
        page.context.clear_cookies()
        _log_in(page, "planner")
        _show(page, "/lots", shots / "phone-lots-zh.png")
        _show(page, f"/lots/{ids['lot']}")
        _show(page, event, shots / "phone-event-zh.png")
        _show(page, "/trace", shots / "phone-trace-zh.png")
        _show(page, "/analytics/kpis", shots / "phone-kpi-board-zh.png", full=True)
        _show(page, "/orders/board")
        _show(page, "/stock", shots / "phone-stock-zh.png")
        _show(page, "/quality", shots / "phone-quality-zh.png")
        _show(page, trace, shots / "phone-trace-lot-zh.png")
    finally:
        desktop.close()
        phone.close()
