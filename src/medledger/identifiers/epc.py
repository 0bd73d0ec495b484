"""EPC URNs and GS1 Digital Link URIs, normalised to one canonical identity URI.

Trading partners name the same physical thing in several ways: an EPC URN
(``urn:epc:id:sgtin:4012345.011111.987``), an EPC class or pattern URN, or a GS1 Digital
Link URI on any host, with legacy short names (``/gtin/…/ser/…``), GTIN-8/12/13 or extra
data attributes. Storage and the CBV 2.0 event hash both need *one* spelling, so that the
same item always produces the same key and the same hash. That spelling is

    ``https://id.gs1.org/<primary key AI>/<value>[/<qualifier AI>/<value>…]``

with GTINs padded to 14 digits, values percent-encoded (every character other than
letters, digits and ``- . _ ' ; =``, exactly as the CBV 2.0 reference normaliser does, so
that event hashes agree with other implementations), no query string,
and only the key qualifiers that identify the object at its finest level (the rules of
the CBV 2.0 event-hash algorithm): the consumer product variant (AI 22) is dropped, and a
batch/lot (AI 10) is dropped when a serial number (AI 21) is present. The remaining
qualifiers appear in the order of the ``dlpkey`` attribute of the GS1 Barcode Syntax
Dictionary.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any, Final
from urllib.parse import unquote, urlsplit

from biip import ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_element_strings import GS1ElementString

from medledger.core.errors import ValidationFailed, field_error
from medledger.identifiers.checkdigit import ai_has_valid_check_digit, gs1_check_digit
from medledger.identifiers.digital_link import (
    DL_PRIMARY_KEYS,
    DigitalLinkSyntaxError,
    encode_value,
    has_key_path,
    looks_like_http,
    split_key_path,
)
from medledger.identifiers.errors import Code

CANONICAL_ORIGIN: Final = "https://id.gs1.org"

_INVALID_EPC_URN: Final = Code.INVALID_EPC_URN
_INVALID_DIGITAL_LINK: Final = Code.INVALID_DIGITAL_LINK

# EPC URN components (GS1 Tag Data Standard, EPC URI grammar). GS3A3 allows these characters
# plus the escapes of " % & / < > ?; any other escape is not a valid EPC.
_GS3A3 = r"(?:[A-Za-z0-9!'()*+,\-.:;=_]|%(?:2[256Ff]|3[CcEeFf]))+"
_CPREF = r"(?:[0-9A-Z\-]|%(?:23|2[Ff]))+"
_GS3A3_RE = re.compile(_GS3A3)
_CPREF_RE = re.compile(_CPREF)
_URN_RE = re.compile(r"urn:epc:(id|idpat|class):([a-z0-9]+):(.*)", re.IGNORECASE)


class _Problem(Exception):
    """Why a value is not a valid GS1 identifier; becomes a ``ValidationFailed``."""

    def __init__(self, message: str, params: dict[str, Any]) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


def epc_urn_to_digital_link(urn: str, *, field: str = "epc") -> str:
    """Convert an EPC identifier to its canonical GS1 Digital Link URI.

    Accepts EPC pure-identity URNs (``urn:epc:id:sgtin|sscc|sgln|grai|giai|gsrn|gsrnp|gdti|
    cpi|sgcn|ginc|gsin|itip|upui|pgln:…``), the EPC class URN ``urn:epc:class:lgtin:…``,
    EPC pattern URNs whose only wildcard is the serial (``urn:epc:idpat:sgtin:…*``), and
    GS1 Digital Link URIs on any host (which are normalised). Returns the canonical
    ``https://id.gs1.org/…`` form described in the module docstring.

    This is the conversion of the CBV 2.0 event-hash algorithm, so it behaves like the
    reference normaliser: check digits are computed for EPC URNs, but those already
    present in a Digital Link URI are carried through unverified (the hash covers the
    data as received; two of the reference vectors rely on this). Use
    :func:`canonical_identifier` when the value is to be stored.

    Raises ``ValidationFailed`` with code ``gs1.invalid_epc_urn`` on ``field`` for anything
    else: other URIs and text, malformed components, unknown or misordered qualifiers.
    """
    if isinstance(urn, str):
        result = _epc_urn_to_digital_link(urn)
        if isinstance(result, str):
            return result
        if result is not None:
            raise _error(field, _INVALID_EPC_URN, urn, result)
    raise field_error(
        field,
        _INVALID_EPC_URN,
        "{value} is not an EPC URN or GS1 Digital Link URI.",
        value=str(urn),
    )


def digital_link_or_none(value: str) -> str | None:
    """:func:`epc_urn_to_digital_link` of ``value``, or None where that would raise.

    For callers that try every value (the event hash does), without the cost of an error.
    """
    result = _epc_urn_to_digital_link(value)
    return result if isinstance(result, str) else None


def canonical_identifier_or_none(uri: str) -> str | None:
    """:func:`canonical_identifier` of ``uri``, or None where that would raise.

    For callers that normalise many values and handle the rare failure on their own path
    (the EPCIS normaliser), without the cost of an error per call.
    """
    result = _canonical_identifier(uri)
    return result if isinstance(result, str) else None


def canonical_identifier(uri: str, *, field: str = "epc") -> str:
    """Return the storage form of an identifier URI: canonical GS1 DL for GS1 keys.

    EPC URNs, EPC class/pattern URNs and GS1 Digital Link URIs on any host become
    ``https://id.gs1.org/<key>/<value>[/<qualifier>/<value>…]`` (see the module docstring),
    so the same object always maps to the same string. Identifiers outside GS1 are returned
    unchanged: ``urn:uuid:…``, other EPC schemes (``urn:epc:id:gid``, ``adi``, tag and raw
    URIs), pattern URNs wider than a class, and HTTP URIs whose path holds no GS1 primary
    key (``https://example.org/things/42``).

    Raises ``ValidationFailed`` on ``field`` when the value *is* a GS1 identifier but is
    malformed: code ``gs1.invalid_epc_urn`` for EPC URNs, ``gs1.invalid_digital_link`` for
    Digital Link URIs (unknown qualifier, wrong order, bad check digit, bad length …).
    Storing such a value verbatim would silently split one object into two keys.
    """
    result = _canonical_identifier(uri)
    if isinstance(result, str):
        return result
    code, problem = result
    raise _error(field, code, uri, problem)


# Documents repeat the same identifiers (classes, locations, parties, and each EPC in several
# events), and normalisation and event hashing both convert each one: remember the answers
# (failures too, as the problem to raise; the field name is added per call).
_CACHE_SIZE: Final = 1 << 16


@lru_cache(maxsize=_CACHE_SIZE)
def _epc_urn_to_digital_link(urn: str) -> str | _Problem | None:
    """The canonical form, the problem with ``urn``, or None if it is no EPC URN or URI."""
    if _URN_RE.match(urn):
        try:
            return _format_canonical(_epc_urn_pairs(urn))
        except _Problem as problem:
            return problem
    if looks_like_http(urn):
        parsed = _parsed_link(urn)
        return parsed if isinstance(parsed, _Problem) else parsed[0]
    return None


@lru_cache(maxsize=_CACHE_SIZE)
def _canonical_identifier(uri: str) -> str | tuple[str, _Problem]:
    """The storage form of ``uri``, or (error code, problem)."""
    match = _URN_RE.match(uri)
    if match:
        kind, scheme = match.group(1).lower(), match.group(2).lower()
        if not _is_convertible_urn(kind, scheme, match.group(3)):
            return uri
        try:
            return _format_canonical(_epc_urn_pairs(uri))
        except _Problem as problem:
            return _INVALID_EPC_URN, problem
    if not looks_like_http(uri):
        return uri
    # The event hash parses the same URIs (check digits unverified): share that parse and
    # verify the check digits on its pairs. A successful parse found a key path.
    parsed = _parsed_link(uri)
    if isinstance(parsed, _Problem):
        if not has_key_path(urlsplit(uri).path):
            return uri
        # Report the problem the verified parse meets first (a check digit may come first).
        try:
            _digital_link_pairs(uri, verify_check_digits=True)
        except _Problem as problem:
            parsed = problem
        return _INVALID_DIGITAL_LINK, parsed
    canonical, pairs = parsed
    for ai, value in pairs:
        if not _has_valid_check_digit(ai, value):
            return _INVALID_DIGITAL_LINK, _check_digit_problem(ai, value)
    return canonical


@lru_cache(maxsize=_CACHE_SIZE)
def _parsed_link(uri: str) -> tuple[str, tuple[tuple[str, str], ...]] | _Problem:
    """The canonical form and (AI, value) pairs of a Digital Link URI, check digits
    unverified, or the problem with it: one parse per URI for the hash and for storage."""
    quick = _canonical_shape(uri)
    if quick is not None:
        return uri, quick
    try:
        pairs = _digital_link_pairs(uri, verify_check_digits=False)
    except _Problem as problem:
        return problem
    return _format_canonical(pairs), tuple(pairs)


@lru_cache(maxsize=1 << 12)
def _has_valid_check_digit(ai: str, value: str) -> bool:
    # The keys of new serials repeat (one GTIN, many serials): checked once per key.
    return ai_has_valid_check_digit(ai, value)


# The spelling most identifiers arrive in once partners use canonical Digital Links: a
# GTIN + serial, an SSCC, a GLN or a party GLN on id.gs1.org, in characters that need no
# percent-encoding. Such a URI is its own canonical form once its values fit their AIs.
_CANONICAL_SHAPE: Final = re.compile(
    r"https://id\.gs1\.org/(00|01|414|417)/([0-9]+)(?:/21/([A-Za-z0-9_.-]+))?"
)


def _canonical_shape(uri: str) -> tuple[tuple[str, str], ...] | None:
    """The pairs of ``uri`` if it is already canonical (see above), else None: the general
    parse decides. ``test_epc_fast_paths`` checks it against the general parse."""
    match = _CANONICAL_SHAPE.fullmatch(uri)
    if match is None:
        return None
    ai, key, serial = match.groups()
    pairs: tuple[tuple[str, str], ...] = ((ai, key),)
    if serial is not None:
        if ai != "01":
            return None
        pairs += (("21", serial),)
    if all(_fits_ai_format(pair_ai, value) for pair_ai, value in pairs):
        return pairs
    return None


# --- EPC URNs -----------------------------------------------------------------------------


def _is_convertible_urn(kind: str, scheme: str, body: str) -> bool:
    if kind == "id":
        return scheme in _ID_SCHEMES
    if kind == "class":
        return scheme == "lgtin"
    # A pattern converts only if the serial alone is wild ("CP.IR.*"); wider patterns
    # such as "4012345.*.*" name many classes and have no Digital Link equivalent.
    return scheme in _IDPAT_SCHEMES and body.endswith(".*") and body.count("*") == 1


def _epc_urn_pairs(urn: str) -> list[tuple[str, str]]:
    match = _URN_RE.fullmatch(urn)
    if match is None:
        raise _Problem("{value} is not an EPC URN.", {})
    kind, scheme, body = match.group(1).lower(), match.group(2).lower(), match.group(3)
    if kind == "id" and scheme in _ID_SCHEMES:
        pairs = _ID_SCHEMES[scheme](body)
    elif kind == "class" and scheme == "lgtin":
        company, item, lot = _split(body, 3, "company prefix, item reference and lot")
        pairs = [("01", _gtin(company, item)), ("10", _gs3a3(lot, "lot"))]
    elif kind == "idpat" and scheme in _IDPAT_SCHEMES:
        if not body.endswith(".*") or body.count("*") != 1:
            raise _Problem(
                "The EPC pattern {value} has no Digital Link form: only the serial may be *.",
                {},
            )
        pairs = _IDPAT_SCHEMES[scheme](body[:-2])
    else:
        raise _Problem("The EPC scheme {scheme} has no GS1 Digital Link form.", {"scheme": scheme})
    _validate_pairs(pairs)
    return pairs


def _split(body: str, count: int, what: str) -> list[str]:
    # Only the last component may hold ".", since GS3A3 serials allow it.
    parts = body.split(".", count - 1)
    if len(parts) != count:
        raise _Problem("The EPC URN {value} needs {what}.", {"what": what})
    return parts


def _company_and_reference(company: str, reference: str, total: int) -> str:
    """Join a GS1 company prefix and a reference of ``total`` digits together."""
    if not (_digits(company) and 6 <= len(company) <= 12):
        raise _Problem(
            "The GS1 company prefix {prefix} must have 6 to 12 digits.", {"prefix": company}
        )
    if (reference and not _digits(reference)) or len(company) + len(reference) != total:
        raise _Problem(
            "The company prefix and reference {reference} must have {total} digits together.",
            {"reference": reference, "total": total},
        )
    return company + reference


def _with_check_digit(body: str) -> str:
    return body + gs1_check_digit(body)


def _gtin(company: str, item_reference: str) -> str:
    _company_and_reference(company, item_reference, 13)
    # The indicator digit leads the item reference in the URN but the GTIN in the key; a
    # 6-12 digit prefix leaves at least that one digit in the item reference.
    return _with_check_digit(item_reference[:1] + company + item_reference[1:])


def _gs3a3(value: str, what: str) -> str:
    if not _GS3A3_RE.fullmatch(value):
        raise _Problem(
            "The {what} {component} has characters an EPC URN does not allow.",
            {"what": what, "component": value},
        )
    return unquote(value)


def _serial_number(value: str, what: str) -> str:
    if not (_digits(value) and len(value) <= 12):
        raise _Problem(
            "The {what} {component} must have 1 to 12 digits.", {"what": what, "component": value}
        )
    return value


def _sgtin(body: str) -> list[tuple[str, str]]:
    company, item, serial = _split(body, 3, "company prefix, item reference and serial")
    return [("01", _gtin(company, item)), ("21", _gs3a3(serial, "serial"))]


def _sscc(body: str) -> list[tuple[str, str]]:
    company, reference = _split(body, 2, "company prefix and serial reference")
    _company_and_reference(company, reference, 17)
    return [("00", _with_check_digit(reference[:1] + company + reference[1:]))]


def _sgln(body: str) -> list[tuple[str, str]]:
    company, location, extension = _split(body, 3, "company prefix, location and extension")
    gln = _with_check_digit(_company_and_reference(company, location, 12))
    # TDS: extension "0" means "no extension" and is how a bare GLN is written as SGLN.
    if extension == "0":
        return [("414", gln)]
    return [("414", gln), ("254", _gs3a3(extension, "extension"))]


def _grai(body: str) -> list[tuple[str, str]]:
    company, asset_type, serial = _split(body, 3, "company prefix, asset type and serial")
    key = "0" + _with_check_digit(_company_and_reference(company, asset_type, 12))
    return [("8003", key + _gs3a3(serial, "serial"))]


def _giai(body: str) -> list[tuple[str, str]]:
    company, reference = _split(body, 2, "company prefix and asset reference")
    _company_and_reference(company, "", len(company))
    return [("8004", company + _gs3a3(reference, "asset reference"))]


_Converter = Callable[[str], list[tuple[str, str]]]


def _gsrn(ai: str) -> _Converter:
    def convert(body: str) -> list[tuple[str, str]]:
        company, reference = _split(body, 2, "company prefix and service reference")
        return [(ai, _with_check_digit(_company_and_reference(company, reference, 17)))]

    return convert


def _gdti(body: str) -> list[tuple[str, str]]:
    company, document_type, serial = _split(body, 3, "company prefix, document type and serial")
    key = _with_check_digit(_company_and_reference(company, document_type, 12))
    return [("253", key + _gs3a3(serial, "serial"))]


def _cpi_key(company: str, reference: str) -> str:
    _company_and_reference(company, "", len(company))
    if not _CPREF_RE.fullmatch(reference):
        raise _Problem(
            "The component/part reference {component} has characters an EPC URN does not allow.",
            {"component": reference},
        )
    return company + unquote(reference)


def _cpi(body: str) -> list[tuple[str, str]]:
    company, reference, serial = _split(body, 3, "company prefix, part reference and serial")
    return [("8010", _cpi_key(company, reference)), ("8011", _serial_number(serial, "serial"))]


def _sgcn(body: str) -> list[tuple[str, str]]:
    company, coupon, serial = _split(body, 3, "company prefix, coupon reference and serial")
    key = _with_check_digit(_company_and_reference(company, coupon, 12))
    return [("255", key + _serial_number(serial, "serial"))]


def _ginc(body: str) -> list[tuple[str, str]]:
    company, reference = _split(body, 2, "company prefix and consignment reference")
    _company_and_reference(company, "", len(company))
    return [("401", company + _gs3a3(reference, "consignment reference"))]


def _gsin(body: str) -> list[tuple[str, str]]:
    company, reference = _split(body, 2, "company prefix and shipper reference")
    return [("402", _with_check_digit(_company_and_reference(company, reference, 16)))]


def _itip_key(company: str, item: str, piece: str, total: str) -> str:
    if not (_digits(piece) and _digits(total) and len(piece) == 2 and len(total) == 2):
        raise _Problem(
            "Piece {piece} and total {total} must have 2 digits each.",
            {"piece": piece, "total": total},
        )
    return _gtin(company, item) + piece + total


def _itip(body: str) -> list[tuple[str, str]]:
    company, item, piece, total, serial = _split(
        body, 5, "company prefix, item reference, piece, total and serial"
    )
    return [("8006", _itip_key(company, item, piece, total)), ("21", _gs3a3(serial, "serial"))]


def _upui(body: str) -> list[tuple[str, str]]:
    company, item, extension = _split(body, 3, "company prefix, item reference and TPX")
    return [("01", _gtin(company, item)), ("235", _gs3a3(extension, "TPX"))]


def _pgln(body: str) -> list[tuple[str, str]]:
    company, party = _split(body, 2, "company prefix and party reference")
    return [("417", _with_check_digit(_company_and_reference(company, party, 12)))]


def _idpat_gtin(body: str) -> list[tuple[str, str]]:
    company, item = _split(body, 2, "company prefix and item reference")
    return [("01", _gtin(company, item))]


def _idpat_sgln(body: str) -> list[tuple[str, str]]:
    company, location = _split(body, 2, "company prefix and location reference")
    return [("414", _with_check_digit(_company_and_reference(company, location, 12)))]


def _idpat_grai(body: str) -> list[tuple[str, str]]:
    company, asset_type = _split(body, 2, "company prefix and asset type")
    return [("8003", "0" + _with_check_digit(_company_and_reference(company, asset_type, 12)))]


def _idpat_gdti(body: str) -> list[tuple[str, str]]:
    company, document_type = _split(body, 2, "company prefix and document type")
    return [("253", _with_check_digit(_company_and_reference(company, document_type, 12)))]


def _idpat_sgcn(body: str) -> list[tuple[str, str]]:
    company, coupon = _split(body, 2, "company prefix and coupon reference")
    return [("255", _with_check_digit(_company_and_reference(company, coupon, 12)))]


def _idpat_cpi(body: str) -> list[tuple[str, str]]:
    company, reference = _split(body, 2, "company prefix and part reference")
    return [("8010", _cpi_key(company, reference))]


def _idpat_itip(body: str) -> list[tuple[str, str]]:
    company, item, piece, total = _split(body, 4, "company prefix, item reference, piece, total")
    return [("8006", _itip_key(company, item, piece, total))]


_ID_SCHEMES: Final[dict[str, _Converter]] = {
    "sgtin": _sgtin,
    "sscc": _sscc,
    "sgln": _sgln,
    "grai": _grai,
    "giai": _giai,
    "gsrn": _gsrn("8018"),
    "gsrnp": _gsrn("8017"),
    "gdti": _gdti,
    "cpi": _cpi,
    "sgcn": _sgcn,
    "ginc": _ginc,
    "gsin": _gsin,
    "itip": _itip,
    "upui": _upui,
    "pgln": _pgln,
}

_IDPAT_SCHEMES: Final[dict[str, _Converter]] = {
    "sgtin": _idpat_gtin,
    "upui": _idpat_gtin,
    "sgln": _idpat_sgln,
    "grai": _idpat_grai,
    "gdti": _idpat_gdti,
    "sgcn": _idpat_sgcn,
    "cpi": _idpat_cpi,
    "itip": _idpat_itip,
}


# --- GS1 Digital Link ---------------------------------------------------------------------


def _digital_link_pairs(uri: str, *, verify_check_digits: bool) -> list[tuple[str, str]]:
    parts = urlsplit(uri)
    if not parts.hostname:
        raise _Problem("The URI {value} has no host.", {})
    try:
        pairs = split_key_path(parts.path)
    except DigitalLinkSyntaxError as problem:
        raise _Problem(problem.message, problem.params) from None
    _validate_pairs(pairs, verify_check_digits=verify_check_digits)
    return pairs


# --- shared -------------------------------------------------------------------------------


def _validate_pairs(pairs: list[tuple[str, str]], *, verify_check_digits: bool = True) -> None:
    for ai, value in pairs:
        if not value.isascii():
            raise _Problem(
                "The value {component} of AI ({ai}) has non-ASCII characters.",
                {"ai": ai, "component": value},
            )
        if not _fits_ai_format(ai, value):
            raise _Problem(
                "The value {component} does not fit the format of AI ({ai}).",
                {"ai": ai, "component": value},
            ) from None
        if verify_check_digits and not ai_has_valid_check_digit(ai, value):
            raise _check_digit_problem(ai, value)


def _check_digit_problem(ai: str, value: str) -> _Problem:
    return _Problem(
        "The check digit of AI ({ai}) value {component} is wrong.",
        {"ai": ai, "component": value},
    )


# AIs of Digital Link keys and qualifiers whose element string biip checks by its pattern
# alone (no date or decimal to parse) and which no other AI extends (GS1 AIs are prefix-free),
# so "biip parses it" is exactly "the AI's pattern matches": check that without biip's
# linear search of its AI table, which dominated identifier normalisation.
_PATTERN_ONLY_AIS: Final = frozenset(
    {
        "00", "01", "10", "21", "22", "235", "253", "254", "255", "401", "402",
        "414", "417", "8003", "8004", "8006", "8010", "8011", "8017", "8018",
    }
)  # fmt: skip


@cache
def _ai_pattern(ai: str) -> re.Pattern[str] | None:
    if ai not in _PATTERN_ONLY_AIS:
        return None
    try:
        identifier = GS1ApplicationIdentifier.extract(ai)
    except ParseError:
        return None
    return re.compile(identifier.pattern) if identifier.ai == ai else None


def _fits_ai_format(ai: str, value: str) -> bool:
    """True if ``ai`` + ``value`` is a well-formed GS1 element string (as biip parses it)."""
    pattern = _ai_pattern(ai)
    if pattern is not None:
        return pattern.fullmatch(ai + value) is not None
    try:
        GS1ElementString.parse(ai + value)
    except ParseError:
        return False
    return True


def _identity_pairs(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Keep the qualifiers that identify the object at its finest level (CBV 2.0 hashing)."""
    primary_ai = pairs[0][0]
    qualifiers = dict(pairs[1:])
    if primary_ai in ("01", "8006"):
        qualifiers.pop("22", None)  # a variant never changes which object this is
        if "21" in qualifiers:
            qualifiers.pop("10", None)  # a serial is unique within the GTIN; the lot is extra
    ordered = [ai for sequence in DL_PRIMARY_KEYS[primary_ai] for ai in sequence]
    return [pairs[0], *((ai, qualifiers[ai]) for ai in ordered if ai in qualifiers)]


def _format_canonical(pairs: list[tuple[str, str]]) -> str:
    path = "".join(f"/{ai}/{encode_value(value)}" for ai, value in _identity_pairs(pairs))
    return CANONICAL_ORIGIN + path


def _digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def _error(field: str, code: str, value: str, problem: _Problem) -> ValidationFailed:
    return field_error(field, code, problem.message, value=value, **problem.params)
