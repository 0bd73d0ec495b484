"""Validation of AI values: biip's formats plus the syntax dictionary's extra rules.

biip checks each value against its AI's format and reads dates (day ``00`` is the last day
of the month). The GS1 Barcode Syntax Dictionary adds what biip lacks: check digits of
every key AI and GMN check characters, ``yymmdd`` dates that may not use day ``00``, ITIP
piece-of-total, AI pairs that exclude each other and required companions. Every failure
is a ``ValidationFailed`` on field ``data`` with a stable ``gs1.*`` code.
"""

from __future__ import annotations

from functools import cache
from typing import Final

from biip import ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_element_strings import GS1ElementString

from medledger.core.errors import ValidationFailed, field_error
from medledger.identifiers.checkdigit import expected_check
from medledger.identifiers.errors import Code
from medledger.identifiers.syntax_dictionary import ai_matches, syntax_dictionary

FIELD: Final = "data"

# AIs holding dates (a yymmd0/yymmdd/yyyymmd0/yyyymmdd component): a value of the right
# length that biip rejects is reported as a bad date rather than bad characters.
_DATE_AIS: Final = frozenset(
    ai
    for ai, entry in syntax_dictionary().items()
    if any(
        linter.startswith(("yymmd", "yyyymmd"))
        for component in entry.components
        for linter in component.linters
    )
)
# The syntax dictionary checks these dates with ``yymmdd``, not ``yymmd0``: day 00 is
# invalid there, though biip reads it as the month's end for every date AI. The offsets
# are where the day digits sit in the value.
_DAY_ZERO_FORBIDDEN: Final[dict[str, tuple[int, ...]]] = {
    ai: tuple(start + 4 for start, _ in spans)
    for ai, entry in syntax_dictionary().items()
    if (spans := entry.linter_spans("yymmdd"))
}
# Piece-of-total fields (ITIP, AIs 8006 and 8026): piece and total, neither zero.
_PIECE_OF_TOTAL: Final[dict[str, list[tuple[int, int]]]] = {
    ai: spans
    for ai, entry in syntax_dictionary().items()
    if (spans := entry.linter_spans("pieceoftotal"))
}


def leading_ai(text: str) -> GS1ApplicationIdentifier:
    """Return the AI that ``text`` starts with; ``gs1.unknown_ai`` if none does."""
    try:
        return GS1ApplicationIdentifier.extract(text)
    except ParseError:
        raise field_error(
            FIELD,
            Code.UNKNOWN_AI,
            "{value} does not start with a GS1 Application Identifier.",
            value=text[:4],
        ) from None


def application_identifier(ai: str) -> GS1ApplicationIdentifier:
    """Return biip's record of exactly ``ai``; ``gs1.unknown_ai`` if there is none."""
    info: GS1ApplicationIdentifier | None
    try:
        info = GS1ApplicationIdentifier.extract(ai) if ai.isascii() and ai.isdigit() else None
    except ParseError:
        info = None
    if info is None or info.ai != ai:
        raise field_error(
            FIELD, Code.UNKNOWN_AI, "({ai}) is not a GS1 Application Identifier.", ai=ai
        )
    return info


@cache
def length_range(ai: str) -> tuple[int, int]:
    """Shortest and longest value of ``ai`` per the syntax dictionary's components."""
    components = syntax_dictionary()[ai].components
    shortest = sum(c.min_length for c in components if not c.optional)
    return shortest, sum(c.max_length for c in components)


def validated_element(ai: str, value: str) -> GS1ElementString:
    """Validate one AI value with biip plus our extra rules; return biip's element."""
    application_identifier(ai)
    shortest, longest = length_range(ai)
    if not shortest <= len(value) <= longest:
        raise field_error(
            FIELD,
            Code.INVALID_LENGTH,
            "AI ({ai}) takes {longest} characters; {value} has {length}."
            if shortest == longest
            else "AI ({ai}) takes {shortest} to {longest} characters; {value} has {length}.",
            ai=ai,
            value=value,
            shortest=shortest,
            longest=longest,
            length=len(value),
        )
    try:
        element = GS1ElementString.parse(ai + value) if value.isascii() else None
    except ParseError:
        element = None
    if element is None:
        # The length fits, so the format failed on a character or on a date's parts.
        is_date = ai in _DATE_AIS and value[:6].isascii() and value[:6].isdigit()
        raise value_error(Code.INVALID_DATE if is_date else Code.INVALID_CHARACTERS, ai, value)
    for offset in _DAY_ZERO_FORBIDDEN.get(ai, ()):
        if value[offset : offset + 2] == "00":
            raise value_error(Code.INVALID_DATE, ai, value)
    expected = expected_check(ai, value)
    if expected is not None:
        raise field_error(
            FIELD,
            Code.BAD_CHECK_DIGIT,
            "The check digit of AI ({ai}) value {value} is wrong: expected {expected}.",
            ai=ai,
            value=value,
            expected=expected,
        )
    for start, end in _PIECE_OF_TOTAL.get(ai, ()):
        piece, total = _piece_and_total(value[start:end])
        if not 0 < piece <= total:
            raise field_error(
                FIELD,
                Code.INVALID_PIECE_OF_TOTAL,
                "AI ({ai}) value {value} names piece {piece} of {total}.",
                ai=ai,
                value=value,
                piece=piece,
                total=total,
            )
    return element


def validated_elements(pairs: list[tuple[str, str]]) -> list[GS1ElementString]:
    """Validate every pair; drop exact repeats, reject an AI repeated with another value."""
    elements: list[GS1ElementString] = []
    seen: dict[str, str] = {}
    for ai, value in pairs:
        element = validated_element(ai, value)
        if ai in seen:
            if seen[ai] != value:
                raise field_error(
                    FIELD,
                    Code.REPEATED_AI,
                    "AI ({ai}) appears twice with different values: {value} and {other}.",
                    ai=ai,
                    value=seen[ai],
                    other=value,
                )
            continue  # the GS1 syntax engine accepts an identical repeat; it adds nothing
        seen[ai] = value
        elements.append(element)
    return elements


def check_pairings(ais: list[str], *, requisites: bool) -> None:
    """Reject AIs that exclude each other (``ex=``), and with ``requisites`` lone AIs (``req=``).

    Raises ``gs1.invalid_ai_pair`` or ``gs1.missing_required_ai``.
    """
    dictionary = syntax_dictionary()
    for ai in ais:
        entry = dictionary[ai]
        for pattern in entry.excludes:
            # An AI never excludes itself, even when it matches the pattern (dictionary note).
            clash = next(
                (other for other in ais if other != ai and ai_matches(pattern, other)), None
            )
            if clash is not None:
                raise field_error(
                    FIELD,
                    Code.INVALID_AI_PAIR,
                    "AI ({ai}) may not appear together with AI ({other}).",
                    ai=ai,
                    other=clash,
                )
        if not requisites:
            continue
        for alternatives in entry.requires:
            if not any(
                all(any(ai_matches(member, other) for other in ais) for member in group)
                for group in alternatives
            ):
                raise field_error(
                    FIELD,
                    Code.MISSING_REQUIRED_AI,
                    "AI ({ai}) needs {required} in the same data.",
                    ai=ai,
                    required=" or ".join(
                        "+".join(f"({member})" for member in group) for group in alternatives
                    ),
                )


def value_error(code: str, ai: str, value: str) -> ValidationFailed:
    """The error for a value with a bad date or bad characters, naming the AI and value."""
    messages: dict[str, str] = {
        Code.INVALID_DATE: "AI ({ai}) value {value} is not a valid date.",
        Code.INVALID_CHARACTERS: "AI ({ai}) value {value} has characters its format forbids.",
    }
    return field_error(FIELD, code, messages[code], ai=ai, value=value)


def _piece_and_total(digits: str) -> tuple[int, int]:
    half = len(digits) // 2
    return int(digits[:half]), int(digits[half:])
