"""Sort keys that follow the reader's language, for the columns of a list.

Python's ``sorted`` compares code points: "CVC insertion kit" lands before "Calibrator", and
Chinese names fall in Unicode order, which nobody reads by. A list sorts text by
:func:`text_key` instead:

* every language: case and accents are ignored first (``casefold`` + NFKD without combining
  marks), the original text breaks ties, so the order is stable and complete;
* Simplified Chinese: Han characters are read as their Hanyu Pinyin (``pypinyin``), so
  "北京" sorts under B next to "Boston", as a Chinese reader expects (tones break ties).
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from pypinyin import Style, lazy_pinyin


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _has_han(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text)


@lru_cache(maxsize=4096)
def text_key(locale: str, text: str) -> tuple[str, str, str]:
    """The sort key of ``text`` for readers of ``locale``."""
    if locale.startswith("zh") and _has_han(text):
        plain = " ".join(lazy_pinyin(text, style=Style.NORMAL))
        toned = " ".join(lazy_pinyin(text, style=Style.TONE3))
        return _fold(plain), _fold(toned), text
    folded = _fold(text)
    return folded, folded, text


def value_key(locale: str, value: Any) -> tuple[int, Any]:
    """A key that sorts ``value`` of one column: blanks last, numbers and times by value,
    text by :func:`text_key`."""
    if value is None or value == "":
        return (2, "")
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, int | float | Decimal):
        return (0, value)
    if isinstance(value, datetime):
        return (0, value.timestamp())
    if isinstance(value, date):
        return (0, value.toordinal())
    if isinstance(value, list | tuple):
        return (1, tuple(text_key(locale, str(v)) for v in value))
    return (1, text_key(locale, str(value)))
