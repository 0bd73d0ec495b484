"""Signing a lot release in a real browser, then opening the lot's device history record and
its PDF (the PDF's text is extracted and checked)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.orm import Session, sessionmaker

from tests.builders import PASSWORD
from tests.inventory.builders import AMBIENT_GTIN
from tests.quality.inspection_builders import balances, build_lab, ok, plan, receive

pytestmark = pytest.mark.browser


def test_an_approver_signs_a_lot_release_and_the_dhr_pdf_renders(
    chromium: Any, live_server: str, app: Any, factory: sessionmaker[Session]
) -> None:
    # Given a lot in quarantine with a passed incoming inspection and a release requested by QA
    with TestClient(app) as client:
        lab = build_lab(client, factory, "web")
        w = lab.w
        plan(client, lab)
        receive(client, w, "WEB-1", 12)
        inspection = ok(
            client.post(
                "/api/v1/quality/inspections",
                json={"gtin": AMBIENT_GTIN, "lot": "WEB-1"},
                headers=w.qa,
            ),
            201,
        )
        ok(
            client.post(
                f"/api/v1/quality/inspections/{inspection['id']}/results",
                json={
                    "results": [
                        {"name": "Outer diameter", "values": [3.0, 3.0, 3.0]},
                        {"name": "Burr", "values": ["none"]},
                    ]
                },
                headers=w.qa,
            )
        )
        release = ok(
            client.post(
                "/api/v1/quality/lot-releases",
                json={"gtin": AMBIENT_GTIN, "lot": "WEB-1"},
                headers=w.qa,
            ),
            201,
        )
    context = chromium.new_context(base_url=live_server, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        # When the QA approver opens the release and signs it in the dialog
        page.goto("/login")
        page.get_by_label("Username").fill("web-qa_approver")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/")
        page.goto(f"/quality/lot-releases/{release['id']}")
        page.locator('[data-action="release"]').click()
        dialog = page.get_by_role("dialog")
        dialog.wait_for()
        assert "I release this record version." in dialog.inner_text()
        dialog.get_by_label("Comment").fill("Incoming inspection passed.")
        dialog.get_by_label("Password (re-enter to sign)").fill(PASSWORD)
        dialog.get_by_role("button", name="Sign").click()
        page.wait_for_url(f"**/quality/lot-releases/{release['id']}?saved=1")
        # Then the lot is released, signed, and its stock left quarantine
        assert page.locator(".page-head [data-state]").get_attribute("data-state") == "released"
        row = page.locator('[data-meaning="released"]')
        assert "web qa_approver" in row.inner_text()
        assert "Released: 12" in page.locator("[data-quantities]").inner_text()
        assert balances(factory, "WEB-1") == [("released", w.dock, 12)]
        # and the device history record shows the inspection and the signature, and its PDF
        # renders with the same facts
        page.get_by_role("link", name="Device history record").click()
        page.wait_for_url("**/quality/documents/dhr?*")
        assert inspection["number"] in page.locator("[data-lot-file]").first.inner_text()
        assert "web qa_approver" in page.locator("[data-signatures]").inner_text()
        pdf_link = page.get_by_role("link", name="PDF")
        response = page.request.get(live_server + str(pdf_link.get_attribute("href")))
        assert response.status == 200
        assert response.headers["content-type"] == "application/pdf"
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)
        for expected in (
            "Device history record",
            "WEB-1",
            inspection["number"],
            release["number"],
            "web qa_approver",
            "released",
        ):
            assert expected in text, (expected, text)
    finally:
        context.close()
