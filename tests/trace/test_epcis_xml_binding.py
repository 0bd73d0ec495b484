"""EPCIS XML through the REST binding: capture of EPCIS 2.0 and 1.2 XML, XML answers with
``GS1-CBV-XML-Format``, and ``GS1-EPC-Format: Always_EPC_URN`` (JSON and XML), on a real
database and a real HTTP stack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.builders import build_network, token_headers

from medledger.core.system import system_unit_of_work
from medledger.trace.epcis.document import iter_document_events
from medledger.trace.epcis.hashing import event_hash
from medledger.trace.epcis.xml import xml_to_document
from medledger.trace.models import EpcisEvent

VECTORS = Path(__file__).parents[1] / "vectors/epcis"
HASH_EXAMPLES = VECTORS / "event-hash-examples"
OPENEPCIS = VECTORS / "openepcis-test-resources"

XML = {"Content-Type": "application/xml"}

# A GS1 company prefix GS1's table knows (4012345, 7 digits) and an event naming it.
EVENT_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0"
    creationDate="2026-12-07T10:00:00Z" xmlns:ex="https://ex.example/epcis/">
  <EPCISBody><EventList>
    <ObjectEvent>
      <eventTime>2026-12-07T10:00:00.000+01:00</eventTime>
      <eventTimeZoneOffset>+01:00</eventTimeZoneOffset>
      <epcList>
        <epc>https://id.gs1.org/01/04012345111118/21/987</epc>
        <epc>urn:epc:id:sgtin:4012345.011111.988</epc>
      </epcList>
      <action>OBSERVE</action>
      <bizStep>urn:epcglobal:cbv:bizstep:shipping</bizStep>
      <disposition>https://ref.gs1.org/cbv/Disp-in_transit</disposition>
      <readPoint><id>https://id.gs1.org/414/4012345000016</id></readPoint>
      <bizTransactionList>
        <bizTransaction type="urn:epcglobal:cbv:btt:po"
          >urn:epc:id:gdti:4012345.11111.1</bizTransaction>
      </bizTransactionList>
      <ex:note>fragile</ex:note>
    </ObjectEvent>
  </EventList></EPCISBody>
</epcis:EPCISDocument>"""


def _count(factory: sessionmaker[Session]) -> int:
    with system_unit_of_work(factory) as session:
        return int(session.scalar(select(func.count()).select_from(EpcisEvent)) or 0)


def _capture_xml(
    client: TestClient, headers: dict[str, str], body: bytes, content_type: str = "application/xml"
) -> dict[str, Any]:
    response = client.post(
        "/epcis/capture", content=body, headers={**headers, "Content-Type": content_type}
    )
    assert response.status_code == 202, response.text
    job: dict[str, Any] = response.json()
    return job


@pytest.mark.parametrize("content_type", ["application/xml", "text/xml"])
def test_an_xml_document_is_captured_as_its_json_ld(
    client: TestClient, factory: sessionmaker[Session], content_type: str
) -> None:
    build_network(factory, "xc")
    hub = token_headers(client, "xc-warehouse")

    job = _capture_xml(client, hub, EVENT_XML, content_type)

    assert (job["state"], job["capturedCount"], job["errors"]) == ("succeeded", 1, [])
    [expected] = iter_document_events(xml_to_document(EVENT_XML))
    answer = client.get(
        "/epcis/events", headers={**hub, "GS1-EPC-Format": "Never_Translates"}
    ).json()
    [event] = answer["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert event["eventID"] == event_hash(expected)
    assert {k: v for k, v in event.items() if k not in ("eventID", "recordTime", "@context")} == {
        k: v for k, v in expected.items() if k != "@context"
    }
    assert {"ex": "https://ex.example/epcis/"} in event["@context"]
    assert event["bizStep"] == "shipping"
    assert event["bizTransactionList"] == [
        {"type": "po", "bizTransaction": "urn:epc:id:gdti:4012345.11111.1"}
    ]


@pytest.mark.parametrize(
    "name",
    ["ReferenceEventHashAlgorithm", "epcisDocWithVariousEventTypes", "persistentDisposition"],
)
def test_an_xml_vector_and_its_json_ld_twin_are_the_same_stored_events(
    client: TestClient, factory: sessionmaker[Session], name: str
) -> None:
    # given the XML vector captured
    build_network(factory, "xt")
    hub = token_headers(client, "xt-warehouse")
    xml = (HASH_EXAMPLES / f"{name}.xml").read_bytes()
    twin = json.loads((HASH_EXAMPLES / f"{name}.jsonld").read_text(encoding="utf-8"))
    first = _capture_xml(client, hub, xml)
    stored = _count(factory)
    expected = [line for line in (HASH_EXAMPLES / f"{name}.hashes").read_text().split() if line]

    # when its JSON-LD twin is captured as well
    response = client.post("/epcis/capture", json=twin, headers=hub)

    # then the twin's events are the ones already stored (idempotent: same hash, same
    # content), under the reference hashes
    assert (first["state"], first["errors"]) == ("succeeded", [])
    assert response.status_code == 202
    assert (response.json()["state"], response.json()["errors"]) == ("succeeded", [])
    assert _count(factory) == stored == len(expected)
    for event_id in expected:
        found = client.get(f"/epcis/events/{quote(event_id, safe='')}", headers=hub)
        assert found.status_code == 200, event_id
    # and the stored events answered in XML (and in JSON) are the XML read as JSON-LD
    read = sorted(
        (_comparable(e) for e in iter_document_events(xml_to_document(xml))),
        key=lambda e: json.dumps(e, sort_keys=True),
    )
    as_is = {**hub, "GS1-EPC-Format": "Never_Translates", "GS1-CBV-XML-Format": "Never_Translates"}
    for accept in ("application/xml", "application/ld+json"):
        answer = client.get("/epcis/events", headers={**as_is, "Accept": accept})
        document = xml_to_document(answer.content) if accept == "application/xml" else answer.json()
        answered = sorted(
            (_comparable(e) for e in iter_document_events(document)),
            key=lambda e: json.dumps(e, sort_keys=True),
        )
        assert answered == read, accept


def _comparable(event: dict[str, Any]) -> dict[str, Any]:
    """An event without what the ledger sets (recordTime, the eventID it computed) and
    without the @context the answer carries per event."""
    return {k: v for k, v in event.items() if k not in ("@context", "recordTime", "eventID")}


def test_epcis_12_xml_is_captured(client: TestClient, factory: sessionmaker[Session]) -> None:
    build_network(factory, "x12")
    hub = token_headers(client, "x12-warehouse")
    path = OPENEPCIS / "1.2/EPCIS/XML/Capture/Documents/TransformationEvent_all_possible_fields.xml"

    job = _capture_xml(client, hub, path.read_bytes())

    assert (job["state"], job["capturedCount"], job["errors"]) == ("succeeded", 1, [])
    answer = client.get("/epcis/events", headers={**hub, "GS1-EPC-Format": "Never_Translates"})
    [event] = answer.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert event["type"] == "TransformationEvent"
    assert event["eventID"].startswith("ni:///sha-256;0d2fdf97")
    assert event["bizStep"] == "commissioning"
    assert event["transformationID"] == "urn:epc:id:gdti:0614141.12345.400"
    assert event["errorDeclaration"]["reason"] == "incorrect_data"


def test_a_single_xml_event_is_captured_by_post_events(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    build_network(factory, "xe")
    hub = token_headers(client, "xe-warehouse")
    body = (OPENEPCIS / "2.0/EPCIS/XML/Capture/Events/ObjectEvent.xml").read_bytes()

    response = client.post("/epcis/events", content=body, headers={**hub, **XML})

    assert response.status_code == 201, response.text
    assert response.json()["type"] == "ObjectEvent"
    assert _count(factory) == 1


@pytest.mark.parametrize(
    ("body", "stored"),
    [
        (b"<epcis:EPCISDocument xmlns:epcis='urn:epcglobal:epcis:xsd:2'><EPCISBody>", 0),
        (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<epcis:EPCISDocument xmlns:epcis='urn:epcglobal:epcis:xsd:2'>&x;"
            b"</epcis:EPCISDocument>",
            0,
        ),
    ],
    ids=["not-well-formed", "external-entity"],
)
def test_unreadable_xml_is_a_400_and_stores_nothing(
    client: TestClient, factory: sessionmaker[Session], body: bytes, stored: int
) -> None:
    build_network(factory, "xb")
    hub = token_headers(client, "xb-warehouse")

    response = client.post("/epcis/capture", content=body, headers={**hub, **XML})

    problem = response.json()
    assert response.status_code == 400
    assert (problem["type"], problem["code"]) == (
        "epcisException:ValidationException",
        "epcis.invalid_xml",
    )
    assert problem["errors"][0]["field"] == "body"
    assert _count(factory) == stored


def test_an_invalid_xml_event_is_reported_like_a_json_one(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    build_network(factory, "xi")
    hub = token_headers(client, "xi-warehouse")
    body = OPENEPCIS / "2.0/EPCIS/XML/Capture/Invalid/ObjectEvent_with_invalid_action.xml"

    job = _capture_xml(client, hub, body.read_bytes())

    assert job["state"] == "failed"
    assert [(e["pointer"], e["code"]) for e in job["errors"]] == [
        ("/epcisBody/eventList/0/action", "epcis.schema")
    ]
    assert _count(factory) == 0


# --- answers ------------------------------------------------------------------------------


def _captured(client: TestClient, factory: sessionmaker[Session], slug: str) -> dict[str, str]:
    build_network(factory, slug)
    hub = token_headers(client, f"{slug}-warehouse")
    _capture_xml(client, hub, EVENT_XML)
    return hub


def test_accept_xml_answers_an_epcis_query_document_in_xml(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    hub = _captured(client, factory, "xa")
    as_json = client.get("/epcis/events", headers={**hub, "GS1-EPC-Format": "Never_Translates"})
    [json_event] = as_json.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]

    answers = {
        accept: client.get(
            "/epcis/events",
            headers={**hub, "Accept": accept, "GS1-EPC-Format": "Never_Translates"},
        )
        for accept in ("application/xml", "text/xml", "application/ld+json;q=0.5, text/xml")
    }

    for accept, response in answers.items():
        assert response.status_code == 200, accept
        assert response.headers["content-type"].startswith("application/xml")
        assert response.headers["GS1-CBV-XML-Format"] == "Always_Web_URI"
        document = xml_to_document(response.content)
        assert document["type"] == "EPCISQueryDocument"
        [event] = iter_document_events(document)
        assert {k: v for k, v in event.items() if k != "@context"} == {
            k: v for k, v in json_event.items() if k != "@context"
        }
    text = answers["application/xml"].text
    assert "<bizStep>https://ref.gs1.org/cbv/BizStep-shipping</bizStep>" in text
    assert "<queryName>SimpleEventQuery</queryName>" in text


def test_gs1_cbv_xml_format_chooses_urns_or_web_uris(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    hub = _captured(client, factory, "xf")
    xml = {**hub, "Accept": "application/xml"}

    urn = client.get("/epcis/events", headers={**xml, "GS1-CBV-XML-Format": "Always_URN"})
    web = client.get("/epcis/events", headers={**xml, "GS1-CBV-XML-Format": "Always_Web_URI"})
    kept = client.get("/epcis/events", headers={**xml, "GS1-CBV-XML-Format": "Never_Translates"})
    bad = client.get("/epcis/events", headers={**xml, "GS1-CBV-XML-Format": "Sometimes"})

    assert urn.headers["GS1-CBV-XML-Format"] == "Always_URN"
    assert "<bizStep>urn:epcglobal:cbv:bizstep:shipping</bizStep>" in urn.text
    assert "<disposition>urn:epcglobal:cbv:disp:in_transit</disposition>" in urn.text
    assert 'type="urn:epcglobal:cbv:btt:po"' in urn.text
    assert "<bizStep>https://ref.gs1.org/cbv/BizStep-shipping</bizStep>" in web.text
    assert 'type="https://ref.gs1.org/cbv/BTT-po"' in web.text
    assert "<bizStep>https://ref.gs1.org/cbv/BizStep-shipping</bizStep>" in kept.text
    assert bad.status_code == 400
    assert bad.json()["type"] == "epcisException:QueryParameterException"


def test_xml_is_answered_on_every_event_document_path(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    hub = _captured(client, factory, "xp")
    [event] = client.get("/epcis/events", headers=hub).json()["epcisBody"]["queryResults"][
        "resultsBody"
    ]["eventList"]
    created = client.post(
        "/epcis/queries",
        json={"name": "ships", "query": {"EQ_bizStep": ["shipping"]}},
        headers=hub,
    )
    assert created.status_code == 201, created.text
    xml = {**hub, "Accept": "application/xml"}

    for path in (
        f"/epcis/events/{quote(event['eventID'], safe='')}",
        "/epcis/bizSteps/shipping/events",
        "/epcis/queries/ships/events",
    ):
        response = client.get(path, headers=xml)
        assert response.status_code == 200, path
        [read] = iter_document_events(xml_to_document(response.content))
        assert read["eventID"] == event["eventID"], path


def test_accept_xml_elsewhere_is_406(client: TestClient, factory: sessionmaker[Session]) -> None:
    hub = _captured(client, factory, "xn")

    for path in ("/epcis/capture", "/epcis/bizSteps", "/epcis/queries", "/epcis"):
        response = client.get(path, headers={**hub, "Accept": "application/xml"})
        assert response.status_code == 406, path
        assert response.json()["type"] == "epcisException:NotAcceptableException"


def test_always_epc_urn_answers_every_identifier_as_a_urn_where_the_prefix_is_known(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    hub = _captured(client, factory, "xu")
    urn = {**hub, "GS1-EPC-Format": "Always_EPC_URN"}

    as_json = client.get("/epcis/events", headers=urn).json()
    as_xml = client.get("/epcis/events", headers={**urn, "Accept": "application/xml"})

    [event] = as_json["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert event["epcList"] == [
        "urn:epc:id:sgtin:4012345.011111.987",
        "urn:epc:id:sgtin:4012345.011111.988",
    ]
    assert event["readPoint"] == {"id": "urn:epc:id:sgln:4012345.00001.0"}
    assert event["bizTransactionList"][0]["bizTransaction"] == "urn:epc:id:gdti:4012345.11111.1"
    [xml_event] = iter_document_events(xml_to_document(as_xml.content))
    assert xml_event["epcList"] == event["epcList"]
    assert xml_event["readPoint"] == event["readPoint"]
    # and the default answers Digital Links
    [dl] = client.get("/epcis/events", headers=hub).json()["epcisBody"]["queryResults"][
        "resultsBody"
    ]["eventList"]
    assert dl["epcList"] == [
        "https://id.gs1.org/01/04012345111118/21/987",
        "https://id.gs1.org/01/04012345111118/21/988",
    ]
    assert dl["bizTransactionList"][0]["bizTransaction"] == "https://id.gs1.org/253/40123451111181"
