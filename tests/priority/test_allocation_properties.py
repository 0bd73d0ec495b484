"""Property tests of the allocation engine on random small instances (Hypothesis).

Every solver: no lot over-used, no ineligible stock used (checked pair by pair against the
spec's five rules), no line over-filled, ship-complete lines all or nothing. The exact solver
reaches the lexicographic optimum of an independent MILP (scipy/HiGHS over every eligible
pair) and is never worse than the greedy; results are deterministic; every short line carries
reasons and no full line does.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings

from medledger.priority.allocate import allocate_document
from medledger.priority.eligibility import build_eligibility, is_eligible
from medledger.priority.exact import objective_of, solve_exact
from medledger.priority.greedy import Allocation, solve_greedy
from medledger.priority.instance import AllocationInstance, parse_instance
from tests.priority.builders import instance_documents, milp_optimum

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_feasible(instance: AllocationInstance, allocation: Allocation) -> None:
    for line, lot, units in zip(
        allocation.line.tolist(), allocation.lot.tolist(), allocation.quantity.tolist(), strict=True
    ):
        assert units > 0
        assert is_eligible(instance, line, lot), (instance.line_ids[line], instance.lot_ids[lot])
    assert (allocation.units_per_lot(instance.n_lots) <= instance.lot_quantity).all()
    filled = allocation.units_per_line(instance.n_lines)
    assert (filled <= instance.line_quantity).all()
    complete = instance.line_ship_complete
    assert ((filled[complete] == 0) | (filled[complete] == instance.line_quantity[complete])).all()


@SETTINGS
@given(instance_documents())
def test_every_solver_allocates_only_eligible_stock_within_quantities(
    document: dict[str, Any],
) -> None:
    # Given a random instance
    instance = parse_instance(document)
    eligibility = build_eligibility(instance)
    # When each solver allocates it, then every allocation is feasible
    assert_feasible(instance, solve_exact(instance, eligibility))
    assert_feasible(instance, solve_greedy(instance, eligibility))
    assert_feasible(instance, solve_greedy(instance, eligibility, augment=False))


@SETTINGS
@given(instance_documents())
def test_exact_matches_the_milp_optimum_and_beats_the_greedy(document: dict[str, Any]) -> None:
    instance = parse_instance(document)
    eligibility = build_eligibility(instance)
    exact = objective_of(instance, solve_exact(instance, eligibility))
    optimum = milp_optimum(instance)
    assert abs(exact.weighted_units - optimum.weighted_units) <= 1e-6
    assert (exact.expiry_days, exact.lane_cost) == (optimum.expiry_days, optimum.lane_cost)
    for augment in (True, False):
        greedy = objective_of(instance, solve_greedy(instance, eligibility, augment=augment))
        assert exact.weighted_units >= greedy.weighted_units - 1e-9
        assert not greedy.better_than(exact)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instance_documents(max_lots=12, max_lines=14, ship_complete=False))
def test_exact_matches_the_milp_optimum_on_larger_instances(document: dict[str, Any]) -> None:
    instance = parse_instance(document)
    exact = objective_of(instance, solve_exact(instance, build_eligibility(instance)))
    optimum = milp_optimum(instance)
    assert abs(exact.weighted_units - optimum.weighted_units) <= 1e-6
    assert (exact.expiry_days, exact.lane_cost) == (optimum.expiry_days, optimum.lane_cost)


@SETTINGS
@given(instance_documents(incoming=True))
def test_results_are_deterministic_and_explain_every_shortfall(document: dict[str, Any]) -> None:
    for solver in ("exact", "greedy", "auto"):
        first = allocate_document(copy.deepcopy(document), solver)
        again = allocate_document(json.loads(json.dumps(document)), solver)
        assert json.dumps(first) == json.dumps(again)
        assert [line["id"] for line in first["lines"]] == [line["id"] for line in document["lines"]]
        for line, source in zip(first["lines"], document["lines"], strict=True):
            assert line["allocated"] + line["shortfall"] == source["quantity"]
            assert (line["shortfall"] > 0) == bool(line["reasons"])
            assert "promise_date" in line
            if line["shortfall"] == 0:
                assert line["promise_date"] is None
        units = sum(a["quantity"] for a in first["assignments"])
        assert first["objective"]["units"] == units
        assert first["objective"]["units"] == sum(line["allocated"] for line in first["lines"])


@SETTINGS
@given(instance_documents())
def test_unknown_fields_change_nothing(document: dict[str, Any]) -> None:
    # Given the same instance with extra fields the format does not know
    decorated = copy.deepcopy(document)
    decorated["comment"] = "ignored"
    for lot in decorated["lots"]:
        lot["warehouse_bin"] = "A-01"
    # Then the result is the same
    assert allocate_document(decorated) == allocate_document(document)


def test_objective_reports_priority_weighted_units() -> None:
    instance = parse_instance(
        {
            "as_of": "2026-11-21",
            "products": [{"gtin": "1", "storage": "ambient", "authorized_regions": ["US"]}],
            "sites": [{"id": "S", "storage": ["ambient"]}],
            "lanes": [{"site": "S", "region": "US", "transit_days": 1, "cold_chain": False}],
            "lots": [
                {
                    "id": "L",
                    "gtin": "1",
                    "lot": "A",
                    "site": "S",
                    "quantity": 5,
                    "expiry": "2027-01-01",
                    "status": "released",
                }
            ],
            "lines": [
                {
                    "id": "a",
                    "gtin": "1",
                    "quantity": 3,
                    "region": "US",
                    "min_shelf_life_days": 0,
                    "priority": 2.5,
                },
                {
                    "id": "b",
                    "gtin": "1",
                    "quantity": 4,
                    "region": "US",
                    "min_shelf_life_days": 0,
                    "priority": 1.0,
                },
            ],
        }
    )
    allocation = solve_exact(instance, build_eligibility(instance))
    assert allocation.units_per_line(2).tolist() == [3, 2]
    objective = objective_of(instance, allocation)
    assert objective.weighted_units == 9.5
    assert objective.expiry_days == 5 * (41)  # 2027-01-01 is 41 days after 2026-11-21
    assert objective.lane_cost == 0
    assert np.array_equal(allocation.quantity, [3, 2])
