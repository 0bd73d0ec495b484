"""The fast path: lines by priority, each served first-expiry-first-out.

Lines with a positive priority are taken in order of (priority descending, input order); each
takes stock from its class's eligible lots in FEFO order (expiry, lane cost, lot input order)
until it is full or they are exhausted. A ship-complete line takes stock only if its eligible
lots still hold its whole quantity. Lines of priority 0 add nothing to the objective and are not
served (see docs/priority.md). Exhausted lots are skipped with a per-class "next live candidate"
pointer (union–find with path halving), so a pass costs about one step per unit taken.

With ``augment=True`` (the default), a line left short tries to free stock by re-routing
earlier lines to other lots they may use (a bounded augmenting-path search, see
:func:`_augment`): no line's fill drops, and most of what the plain pass's blocking choices
cost comes back. With ``max_depth=None`` the search is unbounded and the fills are optimal for
the first level of the objective (the exact solver's stage 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from medledger.priority.eligibility import Eligibility
from medledger.priority.instance import AllocationInstance, IntArray


@dataclass(frozen=True)
class Allocation:
    """Assignments as parallel arrays, one entry per (line, lot) pair with a positive quantity."""

    solver: str
    line: IntArray
    lot: IntArray
    quantity: IntArray

    def units_per_line(self, n_lines: int) -> IntArray:
        return np.bincount(self.line, self.quantity, minlength=n_lines).astype(np.int64)

    def units_per_lot(self, n_lots: int) -> IntArray:
        return np.bincount(self.lot, self.quantity, minlength=n_lots).astype(np.int64)

    @staticmethod
    def from_pairs(solver: str, pairs: dict[tuple[int, int], int]) -> Allocation:
        items = sorted((key, qty) for key, qty in pairs.items() if qty > 0)
        return Allocation(
            solver=solver,
            line=np.array([key[0] for key, _ in items], dtype=np.int64),
            lot=np.array([key[1] for key, _ in items], dtype=np.int64),
            quantity=np.array([qty for _, qty in items], dtype=np.int64),
        )


def priority_order(instance: AllocationInstance) -> IntArray:
    """Lines with a positive priority, by priority descending, then input order."""
    positive = np.flatnonzero(instance.line_priority > 0)
    order = np.lexsort((positive, -instance.line_priority[positive]))
    return positive[order]


def solve_greedy(
    instance: AllocationInstance,
    eligibility: Eligibility,
    *,
    augment: bool = True,
    max_depth: int | None = 2,
    order: IntArray | None = None,
    relaxed: bool = False,
) -> Allocation:
    """Serve lines in priority order, FEFO; optionally repair shortfalls by re-routing.

    ``order`` replaces the priority order (the exact solver's stage 1 puts forced lines first
    and leaves banned ones out). ``relaxed`` ignores ship-complete; with ``max_depth=None`` the
    repair search is unbounded, which makes the fills optimal for the priority-weighted units
    (see docs/priority.md, "Why greedy plus full repair is exact for the first level").
    """
    remaining: list[int] = instance.lot_quantity.tolist()
    line_quantity: list[int] = instance.line_quantity.tolist()
    ship_complete: list[bool] = (
        [False] * instance.n_lines if relaxed else instance.line_ship_complete.tolist()
    )
    line_class: list[int] = eligibility.line_class.tolist()
    candidates: dict[int, list[int]] = {}
    successor: dict[int, list[int]] = {}  # per class: next live candidate position (union-find)
    pairs: dict[tuple[int, int], int] = {}
    holders: dict[int, dict[int, int]] = {}  # lot -> {line: units}, for augmenting paths
    saturated: set[int] = set()  # classes whose last repair search found nothing

    def class_list(class_no: int) -> list[int]:
        found = candidates.get(class_no)
        if found is None:
            lots, _ = eligibility.class_candidates(class_no)
            found = lots.tolist()
            candidates[class_no] = found
            successor[class_no] = list(range(len(found) + 1))
        return found

    def live(class_no: int, position: int) -> int:
        """First candidate at or after ``position`` with stock left (or the end sentinel)."""
        parent = successor[class_no]
        lots = candidates[class_no]
        at = position
        while True:
            while parent[at] != at:
                parent[at] = parent[parent[at]]
                at = parent[at]
            if at < len(lots) and remaining[lots[at]] == 0:
                parent[at] = at + 1  # exhausted for good: a repair path never nets stock back
                continue
            return at

    def take(line: int, lot: int, units: int) -> None:
        remaining[lot] -= units
        pairs[line, lot] = pairs.get((line, lot), 0) + units
        holders.setdefault(lot, {})
        holders[lot][line] = holders[lot].get(line, 0) + units

    sequence = priority_order(instance) if order is None else order
    for line in sequence.tolist():
        need = line_quantity[line]
        if need == 0:
            continue
        class_no = line_class[line]
        lots = class_list(class_no)
        if ship_complete[line]:
            available = 0
            position = live(class_no, 0)
            while position < len(lots) and available < need:
                available += remaining[lots[position]]
                position = live(class_no, position + 1)
            if available < need:
                continue
        position = live(class_no, 0)
        while need and position < len(lots):
            lot = lots[position]
            units = min(need, remaining[lot])
            take(line, lot, units)
            need -= units
            position = live(class_no, position + 1)
        repairable = augment and not ship_complete[line] and class_no not in saturated
        if need and repairable:
            won = _augment(
                line,
                need,
                lots,
                class_list,
                line_class,
                ship_complete,
                remaining,
                holders,
                pairs,
                take,
                max_depth,
            )
            if won < need:
                # No augmenting path: the lines reachable from this class hold all the stock
                # they can reach, and keep holding it, so the class stays saturated for good.
                saturated.add(class_no)

    return Allocation.from_pairs("greedy", pairs)


def _augment(
    line: int,
    need: int,
    lots: list[int],
    class_list: Callable[[int], list[int]],
    line_class: list[int],
    ship_complete: list[bool],
    remaining: list[int],
    holders: dict[int, dict[int, int]],
    pairs: dict[tuple[int, int], int],
    take: Callable[[int, int, int], None],
    max_depth: int | None,
) -> int:
    """Re-route stock of earlier lines to free eligible stock for ``line``; returns units won.

    Breadth-first over lot → holder line → the holder's other eligible lots, at most
    ``max_depth`` holder hops, each holder class expanded once per search; the first lot with
    free stock ends a path, which is applied along its whole length (every holder keeps its
    fill). Ship-complete holders are not re-routed. Repeats while paths are found.
    """
    won = 0
    while need:
        start = [lot for lot in lots if remaining[lot] == 0]
        if not start:
            return won
        parent: dict[int, tuple[int, int] | None] = dict.fromkeys(start)
        expanded: set[int] = set()
        frontier = start
        found_lot = -1
        depth = 0
        while max_depth is None or depth < max_depth:
            depth += 1
            next_frontier: list[int] = []
            for lot in frontier:
                for holder in holders.get(lot, {}):
                    holder_class = line_class[holder]
                    if holder == line or ship_complete[holder] or holder_class in expanded:
                        continue
                    expanded.add(holder_class)
                    for other in class_list(holder_class):
                        if other in parent:
                            continue
                        parent[other] = (lot, holder)
                        if remaining[other] > 0:
                            found_lot = other
                            break
                        next_frontier.append(other)
                    if found_lot >= 0:
                        break
                if found_lot >= 0:
                    break
            if found_lot >= 0 or not next_frontier:
                break
            frontier = next_frontier
        if found_lot < 0:
            return won
        path: list[tuple[int, int, int]] = []  # (from_lot, holder, to_lot), last hop first
        cursor = found_lot
        step = parent[cursor]
        while step is not None:
            from_lot, holder = step
            path.append((from_lot, holder, cursor))
            cursor = from_lot
            step = parent[cursor]
        units = min(need, remaining[found_lot])
        for from_lot, holder, _ in path:
            units = min(units, holders[from_lot][holder])
        for from_lot, holder, to_lot in path:
            held = holders[from_lot]
            held[holder] -= units
            if held[holder] == 0:
                del held[holder]
            pairs[holder, from_lot] -= units
            remaining[from_lot] += units
            take(holder, to_lot, units)
        take(line, path[-1][0], units)
        need -= units
        won += units
    return won
