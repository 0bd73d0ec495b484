"""A recall scenario built through the real HTTP API.

The supplier's component lot COMP-7 (GTIN ``COMPONENT``) is received at the hub's managed
site, released and put away; 20 of its 50 go into finished lot F-1 (``FINISHED``, a
TransformationEvent at location A1); F-1 is released; 8 are packed in SSCC P1 and shipped to the
distributor (who receives it), 4 in SSCC P2 to the hospital (never received). On hand at the
hub: 30 of COMP-7 and 8 of F-1 at A1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.db import utcnow
from medledger.inventory.plan import location_uris
from tests.builders import PASSWORD, gln, gtin, token_headers
from tests.inventory.builders import AMBIENT_GTIN, Warehouse, build_warehouse, sscc

DL = "https://id.gs1.org"
COMPONENT = gtin(503)
FINISHED = AMBIENT_GTIN
P1 = sscc(701)
P2 = sscc(702)
COMPONENT_LOT = f"(01){COMPONENT}(10)COMP-7"


@dataclass
class Scenario:
    w: Warehouse
    slug: str
    hospital_id: int
    headers: dict[str, dict[str, str]]

    def h(self, user: str) -> dict[str, str]:
        return self.headers[user]


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _epcis(client: TestClient, headers: dict[str, str], events: list[dict[str, Any]]) -> None:
    document = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-01T08:00:00Z",
        "epcisBody": {"eventList": events},
    }
    job = ok(client.post("/epcis/capture", json=document, headers=headers), 202)
    assert job["state"] == "succeeded", job


def build_scenario(
    client: TestClient, factory: sessionmaker[Session], slug: str = "rc"
) -> Scenario:
    w = build_warehouse(client, factory, slug)
    headers: dict[str, dict[str, str]] = {
        "admin": w.admin,
        "warehouse": w.warehouse,
        "qa": w.qa,
        "distributor": w.distributor,
        "supplier": w.supplier,
    }
    hospital = ok(
        client.post(
            "/api/v1/parties",
            json={
                "name": "City Hospital",
                "gln": gln(104),
                "roles": ["hospital"],
                "country": "DE",
                "region": "EU",
            },
            headers=w.admin,
        ),
        201,
    )
    ok(
        client.post(
            "/api/v1/users",
            json={
                "username": f"{slug}-hospital",
                "display_name": "Hospital materials manager",
                "password": PASSWORD,
                "role": "partner_user",
                "party_id": hospital["id"],
            },
            headers=w.admin,
        ),
        201,
    )
    for role in ("qa_approver", "planner", "hospital"):
        headers[role] = token_headers(client, f"{slug}-{role}")
    ok(
        client.post(
            "/api/v1/products",
            json={
                "gtin": COMPONENT,
                "name": "Catheter hub component",
                "tracking_level": "lot",
                "storage_class": "ambient",
            },
            headers=w.admin,
        ),
        201,
    )
    post = lambda path, body, who="warehouse", status=201: ok(  # noqa: E731
        client.post(path, json=body, headers=headers[who]), status
    )
    post(
        "/api/v1/inventory/receipts",
        {
            "location_id": w.dock,
            "source_party_id": w.network.supplier_id,
            "lines": [{"gtin": COMPONENT, "lot": "COMP-7", "quantity": 50}],
        },
    )
    release = post("/api/v1/quality/lot-releases", {"gtin": COMPONENT, "lot": "COMP-7"}, "qa")
    post(
        f"/api/v1/quality/lot-releases/{release['id']}/transitions",
        {"action": "release", "signature": {"password": PASSWORD}},
        "qa_approver",
        200,
    )
    post(
        "/api/v1/inventory/put-aways",
        {
            "from_location_id": w.dock,
            "to_location_id": w.ambient,
            "lines": [{"gtin": COMPONENT, "lot": "COMP-7", "quantity": 50}],
        },
    )
    a1 = location_uris(w.site_gln, "A1", None)[0]
    _epcis(
        client,
        w.warehouse,
        [
            {
                "type": "TransformationEvent",
                "eventTime": "2026-11-02T08:00:00Z",
                "eventTimeZoneOffset": "+01:00",
                "inputQuantityList": [
                    {"epcClass": f"{DL}/01/{COMPONENT}/10/COMP-7", "quantity": 20}
                ],
                "outputQuantityList": [{"epcClass": f"{DL}/01/{FINISHED}/10/F-1", "quantity": 20}],
                "bizStep": "assembling",
                "readPoint": {"id": a1},
                "bizLocation": {"id": a1},
            }
        ],
    )
    release = post("/api/v1/quality/lot-releases", {"gtin": FINISHED, "lot": "F-1"}, "qa")
    post(
        f"/api/v1/quality/lot-releases/{release['id']}/transitions",
        {"action": "release", "signature": {"password": PASSWORD}},
        "qa_approver",
        200,
    )
    for box, quantity, party in ((P1, 8, w.network.distributor_id), (P2, 4, hospital["id"])):
        post(
            "/api/v1/inventory/picks",
            {
                "from_location_id": w.ambient,
                "to_location_id": w.shipping,
                "lines": [{"gtin": FINISHED, "lot": "F-1", "quantity": quantity}],
            },
        )
        post(
            "/api/v1/inventory/packs",
            {
                "location_id": w.shipping,
                "sscc": box,
                "lines": [{"gtin": FINISHED, "lot": "F-1", "quantity": quantity}],
            },
        )
        post(
            "/api/v1/inventory/shipments",
            {"location_id": w.shipping, "ssccs": [box], "destination_party_id": party},
        )
    _epcis(
        client,
        w.distributor,
        [
            {
                "type": "ObjectEvent",
                "eventTime": utcnow().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "eventTimeZoneOffset": "+08:00",
                "epcList": [f"{DL}/00/{P1}"],
                "action": "OBSERVE",
                "bizStep": "receiving",
                "disposition": "in_progress",
                "readPoint": {"id": f"{DL}/414/{w.distributor_site_gln}"},
                "bizLocation": {"id": f"{DL}/414/{w.distributor_site_gln}"},
            }
        ],
    )
    return Scenario(w, slug, hospital["id"], headers)


def recall_body(**fields: Any) -> dict[str, Any]:
    body = {
        "identifiers": [COMPONENT_LOT],
        "title": "Cracked catheter hubs from component lot COMP-7",
        "hazard_class": "II",
        "depth": "retail",
        "reason": "Component lot COMP-7 fails burst pressure; hubs may crack in use.",
        "health_hazard": "Leak during infusion; temporary harm possible.",
        "instructions": "Stop using, quarantine and return the units.",
        "signature": {"password": PASSWORD, "comment": "initiated"},
    }
    body.update(fields)
    return body
