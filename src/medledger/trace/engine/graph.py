"""The genealogy as a graph: CSR adjacency over dense node indices, walks and updates.

The genealogy of a tenant is held as two CSR adjacency structures (downstream: what an item
went into; upstream: what went into it) over dense node indices. A walk is a level-synchronous
breadth-first search vectorised with numpy, so a component lot reaching tens of thousands of
units costs a handful of array operations per level, not a Python loop per node; cycles (which
a faulty capture could create) are harmless because every node is visited once.

Three kinds of arcs are walked:

* ``transformation``: an input went into an output;
* ``aggregation``: a child was packed into a container (a serial into an SSCC);
* ``lot``: a lot "contains" its serials (``trace_items.lot_item_id``), so a lot reaches its
  serials downstream and a serial reaches its lot upstream.

Pure: numpy only, no ORM, no web.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]


class Direction(StrEnum):
    """Which way a trace walks."""

    UPSTREAM = "upstream"
    DOWNSTREAM = "downstream"
    BOTH = "both"


class ArcKind:
    """Arc kind codes stored in the adjacency arrays."""

    TRANSFORMATION = 0
    AGGREGATION = 1
    LOT = 2

    NAMES = ("transformation", "aggregation", "lot")

    @classmethod
    def code(cls, name: str) -> int:
        """The code of an edge kind name (``transformation`` or ``aggregation``)."""
        return cls.AGGREGATION if name == "aggregation" else cls.TRANSFORMATION


NO_EVENT = -1
NO_EDGE = -1


# --- the graph --------------------------------------------------------------------------


@dataclass(frozen=True)
class Adjacency:
    """CSR adjacency: the arcs of node ``i`` are ``indptr[i]:indptr[i+1]``."""

    indptr: IntArray
    neighbour: IntArray
    event_row_id: IntArray
    kind: NDArray[np.int8]
    edge_id: IntArray  # the genealogy_edges row of each arc; NO_EDGE for lot membership

    def sources(self) -> IntArray:
        """The source node of every arc (the CSR rows expanded)."""
        return np.repeat(np.arange(self.indptr.size - 1, dtype=np.int64), np.diff(self.indptr))


@dataclass(frozen=True)
class TraceGraph:
    """A tenant's genealogy (unretracted edges plus lot membership) as CSR arrays."""

    item_ids: IntArray  # sorted; node index i is item item_ids[i]
    down: Adjacency
    up: Adjacency

    @property
    def node_count(self) -> int:
        return int(self.item_ids.size)

    @property
    def arc_count(self) -> int:
        return int(self.down.neighbour.size)

    def index_of(self, item_id: int) -> int | None:
        """The node index of ``item_id``, or None if the graph does not know it."""
        position = int(np.searchsorted(self.item_ids, item_id))
        if position < self.item_ids.size and int(self.item_ids[position]) == item_id:
            return position
        return None


def _csr(
    node_count: int,
    source: IntArray,
    target: IntArray,
    event: IntArray,
    kind: NDArray[np.int8],
    edge: IntArray,
) -> Adjacency:
    # Stable sort: arcs already grouped by source (an updated snapshot) make it near-linear.
    order = np.argsort(source, kind="stable")
    counts = np.bincount(source, minlength=node_count)
    indptr = np.zeros(node_count + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return Adjacency(
        indptr=indptr,
        neighbour=target[order].astype(np.int64, copy=False),
        event_row_id=event[order].astype(np.int64, copy=False),
        kind=kind[order].astype(np.int8, copy=False),
        edge_id=edge[order].astype(np.int64, copy=False),
    )


def build_graph(
    item_ids: Iterable[int] | IntArray,
    edge_from: Iterable[int] | IntArray,
    edge_to: Iterable[int] | IntArray,
    edge_event_row_id: Iterable[int] | IntArray,
    edge_kind: Iterable[int] | NDArray[np.int8],
    lot_ids: Iterable[int] | IntArray = (),
    serial_ids: Iterable[int] | IntArray = (),
    edge_ids: Iterable[int] | IntArray | None = None,
) -> TraceGraph:
    """Build the graph from item ids, unretracted edges (``from`` went into ``to``, with the
    linking event row, an :class:`ArcKind` code and optionally the edge row id) and lot
    membership pairs (``lot_ids[k]`` is the lot of ``serial_ids[k]``). Arcs naming unknown
    items are dropped."""
    ids = np.unique(
        np.asarray(
            list(item_ids) if not isinstance(item_ids, np.ndarray) else item_ids, dtype=np.int64
        )
    )
    sources = [_as_int64(edge_from), _as_int64(lot_ids)]
    targets = [_as_int64(edge_to), _as_int64(serial_ids)]
    events = [_as_int64(edge_event_row_id), np.full(targets[1].size, NO_EVENT, dtype=np.int64)]
    kinds = [
        np.asarray(
            list(edge_kind) if not isinstance(edge_kind, np.ndarray) else edge_kind, dtype=np.int8
        ),
        np.full(targets[1].size, ArcKind.LOT, dtype=np.int8),
    ]
    edge_count = targets[0].size
    edges = _as_int64(edge_ids) if edge_ids is not None else np.full(edge_count, NO_EDGE, np.int64)
    source = np.concatenate(sources)
    target = np.concatenate(targets)
    event = np.concatenate(events)
    kind = np.concatenate(kinds)
    edge = np.concatenate([edges, np.full(targets[1].size, NO_EDGE, dtype=np.int64)])
    source_index, source_known = _lookup(ids, source)
    target_index, target_known = _lookup(ids, target)
    keep = source_known & target_known
    source_index, target_index = source_index[keep], target_index[keep]
    event, kind, edge = event[keep], kind[keep], edge[keep]
    return TraceGraph(
        item_ids=ids,
        down=_csr(ids.size, source_index, target_index, event, kind, edge),
        up=_csr(ids.size, target_index, source_index, event, kind, edge),
    )


@dataclass(frozen=True)
class GraphChanges:
    """What an incremental refresh changes in a graph (all in item ids, not node indices).

    ``edge_ids`` are edges read again (their arcs are dropped and, if still unretracted,
    re-added from ``edge_*``); ``serial_ids`` are items whose lot membership was read again
    (their lot arcs are dropped and re-added from ``lot_ids``/``member_ids``).
    """

    item_ids: IntArray  # every item the refresh read (new and changed)
    edge_ids: IntArray  # every edge the refresh read
    edge_from: IntArray  # unretracted edges among them …
    edge_to: IntArray
    edge_event_row_id: IntArray
    edge_kind: NDArray[np.int8]
    edge_row_id: IntArray
    serial_ids: IntArray  # every item whose lot membership was read
    lot_ids: IntArray  # … and the current memberships among them
    member_ids: IntArray
    # Both ends of every edge read (retracted ones too): where their old arcs are. Without
    # them, every arc is checked.
    read_from: IntArray | None = None
    read_to: IntArray | None = None


def update_graph(graph: TraceGraph, changes: GraphChanges) -> TraceGraph:
    """A new graph with ``changes`` applied; ``graph`` is left untouched (readers keep it).

    Usually (new items have ids above the known ones, ``read_from``/``read_to`` given) the
    few changed arcs are found through their rows and the CSR arrays are spliced: a handful of
    memory copies. Otherwise every arc is re-checked and the arrays re-sorted (still linear:
    surviving arcs stay grouped by source, so the stable sort merges only the new ones).
    """
    _, known = _lookup(graph.item_ids, changes.item_ids)
    added = np.unique(changes.item_ids[~known])
    remap = None
    if added.size == 0:
        ids = graph.item_ids
    elif graph.item_ids.size == 0 or added[0] > graph.item_ids[-1]:
        ids = np.concatenate([graph.item_ids, added])  # new ids above the old: indices stay
    else:
        ids = np.sort(np.concatenate([graph.item_ids, added]), kind="stable")
        remap = np.searchsorted(ids, graph.item_ids)
    if remap is None and changes.read_from is not None and changes.read_to is not None:
        return _spliced(graph, ids, changes)
    read_edges = np.unique(changes.edge_ids)
    read_serials = np.unique(changes.serial_ids)

    def rebuilt(adjacency: Adjacency, downstream: bool) -> Adjacency:
        source = adjacency.sources()
        target = adjacency.neighbour
        serial_end = target if downstream else source
        drop = None
        if read_edges.size:
            # Binary search of each arc's edge id among the few edges read again.
            drop = _lookup(read_edges, adjacency.edge_id)[1]
        if read_serials.size:
            lot_arcs = np.flatnonzero(adjacency.kind == ArcKind.LOT)
            relot = np.zeros(adjacency.neighbour.size, dtype=bool)
            relot[lot_arcs] = _lookup(read_serials, graph.item_ids[serial_end[lot_arcs]])[1]
            drop = relot if drop is None else drop | relot
        keep = ~drop if drop is not None else slice(None)
        source, target = source[keep], target[keep]
        event, kind, edge = (
            adjacency.event_row_id[keep],
            adjacency.kind[keep],
            adjacency.edge_id[keep],
        )
        if remap is not None:
            source, target = remap[source], remap[target]
        new_from = np.concatenate([changes.edge_from, changes.lot_ids])
        new_to = np.concatenate([changes.edge_to, changes.member_ids])
        new_event = np.concatenate(
            [changes.edge_event_row_id, np.full(changes.lot_ids.size, NO_EVENT, np.int64)]
        )
        new_kind = np.concatenate(
            [changes.edge_kind, np.full(changes.lot_ids.size, ArcKind.LOT, np.int8)]
        )
        new_edge = np.concatenate(
            [changes.edge_row_id, np.full(changes.lot_ids.size, NO_EDGE, np.int64)]
        )
        from_index, from_known = _lookup(ids, new_from)
        to_index, to_known = _lookup(ids, new_to)
        known = from_known & to_known
        from_index, to_index = from_index[known], to_index[known]
        if downstream:
            add_source, add_target = from_index, to_index
        else:
            add_source, add_target = to_index, from_index
        rebuilt_adjacency = _csr(
            ids.size,
            np.concatenate([source, add_source]),
            np.concatenate([target, add_target]),
            np.concatenate([event, new_event[known]]),
            np.concatenate([kind, new_kind[known]]),
            np.concatenate([edge, new_edge[known]]),
        )
        return _canonical_blocks(rebuilt_adjacency, np.unique(add_source))

    return TraceGraph(item_ids=ids, down=rebuilt(graph.down, True), up=rebuilt(graph.up, False))


def _arcs_of_rows(adjacency: Adjacency, rows: IntArray) -> tuple[IntArray, IntArray]:
    """Positions of every arc of the given node rows, and the row of each."""
    rows = np.unique(rows)
    starts = adjacency.indptr[rows]
    counts = adjacency.indptr[rows + 1] - starts
    total = int(counts.sum())
    offsets = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(total)
    return offsets, np.repeat(rows, counts)


def _new_arcs(
    ids: IntArray, changes: GraphChanges
) -> tuple[IntArray, IntArray, IntArray, NDArray[np.int8], IntArray]:
    """The arcs ``changes`` adds, as (from index, to index, event, kind, edge) columns."""
    new_from = np.concatenate([changes.edge_from, changes.lot_ids])
    new_to = np.concatenate([changes.edge_to, changes.member_ids])
    lots = changes.lot_ids.size
    event = np.concatenate([changes.edge_event_row_id, np.full(lots, NO_EVENT, np.int64)])
    kind = np.concatenate([changes.edge_kind, np.full(lots, ArcKind.LOT, np.int8)])
    edge = np.concatenate([changes.edge_row_id, np.full(lots, NO_EDGE, np.int64)])
    from_index, from_known = _lookup(ids, new_from)
    to_index, to_known = _lookup(ids, new_to)
    known = from_known & to_known
    return from_index[known], to_index[known], event[known], kind[known], edge[known]


def _spliced(graph: TraceGraph, ids: IntArray, changes: GraphChanges) -> TraceGraph:
    """:func:`update_graph` when node indices stay: remove and insert arcs in place."""
    assert changes.read_from is not None and changes.read_to is not None
    old_ids = graph.item_ids
    read_edges = np.unique(changes.edge_ids)
    read_serials = np.unique(changes.serial_ids)
    serial_rows, serial_known = _lookup(old_ids, read_serials)
    serial_rows = serial_rows[serial_known]
    # A read serial's current lots, from the old upstream arcs: where its down arcs are.
    up_positions, _ = _arcs_of_rows(graph.up, serial_rows)
    old_lots = graph.up.neighbour[up_positions[graph.up.kind[up_positions] == ArcKind.LOT]]
    new_from, new_to, new_event, new_kind, new_edge = _new_arcs(ids, changes)

    def spliced(adjacency: Adjacency, downstream: bool) -> Adjacency:
        ends = changes.read_from if downstream else changes.read_to
        assert ends is not None
        edge_rows, edge_known = _lookup(old_ids, ends)
        lot_rows = old_lots if downstream else serial_rows
        positions, _ = _arcs_of_rows(adjacency, np.concatenate([edge_rows[edge_known], lot_rows]))
        drop = (
            _lookup(read_edges, adjacency.edge_id[positions])[1]
            if read_edges.size
            else (np.zeros(positions.size, dtype=bool))
        )
        if serial_rows.size:
            serial_end = (
                adjacency.neighbour[positions]
                if downstream
                else np.searchsorted(adjacency.indptr, positions, side="right") - 1
            )
            drop |= (adjacency.kind[positions] == ArcKind.LOT) & np.isin(serial_end, serial_rows)
        dropped = positions[drop]
        node_count = ids.size
        counts = np.zeros(node_count, dtype=np.int64)
        counts[: old_ids.size] = np.diff(adjacency.indptr)
        removed = np.searchsorted(adjacency.indptr, dropped, side="right") - 1
        counts -= np.bincount(removed, minlength=node_count)
        keep = np.ones(adjacency.neighbour.size, dtype=bool)
        keep[dropped] = False
        kept_indptr = np.zeros(node_count + 1, dtype=np.int64)
        np.cumsum(counts, out=kept_indptr[1:])
        source, target = (new_from, new_to) if downstream else (new_to, new_from)
        order = np.argsort(source, kind="stable")
        source, target = source[order], target[order]
        at = kept_indptr[source + 1]
        counts += np.bincount(source, minlength=node_count)
        indptr = np.zeros(node_count + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return _canonical_blocks(
            Adjacency(
                indptr=indptr,
                neighbour=np.insert(adjacency.neighbour[keep], at, target),
                event_row_id=np.insert(adjacency.event_row_id[keep], at, new_event[order]),
                kind=np.insert(adjacency.kind[keep], at, new_kind[order]),
                edge_id=np.insert(adjacency.edge_id[keep], at, new_edge[order]),
            ),
            source,
        )

    return TraceGraph(item_ids=ids, down=spliced(graph.down, True), up=spliced(graph.up, False))


def _canonical_blocks(adjacency: Adjacency, rows: IntArray) -> Adjacency:
    """``adjacency`` with the arcs of ``rows`` in the order a graph built from scratch gives
    them (edges by edge id, then lot arcs by neighbour), in place (the arrays are new).

    A walk keeps the first arc reaching a node, so the order of a node's arcs decides
    ``parent``/``via``: an updated graph must walk exactly like a freshly built one (and like
    the SQL path's subgraph, see ``snapshot.sql_snapshot``)."""
    if rows.size == 0:
        return adjacency
    positions, owner = _arcs_of_rows(adjacency, rows)
    if positions.size < 2:
        return adjacency
    order = np.lexsort(
        (
            adjacency.neighbour[positions],
            adjacency.edge_id[positions],
            adjacency.kind[positions] == ArcKind.LOT,
            owner,
        )
    )
    if bool((order[1:] > order[:-1]).all()):
        return adjacency
    moved = positions[order]
    for column in (adjacency.neighbour, adjacency.event_row_id, adjacency.kind, adjacency.edge_id):
        column[positions] = column[moved]
    return adjacency


def _as_int64(values: Iterable[int] | IntArray) -> IntArray:
    if isinstance(values, np.ndarray):
        return values.astype(np.int64, copy=False)
    return np.asarray(list(values), dtype=np.int64)


def _lookup(ids: IntArray, values: IntArray) -> tuple[IntArray, NDArray[np.bool_]]:
    if ids.size == 0:
        return np.zeros(values.size, dtype=np.int64), np.zeros(values.size, dtype=bool)
    position = np.searchsorted(ids, values)
    clipped = np.minimum(position, ids.size - 1)
    return clipped.astype(np.int64), ids[clipped] == values


# --- walks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reach:
    """Items reached by a walk, in breadth-first order, without the root.

    ``parent_item_ids[k]`` is the item through which ``item_ids[k]`` was first reached, over
    an arc of kind ``via_kind[k]`` recorded by ``via_event_row_ids[k]`` (``-1`` for lot
    membership): the breadth-first tree a UI can show indented.
    """

    item_ids: IntArray
    depth: NDArray[np.int32]
    parent_item_ids: IntArray
    via_event_row_ids: IntArray
    via_kind: NDArray[np.int8]

    @property
    def size(self) -> int:
        return int(self.item_ids.size)


def walk(graph: TraceGraph, root_item_id: int, direction: Direction) -> Reach:
    """Every item reachable from ``root_item_id`` going ``direction`` (upstream or downstream).

    Each item appears once, at its smallest depth; the root is not included.
    """
    if direction is Direction.BOTH:
        raise ValueError("walk one direction at a time")
    adjacency = graph.down if direction is Direction.DOWNSTREAM else graph.up
    start = graph.index_of(root_item_id)
    empty = Reach(
        np.empty(0, np.int64),
        np.empty(0, np.int32),
        np.empty(0, np.int64),
        np.empty(0, np.int64),
        np.empty(0, np.int8),
    )
    if start is None:
        return empty
    small = _small_walk(adjacency, start)
    if small is not None:
        node_list, depth_list, parent_list, arc_list = small
        if not node_list:
            return empty
        arc = np.array(arc_list, dtype=np.int64)
        return Reach(
            item_ids=graph.item_ids[np.array(node_list, dtype=np.int64)],
            depth=np.array(depth_list, dtype=np.int32),
            parent_item_ids=graph.item_ids[np.array(parent_list, dtype=np.int64)],
            via_event_row_ids=adjacency.event_row_id[arc],
            via_kind=adjacency.kind[arc],
        )
    indptr, neighbour = adjacency.indptr, adjacency.neighbour
    visited = np.zeros(graph.node_count, dtype=bool)
    visited[start] = True
    frontier = np.array([start], dtype=np.int64)
    nodes: list[IntArray] = []
    depths: list[NDArray[np.int32]] = []
    parents: list[IntArray] = []
    arcs: list[IntArray] = []
    depth = 0
    while frontier.size:
        depth += 1
        starts = indptr[frontier]
        counts = indptr[frontier + 1] - starts
        total = int(counts.sum())
        if total == 0:
            break
        # Positions of every arc leaving the frontier, without a Python loop per node.
        offsets = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(total)
        targets = neighbour[offsets]
        fresh = ~visited[targets]
        if not fresh.any():
            break
        targets, offsets = targets[fresh], offsets[fresh]
        sources = np.repeat(frontier, counts)[fresh]
        # Keep the first arc reaching each new node (stable: BFS order within the level).
        targets, first = np.unique(targets, return_index=True)
        first.sort()
        targets = neighbour[offsets[first]]
        visited[targets] = True
        nodes.append(targets)
        depths.append(np.full(targets.size, depth, dtype=np.int32))
        parents.append(sources[first])
        arcs.append(offsets[first])
        frontier = targets
    if not nodes:
        return empty
    reached = np.concatenate(nodes)
    arc = np.concatenate(arcs)
    return Reach(
        item_ids=graph.item_ids[reached],
        depth=np.concatenate(depths),
        parent_item_ids=graph.item_ids[np.concatenate(parents)],
        via_event_row_ids=adjacency.event_row_id[arc],
        via_kind=adjacency.kind[arc],
    )


# Arcs a walk follows in plain Python before it hands over to the vectorised walk.
SMALL_WALK_ARCS = 512


def _small_walk(
    adjacency: Adjacency, start: int
) -> tuple[list[int], list[int], list[int], list[int]] | None:
    """The breadth-first walk of a small reach in plain Python: (nodes, depths, parent
    nodes, arc positions), in exactly the order :func:`walk`'s vectorised levels give (per
    level: frontier order, then arc order; each node by its first arc). None as soon as more
    than ``SMALL_WALK_ARCS`` arcs would be followed: the caller then walks with numpy.

    A typical lot reaches a few dozen items; for those, a dozen numpy calls per level (and a
    visited mask the size of the graph) cost more than the walk itself.
    """
    # Memoryviews index and slice to plain ints without numpy's per-call overhead.
    indptr, neighbour = adjacency.indptr.data, adjacency.neighbour.data
    seen = {start}
    nodes: list[int] = []
    depths: list[int] = []
    parents: list[int] = []
    arcs: list[int] = []
    frontier = [start]
    depth = 0
    followed = 0
    while frontier:
        depth += 1
        level: list[int] = []
        for source in frontier:
            begin, stop = indptr[source], indptr[source + 1]
            followed += stop - begin
            if followed > SMALL_WALK_ARCS:
                return None
            for offset, target in enumerate(neighbour[begin:stop].tolist(), begin):
                if target not in seen:
                    seen.add(target)
                    level.append(target)
                    depths.append(depth)
                    parents.append(source)
                    arcs.append(offset)
        nodes.extend(level)
        frontier = level
    return nodes, depths, parents, arcs


def produced_items(graph: TraceGraph, item_ids: Iterable[int]) -> frozenset[int]:
    """Which of ``item_ids`` are the output of a walked transformation arc."""
    produced = set()
    up = graph.up
    for item_id in item_ids:
        index = graph.index_of(item_id)
        if index is None:
            continue
        kinds = up.kind[up.indptr[index] : up.indptr[index + 1]]
        if (kinds == ArcKind.TRANSFORMATION).any():
            produced.add(item_id)
    return frozenset(produced)


def lots_of_known_units(
    graph: TraceGraph, lot_ids: Iterable[int], unit_known: Callable[[int], bool]
) -> frozenset[int]:
    """Which of ``lot_ids`` have a unit (a serial of the lot) whose origin is known: made by
    a recorded transformation, or for which ``unit_known`` (commissioned) says so. A lot that
    only ILMD names has no event of its own; its units' origin is its origin."""
    found = set()
    down, up = graph.down, graph.up
    for lot_id in lot_ids:
        index = graph.index_of(lot_id)
        if index is None:
            continue
        start, stop = down.indptr[index], down.indptr[index + 1]
        members = down.neighbour[start:stop][down.kind[start:stop] == ArcKind.LOT]
        for member in members.tolist():
            kinds = up.kind[up.indptr[member] : up.indptr[member + 1]]
            if (kinds == ArcKind.TRANSFORMATION).any() or unit_known(int(graph.item_ids[member])):
                found.add(lot_id)
                break
    return frozenset(found)


def reached_ids(root_item_id: int, reaches: Sequence[tuple[Direction, Reach]]) -> IntArray:
    """The root followed by every reached item id (a side's items in walk order)."""
    return np.concatenate(
        [np.array([root_item_id], dtype=np.int64), *(reach.item_ids for _, reach in reaches)]
    )
