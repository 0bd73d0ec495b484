"""The trace explorer in a real browser: scan a lot, read the tree, drill into an event."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.trace.network import FINISHED, build_trace_network, dl_lot, sscc_scan
from tests.web import test_browser
from tests.web.test_browser import log_in

pytestmark = pytest.mark.browser

shots = (
    test_browser.shots
)  # the screenshots fixture (docs/screenshots with MEDLEDGER_SCREENSHOTS=1)


def test_planner_traces_a_lot_and_drills_into_an_event(
    browser_page: Any, factory: Any, shots: Path
) -> None:
    # Given the hand-built network (C1, C3 → F1 → S1..S3 → P1, P2 → distributor, hospital)
    build_trace_network(factory)
    page = browser_page
    log_in(page, "acme-planner")
    # When the planner opens Trace from the navigation, scans F1 and traces both ways
    page.locator('nav.mainnav [data-nav="trace"]').click()
    page.wait_for_url("**/trace")
    page.get_by_label("Lot, serial or logistic unit").fill(dl_lot(FINISHED, "F1"))
    page.get_by_label("Direction").select_option("both")
    page.get_by_role("button", name="Trace", exact=True).click()
    page.wait_for_selector('[data-testid="trace-counts"]')
    # Then it sees the counts and both trees, indented by depth
    counts = {
        key: page.locator(f'[data-count="{key}"] strong').inner_text()
        for key in ("lots", "serials", "logistic_units", "gaps")
    }
    assert counts == {"lots": "2", "serials": "3", "logistic_units": "2", "gaps": "2"}
    upstream = page.locator('ul[data-side="upstream"] li[data-uri]')
    assert sorted(
        u.rsplit("/", 1)[-1]
        for u in upstream.evaluate_all("items => items.map(i => i.dataset.uri)")
    ) == ["C1", "C3"]
    downstream = page.locator('ul[data-side="downstream"] li[data-uri]')
    depths = downstream.evaluate_all("items => items.map(i => [i.dataset.uri, i.dataset.depth])")
    assert [(uri.rsplit("/", 1)[-1], depth) for uri, depth in depths] == [
        ("S1", "1"),
        (sscc_scan(1)[4:], "2"),
        ("S2", "1"),
        ("S3", "1"),
        (sscc_scan(2)[4:], "2"),
    ]
    page.screenshot(path=str(shots / "trace-explorer.png"), full_page=True)
    # And the CSV export link carries the same question
    href = page.get_by_test_id("export-csv").get_attribute("href")
    assert href is not None and href.startswith("/trace/export.csv?id=") and "both" in href
    # When it opens the event that packed S1 into its SSCC
    page.locator(f'li[data-uri$="/{sscc_scan(1)[4:]}"] > .trace-via a').click()
    # Then the event page shows the stored event
    assert page.get_by_test_id("event-id").inner_text() == "urn:uuid:pack-p1"
    page.get_by_text("Stored EPCIS JSON").click()
    assert '"name": "pack-p1"' in page.get_by_test_id("event-json").inner_text()
