"""Demand forecast: on generated seasonal demand the backtest beats the naive last-value
forecast in MAPE; short histories fall back to simpler methods."""

from __future__ import annotations

import math
import random

import pytest

from medledger.analytics.forecast import backtest, forecast, mape, method_for


def seasonal_demand(seed: int, months: int = 48) -> list[float]:
    rng = random.Random(seed)
    return [
        round(200 + 1.5 * t + 60 * math.sin(2 * math.pi * t / 12) + rng.gauss(0, 8), 1)
        for t in range(months)
    ]


@pytest.mark.parametrize("seed", range(5))
def test_holt_winters_beats_the_naive_forecast_on_seasonal_demand(seed: int) -> None:
    series = seasonal_demand(seed)
    result = backtest(series, holdout=6)
    assert result is not None
    assert result.mape is not None and result.naive_mape is not None
    # stated in MAPE: the seasonal model's error is well under the naive one's
    assert result.mape < result.naive_mape
    assert result.mape < 10.0
    # and the MAPE is the one computed from the held-out months
    assert result.mape == pytest.approx(mape(result.actual, result.predicted), abs=0.01)
    assert result.naive == [series[-7]] * 6


def test_the_method_follows_the_history_length() -> None:
    assert [method_for(n) for n in (1, 3, 12, 24)] == ["naive", "simple", "holt", "holt_winters"]
    short = forecast([5.0, 7.0, 6.0], horizon=2)
    assert short.method == "simple" and len(short.values) == 2 and short.backtest is not None
    assert forecast([4.0], horizon=3).values == [4.0, 4.0, 4.0]
    flat = forecast([0.0] * 30)
    assert flat.values == [0.0, 0.0, 0.0] and flat.backtest is not None
    assert flat.backtest.mape is None  # no demand to be wrong about


def test_mape_ignores_months_without_demand() -> None:
    assert mape([0, 100, 50], [10, 90, 60]) == 15.0
    assert mape([0, 0], [1, 2]) is None
