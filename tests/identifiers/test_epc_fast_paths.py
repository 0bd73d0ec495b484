"""The shortcuts of identifier normalisation give exactly biip's and the uncached answers."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from biip import ParseError
from biip.gs1_application_identifiers import _GS1_APPLICATION_IDENTIFIERS
from biip.gs1_element_strings import GS1ElementString

from medledger.core.errors import ValidationFailed
from medledger.identifiers.digital_link import has_key_path, looks_like_http
from medledger.identifiers.epc import (
    _PATTERN_ONLY_AIS,
    _canonical_shape,
    _digital_link_pairs,
    _fits_ai_format,
    _format_canonical,
    _parsed_link,
    _Problem,
    canonical_identifier,
    canonical_identifier_or_none,
    epc_urn_to_digital_link,
)

_SAMPLES = (
    "",
    "0",
    "4012345000009",
    "04012345000009",
    "040123450000090",
    "340123450000000000",
    "ABC-123",
    "abc/def",
    "G1S0",
    "12345678901234567890",
    "123456789012345678901",
    "Ä1",
    "a b",
    "!%&'()*+,-./:;<=>?_\"",
    "0401234500000912",
    "ABC\n",
)


def _biip_parses(element: str) -> bool:
    try:
        GS1ElementString.parse(element)
    except ParseError:
        return False
    return True


def test_pattern_only_ais_are_not_extended_by_another_ai() -> None:
    extended = {
        ai
        for ai in _PATTERN_ONLY_AIS
        for other in _GS1_APPLICATION_IDENTIFIERS
        if other != ai and (other.startswith(ai) or ai.startswith(other))
    }

    assert extended == set()


@pytest.mark.parametrize("ai", sorted(_PATTERN_ONLY_AIS))
def test_fast_ai_format_check_agrees_with_biip(ai: str) -> None:
    disagreements = [
        value for value in _SAMPLES if _fits_ai_format(ai, value) != _biip_parses(ai + value)
    ]

    assert disagreements == []


def test_a_cached_failure_is_reported_on_each_callers_field() -> None:
    uri = "https://id.gs1.org/01/04012345000008/21/1"  # wrong check digit
    for field in ("epcList.0", "parentID"):
        with pytest.raises(ValidationFailed) as failure:
            canonical_identifier(uri, field=field)
        assert failure.value.errors[0].field == field
    with pytest.raises(ValidationFailed) as failure:
        epc_urn_to_digital_link("urn:epc:id:sgtin:4012345.0A1111.1", field="childEPCs.1")
    assert failure.value.errors[0].field == "childEPCs.1"


# --- one Digital Link parse shared by the hash and storage ----------------------------------

_GTIN = "04012345000009"
_KEY_VALUES = (
    _GTIN,
    "04012345000008",  # wrong check digit
    "4012345000009",  # GTIN-13, padded by the general parse
    "040123450000091",
    "340123450000000000",  # an SSCC
    "340123450000000001",  # an SSCC with a wrong check digit
    "4012345000009",  # also a GLN
    "4012345000008",
    "",
    "0",
)
_SERIALS = ("G1S0", "1", "ABC-1.2_3", "12345678901234567890", "123456789012345678901", ".", "..")


def _link_corpus() -> list[str]:
    uris = []
    for ai in ("00", "01", "414", "417", "8003", "gtin", "21"):
        for value in _KEY_VALUES:
            base = f"https://id.gs1.org/{ai}/{value}"
            uris.append(base)
            uris.extend(f"{base}/21/{serial}" for serial in _SERIALS)
            uris.extend([f"{base}/10/L1", f"{base}/21/S1/", f"{base}?17=281231", base + "/"])
    uris += [
        f"HTTPS://ID.GS1.ORG/01/{_GTIN}/21/1",
        f"http://id.gs1.org/01/{_GTIN}/21/1",
        f"https://example.com/01/{_GTIN}/21/1",
        f"https://id.gs1.org/01/{_GTIN}/21/a%2Fb",
        f"https://id.gs1.org/01/{_GTIN}/21/a b",
        f"https://id.gs1.org/01/{_GTIN}/21/Ä",
        f"https://id.gs1.org/01/{_GTIN}/22/V1/10/L1/21/S1",
        "https://id.gs1.org/414/4012345000009/254/X1",
        "https://id.gs1.org/414/4012345000008/254/" + "X" * 30,  # check digit, then length
        "https://id.gs1.org/things/42",
        "https:///01/04012345000009",
    ]
    return uris


def _general_unverified(uri: str) -> object:
    try:
        pairs = _digital_link_pairs(uri, verify_check_digits=False)
    except _Problem as problem:
        return ("problem", problem.message, problem.params)
    return _format_canonical(pairs), tuple(pairs)


def _general_storage_form(uri: str) -> object:
    """canonical_identifier as it was before the shared parse: one verified parse."""
    if not (looks_like_http(uri) and has_key_path(urlsplit(uri).path)):
        return uri
    try:
        return _format_canonical(_digital_link_pairs(uri, verify_check_digits=True))
    except _Problem as problem:
        return ("problem", problem.message, problem.params)


def _outcome(parsed: object) -> object:
    if isinstance(parsed, _Problem):
        return ("problem", parsed.message, parsed.params)
    return parsed


def test_the_canonical_shape_shortcut_gives_what_the_general_parse_gives() -> None:
    taken = 0
    for uri in _link_corpus():
        quick = _canonical_shape(uri)
        if quick is None:
            continue
        taken += 1
        assert (uri, quick) == _general_unverified(uri), uri
    assert taken >= 15  # the comparison covers the shapes the shortcut takes


def test_the_shared_parse_gives_what_separate_parses_give() -> None:
    for uri in _link_corpus():
        assert _outcome(_parsed_link(uri)) == _general_unverified(uri), uri
        try:
            stored: object = canonical_identifier(uri, field="f")
        except ValidationFailed as failure:
            error = failure.errors[0]
            stored = ("problem", error.message, {k: error.params[k] for k in error.params})
        expected = _general_storage_form(uri)
        if isinstance(expected, tuple):
            assert isinstance(stored, tuple), uri
            assert stored[1] == expected[1], uri
            assert stored[2] == {"value": uri, **expected[2]}, uri
        else:
            assert stored == expected, uri
        assert canonical_identifier_or_none(uri) == (stored if isinstance(stored, str) else None)


def test_a_check_digit_error_before_a_format_error_is_the_one_reported() -> None:
    # the shared (unverified) parse stops at the extension's length; the verified one at the
    # GLN's check digit, which comes first
    uri = "https://id.gs1.org/414/4012345000008/254/" + "X" * 30
    unverified = _parsed_link(uri)
    assert isinstance(unverified, _Problem) and unverified.params["ai"] == "254"

    with pytest.raises(ValidationFailed) as failure:
        canonical_identifier(uri)

    assert failure.value.errors[0].params == {
        "value": uri,
        "ai": "414",
        "component": "4012345000008",
    }
