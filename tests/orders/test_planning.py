"""Priority scores, allocation over live stock, the board and approvals, through the API:
an EDIFACT order in → scored → allocated → on the board → picked → shipped; a lot put on hold
re-plans; pre-emption of another customer's reservation needs a signed approval."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from medledger.compliance.models import ElectronicSignature
from medledger.core.system import system_unit_of_work
from medledger.orders.planning_models import PlanningApproval, Reservation
from tests.builders import PASSWORD
from tests.orders.builders import CATHETER, STENT, OrderWorld, build_order_world, headers
from tests.orders.planning_builders import _import_edi, _ok, stock_up

VECTORS = Path(__file__).parent.parent / "vectors" / "edi"
EANCOM_ORDER = (VECTORS / "pydifact" / "order.edi").read_text()


def _plan(client: TestClient, order_id: int) -> dict[str, Any]:
    return _ok(client.get(f"/api/v1/orders/{order_id}/plan", headers=headers(client, "planner")))


def _board_column(client: TestClient, order_id: int) -> str:
    board = _ok(client.get("/api/v1/order-board", headers=headers(client, "planner")))
    found = [
        key
        for key, column in board["columns"].items()
        if any(card["order_id"] == order_id for card in column["cards"])
    ]
    assert len(found) == 1, found
    return found[0]


def test_edifact_order_is_scored_allocated_and_moved_through_picking_to_shipping(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    # given the sample's buyer and items, and released stock of both products
    build_order_world(factory)
    stock_up(
        client,
        [
            (STENT, "S-LATE", 10, "2029-06-30"),
            (STENT, "S-EARLY", 5, "2028-12-31"),
            (CATHETER, "K1", 20, "2029-03-31"),
        ],
    )
    # when the EANCOM ORDERS arrives
    order_id = _import_edi(client, EANCOM_ORDER)
    # then every line has a score that is exactly the sum of its factor contributions
    order = _ok(client.get(f"/api/v1/orders/{order_id}", headers=headers(client, "sales")))
    planner = headers(client, "planner")
    for line in order["lines"]:
        score = _ok(client.get(f"/api/v1/order-lines/{line['id']}/score", headers=planner))
        parts = [c["contribution"] for c in score["contributions"]]
        assert [c["factor"] for c in score["contributions"]][:3] == [
            "customer_tier",
            "contract_penalty",
            "clinical_urgency",
        ]
        assert score["contributions"][0]["contribution"] == 30.0  # a strategic customer
        assert math.isclose(sum(parts), score["score"], abs_tol=1e-3)
        assert score["rule_set_version"] == 1
    # and it is allocated first-expiry-first-out, in full, and sits in "allocated"
    plan = _plan(client, order_id)
    assert plan["shortfalls"] == []
    assert sorted((r["gtin"], r["lot"], r["quantity"]) for r in plan["reservations"]) == [
        (STENT, "S-EARLY", 5),
        (STENT, "S-LATE", 3),
        (CATHETER, "K1", 8),
    ]
    assert _board_column(client, order_id) == "allocated"
    # a move the table forbids is refused and changes nothing
    refused = client.post(
        f"/api/v1/orders/{order_id}/board", json={"to": "shipped"}, headers=planner
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "board.move_not_allowed"
    assert refused.json()["errors"][0]["field"] == "to"
    assert _board_column(client, order_id) == "allocated"
    # the allowed moves: picking (reservations picked), then shipped
    moved = _ok(
        client.post(f"/api/v1/orders/{order_id}/board", json={"to": "picking"}, headers=planner)
    )
    assert moved["board_state"] == "picking"
    assert set(moved["targets"]) == {"allocated", "shipped"}
    assert {r["status"] for r in _plan(client, order_id)["reservations"]} == {"picked"}
    _ok(client.post(f"/api/v1/orders/{order_id}/board", json={"to": "shipped"}, headers=planner))
    assert _board_column(client, order_id) == "shipped"
    assert {r["status"] for r in _plan(client, order_id)["reservations"]} == {"shipped"}
    # delivering records the deliveries of what was shipped (warehouse may; planner may not)
    denied = client.post(
        f"/api/v1/orders/{order_id}/board", json={"to": "delivered"}, headers=planner
    )
    assert denied.status_code == 403
    _ok(
        client.post(
            f"/api/v1/orders/{order_id}/board",
            json={"to": "delivered"},
            headers=headers(client, "warehouse"),
        )
    )
    delivered = _ok(client.get(f"/api/v1/orders/{order_id}", headers=headers(client, "sales")))
    assert delivered["status"] == "delivered"
    assert [line["delivered_quantity"] for line in delivered["lines"]] == [8, 8]


def _api_order(client: TestClient, reference: str, quantity: int, who: str = "hospital") -> int:
    order = _ok(
        client.post(
            "/api/v1/orders",
            json={
                "customer_reference": reference,
                "requested_delivery_date": "2026-12-20",
                "lines": [{"gtin": STENT, "quantity": quantity}],
            },
            headers=headers(client, who),
        )
    )
    return int(order["id"])


def test_a_lot_put_on_hold_drops_its_reservations_and_replans(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    build_order_world(factory)
    places = stock_up(client, [(STENT, "S1", 6, "2028-06-30"), (STENT, "S2", 6, "2029-06-30")])
    order_id = _api_order(client, "PO-H1", 8)
    plan = _plan(client, order_id)
    assert sorted((r["lot"], r["quantity"]) for r in plan["reservations"]) == [("S1", 6), ("S2", 2)]
    # when QA's warehouse puts lot S1 on hold
    _ok(
        client.post(
            "/api/v1/inventory/status-changes",
            json={"action": "hold", "gtin": STENT, "lot": "S1", "reason": "complaint"},
            headers=headers(client, "warehouse"),
        )
    )
    # then its reservation is gone, the line took what S2 still had, and the rest is short
    # because the only other stock is held: the order is in the QC hold column
    plan = _plan(client, order_id)
    assert sorted((r["lot"], r["quantity"]) for r in plan["reservations"]) == [("S2", 6)]
    assert [(s["quantity"], s["reasons"]) for s in plan["shortfalls"]] == [(2, ["not_released"])]
    assert plan["board_state"] == "qc_hold"
    # releasing it again re-plans the line in full
    _ok(
        client.post(
            "/api/v1/inventory/status-changes",
            json={
                "action": "unhold",
                "gtin": STENT,
                "lot": "S1",
                "location_id": places["A1"],
                "reason": "complaint unfounded",
            },
            headers=headers(client, "qa"),
        )
    )
    plan = _plan(client, order_id)
    assert plan["shortfalls"] == []
    assert sorted((r["lot"], r["quantity"]) for r in plan["reservations"]) == [("S1", 2), ("S2", 6)]
    assert plan["board_state"] == "allocated"


def _state(factory: sessionmaker[Session]) -> tuple[Any, ...]:
    with system_unit_of_work(factory) as session:
        reservations = sorted(
            (r.order_line_id, r.lot, r.quantity, r.status)
            for r in session.scalars(select(Reservation))
        )
        approvals = [(a.id, a.state) for a in session.scalars(select(PlanningApproval))]
        signatures = session.scalar(select(func.count()).select_from(ElectronicSignature))
        return reservations, approvals, signatures


def test_preempting_another_customers_reservation_needs_a_signed_approval(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    world: OrderWorld = build_order_world(factory)
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
    # the distributor's order (China) takes all five units
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
    held = _plan(client, first["id"])
    assert [(r["lot"], r["quantity"]) for r in held["reservations"]] == [("S1", 5)]
    # the hospital's order comes later: re-planning never takes reserved stock, so it is short
    second_id = _api_order(client, "PO-P2", 4)
    short = _plan(client, second_id)
    assert short["reservations"] == [] and short["board_state"] == "backorder"
    line_id = _ok(client.get(f"/api/v1/orders/{second_id}", headers=sales))["lines"][0]["id"]
    # sales asks to pre-empt the distributor's reservation: another customer's, so it waits
    asked = _ok(
        client.post(
            f"/api/v1/order-reservations/{held['reservations'][0]['id']}/preemption",
            json={"order_line_id": line_id, "reason": "surgery on Monday"},
            headers=sales,
        )
    )
    assert asked["reservation"] is None
    approval = asked["approval"]
    assert (approval["kind"], approval["state"]) == ("preemption", "pending")
    assert approval["details"]["quantity"] == 4
    before = _state(factory)
    path = f"/api/v1/order-approvals/{approval['id']}/decision"
    # refused: no signature
    no_signature = client.post(
        path, json={"decision": "approve"}, headers=headers(client, "planner")
    )
    assert no_signature.status_code == 422
    assert no_signature.json()["code"] == "signature.required"
    assert _state(factory) == before
    # refused: a role that may not approve (sales), even with its password
    wrong_role = client.post(
        path,
        json={"decision": "approve", "signature": {"password": PASSWORD}},
        headers=sales,
    )
    assert wrong_role.status_code == 403
    assert _state(factory) == before
    # refused: the wrong password
    wrong_password = client.post(
        path,
        json={"decision": "approve", "signature": {"password": "not-the-password"}},
        headers=headers(client, "planner"),
    )
    assert wrong_password.status_code in (401, 403, 422)
    assert _state(factory) == before
    # approved with the planner's signature: four units move, the distributor keeps one
    decided = _ok(
        client.post(
            path,
            json={"decision": "approve", "note": "ok", "signature": {"password": PASSWORD}},
            headers=headers(client, "planner"),
        )
    )
    assert decided["state"] == "approved"
    assert [(r["lot"], r["quantity"]) for r in _plan(client, second_id)["reservations"]] == [
        ("S1", 4)
    ]
    distributor = _plan(client, first["id"])
    assert [(r["lot"], r["quantity"]) for r in distributor["reservations"]] == [("S1", 1)]
    assert distributor["board_state"] == "backorder"
    assert _board_column(client, second_id) == "allocated"
    with system_unit_of_work(factory) as session:
        signature = session.scalars(
            select(ElectronicSignature).where(ElectronicSignature.record_kind == "order_approval")
        ).one()
        assert (signature.record_kind, signature.meaning) == ("order_approval", "approved")
    # a decided request cannot be decided again
    again = client.post(
        path,
        json={"decision": "reject", "signature": {"password": PASSWORD}},
        headers=headers(client, "planner"),
    )
    assert again.status_code == 409
    assert again.json()["code"] == "approval.not_pending"


def test_unallocated_demand_feeds_the_replenishment_suggestions(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    # given 3 stents in stock and an EDIFACT order for 8 (3 reserved, 5 short)
    world = build_order_world(factory)
    places = stock_up(client, [(STENT, "S1", 3, "2029-06-30"), (CATHETER, "K1", 20, "2029-06-30")])
    order_id = _import_edi(client, EANCOM_ORDER)
    assert [s["quantity"] for s in _plan(client, order_id)["shortfalls"]] == [5]
    purchasing = headers(client, "purchasing")
    _ok(
        client.put(
            "/api/v1/replenishment-settings",
            json={
                "site_id": places["site"],
                "gtin": STENT,
                "supplier_party_id": world.net.supplier_id,
                "lead_time_days": 10,
            },
            headers=purchasing,
        )
    )
    # when purchasing asks for suggestions (no shipment history: no reorder point)
    (suggestion,) = _ok(
        client.post(
            "/api/v1/replenishment/suggestions",
            json={"site_id": places["site"], "history_days": 30},
            headers=purchasing,
        )
    )
    # then the 3 on hand are owed and 5 more are short: position −5, a draft order for 5
    assert (suggestion["position"], suggestion["quantity"]) == (-5, 5)
    assert suggestion["purchase_order_id"] is not None
