"""normalise_event: the storage form of EPCIS events, with exact values."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from medledger.core.errors import ValidationFailed
from medledger.trace.epcis.hashing import event_hash
from medledger.trace.epcis.normalise import (
    BizTransaction,
    ErrorDeclaration,
    PersistentDisposition,
    QuantityElement,
    SourceDestination,
    iter_document_events,
    normalise_event,
)
from medledger.trace.epcis.validation import ErrorCode, validate_document

VECTORS = Path(__file__).parents[2] / "vectors/epcis"
OPENEPCIS = VECTORS / "openepcis-test-resources/2.0/EPCIS/JSON"

CONTEXT = [
    "https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
    {"example": "https://ns.example.com/epcis/"},
]


def object_event(**fields: Any) -> dict[str, Any]:
    """A minimal ObjectEvent (with @context); ``fields`` override or add."""
    event: dict[str, Any] = {
        "@context": CONTEXT,
        "type": "ObjectEvent",
        "eventTime": "2026-03-01T10:00:00.000+02:00",
        "eventTimeZoneOffset": "+02:00",
        "epcList": ["urn:epc:id:sgtin:4012345.011111.987"],
        "action": "OBSERVE",
    }
    event.update(fields)
    return event


def test_sgtin_urn_becomes_a_canonical_digital_link() -> None:
    # given an event naming a serialised item by its EPC URN
    event = object_event(epcList=["urn:epc:id:sgtin:4012345.011111.987"])

    # when it is normalised
    normalised = normalise_event(event)

    # then the EPC is the canonical GS1 Digital Link URI
    assert normalised.epc_list == ("https://id.gs1.org/01/04012345111118/21/987",)


def test_cbv_urn_business_step_becomes_its_bare_name() -> None:
    event = object_event(
        bizStep="urn:epcglobal:cbv:bizstep:shipping",
        disposition="https://ref.gs1.org/cbv/Disp-in_transit",
    )

    normalised = normalise_event(event)

    assert normalised.biz_step == "shipping"
    assert normalised.disposition == "in_transit"


def test_extension_business_step_keeps_its_full_uri() -> None:
    assert normalise_event(object_event(bizStep="example:sterilising")).biz_step == (
        "https://ns.example.com/epcis/sterilising"
    )


def test_event_time_with_offset_becomes_utc_and_the_offset_is_kept() -> None:
    # given an event at 10:00:00.123456 local time in a +02:00 zone
    event = object_event(eventTime="2026-03-01T10:00:00.123456+02:00")

    # when it is normalised
    normalised = normalise_event(event)

    # then the time is 08:00:00.123456 UTC and the zone offset is kept as given
    assert normalised.event_time == datetime(2026, 3, 1, 8, 0, 0, 123456, tzinfo=UTC)
    assert normalised.event_time.tzinfo is UTC
    assert normalised.event_time_zone_offset == "+02:00"


def test_event_without_id_gets_the_cbv_event_hash() -> None:
    event = object_event()

    normalised = normalise_event(event)

    assert normalised.event_id == event_hash(event)
    assert normalised.event_id_is_hash is True


def test_given_event_id_is_kept() -> None:
    normalised = normalise_event(object_event(eventID="urn:uuid:8f0c7a2e-0000-4000-8000-1"))

    assert normalised.event_id == "urn:uuid:8f0c7a2e-0000-4000-8000-1"
    assert normalised.event_id_is_hash is False


def test_record_time_in_the_payload_is_left_to_the_caller() -> None:
    normalised = normalise_event(object_event(recordTime="2026-03-01T09:00:00Z"))

    assert normalised.record_time is None


def test_shipping_event_with_everything_a_custody_hop_needs() -> None:
    # given a shipping event with locations, transactions, source and destination
    event = object_event(
        eventTime="2026-03-01T23:30:00-06:00",
        eventTimeZoneOffset="-06:00",
        epcList=["urn:epc:id:sscc:4012345.0000000333", "https://id.gs1.de/00/040123450000001112"],
        quantityList=[
            {
                "epcClass": "urn:epc:class:lgtin:4012345.011111.LOT-7",
                "quantity": 12.5,
                "uom": "KGM",
            },
            {"epcClass": "urn:epc:idpat:sgtin:4012345.011111.*", "quantity": 3},
        ],
        bizStep="shipping",
        disposition="in_transit",
        readPoint={"id": "urn:epc:id:sgln:4012345.00001.0"},
        bizLocation={"id": "urn:epc:id:sgln:4012345.00001.7"},
        bizTransactionList=[
            {"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:0614141000005:PO-123"},
            {"bizTransaction": "urn:epc:id:gdti:4012345.11111.1"},
        ],
        sourceList=[
            {"type": "owning_party", "source": "urn:epc:id:pgln:4012345.00000"},
            {"type": "urn:epcglobal:cbv:sdt:location", "source": "urn:epc:id:sgln:4012345.00001.0"},
        ],
        destinationList=[
            {"type": "cbv:SDT-possessing_party", "destination": "urn:epc:id:pgln:0614141.00000"},
        ],
    )

    # when it is normalised
    normalised = normalise_event(event)

    # then every identifier and term is in its canonical form
    assert normalised.event_type == "ObjectEvent"
    assert normalised.action == "OBSERVE"
    assert normalised.event_time == datetime(2026, 3, 2, 5, 30, tzinfo=UTC)
    assert normalised.epc_list == (
        "https://id.gs1.org/00/040123450000003338",
        "https://id.gs1.org/00/040123450000001112",
    )
    assert normalised.quantity_list == (
        QuantityElement("https://id.gs1.org/01/04012345111118/10/LOT-7", Decimal("12.5"), "KGM"),
        QuantityElement("https://id.gs1.org/01/04012345111118", Decimal("3"), None),
    )
    assert normalised.read_point == "https://id.gs1.org/414/4012345000016"
    assert normalised.biz_location == "https://id.gs1.org/414/4012345000016/254/7"
    assert normalised.biz_transaction_list == (
        BizTransaction("po", "urn:epcglobal:cbv:bt:0614141000005:PO-123"),
        BizTransaction(None, "https://id.gs1.org/253/40123451111181"),
    )
    assert normalised.source_list == (
        SourceDestination("owning_party", "https://id.gs1.org/417/4012345000009"),
        SourceDestination("location", "https://id.gs1.org/414/4012345000016"),
    )
    assert normalised.destination_list == (
        SourceDestination("possessing_party", "https://id.gs1.org/417/0614141000005"),
    )
    assert normalised.all_epcs == normalised.epc_list


def test_aggregation_event_parent_and_children() -> None:
    event = object_event(
        type="AggregationEvent",
        action="ADD",
        parentID="urn:epc:id:sscc:4012345.0000000333",
        childEPCs=["urn:epc:id:sgtin:4012345.011111.1", "urn:epc:id:sgtin:4012345.011111.2"],
        childQuantityList=[{"epcClass": "urn:epc:class:lgtin:4012345.011111.L1", "quantity": 4}],
    )
    del event["epcList"]

    normalised = normalise_event(event)

    assert normalised.parent_id == "https://id.gs1.org/00/040123450000003338"
    assert normalised.child_epcs == (
        "https://id.gs1.org/01/04012345111118/21/1",
        "https://id.gs1.org/01/04012345111118/21/2",
    )
    assert normalised.child_quantity_list == (
        QuantityElement("https://id.gs1.org/01/04012345111118/10/L1", Decimal("4"), None),
    )
    assert normalised.all_epcs == (
        "https://id.gs1.org/00/040123450000003338",
        "https://id.gs1.org/01/04012345111118/21/1",
        "https://id.gs1.org/01/04012345111118/21/2",
    )


def test_transformation_event_inputs_outputs_and_ilmd() -> None:
    # given a transformation that turns a component lot into serialised devices
    event = {
        "@context": CONTEXT,
        "type": "TransformationEvent",
        "eventTime": "2026-03-01T10:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "inputQuantityList": [
            {"epcClass": "urn:epc:class:lgtin:4012345.022222.C-9", "quantity": 2, "uom": "KGM"}
        ],
        "inputEPCList": ["urn:epc:id:sgtin:4012345.011111.7"],
        "outputEPCList": ["urn:epc:id:sgtin:4012345.033333.100"],
        "transformationID": "urn:epc:id:gdti:4012345.55555.98",
        "bizStep": "commissioning",
        "ilmd": {
            "cbvmda:lotNumber": "LOT-2026-03",
            "example:sterile": True,
            "example:batch": {"example:line": "2"},
        },
    }

    # when it is normalised
    normalised = normalise_event(event)

    # then inputs and outputs are canonical and ILMD names are full IRIs
    assert normalised.input_quantity_list == (
        QuantityElement("https://id.gs1.org/01/04012345222227/10/C-9", Decimal("2"), "KGM"),
    )
    assert normalised.input_epc_list == ("https://id.gs1.org/01/04012345111118/21/7",)
    assert normalised.output_epc_list == ("https://id.gs1.org/01/04012345333336/21/100",)
    assert normalised.transformation_id == "https://id.gs1.org/253/401234555555498"
    assert normalised.action is None
    assert normalised.ilmd == {
        "urn:epcglobal:cbv:mda:lotNumber": "LOT-2026-03",
        "https://ns.example.com/epcis/sterile": True,
        "https://ns.example.com/epcis/batch": {"example:line": "2"},
    }


def test_error_declaration_persistent_disposition_and_certification() -> None:
    event = object_event(
        persistentDisposition={"set": ["recalled"], "unset": ["cbv:Disp-conformant"]},
        certificationInfo="https://cert.example.org/certificate/ABC12345",
        errorDeclaration={
            "declarationTime": "2026-03-05T12:00:00.5+01:00",
            "reason": "incorrect_data",
            "correctiveEventIDs": ["urn:uuid:1", "urn:uuid:2"],
            "example:approvedBy": "QA",
        },
    )

    normalised = normalise_event(event)

    assert normalised.persistent_disposition == PersistentDisposition(
        set=("recalled",), unset=("conformant",)
    )
    assert normalised.certification_info == ("https://cert.example.org/certificate/ABC12345",)
    assert normalised.error_declaration == ErrorDeclaration(
        declaration_time=datetime(2026, 3, 5, 11, 0, 0, 500000, tzinfo=UTC),
        reason="incorrect_data",
        corrective_event_ids=("urn:uuid:1", "urn:uuid:2"),
        extensions={"https://ns.example.com/epcis/approvedBy": "QA"},
    )


def test_user_extensions_sensor_data_and_original_are_kept() -> None:
    sensor = [{"sensorReport": [{"type": "Temperature", "value": 4.5, "uom": "CEL"}]}]
    event = object_event(**{"example:shipmentNote": "fragile"}, sensorElementList=sensor)

    normalised = normalise_event(event)

    assert normalised.extensions == {"https://ns.example.com/epcis/shipmentNote": "fragile"}
    assert normalised.sensor_element_list == tuple(sensor)
    assert normalised.original is event


def test_context_may_be_given_separately() -> None:
    event = object_event(bizStep="example:sterilising")
    del event["@context"]

    assert normalise_event(event).biz_step == "example:sterilising"
    assert normalise_event(event, CONTEXT).biz_step == "https://ns.example.com/epcis/sterilising"


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"bizStep": "sterilising"}, "bizStep", ErrorCode.UNKNOWN_BIZ_STEP),
        ({"disposition": "quarantined"}, "disposition", ErrorCode.UNKNOWN_DISPOSITION),
        (
            {"sourceList": [{"type": "factory", "source": "urn:epc:id:pgln:4012345.00000"}]},
            "sourceList.0.type",
            ErrorCode.UNKNOWN_SOURCE_DESTINATION_TYPE,
        ),
        ({"eventTime": "2026-03-01"}, "eventTime", ErrorCode.SCHEMA),
        (
            {"epcList": ["urn:epc:id:sgtin:4012345.011111.1", "urn:epc:id:sgtin:4012345.1.1"]},
            "epcList.1",
            "gs1.invalid_epc_urn",
        ),
    ],
)
def test_values_that_cannot_be_normalised_raise_with_the_field_path(
    fields: dict[str, Any], field: str, code: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        normalise_event(object_event(**fields))

    assert raised.value.code == code
    assert [error.field for error in raised.value.errors] == [field]


def test_a_digital_link_with_a_wrong_check_digit_is_kept_as_received_when_not_strict() -> None:
    # given a schema-valid event whose Digital Link GRAI has a wrong check digit
    event = object_event(epcList=["https://id.example.com/8003/030013450007718765"])

    # when it is normalised strictly it is refused, leniently it keeps its DL spelling
    with pytest.raises(ValidationFailed) as raised:
        normalise_event(event)
    assert raised.value.code == "gs1.invalid_digital_link"
    assert normalise_event(event, strict_identifiers=False).epc_list == (
        "https://id.gs1.org/8003/030013450007718765",
    )


def test_iter_document_events_gives_each_event_its_context() -> None:
    # given a document with a document-level and an event-level @context
    doc = json.loads(
        (OPENEPCIS / "Capture/Documents/Namespaces_at_different_level.json").read_text()
    )

    # when its events are listed
    events = iter_document_events(doc)

    # then each carries the document context followed by its own
    assert len(events) == 5
    assert events[0]["@context"] == [
        "https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
        {"ext1": "https://ns.ext.de/epcis/"},
        {"ext2": "http://www.ext2.net/"},
    ]
    assert events[2]["@context"] == doc["@context"]
    assert normalise_event(events[0]).extensions == {
        "http://www.ext2.net/address": "Cologne",
        "https://ns.ext.de/epcis/name": "Testing",
    }
    assert "@context" not in doc["epcisBody"]["eventList"][2]


def test_iter_document_events_handles_query_documents_and_single_events() -> None:
    query = json.loads((OPENEPCIS / "Query/QueryDocumentWithMultipleEvents.json").read_text())
    single = json.loads((OPENEPCIS / "Capture/Events/ObjectEvent.json").read_text())

    assert len(iter_document_events(query)) == len(
        query["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    )
    assert iter_document_events(single) == [single]


def _valid_documents() -> list[Path]:
    paths = sorted((OPENEPCIS / "Capture/Documents").glob("*.json"))
    paths += sorted((OPENEPCIS / "Capture/Events").glob("*.json"))
    return [path for path in paths if not validate_document(json.loads(path.read_text()))]


# Valid OpenEPCIS documents whose Digital Link keys have wrong check digits or AI formats:
# EPCIS-valid, but refused by MedLedger's strict identifier policy.
BAD_GS1_KEYS = {"Combination_of_different_event.json"}


@pytest.mark.parametrize("path", _valid_documents(), ids=lambda path: path.name)
def test_every_valid_openepcis_event_normalises(path: Path) -> None:
    doc = json.loads(path.read_text())
    strict = path.name not in BAD_GS1_KEYS

    for event in iter_document_events(doc):
        normalised = normalise_event(event, strict_identifiers=strict)
        assert normalised.event_type == event["type"]
