"""Parse a GS1 scan or identifier into one normalised, UDI-aware record.

Accepted inputs, detected in this order:

* an optional symbology identifier (``]d2``, ``]C1``, ``]Q3``, ``]E0`` …) as sent by scanners;
* a bracketed human-readable string ``(01)…(17)…(10)…`` (``\\(`` is a literal bracket);
* a GS1 Digital Link URI on any host, with a path prefix and legacy short names allowed;
* an EPC URN (``urn:epc:id:sgtin:…``), converted to Digital Link first;
* otherwise an element string: AIs and values, variable-length ones ended by GS (U+001D).

biip does the interpretation of every AI value: the AI table, formats, dates (day ``00``
is the last day of the month), GTIN/SSCC/GLN. This module tokenises the input itself
because biip's own message parsers cannot say *which* rule failed (they raise one generic
``ParseError``, or silently take a lot that swallowed the next AI), and we must return a
stable error code per cause. The checks biip lacks come from the GS1 Barcode Syntax
Dictionary (:mod:`medledger.identifiers.ai_values`) and from the Digital Link structure
rules (:mod:`medledger.identifiers.digital_link`).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final
from urllib.parse import urlsplit

from biip.gs1_element_strings import GS1ElementString

from medledger.core.errors import ValidationFailed, field_error
from medledger.identifiers.ai_values import (
    FIELD,
    application_identifier,
    check_pairings,
    leading_ai,
    length_range,
    validated_element,
    validated_elements,
    value_error,
)
from medledger.identifiers.digital_link import (
    DL_PRIMARY_KEYS,
    DigitalLinkSyntaxError,
    encode_value,
    looks_like_http,
    split_key_path,
    split_query,
)
from medledger.identifiers.epc import CANONICAL_ORIGIN, epc_urn_to_digital_link
from medledger.identifiers.errors import Code
from medledger.identifiers.syntax_dictionary import syntax_dictionary

GROUP_SEPARATOR: Final = "\x1d"

# Symbology identifiers (ISO/IEC 15424) whose data is GS1 AI data (FNC1 in first position).
_AI_DATA_SYMBOLOGIES: Final = frozenset({"]C1", "]e0", "]e1", "]e2", "]d2", "]Q3", "]J1"})
# Symbologies that carry a bare GTIN, with the number of digits that form it.
_GTIN_SYMBOLOGIES: Final[dict[str, tuple[int, ...]]] = {
    "]E0": (13,),
    "]E3": (15, 18),  # EAN-13 plus a 2- or 5-digit add-on, which is not part of the GTIN
    "]E4": (8,),
    "]I1": (14,),
}

_GLN_AIS: Final = ("414", "417", "410", "411", "412", "413", "415", "416")
# Characters RFC 3986 allows in a URI; anything else must arrive percent-encoded.
_URI_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")


class InputFormat(StrEnum):
    """How the parsed data was written."""

    ELEMENT_STRING = "element_string"
    BRACKETED = "bracketed"
    DIGITAL_LINK = "digital_link"
    EPC_URN = "epc_urn"


@dataclass(frozen=True)
class ApplicationIdentifierValue:
    """One AI of the input with its GS1 data title and its value, in input order."""

    ai: str
    title: str
    value: str

    def to_dict(self) -> dict[str, str]:
        """Return ``{"ai", "title", "value"}``."""
        return {"ai": self.ai, "title": self.title, "value": self.value}


@dataclass(frozen=True)
class ParsedGS1:
    """A validated GS1 scan or identifier, normalised for storage and display.

    ``element_string`` and ``digital_link`` are canonical: the same data gives the same
    strings whatever the input format. Both list the primary key (the first in the data),
    then its key qualifiers in ``dlpkey`` order, then every other AI by AI number.
    ``digital_link`` is ``None`` when the data has no primary key or holds an AI that may
    not be a Digital Link data attribute. ``ais`` keeps the input order.
    """

    input: str
    format: InputFormat
    ais: tuple[ApplicationIdentifierValue, ...]
    element_string: str
    digital_link: str | None
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    expiry: dt.date | None = None
    production_date: dt.date | None = None
    best_before: dt.date | None = None
    sscc: str | None = None
    gln: str | None = None
    symbology_identifier: str | None = None

    @property
    def udi_di(self) -> str | None:
        """The UDI device identifier: the GTIN."""
        return self.gtin

    @property
    def udi_pi(self) -> dict[str, str | dt.date]:
        """The UDI production identifiers present: lot, serial, expiry, production date."""
        candidates: dict[str, str | dt.date | None] = {
            "lot": self.lot,
            "serial": self.serial,
            "expiry": self.expiry,
            "production_date": self.production_date,
        }
        return {name: value for name, value in candidates.items() if value is not None}

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict: dates as ISO strings, AIs as a list of dicts."""
        return {
            "input": self.input,
            "format": self.format.value,
            "symbology_identifier": self.symbology_identifier,
            "gtin": self.gtin,
            "lot": self.lot,
            "serial": self.serial,
            "expiry": _iso(self.expiry),
            "production_date": _iso(self.production_date),
            "best_before": _iso(self.best_before),
            "sscc": self.sscc,
            "gln": self.gln,
            "udi_di": self.udi_di,
            "udi_pi": {name: _json_value(value) for name, value in self.udi_pi.items()},
            "element_string": self.element_string,
            "digital_link": self.digital_link,
            "ais": [ai.to_dict() for ai in self.ais],
        }


def parse_gs1(data: str, *, check_requisite_ais: bool = False) -> ParsedGS1:
    """Parse a scan, bracketed string, Digital Link URI or EPC URN (see the module docstring).

    AIs that may never appear together (the dictionary's ``ex=`` rule, e.g. a GTIN with a
    count) are always rejected. AIs that need a companion (``req=``, e.g. a lot needs a
    GTIN) are checked only with ``check_requisite_ais=True``: the dictionary says to judge
    them over all the barcodes on an item, and a label often splits its data over two.

    Raises ``ValidationFailed`` on field ``data`` with one of the codes
    ``gs1.unrecognised_format``, ``gs1.unknown_ai``, ``gs1.invalid_length``,
    ``gs1.invalid_characters``, ``gs1.invalid_date``, ``gs1.bad_check_digit``,
    ``gs1.invalid_piece_of_total``, ``gs1.missing_separator``, ``gs1.repeated_ai``,
    ``gs1.invalid_ai_pair``, ``gs1.missing_required_ai``, ``gs1.invalid_digital_link`` or
    ``gs1.invalid_epc_urn``.
    """
    # Scanners in keyboard mode often end with CR/LF; GS is not stripped (it is data).
    text = data.strip(" \t\r\n")
    if not text:
        raise field_error(FIELD, Code.UNRECOGNISED_FORMAT, "There is no data to parse.")
    symbology: str | None = None
    if text.startswith("]"):
        symbology, text = _split_symbology(text)

    if symbology in _GTIN_SYMBOLOGIES:
        pairs = [("01", _gtin_from_linear_symbol(text, _GTIN_SYMBOLOGIES[symbology]))]
        input_format = InputFormat.ELEMENT_STRING
    elif symbology in _AI_DATA_SYMBOLOGIES:
        pairs = _split_element_string(text)
        input_format = InputFormat.ELEMENT_STRING
    elif looks_like_http(text):
        pairs = _split_digital_link(text)
        input_format = InputFormat.DIGITAL_LINK
    elif text[:8].lower() == "urn:epc:":
        pairs = _split_digital_link(epc_urn_to_digital_link(text, field=FIELD))
        input_format = InputFormat.EPC_URN
    elif symbology is not None:
        # A plain-text symbol (]Q1, ]d1 …) holds GS1 data only as a URI.
        raise field_error(
            FIELD,
            Code.UNRECOGNISED_FORMAT,
            "The {symbology} symbol holds no GS1 data.",
            symbology=symbology,
        )
    elif text.startswith("("):
        pairs = _split_bracketed(text)
        input_format = InputFormat.BRACKETED
    else:
        pairs = _split_element_string(text)
        input_format = InputFormat.ELEMENT_STRING

    elements = validated_elements(pairs)
    check_pairings([element.ai.ai for element in elements], requisites=check_requisite_ais)
    return _build(data, input_format, symbology, elements)


# --- input formats ------------------------------------------------------------------------


def _split_symbology(text: str) -> tuple[str, str]:
    # ISO/IEC 15424: "]", a symbology letter and one modifier character. Parsed here rather
    # than with biip, whose 5.2.0 table lacks DotCode (]J0, ]J1).
    if not re.fullmatch(r"\][A-Za-z][0-9A-Za-z]", text[:3]):
        raise field_error(
            FIELD,
            Code.UNRECOGNISED_FORMAT,
            "{value} does not start with a valid symbology identifier.",
            value=text[:3],
        )
    if len(text) == 3:
        raise field_error(
            FIELD,
            Code.UNRECOGNISED_FORMAT,
            "The {symbology} symbol holds no data.",
            symbology=text,
        )
    return text[:3], text[3:]


def _gtin_from_linear_symbol(text: str, lengths: tuple[int, ...]) -> str:
    if not (text.isascii() and text.isdigit()):
        raise value_error(Code.INVALID_CHARACTERS, "01", text)
    if len(text) not in lengths:
        raise field_error(
            FIELD,
            Code.INVALID_LENGTH,
            "The GTIN {value} has {length} digits; this barcode carries {expected}.",
            value=text,
            length=len(text),
            expected=" or ".join(str(length) for length in lengths),
        )
    # EAN-13 add-ons (]E3) follow the 13 GTIN digits and are not part of the GTIN.
    gtin = text[:13] if len(text) in (15, 18) else text
    return gtin.zfill(14)


def _split_bracketed(text: str) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        close = text.find(")", position)
        if text[position] != "(" or close == -1:
            raise field_error(
                FIELD,
                Code.UNRECOGNISED_FORMAT,
                "Bracketed data must be (AI)value pairs: {value} is not.",
                value=text[position:],
            )
        ai = text[position + 1 : close].strip(" ")
        application_identifier(ai)
        value: list[str] = []
        position = close + 1
        while position < len(text) and text[position] != "(":
            # "\(" is a literal "(" inside a value, as in the GS1 syntax engine.
            if text.startswith("\\(", position):
                position += 1
            value.append(text[position])
            position += 1
        # Printed HRI puts blanks between AIs; no AI value may hold a blank, so trim them.
        pairs.append((ai, "".join(value).strip(" ")))
    return pairs


def _split_element_string(
    text: str, *, detect_missing_separator: bool = True
) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    # A leading GS stands for the FNC1 that some scanners transmit literally.
    rest = text.lstrip(GROUP_SEPARATOR)
    while rest:
        ai = leading_ai(rest)
        minimum, maximum = length_range(ai.ai)
        field_end = rest.find(GROUP_SEPARATOR)
        field_end = len(rest) if field_end == -1 else field_end
        if minimum == maximum:
            # Predefined length: the value ends after its digits, with or without GS.
            end = min(len(ai.ai) + maximum, field_end)
        else:
            end = field_end
            if detect_missing_separator and field_end == len(rest):
                _reject_swallowed_element(ai.ai, rest[len(ai.ai) :])
        pairs.append((ai.ai, rest[len(ai.ai) : end]))
        rest = rest[end:].lstrip(GROUP_SEPARATOR)
    return pairs


def _reject_swallowed_element(ai: str, value: str) -> None:
    """Raise ``gs1.missing_separator`` if a final variable-length value hides another AI.

    The typical fault is a printer that omits the GS after a lot: ``10ABC17251231``
    becomes lot ``ABC17251231``. We report it when the tail is a complete, valid run of
    elements that starts with a predefined-length AI (dates, GTIN, SSCC …), and the head
    alone is a valid value. A lot that really ends in such digits is rare enough that
    asking the user to check the label is the better trade.
    """
    for split in range(1, len(value)):
        tail = value[split:]
        try:
            next_ai = leading_ai(tail)
        except ValidationFailed:
            continue
        if next_ai.separator_required:
            continue
        try:
            validated_element(ai, value[:split])
            validated_elements(_split_element_string(tail, detect_missing_separator=False))
        except ValidationFailed:
            continue
        raise field_error(
            FIELD,
            Code.MISSING_SEPARATOR,
            "AI ({ai}) value {value} runs into AI ({next_ai}): a separator is missing "
            "after {head}.",
            ai=ai,
            value=value,
            next_ai=next_ai.ai,
            head=value[:split],
        )


def _split_digital_link(uri: str) -> list[tuple[str, str]]:
    if not _URI_CHARACTERS.fullmatch(uri):
        raise _digital_link_error("{value} has characters a URI may not hold unencoded.", uri)
    try:
        parts = urlsplit(uri)
        host = parts.hostname
    except ValueError:
        host = None
    if not host or not _valid_host(parts.netloc):
        raise _digital_link_error("{value} has no valid host.", uri)
    try:
        key = split_key_path(parts.path)
        attributes = split_query(parts.query)
    except DigitalLinkSyntaxError as problem:
        raise _digital_link_error(problem.message, uri, **problem.params) from None

    primary_ai = key[0][0]
    qualifiers = {ai for ai, _ in key[1:]}
    for ai, _ in attributes:
        application_identifier(ai)
        if not syntax_dictionary()[ai].dl_data_attribute:
            raise _digital_link_error(
                "AI ({ai}) may not be a Digital Link data attribute.", uri, ai=ai
            )
        # A key qualifier belongs in the path, never in the query (GS1 DL URI syntax).
        if any(qualifiers | {ai} <= set(sequence) for sequence in DL_PRIMARY_KEYS[primary_ai]):
            raise _digital_link_error(
                "AI ({ai}) qualifies AI ({primary}) and belongs in the path, not the query.",
                uri,
                ai=ai,
                primary=primary_ai,
            )
    pairs = [*key, *attributes]
    seen: set[str] = set()
    for ai, _ in pairs:
        if ai in seen:
            raise field_error(
                FIELD,
                Code.REPEATED_AI,
                "AI ({ai}) appears more than once in the Digital Link URI.",
                ai=ai,
            )
        seen.add(ai)
    return pairs


def _valid_host(netloc: str) -> bool:
    host = netloc.rpartition("@")[2]
    if host.startswith("["):
        literal = host[1 : host.find("]")]
        # RFC 3986 has no zone identifiers ("%25eth0") in IP literals.
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            return False
        return "%" not in literal
    return True


# --- result -------------------------------------------------------------------------------


def _build(
    data: str,
    input_format: InputFormat,
    symbology: str | None,
    elements: list[GS1ElementString],
) -> ParsedGS1:
    by_ai = {element.ai.ai: element for element in elements}
    ordered = _canonical_order(list(by_ai))
    primary = ordered[0] if ordered and ordered[0] in DL_PRIMARY_KEYS else None

    def value_of(ai: str) -> str | None:
        element = by_ai.get(ai)
        return element.value if element else None

    def date_of(ai: str) -> dt.date | None:
        element = by_ai.get(ai)
        return element.date if element else None

    return ParsedGS1(
        input=data,
        format=input_format,
        symbology_identifier=symbology,
        ais=tuple(
            ApplicationIdentifierValue(ai=e.ai.ai, title=e.ai.data_title, value=e.value)
            for e in elements
        ),
        element_string="".join(f"({ai}){_escape_bracket(by_ai[ai].value)}" for ai in ordered),
        digital_link=_digital_link(ordered, by_ai) if primary else None,
        gtin=value_of("01"),
        lot=value_of("10"),
        serial=value_of("21"),
        expiry=date_of("17"),
        production_date=date_of("11"),
        best_before=date_of("15"),
        sscc=value_of("00"),
        gln=next((value for ai in _GLN_AIS if (value := value_of(ai))), None),
    )


def _canonical_order(ais: list[str]) -> list[str]:
    """Primary key, its qualifiers in ``dlpkey`` order, then the rest by AI number."""
    # Like the GS1 syntax engine, the first primary key in the data leads; a Digital Link
    # or EPC input always has its own key first.
    primary = next((ai for ai in ais if ai in DL_PRIMARY_KEYS), None)
    if primary is None:
        return sorted(ais)
    # Of the alternative qualifier sequences, use the one that covers most of the data.
    sequence = max(DL_PRIMARY_KEYS[primary], key=lambda seq: sum(ai in ais for ai in seq))
    key = [primary, *(ai for ai in sequence if ai in ais)]
    return key + sorted(ai for ai in ais if ai not in key)


def _digital_link(ordered: list[str], by_ai: dict[str, GS1ElementString]) -> str | None:
    primary = ordered[0]
    qualifiers = {ai for sequence in DL_PRIMARY_KEYS[primary] for ai in sequence}
    path_ais = [primary]
    for ai in ordered[1:]:
        if ai not in qualifiers or not _is_qualifier_position(path_ais, ai):
            break
        path_ais.append(ai)
    if any(not syntax_dictionary()[ai].dl_data_attribute for ai in ordered[len(path_ais) :]):
        return None  # e.g. a serial beside a TPX: only key qualifiers may hold it
    path = "".join(f"/{ai}/{encode_value(by_ai[ai].value)}" for ai in path_ais)
    query = "&".join(
        f"{ai}={encode_value(by_ai[ai].value)}" for ai in ordered if ai not in path_ais
    )
    return CANONICAL_ORIGIN + path + (f"?{query}" if query else "")


def _is_qualifier_position(path_ais: list[str], ai: str) -> bool:
    primary, *qualifiers = path_ais
    return any(set(qualifiers) | {ai} <= set(sequence) for sequence in DL_PRIMARY_KEYS[primary])


# --- errors and helpers -------------------------------------------------------------------


def _digital_link_error(message: str, uri: str, **params: Any) -> ValidationFailed:
    return field_error(FIELD, Code.INVALID_DIGITAL_LINK, message, value=uri, **params)


def _escape_bracket(value: str) -> str:
    # "(" inside a value would start a new AI when the string is parsed again.
    return value.replace("(", "\\(")


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _json_value(value: str | dt.date) -> str:
    return value.isoformat() if isinstance(value, dt.date) else value
