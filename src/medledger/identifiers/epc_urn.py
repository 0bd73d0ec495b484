"""GS1 Digital Link URI → EPC URN (GS1 Tag Data Standard 2.x), for answers that ask for
URNs (EPCIS ``GS1-EPC-Format: Always_EPC_URN``).

A Digital Link carries a GS1 key but not the length of the GS1 company prefix inside it,
which the EPC URN writes apart (``urn:epc:id:sgtin:4012345.011111.987``). The length is
taken from GS1's prefix table as ``biip`` ships it (``GS1CompanyPrefix``). Where that table
knows no length for the key (a prefix GS1 has not published), or the key has no EPC URN
scheme here, :func:`digital_link_to_epc_urn` answers ``None`` and callers keep the Digital
Link.

Schemes: ``sgtin`` (01+21), ``lgtin`` class (01+10), ``idpat:sgtin`` (01 alone, a product
class; a UPUI pattern is written so too, the Digital Link being the same), ``sscc`` (00),
``sgln`` (414 with or without 254), ``pgln`` (417), ``grai`` (8003; without a serial the
``idpat``), ``giai`` (8004), ``gdti`` (253) and ``sgcn`` (255) likewise, ``ginc`` (401),
``gsin`` (402), ``cpi`` (8010 with or without 8011), ``itip`` (8006 with or without 21),
``upui`` (01+235), ``gsrn`` (8018), ``gsrnp`` (8017).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Final
from urllib.parse import unquote, urlsplit

from biip import ParseError
from biip.gs1_prefixes import GS1CompanyPrefix

# Characters of a GS1 AI value the URN must percent-escape (TDS §7: " % & / < > ?), and
# anything outside the URN's character set.
_URN_SAFE: Final = re.compile(r"[A-Za-z0-9\-_.:;=!'()*+,]")


def _escaped(value: str) -> str:
    return "".join(
        char if _URN_SAFE.fullmatch(char) else "".join(f"%{b:02X}" for b in char.encode())
        for char in value
    )


@lru_cache(maxsize=4096)
def _company_prefix_length(digits: str) -> int | None:
    try:
        prefix = GS1CompanyPrefix.extract(digits)
    except ParseError:
        return None
    if prefix is None or not 6 <= len(prefix.value) <= 12:
        return None
    return len(prefix.value)


def _pairs(uri: str) -> dict[str, str] | None:
    parts = urlsplit(uri)
    if parts.query or parts.fragment:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if not segments or len(segments) % 2:
        return None
    pairs: dict[str, str] = {}
    for ai, value in zip(segments[::2], segments[1::2], strict=True):
        if not ai.isdigit() or ai in pairs:
            return None
        pairs[ai] = unquote(value)
    return pairs


def _gtin(gtin: str) -> tuple[str, str] | None:
    """(company prefix, indicator + item reference) of a GTIN-14."""
    if len(gtin) != 14 or not gtin.isdigit():
        return None
    length = _company_prefix_length(gtin[1:13])
    if length is None:
        return None
    return gtin[1 : 1 + length], gtin[0] + gtin[1 + length : 13]


def _sgtin(p: dict[str, str]) -> str | None:
    parts = _gtin(p["01"])
    return None if parts is None else f"urn:epc:id:sgtin:{parts[0]}.{parts[1]}.{_escaped(p['21'])}"


def _lgtin(p: dict[str, str]) -> str | None:
    parts = _gtin(p["01"])
    if parts is None:
        return None
    return f"urn:epc:class:lgtin:{parts[0]}.{parts[1]}.{_escaped(p['10'])}"


def _gtin_class(p: dict[str, str]) -> str | None:
    parts = _gtin(p["01"])
    return None if parts is None else f"urn:epc:idpat:sgtin:{parts[0]}.{parts[1]}.*"


def _sscc(p: dict[str, str]) -> str | None:
    sscc = p["00"]
    if len(sscc) != 18 or not sscc.isdigit():
        return None
    length = _company_prefix_length(sscc[1:17])
    if length is None:
        return None
    return f"urn:epc:id:sscc:{sscc[1 : 1 + length]}.{sscc[0]}{sscc[1 + length : 17]}"


def _gln_parts(gln: str) -> tuple[str, str] | None:
    if len(gln) != 13 or not gln.isdigit():
        return None
    length = _company_prefix_length(gln[:12])
    if length is None:
        return None
    return gln[:length], gln[length:12]


def _sgln(p: dict[str, str]) -> str | None:
    parts = _gln_parts(p["414"])
    extension = _escaped(p.get("254", "0"))
    return None if parts is None else f"urn:epc:id:sgln:{parts[0]}.{parts[1]}.{extension}"


def _pgln(p: dict[str, str]) -> str | None:
    parts = _gln_parts(p["417"])
    return None if parts is None else f"urn:epc:id:pgln:{parts[0]}.{parts[1]}"


def _grai(p: dict[str, str]) -> str | None:
    value = p["8003"]
    if len(value) < 14 or not value[:14].isdigit() or value[0] != "0":
        return None
    length = _company_prefix_length(value[1:13])
    if length is None:
        return None
    company, asset = value[1 : 1 + length], value[1 + length : 13]
    if len(value) == 14:  # no serial: the asset type, a class
        return f"urn:epc:idpat:grai:{company}.{asset}.*"
    return f"urn:epc:id:grai:{company}.{asset}.{_escaped(value[14:])}"


def _giai(p: dict[str, str]) -> str | None:
    value = p["8004"]
    digits = re.match(r"[0-9]*", value)
    length = _company_prefix_length(digits.group(0)[:12]) if digits else None
    if length is None or len(value) <= length:
        return None
    return f"urn:epc:id:giai:{value[:length]}.{_escaped(value[length:])}"


def _serialised_key(scheme: str, ai: str) -> Callable[[dict[str, str]], str | None]:
    """GDTI (253), SGCN (255): 13 digits (prefix, reference, check digit) then a serial;
    without the serial, the document or coupon type (an ``idpat``)."""

    def convert(p: dict[str, str]) -> str | None:
        value = p[ai]
        if len(value) < 13 or not value[:13].isdigit():
            return None
        length = _company_prefix_length(value[:12])
        if length is None:
            return None
        company, reference = value[:length], value[length:12]
        if len(value) == 13:
            return f"urn:epc:idpat:{scheme}:{company}.{reference}.*"
        return f"urn:epc:id:{scheme}:{company}.{reference}.{_escaped(value[13:])}"

    return convert


def _ginc(p: dict[str, str]) -> str | None:
    value = p["401"]
    digits = re.match(r"[0-9]*", value)
    length = _company_prefix_length(digits.group(0)[:12]) if digits else None
    if length is None or len(value) <= length:
        return None
    return f"urn:epc:id:ginc:{value[:length]}.{_escaped(value[length:])}"


def _gsin(p: dict[str, str]) -> str | None:
    value = p["402"]
    if len(value) != 17 or not value.isdigit():
        return None
    length = _company_prefix_length(value[:12])
    return None if length is None else f"urn:epc:id:gsin:{value[:length]}.{value[length:16]}"


def _cpi(p: dict[str, str]) -> str | None:
    value = p["8010"]
    digits = re.match(r"[0-9]*", value)
    length = _company_prefix_length(digits.group(0)[:12]) if digits else None
    if length is None or len(value) <= length:
        return None
    company, part = value[:length], _escaped(value[length:])
    if "8011" not in p:
        return f"urn:epc:idpat:cpi:{company}.{part}.*"
    return f"urn:epc:id:cpi:{company}.{part}.{p['8011']}"


def _itip(p: dict[str, str]) -> str | None:
    value = p["8006"]
    parts = _gtin(value[:14]) if len(value) == 18 and value.isdigit() else None
    if parts is None:
        return None
    head = f"{parts[0]}.{parts[1]}.{value[14:16]}.{value[16:18]}"
    if "21" not in p:
        return f"urn:epc:idpat:itip:{head}.*"
    return f"urn:epc:id:itip:{head}.{_escaped(p['21'])}"


def _upui(p: dict[str, str]) -> str | None:
    parts = _gtin(p["01"])
    return None if parts is None else f"urn:epc:id:upui:{parts[0]}.{parts[1]}.{_escaped(p['235'])}"


def _gsrn(scheme: str, ai: str) -> Callable[[dict[str, str]], str | None]:
    def convert(p: dict[str, str]) -> str | None:
        value = p[ai]
        if len(value) != 18 or not value.isdigit():
            return None
        length = _company_prefix_length(value[:17])
        if length is None:
            return None
        return f"urn:epc:id:{scheme}:{value[:length]}.{value[length:17]}"

    return convert


_SCHEMES: Final[dict[frozenset[str], Callable[[dict[str, str]], str | None]]] = {
    frozenset({"01", "21"}): _sgtin,
    frozenset({"01", "10"}): _lgtin,
    frozenset({"01"}): _gtin_class,
    frozenset({"00"}): _sscc,
    frozenset({"414"}): _sgln,
    frozenset({"414", "254"}): _sgln,
    frozenset({"417"}): _pgln,
    frozenset({"8003"}): _grai,
    frozenset({"8004"}): _giai,
    frozenset({"253"}): _serialised_key("gdti", "253"),
    frozenset({"255"}): _serialised_key("sgcn", "255"),
    frozenset({"401"}): _ginc,
    frozenset({"402"}): _gsin,
    frozenset({"8010"}): _cpi,
    frozenset({"8010", "8011"}): _cpi,
    frozenset({"8006"}): _itip,
    frozenset({"8006", "21"}): _itip,
    frozenset({"01", "235"}): _upui,
    frozenset({"8018"}): _gsrn("gsrn", "8018"),
    frozenset({"8017"}): _gsrn("gsrnp", "8017"),
}


def digital_link_to_epc_urn(uri: str) -> str | None:
    """The EPC URN of a canonical GS1 Digital Link URI, or ``None`` (see the module doc)."""
    if not uri.startswith("https://id.gs1.org/"):
        return None
    pairs = _pairs(uri)
    if pairs is None:
        return None
    convert = _SCHEMES.get(frozenset(pairs))
    return None if convert is None else convert(pairs)
