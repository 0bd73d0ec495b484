"""A warehouse to test inventory and purchasing with: a managed hub site with a receiving
dock, ambient and chilled storage and a shipping bay; an ambient and a chilled product."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from medledger.identifiers.checkdigit import gs1_check_digit
from tests.builders import PASSWORD, Network, build_network, gln, gtin, token_headers

AMBIENT_GTIN = gtin(501)
CHILLED_GTIN = gtin(502)


def sscc(n: int) -> str:
    body = f"3409876{n:010d}"
    return body + gs1_check_digit(body)


@dataclass
class Warehouse:
    network: Network
    site_id: int
    site_gln: str
    distributor_site_gln: str
    dock: int
    ambient: int
    chilled: int
    shipping: int
    quarantine_cage: int
    admin: dict[str, str]
    warehouse: dict[str, str]
    qa: dict[str, str]
    purchasing: dict[str, str]
    supplier: dict[str, str]
    distributor: dict[str, str]
    qa_approver: dict[str, str] = field(default_factory=dict)


def _post(client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    response = client.post(path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


def build_warehouse(
    client: TestClient, factory: sessionmaker[Session], slug: str = "wh"
) -> Warehouse:
    network = build_network(factory, slug)
    admin = token_headers(client, f"{slug}-admin")
    site_gln = gln(101)
    site = _post(
        client,
        "/api/v1/sites",
        {"party_id": network.hub_id, "name": "Main DC", "gln": site_gln, "country": "DE"},
        admin,
    )
    distributor_site_gln = gln(102)
    _post(
        client,
        "/api/v1/sites",
        {
            "party_id": network.distributor_id,
            "name": "Distributor DC",
            "gln": distributor_site_gln,
            "country": "CN",
        },
        admin,
    )
    ids = {}
    for code, storage, zone in (
        ("DOCK", "ambient", "receiving_quarantine"),
        ("A1", "ambient", "released"),
        ("C1", "chilled_2_8", "released"),
        ("SHIP", "ambient", "shipping"),
        ("QC", "ambient", "rejected"),
    ):
        location = _post(
            client,
            "/api/v1/locations",
            {
                "site_id": site["id"],
                "code": code,
                "name": code,
                "storage_class": storage,
                "zone_purpose": zone,
            },
            admin,
        )
        ids[code] = location["id"]
    for number, storage in ((AMBIENT_GTIN, "ambient"), (CHILLED_GTIN, "chilled_2_8")):
        _post(
            client,
            "/api/v1/products",
            {
                "gtin": number,
                "name": f"Product {number}",
                "tracking_level": "lot",
                "storage_class": storage,
            },
            admin,
        )
    warehouse = token_headers(client, f"{slug}-warehouse")
    _post(client, f"/api/v1/inventory/sites/{site['id']}", {}, warehouse)
    return Warehouse(
        network,
        site["id"],
        site_gln,
        distributor_site_gln,
        ids["DOCK"],
        ids["A1"],
        ids["C1"],
        ids["SHIP"],
        ids["QC"],
        admin,
        warehouse,
        token_headers(client, f"{slug}-qa"),
        token_headers(client, f"{slug}-purchasing"),
        token_headers(client, f"{slug}-supplier"),
        token_headers(client, f"{slug}-distributor"),
        token_headers(client, f"{slug}-qa_approver"),
    )


def stock(client: TestClient, w: Warehouse, **params: Any) -> list[tuple[Any, ...]]:
    """(location, lot, container, status, quantity) rows, in the API's order."""
    response = client.get("/api/v1/inventory/stock", params=params, headers=w.warehouse)
    assert response.status_code == 200, response.text
    return [
        (r["location_code"], r["lot"], r["container"], r["status"], r["quantity"])
        for r in response.json()
    ]


def open_asn(
    client: TestClient,
    w: Warehouse,
    lines: list[dict[str, Any]],
    number: str = "ASN-1",
    quantity: int = 100,
) -> dict[str, Any]:
    """A confirmed purchase order of ``quantity`` of the ambient product and the supplier's
    ASN announcing ``lines`` (lot, quantity, expiry, sscc) against its line 1."""
    order = _post(
        client,
        "/api/v1/purchase-orders",
        {
            "supplier_party_id": w.network.supplier_id,
            "ship_to_site_id": w.site_id,
            "lines": [
                {
                    "gtin": AMBIENT_GTIN,
                    "quantity": quantity,
                    "unit_price": "3.20",
                    "requested_date": "2027-03-01",
                }
            ],
        },
        w.purchasing,
    )
    _post(
        client,
        f"/api/v1/purchase-orders/{order['id']}/confirmation",
        {
            "lines": [
                {"line_number": 1, "confirmed_quantity": quantity, "confirmed_date": "2027-03-01"}
            ]
        },
        w.supplier,
    )
    return dict(
        _post(
            client,
            "/api/v1/asns",
            {
                "purchase_order_id": order["id"],
                "number": number,
                "ship_date": "2027-02-25",
                "lines": [{"line_number": 1, **line} for line in lines],
            },
            w.supplier,
        )
    )


def release_lot(client: TestClient, w: Warehouse, gtin: str, lot: str) -> dict[str, Any]:
    """The one way stock leaves quarantine: QA requests the lot release, a QA approver signs it
    (``released``, password again); returns the signed release."""
    request = _post(client, "/api/v1/quality/lot-releases", {"gtin": gtin, "lot": lot}, w.qa)
    return dict(
        _post(
            client,
            f"/api/v1/quality/lot-releases/{request['id']}/transitions",
            {"action": "release", "signature": {"password": PASSWORD}},
            w.qa_approver,
        )
    )
