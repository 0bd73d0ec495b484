"""End to end through the API: PO → supplier confirms → ASN → scan-receive into quarantine →
release → put-away → pick (FEFO) → pack → ship → partner receives; the trace of the lot shows
the path, and stock agrees with the ledger at every step."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.system import system_unit_of_work
from medledger.inventory.verify import verify
from tests.inventory.builders import (
    AMBIENT_GTIN,
    Warehouse,
    build_warehouse,
    release_lot,
    sscc,
    stock,
)

DL = "https://id.gs1.org"


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _agrees(factory: sessionmaker[Session], w: Warehouse) -> None:
    with system_unit_of_work(factory) as session:
        report = verify(session, w.network.tenant_id)
    assert report.ok, (report.balance_differences, report.ledger_differences)


def test_purchase_to_delivery(client: TestClient, factory: sessionmaker[Session]) -> None:
    w = build_warehouse(client, factory, "e2e")
    expiry_early = date.today() + timedelta(days=200)
    expiry_late = date.today() + timedelta(days=400)
    # Given a purchase order to the supplier, with prices
    order = _ok(
        client.post(
            "/api/v1/purchase-orders",
            json={
                "supplier_party_id": w.network.supplier_id,
                "ship_to_site_id": w.site_id,
                "lines": [
                    {
                        "gtin": AMBIENT_GTIN,
                        "quantity": 30,
                        "unit_price": "12.50",
                        "requested_date": "2027-01-15",
                    }
                ],
            },
            headers=w.purchasing,
        ),
        201,
    )
    assert order["status"] == "sent"
    # The supplier sees it without the price, and confirms it
    seen = _ok(client.get(f"/api/v1/purchase-orders/{order['id']}", headers=w.supplier))
    assert seen["lines"][0]["unit_price"] is None
    assert (
        _ok(client.get(f"/api/v1/purchase-orders/{order['id']}", headers=w.purchasing))["lines"][0][
            "unit_price"
        ]
        == "12.5000"
    )
    # (the distributor may not see it at all)
    assert (
        client.get(f"/api/v1/purchase-orders/{order['id']}", headers=w.distributor).status_code
        == 404
    )
    confirmed = _ok(
        client.post(
            f"/api/v1/purchase-orders/{order['id']}/confirmation",
            json={
                "lines": [
                    {"line_number": 1, "confirmed_quantity": 30, "confirmed_date": "2027-01-10"}
                ]
            },
            headers=w.supplier,
        )
    )
    assert (confirmed["status"], confirmed["lines"][0]["confirmed_quantity"]) == ("confirmed", 30)
    # and announces two lots, one packed in an SSCC
    inbound_sscc = sscc(900)
    asn = _ok(
        client.post(
            "/api/v1/asns",
            json={
                "purchase_order_id": order["id"],
                "number": "ASN-1",
                "ship_date": "2027-01-10",
                "lines": [
                    {
                        "line_number": 1,
                        "lot": "L-EARLY",
                        "expiry": expiry_early.isoformat(),
                        "quantity": 10,
                    },
                    {
                        "line_number": 1,
                        "lot": "L-LATE",
                        "expiry": expiry_late.isoformat(),
                        "quantity": 20,
                        "sscc": inbound_sscc,
                    },
                ],
            },
            headers=w.supplier,
        ),
        201,
    )
    # When the dock scans the early lot (element string with expiry) and the SSCC
    yymmdd = expiry_early.strftime("%y%m%d")
    scan = _ok(
        client.post(
            f"/api/v1/asns/{asn['id']}/scans",
            json={
                "scan": f"]d201{AMBIENT_GTIN}17{yymmdd}10L-EARLY",
                "quantity": 10,
                "location_id": w.dock,
            },
            headers=w.warehouse,
        ),
        201,
    )
    assert (scan["lot"], scan["quantity"], scan["discrepancy"]) == ("L-EARLY", 10, None)
    _ok(
        client.post(
            f"/api/v1/asns/{asn['id']}/scans",
            json={"scan": f"(00){inbound_sscc}", "location_id": w.dock},
            headers=w.warehouse,
        ),
        201,
    )
    # Then both lots are in quarantine at the dock, the PO is received, stock agrees
    assert stock(client, w) == [
        ("DOCK", "L-EARLY", "", "quarantine", 10),
        ("DOCK", "L-LATE", "", "quarantine", 20),
    ]
    order = _ok(client.get(f"/api/v1/purchase-orders/{order['id']}", headers=w.purchasing))
    assert (order["status"], order["lines"][0]["received_quantity"]) == ("received", 30)
    _agrees(factory, w)
    # When QA releases both lots (with a reason) and the warehouse puts them away
    for lot in ("L-EARLY", "L-LATE"):
        release_lot(client, w, AMBIENT_GTIN, lot)
        _ok(client.get("/api/v1/inventory/stock", headers=w.qa))
    _ok(
        client.post(
            "/api/v1/inventory/put-aways",
            json={
                "from_location_id": w.dock,
                "to_location_id": w.ambient,
                "lines": [
                    {"gtin": AMBIENT_GTIN, "lot": "L-LATE", "quantity": 20},
                    {"gtin": AMBIENT_GTIN, "lot": "L-EARLY", "quantity": 10},
                ],
            },
            headers=w.warehouse,
        ),
        201,
    )
    assert stock(client, w) == [
        ("A1", "L-EARLY", "", "released", 10),
        ("A1", "L-LATE", "", "released", 20),
    ]
    _agrees(factory, w)
    # And asks for 15: FEFO picks all of the early lot first, then 5 of the late one
    picks = _ok(
        client.post(
            "/api/v1/inventory/pick-lists",
            json={"site_id": w.site_id, "gtin": AMBIENT_GTIN, "quantity": 15},
            headers=w.warehouse,
        )
    )
    assert [(p["lot"], p["quantity"]) for p in picks["picks"]] == [("L-EARLY", 10), ("L-LATE", 5)]
    assert picks["shortfall"] == 0
    _ok(
        client.post(
            "/api/v1/inventory/picks",
            json={
                "from_location_id": w.ambient,
                "to_location_id": w.shipping,
                "lines": [
                    {"gtin": AMBIENT_GTIN, "lot": p["lot"], "quantity": p["quantity"]}
                    for p in picks["picks"]
                ],
            },
            headers=w.warehouse,
        ),
        201,
    )
    _agrees(factory, w)
    outbound = sscc(901)
    packed = _ok(
        client.post(
            "/api/v1/inventory/packs",
            json={
                "location_id": w.shipping,
                "sscc": outbound,
                "lines": [
                    {"gtin": AMBIENT_GTIN, "lot": "L-EARLY", "quantity": 10},
                    {"gtin": AMBIENT_GTIN, "lot": "L-LATE", "quantity": 5},
                ],
            },
            headers=w.warehouse,
        ),
        201,
    )
    assert [m["kind"] for m in packed["movements"]] == ["pack", "pack"]
    assert stock(client, w) == [
        ("A1", "L-LATE", "", "released", 15),
        ("SHIP", "L-EARLY", outbound, "released", 10),
        ("SHIP", "L-LATE", outbound, "released", 5),
    ]
    _agrees(factory, w)
    shipped = _ok(
        client.post(
            "/api/v1/inventory/shipments",
            json={
                "location_id": w.shipping,
                "ssccs": [outbound],
                "destination_party_id": w.network.distributor_id,
                "reference": "DESADV-1",
            },
            headers=w.warehouse,
        ),
        201,
    )
    assert sorted((m["kind"], m["lot"], m["quantity"]) for m in shipped["movements"]) == [
        ("ship", "L-EARLY", 10),
        ("ship", "L-LATE", 5),
    ]
    assert stock(client, w) == [("A1", "L-LATE", "", "released", 15)]
    _agrees(factory, w)
    shipments = _ok(client.get("/api/v1/inventory/shipments", headers=w.distributor))
    assert [(s["sscc"], s["status"]) for s in shipments] == [(outbound, "shipped")]
    # When the distributor captures its receiving event at its own site
    receiving = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2027-01-20T08:00:00Z",
        "epcisBody": {
            "eventList": [
                {
                    "type": "ObjectEvent",
                    "eventTime": "2027-01-20T08:00:00Z",
                    "eventTimeZoneOffset": "+08:00",
                    "epcList": [f"{DL}/00/{outbound}"],
                    "action": "OBSERVE",
                    "bizStep": "receiving",
                    "disposition": "in_progress",
                    "readPoint": {"id": f"{DL}/414/{w.distributor_site_gln}"},
                    "bizLocation": {"id": f"{DL}/414/{w.distributor_site_gln}"},
                }
            ]
        },
    }
    _ok(client.post("/epcis/capture", json=receiving, headers=w.distributor), 202)
    # Then the shipment is delivered (proof of delivery), hub stock is unchanged
    shipments = _ok(client.get("/api/v1/inventory/shipments", headers=w.distributor))
    assert [(s["sscc"], s["status"]) for s in shipments] == [(outbound, "delivered")]
    assert stock(client, w) == [("A1", "L-LATE", "", "released", 15)]
    _agrees(factory, w)
    # And the trace of the early lot shows the whole path, to the distributor
    report = _ok(
        client.get(
            "/api/v1/trace",
            params={"id": f"(01){AMBIENT_GTIN}(10)L-EARLY", "direction": "downstream"},
            headers=w.admin,
        )
    )
    text = str(report)
    assert outbound in text
    steps = [e.get("bizStep") for e in _lot_events(client, w, "L-EARLY")]
    assert steps == ["receiving", "storing", "picking", "packing", "shipping", "receiving"]


def _lot_events(client: TestClient, w: Warehouse, lot: str) -> list[dict[str, Any]]:
    """The ledger's events naming the lot or the logistic unit it went into, in time order."""
    lot_events = _ok(
        client.get(
            "/epcis/events",
            params={"MATCH_anyEPCClass": f"{DL}/01/{AMBIENT_GTIN}/10/{lot}"},
            headers=w.admin,
        )
    )["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    ssccs = {e["parentID"] for e in lot_events if e.get("parentID")}
    unit_events = []
    for parent in sorted(ssccs):
        unit_events += _ok(
            client.get("/epcis/events", params={"MATCH_anyEPC": parent}, headers=w.admin)
        )["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    seen: dict[str, dict[str, Any]] = {}
    for event in lot_events + unit_events:
        seen[event["eventID"] if "eventID" in event else str(event)] = event
    return sorted(seen.values(), key=lambda e: e["eventTime"])
