"""EPCIS documents for capture, query and projection tests: a small multi-step scenario.

Hub commissions a component lot and a component serial (e1), transforms them into two finished
serials of finished lot LOTF1 (e2), packs both into an SSCC (e3), unpacks S2 again (e4), ships
the SSCC to the distributor (e5); the distributor receives it (e6). The hub then ships S2 alone
(e7) and declares that shipment an error (e8).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from tests.builders import gln, gtin

from medledger.identifiers.checkdigit import gs1_check_digit

DL = "https://id.gs1.org"
CONTEXT = [
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
    {"cbvmda": "urn:epcglobal:cbv:mda:"},
]
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

COMPONENT_GTIN = gtin(10)
FINISHED_GTIN = gtin(20)
HUB_GLN, DISTRIBUTOR_GLN, SUPPLIER_GLN = gln(1), gln(2), gln(3)


def sscc_number(n: int) -> str:
    body = f"3409876{n:010d}"
    return body + gs1_check_digit(body)


SSCC = sscc_number(1)
LOT_C = f"{DL}/01/{COMPONENT_GTIN}/10/LOTC1"
CS1 = f"{DL}/01/{COMPONENT_GTIN}/21/CS1"
S1 = f"{DL}/01/{FINISHED_GTIN}/21/S1"
S2 = f"{DL}/01/{FINISHED_GTIN}/21/S2"
LOT_F = f"{DL}/01/{FINISHED_GTIN}/10/LOTF1"
SSCC_URI = f"{DL}/00/{SSCC}"


def sgtin_urn(gtin_value: str, serial: str) -> str:
    """EPC URN of a serial (7-digit company prefix)."""
    return f"urn:epc:id:sgtin:{gtin_value[1:8]}.{gtin_value[0]}{gtin_value[8:13]}.{serial}"


def lgtin_urn(gtin_value: str, lot: str) -> str:
    return f"urn:epc:class:lgtin:{gtin_value[1:8]}.{gtin_value[0]}{gtin_value[8:13]}.{lot}"


def sgln_urn(gln_value: str) -> str:
    return f"urn:epc:id:sgln:{gln_value[:7]}.{gln_value[7:12]}.0"


def pgln_urn(gln_value: str) -> str:
    return f"urn:epc:id:pgln:{gln_value[:7]}.{gln_value[7:12]}"


def event_id(n: int) -> str:
    return f"urn:uuid:6d1c1f3a-0000-4000-8000-{n:012d}"


def at(hours: int) -> str:
    return (T0 + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def document(*events: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-03-02T07:00:00Z",
        "epcisBody": {"eventList": list(events)},
    }


def _base(n: int, event_type: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": event_type,
        "eventID": event_id(n),
        "eventTime": at(n),
        "eventTimeZoneOffset": "+01:00",
        **fields,
    }


def commission() -> dict[str, Any]:  # e1
    return _base(
        1,
        "ObjectEvent",
        action="ADD",
        bizStep="commissioning",
        disposition="active",
        epcList=[sgtin_urn(COMPONENT_GTIN, "CS1")],
        quantityList=[
            {"epcClass": lgtin_urn(COMPONENT_GTIN, "LOTC1"), "quantity": 100, "uom": "KGM"}
        ],
        readPoint={"id": sgln_urn(HUB_GLN)},
        bizLocation={"id": sgln_urn(HUB_GLN)},
        ilmd={"cbvmda:itemExpirationDate": "2028-12-31"},
    )


def transform() -> dict[str, Any]:  # e2
    return _base(
        2,
        "TransformationEvent",
        bizStep="commissioning",
        disposition="active",
        inputEPCList=[CS1],
        inputQuantityList=[{"epcClass": LOT_C, "quantity": 10, "uom": "KGM"}],
        outputEPCList=[sgtin_urn(FINISHED_GTIN, "S1"), S2],
        bizLocation={"id": f"{DL}/414/{HUB_GLN}"},
        ilmd={"cbvmda:lotNumber": "LOTF1", "cbvmda:itemExpirationDate": "2029-06-30"},
    )


def pack() -> dict[str, Any]:  # e3
    return _base(
        3,
        "AggregationEvent",
        action="ADD",
        bizStep="packing",
        disposition="in_progress",
        parentID=f"urn:epc:id:sscc:{SSCC[1:8]}.{SSCC[0]}{SSCC[8:17]}",
        childEPCs=[S1, S2],
    )


def unpack() -> dict[str, Any]:  # e4
    return _base(
        4,
        "AggregationEvent",
        action="DELETE",
        bizStep="unpacking",
        parentID=SSCC_URI,
        childEPCs=[S2],
    )


def ship(n: int, epc: str, po: str) -> dict[str, Any]:  # e5, e7
    return _base(
        n,
        "ObjectEvent",
        action="OBSERVE",
        bizStep="shipping",
        disposition="in_transit",
        epcList=[epc],
        bizTransactionList=[{"type": "po", "bizTransaction": po}],
        sourceList=[{"type": "owning_party", "source": pgln_urn(HUB_GLN)}],
        destinationList=[{"type": "owning_party", "destination": f"{DL}/417/{DISTRIBUTOR_GLN}"}],
    )


def receive() -> dict[str, Any]:  # e6, captured by the distributor
    return _base(
        6,
        "ObjectEvent",
        action="OBSERVE",
        bizStep="receiving",
        disposition="in_progress",
        epcList=[SSCC_URI],
        readPoint={"id": sgln_urn(DISTRIBUTOR_GLN)},
        bizLocation={"id": sgln_urn(DISTRIBUTOR_GLN)},
        destinationList=[{"type": "owning_party", "destination": pgln_urn(DISTRIBUTOR_GLN)}],
    )


def declare_error(original: dict[str, Any]) -> dict[str, Any]:  # e8
    return {
        **original,
        "errorDeclaration": {
            "declarationTime": at(8),
            "reason": "incorrect_data",
            "correctiveEventIDs": [event_id(99)],
        },
    }


def capture(
    client: TestClient, headers: dict[str, str], doc: dict[str, Any], behaviour: str | None = None
) -> dict[str, Any]:
    """POST a document, check the 202 + Location contract, return the job."""
    extra = {"GS1-Capture-Error-Behaviour": behaviour} if behaviour else {}
    response = client.post("/epcis/capture", json=doc, headers={**headers, **extra})
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == f"/epcis/capture/{job['captureID']}"
    return job


def run_scenario(client: TestClient, hub: dict[str, str], distributor: dict[str, str]) -> None:
    """Capture e1–e8 through the API: hub (e1–e5), distributor (e6), hub (e7, e8)."""
    assert (
        capture(
            client,
            hub,
            document(
                commission(),
                transform(),
                pack(),
                unpack(),
                ship(5, SSCC_URI, "https://example.com/po/4711"),
            ),
        )["state"]
        == "succeeded"
    )
    assert capture(client, distributor, document(receive()))["state"] == "succeeded"
    second = ship(7, S2, "https://example.com/po/4712")
    assert capture(client, hub, document(second, declare_error(second)))["state"] == "succeeded"


def event_ids(query_answer: dict[str, Any]) -> list[str]:
    body = query_answer["epcisBody"]["queryResults"]["resultsBody"]
    return [event["eventID"] for event in body["eventList"]]
