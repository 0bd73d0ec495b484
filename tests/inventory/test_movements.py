"""The movement kinds the end-to-end flow does not walk through — count adjustments, scrap,
returns, unpacking — and the refusals left: an item the ASN does not list, a fractional
quantity. Each refusal changes nothing; stock agrees with the ledger after each step."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.system import system_unit_of_work
from medledger.inventory.models import StockMovement
from medledger.inventory.verify import verify
from tests.inventory.builders import (
    AMBIENT_GTIN,
    CHILLED_GTIN,
    Warehouse,
    build_warehouse,
    open_asn,
    release_lot,
    sscc,
    stock,
)
from tests.inventory.test_rules import _document, _partner_event, _refused

DL = "https://id.gs1.org"


@pytest.fixture
def w(client: TestClient, factory: sessionmaker[Session]) -> Warehouse:
    return build_warehouse(client, factory, "mv")


def _ok(response: Any, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _agrees(factory: sessionmaker[Session], w: Warehouse) -> None:
    with system_unit_of_work(factory) as session:
        report = verify(session, w.network.tenant_id)
    assert report.ok, (report.balance_differences, report.ledger_differences)


def _kinds(factory: sessionmaker[Session]) -> list[tuple[str, str | None, str | None, int]]:
    with system_unit_of_work(factory) as session:
        return [
            (m.kind, m.from_status, m.to_status, m.quantity)
            for m in session.scalars(select(StockMovement).order_by(StockMovement.id))
        ]


def _receive(client: TestClient, w: Warehouse, lot: str, quantity: int) -> None:
    _ok(
        client.post(
            "/api/v1/inventory/receipts",
            json={
                "location_id": w.dock,
                "lines": [{"gtin": AMBIENT_GTIN, "lot": lot, "quantity": quantity}],
            },
            headers=w.warehouse,
        )
    )


def test_count_adjustments_and_scrap(
    client: TestClient, factory: sessionmaker[Session], w: Warehouse
) -> None:
    _receive(client, w, "AD", 5)
    # A count finds 3 more (QA adjusts, with a reason)
    body = {
        "location_id": w.dock,
        "gtin": AMBIENT_GTIN,
        "lot": "AD",
        "status": "quarantine",
        "delta": 3,
        "reason": "cycle count",
    }
    adjusted = _ok(client.post("/api/v1/inventory/adjustments", json=body, headers=w.qa), 200)
    assert [(m["kind"], m["to_status"], m["quantity"]) for m in adjusted] == [
        ("adjust", "quarantine", 3)
    ]
    assert stock(client, w) == [("DOCK", "AD", "", "quarantine", 8)]
    # A count below zero is refused and changes nothing
    problem = _refused(
        client,
        factory,
        w,
        "/api/v1/inventory/adjustments",
        {**body, "delta": -9},
        w.qa,
        409,
        "inventory.insufficient_stock",
    )
    assert problem["errors"][0]["field"] == "lines.0.quantity"
    # Scrap (an EPCIS destroying event) takes 2 of the quarantined units
    scrapped = _ok(
        client.post(
            "/api/v1/inventory/scraps",
            json={
                "location_id": w.dock,
                "lines": [{"gtin": AMBIENT_GTIN, "lot": "AD", "quantity": 2}],
                "reason": "damaged in handling",
            },
            headers=w.warehouse,
        )
    )
    assert [(m["kind"], m["from_status"], m["quantity"]) for m in scrapped["movements"]] == [
        ("scrap", "quarantine", 2)
    ]
    assert stock(client, w) == [("DOCK", "AD", "", "quarantine", 6)]
    # and scrapping more than is there is refused whole
    _refused(
        client,
        factory,
        w,
        "/api/v1/inventory/scraps",
        {
            "location_id": w.dock,
            "lines": [{"gtin": AMBIENT_GTIN, "lot": "AD", "quantity": 7}],
            "reason": "all gone",
        },
        w.warehouse,
        409,
        "inventory.insufficient_stock",
    )
    assert _kinds(factory) == [
        ("receipt", None, "quarantine", 5),
        ("adjust", None, "quarantine", 3),
        ("scrap", "quarantine", None, 2),
    ]
    _agrees(factory, w)


def test_a_return_is_received_into_quarantine_and_a_unit_is_unpacked(
    client: TestClient, factory: sessionmaker[Session], w: Warehouse
) -> None:
    # A partner's receiving event with disposition "returned" at the hub's dock is a return
    returned = _partner_event(w, 11, "receiving", "RT", 4, disposition="returned")
    _ok(client.post("/epcis/capture", json=_document(returned), headers=w.supplier), 202)
    assert stock(client, w) == [("DOCK", "RT", "", "quarantine", 4)]
    # Released, packed into a logistic unit at the dock, then unpacked by an EPCIS DELETE
    release_lot(client, w, AMBIENT_GTIN, "RT")
    unit = sscc(77)
    _ok(
        client.post(
            "/api/v1/inventory/packs",
            json={
                "location_id": w.dock,
                "sscc": unit,
                "lines": [{"gtin": AMBIENT_GTIN, "lot": "RT", "quantity": 4}],
            },
            headers=w.warehouse,
        )
    )
    assert stock(client, w) == [("DOCK", "RT", unit, "released", 4)]
    dock = f"{DL}/414/{w.site_gln}/254/DOCK"
    unpack = {
        "type": "AggregationEvent",
        "eventID": "urn:uuid:6d1c1f3a-0000-4000-8000-000000000012",
        "eventTime": "2027-01-21T08:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "DELETE",
        "bizStep": "unpacking",
        "parentID": f"{DL}/00/{unit}",
        "readPoint": {"id": dock},
        "bizLocation": {"id": dock},
    }
    _ok(client.post("/epcis/capture", json=_document(unpack), headers=w.warehouse), 202)
    assert stock(client, w) == [("DOCK", "RT", "", "released", 4)]
    assert [k[0] for k in _kinds(factory)] == ["return", "status_change", "pack", "unpack"]
    _agrees(factory, w)


def test_an_item_the_asn_does_not_list_and_a_fractional_quantity_are_refused(
    client: TestClient, factory: sessionmaker[Session], w: Warehouse
) -> None:
    asn = open_asn(client, w, [{"lot": "OK", "quantity": 5}])
    problem = _refused(
        client,
        factory,
        w,
        f"/api/v1/asns/{asn['id']}/scans",
        {"scan": f"(01){CHILLED_GTIN}(10)OK", "quantity": 5, "location_id": w.dock},
        w.warehouse,
        409,
        "purchasing.unexpected_item",
    )
    assert problem["errors"][0]["field"] == "scan"
    fractional = _partner_event(w, 21, "receiving", "FR", 1)
    fractional["quantityList"][0]["quantity"] = 2.5
    response = client.post("/epcis/capture", json=_document(fractional), headers=w.supplier)
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "inventory.fractional_quantity"
    assert stock(client, w) == []
    assert _kinds(factory) == []
