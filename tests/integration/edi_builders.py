"""A warehouse that has shipped SSCCs to the distributor, for the EDI tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.inventory.builders import (
    AMBIENT_GTIN,
    Warehouse,
    build_warehouse,
    release_lot,
    sscc,
)

EXPIRY_EARLY = date(2028, 3, 31)
EXPIRY_LATE = date(2029, 6, 30)


@dataclass
class Shipped:
    w: Warehouse
    ssccs: list[str]
    shipment_ids: list[int]


def _ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def ship_two_pallets(
    client: TestClient,
    factory: sessionmaker[Session],
    slug: str = "edi",
    first: int = 700,
    before_shipping: Callable[[Warehouse], None] | None = None,
) -> Shipped:
    """Two SSCCs shipped to the distributor in one shipping event: the first with 10 of lot
    L-EARLY and 5 of L-LATE, the second with 20 of L-LATE. ``before_shipping`` runs once the
    pallets are packed (to configure the distributor's EDI settings, say)."""
    w = build_warehouse(client, factory, slug)
    _ok(
        client.post(
            "/api/v1/inventory/receipts",
            json={
                "location_id": w.dock,
                "lines": [
                    {
                        "gtin": AMBIENT_GTIN,
                        "lot": "L-EARLY",
                        "quantity": 10,
                        "expiry": EXPIRY_EARLY.isoformat(),
                    },
                    {
                        "gtin": AMBIENT_GTIN,
                        "lot": "L-LATE",
                        "quantity": 25,
                        "expiry": EXPIRY_LATE.isoformat(),
                    },
                ],
            },
            headers=w.warehouse,
        )
    )
    for lot in ("L-EARLY", "L-LATE"):
        release_lot(client, w, AMBIENT_GTIN, lot)
    _ok(
        client.post(
            "/api/v1/inventory/picks",
            json={
                "from_location_id": w.dock,
                "to_location_id": w.shipping,
                "lines": [
                    {"gtin": AMBIENT_GTIN, "lot": "L-EARLY", "quantity": 10},
                    {"gtin": AMBIENT_GTIN, "lot": "L-LATE", "quantity": 25},
                ],
            },
            headers=w.warehouse,
        )
    )
    units = [sscc(first), sscc(first + 1)]
    contents = [
        [
            {"gtin": AMBIENT_GTIN, "lot": "L-EARLY", "quantity": 10},
            {"gtin": AMBIENT_GTIN, "lot": "L-LATE", "quantity": 5},
        ],
        [{"gtin": AMBIENT_GTIN, "lot": "L-LATE", "quantity": 20}],
    ]
    for unit, lines in zip(units, contents, strict=True):
        _ok(
            client.post(
                "/api/v1/inventory/packs",
                json={"location_id": w.shipping, "sscc": unit, "lines": lines},
                headers=w.warehouse,
            )
        )
    if before_shipping is not None:
        before_shipping(w)
    _ok(
        client.post(
            "/api/v1/inventory/shipments",
            json={
                "location_id": w.shipping,
                "ssccs": units,
                "destination_party_id": w.network.distributor_id,
            },
            headers=w.warehouse,
        )
    )
    shipments = _ok(client.get("/api/v1/inventory/shipments", headers=w.warehouse), 200)
    ids = {s["sscc"]: s["id"] for s in shipments}
    return Shipped(w, units, [ids[u] for u in units])
