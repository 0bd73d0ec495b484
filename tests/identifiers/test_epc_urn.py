"""Digital Link → EPC URN (``GS1-EPC-Format: Always_EPC_URN``) against the URN → Digital Link
vectors read backwards (``tests/vectors/gs1/epc-urn-to-digital-link-derived-vectors.jsonl``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from medledger.identifiers.epc import epc_urn_to_digital_link
from medledger.identifiers.epc_urn import digital_link_to_epc_urn

VECTORS = Path(__file__).parents[1] / "vectors/gs1/epc-urn-to-digital-link-derived-vectors.jsonl"

# A Digital Link does not say how long its company prefix is; GS1's table (biip) decides.
# Where the vector's URN chose another split, or the table does not know the prefix, or two
# URN schemes share one Digital Link, the answer differs from the vector's URN — exactly so:
DIFFERENT = {
    # 999999999999 / 987659999999: prefixes GS1's table does not know -> stays a Digital Link
    "urn:epc:id:gdti:987659999999..9": None,
    "urn:epc:id:pgln:999999999999.": None,
    # 1234567987…: the table says a 10-digit prefix
    "urn:epc:id:upui:1234567.098765.51qIgY)%3C%26Jp3*j7SDB": (
        "urn:epc:id:upui:1234567987.065.51qIgY)%3C%26Jp3*j7SDB"
    ),
    # a UPUI pattern and an SGTIN pattern are the same Digital Link (01 alone)
    "urn:epc:idpat:upui:4012345.012345.*": "urn:epc:idpat:sgtin:4012345.012345.*",
}


def _cases() -> list[Any]:
    cases = []
    for line in VECTORS.read_text(encoding="utf-8").splitlines():
        vector = json.loads(line)
        if vector["expected"] and vector["input"].startswith("urn:"):
            urn = vector["input"]
            cases.append(pytest.param(vector["expected"], urn, id=urn))
    return cases


CASES = _cases()


def test_every_urn_vector_is_read_backwards() -> None:
    assert len(CASES) == 31


@pytest.mark.parametrize(("link", "urn"), CASES)
def test_digital_link_to_epc_urn(link: str, urn: str) -> None:
    expected = DIFFERENT.get(urn, urn)

    answer = digital_link_to_epc_urn(link)

    assert answer == expected
    if answer is not None:  # and it leads back to the same Digital Link
        assert epc_urn_to_digital_link(answer) == link


@pytest.mark.parametrize(
    "value",
    [
        "https://example.com/01/04012345111118/21/987",  # not canonical
        "https://id.gs1.org/01/04012345111118/21/987?x=1",
        "https://id.gs1.org/01/04012345111118/22/987",  # no URN scheme for 01+22
        "https://id.gs1.org/01/0401234511111/21/987",  # 13 digits
        "https://id.gs1.org/01",
    ],
)
def test_what_has_no_epc_urn_is_none(value: str) -> None:
    assert digital_link_to_epc_urn(value) is None
