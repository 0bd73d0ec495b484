"""Builders for allocation tests: random small instances (Hypothesis) and an independent
lexicographic MILP optimum (scipy/HiGHS) over the brute-force eligible pairs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from scipy.optimize import Bounds, LinearConstraint, milp

from medledger.priority.eligibility import is_eligible
from medledger.priority.instance import LOT_STATUSES, STORAGE_CLASSES, AllocationInstance

AS_OF = dt.date(2026, 11, 21)
REGIONS = ("US", "DE", "CN")


def day(offset: int) -> str:
    return (AS_OF + dt.timedelta(days=offset)).isoformat()


@st.composite
def instance_documents(
    draw: st.DrawFn,
    *,
    max_lots: int = 6,
    max_lines: int = 6,
    ship_complete: bool = True,
    incoming: bool = False,
) -> dict[str, Any]:
    """A small instance with every kind of constraint in play and real scarcity."""
    n_products = draw(st.integers(1, 2))
    products = [
        {
            "gtin": f"0950600013435{n}",
            "storage": draw(st.sampled_from(STORAGE_CLASSES)),
            "authorized_regions": draw(
                st.lists(st.sampled_from(REGIONS), min_size=1, max_size=3, unique=True)
            ),
        }
        for n in range(n_products)
    ]
    n_sites = draw(st.integers(1, 3))
    sites = [
        {
            "id": f"S{n}",
            "storage": draw(
                st.lists(st.sampled_from(STORAGE_CLASSES), min_size=1, max_size=3, unique=True)
            ),
        }
        for n in range(n_sites)
    ]
    lanes = []
    for site in sites:
        for region in REGIONS:
            if draw(st.booleans()) or draw(st.booleans()):
                lanes.append(
                    {
                        "site": site["id"],
                        "region": region,
                        "transit_days": draw(st.integers(0, 5)),
                        "cold_chain": draw(st.booleans()) or draw(st.booleans()),
                        "cost": draw(st.integers(0, 4)),
                    }
                )
    lots = [
        {
            "id": f"L{n}",
            "gtin": draw(st.sampled_from(products))["gtin"],
            "lot": f"A{n}",
            "site": draw(st.sampled_from(sites))["id"],
            "quantity": draw(st.integers(0, 12)),
            "expiry": day(draw(st.integers(-10, 400))),
            "status": draw(
                st.sampled_from(LOT_STATUSES)
                if draw(st.integers(0, 3)) == 0
                else st.just("released")
            ),
        }
        for n in range(draw(st.integers(0, max_lots)))
    ]
    lines = [
        {
            "id": f"SO-{n}/1",
            "gtin": draw(st.sampled_from(products))["gtin"],
            "quantity": draw(st.integers(0, 15)),
            "region": draw(st.sampled_from(REGIONS)),
            "min_shelf_life_days": draw(st.sampled_from((0, 30, 90, 180, 365))),
            "priority": draw(st.sampled_from((0.0, 1.0, 2.5, 3.0, 10.0, 87.5))),
            "ship_complete": ship_complete and draw(st.integers(0, 3)) == 0,
        }
        for n in range(draw(st.integers(0, max_lines)))
    ]
    document: dict[str, Any] = {
        "as_of": AS_OF.isoformat(),
        "products": products,
        "sites": sites,
        "lanes": lanes,
        "lots": lots,
        "lines": lines,
    }
    if incoming:
        document["incoming"] = [
            {
                "id": f"PO-{n}",
                "gtin": draw(st.sampled_from(products))["gtin"],
                "site": draw(st.sampled_from(sites))["id"],
                "quantity": draw(st.integers(1, 20)),
                "available": day(draw(st.integers(1, 60))),
            }
            for n in range(draw(st.integers(0, 3)))
        ]
    return document


@dataclass(frozen=True)
class LexOptimum:
    weighted_units: float
    expiry_days: int
    lane_cost: int


def milp_optimum(instance: AllocationInstance) -> LexOptimum:
    """The spec's lexicographic optimum by three MILPs over every eligible pair.

    Independent of the engine: pairs come from :func:`is_eligible` (the five rules one pair at
    a time), ship-complete lines get a binary ``z`` with ``Σ x = quantity · z``.
    """
    pairs = [
        (line, lot)
        for line in range(instance.n_lines)
        for lot in range(instance.n_lots)
        if is_eligible(instance, line, lot)
    ]
    complete = [i for i in range(instance.n_lines) if instance.line_ship_complete[i]]
    n_x, n_vars = len(pairs), len(pairs) + len(complete)
    if n_x == 0:
        return LexOptimum(0.0, 0, 0)
    rows: list[np.ndarray] = []
    upper: list[float] = []
    lower: list[float] = []
    for lot in range(instance.n_lots):
        row = np.zeros(n_vars)
        for n, (_, k) in enumerate(pairs):
            if k == lot:
                row[n] = 1
        rows.append(row)
        lower.append(-np.inf)
        upper.append(float(instance.lot_quantity[lot]))
    for line in range(instance.n_lines):
        row = np.zeros(n_vars)
        for n, (i, _) in enumerate(pairs):
            if i == line:
                row[n] = 1
        if line in complete:
            row[n_x + complete.index(line)] = -float(instance.line_quantity[line])
            rows.append(row)
            lower.append(0.0)
            upper.append(0.0)
        else:
            rows.append(row)
            lower.append(-np.inf)
            upper.append(float(instance.line_quantity[line]))
    weight = np.zeros(n_vars)
    days = np.zeros(n_vars)
    cost = np.zeros(n_vars)
    for n, (line, lot) in enumerate(pairs):
        weight[n] = instance.line_priority[line]
        days[n] = instance.lot_expiry[lot] - instance.as_of
        site = int(instance.lot_site[lot])
        cost[n] = instance.lanes[site, int(instance.line_region[line])].cost
    bounds = Bounds(
        np.zeros(n_vars), np.concatenate([np.full(n_x, np.inf), np.ones(len(complete))])
    )
    integrality = np.ones(n_vars)

    def solve(objective: np.ndarray) -> np.ndarray:
        result = milp(
            objective,
            constraints=LinearConstraint(np.array(rows), np.array(lower), np.array(upper)),
            bounds=bounds,
            integrality=integrality,
        )
        assert result.status == 0, result.message
        return np.round(result.x)

    x = solve(-weight)
    best_weight = float(weight @ x)
    rows.append(weight)
    lower.append(best_weight - 1e-6)
    upper.append(np.inf)
    x = solve(days)
    best_days = float(days @ x)
    rows.append(days)
    lower.append(-np.inf)
    upper.append(best_days + 1e-6)
    x = solve(cost)
    return LexOptimum(best_weight, round(best_days), round(float(cost @ x)))
