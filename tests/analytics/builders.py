"""A supplier's history through the real API: two purchase orders (one received and inspected,
one overdue), NCRs with a SCAR answered, an open CAPA."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.inventory.builders import AMBIENT_GTIN, Warehouse, build_warehouse, open_asn


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
    for lot, action in (("L-GOOD", "release"), ("L-BAD", "reject")):
        ok(
            client.post(
                "/api/v1/inventory/status-changes",
                json={"action": action, "gtin": AMBIENT_GTIN, "lot": lot, "reason": "inspected"},
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
