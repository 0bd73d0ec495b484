"""GS1 mod-10 check digits and the GTIN/GLN/SSCC validators."""

from __future__ import annotations

from typing import Any

import pytest

from medledger.core.errors import ValidationFailed
from medledger.identifiers.checkdigit import (
    CHECK_DIGIT_SPANS,
    ai_has_valid_check_digit,
    expected_check,
    gmn_check_characters,
    gs1_check_digit,
    has_valid_check_digit,
    has_valid_gmn_check_characters,
    normalise_gtin,
    validate_gln,
    validate_sscc,
)

from .vectors import case_id, load_jsonl

LINTER_CASES = load_jsonl("gs1-syntax-linter-derived-vectors.jsonl")
CSUM_CASES = [case for case in LINTER_CASES if case["linter"] == "csum"]
CSUMALPHA_CASES = [case for case in LINTER_CASES if case["linter"] == "csumalpha"]


@pytest.mark.parametrize("case", CSUM_CASES, ids=case_id)
def test_csum_linter_vectors(case: dict[str, Any]) -> None:
    # given a value from the GS1 csum linter's own tests
    # when its check digit is verified, then we agree with the linter
    assert has_valid_check_digit(case["input"]) is case["expect_ok"]


@pytest.mark.parametrize("case", CSUMALPHA_CASES, ids=case_id)
def test_csumalpha_linter_vectors(case: dict[str, Any]) -> None:
    # given a value from the GS1 csumalpha (GMN check character pair) linter's tests
    # when its check pair is verified, then we agree with the linter
    assert has_valid_gmn_check_characters(case["input"]) is case["expect_ok"]


def test_gmn_check_characters() -> None:
    assert gmn_check_characters("1987654Ad4X4bL5ttr2310c") == "2K"
    assert expected_check("8013", "1987654Ad4X4bL5ttr2310cXK") == "2K"
    assert expected_check("8013", "1987654Ad4X4bL5ttr2310c2K") is None
    with pytest.raises(ValueError):
        gmn_check_characters("AB C")


def test_check_digit_of_a_gtin_13_body() -> None:
    assert gs1_check_digit("950110153100") == "0"
    assert gs1_check_digit("9501234") == "6"


@pytest.mark.parametrize("body", ["", "12a4", "١٢٣"])
def test_check_digit_needs_ascii_digits(body: str) -> None:
    with pytest.raises(ValueError):
        gs1_check_digit(body)


def test_check_digit_spans_come_from_the_syntax_dictionary() -> None:
    # then every AI with a csum component is known, with the GRAI's leading zero skipped
    assert CHECK_DIGIT_SPANS["01"] == (0, 14)
    assert CHECK_DIGIT_SPANS["00"] == (0, 18)
    assert CHECK_DIGIT_SPANS["8003"] == (1, 14)
    assert CHECK_DIGIT_SPANS["8006"] == (0, 14)
    assert sorted(CHECK_DIGIT_SPANS) == sorted(
        [
            "00",
            "01",
            "02",
            "03",
            "253",
            "255",
            "402",
            "410",
            "411",
            "412",
            "413",
            "414",
            "415",
            "416",
            "417",
            "8003",
            "8006",
            "8017",
            "8018",
            "8026",
        ]
    )


def test_ai_check_digit_covers_only_the_key_part() -> None:
    # given a GDTI: 13-digit key with check digit, then a free serial
    assert ai_has_valid_check_digit("253", "4012345000092PO-4711") is True
    assert ai_has_valid_check_digit("253", "4012345000093PO-4711") is False
    # and an AI without a check digit
    assert ai_has_valid_check_digit("10", "ABC") is True


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("02345673", "00000002345673"),  # GTIN-8
        ("416000336108", "00416000336108"),  # GTIN-12
        ("9506000134352", "09506000134352"),  # GTIN-13
        ("09506000134352", "09506000134352"),  # GTIN-14
    ],
)
def test_normalise_gtin_pads_to_14_digits(value: str, expected: str) -> None:
    assert normalise_gtin(value) == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("9506000134353", "gs1.bad_check_digit"),
        ("950600013435", "gs1.bad_check_digit"),
        ("95060001343", "gs1.invalid_length"),
        ("123456789012345", "gs1.invalid_length"),
        ("95060001343S2", "gs1.invalid_characters"),
        ("", "gs1.invalid_characters"),
        (" 9506000134352", "gs1.invalid_characters"),
    ],
)
def test_normalise_gtin_rejects_bad_values(value: str, code: str) -> None:
    # when a bad GTIN is normalised for a form field
    with pytest.raises(ValidationFailed) as raised:
        normalise_gtin(value, field="lines.0.gtin")

    # then the error names the field and a stable code
    assert raised.value.code == code
    assert raised.value.status == 422
    assert [(e.field, e.code) for e in raised.value.errors] == [("lines.0.gtin", code)]


def test_bad_check_digit_message_gives_the_expected_digit() -> None:
    with pytest.raises(ValidationFailed) as raised:
        normalise_gtin("09506000134353")
    assert raised.value.render_english() == (
        "The check digit of GTIN 09506000134353 is wrong: expected 2."
    )
    assert raised.value.params == {"kind": "GTIN", "value": "09506000134353", "expected": "2"}


def test_validate_gln() -> None:
    assert validate_gln("9520123456788") == "9520123456788"
    with pytest.raises(ValidationFailed) as raised:
        validate_gln("9520123456789")
    assert (raised.value.code, raised.value.errors[0].field) == ("gs1.bad_check_digit", "gln")
    with pytest.raises(ValidationFailed) as raised:
        validate_gln("952012345678", field="party.gln")
    assert (raised.value.code, raised.value.errors[0].field) == ("gs1.invalid_length", "party.gln")


def test_validate_sscc() -> None:
    assert validate_sscc("106141412345678908") == "106141412345678908"
    with pytest.raises(ValidationFailed) as raised:
        validate_sscc("106141412345678909")
    assert (raised.value.code, raised.value.errors[0].field) == ("gs1.bad_check_digit", "sscc")
    with pytest.raises(ValidationFailed) as raised:
        validate_sscc("10614141234567890")
    assert raised.value.code == "gs1.invalid_length"
