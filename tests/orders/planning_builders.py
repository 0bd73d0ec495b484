"""Stock and EDI orders for the planning tests (API and browser)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.builders import PASSWORD, gln
from tests.orders.builders import CATHETER, STENT, headers

VECTORS = Path(__file__).parent.parent / "vectors" / "edi"
EANCOM_ORDER = (VECTORS / "pydifact" / "order.edi").read_text()


def _ok(response: Any) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()


def stock_up(client: TestClient, lots: list[tuple[str, str, int, str]]) -> dict[str, int]:
    """A hub DC in Germany (ambient and chilled released storage), EU authorisations of both
    products, and released lots ``(gtin, lot, quantity, expiry)``."""
    admin = headers(client, "admin")
    site = _ok(
        client.post(
            "/api/v1/sites",
            json={"party_id": _hub_party(client), "name": "DC", "gln": gln(301), "country": "DE"},
            headers=admin,
        )
    )
    places = {}
    for code, storage, zone in (
        ("DOCK", "ambient", "receiving_quarantine"),
        ("A1", "ambient", "released"),
        ("C1", "chilled_2_8", "released"),
    ):
        places[code] = _ok(
            client.post(
                "/api/v1/locations",
                json={
                    "site_id": site["id"],
                    "code": code,
                    "name": code,
                    "storage_class": storage,
                    "zone_purpose": zone,
                },
                headers=admin,
            )
        )["id"]
    products = _ok(client.get("/api/v1/products?page_size=100", headers=admin))["items"]
    for product in products:
        if product["gtin"] in (STENT, CATHETER):
            _ok(
                client.post(
                    f"/api/v1/products/{product['id']}/authorisations",
                    json={
                        "kind": "eu_mdr_certificate",
                        "certificate_number": f"CE-{product['gtin'][-4:]}",
                        "valid_from": "2015-01-01",
                    },
                    headers=admin,
                )
            )
    warehouse = headers(client, "warehouse")
    _ok(client.post(f"/api/v1/inventory/sites/{site['id']}", json={}, headers=warehouse))
    for gtin_, lot, quantity, expiry in lots:
        where = places["C1"] if gtin_ == CATHETER else places["A1"]
        _ok(
            client.post(
                "/api/v1/inventory/receipts",
                json={
                    "location_id": where,
                    "lines": [{"gtin": gtin_, "lot": lot, "quantity": quantity, "expiry": expiry}],
                },
                headers=warehouse,
            )
        )
        release = _ok(
            client.post(
                "/api/v1/quality/lot-releases",
                json={"gtin": gtin_, "lot": lot},
                headers=headers(client, "qa"),
            )
        )
        _ok(
            client.post(
                f"/api/v1/quality/lot-releases/{release['id']}/transitions",
                json={"action": "release", "signature": {"password": PASSWORD}},
                headers=headers(client, "qa_approver"),
            )
        )
    places["site"] = site["id"]
    return places


def _hub_party(client: TestClient) -> int:
    me = _ok(client.get("/api/v1/me", headers=headers(client, "admin")))
    return int(me["party_id"])


def _import_edi(client: TestClient, content: str) -> int:
    result = _ok(
        client.post(
            "/api/v1/orders/import/edi?filename=in.edi",
            content=content.encode(),
            headers={**headers(client, "sales"), "Content-Type": "application/edifact"},
        )
    )
    assert (result["accepted"], result["failed"]) == (1, 0), result
    return int(result["messages"][0]["order_id"])
