"""The recall console in a real browser on a phone: the trend chart is drawn, nothing scrolls
sideways, and the approver closes the recall in the signature dialog."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.builders import PASSWORD
from tests.recall.builders import build_scenario, ok, recall_body

pytestmark = pytest.mark.browser

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _no_sideways_scroll(page: Any, path: str) -> None:
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{path} scrolls sideways: {widths}"


def test_recall_console_on_a_phone_and_signed_closure(
    chromium: Any, live_server: str, app: Any, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    shots = DOCS_SCREENSHOTS if os.environ.get("MEDLEDGER_SCREENSHOTS") == "1" else tmp_path
    # Given a recall both consignees acknowledged through their own logins
    with TestClient(app) as client:
        s = build_scenario(client, factory)
        recall = ok(client.post("/api/v1/recalls", json=recall_body(), headers=s.h("qa")), 201)
        for notice in recall["notices"]:
            user = "hospital" if notice["name"] == "City Hospital" else "distributor"
            ok(
                client.post(
                    f"/api/v1/recalls/{recall['id']}/notices/{notice['id']}/acknowledgement",
                    json={"quantity_returned": notice["units"]},
                    headers=s.h(user),
                )
            )
    context = chromium.new_context(
        base_url=live_server,
        locale="en-US",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto("/login")
        page.get_by_label("Username").fill("rc-qa_approver")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/")
        # The recall list draws the response-time trend with Chart.js
        page.goto("/recalls")
        page.wait_for_selector('section[data-chart="recall_response"][data-drawn="true"]')
        _no_sideways_scroll(page, "/recalls")
        # The console: KPIs, every consignee answered, nothing wider than the phone
        path = f"/recalls/{recall['id']}"
        page.goto(path)
        assert page.locator('[data-kpi="consignees"]').inner_text() == "2 / 2"
        assert page.locator('[data-acknowledged="yes"]').count() == 2
        _no_sideways_scroll(page, path)
        page.screenshot(path=str(shots / "recall-console-phone.png"), full_page=True)
        # When the approver closes it in the signature dialog
        page.locator('a[data-action="close"]').click()
        dialog = page.locator("dialog#sign")
        dialog.get_by_label("Password (re-enter to sign)").fill(PASSWORD)
        dialog.get_by_role("button", name="Sign").click()
        page.wait_for_url(f"**{path}?saved=1")
        # Then it is closed with the approver's signature
        assert page.locator('[data-state="closed"]').first.is_visible()
        assert page.locator('[data-meaning="closed"]').count() == 1
        _no_sideways_scroll(page, path)
    finally:
        context.close()
