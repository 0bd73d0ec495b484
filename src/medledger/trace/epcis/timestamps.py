"""EPCIS timestamps: strict RFC 3339 parsing, UTC conversion and hash formatting."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Final

_TIMESTAMP: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)
_OFFSET: Final = re.compile(r"[+-](\d{2}):(\d{2})")


@dataclass(frozen=True)
class ParsedTimestamp:
    """A timestamp split into a whole-second UTC instant and its decimal fraction digits."""

    whole_seconds_utc: datetime
    fraction: str

    def to_utc(self) -> datetime:
        """The instant as an aware UTC datetime (sub-microsecond digits truncated)."""
        micros = int((self.fraction + "000000")[:6])
        return self.whole_seconds_utc + timedelta(microseconds=micros)

    def hash_form(self) -> str:
        """``YYYY-MM-DDThh:mm:ss.sssZ`` in UTC, rounded half-up at the fourth decimal.

        This is the CBV 2.0 event-hash rule: milliseconds are always written, and a fourth
        fractional digit of 5-9 rounds the milliseconds up.
        """
        digits = self.fraction + "000"
        millis = int(digits[:3])
        if len(self.fraction) > 3 and int(self.fraction[3]) >= 5:
            millis += 1
        instant = self.whole_seconds_utc + timedelta(milliseconds=millis)
        return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


def parse_timestamp(value: str) -> ParsedTimestamp:
    """Parse an EPCIS ``dateTimeStamp`` (RFC 3339, with ``Z`` or a ``±hh:mm`` offset).

    Raises ``ValueError`` when the text is not a valid timestamp with a time zone.
    """
    if isinstance(value, str):
        # Validation, normalisation and hashing each parse every timestamp, and the events
        # of a document share theirs: parse each distinct text once (results are immutable).
        return _parse_timestamp(value)
    return _parse_timestamp_uncached(value)


@lru_cache(maxsize=1 << 14)
def _parse_timestamp(value: str) -> ParsedTimestamp:
    return _parse_timestamp_uncached(value)


def _parse_timestamp_uncached(value: str) -> ParsedTimestamp:
    match = _TIMESTAMP.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{value!r} is not an RFC 3339 date-time with a time zone")
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    if match.group(8):
        zone = UTC
    else:
        sign = 1 if match.group(9) == "+" else -1
        offset_hours, offset_minutes = int(match.group(10)), int(match.group(11))
        if offset_hours > 23 or offset_minutes > 59:
            raise ValueError(f"{value!r} has an invalid time-zone offset")
        zone = timezone(sign * timedelta(hours=offset_hours, minutes=offset_minutes))
    leap = second == 60
    try:
        local = datetime(year, month, day, hour, minute, 59 if leap else second, tzinfo=zone)
    except ValueError as error:
        raise ValueError(f"{value!r} is not a valid date-time: {error}") from None
    instant = local.astimezone(UTC)
    if leap:
        instant += timedelta(seconds=1)
    return ParsedTimestamp(whole_seconds_utc=instant, fraction=match.group(7) or "")


def is_timestamp(value: object) -> bool:
    """True if ``value`` is a string holding a valid RFC 3339 date-time with a time zone."""
    if not isinstance(value, str):
        return True  # the schema's "type" keyword reports non-strings
    try:
        parse_timestamp(value)
    except ValueError:
        return False
    return True


def to_utc(value: str) -> datetime:
    """Parse an EPCIS timestamp into an aware UTC datetime (microsecond precision)."""
    return parse_timestamp(value).to_utc()


def hash_timestamp(value: str) -> str:
    """The CBV 2.0 event-hash form of a timestamp (UTC, milliseconds, ``Z``)."""
    return parse_timestamp(value).hash_form()


def is_time_zone_offset(value: str) -> bool:
    """True for an EPCIS ``eventTimeZoneOffset`` such as ``+02:00`` or ``-06:00``."""
    match = _OFFSET.fullmatch(value)
    return match is not None and int(match.group(1)) <= 14 and int(match.group(2)) <= 59
