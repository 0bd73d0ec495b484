"""Allocate an instance: choose the solver, solve, explain shortfalls, render the result."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from medledger.priority.eligibility import build_eligibility
from medledger.priority.errors import SolverUnavailable
from medledger.priority.exact import solve_exact
from medledger.priority.greedy import Allocation, solve_greedy
from medledger.priority.instance import AllocationInstance, parse_instance
from medledger.priority.shortfall import promise_dates, shortfall_reasons

SolverChoice = Literal["exact", "greedy", "auto"]
SOLVER_CHOICES: tuple[SolverChoice, ...] = ("exact", "greedy", "auto")
# ``auto`` tries the exact solver only where its ship-complete search is likely to be short.
AUTO_NODE_LIMIT = 16
AUTO_MAX_PARTIAL = 4


@dataclass(frozen=True)
class AllocationResult:
    instance: AllocationInstance
    allocation: Allocation
    reasons: list[list[str]]
    promise_dates: list[str | None]

    def to_json(self) -> dict[str, Any]:
        """The result document of the spec (``promise_date`` only if the instance has
        ``incoming``). Assignments are ordered by line, then lot, in input order."""
        instance, allocation = self.instance, self.allocation
        allocated = allocation.units_per_line(instance.n_lines).tolist()
        assignments = [
            {"line": instance.line_ids[line], "lot": instance.lot_ids[lot], "quantity": units}
            for line, lot, units in zip(
                allocation.line.tolist(),
                allocation.lot.tolist(),
                allocation.quantity.tolist(),
                strict=True,
            )
        ]
        lines: list[dict[str, Any]] = []
        quantities = instance.line_quantity.tolist()
        for line, line_id in enumerate(instance.line_ids):
            entry: dict[str, Any] = {
                "id": line_id,
                "allocated": allocated[line],
                "shortfall": quantities[line] - allocated[line],
                "reasons": self.reasons[line],
            }
            if instance.incoming is not None:
                entry["promise_date"] = self.promise_dates[line]
            lines.append(entry)
        weighted = math.fsum(
            (instance.line_priority * np.asarray(allocated, dtype=np.float64)).tolist()
        )
        return {
            "solver": allocation.solver,
            "assignments": assignments,
            "lines": lines,
            "objective": {"priority_weighted_units": weighted, "units": int(sum(allocated))},
        }


def allocate_instance(
    instance: AllocationInstance, solver: SolverChoice = "auto"
) -> AllocationResult:
    """Solve an instance with the chosen solver and explain every shortfall.

    ``exact`` raises :class:`SolverUnavailable` when the exact solver cannot finish (costs out
    of 64-bit range, or ship-complete lines needing more than 64 branch-and-bound nodes);
    ``auto`` uses the greedy instead, and already when the root relaxation serves more than
    4 ship-complete lines in part or the search passes 16 nodes.
    """
    eligibility = build_eligibility(instance)
    if solver == "greedy":
        allocation = solve_greedy(instance, eligibility)
    else:
        try:
            if solver == "exact":
                allocation = solve_exact(instance, eligibility)
            else:
                allocation = solve_exact(
                    instance, eligibility, node_limit=AUTO_NODE_LIMIT, max_partial=AUTO_MAX_PARTIAL
                )
        except SolverUnavailable:
            if solver == "exact":
                raise
            allocation = solve_greedy(instance, eligibility)
    return AllocationResult(
        instance=instance,
        allocation=allocation,
        reasons=shortfall_reasons(instance, eligibility, allocation),
        promise_dates=promise_dates(instance, eligibility, allocation),
    )


def allocate_document(document: Any, solver: SolverChoice = "auto") -> dict[str, Any]:
    """Parsed instance JSON in, result JSON out (the CLI's core)."""
    return allocate_instance(parse_instance(document), solver).to_json()
