"""EPCIS document validation against the OpenEPCIS conformance documents, plus the CBV rules.

Every valid capture document and single event of openepcis-test-resources must be accepted
with no error at all, and every "Invalid" document rejected with exactly the errors listed in
``INVALID_CAPTURE_DOCUMENTS``.

Decision on ``Capture/Documents/SensorData_with_combined_events.json``: it sits among the
valid documents, but its ninth event has two ``sensorReport`` entries without ``type``, and
the ratified EPCIS 2.0.1 JSON schema makes ``type`` required in a sensorReport (the 2.0.0 XML
binding did not). MedLedger validates against 2.0.1, so the document is **expected invalid**,
with exactly those two schema errors and nothing else.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from medledger.trace.epcis import validation
from medledger.trace.epcis.validation import (
    EVENT_FIELDS,
    ErrorCode,
    EventError,
    epcis_json_schema,
    validate_document,
    validate_event,
    validate_query,
    validation_failed,
)

OPENEPCIS = Path(__file__).parents[2] / "vectors/epcis/openepcis-test-resources/2.0/EPCIS/JSON"
CAPTURE = OPENEPCIS / "Capture"
QUERY = OPENEPCIS / "Query"

SCHEMA = ErrorCode.SCHEMA
EVENTS = "/epcisBody/eventList"

# file -> exact (event_index, pointer, code) of every error
INVALID_CAPTURE_DOCUMENTS: dict[str, list[tuple[int | None, str, str]]] = {
    "Combination_of_events_with_missing_mandatory_fields.json": [
        (0, f"{EVENTS}/0/action", SCHEMA),
        (1, f"{EVENTS}/1/action", SCHEMA),
        (1, f"{EVENTS}/1/eventTimeZoneOffset", SCHEMA),
    ],
    "Combination_of_multiple_invalid_fields.json": [
        (0, f"{EVENTS}/0/bizStep", ErrorCode.UNKNOWN_BIZ_STEP),
        (1, f"{EVENTS}/1/disposition", ErrorCode.UNKNOWN_DISPOSITION),
        (2, f"{EVENTS}/2/sourceList/0/type", ErrorCode.UNKNOWN_SOURCE_DESTINATION_TYPE),
        (3, f"{EVENTS}/3/ilmd/materialType", ErrorCode.ILMD_FIELD_WITHOUT_NAMESPACE),
        (4, f"{EVENTS}/4/action", SCHEMA),
        (4, f"{EVENTS}/4/eventTime", SCHEMA),
    ],
    "Combination_of_non_standard_bizStep_and_disposition.json": [
        (0, f"{EVENTS}/0/bizStep", ErrorCode.UNKNOWN_BIZ_STEP),
        (1, f"{EVENTS}/1/disposition", ErrorCode.UNKNOWN_DISPOSITION),
    ],
    "EPCISDocument_without_context.json": [(None, "/@context", SCHEMA)],
    "ObjectEvent_with_ilmd_field_without_namespace.json": [
        (0, f"{EVENTS}/0/ilmd/materialType", ErrorCode.ILMD_FIELD_WITHOUT_NAMESPACE),
    ],
    "ObjectEvent_with_invalid_action.json": [(0, f"{EVENTS}/0/action", SCHEMA)],
    "ObjectEvent_with_invalid_certificationInfo.json": [
        (0, f"{EVENTS}/0/certificationInfo", SCHEMA),
    ],
    "ObjectEvent_with_invalid_eventTime_format.json": [(0, f"{EVENTS}/0/eventTime", SCHEMA)],
    "ObjectEvent_with_non_standard_bizStep.json": [
        (0, f"{EVENTS}/0/bizStep", ErrorCode.UNKNOWN_BIZ_STEP),
    ],
    "ObjectEvent_with_non_standard_bizStep_in_second_event.json": [
        (1, f"{EVENTS}/1/bizStep", ErrorCode.UNKNOWN_BIZ_STEP),
    ],
    "ObjectEvent_with_non_standard_disposition.json": [
        (0, f"{EVENTS}/0/disposition", ErrorCode.UNKNOWN_DISPOSITION),
    ],
    "ObjectEvent_with_quantity_as_text.json": [(0, f"{EVENTS}/0/quantityList/0/quantity", SCHEMA)],
    "ObjectEvent_with_unknown_field_in_quantityList.json": [
        (0, f"{EVENTS}/0/quantityList/0/weight", SCHEMA),
    ],
    "ObjectEvent_without_action_and_eventTime.json": [
        (0, f"{EVENTS}/0/action", SCHEMA),
        (0, f"{EVENTS}/0/eventTime", SCHEMA),
        (0, f"{EVENTS}/0/eventTimeZoneOffset", SCHEMA),
    ],
    "ObjectEvent_without_identifier_list.json": [(0, f"{EVENTS}/0", SCHEMA)],
}

EXPECTED_INVALID_UNDER_2_0_1: dict[str, list[tuple[int | None, str, str]]] = {
    "SensorData_with_combined_events.json": [
        (8, f"{EVENTS}/8/sensorElementList/0/sensorReport/0/type", SCHEMA),
        (8, f"{EVENTS}/8/sensorElementList/0/sensorReport/1/type", SCHEMA),
    ],
}

QUERY_EVENTS = "/epcisBody/queryResults/resultsBody/eventList"
INVALID_QUERY_DOCUMENTS: dict[str, list[tuple[int | None, str, str]]] = {
    "Invalid/QueryDocument_with_invalid_action.json": [(0, f"{QUERY_EVENTS}/0/action", SCHEMA)],
    "Invalid/QueryDocument_with_invalid_eventType.json": [
        (0, f"{QUERY_EVENTS}/0/type", ErrorCode.INVALID_EVENT_TYPE),
    ],
    "SensorData_with_combined_events.json": [
        (8, f"{QUERY_EVENTS}/8/sensorElementList/0/sensorReport/0/type", SCHEMA),
        (8, f"{QUERY_EVENTS}/8/sensorElementList/0/sensorReport/1/type", SCHEMA),
    ],
}


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _summary(errors: list[EventError]) -> list[tuple[int | None, str, str]]:
    return [(error.event_index, error.pointer, error.code) for error in errors]


def _names(folder: Path, exclude: set[str] | None = None) -> list[str]:
    return sorted(
        path.name for path in folder.glob("*.json") if path.name not in (exclude or set())
    )


VALID_CAPTURE_DOCUMENTS = _names(CAPTURE / "Documents", set(EXPECTED_INVALID_UNDER_2_0_1))
VALID_QUERY_DOCUMENTS = _names(QUERY, set(INVALID_QUERY_DOCUMENTS))


def test_the_vector_folders_hold_the_expected_number_of_files() -> None:
    assert len(VALID_CAPTURE_DOCUMENTS) + len(EXPECTED_INVALID_UNDER_2_0_1) == 38
    assert len(_names(CAPTURE / "Events")) == 5
    assert _names(CAPTURE / "Invalid") == sorted(INVALID_CAPTURE_DOCUMENTS)


@pytest.mark.parametrize("name", VALID_CAPTURE_DOCUMENTS)
def test_valid_capture_document_is_accepted(name: str) -> None:
    # given an OpenEPCIS valid capture document
    doc = _load(CAPTURE / "Documents" / name)

    # when it is validated
    errors = validate_document(doc)

    # then there is no error
    assert errors == []


@pytest.mark.parametrize("name", _names(CAPTURE / "Events"))
def test_valid_single_event_is_accepted_as_a_document_and_as_an_event(name: str) -> None:
    event = _load(CAPTURE / "Events" / name)

    assert validate_document(event) == []
    assert validate_event(event) == []


@pytest.mark.parametrize(
    ("name", "expected"), sorted(INVALID_CAPTURE_DOCUMENTS.items()), ids=lambda v: str(v)[:60]
)
def test_invalid_capture_document_is_rejected_with_exact_errors(
    name: str, expected: list[tuple[int | None, str, str]]
) -> None:
    # given an OpenEPCIS "Invalid" capture document
    doc = _load(CAPTURE / "Invalid" / name)

    # when it is validated
    errors = validate_document(doc)

    # then exactly the expected problems are reported, each on its event
    assert _summary(errors) == expected
    assert all(error.message for error in errors)


def test_sensor_report_without_type_is_invalid_under_2_0_1() -> None:
    doc = _load(CAPTURE / "Documents" / "SensorData_with_combined_events.json")

    errors = validate_document(doc)

    assert _summary(errors) == EXPECTED_INVALID_UNDER_2_0_1["SensorData_with_combined_events.json"]
    assert [error.message for error in errors] == ["'type' is required"] * 2


@pytest.mark.parametrize("name", VALID_QUERY_DOCUMENTS)
def test_valid_query_document_is_accepted(name: str) -> None:
    assert validate_document(_load(QUERY / name)) == []


@pytest.mark.parametrize(
    ("name", "expected"), sorted(INVALID_QUERY_DOCUMENTS.items()), ids=lambda v: str(v)[:60]
)
def test_invalid_query_document_is_rejected_with_exact_errors(
    name: str, expected: list[tuple[int | None, str, str]]
) -> None:
    assert _summary(validate_document(_load(QUERY / name))) == expected


def test_query_definitions_are_validated_by_the_query_schema() -> None:
    queries = QUERY / "Queries"

    assert validate_query(_load(queries / "SimpleEventQuery.json")) == []
    assert _summary(validate_query(_load(queries / "Invalid/Query_with_invalid_values.json"))) == [
        (None, "/EQ_action/0", SCHEMA),
        (None, "/GE_eventTime", SCHEMA),
        (None, "/orderDirection", SCHEMA),
    ]
    assert _summary(
        validate_query(_load(queries / "Invalid/Query_with_unknown_parameter.json"))
    ) == [(None, "/GE_eventDate", SCHEMA)]


# --- the rules one by one ---------------------------------------------------------------


def object_event(**fields: Any) -> dict[str, Any]:
    """A minimal valid ObjectEvent with its own @context; ``fields`` override or add."""
    event: dict[str, Any] = {
        "@context": [
            "https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
            {"example": "https://ns.example.com/epcis/"},
        ],
        "type": "ObjectEvent",
        "eventTime": "2026-03-01T10:00:00.000+01:00",
        "eventTimeZoneOffset": "+01:00",
        "eventID": "urn:uuid:6b2b7d3e-0b1c-4a55-9f3e-1f0a1c2d3e4f",
        "epcList": ["urn:epc:id:sgtin:4012345.011111.987"],
        "action": "OBSERVE",
    }
    event.update(fields)
    return event


def capture_document(*events: dict[str, Any]) -> dict[str, Any]:
    """A capture document around ``events`` (their own @context is dropped)."""
    return {
        "@context": [
            "https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
            {"example": "https://ns.example.com/epcis/"},
        ],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-03-01T10:05:00Z",
        "epcisBody": {
            "eventList": [{k: v for k, v in e.items() if k != "@context"} for e in events]
        },
    }


def codes(errors: list[EventError]) -> list[tuple[str, str]]:
    return [(error.pointer, error.code) for error in errors]


@pytest.mark.parametrize(
    "biz_step",
    [
        "shipping",
        "sensor_reporting",
        "https://ref.gs1.org/cbv/BizStep-shipping",
        "cbv:BizStep-shipping",
        "https://ns.example.com/epcis/bizstep/sterilising",
        "example:sterilising",
        "urn:example:bizstep:sterilising",
    ],
)
def test_standard_and_namespaced_business_steps_are_accepted(biz_step: str) -> None:
    assert validate_event(object_event(bizStep=biz_step)) == []


@pytest.mark.parametrize(
    ("biz_step", "code"),
    [
        ("sterilising", ErrorCode.UNKNOWN_BIZ_STEP),
        ("Shipping", ErrorCode.UNKNOWN_BIZ_STEP),
        ("https://ref.gs1.org/cbv/BizStep-sterilising", ErrorCode.UNKNOWN_BIZ_STEP),
        ("cbv:BizStep-sterilising", ErrorCode.UNKNOWN_BIZ_STEP),
        ("urn:epcglobal:cbv:bizstep:sterilising", ErrorCode.UNKNOWN_BIZ_STEP),
        ("urn:epcglobal:cbv:bizstep:shipping", ErrorCode.CBV_VALUE_NOT_BARE),
    ],
)
def test_non_standard_business_steps_are_rejected(biz_step: str, code: str) -> None:
    # given an event whose bizStep is not a standard CBV term in JSON form
    event = object_event(bizStep=biz_step)

    # when it is validated
    errors = validate_event(event, 7)

    # then exactly one error points at bizStep
    assert codes(errors) == [("/bizStep", code)]
    assert errors[0].event_index == 7
    assert errors[0].event_id == "urn:uuid:6b2b7d3e-0b1c-4a55-9f3e-1f0a1c2d3e4f"


def test_dispositions_are_checked_including_persistent_dispositions() -> None:
    event = object_event(
        disposition="urn:epcglobal:cbv:disp:in_transit",
        persistentDisposition={"set": ["recalled", "quarantined"], "unset": ["in_progress"]},
    )

    assert codes(validate_event(event)) == [
        ("/disposition", ErrorCode.CBV_VALUE_NOT_BARE),
        ("/persistentDisposition/set/1", ErrorCode.UNKNOWN_DISPOSITION),
    ]


def test_transaction_types_source_types_and_error_reasons_are_checked() -> None:
    event = object_event(
        bizTransactionList=[
            {"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:4012345000009:PO1"},
            {"type": "order", "bizTransaction": "urn:epcglobal:cbv:bt:4012345000009:PO2"},
        ],
        sourceList=[{"type": "owning_party", "source": "urn:epc:id:pgln:4012345.00000"}],
        destinationList=[{"type": "hospital", "destination": "urn:epc:id:pgln:4012345.00000"}],
        errorDeclaration={"declarationTime": "2026-03-02T00:00:00Z", "reason": "typo"},
    )

    assert codes(validate_event(event)) == [
        ("/bizTransactionList/1/type", ErrorCode.UNKNOWN_BIZ_TRANSACTION_TYPE),
        ("/destinationList/0/type", ErrorCode.UNKNOWN_SOURCE_DESTINATION_TYPE),
        ("/errorDeclaration/reason", ErrorCode.UNKNOWN_ERROR_REASON),
    ]


def test_sensor_component_must_be_standard_or_namespaced() -> None:
    report = {"type": "Angle", "value": 1.5, "component": "diagonal"}
    event = object_event(sensorElementList=[{"sensorReport": [report]}])

    assert codes(validate_event(event)) == [
        ("/sensorElementList/0/sensorReport/0/component", ErrorCode.UNKNOWN_SENSOR_COMPONENT)
    ]


def test_user_extensions_need_a_declared_namespace_at_every_level() -> None:
    # given extension fields: namespaced, full URI, bare and with an undeclared prefix
    event = object_event(
        **{
            "example:sterilisationCycle": "C-17",
            "https://ns.example.com/epcis/operator": "J. Doe",
            "operator": "J. Doe",
            "acme:lineSpeed": 12,
        },
        readPoint={"id": "urn:epc:id:sgln:4012345.00001.0", "room": "3"},
        sensorElementList=[
            {
                "sensorMetadata": {"time": "2026-03-01T09:00:00Z", "probe": "P1"},
                "sensorReport": [{"type": "Temperature", "value": 4, "uom": "CEL", "raw": 4}],
                "example:batteryLevel": 0.8,
            }
        ],
        errorDeclaration={"declarationTime": "2026-03-02T00:00:00Z", "note": "late"},
    )

    # when it is validated
    errors = validate_event(event)

    # then each un-namespaced field is reported where it is
    assert codes(errors) == [
        ("/acme:lineSpeed", ErrorCode.UNDECLARED_NAMESPACE_PREFIX),
        ("/errorDeclaration/note", ErrorCode.EXTENSION_WITHOUT_NAMESPACE),
        ("/operator", ErrorCode.EXTENSION_WITHOUT_NAMESPACE),
        ("/readPoint/room", ErrorCode.EXTENSION_WITHOUT_NAMESPACE),
        ("/sensorElementList/0/sensorMetadata/probe", ErrorCode.EXTENSION_WITHOUT_NAMESPACE),
        ("/sensorElementList/0/sensorReport/0/raw", ErrorCode.EXTENSION_WITHOUT_NAMESPACE),
    ]


def test_a_standard_field_of_another_event_type_is_not_a_valid_extension() -> None:
    event = object_event(parentID="urn:epc:id:sscc:4012345.0000000001")

    assert codes(validate_event(event)) == [("/parentID", ErrorCode.EXTENSION_WITHOUT_NAMESPACE)]


def test_ilmd_fields_need_a_namespace() -> None:
    event = object_event(
        action="ADD",
        ilmd={"cbvmda:lotNumber": "L1", "example:sterile": True, "expiry": "2027-01-31"},
    )

    assert codes(validate_event(event)) == [
        ("/ilmd/expiry", ErrorCode.ILMD_FIELD_WITHOUT_NAMESPACE)
    ]


def test_event_level_context_declares_prefixes_for_that_event_only() -> None:
    # given two events; only the first declares the "lab" prefix in its own @context
    first = object_event(**{"lab:result": "pass"})
    second = object_event(**{"lab:result": "pass"})
    doc = capture_document(first, second)
    doc["epcisBody"]["eventList"][0]["@context"] = [{"lab": "https://lab.example.org/ns/"}]

    # when the document is validated
    errors = validate_document(doc)

    # then only the second event's field lacks a namespace
    assert codes(errors) == [(f"{EVENTS}/1/lab:result", ErrorCode.UNDECLARED_NAMESPACE_PREFIX)]
    assert errors[0].event_index == 1


@pytest.mark.parametrize(
    ("event_type", "expected"),
    [
        ("example:SterilisationEvent", []),
        ("https://ns.example.com/epcis/SterilisationEvent", []),
        ("SterilisationEvent", [("/type", ErrorCode.INVALID_EVENT_TYPE)]),
    ],
)
def test_event_type_is_standard_or_a_namespaced_extension(
    event_type: str, expected: list[tuple[str, str]]
) -> None:
    event = object_event(type=event_type)

    assert codes(validate_event(event)) == expected


@pytest.mark.parametrize(
    ("event_time", "valid"),
    [
        ("2026-03-01T10:00:00Z", True),
        ("2026-03-01T10:00:00.1234567-06:00", True),
        ("2026-03-01t10:00:00z", True),
        ("2026-03-01T10:00:00", False),
        ("2026-02-30T10:00:00Z", False),
        ("2026-03-01 10:00:00Z", False),
        ("01-03-2026T10:00:00Z", False),
    ],
)
def test_event_time_must_be_an_rfc3339_timestamp_with_zone(event_time: str, valid: bool) -> None:
    errors = validate_event(object_event(eventTime=event_time))

    assert codes(errors) == ([] if valid else [("/eventTime", SCHEMA)])


def test_schema_errors_are_mapped_to_their_event_with_event_id() -> None:
    good = object_event()
    bad = object_event(eventID="urn:uuid:00000000-0000-4000-8000-000000000002", action="MOVE")
    doc = capture_document(good, bad)

    errors = validate_document(doc)

    assert errors == [
        EventError(
            event_index=1,
            event_id="urn:uuid:00000000-0000-4000-8000-000000000002",
            pointer=f"{EVENTS}/1/action",
            code=SCHEMA,
            message="'MOVE' is not one of ['OBSERVE', 'ADD', 'DELETE']",
        )
    ]


def test_validate_event_does_not_require_a_context() -> None:
    event = object_event()
    del event["@context"]

    assert validate_event(event) == []
    assert codes(validate_document(event)) == [("/@context", SCHEMA)]


def test_a_payload_that_is_not_an_object_is_rejected() -> None:
    assert codes(validate_document([])) == [("", SCHEMA)]
    assert codes(validate_event("ObjectEvent")) == [("", SCHEMA)]


def test_validation_does_not_modify_the_document() -> None:
    doc = _load(CAPTURE / "Documents" / "Namespaces_at_different_level.json")
    before = copy.deepcopy(doc)

    validate_document(doc)

    assert doc == before


def test_standard_event_fields_match_the_schema() -> None:
    # given the property-name enumerations of the 2.0.1 schema for each event type
    definitions = epcis_json_schema()["definitions"]
    common = set(definitions["common-event-properties"]["anyOf"][0]["enum"])
    for event_type, fields in EVENT_FIELDS.items():
        schema_names = definitions[event_type]["allOf"][1]["propertyNames"]["anyOf"][1]["enum"]

        # then the engine's table of standard fields is exactly the schema's
        assert fields == common | set(schema_names), event_type


def test_errors_become_one_domain_error_with_field_level_details() -> None:
    # given a document with an unknown business step in its second event
    doc = capture_document(object_event(), object_event(bizStep="sterilising"))

    # when its errors are turned into the domain error the API layer renders
    failed = validation_failed(validate_document(doc))

    # then it is a 422 with one field error per problem, on dotted paths
    assert failed.status == 422
    assert failed.code == "epcis.invalid_document"
    assert [(e.field, e.code, e.params) for e in failed.errors] == [
        (
            "epcisBody.eventList.1.bizStep",
            ErrorCode.UNKNOWN_BIZ_STEP,
            {"event_index": 1, "event_id": "urn:uuid:6b2b7d3e-0b1c-4a55-9f3e-1f0a1c2d3e4f"},
        )
    ]


def test_memoised_vocabulary_and_key_findings_equal_fresh_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given events repeating good and bad terms and field names, two of them with an own
    # @context declaring "lab" (so the namespace map changes back and forth)
    variants = [
        {"bizStep": "shipping", "action": "ADD", "ilmd": {"example:lot": "L1"}},
        {"bizStep": "sterilising", "action": "ADD", "ilmd": {"lot": "L1"}},
        {"bizStep": "urn:epcglobal:cbv:bizstep:shipping", "disposition": "in_progress"},
        {"bizStep": "urn:epcglobal:cbv:bizstep:flying", "disposition": "broken"},
        {"bizStep": "example:sterilising", "lab:result": "pass"},
        {"sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:4012345.00001"}]},
        {"sourceList": [{"type": "cbv:SDT-nobody", "source": "urn:epc:id:pgln:4012345.00001"}]},
    ]
    events = [object_event(**variants[n % len(variants)]) for n in range(3 * len(variants))]
    doc = capture_document(*events)
    for position in (4, 11):
        doc["epcisBody"]["eventList"][position]["@context"] = [{"lab": "https://lab.example/"}]

    # when the document is validated (memo warm after the first pass) and each event alone
    # with the memo emptied first
    twice = [validate_document(doc), validate_document(doc)]
    alone: list[tuple[int | None, str, str, str]] = []
    for index, event in enumerate(doc["epcisBody"]["eventList"]):
        with_context = {**event, "@context": [*doc["@context"], *event.get("@context", [])]}
        monkeypatch.setattr(validation, "_last_findings", None)
        for error in validate_event(with_context, index):
            alone.append((index, f"{EVENTS}/{index}{error.pointer}", error.code, error.message))

    # then every pass reports the same problems with the same messages
    expected = [(e.event_index, e.pointer, e.code, e.message) for e in twice[0]]
    assert twice[0] == twice[1]
    assert expected == alone
    assert {code for _, _, code, _ in expected} == {
        ErrorCode.UNKNOWN_BIZ_STEP,
        ErrorCode.UNKNOWN_DISPOSITION,
        ErrorCode.UNKNOWN_SOURCE_DESTINATION_TYPE,
        ErrorCode.CBV_VALUE_NOT_BARE,
        ErrorCode.ILMD_FIELD_WITHOUT_NAMESPACE,
        ErrorCode.UNDECLARED_NAMESPACE_PREFIX,
    }
    assert len(expected) == 3 * 7 - 2  # two of the three "lab:result" fields are declared
