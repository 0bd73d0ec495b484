"""Conformance: the GS1 syntax engine's and linters' own test cases, run through parse_gs1.

Applicable engine cases are those about *reading* data: ``parseAIdata`` (bracketed input),
``processAIdata`` (element strings; ``^`` is FNC1), ``parseDLuri``, ``processScanData``
and ``validateAIs`` (run with ``check_requisite_ais=True``). ``generateDLuri`` is checked
against our ``digital_link`` output. ``generateScanData``, ``URIescape`` and
``URIunescape`` test the engine's encoder and helper functions and have no counterpart.

Some engine cases ran under settings that differ from ours (convenience short names and
zero-suppressed GTINs in Digital Link URIs are always accepted by parse_gs1; unknown AIs
never are). A case is skipped, with the reason, only when such a setting can change its
result for that input. Cases where we deliberately decide otherwise than the engine are
listed in ``KNOWN_DIFFERENCES`` with a reason; the test then asserts *our* outcome.
"""

from __future__ import annotations

import calendar
import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from medledger.core.errors import ValidationFailed
from medledger.identifiers.digital_link import DL_PATH_SHORT_NAMES
from medledger.identifiers.gs1 import ParsedGS1, parse_gs1
from medledger.identifiers.syntax_dictionary import syntax_dictionary

from .vectors import case_id, load_jsonl

ENGINE_CASES = load_jsonl("gs1-syntax-engine-derived-vectors.jsonl")
LINTER_CASES = load_jsonl("gs1-syntax-linter-derived-vectors.jsonl")

READING_CASES = ("parseAIdata", "processAIdata", "parseDLuri", "processScanData", "validateAIs")

_PLAIN_DATA = (
    "a non-GS1 symbol (no FNC1) holding plain text: a valid scan, but not GS1 data, so "
    "parse_gs1 rejects it (gs1.unrecognised_format); it only accepts such symbols when "
    "they hold a Digital Link URI or an EPC URN"
)
_COMPOSITE = (
    "'|' is the engine's own notation joining the linear and 2D parts of a composite "
    "symbol; parse_gs1 reads one barcode at a time and rejects the joined form"
)

# source line -> why parse_gs1 decides the opposite of the GS1 syntax engine there.
KNOWN_DIFFERENCES: dict[str, str] = {
    "src/c-lib/dl.c:1344": (
        "mixed-case scheme 'HtTp://': RFC 3986 §3.1 makes schemes case-insensitive and the "
        "engine itself passes 'HtTps://' scan data (scandata.c:874), so we accept it"
    ),
    "src/c-lib/scandata.c:852": _PLAIN_DATA + " (here: an empty QR Code)",
    "src/c-lib/scandata.c:853": _PLAIN_DATA,
    "src/c-lib/scandata.c:854": _PLAIN_DATA,
    "src/c-lib/scandata.c:855": _PLAIN_DATA,
    "src/c-lib/scandata.c:879": _PLAIN_DATA + " (here: an empty Data Matrix)",
    "src/c-lib/scandata.c:880": _PLAIN_DATA,
    "src/c-lib/scandata.c:881": _PLAIN_DATA,
    "src/c-lib/scandata.c:882": _PLAIN_DATA,
    "src/c-lib/scandata.c:894": _PLAIN_DATA + " (here: an empty DotCode)",
    "src/c-lib/scandata.c:895": _PLAIN_DATA,
    "src/c-lib/scandata.c:896": _PLAIN_DATA,
    "src/c-lib/scandata.c:897": _PLAIN_DATA,
    "src/c-lib/scandata.c:936": _COMPOSITE,
    "src/c-lib/scandata.c:947": _COMPOSITE,
    "src/c-lib/dl.c:2187": (
        "biip 5.2.0 requires at least 5 characters for AI (8010) CPID (pattern "
        "[A-Z0-9/#-]{5,30}); the syntax dictionary allows Y..30, so biip rejects '0200'"
    ),
}

# Engine settings we match; "ctx." is dropped from the names.
OUR_SETTINGS = {
    "permitConvenienceAlphas": True,
    "PermitZeroSuppressedGTINinDLuris": True,
    "PermitUnknownAIs": False,
}
ENGINE_DEFAULTS = {name: False for name in OUR_SETTINGS}


def engine_input(case: dict[str, Any]) -> str:
    """The data a scanner or user would hand to parse_gs1 for this engine case."""
    if "bracketed_input" in case:
        return str(case["bracketed_input"])
    if "dl_uri" in case:
        return str(case["dl_uri"])
    if "scan_data" in case:
        return str(case["scan_data"])
    datastr = str(case["datastr_input"])
    # In a "datastr" a leading ^ is FNC1 in first position (GS1 data), later ones are
    # separators (GS) and \^ is a literal caret. Without FNC1 the data is not GS1 data,
    # which a GS1-128 reader reports as plain Code 128 (]C0).
    body = datastr[1:] if datastr.startswith("^") else datastr
    body = body.replace("\\^", "\0").replace("^", "\x1d").replace("\0", "^")
    return ("]C1" if datastr.startswith("^") else "]C0") + body


def datastr(parsed: ParsedGS1) -> str:
    """Our result in the engine's notation: ^, then AIs, ^ after each variable-length one."""
    parts = []
    for index, item in enumerate(parsed.ais):
        parts.append(item.ai + item.value)
        if index < len(parsed.ais) - 1 and not syntax_dictionary()[item.ai].predefined_length:
            parts.append("^")
    return "^" + "".join(parts)


def settings_skip_reason(case: dict[str, Any], data: str) -> str | None:
    """Why the engine's settings for this case can change its result for ``data``, if so."""
    engine = dict(ENGINE_DEFAULTS)
    for item in case.get("encoder_settings", []):
        match = re.fullmatch(r"(?:ctx\.)?(\w+)\((true|false)\)", item)
        if match and match.group(1) in engine:
            engine[match.group(1)] = match.group(2) == "true"
    is_uri = data.lower().startswith(("http://", "https://"))
    path = urlsplit(data).path if is_uri else ""
    if not engine["permitConvenienceAlphas"] and any(
        segment in DL_PATH_SHORT_NAMES for segment in path.split("/")
    ):
        return "engine ran without Digital Link short names; parse_gs1 always accepts them"
    if not engine["PermitZeroSuppressedGTINinDLuris"] and re.search(
        r"(?:/01/|[?&]01=)(?:\d{8}|\d{12,13})(?:[/?&#]|$)", data
    ):
        return "engine ran without zero-suppressed GTINs in DL URIs; parse_gs1 pads them"
    ais = re.findall(r"\((\d+)\)", data) + re.findall(r"(?:^|[/?&])(\d{2,4})(?==|/)", path)
    if engine["PermitUnknownAIs"] and any(ai not in syntax_dictionary() for ai in ais):
        return "engine ran permitting unknown AIs; parse_gs1 never does"
    if is_uri:
        query_ais = re.findall(r"[?&](\d+)=", data)
        if engine["PermitUnknownAIs"] and any(ai not in syntax_dictionary() for ai in query_ais):
            return "engine ran permitting unknown AIs; parse_gs1 never does"
    return None


def run(data: str, *, requisites: bool = False) -> ParsedGS1 | ValidationFailed:
    try:
        return parse_gs1(data, check_requisite_ais=requisites)
    except ValidationFailed as error:
        return error


@pytest.mark.parametrize(
    "case",
    [case for case in ENGINE_CASES if case["case"] in READING_CASES],
    ids=case_id,
)
def test_engine_reading_case(case: dict[str, Any]) -> None:
    # given one of the engine's parse or validate cases
    data = engine_input(case)
    reason = settings_skip_reason(case, data)
    if reason:
        pytest.skip(reason)

    # when we parse its data
    result = run(data, requisites=case["case"] == "validateAIs")

    # then we accept exactly what the engine accepts, with the same AIs in the same order
    expect_ok = bool(case["expect_ok"]) != (case["source"] in KNOWN_DIFFERENCES)
    assert isinstance(result, ParsedGS1) == expect_ok, f"{case['source']}: {data!r} -> {result!r}"
    expected = case.get("expected_datastr")
    if not isinstance(result, ParsedGS1) or not expected or case["source"] in KNOWN_DIFFERENCES:
        return
    if expected.startswith("^"):
        assert datastr(result) == expected
    elif result.format == "digital_link":
        assert result.input.endswith(expected)  # the engine hands the URI back as data
    else:
        assert result.gtin == expected.zfill(14)  # EAN/UPC data is the GTIN itself


@pytest.mark.parametrize(
    "case",
    [case for case in ENGINE_CASES if case["case"] == "generateDLuri"],
    ids=case_id,
)
def test_engine_digital_link_generation_case(case: dict[str, Any]) -> None:
    # given data the engine turns into a Digital Link URI (or refuses to)
    data = str(case["bracketed_input"])
    reason = settings_skip_reason(case, data)
    if reason:
        pytest.skip(reason)

    # when we parse it
    result = run(data)

    # then our digital_link exists exactly when the engine's does, with the same path and
    # the same data attributes; we sort the attributes by AI, the engine keeps input order
    generated = result.digital_link if isinstance(result, ParsedGS1) else None
    expect_ok = bool(case["expect_ok"]) != (case["source"] in KNOWN_DIFFERENCES)
    assert (generated is not None) == expect_ok, f"{data!r} -> {result!r}"
    if generated is None:
        return
    ours = urlsplit(generated)
    theirs = urlsplit(case["expected_dl_uri"])
    stem_path = urlsplit(case["uri_stem"] or "https://id.gs1.org").path.rstrip("/")
    assert stem_path + ours.path == theirs.path
    assert sorted(ours.query.split("&")) == sorted(theirs.query.split("&"))


# --- linters ------------------------------------------------------------------------------

LINTER_ERROR_CODES = {
    "GS1_LINTER_NON_DIGIT_CHARACTER": "gs1.invalid_characters",
    "GS1_LINTER_DATE_TOO_SHORT": "gs1.invalid_length",
    "GS1_LINTER_DATE_TOO_LONG": "gs1.invalid_length",
    "GS1_LINTER_ILLEGAL_MONTH": "gs1.invalid_date",
    "GS1_LINTER_ILLEGAL_DAY": "gs1.invalid_date",
    "GS1_LINTER_INVALID_CSET82_CHARACTER": "gs1.invalid_characters",
    "GS1_LINTER_ZERO_PIECE_NUMBER": "gs1.invalid_piece_of_total",
    "GS1_LINTER_ZERO_TOTAL_PIECES": "gs1.invalid_piece_of_total",
    "GS1_LINTER_PIECE_NUMBER_EXCEEDS_TOTAL": "gs1.invalid_piece_of_total",
}


def linter_cases(name: str) -> list[dict[str, Any]]:
    return [case for case in LINTER_CASES if case["linter"] == name]


def assert_linter_outcome(case: dict[str, Any], result: ParsedGS1 | ValidationFailed) -> None:
    if case["expect_ok"]:
        assert isinstance(result, ParsedGS1), f"{case['input']!r} -> {result!r}"
    else:
        assert isinstance(result, ValidationFailed), f"{case['input']!r} -> {result!r}"
        assert result.code == LINTER_ERROR_CODES[case["error"]]
        assert result.errors[0].field == "data"


@pytest.mark.parametrize("ai", ["17", "11", "15"])
@pytest.mark.parametrize("case", linter_cases("yymmd0"), ids=case_id)
def test_yymmd0_dates_in_expiry_production_and_best_before(ai: str, case: dict[str, Any]) -> None:
    # given a GTIN with a date AI that allows day 00 (yymmd0 in the syntax dictionary)
    data = f"(01)09506000134352({ai}){case['input']}"

    # when it is parsed
    result = run(data)

    # then good dates are read, day 00 meaning the last day of the month, and bad ones fail
    assert_linter_outcome(case, result)
    if isinstance(result, ParsedGS1):
        date = {"17": result.expiry, "11": result.production_date, "15": result.best_before}[ai]
        assert date is not None
        text = case["input"]
        assert date.strftime("%y%m") == text[:4]
        year, month = date.year, date.month
        expected_day = calendar.monthrange(year, month)[1] if text[4:] == "00" else int(text[4:])
        assert date.day == expected_day


@pytest.mark.parametrize("case", linter_cases("yymmdd"), ids=case_id)
def test_yymmdd_dates_refuse_day_zero(case: dict[str, Any]) -> None:
    # given a GTIN with AI 7006 (first freeze date), checked by yymmdd: no day 00
    data = f"(01)09506000134352(7006){case['input']}"

    # when it is parsed, then exactly the linter's good dates pass
    assert_linter_outcome(case, run(data))


@pytest.mark.parametrize(
    "case", [case for case in linter_cases("cset82") if case["input"]], ids=case_id
)
def test_cset82_characters_in_company_internal_data(case: dict[str, Any]) -> None:
    # given a character-set (CSET 82) value in AI 99, followed by another AI so that no
    # trailing blank is trimmed as scanner noise (the empty value is a length question)
    value = case["input"]
    if "\x1d" in value:
        data = "(99)" + value.replace("(", "\\(") + "(01)09506000134352"
    else:
        data = f"]C199{value}\x1d0109506000134352"

    # when it is parsed, then exactly the linter's good values pass, unchanged
    result = run(data)
    assert_linter_outcome(case, result)
    if isinstance(result, ParsedGS1):
        assert result.ais[0].value == case["input"]


@pytest.mark.parametrize(
    "case",
    # AIs 8006 and 8026 hold exactly 4 piece/total digits; other lengths are linter-only.
    [case for case in linter_cases("pieceoftotal") if len(case["input"]) == 4],
    ids=case_id,
)
def test_pieceoftotal_in_an_itip(case: dict[str, Any]) -> None:
    # given an ITIP (AI 8006): a GTIN, then piece and total
    data = f"(8006)09506000134352{case['input']}"

    # when it is parsed, then exactly the linter's good piece/total pairs pass
    assert_linter_outcome(case, run(data))
