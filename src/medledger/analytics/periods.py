"""Months and periods the analytics pages are filtered by (UTC calendar months)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from medledger.analytics.errors import Code, invalid

MAX_MONTHS = 36
MIN_YEAR, MAX_YEAR = 1970, 2999


def month_of(day: date | datetime) -> str:
    """``YYYY-MM`` of a day or of a UTC time."""
    if isinstance(day, datetime):
        day = day.astimezone(UTC).date()
    return f"{day.year:04d}-{day.month:02d}"


def first_day(month: str) -> date:
    year, number = month.split("-")
    return date(int(year), int(number), 1)


def next_month(month: str) -> str:
    day = first_day(month)
    return month_of(date(day.year + (day.month == 12), day.month % 12 + 1, 1))


def add_months(month: str, count: int) -> str:
    day = first_day(month)
    index = day.year * 12 + day.month - 1 + count
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_start(month: str) -> datetime:
    """The first instant of ``month`` (UTC)."""
    return datetime.combine(first_day(month), time(), tzinfo=UTC)


def month_end(month: str) -> datetime:
    """The first instant after ``month`` (UTC): times before it fall in or before the month."""
    return datetime.combine(first_day(next_month(month)), time(), tzinfo=UTC)


@dataclass(frozen=True)
class Period:
    """An inclusive range of days, and the calendar months it touches."""

    start: date
    end: date

    @property
    def months(self) -> list[str]:
        months = [month_of(self.start)]
        while months[-1] != month_of(self.end):
            months.append(next_month(months[-1]))
        return months

    @property
    def start_time(self) -> datetime:
        return datetime.combine(self.start, time(), tzinfo=UTC)

    @property
    def end_time(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.end + timedelta(days=1), time(), tzinfo=UTC)

    def contains(self, value: date | datetime | None) -> bool:
        if value is None:
            return False
        if isinstance(value, datetime):
            return self.start_time <= value < self.end_time
        return self.start <= value <= self.end


def period(start: date | None, end: date | None, today: date, *, months: int = 6) -> Period:
    """The period from ``start`` to ``end`` (by default the last ``months`` calendar months up to
    ``today``); refuses an empty or overlong one."""
    end = end or today
    for field, day in (("date_from", start), ("date_to", end)):
        if day is not None and not MIN_YEAR <= day.year <= MAX_YEAR:
            raise invalid(
                Code.PERIOD_INVALID,
                "Choose days between the years {low} and {high}.",
                field,
                low=MIN_YEAR,
                high=MAX_YEAR,
            )
    start = start or first_day(add_months(month_of(end), -(months - 1)))
    if start > end:
        raise invalid(Code.PERIOD_INVALID, "The period ends before it starts.", "date_from")
    result = Period(start, end)
    if len(result.months) > MAX_MONTHS:
        raise invalid(
            Code.PERIOD_INVALID,
            "A period spans at most {max} months.",
            "date_from",
            max=MAX_MONTHS,
        )
    return result


def check_month(month: str, field: str = "month") -> str:
    """``month`` if it is a ``YYYY-MM`` month within the supported years."""
    try:
        year, number = month.split("-")
        if len(year) != 4 or len(number) != 2 or not 1 <= int(number) <= 12:
            raise ValueError(month)
        if not MIN_YEAR <= int(year) <= MAX_YEAR:
            raise ValueError(month)
    except ValueError:
        raise invalid(Code.PERIOD_INVALID, "A month is written YYYY-MM.", field) from None
    return month
