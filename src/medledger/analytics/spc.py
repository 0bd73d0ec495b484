"""Statistical process control (pure: no ORM, no web).

Control charts:

* **individuals (I-MR)** — one value per point (one lot): centre ``x̄``, sigma estimated from
  the mean moving range ``MR̄ / d2`` (``d2 = 1.128`` for ranges of two), limits
  ``x̄ ± 3σ``;
* **X̄-R** — subgroups of 2–10 values per point: centre ``x̿``, sigma ``R̄ / d2(n)``, limits
  ``x̿ ± A2(n)·R̄`` for the means and ``D3(n)·R̄ … D4(n)·R̄`` for the ranges (the constants of
  ASTM E2587 / Montgomery). Subgroups of unequal size use the most common size's constants.

Run rules on the plotted points (σ is the chart's sigma of a plotted point: ``σ`` for
individuals, ``A2·R̄/3`` for means). A rule fires at the point that completes its pattern, and
that point is flagged — the usual reading of the Western Electric handbook (1956) and Nelson
(1984):

1. one point beyond 3σ;
2. two of three consecutive points beyond 2σ on the same side (the completing point is beyond);
3. four of five consecutive points beyond 1σ on the same side (the completing point is beyond);
4. eight consecutive points on the same side of the centre;
5. six consecutive points steadily increasing or decreasing (Nelson 3);
6. fourteen consecutive points alternating up and down (Nelson 4);
7. fifteen consecutive points within 1σ of the centre (Nelson 7);
8. eight consecutive points beyond 1σ on either side (Nelson 8).

Rules 1–4 are the Western Electric rules, on by default; 5–8 are Nelson's additions.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

WESTERN_ELECTRIC = (1, 2, 3, 4)
NELSON = (1, 2, 3, 4, 5, 6, 7, 8)
D2_INDIVIDUALS = 1.128
# n: (A2, D3, D4, d2)
XBAR_R = {
    2: (1.880, 0.0, 3.267, 1.128),
    3: (1.023, 0.0, 2.574, 1.693),
    4: (0.729, 0.0, 2.282, 2.059),
    5: (0.577, 0.0, 2.114, 2.326),
    6: (0.483, 0.0, 2.004, 2.534),
    7: (0.419, 0.076, 1.924, 2.704),
    8: (0.373, 0.136, 1.864, 2.847),
    9: (0.337, 0.184, 1.816, 2.970),
    10: (0.308, 0.223, 1.777, 3.078),
}


@dataclass(frozen=True)
class Limits:
    centre: float
    sigma: float  # of one plotted point
    lower: float
    upper: float


@dataclass
class Chart:
    kind: str  # individuals | xbar_r
    values: list[float]  # the plotted points (values, or subgroup means)
    limits: Limits
    ranges: list[float] = field(default_factory=list)  # moving ranges or subgroup ranges
    range_limits: Limits | None = None
    signals: dict[int, list[int]] = field(default_factory=dict)  # point → rules that fired

    @property
    def flagged(self) -> list[int]:
        return sorted(self.signals)


def individuals_limits(values: Sequence[float]) -> tuple[Limits, list[float], Limits]:
    """Limits of an individuals chart and of its moving-range chart (needs 2+ values)."""
    if len(values) < 2:
        raise ValueError("an individuals chart needs at least two values")
    centre = sum(values) / len(values)
    moving = [abs(b - a) for a, b in itertools.pairwise(values)]
    mr_bar = sum(moving) / len(moving)
    sigma = mr_bar / D2_INDIVIDUALS
    limits = Limits(centre, sigma, centre - 3 * sigma, centre + 3 * sigma)
    range_limits = Limits(mr_bar, mr_bar / D2_INDIVIDUALS, 0.0, 3.267 * mr_bar)
    return limits, moving, range_limits


def xbar_r_limits(
    subgroups: Sequence[Sequence[float]],
) -> tuple[list[float], Limits, list[float], Limits]:
    """Means, limits of the X̄ chart, ranges and limits of the R chart (subgroups of 2–10)."""
    usable = [list(g) for g in subgroups if len(g) >= 2]
    if len(usable) < 2:
        raise ValueError("an X̄-R chart needs at least two subgroups of two or more values")
    size = Counter(min(len(g), 10) for g in usable).most_common(1)[0][0]
    a2, d3, d4, _d2 = XBAR_R[size]
    means = [sum(g) / len(g) for g in usable]
    ranges = [max(g) - min(g) for g in usable]
    grand = sum(means) / len(means)
    r_bar = sum(ranges) / len(ranges)
    sigma = a2 * r_bar / 3
    limits = Limits(grand, sigma, grand - a2 * r_bar, grand + a2 * r_bar)
    range_limits = Limits(r_bar, (d4 - 1) * r_bar / 3 if d4 > 1 else 0.0, d3 * r_bar, d4 * r_bar)
    return means, limits, ranges, range_limits


def _zone(value: float, limits: Limits) -> float:
    """Signed distance from the centre in sigmas."""
    if limits.sigma == 0:
        return 0.0 if value == limits.centre else (1e9 if value > limits.centre else -1e9)
    return (value - limits.centre) / limits.sigma


def run_rules(
    values: Sequence[float], limits: Limits, rules: Sequence[int] = WESTERN_ELECTRIC
) -> dict[int, list[int]]:
    """Index of each point that completes a rule → the rules it completes."""
    z = [_zone(v, limits) for v in values]
    signals: dict[int, list[int]] = {}

    def flag(i: int, rule: int) -> None:
        signals.setdefault(i, [])
        if rule not in signals[i]:
            signals[i].append(rule)

    for i in range(len(z)):
        if 1 in rules and abs(z[i]) > 3:
            flag(i, 1)
        for rule, window, need, beyond in ((2, 3, 2, 2.0), (3, 5, 4, 1.0)):
            if rule not in rules or i < window - 1:
                continue
            recent = z[i - window + 1 : i + 1]
            for side in (1, -1):
                if side * z[i] > beyond and sum(1 for x in recent if side * x > beyond) >= need:
                    flag(i, rule)
        if 4 in rules and i >= 7:
            recent = z[i - 7 : i + 1]
            if all(x > 0 for x in recent) or all(x < 0 for x in recent):
                flag(i, 4)
        if 5 in rules and i >= 5:
            steps = [b - a for a, b in zip(values[i - 5 : i], values[i - 4 : i + 1], strict=True)]
            if all(s > 0 for s in steps) or all(s < 0 for s in steps):
                flag(i, 5)
        if 6 in rules and i >= 13:
            steps = [b - a for a, b in zip(values[i - 13 : i], values[i - 12 : i + 1], strict=True)]
            if all(s != 0 for s in steps) and all(
                (a > 0) != (b > 0) for a, b in itertools.pairwise(steps)
            ):
                flag(i, 6)
        if 7 in rules and i >= 14 and all(abs(x) < 1 for x in z[i - 14 : i + 1]):
            flag(i, 7)
        if 8 in rules and i >= 7 and all(abs(x) > 1 for x in z[i - 7 : i + 1]):
            flag(i, 8)
    return {i: sorted(r) for i, r in sorted(signals.items())}


def individuals_chart(values: Sequence[float], rules: Sequence[int] = WESTERN_ELECTRIC) -> Chart:
    limits, moving, range_limits = individuals_limits(values)
    chart = Chart("individuals", list(values), limits, moving, range_limits)
    chart.signals = run_rules(values, limits, rules)
    return chart


def xbar_r_chart(
    subgroups: Sequence[Sequence[float]], rules: Sequence[int] = WESTERN_ELECTRIC
) -> Chart:
    means, limits, ranges, range_limits = xbar_r_limits(subgroups)
    chart = Chart("xbar_r", means, limits, ranges, range_limits)
    chart.signals = run_rules(means, limits, rules)
    return chart
