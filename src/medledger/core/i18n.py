"""Languages and time zones.

Catalogues are gettext ``.po`` files under ``medledger/locale/<locale>/LC_MESSAGES/messages.po``
(English msgids; Simplified Chinese shipped as ``zh_Hans``). They are compiled in memory with
Babel at first use, so a fresh checkout needs no build step. Error ``code``s never go through
translation; only their human messages do.

Times are stored in UTC and rendered in the user's IANA zone; dates and times are formatted by
Babel following the user's locale.
"""

from __future__ import annotations

import io
from datetime import date, datetime
from functools import lru_cache
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

SUPPORTED_LOCALES = ("en", "zh_Hans")
DEFAULT_LOCALE = "en"
LOCALE_NAMES = {"en": "English", "zh_Hans": "简体中文"}


@lru_cache(maxsize=8)
def translations(locale: str) -> NullTranslations:
    """The compiled catalogue for ``locale`` (English is the msgid language itself)."""
    if locale == DEFAULT_LOCALE or locale not in SUPPORTED_LOCALES:
        return NullTranslations()
    po_path = resources.files("medledger") / "locale" / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.is_file():
        return NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def gettext(locale: str, message: str) -> str:
    return translations(locale).gettext(message)


def ngettext(locale: str, singular: str, plural: str, n: int) -> str:
    return translations(locale).ngettext(singular, plural, n)


def translate(locale: str, message: str, params: dict[str, Any] | None = None) -> str:
    """Translate an English msgid and fill its ``{placeholders}``."""
    text = gettext(locale, message)
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def _match(tag: str) -> str | None:
    tag = tag.strip().replace("-", "_").lower()
    if not tag:
        return None
    if tag.startswith("zh"):
        # zh, zh_CN, zh_Hans, zh_SG → Simplified; Traditional variants fall back to English.
        if any(part in tag for part in ("hant", "_tw", "_hk", "_mo")):
            return None
        return "zh_Hans"
    if tag.startswith("en"):
        return "en"
    return None


def negotiate_locale(user_locale: str | None, accept_language: str | None) -> str:
    """The user's own choice first, else the best match of the browser's languages, else English."""
    if user_locale in SUPPORTED_LOCALES:
        return str(user_locale)
    if accept_language:
        weighted: list[tuple[float, int, str]] = []
        for index, part in enumerate(accept_language.split(",")):
            pieces = part.split(";")
            quality = 1.0
            for piece in pieces[1:]:
                if piece.strip().startswith("q="):
                    try:
                        quality = float(piece.strip()[2:])
                    except ValueError:
                        quality = 0.0
            weighted.append((-quality, index, pieces[0]))
        for _q, _i, tag in sorted(weighted):
            matched = _match(tag)
            if matched:
                return matched
    return DEFAULT_LOCALE


def babel_locale(locale: str) -> Locale:
    return Locale.parse("zh_Hans_CN" if locale == "zh_Hans" else "en_US")


def format_time(value: datetime | None, locale: str, time_zone: str, fmt: str = "medium") -> str:
    """A UTC instant shown in the user's zone, formatted for the user's locale, with the zone."""
    if value is None:
        return ""
    zone = ZoneInfo(time_zone)
    local = value.astimezone(zone)
    text = format_datetime(local, format=fmt, tzinfo=zone, locale=babel_locale(locale))
    # The UTC offset makes the shown time unambiguous for partners in other zones.
    offset = format_datetime(local, "ZZZZZ", tzinfo=zone, locale=babel_locale(locale))
    return f"{text} {offset}"


def format_day(value: date | None, locale: str, fmt: str = "medium") -> str:
    if value is None:
        return ""
    return format_date(value, format=fmt, locale=babel_locale(locale))
