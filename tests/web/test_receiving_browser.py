"""The receiving screen on a phone (390×844) with a keyboard-wedge scanner: the scanner types
the element string into the focused scan field and presses Enter."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.inventory.builders import AMBIENT_GTIN, build_warehouse, open_asn
from tests.web import test_browser
from tests.web.test_browser import log_in

pytestmark = pytest.mark.browser

shots = test_browser.shots  # the screenshots fixture (docs/screenshots, MEDLEDGER_SCREENSHOTS=1)


def test_a_scanned_element_string_is_received_on_a_phone(
    chromium: Any, live_server: str, client: TestClient, factory: Any, shots: Path
) -> None:
    # Given an open ASN announcing lot PH-1
    w = build_warehouse(client, factory, "ph")
    expiry = date.today() + timedelta(days=365)
    asn = open_asn(client, w, [{"lot": "PH-1", "quantity": 12, "expiry": expiry.isoformat()}])
    context = chromium.new_context(
        base_url=live_server, locale="en-US", viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        log_in(page, "ph-warehouse")
        # When the clerk opens the ASN's scan screen, the scan field has the focus
        page.goto(f"/receiving/{asn['id']}")
        assert page.evaluate("document.activeElement.name") == "scan"
        page.get_by_label("Quantity").fill("12")
        page.get_by_label("Scan").focus()
        # and the wedge scanner types the element string (symbology ]d2, expiry, lot) + Enter
        scanned = f"]d201{AMBIENT_GTIN}17{expiry.strftime('%y%m%d')}10PH-1"
        page.keyboard.type(scanned)
        page.keyboard.press("Enter")
        # Then the screen confirms the receipt and the line shows it received
        page.wait_for_selector('[data-testid="received"]')
        assert page.get_by_test_id("received").inner_text() == (
            "Received 12 of lot PH-1 into quarantine."
        )
        assert page.locator('tr[data-lot="PH-1"] [data-received]').inner_text() == "12"
        # ready for the next scan, and nothing is wider than the phone
        assert page.evaluate("document.activeElement.name") == "scan"
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(shots / "receiving-phone.png"), full_page=True)
    finally:
        context.close()
    # And the stock is in quarantine at the dock
    response = client.get("/api/v1/inventory/stock", params={"lot": "PH-1"}, headers=w.warehouse)
    assert [(r["location_code"], r["status"], r["quantity"]) for r in response.json()] == [
        ("DOCK", "quarantine", 12)
    ]
