"""The transport pages through the TestClient (the browser test drives the same in Chromium):
the lanes page with its form, and an order line's comparison with the choice, in English and
Chinese."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.db import utcnow
from tests.orders.builders import STENT, build_order_world, headers
from tests.orders.planning_builders import _ok, stock_up
from tests.web.browsing import csrf, log_in


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


@pytest.mark.parametrize("locale", ["en", "zh_Hans"])
def test_lanes_page_form_and_the_lane_choice_page(
    factory: sessionmaker[Session], client: TestClient, locale: str
) -> None:
    build_order_world(factory)
    places = stock_up(client, [(STENT, "S1", 40, "2030-06-30")])
    wanted = (utcnow().date() + timedelta(days=3)).isoformat()
    order = _ok(
        client.post(
            "/api/v1/orders",
            json={
                "customer_reference": "PG-1",
                "requested_delivery_date": wanted,
                "lines": [{"gtin": STENT, "quantity": 10}],
            },
            headers=headers(client, "hospital"),
        )
    )
    line_id = order["lines"][0]["id"]
    zh = locale == "zh_Hans"
    assert client.patch(
        "/api/v1/me/preferences", json={"locale": locale}, headers=headers(client, "planner")
    ).is_success
    log_in(client, "acme-planner")
    token = csrf(client, "/transport/lanes")
    page = client.get("/transport/lanes")
    assert page.status_code == 200
    assert ("尚无线路" if zh else "No lanes yet") in page.text
    lane = {
        "csrf_token": token,
        "code": "EXPRESS",
        "origin_site_id": str(places["site"]),
        "destination_region": "EU",
        "ship_to_id": "",
        "carrier": "Express GmbH",
        "mode": "parcel",
        "cost": "250",
        "currency": "EUR",
        "transit_days": "2",
    }
    created = client.post("/transport/lanes", data=lane, follow_redirects=False)
    assert created.status_code == 303, created.text
    road = {**lane, "code": "ROAD", "mode": "road", "cost": "100", "transit_days": "4"}
    assert client.post("/transport/lanes", data=road, follow_redirects=False).status_code == 303
    page = client.get("/transport/lanes")
    assert re.findall(r'data-lane="([^"]+)"', page.text) == ["EXPRESS", "ROAD"]
    assert ("快递" if zh else "parcel") in _text(page.text)
    # the same code again: refused with its message, nothing added
    again = client.post("/transport/lanes", data=lane)
    assert again.status_code == 409
    assert ("线路 EXPRESS 已存在。" if zh else "Lane EXPRESS exists already.") in _text(again.text)
    assert re.findall(r'data-lane="([^"]+)"', again.text) == ["EXPRESS", "ROAD"]
    # the comparison: EXPRESS recommended (cheapest on time), explained in the language
    page = client.get(f"/transport/order-lines/{line_id}")
    assert page.status_code == 200
    text = _text(page.text)
    expected = (
        f"EXPRESS 是从持有该行数量的场地承运该产品、并在承诺日期（{wanted}）前到达的"
        "最便宜线路，富余 1 天。"
        if zh
        else "EXPRESS is the cheapest lane that can carry the product from a site holding the "
        f"line's quantity and arrives by the promised date ({wanted}), 1 day(s) to spare."
    )
    assert expected in " ".join(text.split())
    assert re.search(r'data-lane="EXPRESS" class="row-highlight" data-recommended="1"', page.text)
    road_id = re.search(r'data-lane="ROAD".*?name="lane_id" value="(\d+)"', page.text, re.S)
    assert road_id is not None
    chosen = client.post(
        f"/transport/order-lines/{line_id}",
        data={"csrf_token": token, "lane_id": road_id.group(1), "reason": "weekly truck"},
        follow_redirects=False,
    )
    assert chosen.status_code == 303, chosen.text
    page = client.get(f"/transport/order-lines/{line_id}?saved=1")
    planned = re.search(r'data-testid="planned-transit">(\d+)', page.text)
    assert planned is not None and planned.group(1) == "4"
    assert ("已选定" if zh else "chosen") in _text(page.text)
