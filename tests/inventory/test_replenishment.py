"""Reorder point and safety stock from demand history and lead time; suggested orders a buyer
approves."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from medledger.inventory.replenishment import reorder_levels, suggested_quantity
from tests.inventory.builders import AMBIENT_GTIN, build_warehouse, release_lot

DL = "https://id.gs1.org"


def test_levels_follow_the_documented_method() -> None:
    # Given 10 shipped every other day over 10 days: mean 5/day, sigma 5
    today = date(2027, 3, 11)
    shipped = {today - timedelta(days=n): 10 for n in (1, 3, 5, 7, 9)}
    # When the lead time is 4 days and z = 2
    levels = reorder_levels(shipped, as_of=today, history_days=10, lead_time_days=4, z=2.0)
    # Then SS = ceil(2 · 5 · √4) = 20 and ROP = 5 · 4 + 20 = 40
    assert (levels.mean_daily_demand, levels.sigma_daily_demand) == (5.0, 5.0)
    assert (levels.safety_stock, levels.reorder_point) == (20, 40)
    # and at position 30 one orders up to ROP + 4 days of demand (60): 30, or the minimum
    assert suggested_quantity(levels, 30, 4, 0) == 30
    assert suggested_quantity(levels, 30, 4, 50) == 50
    assert suggested_quantity(levels, 41, 4, 50) == 0


def _ship(w: Any, n: int, days_ago: int, quantity: int) -> dict[str, Any]:
    when = datetime.now(UTC) - timedelta(days=days_ago)
    dock = f"{DL}/414/{w.site_gln}/254/DOCK"
    return {
        "type": "ObjectEvent",
        "eventID": f"urn:uuid:7d1c1f3a-0000-4000-8000-{n:012d}",
        "eventTime": when.isoformat().replace("+00:00", "Z"),
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
        "bizStep": "shipping",
        "disposition": "in_transit",
        "quantityList": [{"epcClass": f"{DL}/01/{AMBIENT_GTIN}/10/R", "quantity": quantity}],
        "readPoint": {"id": dock},
        "bizLocation": {"id": dock},
    }


def test_a_product_below_its_reorder_point_gets_a_draft_order_a_buyer_approves(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    w = build_warehouse(client, factory, "rp")
    # Given 80 received and released, and 10 shipped every other day over the last 10 days
    response = client.post(
        "/api/v1/inventory/receipts",
        json={"location_id": w.dock, "lines": [{"gtin": AMBIENT_GTIN, "lot": "R", "quantity": 80}]},
        headers=w.warehouse,
    )
    assert response.status_code == 201, response.text
    release_lot(client, w, AMBIENT_GTIN, "R")
    document = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2027-01-01T00:00:00Z",
        "epcisBody": {"eventList": [_ship(w, n, n, 10) for n in (1, 3, 5, 7, 9)]},
    }
    response = client.post("/epcis/capture", json=document, headers=w.warehouse)
    assert response.status_code == 202, response.text
    settings = {
        "site_id": w.site_id,
        "gtin": AMBIENT_GTIN,
        "supplier_party_id": w.network.supplier_id,
        "lead_time_days": 4,
        "service_z": 2,
    }
    response = client.put("/api/v1/replenishment-settings", json=settings, headers=w.purchasing)
    assert response.status_code == 200, response.text
    # When the buyer asks for suggestions over 10 days of history
    body = {"site_id": w.site_id, "history_days": 10}
    response = client.post("/api/v1/replenishment/suggestions", json=body, headers=w.purchasing)
    assert response.status_code == 200, response.text
    (suggestion,) = response.json()
    # Then 30 on hand ≤ ROP 40: a draft order for 60 − 30 = 30 to the supplier
    assert {
        k: suggestion[k] for k in ("safety_stock", "reorder_point", "position", "quantity")
    } == {
        "safety_stock": 20,
        "reorder_point": 40,
        "position": 30,
        "quantity": 30,
    }
    order_id = suggestion["purchase_order_id"]
    order = client.get(f"/api/v1/purchase-orders/{order_id}", headers=w.purchasing).json()
    assert (order["status"], order["lines"][0]["quantity"]) == ("draft", 30)
    # which the supplier does not see yet; a second run drafts nothing new
    assert client.get(f"/api/v1/purchase-orders/{order_id}", headers=w.supplier).status_code == 404
    again = client.post("/api/v1/replenishment/suggestions", json=body, headers=w.purchasing)
    assert [(s["position"], s["quantity"]) for s in again.json()] == [(60, 0)]
    # When the buyer approves it, it is sent
    response = client.post(f"/api/v1/purchase-orders/{order_id}/approval", headers=w.purchasing)
    assert response.status_code == 200 and response.json()["status"] == "sent"
    assert client.get(f"/api/v1/purchase-orders/{order_id}", headers=w.supplier).status_code == 200
    # and the warehouse may not approve or suggest
    assert (
        client.post("/api/v1/replenishment/suggestions", json=body, headers=w.warehouse).status_code
        == 403
    )
