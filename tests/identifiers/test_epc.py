"""EPC URN and Digital Link → canonical https://id.gs1.org identity URIs."""

from __future__ import annotations

from typing import Any, cast

import pytest

from medledger.core.errors import ValidationFailed
from medledger.identifiers.epc import (
    CANONICAL_ORIGIN,
    canonical_identifier,
    epc_urn_to_digital_link,
)

from .vectors import case_id, load_jsonl

EPC_CASES = load_jsonl("epc-urn-to-digital-link-derived-vectors.jsonl")

# How canonical_identifier (storage) answers the vectors whose expected value differs from
# epc_urn_to_digital_link (event hash): source line -> (outcome, why).
# The outcome is "unchanged" (not a GS1 identifier at all) or the error code it raises.
CANONICAL_OUTCOMES: dict[str, tuple[str, str]] = {
    "tests/dl_normaliser_test.py:53": (
        "gs1.invalid_digital_link",
        "GTIN-8 97803111 has a wrong check digit; storage refuses what hashing carries along",
    ),
    "tests/dl_normaliser_test.py:71": (
        "gs1.invalid_digital_link",
        "GTIN-12 040123451234 has a wrong check digit",
    ),
    "tests/dl_normaliser_test.py:114": ("unchanged", "no GS1 primary key in the path"),
    "tests/dl_normaliser_test.py:115": ("unchanged", "AI 99 is not a primary key"),
    "tests/dl_normaliser_test.py:116": ("gs1.invalid_digital_link", "99 qualifies no key"),
    "tests/dl_normaliser_test.py:120": ("unchanged", "an ordinary web URI"),
    "tests/dl_normaliser_test.py:124": ("gs1.invalid_digital_link", "5-digit GTIN"),
    "tests/dl_normaliser_test.py:125": ("gs1.invalid_digital_link", "ITIP needs 18 digits"),
    "tests/dl_normaliser_test.py:127": ("unchanged", "not a URI"),
    "tests/dl_normaliser_test.py:129": ("unchanged", "not a URI"),
}


@pytest.mark.parametrize("case", EPC_CASES, ids=case_id)
def test_epc_urn_to_digital_link_vectors(case: dict[str, Any]) -> None:
    # given an EPC URN or Digital Link URI from the CBV 2.0 hash normaliser's tests
    value = case["input"]

    if case["expected"] is None:
        # when it cannot be normalised, then it is refused with a stable code
        with pytest.raises(ValidationFailed) as raised:
            epc_urn_to_digital_link(value)
        assert raised.value.code == "gs1.invalid_epc_urn"
        assert raised.value.errors[0].field == "epc"
    else:
        # when converted, then the canonical Digital Link is exactly the expected one
        assert epc_urn_to_digital_link(value) == case["expected"]


@pytest.mark.parametrize(
    "case", [case for case in EPC_CASES if isinstance(case["input"], str)], ids=case_id
)
def test_canonical_identifier_vectors(case: dict[str, Any]) -> None:
    # given the same inputs, normalised for storage
    value = case["input"]
    outcome = CANONICAL_OUTCOMES.get(case["source"], (case["expected"], ""))[0]

    if outcome == "unchanged":
        assert canonical_identifier(value) == value
    elif outcome.startswith("gs1."):
        with pytest.raises(ValidationFailed) as raised:
            canonical_identifier(value)
        assert raised.value.code == outcome
    else:
        assert canonical_identifier(value) == outcome


def test_every_vector_outcome_listed_is_a_vector() -> None:
    sources = {case["source"] for case in EPC_CASES}
    assert set(CANONICAL_OUTCOMES) <= sources


# --- given/when/then ----------------------------------------------------------------------


def test_sgtin_and_its_digital_link_name_the_same_item() -> None:
    # given the same unit written as EPC URN, as DL on a brand host with a lot, and as DL
    # with a legacy short name and a query string
    forms = [
        "urn:epc:id:sgtin:9506000.013435.ABC%2F1",
        "https://brand.example.com/shop/01/09506000134352/10/L1/21/ABC%2F1?17=251231",
        "http://example.com/gtin/9506000134352/ser/ABC%2F1",
    ]

    # when each is normalised for storage, then all give one key (serial wins over lot)
    assert {canonical_identifier(form) for form in forms} == {
        "https://id.gs1.org/01/09506000134352/21/ABC%2F1"
    }


def test_lgtin_class_and_lot_digital_link_agree() -> None:
    assert canonical_identifier("urn:epc:class:lgtin:9506000.013435.LOT-7") == (
        "https://id.gs1.org/01/09506000134352/10/LOT-7"
    )
    assert canonical_identifier("https://example.com/01/09506000134352/22/V2/10/LOT-7") == (
        "https://id.gs1.org/01/09506000134352/10/LOT-7"
    )


def test_apostrophe_stays_literal_as_in_the_hash_reference() -> None:
    # given the UPUI from the CBV 2.0 hash example epcisDocWithAllGS1Keys (its pre-hash
    # line holds .../235/51qIgY%29%3C%26Jp3%2Aj7'SDB)
    urn = "urn:epc:id:upui:1234567.098765.51qIgY)%3C%26Jp3*j7'SDB"

    # when converted, then ( ) < & * are encoded and ' is kept
    assert epc_urn_to_digital_link(urn) == (
        "https://id.gs1.org/01/01234567987651/235/51qIgY%29%3C%26Jp3%2Aj7'SDB"
    )


@pytest.mark.parametrize(
    "value",
    [
        "urn:uuid:123e4567-e89b-12d3-a456-426614174000",
        "urn:epc:id:gid:95100000.12345.400",
        "urn:epc:idpat:sgtin:4012345.*.*",
        "urn:epc:tag:sgtin-96:3.0614141.812345.6789",
        "https://example.org/things/42",
        "https://id.gs1.org/",
        "Hello World!",
    ],
)
def test_non_gs1_identifiers_are_stored_unchanged(value: str) -> None:
    assert canonical_identifier(value) == value


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("urn:epc:id:sgtin:9506000.013435.", "gs1.invalid_epc_urn"),
        ("urn:epc:id:sgtin:950600.013435.1", "gs1.invalid_epc_urn"),
        ("urn:epc:id:sgtin:9506000.013435.a%41", "gs1.invalid_epc_urn"),
        ("urn:epc:id:sgtin:9506000.013435.ABCDEFGHIJKLMNOPQRSTU", "gs1.invalid_epc_urn"),
        ("urn:epc:id:sscc:9506000.12345678901", "gs1.invalid_epc_urn"),
        ("https://example.com/01/09506000134353", "gs1.invalid_digital_link"),
        ("https://example.com/01/09506000134352/21/A/10/B", "gs1.invalid_digital_link"),
        ("https://example.com/01/09506000134352/", "gs1.invalid_digital_link"),
    ],
)
def test_malformed_gs1_identifiers_are_refused_for_storage(value: str, code: str) -> None:
    # when a value that is meant as a GS1 key is malformed
    with pytest.raises(ValidationFailed) as raised:
        canonical_identifier(value, field="events.0.epcList.2")

    # then storage refuses it rather than keep a second spelling of the key
    assert raised.value.code == code
    assert raised.value.errors[0].field == "events.0.epcList.2"
    assert raised.value.params["value"] == value


def test_digital_link_check_digits_are_carried_through_for_the_hash() -> None:
    # given a DL with a wrong GTIN check digit, as partners sometimes send
    uri = "https://example.com/01/09506000134353/21/X"

    # when converted for the event hash, then it is normalised, not judged
    assert epc_urn_to_digital_link(uri) == "https://id.gs1.org/01/09506000134353/21/X"


def test_urn_scheme_names_are_case_insensitive() -> None:
    assert epc_urn_to_digital_link("URN:EPC:ID:SSCC:4012345.0000000011") == (
        "https://id.gs1.org/00/040123450000000115"
    )


def test_path_prefix_may_contain_key_like_segments() -> None:
    # given a path prefix that itself looks like a key (/00/faux)
    assert canonical_identifier("https://a.example/00/faux/00/006141411234567890") == (
        f"{CANONICAL_ORIGIN}/00/006141411234567890"
    )


def test_gln_key_qualifiers_keep_dlpkey_order() -> None:
    assert canonical_identifier("urn:epc:id:sgln:9520123.45678.A%2FB") == (
        "https://id.gs1.org/414/9520123456788/254/A%2FB"
    )
    assert canonical_identifier("https://example.com/414/9520123456788/7040/1ABC") == (
        "https://id.gs1.org/414/9520123456788/7040/1ABC"
    )


def test_gsrn_with_service_relation_instance() -> None:
    assert canonical_identifier("https://x.example/8018/385888700111111111/8019/12") == (
        "https://id.gs1.org/8018/385888700111111111/8019/12"
    )


def test_non_string_input_is_refused() -> None:
    with pytest.raises(ValidationFailed) as raised:
        epc_urn_to_digital_link(cast(str, 42))  # a caller that ignored the types
    assert raised.value.code == "gs1.invalid_epc_urn"
