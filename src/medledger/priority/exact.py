"""The exact solver: a polymatroid greedy, then one min-cost flow on a compressed network;
branch and bound for ship-complete lines. docs/priority.md has the full argument.

**Stage 1 (priority-weighted units).** The vectors of line fills that some allocation achieves
form a polymatroid (the feasible demands of a transportation network), and a linear function
with non-negative weights is maximised over a polymatroid by the greedy in weight order. So
lines are taken in priority order, each filled FEFO and then by *unbounded* augmenting paths
(:func:`solve_greedy` with ``max_depth=None``); a class with no augmenting path stays saturated
for good, so it is skipped afterwards. The optimum depends only on the order of the priorities,
and fixes how many units every priority *level* gets.

**Stage 2 (FEFO, then lane cost).** Products share no lots, so every optimum also gives each
(product, level) *bucket* the same units. With the bucket totals fixed, one OR-Tools min-cost
flow minimises ``Σ x·((expiry − as_of)·K + lane_cost)``, ``K`` larger than any possible
difference in total lane cost so the expiry-days term is strictly first. Buckets served in full
become demands at their class nodes; partly served ones get a node with capacity = their units.

**The network.** Instead of one arc per eligible (lot, line) pair, each (product, site, region)
group of lots is a *chain* sorted by expiry, with arcs from later to earlier lots; a class of
lines (same product, region and shelf-life need) hangs off the chain at its first eligible lot
and so reaches exactly the lots it may use. Arcs: lots × lanes + chain + classes × sites +
lines, instead of lines × eligible lots. Flows are decomposed back into (line, lot) pairs.

**Ship-complete lines** break the polymatroid structure. Branch and bound: solve the relaxation
(ship-complete ignored); a ship-complete line filled partly is branched on — forced full (it is
filled first, and the branch is infeasible unless it ends full) or forced empty. Lexicographic
bounds prune; beyond ``node_limit`` nodes the solver gives up (:class:`SolverUnavailable`), and
``auto`` falls back to the greedy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from medledger.priority.eligibility import Eligibility
from medledger.priority.errors import N_, SolverUnavailable
from medledger.priority.greedy import Allocation, solve_greedy
from medledger.priority.instance import AllocationInstance, IntArray

COST_LIMIT = 2**62
SOURCE, SINK = 0, 1


@dataclass(frozen=True)
class Objective:
    """The three levels of the objective, compared lexicographically."""

    weighted_units: float
    expiry_days: int
    lane_cost: int

    def better_than(self, other: Objective) -> bool:
        scale = max(1.0, abs(self.weighted_units), abs(other.weighted_units))
        if abs(self.weighted_units - other.weighted_units) > 1e-12 * scale:
            return self.weighted_units > other.weighted_units
        return (self.expiry_days, self.lane_cost) < (other.expiry_days, other.lane_cost)


def objective_of(instance: AllocationInstance, allocation: Allocation) -> Objective:
    """The objective of an allocation, from its pairs (used by every solver and the tests)."""
    filled = allocation.units_per_line(instance.n_lines)
    weighted = math.fsum((instance.line_priority * filled).tolist())
    expiry_days = int(
        np.sum(allocation.quantity * (instance.lot_expiry[allocation.lot] - instance.as_of))
    )
    lane_cost = 0
    for line, lot, units in zip(
        allocation.line.tolist(), allocation.lot.tolist(), allocation.quantity.tolist(), strict=True
    ):
        site = int(instance.lot_site[lot])
        lane_cost += units * instance.lanes[site, int(instance.line_region[line])].cost
    return Objective(weighted, expiry_days, lane_cost)


class _Network:
    """The arcs shared by both stages (source → lots → chains → classes), built once."""

    def __init__(self, instance: AllocationInstance, eligibility: Eligibility) -> None:
        self.instance = instance
        self.eligibility = eligibility
        groups = eligibility.groups
        pooled = np.unique(np.concatenate([g.lots for g in groups])) if groups else np.zeros(0)
        self.pooled = pooled.astype(np.int64)
        self.lot_node = np.full(instance.n_lots, -1, dtype=np.int64)
        self.lot_node[self.pooled] = 2 + np.arange(len(self.pooled))
        next_node = 2 + len(self.pooled)
        self.chain_base: list[int] = []
        for group in groups:
            self.chain_base.append(next_node)
            next_node += len(group.lots)
        # Which classes hang off which chain position.
        self.class_node = np.full(len(eligibility.class_product), -1, dtype=np.int64)
        attach_group: list[int] = []
        attach_position: list[int] = []
        attach_class: list[int] = []
        for class_no, group_nos in enumerate(eligibility.class_groups):
            shelf = int(eligibility.class_shelf[class_no])
            for group_no in group_nos:
                group = groups[group_no]
                position = int(np.searchsorted(group.slack, shelf, side="left"))
                if position < len(group.lots):
                    if self.class_node[class_no] < 0:
                        self.class_node[class_no] = next_node
                        next_node += 1
                    attach_group.append(group_no)
                    attach_position.append(position)
                    attach_class.append(class_no)
        self.n_core_nodes = next_node
        self.attach_group = np.asarray(attach_group, dtype=np.int64)
        self.attach_position = np.asarray(attach_position, dtype=np.int64)
        self.attach_class = np.asarray(attach_class, dtype=np.int64)

        supply = int(instance.lot_quantity[self.pooled].sum()) if len(self.pooled) else 0
        self.total_supply = supply
        infinite = max(supply, 1)
        tails: list[IntArray] = [np.full(len(self.pooled), SOURCE, dtype=np.int64)]
        heads: list[IntArray] = [self.lot_node[self.pooled]]
        capacity: list[IntArray] = [instance.lot_quantity[self.pooled]]
        stage2_cost: list[IntArray] = [np.zeros(len(self.pooled), dtype=np.int64)]
        # Lot arcs: each lot into each of its chains (stage-2 cost set in _stage2).
        self.lot_arc_start = len(self.pooled)
        lot_arc_lot: list[IntArray] = []
        lot_arc_group: list[IntArray] = []
        for group_no, group in enumerate(groups):
            n = len(group.lots)
            tails.append(self.lot_node[group.lots])
            heads.append(self.chain_base[group_no] + np.arange(n, dtype=np.int64))
            capacity.append(instance.lot_quantity[group.lots])
            lot_arc_lot.append(group.lots)
            lot_arc_group.append(np.full(n, group_no, dtype=np.int64))
        self.lot_arc_lot = np.concatenate(lot_arc_lot) if lot_arc_lot else np.zeros(0, np.int64)
        self.lot_arc_group = (
            np.concatenate(lot_arc_group) if lot_arc_group else np.zeros(0, np.int64)
        )
        group_cost = np.asarray([g.cost for g in groups], dtype=np.int64)
        self.lot_arc_days = np.maximum(
            instance.lot_expiry[self.lot_arc_lot] - instance.as_of, 0
        ).astype(np.int64)
        self.lot_arc_lane_cost = (
            group_cost[self.lot_arc_group] if len(groups) else np.zeros(0, np.int64)
        )
        stage2_cost.append(np.zeros(len(self.lot_arc_lot), dtype=np.int64))  # placeholder
        # Chain arcs: position j+1 → j.
        for group_no, group in enumerate(groups):
            n = len(group.lots)
            if n > 1:
                base = self.chain_base[group_no]
                tails.append(base + np.arange(1, n, dtype=np.int64))
                heads.append(base + np.arange(0, n - 1, dtype=np.int64))
                capacity.append(np.full(n - 1, infinite, dtype=np.int64))
                stage2_cost.append(np.zeros(n - 1, dtype=np.int64))
        # Attach arcs: chain position → class.
        self.attach_arc_start = int(sum(len(t) for t in tails))
        chain_base = np.asarray(self.chain_base, dtype=np.int64)
        if len(self.attach_group):
            tails.append(chain_base[self.attach_group] + self.attach_position)
            heads.append(self.class_node[self.attach_class])
            capacity.append(np.full(len(self.attach_group), infinite, dtype=np.int64))
            stage2_cost.append(np.zeros(len(self.attach_group), dtype=np.int64))
        self.tails = np.concatenate(tails)
        self.heads = np.concatenate(heads)
        self.capacity = np.concatenate(capacity)
        self.n_core_arcs = len(self.tails)

    def lot_arc_range(self) -> slice:
        return slice(self.lot_arc_start, self.lot_arc_start + len(self.lot_arc_lot))


@dataclass
class _Relaxation:
    fills: IntArray
    allocation: Allocation
    objective: Objective


def _solve(
    network: _Network,
    extra_tails: IntArray,
    extra_heads: IntArray,
    extra_capacity: IntArray,
    extra_cost: IntArray,
    core_cost: IntArray,
    supply: int,
    demand_nodes: IntArray,
    demand: IntArray,
) -> IntArray:
    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(
        np.concatenate([network.tails, extra_tails]),
        np.concatenate([network.heads, extra_heads]),
        np.concatenate([network.capacity, extra_capacity]),
        np.concatenate([core_cost, extra_cost]),
    )
    solver.set_node_supply(SOURCE, supply)
    solver.set_node_supply(SINK, -(supply - int(demand.sum())))
    if len(demand_nodes):
        solver.set_nodes_supplies(demand_nodes, -demand)
    status = solver.solve()
    if status != solver.OPTIMAL:
        raise SolverUnavailable(
            N_("min-cost flow ended with status {status}"), params={"status": str(status)}
        )
    return np.asarray(solver.flows(np.arange(solver.num_arcs())), dtype=np.int64)


def _relax(network: _Network, active: IntArray, forced: frozenset[int]) -> _Relaxation | None:
    """Lexicographic optimum over ``active`` lines (ship-complete ignored), forced lines full."""
    instance, eligibility = network.instance, network.eligibility
    classes = eligibility.line_class[active]
    keep = network.class_node[classes] >= 0
    lines = active[keep]
    class_nodes = network.class_node[eligibility.line_class[lines]]
    quantity = instance.line_quantity[lines]
    priority = instance.line_priority[lines]
    levels, rank = np.unique(priority, return_inverse=True)
    rank = rank.reshape(-1).astype(np.int64) + 1
    is_forced = np.fromiter((int(i) in forced for i in lines), dtype=np.bool_, count=len(lines))
    rank[is_forced] = len(levels) + 1  # forced lines form one level above every other
    if (~keep).any() and any(int(i) in forced for i in active[~keep]):
        return None  # a forced line no stock can reach
    n_nodes = network.n_core_nodes
    zeros_core = np.zeros(network.n_core_arcs, dtype=np.int64)

    # Stage 1: the polymatroid greedy — lines in rank order (forced first), each filled FEFO
    # and then by unbounded augmenting paths; its fills are optimal for the first level.
    order = lines[np.lexsort((lines, -rank))]
    stage1 = solve_greedy(instance, eligibility, order=order, relaxed=True, max_depth=None)
    fills1 = stage1.units_per_line(instance.n_lines)[lines]
    if (fills1[is_forced] < quantity[is_forced]).any():
        return None
    # Products share no lots, so the fill function is a sum over products and every optimum
    # gives each (product, level) *bucket* the same units: fixing those (rather than whole
    # levels) keeps the same optimal face and cuts stage 2 into independent pieces.
    bucket_key = instance.line_product[lines] * (len(levels) + 2) + rank
    _, bucket = np.unique(bucket_key, return_inverse=True)
    bucket = bucket.reshape(-1).astype(np.int64)
    n_buckets = int(bucket.max()) + 1 if len(bucket) else 0
    level_units = np.bincount(bucket, weights=fills1, minlength=n_buckets).astype(np.int64)

    # Stage 2: FEFO then lane cost, with each bucket's units fixed.
    total = int(level_units.sum())
    max_lane = int(network.lot_arc_lane_cost.max()) if len(network.lot_arc_lane_cost) else 0
    max_days = int(network.lot_arc_days.max()) if len(network.lot_arc_days) else 0
    weight = total * max_lane + 1
    if total * (max_days * weight + max_lane) >= COST_LIMIT:
        raise SolverUnavailable(
            N_("the FEFO and lane-cost levels do not fit 64-bit costs ({units} units)"),
            params={"units": total},
        )
    core_cost = zeros_core.copy()
    core_cost[network.lot_arc_range()] = network.lot_arc_days * weight + network.lot_arc_lane_cost
    # A level served in full pins each of its lines to its quantity: a demand at the class
    # node instead of an arc (most levels are full, so the network shrinks a lot). Only
    # partly served levels keep one node with an arc per line and capacity g_j to the sink.
    level_demand = np.bincount(bucket, weights=quantity, minlength=len(level_units))
    partial = (level_units > 0) & (level_units < level_demand.astype(np.int64))
    fixed = (level_units[bucket] > 0) & ~partial[bucket]
    used_levels = np.flatnonzero(partial)
    level_node = np.full(len(level_units), -1, dtype=np.int64)
    level_node[used_levels] = n_nodes + np.arange(len(used_levels))
    serving = level_node[bucket] >= 0
    fixed_nodes, fixed_units = np.unique(class_nodes[fixed], return_inverse=True)
    fixed_demand = np.bincount(
        fixed_units.reshape(-1), weights=quantity[fixed], minlength=len(fixed_nodes)
    ).astype(np.int64)
    flows = _solve(
        network,
        np.concatenate([class_nodes[serving], level_node[used_levels]]),
        np.concatenate([level_node[bucket[serving]], np.full(len(used_levels), SINK)]),
        np.concatenate([quantity[serving], level_units[used_levels]]),
        np.zeros(int(serving.sum()) + len(used_levels), dtype=np.int64),
        core_cost,
        total,
        fixed_nodes,
        fixed_demand,
    )
    fills = np.zeros(instance.n_lines, dtype=np.int64)
    served_lines = np.concatenate([lines[fixed], lines[serving]])
    line_flows = np.concatenate(
        [quantity[fixed], flows[network.n_core_arcs : network.n_core_arcs + int(serving.sum())]]
    )
    fills[served_lines] = line_flows
    allocation = _decompose(network, flows, served_lines, line_flows)
    return _Relaxation(fills, allocation, objective_of(instance, allocation))


def _decompose(
    network: _Network, flows: IntArray, lines: IntArray, line_flows: IntArray
) -> Allocation:
    """(line, lot) pairs from arc flows: per chain, then per class."""
    instance, eligibility = network.instance, network.eligibility
    lot_flows = flows[network.lot_arc_range()].tolist()
    attach_flows = flows[
        network.attach_arc_start : network.attach_arc_start + len(network.attach_group)
    ]
    # Per class: the pieces (lot, units) flowing in, gathered chain by chain.
    pieces: dict[int, list[tuple[int, int, int]]] = {}  # class -> [(expiry, lot, units)]
    attach_by_group: dict[int, list[tuple[int, int, int]]] = {}
    for position, class_no, group_no, units in zip(
        network.attach_position.tolist(),
        network.attach_class.tolist(),
        network.attach_group.tolist(),
        attach_flows.tolist(),
        strict=True,
    ):
        if units:
            attach_by_group.setdefault(group_no, []).append((position, class_no, units))
    arc = 0
    expiry = instance.lot_expiry
    for group_no, group in enumerate(eligibility.groups):
        n = len(group.lots)
        attached = sorted(attach_by_group.get(group_no, []), reverse=True)
        lots = group.lots.tolist()
        stack: list[list[int]] = []  # [lot, units left]; top = earliest expiry pushed so far
        cursor = 0
        for position in range(n - 1, -1, -1):
            units = lot_flows[arc + position]
            if units:
                stack.append([lots[position], units])
            while cursor < len(attached) and attached[cursor][0] == position:
                _, class_no, need = attached[cursor]
                cursor += 1
                while need:
                    top = stack[-1]
                    moved = min(need, top[1])
                    pieces.setdefault(class_no, []).append((int(expiry[top[0]]), top[0], moved))
                    top[1] -= moved
                    need -= moved
                    if top[1] == 0:
                        stack.pop()
        arc += n
    # Per class: lines by (priority descending, input order) take pieces in FEFO order.
    by_class: dict[int, list[tuple[float, int, int]]] = {}
    classes = eligibility.line_class[lines].tolist()
    priorities = instance.line_priority[lines].tolist()
    for line, class_no, priority, units in zip(
        lines.tolist(), classes, priorities, line_flows.tolist(), strict=True
    ):
        if units:
            by_class.setdefault(class_no, []).append((-priority, line, units))
    pairs: dict[tuple[int, int], int] = {}
    for class_no, wanting in by_class.items():
        supply = sorted(pieces.get(class_no, []))
        wanting.sort()
        index = 0
        left = supply[0][2] if supply else 0
        for _, line, units in wanting:
            while units:
                moved = min(units, left)
                lot = supply[index][1]
                pairs[line, lot] = pairs.get((line, lot), 0) + moved
                units -= moved
                left -= moved
                if left == 0 and index + 1 < len(supply):
                    index += 1
                    left = supply[index][2]
    return Allocation.from_pairs("exact", pairs)


def solve_exact(
    instance: AllocationInstance,
    eligibility: Eligibility,
    *,
    node_limit: int = 64,
    max_partial: int | None = None,
) -> Allocation:
    """The lexicographic optimum of the spec's objective (see the module docstring).

    Raises :class:`SolverUnavailable` beyond ``node_limit`` branch-and-bound nodes, or at once
    when the root relaxation serves more than ``max_partial`` ship-complete lines in part (each
    node is a full solve, so ``auto`` does not start a search it is unlikely to finish).
    """
    network = _Network(instance, eligibility)
    base = np.flatnonzero((instance.line_priority > 0) & (instance.line_quantity > 0))
    ship_complete = instance.line_ship_complete

    best: _Relaxation | None = None
    nodes = 0
    stack: list[tuple[frozenset[int], frozenset[int]]] = [(frozenset(), frozenset())]
    while stack:
        forced, banned = stack.pop()
        nodes += 1
        if nodes > node_limit:
            raise SolverUnavailable(
                N_("ship-complete lines need more than {limit} branch-and-bound nodes"),
                params={"limit": node_limit},
            )
        active = base[np.fromiter((int(i) not in banned for i in base), bool, len(base))]
        relaxed = _relax(network, active, forced)
        if relaxed is None:
            continue
        if best is not None and not relaxed.objective.better_than(best.objective):
            continue
        fills = relaxed.fills
        partial = np.flatnonzero(ship_complete & (fills > 0) & (fills < instance.line_quantity))
        if len(partial) == 0:
            best = relaxed
            continue
        if nodes == 1 and max_partial is not None and len(partial) > max_partial:
            raise SolverUnavailable(
                N_("{count} ship-complete lines are served in part (more than {limit})"),
                params={"count": len(partial), "limit": max_partial},
            )
        # Branch on the highest-priority partial line; explore "full" first (pushed last).
        order = np.lexsort((partial, -instance.line_priority[partial]))
        line = int(partial[order[0]])
        stack.append((forced, banned | {line}))
        stack.append((forced | {line}, banned))
    if best is None:  # pragma: no cover - the all-banned leaf is always feasible
        raise SolverUnavailable(N_("no feasible allocation found"))
    return best.allocation
