"""GS1 check digits (mod 10), GMN check character pairs, and GTIN/GLN/SSCC validation."""

from __future__ import annotations

from typing import Final

from biip.checksums import gs1_standard_check_digit

from medledger.core.errors import field_error
from medledger.identifiers.errors import Code
from medledger.identifiers.syntax_dictionary import syntax_dictionary

# Where the mod-10 check digit sits inside the data of each AI that has one: the
# ``csum`` components of the GS1 Barcode Syntax Dictionary, as (start, end) offsets whose
# last digit is the check digit. AI 8003 (GRAI) starts with a mandatory zero, so its span
# starts at 1.
CHECK_DIGIT_SPANS: Final[dict[str, tuple[int, int]]] = {
    ai: spans[0]
    for ai, entry in syntax_dictionary().items()
    if (spans := entry.linter_spans("csum"))
}

# AIs ending in a GS1 check character pair (``csumalpha``): GMN (8013) and MUDI (8014).
# The GMN is the EU MDR Basic UDI-DI, so its check pair matters here.
CHECK_CHARACTER_AIS: Final = frozenset(
    ai
    for ai, entry in syntax_dictionary().items()
    if any("csumalpha" in component.linters for component in entry.components)
)

_GTIN_LENGTHS = (8, 12, 13, 14)
# GS1 General Specifications, check character pair: character values follow CSET 82 order,
# weights are the primes from the right, and the sum modulo 1021 is written in base 32 with
# this alphabet. All 44 csumalpha linter vectors pass (tests/identifiers/test_checkdigit.py).
_CSET82: Final = (
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
_CHECK_CHARACTERS: Final = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def gs1_check_digit(body: str) -> str:
    """Return the GS1 mod-10 check digit for ``body`` (the digits before the check digit).

    Raises ``ValueError`` if ``body`` is empty or not all ASCII digits.
    """
    if not body or not _is_ascii_digits(body):
        raise ValueError(f"Expected ASCII digits, got {body!r}.")
    return str(gs1_standard_check_digit(body))


def has_valid_check_digit(value: str) -> bool:
    """Tell whether the last digit of ``value`` is the GS1 mod-10 check digit of the rest.

    Non-digit or too-short input is simply invalid (``False``), never an exception.
    """
    if len(value) < 2 or not _is_ascii_digits(value):
        return False
    return gs1_check_digit(value[:-1]) == value[-1]


def gmn_check_characters(body: str) -> str:
    """Return the check character pair that ends a GMN (AI 8013) whose other part is ``body``.

    Raises ``ValueError`` if ``body`` holds a character outside CSET 82.
    """
    if any(character not in _CSET82 for character in body):
        raise ValueError(f"Expected CSET 82 characters, got {body!r}.")
    weights = _primes(len(body))
    total = sum(
        _CSET82.index(character) * weight
        for character, weight in zip(reversed(body), weights, strict=True)
    )
    total %= 1021
    return _CHECK_CHARACTERS[total // 32] + _CHECK_CHARACTERS[total % 32]


def has_valid_gmn_check_characters(value: str) -> bool:
    """Tell whether ``value`` ends in the right GMN check character pair (``csumalpha``).

    Too short or non-CSET 82 input is simply invalid (``False``), never an exception.
    """
    if len(value) < 2 or any(character not in _CSET82 for character in value[:-2]):
        return False
    return value[-2:] == gmn_check_characters(value[:-2])


def expected_check(ai: str, value: str) -> str | None:
    """Return the check digit or check character pair ``value`` should carry for ``ai``.

    ``None`` when the check passes, when the AI has no check, or when the value is too
    short or has characters its format forbids (the AI's format check reports those).
    """
    if ai in CHECK_CHARACTER_AIS:
        body = value[:-2]
        if len(value) < 2 or any(character not in _CSET82 for character in body):
            return None
        expected = gmn_check_characters(body)
        return None if value[-2:] == expected else expected
    span = CHECK_DIGIT_SPANS.get(ai)
    if span is None:
        return None
    start, end = span
    digits = value[start:end]
    if len(digits) != end - start or not _is_ascii_digits(digits):
        return None
    expected = gs1_check_digit(digits[:-1])
    return None if digits[-1] == expected else expected


def ai_has_valid_check_digit(ai: str, value: str) -> bool:
    """Tell whether the data of ``ai`` passes its check digit or check character pair.

    AIs without a check, and values too short to hold one, return ``True``: length and
    character-set problems are reported by the AI's own format check.
    """
    return expected_check(ai, value) is None


def normalise_gtin(value: str, field: str = "gtin") -> str:
    """Validate a GTIN-8/12/13/14 and return it as 14 digits, zero-padded on the left.

    Raises ``ValidationFailed`` on ``field`` with code ``gs1.invalid_characters`` (not
    digits), ``gs1.invalid_length`` (not 8, 12, 13 or 14 digits) or ``gs1.bad_check_digit``.
    """
    digits = _require_digits(value, field)
    if len(digits) not in _GTIN_LENGTHS:
        raise field_error(
            field,
            Code.INVALID_LENGTH,
            "A GTIN has 8, 12, 13 or 14 digits, not {length}.",
            length=len(digits),
            value=value,
        )
    _require_check_digit(digits, field, "GTIN")
    return digits.zfill(14)


def validate_gln(value: str, field: str = "gln") -> str:
    """Validate a 13-digit GLN (digits and check digit) and return it unchanged.

    Raises ``ValidationFailed`` on ``field`` like :func:`normalise_gtin`.
    """
    return _validate_fixed_key(value, field, "GLN", 13)


def validate_sscc(value: str, field: str = "sscc") -> str:
    """Validate an 18-digit SSCC (digits and check digit) and return it unchanged.

    Raises ``ValidationFailed`` on ``field`` like :func:`normalise_gtin`.
    """
    return _validate_fixed_key(value, field, "SSCC", 18)


def _validate_fixed_key(value: str, field: str, kind: str, length: int) -> str:
    digits = _require_digits(value, field)
    if len(digits) != length:
        raise field_error(
            field,
            Code.INVALID_LENGTH,
            "A {kind} has {expected} digits, not {length}.",
            kind=kind,
            expected=length,
            length=len(digits),
            value=value,
        )
    _require_check_digit(digits, field, kind)
    return digits


def _require_digits(value: str, field: str) -> str:
    if not value or not _is_ascii_digits(value):
        raise field_error(
            field,
            Code.INVALID_CHARACTERS,
            "{value} must contain digits only.",
            value=value,
        )
    return value


def _require_check_digit(digits: str, field: str, kind: str) -> None:
    expected = gs1_check_digit(digits[:-1])
    if digits[-1] != expected:
        raise field_error(
            field,
            Code.BAD_CHECK_DIGIT,
            "The check digit of {kind} {value} is wrong: expected {expected}.",
            kind=kind,
            value=digits,
            expected=expected,
        )


def _is_ascii_digits(value: str) -> bool:
    # str.isdigit() accepts non-ASCII digits such as "٣" or "²"; GS1 keys are ASCII only.
    return value.isascii() and value.isdigit()


def _primes(count: int) -> list[int]:
    primes: list[int] = []
    candidate = 2
    while len(primes) < count:
        if all(candidate % prime for prime in primes if prime * prime <= candidate):
            primes.append(candidate)
        candidate += 1
    return primes
