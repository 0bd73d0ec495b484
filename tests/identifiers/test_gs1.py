"""parse_gs1: every input format, UDI fields, canonical forms and every error code."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from medledger.core.errors import ValidationFailed
from medledger.identifiers.gs1 import InputFormat, ParsedGS1, parse_gs1

GS = "\x1d"
GTIN = "09506000134352"


def parse_error(data: str, **options: bool) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as raised:
        parse_gs1(data, **options)
    error = raised.value
    assert error.status == 422
    assert [e.field for e in error.errors] == ["data"]
    assert error.errors[0].code == error.code
    return error


# --- input formats ------------------------------------------------------------------------


def test_scanned_data_matrix_with_symbology_identifier_and_separators() -> None:
    # given a GS1 DataMatrix read: ]d2, GTIN, expiry, lot ended by GS, serial
    data = f"]d201{GTIN}17251231101234A{GS}21XYZ"

    # when it is parsed
    parsed = parse_gs1(data)

    # then every field, the UDI and both canonical forms are exact
    assert parsed.to_dict() == {
        "input": data,
        "format": "element_string",
        "symbology_identifier": "]d2",
        "gtin": GTIN,
        "lot": "1234A",
        "serial": "XYZ",
        "expiry": "2025-12-31",
        "production_date": None,
        "best_before": None,
        "sscc": None,
        "gln": None,
        "udi_di": GTIN,
        "udi_pi": {"lot": "1234A", "serial": "XYZ", "expiry": "2025-12-31"},
        "element_string": f"(01){GTIN}(10)1234A(21)XYZ(17)251231",
        "digital_link": f"https://id.gs1.org/01/{GTIN}/10/1234A/21/XYZ?17=251231",
        "ais": [
            {"ai": "01", "title": "GTIN", "value": GTIN},
            {"ai": "17", "title": "USE BY or EXPIRY", "value": "251231"},
            {"ai": "10", "title": "BATCH/LOT", "value": "1234A"},
            {"ai": "21", "title": "SERIAL", "value": "XYZ"},
        ],
    }
    assert parsed.udi_pi == {"lot": "1234A", "serial": "XYZ", "expiry": dt.date(2025, 12, 31)}


@pytest.mark.parametrize(
    ("data", "symbology"),
    [
        (f"01{GTIN}17251231101234A{GS}21XYZ", None),
        (f"]C101{GTIN}17251231101234A{GS}21XYZ", "]C1"),
        (f"]Q301{GTIN}17251231101234A{GS}21XYZ", "]Q3"),
        (f"]J101{GTIN}17251231101234A{GS}21XYZ", "]J1"),
        (f"{GS}01{GTIN}17251231101234A{GS}21XYZ\r\n", None),  # FNC1 as GS, Enter suffix
    ],
)
def test_element_strings_from_other_readers(data: str, symbology: str | None) -> None:
    parsed = parse_gs1(data)
    assert parsed.format is InputFormat.ELEMENT_STRING
    assert parsed.symbology_identifier == symbology
    assert (parsed.gtin, parsed.lot, parsed.serial) == (GTIN, "1234A", "XYZ")
    assert parsed.expiry == dt.date(2025, 12, 31)


def test_bracketed_human_readable_text() -> None:
    # given the text printed under a label, with the blanks printers put between AIs
    parsed = parse_gs1(f"(01) {GTIN} (17) 251231 (10) 1234A (21) XYZ")

    assert parsed.format is InputFormat.BRACKETED
    assert parsed.element_string == f"(01){GTIN}(10)1234A(21)XYZ(17)251231"
    assert (parsed.gtin, parsed.lot, parsed.serial, parsed.expiry) == (
        GTIN,
        "1234A",
        "XYZ",
        dt.date(2025, 12, 31),
    )


def test_bracketed_value_may_hold_an_escaped_bracket() -> None:
    parsed = parse_gs1(f"(01){GTIN}(10)A\\(1)")
    assert parsed.lot == "A(1)"
    assert parsed.element_string == f"(01){GTIN}(10)A\\(1)"
    assert parse_gs1(parsed.element_string).lot == "A(1)"


def test_digital_link_on_a_brand_host() -> None:
    # given a DL with a path prefix, a 13-digit GTIN, key qualifiers and data attributes
    uri = "https://brand.example.com/p/01/9506000134352/10/1234A/21/X%2FY?17=251231&11=250101&x=1"

    parsed = parse_gs1(uri)

    assert parsed.format is InputFormat.DIGITAL_LINK
    assert (parsed.gtin, parsed.lot, parsed.serial) == (GTIN, "1234A", "X/Y")
    assert (parsed.expiry, parsed.production_date) == (dt.date(2025, 12, 31), dt.date(2025, 1, 1))
    assert parsed.digital_link == (
        f"https://id.gs1.org/01/{GTIN}/10/1234A/21/X%2FY?11=250101&17=251231"
    )
    assert parsed.element_string == f"(01){GTIN}(10)1234A(21)X/Y(11)250101(17)251231"


def test_digital_link_with_legacy_short_names_in_a_qr_code() -> None:
    parsed = parse_gs1(f"]Q1https://example.com/gtin/{GTIN}/lot/L1?exp=260300")
    assert parsed.symbology_identifier == "]Q1"
    assert (parsed.gtin, parsed.lot, parsed.expiry) == (GTIN, "L1", dt.date(2026, 3, 31))
    assert parsed.digital_link == f"https://id.gs1.org/01/{GTIN}/10/L1?17=260300"


@pytest.mark.parametrize(
    ("urn", "expected"),
    [
        ("urn:epc:id:sgtin:9506000.013435.XYZ", {"gtin": GTIN, "serial": "XYZ"}),
        ("urn:epc:class:lgtin:9506000.013435.L%2F1", {"gtin": GTIN, "lot": "L/1"}),
        ("urn:epc:id:sscc:4012345.0000000011", {"sscc": "040123450000000115"}),
        ("urn:epc:id:sgln:4012345.00005.0", {"gln": "4012345000054"}),
    ],
)
def test_epc_urns(urn: str, expected: dict[str, str]) -> None:
    parsed = parse_gs1(urn)
    assert parsed.format is InputFormat.EPC_URN
    fields = {name: getattr(parsed, name) for name in ("gtin", "lot", "serial", "sscc", "gln")}
    assert {name: value for name, value in fields.items() if value} == expected


@pytest.mark.parametrize(
    ("data", "gtin"),
    [("]E09506000134352", GTIN), ("]E402345673", "00000002345673"), ("]E3950600013435212", GTIN)],
)
def test_ean_and_upc_reads_are_gtins(data: str, gtin: str) -> None:
    parsed = parse_gs1(data)
    assert (parsed.gtin, parsed.udi_di, parsed.element_string) == (gtin, gtin, f"(01){gtin}")


def test_same_data_gives_the_same_canonical_forms_in_every_format() -> None:
    # given one unit written four ways
    forms = [
        f"]d201{GTIN}17251231101234A{GS}21XYZ",
        f"(21)XYZ(10)1234A(01){GTIN}(17)251231",
        f"https://example.com/01/{GTIN}/10/1234A/21/XYZ?17=251231",
        f"https://id.gs1.org/gtin/{GTIN}/lot/1234A/ser/XYZ?exp=251231",
    ]

    # when parsed, then they share one element string and one Digital Link
    parsed = [parse_gs1(form) for form in forms]
    assert {p.element_string for p in parsed} == {f"(01){GTIN}(10)1234A(21)XYZ(17)251231"}
    assert {p.digital_link for p in parsed} == {
        f"https://id.gs1.org/01/{GTIN}/10/1234A/21/XYZ?17=251231"
    }


# --- dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expiry"),
    [
        ("251200", dt.date(2025, 12, 31)),
        ("250200", dt.date(2025, 2, 28)),
        ("280200", dt.date(2028, 2, 29)),  # leap year
        ("250400", dt.date(2025, 4, 30)),
        ("250415", dt.date(2025, 4, 15)),
    ],
)
def test_expiry_day_00_is_the_last_day_of_the_month(value: str, expiry: dt.date) -> None:
    parsed = parse_gs1(f"01{GTIN}17{value}")
    assert parsed.expiry == expiry
    assert parsed.to_dict()["udi_pi"] == {"expiry": expiry.isoformat()}


def test_production_and_best_before_dates() -> None:
    parsed = parse_gs1(f"(01){GTIN}(11)240100(15)260615")
    assert parsed.production_date == dt.date(2024, 1, 31)
    assert parsed.best_before == dt.date(2026, 6, 15)
    assert parsed.udi_pi == {"production_date": dt.date(2024, 1, 31)}


# --- logistics and locations --------------------------------------------------------------


def test_sscc_label_with_content_and_count() -> None:
    parsed = parse_gs1(f"00106141412345678908{GS}0200614141123452{GS}3725{GS}10ABC123")
    assert parsed.sscc == "106141412345678908"
    assert parsed.gtin is None and parsed.udi_di is None
    assert parsed.digital_link == (
        "https://id.gs1.org/00/106141412345678908?02=00614141123452&10=ABC123&37=25"
    )


@pytest.mark.parametrize(
    ("data", "gln"),
    [
        ("(414)9520123456788(254)32a/b", "9520123456788"),
        ("(410)9520123456788", "9520123456788"),
        ("(417)4000001000005", "4000001000005"),
    ],
)
def test_gln(data: str, gln: str) -> None:
    assert parse_gs1(data).gln == gln


def test_data_without_primary_key_has_no_digital_link() -> None:
    parsed = parse_gs1("(17)251231(10)ABC")
    assert parsed.digital_link is None
    assert parsed.element_string == "(10)ABC(17)251231"


def test_data_a_digital_link_cannot_hold_has_no_digital_link() -> None:
    # given a serial (21) beside a TPX (235): 21 may only be a key qualifier, not an attribute
    parsed = parse_gs1(f"(01){GTIN}(235)TPX1(99)A")
    assert parsed.digital_link == f"https://id.gs1.org/01/{GTIN}/235/TPX1?99=A"
    assert parse_gs1(f"(01){GTIN}(22)V(235)T").digital_link is None


def test_identical_repeats_are_merged() -> None:
    parsed = parse_gs1(f"(01){GTIN}(10)A(10)A")
    assert [ai.ai for ai in parsed.ais] == ["01", "10"]


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("data", ["", "   ", "]Q1hello", "]X", "]d2", "(01", "(01)1(17"])
def test_unrecognised_format(data: str) -> None:
    assert parse_error(data).code == "gs1.unrecognised_format"


def test_unknown_ai_in_an_element_string() -> None:
    error = parse_error("2309506000134352")
    assert error.code == "gs1.unknown_ai"
    assert error.render_english() == "2309 does not start with a GS1 Application Identifier."


def test_unknown_ai_in_brackets() -> None:
    error = parse_error(f"(01){GTIN}(23)ABC")
    assert (error.code, error.params) == ("gs1.unknown_ai", {"ai": "23"})
    assert error.render_english() == "(23) is not a GS1 Application Identifier."


@pytest.mark.parametrize(
    ("data", "params"),
    [
        ("(01)123", {"ai": "01", "value": "123", "length": 3, "shortest": 14, "longest": 14}),
        ("01123", {"ai": "01", "value": "123", "length": 3, "shortest": 14, "longest": 14}),
        ("(10)", {"ai": "10", "value": "", "length": 0, "shortest": 1, "longest": 20}),
        (
            f"(01){GTIN}(10)ABCDEFGHIJKLMNOPQRSTU",
            {
                "ai": "10",
                "value": "ABCDEFGHIJKLMNOPQRSTU",
                "length": 21,
                "shortest": 1,
                "longest": 20,
            },
        ),
    ],
)
def test_invalid_length(data: str, params: dict[str, object]) -> None:
    error = parse_error(data)
    assert (error.code, error.params) == ("gs1.invalid_length", params)


def test_invalid_length_message() -> None:
    assert parse_error("(01)123").render_english() == "AI (01) takes 14 characters; 123 has 3."


@pytest.mark.parametrize(
    ("data", "ai", "value"),
    [
        (f"(01){GTIN}(10)AB CD", "10", "AB CD"),
        ("(01)0950600013435A", "01", "0950600013435A"),
        (f"(01){GTIN}(10)Ä1", "10", "Ä1"),
    ],
)
def test_invalid_characters(data: str, ai: str, value: str) -> None:
    error = parse_error(data)
    assert (error.code, error.params) == ("gs1.invalid_characters", {"ai": ai, "value": value})
    assert error.render_english() == (f"AI ({ai}) value {value} has characters its format forbids.")


@pytest.mark.parametrize(
    ("data", "ai", "value"),
    [
        (f"01{GTIN}17251331", "17", "251331"),  # month 13
        (f"01{GTIN}17250230", "17", "250230"),  # 30 February
        (f"01{GTIN}11250001", "11", "250001"),  # month 00
        (f"(01){GTIN}(7006)250100", "7006", "250100"),  # day 00 not allowed here
    ],
)
def test_invalid_date(data: str, ai: str, value: str) -> None:
    error = parse_error(data)
    assert (error.code, error.params) == ("gs1.invalid_date", {"ai": ai, "value": value})
    assert error.render_english() == f"AI ({ai}) value {value} is not a valid date."


def test_bad_check_digit() -> None:
    error = parse_error("]d20109506000134353")
    assert error.code == "gs1.bad_check_digit"
    assert error.params == {"ai": "01", "value": "09506000134353", "expected": "2"}
    assert error.render_english() == (
        "The check digit of AI (01) value 09506000134353 is wrong: expected 2."
    )


def test_bad_check_digit_of_a_grai_and_a_gln() -> None:
    assert parse_error("(8003)02112345678901ABC").params["expected"] == "0"
    assert parse_error("(414)9520123456789").code == "gs1.bad_check_digit"


def test_bad_gmn_check_characters() -> None:
    # given a Basic UDI-DI (GMN, AI 8013) with a wrong check character pair
    error = parse_error("https://id.gs1.org/8013/1987654Ad4X4bL5ttr2310cXK")

    assert error.code == "gs1.bad_check_digit"
    assert error.params == {"ai": "8013", "value": "1987654Ad4X4bL5ttr2310cXK", "expected": "2K"}
    assert parse_gs1("(8013)1987654Ad4X4bL5ttr2310c2K").digital_link == (
        "https://id.gs1.org/8013/1987654Ad4X4bL5ttr2310c2K"
    )


def test_invalid_piece_of_total() -> None:
    error = parse_error(f"(8006){GTIN}0302")
    assert error.code == "gs1.invalid_piece_of_total"
    assert error.params == {"ai": "8006", "value": f"{GTIN}0302", "piece": 3, "total": 2}
    assert error.render_english() == f"AI (8006) value {GTIN}0302 names piece 3 of 2."


def test_missing_separator_after_a_lot() -> None:
    # given a label whose printer left out the GS after the lot, so the lot swallows 17 and 21
    error = parse_error(f"01{GTIN}10ABC1721123121XYZ")

    # then the parser says so instead of storing lot "ABC1721123121XYZ"
    assert error.code == "gs1.missing_separator"
    assert error.params == {
        "ai": "10",
        "value": "ABC1721123121XYZ",
        "next_ai": "17",
        "head": "ABC",
    }
    assert error.render_english() == (
        "AI (10) value ABC1721123121XYZ runs into AI (17): a separator is missing after ABC."
    )


def test_a_lot_with_digits_at_the_end_is_not_a_missing_separator() -> None:
    # given lots whose tails are no complete valid element: 17 needs 6 date digits
    assert parse_gs1(f"01{GTIN}10LOT1712").lot == "LOT1712"
    assert parse_gs1(f"01{GTIN}10A17251399").lot == "A17251399"  # month 13: not a date
    # and a lot properly ended by GS is never second-guessed
    assert parse_gs1(f"01{GTIN}10A17251231{GS}21X").lot == "A17251231"


def test_repeated_ai_with_different_values() -> None:
    error = parse_error(f"(01){GTIN}(10)A(10)B")
    assert error.code == "gs1.repeated_ai"
    assert error.render_english() == "AI (10) appears twice with different values: A and B."


def test_repeated_ai_in_a_digital_link() -> None:
    error = parse_error(f"https://id.gs1.org/01/{GTIN}/10/A?99=X&99=X")
    assert (error.code, error.params) == ("gs1.repeated_ai", {"ai": "99"})


def test_ais_that_exclude_each_other() -> None:
    error = parse_error(f"(01){GTIN}(37)5")
    assert (error.code, error.params) == ("gs1.invalid_ai_pair", {"ai": "01", "other": "37"})
    assert error.render_english() == "AI (01) may not appear together with AI (37)."


def test_requisite_ais_are_checked_on_request_only() -> None:
    # given a second label that carries the lot while the GTIN is on the first one
    assert parse_gs1("(10)ABC(17)251231").lot == "ABC"

    # when the caller knows it has all the data of the item, then the GTIN is required
    error = parse_error("(10)ABC", check_requisite_ais=True)
    assert error.code == "gs1.missing_required_ai"
    assert error.render_english() == (
        "AI (10) needs (01) or (02) or (03) or (8006) or (8026) in the same data."
    )


@pytest.mark.parametrize(
    "uri",
    [
        f"https://id.gs1.org/01/{GTIN}?10=ABC",  # a key qualifier in the query
        f"https://id.gs1.org/01/{GTIN}/21/A/10/B",  # qualifiers out of order
        f"https://id.gs1.org/01/{GTIN}?21=A",  # 21 is no data attribute
        f"https://id.gs1.org/01/{GTIN}/10/A<B",  # unencoded "<"
        f"https://[fe80::1%25lo]/01/{GTIN}",  # zone identifier in the host
        "https://example.com/products/42",  # no key at all
    ],
)
def test_invalid_digital_link(uri: str) -> None:
    assert parse_error(uri).code == "gs1.invalid_digital_link"


def test_digital_link_values_use_the_same_ai_rules() -> None:
    assert parse_error(f"https://id.gs1.org/01/{GTIN}?17=251331").code == "gs1.invalid_date"
    assert parse_error(f"https://id.gs1.org/01/{GTIN}?999=1").code == "gs1.unknown_ai"
    assert parse_error(f"https://id.gs1.org/01/{GTIN}?99=").code == "gs1.invalid_digital_link"


@pytest.mark.parametrize(
    "urn", ["urn:epc:id:sgtin:9506000.013435.", "urn:epc:id:gid:95100000.12345.400"]
)
def test_invalid_epc_urn(urn: str) -> None:
    error = parse_error(urn)
    assert error.code == "gs1.invalid_epc_urn"
    assert error.params["value"] == urn


def test_parsed_record_is_immutable() -> None:
    parsed = parse_gs1(f"01{GTIN}")
    assert isinstance(parsed, ParsedGS1)
    field_name = "gtin"
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(parsed, field_name, "x")
