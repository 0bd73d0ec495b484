"""Every refusal of the stock rules: a clear problem+json, and nothing changed (stock,
movements, ledger events, lots, shipments, audit entries). Plus: a partner's EPCIS event at a
hub location moves stock like a movement entered here, and an error declaration reverses it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from medledger.compliance.models import AuditEntry
from medledger.core.system import system_unit_of_work
from medledger.inventory.models import InventoryLot, Shipment, StockMovement
from medledger.inventory.verify import verify
from medledger.trace.models import EpcisEvent
from tests.builders import gln
from tests.inventory.builders import (
    AMBIENT_GTIN,
    CHILLED_GTIN,
    Warehouse,
    build_warehouse,
    release_lot,
    stock,
)

DL = "https://id.gs1.org"


@pytest.fixture
def w(client: TestClient, factory: sessionmaker[Session]) -> Warehouse:
    return build_warehouse(client, factory, "rl")


def _state(client: TestClient, factory: sessionmaker[Session], w: Warehouse) -> Any:
    with system_unit_of_work(factory) as session:
        counts = tuple(
            session.scalar(select(func.count()).select_from(model))
            for model in (StockMovement, EpcisEvent, InventoryLot, Shipment, AuditEntry)
        )
    return stock(client, w), counts


def _refused(
    client: TestClient,
    factory: sessionmaker[Session],
    w: Warehouse,
    path: str,
    body: dict[str, Any],
    headers: dict[str, str],
    status: int,
    code: str,
) -> dict[str, Any]:
    before = _state(client, factory, w)
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == code
    assert _state(client, factory, w) == before
    return dict(problem)


def _receive(
    client: TestClient, w: Warehouse, gtin: str, lot: str, quantity: int, expiry: date | None = None
) -> None:
    line: dict[str, Any] = {"gtin": gtin, "lot": lot, "quantity": quantity}
    if expiry is not None:
        line["expiry"] = expiry.isoformat()
    response = client.post(
        "/api/v1/inventory/receipts",
        json={"location_id": w.dock, "lines": [line]},
        headers=w.warehouse,
    )
    assert response.status_code == 201, response.text


def _release(client: TestClient, w: Warehouse, gtin: str, lot: str) -> dict[str, Any]:
    return release_lot(client, w, gtin, lot)


def _move(w: Warehouse, gtin: str, lot: str, quantity: int, to: int, source: int = 0) -> Any:
    return {
        "from_location_id": source or w.dock,
        "to_location_id": to,
        "lines": [{"gtin": gtin, "lot": lot, "quantity": quantity}],
    }


def test_a_chilled_product_is_not_put_away_in_ambient_storage(
    client: TestClient, factory: sessionmaker[Session], w: Warehouse
) -> None:
    _receive(client, w, CHILLED_GTIN, "C1", 5)
    _release(client, w, CHILLED_GTIN, "C1")
    problem = _refused(
        client,
        factory,
        w,
        "/api/v1/inventory/put-aways",
        _move(w, CHILLED_GTIN, "C1", 5, w.ambient),
        w.warehouse,
        409,
        "inventory.storage_class_mismatch",
    )
    assert problem["errors"][0]["field"] == "lines.0"
    # …while the chilled location takes it
    response = client.post(
        "/api/v1/inventory/put-aways",
        json=_move(w, CHILLED_GTIN, "C1", 5, w.chilled),
        headers=w.warehouse,
    )
    assert response.status_code == 201, response.text
    assert stock(client, w) == [("C1", "C1", "", "released", 5)]


def test_quarantined_stock_is_not_picked_nor_put_in_sellable_storage(
    client: TestClient, factory: sessionmaker[Session], w: Warehouse
) -> None:
    _receive(client, w, AMBIENT_GTIN, "Q1", 5)
    _refused(
        client,
        factory,
        w,
        "/api/v1/inventory/put-aways",
        _move(w, AMBIENT_GTIN, "Q1", 5, w.ambient),
        w.warehouse,
        409,
        "inventory.stock_not_released",
    )
    _refused(
        client,
        factory,
        w,
        "/api/v1/inventory/picks",
        _move(w, AMBIENT_GTIN, "Q1", 1, w.shipping),
        w.warehouse,
        409,
        "inventory.stock_not_released",
    )
    # Quarantined stock may go to the (non-sellable) rejected cage
    response = client.post(
        "/api/v1/inventory/transfers",
        json=_move(w, AMBIENT_GTIN, "Q1", 2, w.quarantine_cage),
        headers=w.warehouse,
    )
    assert response.status_code == 201, response.text
    assert stock(client, w) == [
        ("DOCK", "Q1", "", "quarantine", 3),
        ("QC", "Q1", "", "quarantine", 2),
    ]


def test_stock_never_goes_negative(
    client: TestClient, factory: sessionmaker[Session], w: Warehouse
) -> None:
    _receive(client, w, AMBIENT_GTIN, "N1", 4)
    _release(client, w, AMBIENT_GTIN, "N1")
    problem = _refused(
        client,
        factory,
        w,
        "/api/v1/inventory/picks",
        _move(w, AMBIENT_GTIN, "N1", 5, w.shipping),
        w.warehouse,
        409,
        "inventory.insufficient_stock",
    )
    assert problem["errors"][0]["field"] == "lines.0.quantity"
    assert problem["detail"] == f"Only 4 of {AMBIENT_GTIN} N1 at location {w.dock}; 5 requested."
    # A batch whose second line is short changes nothing either (its first line included);
    # the same lot twice in one batch is one quantity of the event, against the same stock
    _receive(client, w, AMBIENT_GTIN, "N2", 3)
    _release(client, w, AMBIENT_GTIN, "N2")
    batch = _move(w, AMBIENT_GTIN, "N1", 4, w.shipping)
    batch["lines"].append({"gtin": AMBIENT_GTIN, "lot": "N2", "quantity": 2})
    batch["lines"].append({"gtin": AMBIENT_GTIN, "lot": "N2", "quantity": 2})
    problem = _refused(
        client,
        factory,
        w,
        "/api/v1/inventory/picks",
        batch,
        w.warehouse,
        409,
        "inventory.insufficient_stock",
    )
    assert problem["errors"][0]["field"] == "lines.1.quantity"
    assert problem["detail"] == f"Only 3 of {AMBIENT_GTIN} N2 at location {w.dock}; 4 requested."
    assert stock(client, w) == [
        ("DOCK", "N1", "", "released", 4),
        ("DOCK", "N2", "", "released", 3),
    ]


def test_expired_and_recalled_lots_do_not_go_to_sellable_places(
    client: TestClient, factory: sessionmaker[Session], w: Warehouse
) -> None:
    _receive(client, w, AMBIENT_GTIN, "OLD", 3, date.today() - timedelta(days=1))
    _release(client, w, AMBIENT_GTIN, "OLD")
    _refused(
        client,
        factory,
        w,
        "/api/v1/inventory/put-aways",
        _move(w, AMBIENT_GTIN, "OLD", 3, w.ambient),
        w.warehouse,
        409,
        "inventory.lot_expired",
    )
    _receive(client, w, AMBIENT_GTIN, "RC", 3)
    _release(client, w, AMBIENT_GTIN, "RC")
    response = client.post(
        "/api/v1/inventory/status-changes",
        json={"action": "recall", "gtin": AMBIENT_GTIN, "lot": "RC", "reason": "field action"},
        headers=w.qa,
    )
    assert response.status_code == 200, response.text
    _refused(
        client,
        factory,
        w,
        "/api/v1/inventory/put-aways",
        _move(w, AMBIENT_GTIN, "RC", 3, w.ambient),
        w.warehouse,
        409,
        "inventory.lot_recalled",
    )
    rows = {(r[1], r[3]) for r in stock(client, w)}
    assert rows == {("OLD", "released"), ("RC", "recalled")}
    listed = client.get(
        "/api/v1/inventory/stock", params={"lot": "OLD"}, headers=w.warehouse
    ).json()
    assert (listed[0]["expired"], listed[0]["near_expiry"]) == (True, False)


def test_release_needs_qa_and_a_reason(
    client: TestClient, factory: sessionmaker[Session], w: Warehouse
) -> None:
    _receive(client, w, AMBIENT_GTIN, "R1", 2)
    body = {"action": "release", "gtin": AMBIENT_GTIN, "lot": "R1", "reason": "ok"}
    _refused(
        client,
        factory,
        w,
        "/api/v1/inventory/status-changes",
        body,
        w.warehouse,
        403,
        "permission_denied",
    )
    _refused(
        client,
        factory,
        w,
        "/api/v1/inventory/status-changes",
        {**body, "reason": ""},
        w.qa,
        422,
        "validation_failed",
    )
    # Unsigned, even QA's release is refused: the one way out of quarantine is the signed
    # lot release (quality), which moves the stock through inventory's service.
    _refused(
        client,
        factory,
        w,
        "/api/v1/inventory/status-changes",
        body,
        w.qa,
        409,
        "inventory.release_needs_signature",
    )
    release = _release(client, w, AMBIENT_GTIN, "R1")
    audit = client.get("/api/v1/audit", params={"entity_type": "stock_movements"}, headers=w.qa)
    assert audit.status_code == 200, audit.text
    reasons = [
        (e["action"], e["new_values"]["movements"][0][1], e["reason"])
        for e in audit.json()["items"]
        if e["new_values"]["movements"][0][1] == "status_change"
    ]
    assert reasons == [("inventory.move", "status_change", f"{release['number']} released")]


def test_an_unmanaged_location_is_refused(
    client: TestClient, factory: sessionmaker[Session], w: Warehouse
) -> None:
    other_site = client.post(
        "/api/v1/sites",
        json={"party_id": w.network.hub_id, "name": "Plant", "gln": gln(111), "country": "DE"},
        headers=w.admin,
    ).json()
    location = client.post(
        "/api/v1/locations",
        json={
            "site_id": other_site["id"],
            "code": "D",
            "name": "D",
            "storage_class": "ambient",
            "zone_purpose": "receiving_quarantine",
        },
        headers=w.admin,
    ).json()
    _refused(
        client,
        factory,
        w,
        "/api/v1/inventory/receipts",
        {
            "location_id": location["id"],
            "lines": [{"gtin": AMBIENT_GTIN, "lot": "X", "quantity": 1}],
        },
        w.warehouse,
        409,
        "inventory.location_not_managed",
    )


def _document(*events: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2027-01-20T08:00:00Z",
        "epcisBody": {"eventList": list(events)},
    }


def _partner_event(w: Warehouse, n: int, step: str, lot: str, quantity: int, **extra: Any) -> Any:
    dock = f"{DL}/414/{w.site_gln}/254/DOCK"
    return {
        "type": "ObjectEvent",
        "eventID": f"urn:uuid:6d1c1f3a-0000-4000-8000-{n:012d}",
        "eventTime": "2027-01-20T08:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
        "bizStep": step,
        "quantityList": [{"epcClass": f"{DL}/01/{AMBIENT_GTIN}/10/{lot}", "quantity": quantity}],
        "readPoint": {"id": dock},
        "bizLocation": {"id": dock},
        **extra,
    }


def test_a_partner_event_at_a_hub_location_moves_stock_and_its_correction_reverses_it(
    client: TestClient, factory: sessionmaker[Session], w: Warehouse
) -> None:
    # Given the supplier (a 3PL, say) captures a receiving event at the hub's dock
    event = _partner_event(w, 1, "receiving", "P1", 7)
    response = client.post("/epcis/capture", json=_document(event), headers=w.supplier)
    assert response.status_code == 202, response.text
    # Then the stock is in quarantine there, exactly as a receipt entered here
    assert stock(client, w) == [("DOCK", "P1", "", "quarantine", 7)]
    # When it ships quarantined stock from that dock, the capture is refused whole
    before = _state(client, factory, w)
    ship = _partner_event(w, 2, "shipping", "P1", 5)
    response = client.post("/epcis/capture", json=_document(ship), headers=w.supplier)
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "inventory.stock_not_released"
    assert _state(client, factory, w) == before
    # When the receipt is declared an error, the stock goes away again
    declaration = {
        **event,
        "errorDeclaration": {"declarationTime": "2027-01-20T09:00:00Z", "reason": "incorrect_data"},
    }
    response = client.post("/epcis/capture", json=_document(declaration), headers=w.supplier)
    assert response.status_code == 202, response.text
    assert stock(client, w) == []
    with system_unit_of_work(factory) as session:
        kinds = [
            (m.kind, m.quantity)
            for m in session.scalars(select(StockMovement).order_by(StockMovement.id))
        ]
        report = verify(session, w.network.tenant_id)
    assert kinds == [("receipt", 7), ("reversal", 7)]
    # (the retracted receipt is not replayed; the declaration itself moves nothing)
    assert report.ok and report.events_replayed == 0


def test_scan_receiving_flags_wrong_lot_and_over_receipt(
    client: TestClient, factory: sessionmaker[Session], w: Warehouse
) -> None:
    order = client.post(
        "/api/v1/purchase-orders",
        json={
            "supplier_party_id": w.network.supplier_id,
            "ship_to_site_id": w.site_id,
            "lines": [{"gtin": AMBIENT_GTIN, "quantity": 10, "requested_date": "2027-02-01"}],
        },
        headers=w.purchasing,
    ).json()
    client.post(
        f"/api/v1/purchase-orders/{order['id']}/confirmation",
        json={
            "lines": [{"line_number": 1, "confirmed_quantity": 10, "confirmed_date": "2027-02-01"}]
        },
        headers=w.supplier,
    )
    asn = client.post(
        "/api/v1/asns",
        json={
            "purchase_order_id": order["id"],
            "number": "A-9",
            "ship_date": "2027-01-30",
            "lines": [{"line_number": 1, "lot": "GOOD", "quantity": 10}],
        },
        headers=w.supplier,
    ).json()
    scans = f"/api/v1/asns/{asn['id']}/scans"
    wrong = {"scan": f"(01){AMBIENT_GTIN}(10)BAD", "quantity": 2, "location_id": w.dock}
    problem = _refused(client, factory, w, scans, wrong, w.warehouse, 409, "purchasing.wrong_lot")
    assert problem["errors"][0]["field"] == "scan"
    over = {
        "scan": f"https://id.gs1.org/01/{AMBIENT_GTIN}/10/GOOD",
        "quantity": 11,
        "location_id": w.dock,
    }
    _refused(client, factory, w, scans, over, w.warehouse, 409, "purchasing.over_receipt")
    # Confirmed with a reason, the wrong lot is received and recorded
    response = client.post(
        scans,
        json={**wrong, "accept_discrepancy": True, "reason": "lot on label differs"},
        headers=w.warehouse,
    )
    assert response.status_code == 201, response.text
    assert response.json()["discrepancy"]["kind"] == "wrong_lot"
    response = client.post(scans, json={**over, "quantity": 6}, headers=w.warehouse)
    assert response.status_code == 201, response.text
    # Closing the ASN records the 4 missing as an under-receipt
    flagged = client.post(
        f"/api/v1/asns/{asn['id']}/close", json={"reason": "short"}, headers=w.warehouse
    )
    assert [
        (d["kind"], d["expected_quantity"], d["received_quantity"]) for d in flagged.json()
    ] == [("under_receipt", 10, 6)]
    listed = client.get(f"/api/v1/asns/{asn['id']}/discrepancies", headers=w.supplier).json()
    assert sorted(d["kind"] for d in listed) == ["under_receipt", "wrong_lot"]
    assert stock(client, w) == [
        ("DOCK", "BAD", "", "quarantine", 2),
        ("DOCK", "GOOD", "", "quarantine", 6),
    ]
    # The distributor sees neither the order nor the ASN
    assert client.get(f"/api/v1/asns/{asn['id']}", headers=w.distributor).status_code == 404
    assert client.get("/api/v1/purchase-orders", headers=w.distributor).json()["items"] == []
