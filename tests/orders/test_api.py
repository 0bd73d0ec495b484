"""Order REST API: idempotent POST, validation problems, amendments and cancellations with
versions, tender call-offs, partner isolation and price visibility, deliveries and OTIF, CSV."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.system import system_unit_of_work
from medledger.orders.models import IdempotencyKey, Order, OrderLine, OrderVersion
from tests.builders import gtin
from tests.orders.builders import (
    CATHETER,
    SAMPLE_BUYER_GLN,
    STENT,
    SUTURE,
    OrderWorld,
    build_order_world,
    headers,
)


def _counts(factory: sessionmaker[Session]) -> tuple[int, int, int, int]:
    with system_unit_of_work(factory) as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Order, OrderLine, OrderVersion, IdempotencyKey)
        )


def _order(reference: str = "PO-1", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer_reference": reference,
        "lines": [
            {"gtin": STENT, "quantity": 5, "unit_price": "410.00"},
            {
                "gtin": CATHETER,
                "quantity": 2,
                "surgery_date": (date.today() + timedelta(days=4)).isoformat(),
            },
        ],
    }
    body.update(extra)
    return body


def test_idempotency_key_returns_the_original_and_refuses_a_different_body(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    build_order_world(factory)
    hospital = {**headers(client, "hospital"), "Idempotency-Key": "a1b2c3"}
    first = client.post("/api/v1/orders", json=_order(), headers=hospital)
    assert first.status_code == 201, first.text
    # a retry with the same key and body: the same order, nothing new stored
    retry = client.post("/api/v1/orders", json=_order(), headers=hospital)
    assert retry.status_code == 200
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert _counts(factory) == (1, 2, 1, 1)
    # the same key with another body: 409 problem+json, and nothing changes
    other = client.post("/api/v1/orders", json=_order("PO-2"), headers=hospital)
    assert other.status_code == 409
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["code"] == "idempotency_key.reused"
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert _counts(factory) == (1, 2, 1, 1)
    # another party may use the same key for its own order
    distributor = {**headers(client, "distributor"), "Idempotency-Key": "a1b2c3"}
    theirs = client.post(
        "/api/v1/orders",
        json={"customer_reference": "PO-1", "lines": [{"gtin": SUTURE, "quantity": 1}]},
        headers=distributor,
    )
    assert theirs.status_code == 201
    assert theirs.json()["id"] != first.json()["id"]


def test_an_order_carries_what_the_engines_need(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    world = build_order_world(factory)
    response = client.post("/api/v1/orders", json=_order(), headers=headers(client, "hospital"))
    order = response.json()
    today = date.today()
    assert order["customer_id"] == world.hospital_customer_id
    assert order["ship_to_id"] == world.hospital_ship_to_id  # the default ship-to
    assert order["channel"] == "api"
    stent, catheter = order["lines"]
    # contract: 2 days of service level; requested defaults to it, promised is not earlier
    assert stent["requested_delivery_date"] == (today + timedelta(days=2)).isoformat()
    assert stent["promised_date"] == (today + timedelta(days=2)).isoformat()
    assert (stent["clinical_urgency"], stent["unit_price"]) == ("routine", "410.0000")
    assert catheter["clinical_urgency"] == "scheduled_surgery"
    assert catheter["surgery_date"] == (today + timedelta(days=4)).isoformat()
    assert catheter["min_remaining_shelf_life_days"] == 180
    from medledger.core.system import tenant_admin
    from medledger.orders.repository import open_line_facts

    with system_unit_of_work(factory) as session:
        facts = open_line_facts(session, tenant_admin(session, world.net.tenant_id))
    assert [(f.gtin, f.quantity_open, f.customer_tier, f.ship_to_region) for f in facts] == [
        (STENT, 5, "strategic", "EU"),
        (CATHETER, 2, "strategic", "EU"),
    ]
    assert facts[0].ship_to_cold_chain_capable is True
    assert (facts[0].service_level_days, str(facts[0].penalty_per_day_late)) == (2, "150.00")


def test_an_invalid_order_lists_every_problem_and_stores_nothing(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    build_order_world(factory)
    body = {
        "customer_reference": "PO-9",
        "ship_to_code": "NOPE",
        "requested_delivery_date": "2000-01-01",
        "order_date": "2026-01-10",
        "lines": [
            {"gtin": gtin(999), "quantity": 1},
            {"gtin": STENT, "quantity": 1, "surgery_date": "2025-12-31"},
        ],
    }
    response = client.post("/api/v1/orders", json=body, headers=headers(client, "hospital"))
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "order.invalid"
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [
        ("ship_to_code", "ship_to.unknown"),
        ("requested_delivery_date", "requested_delivery_date.before_order"),
        ("lines.0.gtin", "product.unknown"),
        ("lines.1.surgery_date", "surgery_date.past"),
    ]
    assert _counts(factory) == (0, 0, 0, 0)
    # a purchase order number used before is a conflict
    assert (
        client.post(
            "/api/v1/orders", json=_order(), headers=headers(client, "hospital")
        ).status_code
        == 201
    )
    again = client.post("/api/v1/orders", json=_order(), headers=headers(client, "hospital"))
    assert (again.status_code, again.json()["code"]) == (409, "order.duplicate")


def test_amendment_and_cancellation_keep_versions_with_reasons(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    build_order_world(factory)
    hospital = headers(client, "hospital")
    order = client.post("/api/v1/orders", json=_order(), headers=hospital).json()
    amended = client.post(
        f"/api/v1/orders/{order['id']}/amend",
        json={
            "reason": "surgery moved",
            "lines": [
                {"line_number": 1, "gtin": STENT, "quantity": 7},
                {"gtin": SUTURE, "quantity": 3},
            ],
        },
        headers=hospital,
    )
    assert amended.status_code == 200, amended.text
    body = amended.json()
    assert body["version"] == 2
    assert [
        (ln["line_number"], ln["gtin"], ln["quantity"], ln["status"]) for ln in body["lines"]
    ] == [
        (1, STENT, 7, "open"),
        (2, CATHETER, 2, "cancelled"),
        (3, SUTURE, 3, "open"),
    ]
    no_reason = client.post(
        f"/api/v1/orders/{order['id']}/amend",
        json={"reason": "", "lines": [{"gtin": STENT, "quantity": 1}]},
        headers=hospital,
    )
    assert no_reason.status_code == 422
    cancelled = client.post(
        f"/api/v1/orders/{order['id']}/cancel",
        json={"reason": "patient transferred"},
        headers=hospital,
    )
    assert cancelled.json()["status"] == "cancelled"
    assert {ln["status"] for ln in cancelled.json()["lines"]} == {"cancelled"}
    versions = client.get(f"/api/v1/orders/{order['id']}/versions", headers=hospital).json()
    assert [(v["version"], v["kind"], v["reason"]) for v in versions] == [
        (1, "created", ""),
        (2, "amended", "surgery moved"),
        (3, "cancelled", "patient transferred"),
    ]
    assert [ln["quantity"] for ln in versions[0]["snapshot"]["lines"]] == [5, 2]
    assert [ln["quantity"] for ln in versions[1]["snapshot"]["lines"]] == [7, 2, 3]
    assert versions[2]["actor"].startswith("acme-hospital")
    # a cancelled order cannot change again
    late = client.post(
        f"/api/v1/orders/{order['id']}/cancel", json={"reason": "again"}, headers=hospital
    )
    assert (late.status_code, late.json()["code"]) == (409, "order.not_changeable")


def test_partners_see_and_place_only_their_own_orders(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    world = build_order_world(factory)
    hospital, distributor, supplier = (
        headers(client, "hospital"),
        headers(client, "distributor"),
        headers(client, "supplier"),
    )
    mine = client.post("/api/v1/orders", json=_order(), headers=hospital).json()
    theirs = client.post(
        "/api/v1/orders",
        json={
            "customer_reference": "D-1",
            "lines": [{"gtin": SUTURE, "quantity": 1, "unit_price": "9.90"}],
        },
        headers=distributor,
    ).json()
    # each partner lists and reads only its own, with its own prices
    assert [o["id"] for o in client.get("/api/v1/orders", headers=hospital).json()["items"]] == [
        mine["id"]
    ]
    assert client.get(f"/api/v1/orders/{theirs['id']}", headers=hospital).status_code == 404
    assert (
        client.get(f"/api/v1/orders/{mine['id']}/versions", headers=distributor).status_code == 404
    )
    assert (
        client.get(f"/api/v1/orders/{mine['id']}", headers=hospital).json()["lines"][0][
            "unit_price"
        ]
        == "410.0000"
    )
    # ordering for another customer is refused without telling whether it exists
    other = client.post(
        "/api/v1/orders",
        json={**_order("X-1"), "customer_id": world.distributor_customer_id},
        headers=hospital,
    )
    assert (other.status_code, other.json()["errors"][0]["code"]) == (422, "customer.unknown")
    # a partner that is not a customer cannot order
    nope = client.post("/api/v1/orders", json=_order("S-1"), headers=supplier)
    assert nope.json()["errors"][0]["code"] == "customer.not_registered"
    # cannot amend or cancel someone else's order
    cancel = client.post(
        f"/api/v1/orders/{theirs['id']}/cancel", json={"reason": "x"}, headers=hospital
    )
    assert cancel.status_code == 404
    # customers: a partner sees its own record only
    assert [c["id"] for c in client.get("/api/v1/customers", headers=hospital).json()["items"]] == [
        world.hospital_customer_id
    ]
    assert (
        client.get(
            f"/api/v1/customers/{world.distributor_customer_id}", headers=hospital
        ).status_code
        == 404
    )
    # the hub sees everything; partners may not read the EDI inbox of others or replay
    sales = headers(client, "sales")
    assert client.get("/api/v1/orders", headers=sales).json()["total"] == 2
    assert client.post("/api/v1/order-inbox/1/replay", json={}, headers=hospital).status_code == 403
    assert (
        client.post("/api/v1/orders/import/edi", content=b"UNA", headers=hospital).status_code
        == 403
    )


def test_tender_call_offs_count_against_the_commitment(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    world = build_order_world(factory)
    sales = headers(client, "sales")
    tender = client.post(
        f"/api/v1/customers/{world.hospital_customer_id}/tenders",
        json={
            "reference": "T-2026-01",
            "valid_from": "2026-01-01",
            "valid_until": "2027-12-31",
            "lines": [{"gtin": STENT, "committed_quantity": 10, "unit_price": "380.00"}],
        },
        headers=sales,
    )
    assert tender.status_code == 201, tender.text
    hospital = headers(client, "hospital")
    call_off = {
        "customer_reference": "CO-1",
        "tender_reference": "T-2026-01",
        "lines": [{"gtin": STENT, "quantity": 6}],
    }
    order = client.post("/api/v1/orders", json=call_off, headers=hospital).json()
    assert (order["kind"], order["lines"][0]["unit_price"]) == ("tender_call_off", "380.0000")
    over = client.post(
        "/api/v1/orders", json={**call_off, "customer_reference": "CO-2"}, headers=hospital
    )
    assert over.status_code == 422
    assert over.json()["errors"][0]["code"] == "tender.exhausted"
    not_awarded = client.post(
        "/api/v1/orders",
        json={**call_off, "customer_reference": "CO-3", "lines": [{"gtin": SUTURE, "quantity": 1}]},
        headers=hospital,
    )
    assert not_awarded.json()["errors"][0]["code"] == "tender.product_not_awarded"
    lines = client.get(f"/api/v1/tenders/{tender.json()['id']}", headers=hospital).json()["lines"]
    assert [(ln["committed_quantity"], ln["called_off_quantity"]) for ln in lines] == [(10, 6)]
    # cancelling the call-off gives the quantity back
    client.post(
        f"/api/v1/orders/{order['id']}/cancel", json={"reason": "not needed"}, headers=hospital
    )
    lines = client.get(f"/api/v1/tenders/{tender.json()['id']}", headers=sales).json()["lines"]
    assert lines[0]["called_off_quantity"] == 0


def test_deliveries_drive_on_time_in_full(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    world = build_order_world(factory)
    sales, warehouse = headers(client, "sales"), headers(client, "warehouse")

    def place(
        reference: str, quantity: int, requested: str, customer: OrderWorld | None = None
    ) -> dict:
        body = {
            "customer_id": world.hospital_customer_id,
            "customer_reference": reference,
            "order_date": "2026-03-01",
            "requested_delivery_date": requested,
            "lines": [{"gtin": STENT, "quantity": quantity}],
        }
        response = client.post("/api/v1/orders", json=body, headers=sales)
        assert response.status_code == 201, response.text
        return response.json()

    def deliver(order: dict, on: str, quantity: int) -> int:
        line_id = order["lines"][0]["id"]
        return client.post(
            f"/api/v1/order-lines/{line_id}/deliveries",
            json={"delivered_on": on, "quantity": quantity},
            headers=warehouse,
        ).status_code

    on_time = place("M-1", 10, "2026-03-05")
    late = place("M-2", 10, "2026-03-05")
    short = place("M-3", 10, "2026-03-06")
    april = place("A-1", 4, "2026-04-02")
    place("M-4", 5, "2026-03-07")  # never delivered, due: counts as a miss
    assert deliver(on_time, "2026-03-05", 10) == 201
    assert deliver(late, "2026-03-04", 6) == 201  # first part on time
    assert deliver(late, "2026-03-09", 4) == 201  # the rest late
    assert deliver(short, "2026-03-06", 8) == 201
    assert deliver(april, "2026-04-01", 4) == 201
    # more than is open, or by a role without the right, is refused
    assert deliver(short, "2026-03-07", 3) == 409
    assert (
        client.post(
            f"/api/v1/order-lines/{short['lines'][0]['id']}/deliveries",
            json={"delivered_on": "2026-03-07", "quantity": 1},
            headers=headers(client, "hospital"),
        ).status_code
        == 403
    )
    line = client.get(f"/api/v1/orders/{late['id']}", headers=sales).json()["lines"][0]
    assert (line["status"], line["delivered_quantity"], line["completed_date"]) == (
        "delivered",
        10,
        "2026-03-09",
    )
    assert (
        client.get(f"/api/v1/orders/{short['id']}", headers=sales).json()["status"]
        == "partially_delivered"
    )
    rows = client.get("/api/v1/orders/otif?group_by=month", headers=sales).json()
    assert [
        (
            r["key"]["month"],
            r["lines_due"],
            r["on_time"],
            r["in_full"],
            r["on_time_in_full"],
            r["otif_rate"],
        )
        for r in rows
    ] == [
        ("2026-03", 4, 3, 2, 1, 0.25),
        ("2026-04", 1, 1, 1, 1, 1.0),
    ]
    by_customer = client.get(
        "/api/v1/orders/otif?group_by=customer,channel,product", headers=sales
    ).json()
    assert by_customer == [
        {
            "key": {
                "customer": str(world.hospital_customer_id),
                "customer_name": "acme St. Mary Hospital",
                "channel": "api",
                "product": STENT,
                "product_name": "Drug-eluting stent 3.0 x 18 mm",
            },
            "lines_due": 5,
            "on_time": 4,
            "in_full": 3,
            "on_time_in_full": 2,
            "otif_rate": 0.4,
        }
    ]
    # partners get their own figures; a bad dimension is a 422
    assert (
        client.get(
            "/api/v1/orders/otif?group_by=month", headers=headers(client, "distributor")
        ).json()
        == []
    )
    bad = client.get("/api/v1/orders/otif?group_by=colour", headers=sales)
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "group_by")


CSV = (
    "customer_reference,ship_to_code,gtin,quantity,requested_delivery_date,surgery_date\n"
    "C-100,DP1,{stent},4,2030-05-02,\n"
    "C-100,DP1,{catheter},2,2030-05-02,2030-05-03\n"
    "C-101,DP1,{stent},two,2030-05-02,\n"
    "C-101,DP1,{catheter},1,2030-13-01,\n"
)


def test_csv_upload_accepts_good_orders_and_keeps_bad_rows_for_replay(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    build_order_world(factory)
    hospital = headers(client, "hospital")
    content = CSV.format(stent=STENT, catheter=CATHETER)
    response = client.post(
        "/api/v1/orders/import/csv?filename=orders.csv", content=content.encode(), headers=hospital
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["accepted"], result["failed"]) == (1, 1)
    good, bad = result["messages"]
    assert (good["channel"], good["document_reference"], good["status"]) == (
        "csv",
        "C-100",
        "accepted",
    )
    assert [(e["field"], e["code"]) for e in bad["errors"]] == [
        ("row 1.quantity", "quantity.invalid"),
        ("row 2.requested_delivery_date", "date_parsing"),
    ]
    order = client.get(f"/api/v1/orders/{good['order_id']}", headers=hospital).json()
    assert [(ln["gtin"], ln["quantity"], ln["clinical_urgency"]) for ln in order["lines"]] == [
        (STENT, 4, "routine"),
        (CATHETER, 2, "scheduled_surgery"),
    ]
    # the partner sees its failed upload in the inbox; the hub corrects and replays it
    assert [
        m["id"]
        for m in client.get("/api/v1/order-inbox?status=failed", headers=hospital).json()["items"]
    ] == [bad["id"]]
    sales = headers(client, "sales")
    stored = client.get(f"/api/v1/order-inbox/{bad['id']}", headers=sales).json()["content"]
    fixed = stored.replace(",two,", ",2,").replace("2030-13-01", "2030-12-01")
    replayed = client.post(
        f"/api/v1/order-inbox/{bad['id']}/replay", json={"content": fixed}, headers=sales
    ).json()
    assert replayed["status"] == "accepted"
    replayed_order = client.get(f"/api/v1/orders/{replayed['order_id']}", headers=hospital).json()
    assert (replayed_order["channel"], replayed_order["customer_reference"]) == ("csv", "C-101")
    # a header the importer does not know is refused whole, nothing kept
    wrong = client.post("/api/v1/orders/import/csv", content=b"po,item\nx,y\n", headers=hospital)
    assert wrong.status_code == 422
    assert [e["code"] for e in wrong.json()["errors"]] == [
        "csv.column_missing",
        "csv.column_missing",
        "csv.column_missing",
        "csv.column_unknown",
        "csv.column_unknown",
    ]


def test_hub_csv_names_the_customer_by_gln(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    build_order_world(factory)
    content = f"customer_gln,customer_reference,gtin,quantity\n{SAMPLE_BUYER_GLN},H-1,{STENT},3\n"
    result = client.post(
        "/api/v1/orders/import/csv", content=content.encode(), headers=headers(client, "sales")
    ).json()
    assert (result["accepted"], result["messages"][0]["document_reference"]) == (1, "H-1")
