"""Solver choice: ``auto`` keeps the exact solver on a short leash for ship-complete lines."""

from __future__ import annotations

from typing import Any

import pytest

from medledger.priority.allocate import allocate_instance
from medledger.priority.eligibility import build_eligibility
from medledger.priority.errors import SolverUnavailable
from medledger.priority.exact import objective_of, solve_exact
from medledger.priority.instance import parse_instance


def competing_ship_complete(products: int) -> dict[str, Any]:
    """Per product one lot of 10 and two ship-complete lines of 6 (priorities 5 and 4)."""
    gtins = [f"0400000000{n:04d}" for n in range(products)]
    return {
        "as_of": "2026-11-21",
        "products": [
            {"gtin": gtin, "storage": "ambient", "authorized_regions": ["DE"]} for gtin in gtins
        ],
        "sites": [{"id": "DC", "storage": ["ambient"]}],
        "lanes": [{"site": "DC", "region": "DE", "transit_days": 1, "cold_chain": False}],
        "lots": [
            {
                "id": f"L{n}",
                "gtin": gtin,
                "lot": f"X{n}",
                "site": "DC",
                "quantity": 10,
                "expiry": "2027-06-30",
                "status": "released",
            }
            for n, gtin in enumerate(gtins)
        ],
        "lines": [
            {
                "id": f"{name}{n}",
                "gtin": gtin,
                "quantity": 6,
                "region": "DE",
                "min_shelf_life_days": 0,
                "priority": priority,
                "ship_complete": True,
            }
            for n, gtin in enumerate(gtins)
            for name, priority in (("A", 5), ("B", 4))
        ],
    }


def test_auto_skips_the_search_when_many_ship_complete_lines_are_split() -> None:
    # Given five products whose relaxation splits a ship-complete line each
    instance = parse_instance(competing_ship_complete(5))
    eligibility = build_eligibility(instance)
    # When the exact solver runs with auto's leash, then it gives up at the root
    with pytest.raises(SolverUnavailable) as raised:
        solve_exact(instance, eligibility, node_limit=16, max_partial=4)
    assert raised.value.params == {"count": 5, "limit": 4}
    # And auto answers with the greedy: every A line full, every B line empty
    result = allocate_instance(instance, "auto")
    assert result.allocation.solver == "greedy"
    assert result.allocation.units_per_line(10).tolist() == [6, 0] * 5
    assert objective_of(instance, result.allocation).weighted_units == 150.0


def test_auto_uses_the_exact_solver_when_its_search_is_short() -> None:
    instance = parse_instance(competing_ship_complete(2))
    result = allocate_instance(instance, "auto")
    assert result.allocation.solver == "exact"
    assert result.allocation.units_per_line(4).tolist() == [6, 0, 6, 0]
    assert result.reasons == [[], ["outranked", "ship_complete_unmet"]] * 2
