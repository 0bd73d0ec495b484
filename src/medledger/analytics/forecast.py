"""Demand forecasting (no ORM, no web): monthly demand of one product in one region.

Method (``statsmodels`` exponential smoothing, chosen by the length of the history):

* 24 months or more: Holt-Winters — additive damped trend, additive yearly seasonality (12);
* 6 to 23 months: Holt — additive damped trend, no seasonality;
* 2 to 5 months: simple exponential smoothing;
* fewer: the last value (naive).

Parameters are fitted by maximum likelihood (``initialization_method="estimated"``); forecasts
are clipped at zero. The backtest holds out the last ``holdout`` months (6 by default; fewer
for short histories), fits the same method on the months before, forecasts the held-out ones
and reports the mean absolute percentage error (MAPE, over the months with demand) next to the
MAPE of the naive forecast (the last month before the hold-out, repeated).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

SEASON = 12


@dataclass(frozen=True)
class Backtest:
    holdout: int
    actual: list[float]
    predicted: list[float]
    naive: list[float]
    mape: float | None
    naive_mape: float | None
    rmse: float | None


@dataclass(frozen=True)
class Forecast:
    method: str  # holt_winters | holt | simple | naive
    history: list[float]
    values: list[float]  # the next ``horizon`` months
    backtest: Backtest | None


def method_for(length: int) -> str:
    if length >= 2 * SEASON:
        return "holt_winters"
    if length >= 6:
        return "holt"
    if length >= 2:
        return "simple"
    return "naive"


def predict(series: Sequence[float], horizon: int, method: str | None = None) -> list[float]:
    """The next ``horizon`` values of ``series`` by ``method`` (by default the one its length
    calls for)."""
    history = [float(x) for x in series]
    method = method or method_for(len(history))
    if not history:
        return [0.0] * horizon
    if method == "naive" or len(set(history)) == 1:
        return [max(0.0, history[-1])] * horizon
    from statsmodels.tsa.holtwinters import ExponentialSmoothing, SimpleExpSmoothing

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on short series
        if method == "holt_winters":
            model = ExponentialSmoothing(
                history,
                trend="add",
                damped_trend=True,
                seasonal="add",
                seasonal_periods=SEASON,
                initialization_method="estimated",
            ).fit()
        elif method == "holt":
            model = ExponentialSmoothing(
                history, trend="add", damped_trend=True, initialization_method="estimated"
            ).fit()
        else:
            model = SimpleExpSmoothing(history, initialization_method="estimated").fit()
        values = [float(x) for x in model.forecast(horizon)]
    return [max(0.0, x) if math.isfinite(x) else max(0.0, history[-1]) for x in values]


def mape(actual: Sequence[float], predicted: Sequence[float]) -> float | None:
    """Mean absolute percentage error over the points with non-zero actual demand."""
    pairs = [(a, p) for a, p in zip(actual, predicted, strict=True) if a != 0]
    if not pairs:
        return None
    return round(100 * sum(abs(a - p) / abs(a) for a, p in pairs) / len(pairs), 2)


def backtest(series: Sequence[float], holdout: int = 6) -> Backtest | None:
    """Fit on all but the last ``holdout`` values, forecast them, compare (None if too short)."""
    history = [float(x) for x in series]
    holdout = min(holdout, len(history) // 3)
    if holdout < 1 or len(history) - holdout < 2:
        return None
    train, actual = history[:-holdout], history[-holdout:]
    predicted = predict(train, holdout)
    naive = [train[-1]] * holdout
    rmse = math.sqrt(sum((a - p) ** 2 for a, p in zip(actual, predicted, strict=True)) / holdout)
    return Backtest(
        holdout,
        actual,
        [round(x, 2) for x in predicted],
        naive,
        mape(actual, predicted),
        mape(actual, naive),
        round(rmse, 3),
    )


def forecast(series: Sequence[float], horizon: int = 3, holdout: int = 6) -> Forecast:
    """The forecast of the next ``horizon`` months and its backtest."""
    history = [float(x) for x in series]
    values = predict(history, horizon)
    return Forecast(
        method_for(len(history)), history, [round(x, 2) for x in values], backtest(history, holdout)
    )
