"""Structure of GS1 Digital Link URIs: where the key path starts, which qualifiers may follow.

Only the URI *structure* lives here; the values are validated by the callers with biip
(:mod:`medledger.identifiers.gs1`) so that one set of AI rules serves every input format.
biip 5.2.0 has its own Digital Link parser, but it knows no short names (``/gtin/``), takes
the first key-like path segment even inside a path prefix, silently drops empty,
repeated and unknown numeric query parameters, and accepts key qualifiers in the query
string — all of which the GS1 reference engine rejects or handles differently.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import quote, unquote, unquote_plus

from medledger.identifiers.syntax_dictionary import syntax_dictionary

# Digital Link primary keys and their alternative, ordered sequences of key qualifiers:
# the ``dlpkey`` attributes of the GS1 Barcode Syntax Dictionary.
DL_PRIMARY_KEYS: Final[dict[str, tuple[tuple[str, ...], ...]]] = {
    ai: entry.dl_qualifier_sequences
    for ai, entry in syntax_dictionary().items()
    if entry.dl_qualifier_sequences is not None
}

# Path short names of GS1 Digital Link 1.0-1.2 (still printed on many packs) → AIs.
DL_PATH_SHORT_NAMES: Final[dict[str, str]] = {
    "gtin": "01",
    "itip": "8006",
    "gmn": "8013",
    "cpid": "8010",
    "gln": "414",
    "party": "417",
    "gsrnp": "8017",
    "gsrn": "8018",
    "gcn": "255",
    "sscc": "00",
    "gdti": "253",
    "ginc": "401",
    "gsin": "402",
    "grai": "8003",
    "giai": "8004",
    "cpv": "22",
    "lot": "10",
    "ser": "21",
    "cpsn": "8011",
    "glnx": "254",
    "refno": "8020",
    "srin": "8019",
}

# Query-string short names defined by the Digital Link 1.2 grammar.
DL_QUERY_SHORT_NAMES: Final[dict[str, str]] = {"exp": "17", "expdt": "7003"}


class DigitalLinkSyntaxError(ValueError):
    """The URI has a GS1 key path, but its structure breaks the Digital Link rules."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


def looks_like_http(value: str) -> bool:
    """Tell whether ``value`` starts with an ``http://`` or ``https://`` scheme (any case)."""
    return value[:7].lower() == "http://" or value[:8].lower() == "https://"


def path_ai(segment: str) -> str:
    """Return the AI a path segment names: itself, or the AI of a legacy short name."""
    return DL_PATH_SHORT_NAMES.get(segment, segment)


def qualifiers_allowed(primary_ai: str, qualifiers: list[str]) -> bool:
    """Tell whether ``qualifiers`` follow one ``dlpkey`` sequence of ``primary_ai`` in order."""
    for sequence in DL_PRIMARY_KEYS[primary_ai]:
        position = 0
        for qualifier in qualifiers:
            if qualifier not in sequence[position:]:
                break
            position = sequence.index(qualifier, position) + 1
        else:
            return True
    return False


def has_key_path(path: str) -> bool:
    """Tell whether some path segment names a GS1 primary key and has a segment after it."""
    segments = path.split("/")
    return any(path_ai(segment) in DL_PRIMARY_KEYS for segment in segments[:-1])


def split_key_path(path: str) -> list[tuple[str, str]]:
    """Split a Digital Link path into (AI, value) pairs: primary key first, then qualifiers.

    The key path is the leftmost run of segments that forms a valid key path, so a path
    prefix may itself contain key-like segments (``/00/faux/00/…``). Short names become
    AIs, values are percent-decoded *after* splitting (an encoded ``/`` stays in its
    value) and a zero-suppressed GTIN-8/12/13 is padded to 14 digits. Values are not
    validated here.

    Raises :class:`DigitalLinkSyntaxError` if no run of segments forms a valid key path.
    """
    segments = path.split("/")
    first_problem: DigitalLinkSyntaxError | None = None
    for start, segment in enumerate(segments):
        if path_ai(segment) not in DL_PRIMARY_KEYS or start == len(segments) - 1:
            continue
        try:
            return _key_pairs(segments[start:])
        except DigitalLinkSyntaxError as problem:
            first_problem = first_problem or problem
    raise first_problem or DigitalLinkSyntaxError(
        "The path {path} holds no GS1 primary key.", path=path
    )


def _key_pairs(segments: list[str]) -> list[tuple[str, str]]:
    if len(segments) % 2:
        raise DigitalLinkSyntaxError(
            "The key path {path} must alternate AIs and values.", path="/".join(segments)
        )
    pairs = [
        (path_ai(segments[index]), unquote(segments[index + 1]))
        for index in range(0, len(segments), 2)
    ]
    for ai, value in pairs:
        if not value:
            raise DigitalLinkSyntaxError("AI ({ai}) has an empty value in the path.", ai=ai)
    primary_ai, primary_value = pairs[0]
    qualifiers = [ai for ai, _ in pairs[1:]]
    if not qualifiers_allowed(primary_ai, qualifiers):
        allowed = " or ".join(",".join(sequence) for sequence in DL_PRIMARY_KEYS[primary_ai])
        raise DigitalLinkSyntaxError(
            "After AI ({ai}) the path may hold the qualifiers {allowed}, not {qualifiers}.",
            ai=primary_ai,
            allowed=allowed or "none",
            qualifiers=",".join(qualifiers),
        )
    pairs[0] = (primary_ai, _padded_gtin(primary_ai, primary_value))
    return pairs


def split_query(query: str) -> list[tuple[str, str]]:
    """Return the GS1 data attributes of a Digital Link query string, in order.

    Parameters whose name is neither numeric nor a query short name (``exp``) are ignored,
    as the standard allows other parameters. Values are form-decoded (``+`` is a space).
    Names are returned as given (numeric), so unknown AIs are left to the caller. A
    zero-suppressed GTIN-8/12/13 is padded to 14 digits, as in the path.

    Raises :class:`DigitalLinkSyntaxError` for a GS1 parameter without a value.
    """
    attributes = []
    for item in query.split("&"):
        name, _, raw_value = item.partition("=")
        ai = DL_QUERY_SHORT_NAMES.get(name, name)
        if not (ai.isascii() and ai.isdigit()):
            continue
        if not raw_value:
            raise DigitalLinkSyntaxError("AI ({ai}) has an empty value in the query.", ai=ai)
        attributes.append((ai, _padded_gtin(ai, unquote_plus(raw_value))))
    return attributes


def _padded_gtin(ai: str, value: str) -> str:
    # GS1 Digital Link 1.x allowed GTIN-8/12/13 unpadded; the AI itself is always 14 digits.
    if ai == "01" and len(value) in (8, 12, 13) and value.isascii() and value.isdigit():
        return value.zfill(14)
    return value


def encode_value(value: str) -> str:
    """Percent-encode an AI value for a Digital Link path segment or query value.

    Everything except letters, digits and ``- . _ ' ; =`` is encoded. ``' ; =`` stay
    literal because the CBV 2.0 reference normaliser keeps them, so event hashes only match
    other implementations this way (RFC 3986 allows them in a path segment).
    """
    return quote(value, safe="';=")
