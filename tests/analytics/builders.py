"""A supplier's history through the real API: two purchase orders (one received and inspected,
one overdue), NCRs with a SCAR answered, an open CAPA."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.inventory.builders import (
    AMBIENT_GTIN,
    Warehouse,
    build_warehouse,
    open_asn,
    release_lot,
)


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@dataclass
class SupplierHistory:
    w: Warehouse
    received_order_id: int
    late_order_id: int
    ncr_ids: list[int]
    capa_id: int


def build_supplier_history(
    client: TestClient, factory: sessionmaker[Session], slug: str = "sc"
) -> SupplierHistory:
    w = build_warehouse(client, factory, slug)
    asn = open_asn(
        client,
        w,
        [{"lot": "L-GOOD", "quantity": 60}, {"lot": "L-BAD", "quantity": 40}],
        quantity=100,
    )
    for lot, quantity in (("L-GOOD", 60), ("L-BAD", 40)):
        ok(
            client.post(
                f"/api/v1/asns/{asn['id']}/scans",
                json={
                    "scan": f"(01){AMBIENT_GTIN}(10){lot}",
                    "quantity": quantity,
                    "location_id": w.dock,
                },
                headers=w.warehouse,
            ),
            201,
        )
    release_lot(client, w, AMBIENT_GTIN, "L-GOOD")
    ok(
        client.post(
            "/api/v1/inventory/status-changes",
            json={"action": "reject", "gtin": AMBIENT_GTIN, "lot": "L-BAD", "reason": "inspected"},
            headers=w.qa,
        )
    )
    late = ok(
        client.post(
            "/api/v1/purchase-orders",
            json={
                "supplier_party_id": w.network.supplier_id,
                "ship_to_site_id": w.site_id,
                "lines": [{"gtin": AMBIENT_GTIN, "quantity": 10, "requested_date": "2026-11-20"}],
            },
            headers=w.purchasing,
        ),
        201,
    )
    qa = w.qa
    ncr_ids = []
    for severity in ("major", "minor"):
        ncr = ok(
            client.post(
                "/api/v1/quality/ncrs",
                json={
                    "title": f"{severity} finding",
                    "severity": severity,
                    "supplier_party_id": w.network.supplier_id,
                    "affected_lots": [],
                },
                headers=qa,
            ),
            201,
        )
        ncr_ids.append(ncr["id"])
    first = ncr_ids[0]
    for action in ("investigate", "request_supplier_response"):
        ok(
            client.post(
                f"/api/v1/quality/ncrs/{first}/transitions",
                json={"action": action, "reason": ""},
                headers=qa,
            )
        )
    ok(
        client.post(
            f"/api/v1/quality/ncrs/{first}/supplier-response",
            json={"response": "Tool replaced."},
            headers=w.supplier,
        )
    )
    capa = ok(
        client.post(
            "/api/v1/quality/capas",
            json={"title": "Deburring control", "supplier_party_id": w.network.supplier_id},
            headers=qa,
        ),
        201,
    )
    return SupplierHistory(w, asn["purchase_order_id"], late["id"], ncr_ids, capa["id"])


@dataclass
class BoardWorld:
    h: SupplierHistory
    sales: dict[str, str]
    order_ids: list[int]


def build_board_world(client: TestClient, factory: sessionmaker[Session]) -> BoardWorld:
    """The supplier history plus what the rest of the board reads: orders to the distributor
    (on time, late, short, never delivered), a put-away, pick, pack and shipment, and
    replenishment settings for both products at the site."""
    from tests.builders import token_headers
    from tests.inventory.builders import CHILLED_GTIN, sscc

    h = build_supplier_history(client, factory)
    w = h.w
    sales = token_headers(client, "sc-sales")
    customer = ok(
        client.post(
            "/api/v1/customers", json={"party_id": w.network.distributor_id}, headers=sales
        ),
        201,
    )
    ok(
        client.post(
            f"/api/v1/customers/{customer['id']}/ship-tos",
            json={
                "code": "CN-1",
                "name": "Shanghai DC",
                "country": "CN",
                "region": "CN",
                "is_default": True,
            },
            headers=sales,
        ),
        201,
    )
    order_ids = []
    deliveries = {
        "K-1": [("2026-11-05", 10)],  # on time in full
        "K-2": [("2026-11-04", 6), ("2026-11-12", 4)],  # completed late
        "K-3": [("2026-11-06", 8)],  # short
        "K-4": [],  # never delivered
    }
    for n, (reference, delivered) in enumerate(deliveries.items()):
        order = ok(
            client.post(
                "/api/v1/orders",
                json={
                    "customer_id": customer["id"],
                    "customer_reference": reference,
                    "order_date": "2026-10-20",
                    "requested_delivery_date": f"2026-11-0{5 + n}",
                    "lines": [{"gtin": AMBIENT_GTIN, "quantity": 10}],
                },
                headers=sales,
            ),
            201,
        )
        order_ids.append(order["id"])
        for day, quantity in delivered:
            ok(
                client.post(
                    f"/api/v1/order-lines/{order['lines'][0]['id']}/deliveries",
                    json={"delivered_on": day, "quantity": quantity},
                    headers=w.warehouse,
                ),
                201,
            )
    moves = (
        ("/api/v1/inventory/put-aways", w.dock, w.ambient, 60),
        ("/api/v1/inventory/picks", w.ambient, w.shipping, 25),
    )
    for path, source, target, quantity in moves:
        ok(
            client.post(
                path,
                json={
                    "from_location_id": source,
                    "to_location_id": target,
                    "lines": [{"gtin": AMBIENT_GTIN, "lot": "L-GOOD", "quantity": quantity}],
                },
                headers=w.warehouse,
            ),
            201,
        )
    outbound = sscc(902)
    ok(
        client.post(
            "/api/v1/inventory/packs",
            json={
                "location_id": w.shipping,
                "sscc": outbound,
                "lines": [{"gtin": AMBIENT_GTIN, "lot": "L-GOOD", "quantity": 25}],
            },
            headers=w.warehouse,
        ),
        201,
    )
    ok(
        client.post(
            "/api/v1/inventory/shipments",
            json={
                "location_id": w.shipping,
                "ssccs": [outbound],
                "destination_party_id": w.network.distributor_id,
                "reference": "DESADV-9",
            },
            headers=w.warehouse,
        ),
        201,
    )
    for gtin in (AMBIENT_GTIN, CHILLED_GTIN):
        ok(
            client.put(
                "/api/v1/replenishment-settings",
                json={"site_id": w.site_id, "gtin": gtin},
                headers=w.purchasing,
            )
        )
    return BoardWorld(h, sales, order_ids)
