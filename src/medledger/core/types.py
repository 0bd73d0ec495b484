"""Pydantic field types shared by API payloads and HTML forms, so one rule gives one message."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from annotated_types import Ge, Le
from pydantic import AfterValidator, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from medledger.core.errors import Code

# code -> English message template (with {placeholders}); used to translate field errors that
# pydantic reports already formatted.
MESSAGE_TEMPLATES: dict[str, str] = {
    "missing": "This field is required.",
    "string_too_short": "Enter at least {min_length} characters.",
    "string_too_long": "Enter at most {max_length} characters.",
    "string_pattern_mismatch": "This value has characters that are not allowed.",
    "greater_than": "Enter a number greater than {gt}.",
    "greater_than_equal": "Enter a number of at least {ge}.",
    "less_than_equal": "Enter a number of at most {le}.",
    "int_parsing": "Enter a whole number.",
    "decimal_parsing": "Enter a number.",
    "date_from_datetime_parsing": "Enter a date as YYYY-MM-DD.",
    "date_parsing": "Enter a date as YYYY-MM-DD.",
    "enum": "Choose one of: {expected}.",
    "too_short": "Give at least {min_length} item(s).",
    "extra_forbidden": "This field is not allowed.",
    "literal_error": "Choose one of: {expected}.",
    "bool_parsing": "Enter true or false.",
}


def custom_error(code: str, template: str, **params: Any) -> PydanticCustomError:
    """A pydantic error whose English template is registered for translation."""
    MESSAGE_TEMPLATES[str(code)] = template
    return PydanticCustomError(str(code), template, params)


def rule_error(
    code: str, template: str, params: dict[str, Any] | None = None
) -> PydanticCustomError:
    """Same as :func:`custom_error`, with the parameters as a dict."""
    return custom_error(code, template, **(params or {}))


def strip_text(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _country(value: str) -> str:
    value = value.upper()
    if len(value) != 2 or not value.isascii() or not value.isalpha():
        raise custom_error(
            Code.COUNTRY_INVALID,
            "Use a two-letter ISO 3166 country code, such as {example}.",
            example="DE",
        )
    return value


_ZONES: set[str] | None = None


def _time_zone(value: str) -> str:
    global _ZONES
    if _ZONES is None:
        _ZONES = available_timezones() | {"UTC"}
    if value not in _ZONES:
        raise custom_error(
            Code.TIME_ZONE_UNKNOWN,
            "Unknown time zone {value}; use an IANA name such as {example}.",
            value=value,
            example="Asia/Shanghai",
        )
    try:
        ZoneInfo(value)
    except ZoneInfoNotFoundError:  # pragma: no cover - available_timezones said it exists
        raise custom_error(
            Code.TIME_ZONE_UNKNOWN, "Unknown time zone {value}.", value=value
        ) from None
    return value


# What GS1 keys look like, for the OpenAPI description (the validators give the exact reason a
# value is refused: length, characters or check digit).
GTIN_PATTERN = r"^([0-9]{8}|[0-9]{12,14})$"
GTIN14_PATTERN = r"^[0-9]{14}$"
GLN_PATTERN = r"^[0-9]{13}$"
SSCC_PATTERN = r"^[0-9]{18}$"
GTIN_SCHEMA = {
    "type": "string",
    "pattern": GTIN_PATTERN,
    "minLength": 8,
    "maxLength": 14,
    "description": "GTIN-8, -12, -13 or -14 (ASCII digits, valid check digit); stored as GTIN-14.",
}
GLN_SCHEMA = {
    "type": "string",
    "pattern": GLN_PATTERN,
    "minLength": 13,
    "maxLength": 13,
    "description": "GLN: 13 ASCII digits with a valid check digit.",
}
# Stored keys, as answered.
Gtin14Out = Annotated[str, Field(pattern=GTIN14_PATTERN, min_length=14, max_length=14)]
GlnOut = Annotated[str, Field(pattern=GLN_PATTERN, min_length=13, max_length=13)]
SsccOut = Annotated[str, Field(pattern=SSCC_PATTERN, min_length=18, max_length=18)]
CountryCode = Annotated[str, BeforeValidator(strip_text), AfterValidator(_country)]
TimeZoneName = Annotated[str, BeforeValidator(strip_text), AfterValidator(_time_zone)]


def _single_line(value: str) -> str:
    from medledger.core.bodies import has_control_character

    if has_control_character(value, allow_line_breaks=False):
        raise custom_error(
            Code.CONTROL_CHARACTER,
            "Remove control characters (such as tabs or line breaks) from this field.",
        )
    return value


# One line of text (names, codes): stripped, and no control character at all, not even the
# tab and line breaks that the request guard lets through for multi-line text.
Text = Annotated[str, BeforeValidator(strip_text), AfterValidator(_single_line)]

# Integers the databases can hold: ids are BIGINT-sized on both, and a value past 64 bits is a
# 422 naming its field here rather than an overflow (500) in the driver. Every id of a path,
# query or body uses RecordId; every page number uses PageNumber (tests/core/test_openapi.py
# checks that no integer in the OpenAPI description is unbounded).
DB_INT_MAX = 2**63 - 1
MAX_PAGE = 10**9

RecordId = Annotated[int, Ge(1), Le(DB_INT_MAX)]
PageNumber = Annotated[int, Ge(1), Le(MAX_PAGE)]
PageSize = Annotated[int, Ge(1), Le(500)]


def record_id_or_none(value: str) -> int | None:
    """``value`` as a :data:`RecordId` if it is one in ASCII digits, else None (``"²"`` and
    ``"٣"`` are digits to ``str.isdigit`` but no id)."""
    if not (value.isascii() and value.isdigit()) or len(value) > 19:
        return None
    number = int(value)
    return number if 1 <= number <= DB_INT_MAX else None
