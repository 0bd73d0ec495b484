"""Verdicts of inspection results: pure functions over a characteristic and its readings.

A numeric characteristic passes when every reading lies within its limits (inclusive; a
missing limit is open); an attribute passes when every observation equals the expected value
(trimmed, case-insensitive). A characteristic needs exactly ``sample_size`` readings. The
inspection passes when every characteristic passes, fails when every characteristic has its
readings and one fails, and is undecided otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from medledger.quality.errors import Code

PASS = "pass"
FAIL = "fail"


def N_(message: str) -> str:
    """Mark a message for extraction (translated where it is shown)."""
    return message


@dataclass(frozen=True)
class ReadingError(Exception):
    code: str
    message: str
    params: dict[str, Any]


def judge(characteristic: dict[str, Any], values: Sequence[Any]) -> tuple[list[Any], str]:
    """The readings (normalised) and the characteristic's verdict; ReadingError if unusable."""
    name = characteristic["name"]
    size = int(characteristic.get("sample_size") or 1)
    if len(values) != size:
        raise ReadingError(
            Code.INSPECTION_SAMPLE_SIZE,
            N_("{name} needs {size} readings; {count} given."),
            {"name": name, "size": size, "count": len(values)},
        )
    if characteristic["kind"] == "numeric":
        numbers: list[float] = []
        for value in values:
            if isinstance(value, bool) or not isinstance(value, int | float):
                try:
                    value = float(str(value).strip().replace(",", "."))
                except ValueError:
                    raise ReadingError(
                        Code.INSPECTION_NOT_A_NUMBER,
                        N_("{name}: {value} is not a number."),
                        {"name": name, "value": str(value)[:40]},
                    ) from None
            if value != value or value in (float("inf"), float("-inf")):
                raise ReadingError(
                    Code.INSPECTION_NOT_A_NUMBER,
                    N_("{name}: {value} is not a number."),
                    {"name": name, "value": str(value)},
                )
            numbers.append(float(value))
        lower, upper = characteristic.get("lower"), characteristic.get("upper")
        ok = all(
            (lower is None or n >= float(lower)) and (upper is None or n <= float(upper))
            for n in numbers
        )
        return numbers, PASS if ok else FAIL
    observed = [str(v).strip()[:80] for v in values]
    expected = str(characteristic.get("expected") or "").strip().casefold()
    ok = all(o.casefold() == expected for o in observed)
    return observed, PASS if ok else FAIL


def overall(characteristics: Sequence[dict[str, Any]], results: dict[str, Any]) -> str | None:
    """``pass`` / ``fail`` once every characteristic has readings, else None."""
    verdicts = [results.get(c["name"], {}).get("verdict") for c in characteristics]
    if not verdicts or any(v is None for v in verdicts):
        return None
    return PASS if all(v == PASS for v in verdicts) else FAIL
