"""Cold chain, measured: readings in an EPCIS sensorElementList or an uploaded logger file
outside the product's range put the affected stock on hold with the readings attached."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.inventory.builders import (
    AMBIENT_GTIN,
    CHILLED_GTIN,
    Warehouse,
    build_warehouse,
    open_asn,
    release_lot,
    stock,
)

DL = "https://id.gs1.org"


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _sensor_event(w: Warehouse, n: int, values: list[float]) -> dict[str, Any]:
    where = f"{DL}/414/{w.site_gln}/254/C1"
    return {
        "type": "ObjectEvent",
        "eventID": f"urn:uuid:8d1c1f3a-0000-4000-8000-{n:012d}",
        "eventTime": "2027-02-01T10:00:00Z",
        "eventTimeZoneOffset": "+01:00",
        "action": "OBSERVE",
        "bizStep": "sensor_reporting",
        "quantityList": [{"epcClass": f"{DL}/01/{CHILLED_GTIN}/10/CC", "quantity": 10}],
        "readPoint": {"id": where},
        "bizLocation": {"id": where},
        "sensorElementList": [
            {
                "sensorMetadata": {"time": "2027-02-01T10:00:00Z"},
                "sensorReport": [
                    {
                        "type": "gs1:Temperature",
                        "value": v,
                        "uom": "CEL",
                        "time": f"2027-02-01T0{i}:00:00Z",
                    }
                    for i, v in enumerate(values)
                ],
            }
        ],
    }


def _document(*events: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2027-02-01T10:00:00Z",
        "epcisBody": {"eventList": list(events)},
    }


def test_sensor_readings_outside_the_range_put_the_lot_on_hold(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    w = build_warehouse(client, factory, "cc")
    # Given a chilled lot (2–8 °C) released and stored in the chilled room
    _ok(
        client.put(
            "/api/v1/inventory/temperature-ranges",
            json={"gtin": CHILLED_GTIN, "min_celsius": 2, "max_celsius": 8},
            headers=w.qa,
        )
    )
    line = {"gtin": CHILLED_GTIN, "lot": "CC", "quantity": 10}
    _ok(
        client.post(
            "/api/v1/inventory/receipts",
            json={"location_id": w.dock, "lines": [line]},
            headers=w.warehouse,
        ),
        201,
    )
    release_lot(client, w, CHILLED_GTIN, "CC")
    _ok(
        client.post(
            "/api/v1/inventory/put-aways",
            json={"from_location_id": w.dock, "to_location_id": w.chilled, "lines": [line]},
            headers=w.warehouse,
        ),
        201,
    )
    # When readings within the range arrive, nothing happens
    _ok(
        client.post(
            "/epcis/capture", json=_document(_sensor_event(w, 1, [4.0, 7.5])), headers=w.warehouse
        ),
        202,
    )
    assert stock(client, w) == [("C1", "CC", "", "released", 10)]
    assert _ok(client.get("/api/v1/inventory/temperature-excursions", headers=w.qa)) == []
    # When a report shows 12.5 °C
    _ok(
        client.post(
            "/epcis/capture", json=_document(_sensor_event(w, 2, [5.0, 12.5])), headers=w.warehouse
        ),
        202,
    )
    # Then the lot is on hold with the reading attached
    assert stock(client, w) == [("C1", "CC", "", "on_hold", 10)]
    (excursion,) = _ok(client.get("/api/v1/inventory/temperature-excursions", headers=w.qa))
    assert (excursion["lot"], excursion["source"], excursion["held_quantity"]) == (
        "CC",
        "epcis",
        10,
    )
    assert excursion["readings"] == [{"time": "2027-02-01T01:00:00Z", "celsius": 12.5}]
    # And QA can release it again (unhold)
    _ok(
        client.post(
            "/api/v1/inventory/status-changes",
            json={
                "action": "unhold",
                "gtin": CHILLED_GTIN,
                "lot": "CC",
                "reason": "stability data cover 12.5 °C for 1 h",
            },
            headers=w.qa,
        )
    )
    assert stock(client, w) == [("C1", "CC", "", "released", 10)]


def test_a_logger_file_of_an_inbound_shipment_puts_its_lots_on_hold(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    w = build_warehouse(client, factory, "lg")
    _ok(
        client.put(
            "/api/v1/inventory/temperature-ranges",
            json={"gtin": AMBIENT_GTIN, "min_celsius": 15, "max_celsius": 25},
            headers=w.qa,
        )
    )
    asn = open_asn(client, w, [{"lot": "LG", "quantity": 4}])
    _ok(
        client.post(
            f"/api/v1/asns/{asn['id']}/scans",
            json={"scan": f"(01){AMBIENT_GTIN}(10)LG", "quantity": 4, "location_id": w.dock},
            headers=w.warehouse,
        ),
        201,
    )
    log = (
        "time,celsius\n"
        "2027-02-20T08:00:00Z,21.0\n2027-02-20T09:00:00Z,31.5\n2027-02-20T10:00:00Z,-1\n"
    )
    response = client.post(
        f"/api/v1/asns/{asn['id']}/temperature-log",
        files={"file": ("logger.csv", log, "text/csv")},
        headers=w.warehouse,
    )
    (excursion,) = _ok(response)
    assert (
        excursion["lot"],
        excursion["source"],
        excursion["asn_id"],
        excursion["held_quantity"],
    ) == ("LG", "logger", asn["id"], 4)
    assert [r["celsius"] for r in excursion["readings"]] == [31.5, -1.0]
    assert stock(client, w) == [("DOCK", "LG", "", "on_hold", 4)]
    # A malformed file is refused and changes nothing
    response = client.post(
        f"/api/v1/asns/{asn['id']}/temperature-log",
        files={"file": ("logger.csv", "time,celsius\n2027-02-20T08:00:00Z,warm\n", "text/csv")},
        headers=w.warehouse,
    )
    assert response.status_code == 422 and response.json()["code"] == "inventory.logger_row"
    assert len(_ok(client.get("/api/v1/inventory/temperature-excursions", headers=w.qa))) == 1
    # When QA lifts the hold, the units the excursion took from quarantine go back there
    # (not to released: only the signed lot release takes stock out of quarantine)
    lifted = _ok(
        client.post(
            "/api/v1/inventory/status-changes",
            json={"action": "unhold", "gtin": AMBIENT_GTIN, "lot": "LG", "reason": "31.5 °C ok"},
            headers=w.qa,
        )
    )
    assert [(m["from_status"], m["to_status"], m["quantity"]) for m in lifted] == [
        ("on_hold", "quarantine", 4)
    ]
    assert stock(client, w) == [("DOCK", "LG", "", "quarantine", 4)]
    release_lot(client, w, AMBIENT_GTIN, "LG")
    assert stock(client, w) == [("DOCK", "LG", "", "released", 4)]
    # and a later excursion of the released lot is lifted back to released
    again = client.post(
        f"/api/v1/asns/{asn['id']}/temperature-log",
        files={"file": ("logger.csv", "2027-02-21T08:00:00Z,40\n", "text/csv")},
        headers=w.warehouse,
    )
    assert [e["held_quantity"] for e in _ok(again)] == [4]
    assert stock(client, w) == [("DOCK", "LG", "", "on_hold", 4)]
    lifted = _ok(
        client.post(
            "/api/v1/inventory/status-changes",
            json={"action": "unhold", "gtin": AMBIENT_GTIN, "lot": "LG", "reason": "40 °C ok"},
            headers=w.qa,
        )
    )
    assert [(m["from_status"], m["to_status"]) for m in lifted] == [("on_hold", "released")]
    assert stock(client, w) == [("DOCK", "LG", "", "released", 4)]
