"""Pydantic field types shared by API payloads and HTML forms, so one rule gives one message."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

from medledger.core.errors import DomainError

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
    MESSAGE_TEMPLATES[code] = template
    return PydanticCustomError(code, template, params)


def rule_error(
    code: str, template: str, params: dict[str, Any] | None = None
) -> PydanticCustomError:
    """Same as :func:`custom_error`, with the parameters as a dict."""
    return custom_error(code, template, **(params or {}))


def _as_pydantic(fn: Any, field: str) -> Any:
    def validate(value: str) -> str:
        try:
            return str(fn(value, field=field))
        except DomainError as exc:
            raise custom_error(exc.code, exc.message, **exc.params) from None

    return validate


def _gtin(value: str) -> str:
    from medledger.identifiers.checkdigit import normalise_gtin

    return str(_as_pydantic(normalise_gtin, "gtin")(value))


def _gln(value: str) -> str:
    from medledger.identifiers.checkdigit import validate_gln

    return str(_as_pydantic(validate_gln, "gln")(value))


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _country(value: str) -> str:
    value = value.upper()
    if len(value) != 2 or not value.isascii() or not value.isalpha():
        raise custom_error(
            "country.invalid",
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
            "time_zone.unknown",
            "Unknown time zone {value}; use an IANA name such as {example}.",
            value=value,
            example="Asia/Shanghai",
        )
    try:
        ZoneInfo(value)
    except ZoneInfoNotFoundError:  # pragma: no cover - available_timezones said it exists
        raise custom_error("time_zone.unknown", "Unknown time zone {value}.", value=value) from None
    return value


GTIN = Annotated[str, BeforeValidator(_strip), AfterValidator(_gtin)]
GLN = Annotated[str, BeforeValidator(_strip), AfterValidator(_gln)]
CountryCode = Annotated[str, BeforeValidator(_strip), AfterValidator(_country)]
TimeZoneName = Annotated[str, BeforeValidator(_strip), AfterValidator(_time_zone)]
Text = Annotated[str, BeforeValidator(_strip)]
