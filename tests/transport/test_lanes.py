"""Transport lanes: master data through the API, the comparison of an order line's lanes
against its promised date, the chosen lane feeding allocation's transit days; and the promise
dates of shortfalls from confirmed purchase orders, production and the supplier lead time."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.db import utcnow
from medledger.core.system import system_unit_of_work
from medledger.transport.models import TransportLane
from tests.orders.builders import CATHETER, STENT, OrderWorld, build_order_world, headers
from tests.orders.planning_builders import _ok, stock_up


def _today() -> date:
    return utcnow().date()


def _order(
    client: TestClient,
    reference: str,
    gtin: str,
    quantity: int,
    wanted: date,
    urgency: str | None = None,
) -> int:
    line: dict[str, Any] = {"gtin": gtin, "quantity": quantity}
    if urgency:
        line["clinical_urgency"] = urgency
    order = _ok(
        client.post(
            "/api/v1/orders",
            json={
                "customer_reference": reference,
                "requested_delivery_date": wanted.isoformat(),
                "lines": [line],
            },
            headers=headers(client, "hospital"),
        )
    )
    return int(order["id"])


def _line_id(client: TestClient, order_id: int) -> int:
    order = _ok(client.get(f"/api/v1/orders/{order_id}", headers=headers(client, "sales")))
    return int(order["lines"][0]["id"])


def _shortfalls(client: TestClient, order_id: int) -> list[tuple[int, str | None]]:
    plan = _ok(client.get(f"/api/v1/orders/{order_id}/plan", headers=headers(client, "planner")))
    return [(s["quantity"], s["promise_date"]) for s in plan["shortfalls"]]


def _replan(client: TestClient) -> None:
    _ok(client.post("/api/v1/priority/plan", json={}, headers=headers(client, "planner")))


def _lane(client: TestClient, site: int, code: str, days: int, cost: str, **more: Any) -> int:
    body = {
        "code": code,
        "origin_site_id": site,
        "destination_region": "EU",
        "carrier": f"{code} carrier",
        "cost": cost,
        "transit_days": days,
        **more,
    }
    response = client.post("/api/v1/transport/lanes", json=body, headers=headers(client, "planner"))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _day(offset: int) -> str:
    return (_today() + timedelta(days=offset)).isoformat()


def _stent_bom(client: TestClient) -> None:
    admin = headers(client, "admin")
    products = _ok(client.get("/api/v1/products?page_size=100", headers=admin))["items"]
    stent = next(p for p in products if p["gtin"] == STENT)
    bom = _ok(
        client.post(
            f"/api/v1/products/{stent['id']}/boms",
            json={
                "lines": [
                    {"component_gtin": CATHETER, "quantity_per": "1", "unit_of_measure": "EA"}
                ]
            },
            headers=admin,
        )
    )
    _ok(client.post(f"/api/v1/boms/{bom['id']}/activate", headers=admin))


def test_shortfalls_are_promised_from_confirmed_orders_production_then_lead_time(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    # given 3 stents at the German DC and an order for 20 (3 reserved, 17 short)
    world: OrderWorld = build_order_world(factory)
    places = stock_up(client, [(STENT, "S1", 3, "2030-06-30")])
    first = _order(client, "PR-1", STENT, 20, _today() + timedelta(days=60))
    # then with no incoming supply nothing promises the shortfall
    assert _shortfalls(client, first) == [(17, None)]
    # when a supplier confirms 10 for day +10 (and an unconfirmed order asks for 50 more)
    purchasing, supplier = headers(client, "purchasing"), headers(client, "supplier")
    po = _ok(
        client.post(
            "/api/v1/purchase-orders",
            json={
                "supplier_party_id": world.net.supplier_id,
                "ship_to_site_id": places["site"],
                "lines": [
                    {"gtin": STENT, "quantity": 12, "requested_date": _day(8)},
                    {"gtin": STENT, "quantity": 50, "requested_date": _day(9)},
                ],
            },
            headers=purchasing,
        )
    )
    _ok(
        client.post(
            f"/api/v1/purchase-orders/{po['id']}/confirmation",
            json={
                "lines": [{"line_number": 1, "confirmed_quantity": 10, "confirmed_date": _day(10)}]
            },
            headers=supplier,
        )
    )
    _replan(client)
    # then 10 confirmed units do not cover 17: still no promise (unconfirmed lines do not count)
    assert _shortfalls(client, first) == [(17, None)]
    # when production plans 7 stents due on day +15
    _stent_bom(client)
    _ok(
        client.post(
            "/api/v1/work-orders",
            json={
                "gtin": STENT,
                "location_id": places["A1"],
                "quantity": 7,
                "lot": "WO-S",
                "expiry": "2031-01-31",
                "due_date": _day(15),
            },
            headers=headers(client, "warehouse"),
        )
    )
    _replan(client)
    # then the last receipt the line needs is the work order's: day 15 + 2 days in the EU
    assert _shortfalls(client, first) == [(17, _day(17))]
    # when an emergency order for 5 arrives, the supply is already promised to the first
    second = _order(client, "PR-2", STENT, 5, _today() + timedelta(days=60), "emergency")
    assert _shortfalls(client, second) == [(5, None)]
    assert _shortfalls(client, first) == [(17, _day(17))]
    # when the product gets a supplier lead time of 30 days at the DC and all is re-planned
    _ok(
        client.put(
            "/api/v1/replenishment-settings",
            json={
                "site_id": places["site"],
                "gtin": STENT,
                "supplier_party_id": world.net.supplier_id,
                "lead_time_days": 30,
            },
            headers=purchasing,
        )
    )
    _replan(client)
    # then the emergency line (higher priority) takes 5 of the confirmed 10 (day 10 + 2); the
    # first needs the other 5, the work order's 7 and 5 by lead time (day 30 + 2)
    assert _shortfalls(client, second) == [(5, _day(12))]
    assert _shortfalls(client, first) == [(17, _day(32))]
    # when a lane DC → EU of 5 days becomes master data, promises use its transit days
    _lane(client, places["site"], "DC-EU-ROAD", 5, "120.00")
    assert _shortfalls(client, second) == [(5, _day(15))]
    assert _shortfalls(client, first) == [(17, _day(35))]


def test_lanes_are_compared_against_the_promised_date_and_the_chosen_one_feeds_allocation(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    # given stents and catheters (chilled) at the DC, and three lanes to the EU
    build_order_world(factory)
    places = stock_up(client, [(STENT, "S1", 50, "2030-06-30"), (CATHETER, "K1", 20, "2030-06-30")])
    site = places["site"]
    road = _lane(client, site, "ROAD", 4, "100.00", mode="road")
    express = _lane(client, site, "EXPRESS", 2, "250.00", mode="parcel")
    air = _lane(client, site, "AIR-COLD", 1, "400.00", mode="air", cold_chain=True)
    order_id = _order(client, "TR-1", STENT, 10, _today() + timedelta(days=3))
    line_id = _line_id(client, order_id)
    planner = headers(client, "planner")
    # when the planner compares the line's lanes
    found = _ok(client.get(f"/api/v1/transport/order-lines/{line_id}/lanes", headers=planner))
    promised = found["promised_date"]
    assert promised == _day(3)
    # then the cheapest lane that arrives by the promised date is recommended, and why
    assert found["recommended_lane_id"] == express
    assert found["basis"] == "cheapest_on_time"
    assert found["explanation"] == (
        "EXPRESS is the cheapest lane that can carry the product from a site holding the "
        f"line's quantity and arrives by the promised date ({promised}), 1 day(s) to spare."
    )
    assert [
        (o["code"], o["arrival"], o["days_to_spare"], o["problems"], o["origin_units"])
        for o in found["options"]
    ] == [
        ("EXPRESS", _day(2), 1, [], 50),
        ("AIR-COLD", _day(1), 2, [], 50),
        ("ROAD", _day(4), -1, ["late"], 50),
    ]
    # and allocation uses the best lane (the fastest): 1 transit day
    assert (found["chosen_lane_id"], found["planned_transit_days"]) == (None, 1)
    score = _ok(client.get(f"/api/v1/order-lines/{line_id}/score", headers=planner))
    assert _contribution(score, "transport_time") == 0.6  # ramp 0 → 0, 10 days → 6
    # when the planner chooses the road lane
    chosen = client.put(
        f"/api/v1/transport/order-lines/{line_id}/lane",
        json={"lane_id": road, "reason": "consolidated with the weekly truck"},
        headers=planner,
    )
    assert chosen.status_code == 200, chosen.text
    # then allocation's transit days are the lane's, and the line stays reserved from the DC
    assert (chosen.json()["chosen_lane_id"], chosen.json()["planned_transit_days"]) == (road, 4)
    plan = _ok(client.get(f"/api/v1/orders/{order_id}/plan", headers=planner))
    assert [r["quantity"] for r in plan["reservations"]] == [10] and plan["shortfalls"] == []
    score = _ok(client.get(f"/api/v1/order-lines/{line_id}/score", headers=planner))
    assert _contribution(score, "transport_time") == 2.4
    # when a cold product is compared, only the cold-chain lane can carry it
    cold_order = _order(client, "TR-2", CATHETER, 5, _today() + timedelta(days=3))
    cold = _ok(
        client.get(
            f"/api/v1/transport/order-lines/{_line_id(client, cold_order)}/lanes", headers=planner
        )
    )
    assert cold["recommended_lane_id"] == air
    assert {o["code"]: o["problems"] for o in cold["options"]} == {
        "AIR-COLD": [],
        "EXPRESS": ["no_cold_chain"],
        "ROAD": ["no_cold_chain", "late"],
    }
    # back to the best lane
    assert (
        client.delete(f"/api/v1/transport/order-lines/{line_id}/lane", headers=planner).status_code
        == 204
    )
    again = _ok(client.get(f"/api/v1/transport/order-lines/{line_id}/lanes", headers=planner))
    assert (again["chosen_lane_id"], again["planned_transit_days"]) == (None, 1)


def _contribution(score: dict[str, Any], factor: str) -> float:
    return next(c["contribution"] for c in score["contributions"] if c["factor"] == factor)


def test_bad_lanes_are_refused_with_their_code_and_change_nothing(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    world = build_order_world(factory)
    places = stock_up(client, [(STENT, "S1", 5, "2030-06-30")])
    planner = headers(client, "planner")
    _lane(client, places["site"], "ROAD", 4, "100.00")
    cn = _lane(client, places["site"], "SEA-CN", 30, "900.00", destination_region="CN")

    def count() -> int:
        with system_unit_of_work(factory) as session:
            return int(session.scalar(select(func.count()).select_from(TransportLane)) or 0)

    before = count()
    base = {"origin_site_id": places["site"], "destination_region": "EU", "carrier": "X"}
    cases = [
        ({**base, "code": "ROAD", "cost": "1", "transit_days": 1}, 409, "transport.code_taken"),
        ({**base, "code": "NEG", "cost": "-1", "transit_days": 1}, 422, "validation_failed"),
        (
            {
                **base,
                "code": "ST",
                "cost": "1",
                "transit_days": 1,
                "ship_to_id": world.distributor_ship_to_id,
            },
            422,
            "transport.ship_to_region",
        ),
    ]
    for body, status, code in cases:
        response = client.post("/api/v1/transport/lanes", json=body, headers=planner)
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert count() == before
    # a lane that does not reach the line's ship-to cannot be chosen for it
    order_id = _order(client, "BAD-1", STENT, 2, _today() + timedelta(days=10))
    line_id = _line_id(client, order_id)
    response = client.put(
        f"/api/v1/transport/order-lines/{line_id}/lane", json={"lane_id": cn}, headers=planner
    )
    assert (response.status_code, response.json()["code"]) == (422, "transport.lane_not_serving")
    assert response.json()["errors"][0]["field"] == "lane_id"
    # partners see no lanes; sales may read but not write them
    supplier = headers(client, "supplier")
    assert client.get("/api/v1/transport/lanes", headers=supplier).status_code == 403
    assert client.get(f"/api/v1/transport/lanes/{cn}", headers=supplier).status_code == 403
    warehouse = headers(client, "warehouse")
    assert client.get("/api/v1/transport/lanes", headers=warehouse).status_code == 200
    response = client.post(
        "/api/v1/transport/lanes",
        json={**base, "code": "W", "cost": "1", "transit_days": 1},
        headers=warehouse,
    )
    assert response.status_code == 403 and count() == before


HUB_READERS = (
    "admin",
    "planner",
    "sales",
    "warehouse",
    "purchasing",
    "qa",
    "qa_approver",
    "auditor",
)
LANE_WRITERS = ("admin", "planner", "sales")


def test_every_role_reads_and_writes_lanes_as_its_permissions_say(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    # given a lane, an open order line, and a lane of another tenant
    build_order_world(factory)
    build_order_world(factory, "bravo", offset=50)
    places = stock_up(client, [(STENT, "S1", 5, "2030-06-30")])
    lane = _lane(client, places["site"], "ROAD", 4, "100.00")
    line_id = _line_id(client, _order(client, "RL-1", STENT, 2, _today() + timedelta(days=10)))
    bravo_lane = client.get("/api/v1/transport/lanes", headers=headers(client, "admin", "bravo"))
    assert bravo_lane.json() == []
    for role in (*HUB_READERS, "distributor", "supplier", "hospital"):
        who = headers(client, role)
        reads = role in HUB_READERS
        expected_read = 200 if reads else 403
        assert client.get("/api/v1/transport/lanes", headers=who).status_code == expected_read
        assert client.get(f"/api/v1/transport/lanes/{lane}", headers=who).status_code == (
            expected_read
        )
        compared = client.get(f"/api/v1/transport/order-lines/{line_id}/lanes", headers=who)
        assert compared.status_code == expected_read, (role, compared.text)
        writes = role in LANE_WRITERS
        patched = client.patch(f"/api/v1/transport/lanes/{lane}", json={"note": role}, headers=who)
        assert patched.status_code == (200 if writes else 403), (role, patched.text)
        chosen = client.put(
            f"/api/v1/transport/order-lines/{line_id}/lane", json={"lane_id": lane}, headers=who
        )
        assert chosen.status_code == (200 if writes else 403), (role, chosen.text)
        cleared = client.delete(f"/api/v1/transport/order-lines/{line_id}/lane", headers=who)
        assert cleared.status_code == (204 if writes else 403), (role, cleared.text)
    # another tenant's records are not found
    bravo = headers(client, "admin", "bravo")
    assert client.get(f"/api/v1/transport/lanes/{lane}", headers=bravo).status_code == 404
    assert (
        client.get(f"/api/v1/transport/order-lines/{line_id}/lanes", headers=bravo).status_code
        == 404
    )
