"""The order board in a real browser: a card dragged to a column the workflow allows moves; to
one it forbids, it stays and the page says why. The approvals inbox signs on a phone."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.builders import PASSWORD
from tests.orders.builders import CATHETER, STENT, build_order_world, headers
from tests.orders.planning_builders import EANCOM_ORDER, _import_edi, _ok, stock_up

pytestmark = pytest.mark.browser


def _log_in(page: Any, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


def test_drag_a_card_to_an_allowed_and_to_a_forbidden_column(
    chromium: Any, live_server: str, app: Any, factory: sessionmaker[Session]
) -> None:
    # Given an EDIFACT order allocated in full
    build_order_world(factory)
    with TestClient(app) as client:
        stock_up(client, [(STENT, "S1", 10, "2029-06-30"), (CATHETER, "K1", 10, "2029-06-30")])
        order_id = _import_edi(client, EANCOM_ORDER)
    context = chromium.new_context(base_url=live_server, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        _log_in(page, "acme-planner")
        page.goto("/orders/board")
        card = page.locator(f"#card-{order_id}")
        assert card.get_attribute("data-column") == "allocated"
        # When the planner drags it to "Shipped" (not allowed from "Allocated")
        card.drag_to(page.locator('.board-col[data-drop="shipped"]'))
        # Then it is refused with a message, and the card stays where it was
        alert = page.get_by_role("alert")
        alert.wait_for()
        assert alert.get_attribute("data-code") == "board.move_not_allowed"
        assert "An order cannot move from Allocated to Shipped." in alert.inner_text()
        assert page.locator(f"#card-{order_id}").get_attribute("data-column") == "allocated"
        # When it is dragged to "Picking" (allowed)
        page.locator(f"#card-{order_id}").drag_to(page.locator('.board-col[data-drop="picking"]'))
        page.wait_for_url(f"**/orders/board?moved={order_id}*")
        # Then it moved
        moved = page.locator(f'.board-col[data-drop="picking"] #card-{order_id}')
        assert moved.get_attribute("data-column") == "picking"
    finally:
        context.close()


def test_an_approver_signs_a_preemption_on_a_phone(
    chromium: Any, live_server: str, app: Any, factory: sessionmaker[Session]
) -> None:
    # Given a request to give a reservation to another line of the same product
    world = build_order_world(factory)
    with TestClient(app) as client:
        stock_up(client, [(STENT, "S1", 5, "2029-06-30")])
        admin = headers(client, "admin")
        stent = next(
            p
            for p in _ok(client.get("/api/v1/products?page_size=100", headers=admin))["items"]
            if p["gtin"] == STENT
        )
        _ok(
            client.post(
                f"/api/v1/products/{stent['id']}/authorisations",
                json={
                    "kind": "nmpa_registration",
                    "certificate_number": "NMPA-1",
                    "valid_from": "2015-01-01",
                },
                headers=admin,
            )
        )
        sales = headers(client, "sales")
        first = _ok(
            client.post(
                "/api/v1/orders",
                json={
                    "customer_id": world.distributor_customer_id,
                    "customer_reference": "D-1",
                    "requested_delivery_date": "2026-12-30",
                    "lines": [{"gtin": STENT, "quantity": 5}],
                },
                headers=sales,
            )
        )
        second = _ok(
            client.post(
                "/api/v1/orders",
                json={
                    "customer_id": world.hospital_customer_id,
                    "customer_reference": "H-1",
                    "requested_delivery_date": "2026-12-20",
                    "lines": [{"gtin": STENT, "quantity": 2}],
                },
                headers=sales,
            )
        )
        plan = _ok(client.get(f"/api/v1/orders/{first['id']}/plan", headers=sales))
        asked = _ok(
            client.post(
                f"/api/v1/order-reservations/{plan['reservations'][0]['id']}/preemption",
                json={"order_line_id": second["lines"][0]["id"], "reason": "surgery Monday"},
                headers=sales,
            )
        )
    approval_id = asked["approval"]["id"]
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
        _log_in(page, "acme-planner")
        page.goto("/orders/approvals")
        page.locator(f'[data-approval="{approval_id}"] a').click()
        form = page.locator("#sign")
        form.wait_for()
        form.scroll_into_view_if_needed()
        box = form.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        # without the password it is refused and stays pending
        form.get_by_role("button", name="Approve and sign").click()
        assert page.get_by_role("alert").get_attribute("data-code") == "signature.required"
        assert page.locator("#approval-state").inner_text() == "pending"
        page.get_by_label("Password (re-enter to sign)").fill(PASSWORD)
        page.get_by_role("button", name="Approve and sign").click()
        page.wait_for_url(f"**/orders/approvals/{approval_id}?saved=1")
        assert page.locator("#approval-state").inner_text() == "approved"
    finally:
        context.close()
