"""Reorder point and safety stock from demand history (pure; see docs/inventory.md).

* daily demand ``d_t``: units shipped from the site on day ``t`` over the history window
  (days without shipments count as 0);
* ``mean`` = average daily demand, ``sigma`` = its standard deviation (population);
* safety stock ``SS = ceil(z · sigma · sqrt(L))`` for lead time ``L`` days and service factor
  ``z`` (1.645 ≈ 95 % cycle service level) — the demand variability over the lead time;
* reorder point ``ROP = ceil(mean · L) + SS``;
* a suggestion is due when the inventory position (on hand at the site, in any status but
  rejected/recalled, plus what open purchase orders still bring) is at or below ``ROP``; it
  orders up to ``ROP + mean · L`` (one lead time of cover above the reorder point), at least
  the setting's minimum order quantity. Without any demand in the window nothing is due.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class ReorderLevels:
    mean_daily_demand: float
    sigma_daily_demand: float
    safety_stock: int
    reorder_point: int


def reorder_levels(
    daily_shipped: Mapping[date, int],
    *,
    as_of: date,
    history_days: int,
    lead_time_days: int,
    z: float,
) -> ReorderLevels:
    """Levels from the units shipped per day in the ``history_days`` before ``as_of``."""
    days = [as_of - timedelta(days=n) for n in range(1, history_days + 1)]
    series = [daily_shipped.get(day, 0) for day in days]
    mean = sum(series) / len(series) if series else 0.0
    variance = sum((x - mean) ** 2 for x in series) / len(series) if series else 0.0
    sigma = math.sqrt(variance)
    safety = math.ceil(round(z * sigma * math.sqrt(lead_time_days), 9))
    reorder = math.ceil(round(mean * lead_time_days, 9)) + safety
    return ReorderLevels(mean, sigma, safety, reorder)


def levels_from_rate(mean: float, sigma: float, *, lead_time_days: int, z: float) -> ReorderLevels:
    """Levels from a forecast daily demand (mean and standard deviation), same formulas."""
    safety = math.ceil(round(z * sigma * math.sqrt(lead_time_days), 9))
    reorder = math.ceil(round(mean * lead_time_days, 9)) + safety
    return ReorderLevels(mean, sigma, safety, reorder)


def suggested_quantity(
    levels: ReorderLevels, position: int, lead_time_days: int, minimum: int
) -> int:
    """How much to order now (0: nothing is due, or no demand at all)."""
    if levels.reorder_point == 0 or position > levels.reorder_point:
        return 0
    target = levels.reorder_point + math.ceil(round(levels.mean_daily_demand * lead_time_days, 9))
    return max(target - position, minimum, 1)
