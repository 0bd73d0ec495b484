"""Pick, pack and ship on a phone (390×844) with a keyboard-wedge scanner: each screen's scan
field takes the element string the scanner types, Enter acts. The camera path (the
@zxing/browser decoder served from node_modules) is loaded without errors on every screen;
CI has no camera, so decoding itself is not exercised here."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.inventory.builders import AMBIENT_GTIN, build_warehouse, release_lot, sscc
from tests.web import test_browser
from tests.web.test_browser import log_in

pytestmark = pytest.mark.browser

shots = test_browser.shots


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _camera_loaded(page: Any, errors: list[str]) -> None:
    assert errors == []
    assert page.evaluate("typeof window.ZXingBrowser.BrowserMultiFormatReader") == "function"
    assert page.evaluate("window.medledgerCameraScan.ready") is True
    assert (
        page.evaluate("window.medledgerCameraScan.elementString('0104098760000011', 5)")
        == "]d20104098760000011"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_pick_pack_and_ship_with_a_scanner_on_a_phone(
    chromium: Any, live_server: str, client: TestClient, factory: Any, shots: Path
) -> None:
    # Given 30 released units of lot OB-1 in storage (and a later lot OB-2)
    w = build_warehouse(client, factory, "ob")
    for lot, days in (("OB-1", 200), ("OB-2", 400)):
        line = {"gtin": AMBIENT_GTIN, "lot": lot, "quantity": 30}
        expiry = (date.today() + timedelta(days=days)).isoformat()
        _ok(
            client.post(
                "/api/v1/inventory/receipts",
                json={"location_id": w.dock, "lines": [{**line, "expiry": expiry}]},
                headers=w.warehouse,
            ),
            201,
        )
        release_lot(client, w, AMBIENT_GTIN, lot)
        _ok(
            client.post(
                "/api/v1/inventory/put-aways",
                json={"from_location_id": w.dock, "to_location_id": w.ambient, "lines": [line]},
                headers=w.warehouse,
            ),
            201,
        )
    unit = sscc(4242)
    context = chromium.new_context(
        base_url=live_server, locale="en-US", viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        log_in(page, "ob-warehouse")
        # Picking: the scan field has the focus; the wedge types the product barcode + Enter
        page.goto(f"/picking?site_id={w.site_id}&quantity=12")
        assert page.evaluate("document.activeElement.name") == "scan"
        _camera_loaded(page, errors)
        page.keyboard.type(f"]d201{AMBIENT_GTIN}10OB-2")
        page.keyboard.press("Enter")
        page.wait_for_selector('[data-testid="picks"]')
        # the proposal is first expiry first out: OB-1 (not the scanned lot's later expiry)
        assert (
            page.locator('[data-testid="picks"] tbody tr').first.get_attribute("data-lot") == "OB-1"
        )
        page.get_by_label("To shipping bay").select_option(str(w.shipping))
        page.get_by_role("button", name="Pick", exact=True).click()
        page.wait_for_selector('[data-testid="picked"]')
        assert page.get_by_test_id("picked").inner_text() == "Picked 12 to the shipping bay."
        # Packing: the picked stock at the bay, ticked; the wedge scans the SSCC label
        page.goto(f"/packing?location_id={w.shipping}")
        _camera_loaded(page, errors)
        assert page.locator('[data-testid="loose"] tr[data-lot="OB-1"]').count() == 1
        assert page.evaluate("document.activeElement.name") == "scan"
        page.keyboard.type(f"(00){unit}")
        page.keyboard.press("Enter")
        page.wait_for_selector('[data-testid="packed"]')
        assert page.get_by_test_id("packed").inner_text() == f"Packed into logistic unit {unit}."
        # Shipping: choose the distributor, scan the unit, Enter ships it
        page.goto(f"/shipping?location_id={w.shipping}")
        _camera_loaded(page, errors)
        assert page.locator(f'tr[data-sscc="{unit}"]').count() == 1
        page.get_by_label("Ship to").select_option(str(w.network.distributor_id))
        page.get_by_label("Despatch advice number").fill("DESADV-77")
        page.get_by_label("Scan an SSCC label").focus()
        page.keyboard.type(f"]C100{unit}")
        page.keyboard.press("Enter")
        page.wait_for_selector('[data-testid="shipped"]')
        assert page.get_by_test_id("shipped").inner_text() == "Shipped 1 logistic units."
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(shots / "shipping-phone.png"), full_page=True)
        assert errors == []
    finally:
        context.close()
    # And the stock left, the shipment is on its way to the distributor
    shipments = _ok(client.get("/api/v1/inventory/shipments", headers=w.warehouse))
    assert [(s["sscc"], s["status"]) for s in shipments] == [(unit, "shipped")]
    stock = _ok(client.get("/api/v1/inventory/stock", headers=w.warehouse))
    assert [(r["location_code"], r["lot"], r["quantity"]) for r in stock] == [
        ("A1", "OB-1", 18),
        ("A1", "OB-2", 30),
    ]
