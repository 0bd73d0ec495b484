"""SPC: limits against textbook constants, and run rules flagging exactly the points a
reference implementation written here — window by window, from the rule texts — flags."""

from __future__ import annotations

import random

import pytest

from medledger.analytics.spc import (
    NELSON,
    Limits,
    individuals_chart,
    run_rules,
    xbar_r_chart,
)


def reference_flags(values: list[float], centre: float, sigma: float) -> dict[int, set[int]]:
    """The eight rules as written in the Western Electric handbook and Nelson (1984), checked
    by brute force: for each point, does a window ending at it show the pattern?"""
    flags: dict[int, set[int]] = {}
    n = len(values)

    def above(k: int, s: float) -> bool:
        return values[k] > centre + s * sigma

    def below(k: int, s: float) -> bool:
        return values[k] < centre - s * sigma

    for i in range(n):
        found = set()
        if above(i, 3) or below(i, 3):
            found.add(1)
        if i >= 2:
            window = range(i - 2, i + 1)
            if above(i, 2) and sum(above(k, 2) for k in window) >= 2:
                found.add(2)
            if below(i, 2) and sum(below(k, 2) for k in window) >= 2:
                found.add(2)
        if i >= 4:
            window = range(i - 4, i + 1)
            if above(i, 1) and sum(above(k, 1) for k in window) >= 4:
                found.add(3)
            if below(i, 1) and sum(below(k, 1) for k in window) >= 4:
                found.add(3)
        if i >= 7:
            window = range(i - 7, i + 1)
            if all(values[k] > centre for k in window) or all(values[k] < centre for k in window):
                found.add(4)
            if all(above(k, 1) or below(k, 1) for k in window):
                found.add(8)
        if i >= 5:
            window = range(i - 5, i + 1)
            rising = all(values[k] < values[k + 1] for k in list(window)[:-1])
            falling = all(values[k] > values[k + 1] for k in list(window)[:-1])
            if rising or falling:
                found.add(5)
        if i >= 13:
            ups = [values[k + 1] - values[k] for k in range(i - 13, i)]
            if all(d != 0 for d in ups) and all(
                (ups[j] > 0) != (ups[j + 1] > 0) for j in range(len(ups) - 1)
            ):
                found.add(6)
        if i >= 14 and all(abs(values[k] - centre) < sigma for k in range(i - 14, i + 1)):
            found.add(7)
        if found:
            flags[i] = found
    return flags


def test_individuals_limits_use_the_mean_moving_range() -> None:
    values = [10.0, 12.0, 11.0, 13.0, 12.0]
    chart = individuals_chart(values)
    mr_bar = (2 + 1 + 2 + 1) / 4
    assert chart.limits.centre == pytest.approx(11.6)
    assert chart.limits.sigma == pytest.approx(mr_bar / 1.128)
    assert chart.limits.upper == pytest.approx(11.6 + 3 * mr_bar / 1.128)
    assert chart.range_limits is not None
    assert chart.range_limits.upper == pytest.approx(3.267 * mr_bar)


def test_xbar_r_limits_use_the_subgroup_constants() -> None:
    groups = [
        [10.0, 11.0, 12.0, 10.0, 11.0],
        [11.0, 12.0, 13.0, 11.0, 12.0],
        [9.0, 10.0, 9.0, 10.0, 11.0],
    ]
    chart = xbar_r_chart(groups)
    means = [10.8, 11.8, 9.8]
    r_bar = (2 + 2 + 2) / 3
    assert chart.values == pytest.approx(means)
    assert chart.limits.centre == pytest.approx(sum(means) / 3)
    assert chart.limits.upper == pytest.approx(sum(means) / 3 + 0.577 * r_bar)
    assert chart.range_limits is not None
    assert (chart.range_limits.lower, chart.range_limits.upper) == pytest.approx((0, 2.114 * r_bar))


def test_a_shift_a_spike_and_a_trend_are_flagged_where_the_rules_say() -> None:
    limits = Limits(centre=0.0, sigma=1.0, lower=-3.0, upper=3.0)
    values = [0.2, -0.3, 0.1, 3.5, 0.0, 2.2, 2.4, -0.1, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2]
    signals = run_rules(values, limits, NELSON)
    assert signals[3] == [1]  # the spike beyond 3σ
    assert 2 in signals[6]  # two of three beyond 2σ
    assert signals == {i: sorted(r) for i, r in reference_flags(values, 0.0, 1.0).items()}


@pytest.mark.parametrize("seed", range(40))
def test_rules_flag_exactly_what_the_reference_flags(seed: int) -> None:
    rng = random.Random(seed)
    values: list[float] = []
    for k in range(120):
        drift = 1.5 if 40 <= k < 55 else (-0.03 * (k - 80) if 80 <= k < 95 else 0.0)
        values.append(round(rng.gauss(drift, 1.0), 3))
        if k % 37 == 0:
            values[-1] += rng.choice((-4.0, 4.0))
        if 100 <= k < 116:
            values[-1] = round((1 if k % 2 else -1) * abs(rng.gauss(0.8, 0.3)), 3)
    chart = individuals_chart(values, NELSON)
    expected = reference_flags(values, chart.limits.centre, chart.limits.sigma)
    assert chart.signals == {i: sorted(r) for i, r in expected.items()}
    assert chart.signals  # the planted patterns fire
