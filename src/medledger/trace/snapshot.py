"""Reads of the trace service: the per-tenant ledger snapshot, kept current incrementally.

A trace never reads the facts of reached items from the database: everything a report needs
(the genealogy as CSR arrays, item facts as columns, custody hops per item, event summaries)
lives in one :class:`Snapshot` per tenant and process, built once and then **refreshed
incrementally** when the ledger moves:

* Every projection change happens in a capture transaction that inserts an ``epcis_events``
  row, so a new event row means "something changed". The check on each trace is one indexed
  range count: ``count(*), max(id)`` of event rows above ``floor`` (the highest id seen minus
  :data:`MARGIN`), compared with the ids already applied above ``floor``. Counting a window
  rather than reading ``max(id)`` alone also catches a transaction with a lower id that commits
  after one with a higher id (PostgreSQL sequences), as long as it lands within the window.
* A refresh reads only what the new events touched: the items they name (``event_items``),
  plus the items of events retracted by new error declarations; the edges of those items (both
  ends indexed), new edges, hops and items above the cached high-water marks; new event rows.
  Those rows replace their cached versions (:func:`~medledger.trace.engine.update_graph`,
  :meth:`~medledger.trace.engine.ItemTable.merged`): a few linear passes over the arrays,
  instead of re-reading a million rows. Re-applying a refresh is harmless (it re-reads state),
  so overlapping windows never corrupt the snapshot.
* A full reload happens on first use, and when more than :data:`FULL_RELOAD_EVENTS` events
  (or a quarter of the cached ones) arrived at once — then reading everything is cheaper.

Queries by id range or id list write ``+tenant_id``: the unary plus keeps SQLite (which has
no statistics by default) from scanning a whole tenant through a ``tenant_id`` index instead
of using the primary key; PostgreSQL plans them the same either way.

Ids inlined into SQL text are integers that came out of the database (``int()`` on each),
never user text: binding 20 000 parameters one by one costs more than the query itself.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from medledger.core.principal import Principal
from medledger.core.scoping import scoped
from medledger.trace import repository as _ledger_rules  # noqa: F401 (registers party rules)
from medledger.trace.engine import (
    NONE,
    ArcKind,
    GraphChanges,
    HopFacts,
    ItemTable,
    PartyFacts,
    TraceGraph,
    Vocabulary,
    build_graph,
    update_graph,
)
from medledger.trace.engine.facts import EventTable
from medledger.trace.engine.report import fill_listing_fragments
from medledger.trace.models import EpcisEvent, ItemParty, TraceItem
from medledger.trace.repository import ERROR_DECLARATION_SUFFIX

_CHUNK = 5000
# Event ids re-checked below the highest one seen (late commits within it are caught).
MARGIN = 256
FULL_RELOAD_EVENTS = 200_000


# --- the snapshot -------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """Everything a trace of one tenant reads, as of the applied event rows."""

    tenant_id: int
    graph: TraceGraph
    items: ItemTable
    hops: Mapping[int, tuple[HopFacts, ...]]  # unretracted hops per item, oldest first
    events: EventTable
    max_item_id: int
    max_edge_id: int
    max_hop_id: int
    floor: int  # event ids above it that were applied are in ``applied``
    applied: frozenset[int]
    parties: Mapping[int, PartyFacts] = field(default_factory=dict)  # the tenant's parties
    # (child, container, packing event row) of the aggregations ended by an unpacking.
    ended_containments: frozenset[tuple[int, int, int]] = frozenset()
    parties_version: tuple[Any, ...] = ()  # (count, max(updated_at)) when they were read
    loads: int = 1  # full loads so far (for tests and the benchmark)
    refreshes: int = 0  # incremental refreshes so far


class SnapshotCache:
    """Per-engine, per-tenant snapshots, refreshed incrementally when the ledger moves."""

    def __init__(self) -> None:
        self._by_engine: weakref.WeakKeyDictionary[Engine, dict[int, Snapshot]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        self._warming: list[threading.Thread] = []

    def current(
        self,
        session: Session,
        tenant_id: int,
        uri: str | None = None,
        *,
        must_know: int | None = None,
    ) -> tuple[Snapshot, int | None]:
        """The tenant's snapshot brought up to date with what this session sees, and the id of
        the item with canonical ``uri`` (None if unknown or not asked).

        One statement answers both and checks freshness (event window, parties' version), so
        a trace of a current snapshot costs one round trip. ``must_know``: an item id the
        caller found in the database; if the snapshot does not know it (rows written without
        a new event, e.g. by a bulk import), it is refreshed anyway.
        """
        connection = session.connection()
        engine = connection.engine
        with self._lock:
            cached = self._by_engine.get(engine, {}).get(tenant_id)
        fresh = cached
        if fresh is None:
            fresh = load_snapshot(connection, tenant_id)
            self._warm(fresh.items)
        root_id, count, highest, party_count, party_changed = _probe(
            connection, tenant_id, uri or "", fresh.floor
        )
        in_window = count == len(fresh.applied) and (highest or fresh.floor) == max(
            fresh.applied, default=fresh.floor
        )
        wanted = root_id if root_id is not None else must_know
        if not in_window or (wanted is not None and not fresh.items.contains(int(wanted))):
            fresh = refresh_snapshot(connection, fresh)
        if (party_count, party_changed) != fresh.parties_version:
            fresh = replace(
                fresh,
                parties=load_parties(connection, tenant_id),
                parties_version=(party_count, party_changed),
            )
        if fresh is not cached:
            with self._lock:
                self._by_engine.setdefault(engine, {})[tenant_id] = fresh
        return fresh, (int(root_id) if root_id is not None else None)

    def _warm(self, items: ItemTable) -> None:
        """Build the recall-listing fragments of every item of a freshly loaded table in a
        background thread, so that the first listing of a lot costs what later ones do
        (about 4 µs per item on a 2-core VM: 4 s for a million items, ~250 MB)."""
        thread = threading.Thread(
            target=_fill_all_fragments, args=(items,), name="trace-listing-warmup", daemon=True
        )
        with self._lock:
            self._warming = [t for t in self._warming if t.is_alive()] + [thread]
        thread.start()

    def wait_warm(self, timeout: float | None = None) -> None:
        """Wait for the background fragment builds started so far (benchmark and tests)."""
        with self._lock:
            threads = list(self._warming)
        for thread in threads:
            thread.join(timeout)

    def peek(self, engine: Engine, tenant_id: int) -> Snapshot | None:
        """The cached snapshot, as it is (tests and the benchmark)."""
        with self._lock:
            return self._by_engine.get(engine, {}).get(tenant_id)

    def clear(self) -> None:
        with self._lock:
            self._by_engine = weakref.WeakKeyDictionary()


SNAPSHOTS = SnapshotCache()
_WARM_CHUNK = 20_000


def _fill_all_fragments(items: ItemTable) -> None:
    """Fill ``items``' listing fragments chunk by chunk (requests interleave between them;
    a request listing rows not filled yet builds them itself)."""
    for start in range(0, items.size, _WARM_CHUNK):
        fill_listing_fragments(items, np.arange(start, min(start + _WARM_CHUNK, items.size)))


# The item a trace starts from, the event window and the parties' version, in one round trip.
# ``{floor}`` is inlined (an int the snapshot read from the database): with ``id > $n`` as a
# parameter PostgreSQL's generic plan would assume a third of the table, so it re-plans the
# statement on every trace (~0.3 ms, more than running it); with the literal, the driver's
# prepared statement keeps one plan while the floor stays (it moves only with new events).
_PROBE = (
    "SELECT (SELECT id FROM trace_items WHERE tenant_id = :tenant AND uri = :uri), "
    "(SELECT count(*) FROM epcis_events WHERE id > {floor}), "
    "(SELECT max(id) FROM epcis_events WHERE id > {floor}), "
    "(SELECT count(*) FROM parties WHERE tenant_id = :tenant), "
    "(SELECT max(updated_at) FROM parties WHERE tenant_id = :tenant)"
)
# The same in the driver's own parameter style (psycopg: ``%(name)s``).
_PROBE_PYFORMAT = re.sub(r":(\w+)", r"%(\1)s", _PROBE)


def _probe(connection: Connection, tenant_id: int, uri: str, floor: int) -> tuple[Any, ...]:
    """Run :data:`_PROBE` on the transaction's own DB-API cursor.

    It runs before every trace; on a raw cursor it costs a third of a Core ``execute`` (no
    compilation cache lookup, result metadata or row processing), and its five plain values
    need none of that.
    """
    sql = _PROBE_PYFORMAT if connection.dialect.name == "postgresql" else _PROBE
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql.format(floor=int(floor)), {"tenant": tenant_id, "uri": uri})
        row = cursor.fetchone()
    finally:
        cursor.close()
    assert row is not None  # an aggregate-only SELECT always answers one row
    return tuple(row)


def _window_ids(connection: Connection, floor: int) -> set[int]:
    return set(
        connection.exec_driver_sql(f"SELECT id FROM epcis_events WHERE id > {int(floor)}").scalars()
    )


def _applied_window(ids: set[int], known_floor: int) -> tuple[int, frozenset[int]]:
    highest = max(ids, default=known_floor)
    floor = max(known_floor, highest - MARGIN)
    return floor, frozenset(i for i in ids if i > floor)


# --- full load ----------------------------------------------------------------------------


def load_snapshot(connection: Connection, tenant_id: int) -> Snapshot:
    """Read the tenant's whole ledger projection into a new snapshot."""
    tenant = int(tenant_id)
    # The window first: events committed while loading are then applied again by the next
    # refresh, which is harmless; the other order could miss them.
    initial_floor = max(_max_event_id(connection) - MARGIN, 0)
    floor, applied = _applied_window(_window_ids(connection, initial_floor), initial_floor)
    vocabulary = Vocabulary()
    items = _read_items(connection, vocabulary, f"tenant_id = {tenant}")
    edges = _fetch(
        connection,
        f"SELECT id, from_item_id, to_item_id, event_row_id, {_KIND_CODE_SQL} FROM genealogy_edges "
        f"WHERE tenant_id = {tenant} AND retracted_by_event_id IS NULL",
    )
    edge_columns = _edge_columns(edges)
    members = items.lot_item_id != NONE
    graph = build_graph(
        items.ids,
        edge_columns["from"],
        edge_columns["to"],
        edge_columns["event"],
        edge_columns["kind"],
        items.lot_item_id[members],
        items.ids[members],
        edge_ids=edge_columns["id"],
    )
    hops = _hops_by_item(_read_hops(connection, f"tenant_id = {tenant}"))
    events = EventTable.from_rows(_read_events(connection, f"tenant_id = {tenant}"), vocabulary)
    return Snapshot(
        tenant_id=tenant,
        graph=graph,
        items=items,
        hops=hops,
        events=events,
        max_item_id=int(items.ids.max()) if items.size else 0,
        max_edge_id=_max_id(connection, "genealogy_edges", tenant),
        max_hop_id=_max_id(connection, "custody_hops", tenant),
        floor=floor,
        applied=applied,
        ended_containments=frozenset(
            (int(row[0]), int(row[1]), int(row[2]))
            for row in _fetch(
                connection,
                "SELECT from_item_id, to_item_id, event_row_id FROM genealogy_edges "
                f"WHERE tenant_id = {tenant} AND ended_by_event_id IS NOT NULL "
                "AND retracted_by_event_id IS NULL",
            )
        ),
    )


def _max_event_id(connection: Connection) -> int:
    return int(connection.exec_driver_sql("SELECT max(id) FROM epcis_events").scalar() or 0)


def _max_id(connection: Connection, table: str, tenant: int) -> int:
    value = connection.exec_driver_sql(
        f"SELECT max(id) FROM {table} WHERE tenant_id = {int(tenant)}"
    ).scalar()
    return int(value or 0)


# --- incremental refresh ------------------------------------------------------------------


def refresh_snapshot(connection: Connection, cached: Snapshot) -> Snapshot:
    """Apply the event rows above ``cached.floor`` not applied yet (see the module doc)."""
    tenant = cached.tenant_id
    seen = _window_ids(connection, cached.floor)
    new_events = sorted(seen - cached.applied)
    if len(new_events) > min(FULL_RELOAD_EVENTS, max(cached.events.row_ids.size // 4, 10_000)):
        snapshot = load_snapshot(connection, tenant)
        return _counted(snapshot, loads=cached.loads + 1, refreshes=cached.refreshes)
    vocabulary = cached.items.vocabulary
    event_rows = []
    for chunk in _chunks(new_events):
        event_rows.extend(
            _read_events(connection, f"+tenant_id = {tenant} AND id IN ({_ints(chunk)})")
        )
    events = cached.events.merged(EventTable.from_rows(event_rows, vocabulary))
    # Events retracted by new error declarations: their edges and hops changed.
    originals = [
        row[1][: -len(ERROR_DECLARATION_SUFFIX)]
        for row in event_rows
        if row[1].endswith(ERROR_DECLARATION_SUFFIX)
    ]
    retracted: list[int] = []
    for start in range(0, len(originals), 900):
        retracted.extend(
            int(value)
            for value in connection.execute(
                select(EpcisEvent.id).where(
                    EpcisEvent.tenant_id == tenant,
                    EpcisEvent.event_id.in_(originals[start : start + 900]),
                )
            ).scalars()
        )
    touched: set[int] = set()
    for chunk in _chunks([*(int(row[0]) for row in event_rows), *retracted]):
        touched.update(
            connection.exec_driver_sql(
                f"SELECT item_id FROM event_items WHERE +tenant_id = {tenant} "
                f"AND event_row_id IN ({_ints(chunk)})"
            ).scalars()
        )
    # A receipt of a container hands over its contents: their holder changed too.
    # Only their item rows are read again: their arcs did not change.
    receipts = [int(row[0]) for row in event_rows if row[4] == "receiving"]
    handed_over = _contents_of_received(connection, tenant, receipts) if receipts else set()
    # Items: new ones above the mark, and the touched ones (their state may have changed).
    read_items = _read_items(
        connection, vocabulary, f"+tenant_id = {tenant} AND id > {cached.max_item_id}"
    )
    for chunk in _chunks(sorted(touched)):
        read_items = read_items.merged(
            _read_items(connection, vocabulary, f"+tenant_id = {tenant} AND id IN ({_ints(chunk)})")
        )
    changed_items = sorted(touched | set(read_items.ids.tolist()))
    # Edges: new ones, and every edge at either end of a changed item (retractions).
    edges: list[Any] = list(
        connection.exec_driver_sql(
            f"SELECT id, from_item_id, to_item_id, event_row_id, {_KIND_CODE_SQL}, "
            "retracted_by_event_id, ended_by_event_id "
            f"FROM genealogy_edges WHERE +tenant_id = {tenant} AND id > {cached.max_edge_id}"
        ).all()
    )
    for column in ("from_item_id", "to_item_id"):
        for chunk in _chunks(changed_items):
            edges.extend(
                connection.exec_driver_sql(
                    f"SELECT id, from_item_id, to_item_id, event_row_id, {_KIND_CODE_SQL}, "
                    "retracted_by_event_id, ended_by_event_id FROM genealogy_edges "
                    f"WHERE tenant_id = {tenant} "
                    f"AND {column} IN ({_ints(chunk)})"
                ).all()
            )
    unique_edges = {edge[0]: edge for edge in edges}.values()
    active = [edge[:5] for edge in unique_edges if edge[5] is None]
    ended = set(cached.ended_containments)
    for edge in unique_edges:
        key = (int(edge[1]), int(edge[2]), int(edge[3]))
        if edge[5] is None and edge[6] is not None:
            ended.add(key)
        else:
            ended.discard(key)
    edge_columns = _edge_columns(active)
    # Hops: every hop of an item that changed or got a new hop, read whole per item.
    new_hops = _read_hops(connection, f"+tenant_id = {tenant} AND id > {cached.max_hop_id}")
    rehop = sorted(set(changed_items) | {hop.item_id for hop in new_hops})
    read_hops: list[HopFacts] = []
    for chunk in _chunks(rehop):
        read_hops.extend(
            _read_hops(connection, f"tenant_id = {tenant} AND item_id IN ({_ints(chunk)})")
        )
    hops = dict(cached.hops)
    for item_id in rehop:
        hops.pop(item_id, None)
    hops.update(_hops_by_item(read_hops))
    members = read_items.lot_item_id != NONE
    graph = update_graph(
        cached.graph,
        GraphChanges(
            item_ids=read_items.ids,
            edge_ids=np.array(sorted({int(edge[0]) for edge in edges}), dtype=np.int64),
            edge_from=edge_columns["from"],
            edge_to=edge_columns["to"],
            edge_event_row_id=edge_columns["event"],
            edge_kind=edge_columns["kind"],
            edge_row_id=edge_columns["id"],
            serial_ids=read_items.ids,
            lot_ids=read_items.lot_item_id[members],
            member_ids=read_items.ids[members],
            read_from=np.array([int(edge[1]) for edge in edges], dtype=np.int64),
            read_to=np.array([int(edge[2]) for edge in edges], dtype=np.int64),
        ),
    )
    floor, applied = _applied_window(seen, cached.floor)
    items = cached.items.merged(read_items)
    for chunk in _chunks(sorted(handed_over - set(read_items.ids.tolist()))):
        items = items.merged(
            _read_items(connection, vocabulary, f"+tenant_id = {tenant} AND id IN ({_ints(chunk)})")
        )
    return Snapshot(
        tenant_id=tenant,
        graph=graph,
        items=items,
        hops=hops,
        events=events,
        max_item_id=max(cached.max_item_id, int(read_items.ids.max()) if read_items.size else 0),
        max_edge_id=max([cached.max_edge_id, *(int(edge[0]) for edge in edges)]),
        max_hop_id=max([cached.max_hop_id, *(hop.id for hop in new_hops)]),
        floor=floor,
        applied=applied,
        parties=cached.parties,
        parties_version=cached.parties_version,
        ended_containments=frozenset(ended),
        loads=cached.loads,
        refreshes=cached.refreshes + 1,
    )


def _contents_of_received(connection: Connection, tenant: int, receipts: list[int]) -> set[int]:
    """What is packed (now, at any depth) in the items the receipt events name."""
    frontier: set[int] = set()
    for chunk in _chunks(receipts):
        frontier.update(
            connection.exec_driver_sql(
                f"SELECT item_id FROM event_items WHERE +tenant_id = {tenant} "
                f"AND event_row_id IN ({_ints(chunk)})"
            ).scalars()
        )
    found: set[int] = set()
    while frontier:
        children: set[int] = set()
        for chunk in _chunks(sorted(frontier)):
            children.update(
                connection.exec_driver_sql(
                    f"SELECT from_item_id FROM genealogy_edges WHERE tenant_id = {tenant} "
                    f"AND to_item_id IN ({_ints(chunk)}) AND kind = 'aggregation' "
                    "AND retracted_by_event_id IS NULL AND ended_by_event_id IS NULL"
                ).scalars()
            )
        frontier = children - found
        found |= children
    return found


def _counted(snapshot: Snapshot, *, loads: int, refreshes: int) -> Snapshot:
    return replace(snapshot, loads=loads, refreshes=refreshes)


# --- row readers --------------------------------------------------------------------------

_ORIGIN = "'https://id.gs1.org"
# The URI an item's keys give; the stored URI is fetched only where it differs.
_CANONICAL_URI = (
    "CASE kind"
    f" WHEN 'lot' THEN {_ORIGIN}/01/' || gtin || '/10/' || lot"
    f" WHEN 'serial' THEN {_ORIGIN}/01/' || gtin || '/21/' || serial"
    f" WHEN 'sscc' THEN {_ORIGIN}/00/' || sscc"
    f" WHEN 'class' THEN {_ORIGIN}/01/' || gtin END"
)


def _fetch(connection: Connection, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a bulk read as plain tuples from the driver's cursor: at a million rows the
    engine's row objects cost more than the fetch itself."""
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _time_text(connection: Connection, column: str) -> str:
    if connection.dialect.name == "postgresql":
        return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US')"
    return column  # SQLite keeps naive UTC text that numpy parses


def _read_items(connection: Connection, vocabulary: Vocabulary, where: str) -> ItemTable:
    rows = _fetch(
        connection,
        "SELECT id, kind, gtin, COALESCE(serial, lot, sscc, ''), COALESCE(lot_item_id, -1), "
        "COALESCE(first_event_id, -1), commissioned, "
        f"{_time_text(connection, 'last_event_time')}, last_biz_step, last_disposition, "
        # An unregistered holder is minus its GLN (see ``engine.facts.party_key``).
        "last_biz_location, COALESCE(holder_party_id, -CAST(holder_gln AS BIGINT), -1), "
        f"CASE WHEN uri = ({_CANONICAL_URI}) THEN NULL ELSE uri END "
        f"FROM trace_items WHERE {where}",
    )
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [()] * 13
    overrides = {item_id: uri for item_id, uri in zip(columns[0], columns[12], strict=True) if uri}
    return ItemTable.from_columns(
        vocabulary,
        ids=columns[0],
        kinds=columns[1],
        gtins=columns[2],
        keys=columns[3],
        lot_item_ids=columns[4],
        first_event_row_ids=columns[5],
        commissioned=[bool(value) for value in columns[6]],
        last_event_times=columns[7],
        last_biz_steps=columns[8],
        last_dispositions=columns[9],
        last_biz_locations=columns[10],
        holder_party_ids=columns[11],
        uri_overrides=overrides,
    )


# The engine's arc kind code of an edge, computed by the database (all-integer rows convert
# to a numpy matrix in one call).
_KIND_CODE_SQL = (
    f"CASE kind WHEN 'aggregation' THEN {ArcKind.AGGREGATION} ELSE {ArcKind.TRANSFORMATION} END"
)


def _edge_columns(edges: Sequence[Sequence[Any]]) -> dict[str, Any]:
    """Columns of ``(id, from, to, event row, kind code)`` rows."""
    matrix = np.array(
        [tuple(edge) for edge in edges] if edges and not isinstance(edges[0], tuple) else edges,
        dtype=np.int64,
    ).reshape(-1, 5)
    return {
        "id": matrix[:, 0].copy(),
        "from": matrix[:, 1].copy(),
        "to": matrix[:, 2].copy(),
        "event": matrix[:, 3].copy(),
        "kind": matrix[:, 4].astype(np.int8),
    }


def _read_hops(connection: Connection, where: str) -> list[HopFacts]:
    rows = _fetch(
        connection,
        "SELECT id, item_id, from_party_id, to_party_id, from_ref, to_ref, quantity, "
        "ship_event_row_id, receive_event_row_id, shipped_at, received_at "
        f"FROM custody_hops WHERE {where} AND retracted_by_event_id IS NULL",
    )
    return [
        HopFacts(
            id=row[0],
            item_id=row[1],
            from_party_id=row[2],
            to_party_id=row[3],
            from_ref=row[4],
            to_ref=row[5],
            quantity=float(row[6]) if row[6] is not None else None,
            ship_event_row_id=row[7],
            receive_event_row_id=row[8],
            shipped_at=_utc(row[9]),
            received_at=_utc(row[10]),
        )
        for row in rows
    ]


def _hops_by_item(hops: Iterable[HopFacts]) -> dict[int, tuple[HopFacts, ...]]:
    grouped: dict[int, list[HopFacts]] = {}
    for hop in sorted(hops, key=lambda h: h.id):
        grouped.setdefault(hop.item_id, []).append(hop)
    return {item_id: tuple(item_hops) for item_id, item_hops in grouped.items()}


def _read_events(connection: Connection, where: str) -> list[tuple[Any, ...]]:
    return _fetch(
        connection,
        "SELECT id, event_id, event_type, action, biz_step, disposition, "
        f"{_time_text(connection, 'event_time')}, capturing_party_id "
        f"FROM epcis_events WHERE {where}",
    )


# --- per-trace lookups --------------------------------------------------------------------


_FIND_ITEM = text("SELECT id FROM trace_items WHERE tenant_id = :tenant AND uri = :uri")


def find_item_id(session: Session, tenant_id: int, uri: str) -> int | None:
    """The item with canonical ``uri`` in the tenant (unscoped: the caller checks visibility).

    A prepared text statement: this runs on every trace, and building an ORM select costs
    more than the indexed lookup itself."""
    value = session.connection().execute(_FIND_ITEM, {"tenant": tenant_id, "uri": uri}).scalar()
    return int(value) if value is not None else None


def item_visible(session: Session, principal: Principal, item_id: int) -> bool:
    """Whether the principal may see the item (the scoping choke point decides)."""
    stmt = scoped(select(TraceItem.id).where(TraceItem.id == item_id), TraceItem, principal)
    return session.scalar(stmt) is not None


def party_item_ids(session: Session, principal: Principal, item_ids: Sequence[int]) -> set[int]:
    """Which of ``item_ids`` the principal's party is involved with (``item_parties``)."""
    found: set[int] = set()
    for chunk in _chunks(item_ids):
        stmt = scoped(select(ItemParty.item_id), ItemParty, principal).where(
            ItemParty.party_id == principal.party_id, ItemParty.item_id.in_(chunk)
        )
        found.update(int(value) for value in session.scalars(stmt))
    return found


def load_parties(connection: Connection, tenant_id: int) -> dict[int, PartyFacts]:
    """GLN and name of every party of the tenant (a few hundred rows; re-read when their
    count or latest change moves, since parties change without events)."""
    rows = connection.exec_driver_sql(
        f"SELECT id, gln, name FROM parties WHERE tenant_id = {int(tenant_id)}"
    )
    return {row[0]: PartyFacts(id=row[0], gln=row[1], name=row[2]) for row in rows}


def _chunks(values: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _ints(values: Iterable[Any]) -> str:
    # int() on every value: only integers ever reach the SQL text.
    return ",".join(str(int(value)) for value in values)


def _utc(value: Any) -> datetime | None:
    """A stored time as an aware UTC datetime (SQLite hands back text via the raw driver)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"not a time: {value!r}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
