"""CBV 2.0 vocabularies, JSON-LD prefixes and EPCIS timestamps."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from medledger.trace.epcis.namespaces import (
    STANDARD_PREFIXES,
    KeyForm,
    classify_key,
    collect_namespaces,
    expand_curie,
    merge_contexts,
)
from medledger.trace.epcis.timestamps import hash_timestamp, is_time_zone_offset, to_utc
from medledger.trace.epcis.validation import epcis_json_schema
from medledger.trace.epcis.vocabulary import (
    BIZ_STEP,
    BIZ_TRANSACTION_TYPE,
    CBV_WEB_BASE,
    DISPOSITION,
    ERROR_REASON,
    MEASUREMENT_TYPES,
    SENSOR_ALERT_TYPES,
    SENSOR_COMPONENT,
    SOURCE_DESTINATION_TYPE,
    CbvVocabulary,
    UnknownVocabularyTerm,
    cbv_web_uri,
    measurement_type_uri,
    normalise_biz_step,
    normalise_disposition,
    normalise_term,
)


@pytest.mark.parametrize(
    ("vocabulary", "definition"),
    [
        (BIZ_STEP, "bizStep"),
        (DISPOSITION, "disposition"),
        (BIZ_TRANSACTION_TYPE, "bizTransaction-type"),
        (SOURCE_DESTINATION_TYPE, "source-dest-type"),
        (ERROR_REASON, "error-reason"),
        (SENSOR_COMPONENT, "component"),
    ],
)
def test_vocabularies_match_the_epcis_2_0_1_schema(
    vocabulary: CbvVocabulary, definition: str
) -> None:
    enum = epcis_json_schema()["definitions"][definition]["anyOf"][1]["enum"]

    assert vocabulary.terms == frozenset(enum)


def test_sensor_vocabularies_match_the_schema() -> None:
    definitions = epcis_json_schema()["definitions"]

    assert frozenset(definitions["measurementType"]["anyOf"][1]["enum"]) == MEASUREMENT_TYPES
    assert frozenset(definitions["sensorAlertType"]["anyOf"][1]["enum"]) == SENSOR_ALERT_TYPES


def test_cbv_2_0_has_41_business_steps_and_33_dispositions() -> None:
    assert len(BIZ_STEP.terms) == 41
    assert len(DISPOSITION.terms) == 33


@pytest.mark.parametrize(
    "spelling",
    [
        "shipping",
        "urn:epcglobal:cbv:bizstep:shipping",
        "URN:EPCGLOBAL:CBV:BIZSTEP:shipping",
        "https://ref.gs1.org/cbv/BizStep-shipping",
        "http://ns.gs1.org/cbv/BizStep-shipping",
        "cbv:BizStep-shipping",
    ],
)
def test_every_spelling_of_a_standard_business_step_normalises_to_its_bare_name(
    spelling: str,
) -> None:
    assert normalise_biz_step(spelling, collect_namespaces()) == "shipping"


def test_uri_forms_of_a_term() -> None:
    assert BIZ_STEP.urn("shipping") == "urn:epcglobal:cbv:bizstep:shipping"
    assert BIZ_STEP.web_uri("shipping") == "https://ref.gs1.org/cbv/BizStep-shipping"
    assert DISPOSITION.web_uri("in_transit") == "https://ref.gs1.org/cbv/Disp-in_transit"
    assert BIZ_TRANSACTION_TYPE.urn("po") == "urn:epcglobal:cbv:btt:po"
    with pytest.raises(ValueError):
        SENSOR_COMPONENT.urn("x")


def test_extension_terms_keep_their_uri_with_curies_expanded() -> None:
    namespaces = collect_namespaces({"acme": "https://acme.example/voc/"})

    assert normalise_disposition("acme:quarantined", namespaces) == (
        "https://acme.example/voc/quarantined"
    )
    assert normalise_disposition("urn:acme:disp:quarantined") == "urn:acme:disp:quarantined"
    # an unknown term in the CBV namespace is kept as a URI; validation reports it
    assert normalise_disposition("https://ref.gs1.org/cbv/Disp-quarantined") == (
        "https://ref.gs1.org/cbv/Disp-quarantined"
    )


def test_a_bare_unknown_word_cannot_be_normalised() -> None:
    with pytest.raises(UnknownVocabularyTerm) as raised:
        normalise_term("quarantined", DISPOSITION)

    assert raised.value.vocabulary is DISPOSITION
    assert str(raised.value) == "'quarantined' is not a standard CBV disposition"


@pytest.mark.parametrize(
    ("value", "vocabulary", "expected"),
    [
        ("shipping", BIZ_STEP, "https://ref.gs1.org/cbv/BizStep-shipping"),
        (
            "urn:epcglobal:cbv:disp:in_transit",
            DISPOSITION,
            "https://ref.gs1.org/cbv/Disp-in_transit",
        ),
        ("po", BIZ_TRANSACTION_TYPE, "https://ref.gs1.org/cbv/BTT-po"),
        ("owning_party", SOURCE_DESTINATION_TYPE, "https://ref.gs1.org/cbv/SDT-owning_party"),
        ("did_not_occur", ERROR_REASON, "https://ref.gs1.org/cbv/ER-did_not_occur"),
        ("cbv:Comp-latitude", SENSOR_COMPONENT, "https://ref.gs1.org/cbv/Comp-latitude"),
        ("https://example.org/bizstep/x", BIZ_STEP, "https://example.org/bizstep/x"),
        ("unknown_word", BIZ_STEP, "unknown_word"),
    ],
)
def test_cbv_web_uri(value: str, vocabulary: CbvVocabulary, expected: str) -> None:
    assert cbv_web_uri(value, vocabulary, collect_namespaces()) == expected


def test_measurement_types_expand_to_the_gs1_web_vocabulary() -> None:
    namespaces = collect_namespaces({"example": "https://ns.example.com/"})

    assert measurement_type_uri("Temperature", namespaces) == "https://gs1.org/voc/Temperature"
    assert measurement_type_uri("ALARM_CONDITION") == "https://gs1.org/voc/ALARM_CONDITION"
    assert measurement_type_uri("gs1:Angle", namespaces) == "https://gs1.org/voc/Angle"
    assert measurement_type_uri("example:Ghi", namespaces) == "https://ns.example.com/Ghi"
    assert measurement_type_uri("EffectiveDoseRate", namespaces) == "EffectiveDoseRate"


# --- JSON-LD prefixes ---------------------------------------------------------------------


def test_namespaces_come_from_the_standard_context_and_every_declaration() -> None:
    namespaces = collect_namespaces(
        [
            "https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
            {"example": "https://ns.example.com/epcis/", "rail": {"@id": "urn:gs1:rail:"}},
            {"cbvmda": "http://example.com/cbvmda/", "@vocab": "https://x/", "n": 3},
        ]
    )

    assert namespaces["example"] == "https://ns.example.com/epcis/"
    assert namespaces["rail"] == "urn:gs1:rail:"
    assert namespaces["cbvmda"] == "http://example.com/cbvmda/"  # later declarations win
    assert namespaces["gs1"] == "https://gs1.org/voc/"
    assert "@vocab" not in namespaces
    assert "n" not in namespaces


@pytest.mark.parametrize(
    ("key", "form"),
    [
        ("example:myField", KeyForm.CURIE),
        ("cbvmda:lotNumber", KeyForm.CURIE),
        ("https://ns.example.com/epcis/myField", KeyForm.ABSOLUTE_URI),
        ("urn:example:field", KeyForm.ABSOLUTE_URI),
        ("acme:myField", KeyForm.UNDECLARED_PREFIX),
        ("myField", KeyForm.BARE),
    ],
)
def test_classify_key(key: str, form: KeyForm) -> None:
    namespaces = collect_namespaces({"example": "https://ns.example.com/epcis/"})

    assert classify_key(key, namespaces) is form


def test_expand_curie_and_merge_contexts() -> None:
    namespaces = collect_namespaces({"example": "https://ns.example.com/epcis/"})

    assert expand_curie("example:a", namespaces) == "https://ns.example.com/epcis/a"
    assert expand_curie("https://x.org/a", namespaces) == "https://x.org/a"
    assert expand_curie("other:a", namespaces) == "other:a"
    assert merge_contexts(["a", {"b": "c"}], [{"d": "e"}, "a"]) == ["a", {"b": "c"}, {"d": "e"}]
    assert merge_contexts("a", None) == "a"
    assert merge_contexts(None, {"d": "e"}) == {"d": "e"}


# --- timestamps ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-01T10:00:00+02:00", datetime(2026, 3, 1, 8, 0, tzinfo=UTC)),
        ("2026-03-01T10:00:00.5Z", datetime(2026, 3, 1, 10, 0, 0, 500000, tzinfo=UTC)),
        ("2026-03-01T23:30:00.1234567-06:00", datetime(2026, 3, 2, 5, 30, 0, 123456, tzinfo=UTC)),
        ("2016-12-31T23:59:60Z", datetime(2017, 1, 1, 0, 0, tzinfo=UTC)),
    ],
)
def test_timestamps_convert_to_aware_utc(value: str, expected: datetime) -> None:
    assert to_utc(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-03-04T11:00:30.000+01:00", "2020-03-04T10:00:30.000Z"),
        ("2022-02-16T20:33:31.116000-06:00", "2022-02-17T02:33:31.116Z"),
        ("2023-02-02T11:04:03.1415Z", "2023-02-02T11:04:03.142Z"),
        ("2023-02-02T11:04:03.1414Z", "2023-02-02T11:04:03.141Z"),
        ("2023-02-02T11:04:03Z", "2023-02-02T11:04:03.000Z"),
        ("2023-02-02T11:04:03.9999+00:00", "2023-02-02T11:04:04.000Z"),
    ],
)
def test_hash_timestamps_are_utc_milliseconds_rounded_half_up(value: str, expected: str) -> None:
    assert hash_timestamp(value) == expected


@pytest.mark.parametrize(
    "value",
    ["2026-03-01T10:00:00", "2026-13-01T10:00:00Z", "2026-03-01T10:00:00+25:00", "22-07-2026"],
)
def test_invalid_timestamps_are_rejected(value: str) -> None:
    with pytest.raises(ValueError):
        to_utc(value)


def test_time_zone_offsets() -> None:
    assert is_time_zone_offset("+02:00")
    assert is_time_zone_offset("-14:00")
    assert not is_time_zone_offset("02:00")
    assert not is_time_zone_offset("+15:00")


# --- the EPCIS JSON-LD context ------------------------------------------------------------

EPCIS_CONTEXT = Path(__file__).parents[2] / "vectors/epcis/epcis-context.jsonld"


def _context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads(EPCIS_CONTEXT.read_text(encoding="utf-8"))["@context"]
    return context


def test_built_in_prefixes_are_those_of_the_epcis_context() -> None:
    # given the prefix declarations of the standard EPCIS 2.0 JSON-LD context
    declared = {
        term: value
        for term, value in _context().items()
        if isinstance(value, str) and value.endswith(("/", "#", ":"))
    }

    # then the engine knows exactly those prefixes without fetching the context
    assert declared == dict(STANDARD_PREFIXES)


@pytest.mark.parametrize(
    ("vocabulary", "path"),
    [
        (BIZ_STEP, ("bizStep",)),
        (DISPOSITION, ("disposition",)),
        (BIZ_TRANSACTION_TYPE, ("bizTransactionList", "type")),
        (SOURCE_DESTINATION_TYPE, ("sourceList", "type")),
        (ERROR_REASON, ("errorDeclaration", "reason")),
    ],
)
def test_vocabulary_terms_expand_as_in_the_epcis_context(
    vocabulary: CbvVocabulary, path: tuple[str, ...]
) -> None:
    # given the scoped term definitions of the context for that field
    scoped = _context()[path[0]]["@context"]
    for key in path[1:]:
        scoped = scoped[key]["@context"]
    terms = {term: iri for term, iri in scoped.items() if not term.startswith("@")}

    # then every standard term expands to the engine's Web URI for it
    assert {term: iri.replace("cbv:", CBV_WEB_BASE) for term, iri in terms.items()} == {
        term: vocabulary.web_uri(term) for term in vocabulary.terms
    }
