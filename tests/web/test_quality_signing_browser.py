"""Signing an approval through the signature dialog in a real browser, on a phone-sized screen."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.builders import PASSWORD, build_network
from tests.quality.builders import Api, counts, ncr_ready_for_approval

pytestmark = pytest.mark.browser

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def test_approver_signs_a_disposition_in_the_dialog_at_390x844(
    chromium: Any, live_server: str, app: Any, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    shots = DOCS_SCREENSHOTS if os.environ.get("MEDLEDGER_SCREENSHOTS") == "1" else tmp_path
    # Given an NCR whose disposition QA proposed and signed as reviewed
    network = build_network(factory)
    with TestClient(app) as client:
        ncr = ncr_ready_for_approval(Api(client), network.supplier_id)
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
        # When the approver logs in on a phone and opens the NCR
        page.goto("/login")
        page.get_by_label("Username").fill("acme-qa_approver")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/")
        page.goto(f"/quality/ncrs/{ncr['id']}")
        # and chooses to approve: the signature dialog opens and fits the screen
        page.locator('[data-action="approve_disposition"]').click()
        dialog = page.get_by_role("dialog")
        dialog.wait_for()
        box = dialog.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert box["y"] >= 0 and box["y"] + box["height"] <= 844
        assert "I approve this record version." in dialog.inner_text()
        # a wrong password is refused inside the dialog, and nothing is signed
        before = counts(factory)
        dialog.get_by_label("Password (re-enter to sign)").fill("not my password")
        dialog.get_by_role("button", name="Sign").click()
        page.get_by_role("dialog").wait_for()
        assert page.locator("#signature\\.password-error").inner_text() == (
            "The password is wrong; the record was not signed."
        )
        assert counts(factory)["electronic_signatures"] == before["electronic_signatures"]
        # then the right password signs the approval
        dialog = page.get_by_role("dialog")
        dialog.get_by_label("Comment").fill("Return agreed with supplier.")
        dialog.get_by_label("Password (re-enter to sign)").fill(PASSWORD)
        page.screenshot(path=str(shots / "quality-signature-dialog-mobile.png"))
        dialog.get_by_role("button", name="Sign").click()
        page.wait_for_url(f"**/quality/ncrs/{ncr['id']}?saved=1")
        # Then the record is dispositioned and shows the approver's signature
        assert page.locator(".page-head [data-state]").get_attribute("data-state") == (
            "dispositioned"
        )
        row = page.locator('[data-meaning="approved"]')
        assert "acme qa_approver" in row.inner_text()
        assert "Return agreed with supplier." in row.inner_text()
        assert "matches this version" in row.inner_text()
        page.screenshot(path=str(shots / "quality-ncr-signed-mobile.png"), full_page=True)
    finally:
        context.close()
