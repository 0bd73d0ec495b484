"""The shortcuts of identifier normalisation give exactly biip's and the uncached answers."""

from __future__ import annotations

import pytest
from biip import ParseError
from biip.gs1_application_identifiers import _GS1_APPLICATION_IDENTIFIERS
from biip.gs1_element_strings import GS1ElementString

from medledger.core.errors import ValidationFailed
from medledger.identifiers.epc import (
    _PATTERN_ONLY_AIS,
    _fits_ai_format,
    canonical_identifier,
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
