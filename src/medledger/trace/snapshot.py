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

import ctypes
import logging
import pickle
import re
import threading
import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from medledger.core.principal import Principal
from medledger.core.scoping import scoped
from medledger.trace import repository as _ledger_rules  # noqa: F401 (registers party rules)
from medledger.trace import snapshot_files as files
from medledger.trace.engine import (
    LOT,
    NONE,
    ArcKind,
    Direction,
    GraphChanges,
    HopFacts,
    ItemTable,
    PartyFacts,
    TraceGraph,
    Vocabulary,
    build_graph,
    update_graph,
)
from medledger.trace.engine.facts import EventTable, HopTable
from medledger.trace.engine.report import fill_listing_fragments
from medledger.trace.models import EpcisEvent, ItemParty, TraceItem
from medledger.trace.repository import ERROR_DECLARATION_SUFFIX

_log = logging.getLogger(__name__)
_CHUNK = 5000
# A refreshed snapshot is written back to its files at most this often (seconds) per tenant.
SAVE_INTERVAL = 30.0
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
    hops: HopTable  # unretracted hops per item, oldest first (columns)
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
    """Per-engine, per-tenant snapshots, refreshed incrementally when the ledger moves.

    By default a trace that finds no snapshot loads it (the CLI, tests). For an engine given to
    :meth:`start_background` (the server, at startup) no request ever waits for a load: the
    tenants' snapshots are loaded by a background thread, and a trace arriving before its
    tenant's is ready gets ``None`` and is answered by the recursive SQL path
    (:func:`sql_snapshot`), with the very same answer.
    """

    def __init__(self) -> None:
        self._by_engine: weakref.WeakKeyDictionary[Engine, dict[int, Snapshot]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        self._warming: list[threading.Thread] = []
        self._background: weakref.WeakSet[Engine] = weakref.WeakSet()
        self._loading: dict[tuple[int, int], threading.Thread] = {}
        # Build every item's listing text after a load (~250 MB at a million items): off, so
        # the snapshot stays compact; a listing builds the rows it reaches and keeps them.
        self.warm_listing = False
        # Traces answered by the SQL path so far (tests and the benchmark).
        self.sql_traces = 0
        # When set, background loads wait for it before they start (tests: a request that
        # arrives while the snapshot is loading).
        self.loading_gate: threading.Event | None = None
        # Engines whose snapshots are shared through memory-mapped files: (root, database key).
        self._files: weakref.WeakKeyDictionary[Engine, tuple[Path, str]] = (
            weakref.WeakKeyDictionary()
        )
        self._saved_at: dict[tuple[int, int], float] = {}
        self._saving: list[threading.Thread] = []
        self.save_interval = SAVE_INTERVAL

    def current(
        self,
        session: Session,
        tenant_id: int,
        uri: str | None = None,
        *,
        must_know: int | None = None,
    ) -> tuple[Snapshot | None, int | None]:
        """The tenant's snapshot brought up to date with what this session sees, and the id of
        the item with canonical ``uri`` (None if unknown or not asked).

        One statement answers both and checks freshness (event window, parties' version), so
        a trace of a current snapshot costs one round trip. ``must_know``: an item id the
        caller found in the database; if the snapshot does not know it (rows written without
        a new event, e.g. by a bulk import), it is refreshed anyway.

        The snapshot is None when the engine loads in the background and the tenant's is not
        ready yet (the load is started if it was not): the caller answers by SQL.
        """
        connection = session.connection()
        engine = connection.engine
        with self._lock:
            cached = self._by_engine.get(engine, {}).get(tenant_id)
            background = engine in self._background
        fresh = cached
        if fresh is None:
            if background:
                self._load_in_background(engine, tenant_id)
                found = find_item_id(session, tenant_id, uri) if uri else None
                return None, found
            fresh = self._initial(connection, engine, tenant_id)
            self._warm(fresh.items)
        root_id, count, highest, party_count, party_changed = _probe(
            connection, tenant_id, uri or "", fresh.floor
        )
        in_window = count == len(fresh.applied) and (highest or fresh.floor) == max(
            fresh.applied, default=fresh.floor
        )
        wanted = root_id if root_id is not None else must_know
        refreshed = False
        if not in_window or (wanted is not None and not fresh.items.contains(int(wanted))):
            fresh = refresh_snapshot(connection, self._adopted(engine, fresh))
            refreshed = True
        if (party_count, party_changed) != fresh.parties_version:
            fresh = replace(
                fresh,
                parties=load_parties(connection, tenant_id),
                parties_version=(party_count, party_changed),
            )
        if fresh is not cached:
            with self._lock:
                self._by_engine.setdefault(engine, {})[tenant_id] = fresh
        if refreshed:
            self._save_later(engine, fresh)
        return fresh, (int(root_id) if root_id is not None else None)

    # --- memory-mapped files (snapshot_files.py) ------------------------------------------

    def use_files(self, engine: Engine, root: Path) -> None:
        """Share ``engine``'s snapshots through memory-mapped files under ``root``."""
        url = engine.url.render_as_string(hide_password=True)
        with self._lock:
            self._files[engine] = (Path(root), files.database_key(url))

    def _directory(self, engine: Engine, tenant_id: int) -> Path | None:
        with self._lock:
            found = self._files.get(engine)
        return files.tenant_dir(found[0], found[1], tenant_id) if found else None

    def _initial(self, connection: Connection, engine: Engine, tenant_id: int) -> Snapshot:
        """A first snapshot: the newest saved version mapped and brought up to date, or, when
        there is none (or it is unreadable), a full load that is then saved and mapped."""
        directory = self._directory(engine, tenant_id)
        if directory is not None:
            found = files.newest(directory)
            if found is not None:
                try:
                    mapped = files.load(found[1])
                except (OSError, ValueError, EOFError, pickle.UnpicklingError):
                    mapped = None
                if (
                    mapped is not None
                    and mapped.tenant_id == tenant_id
                    and _matches_database(connection, mapped)
                ):
                    # Mapped as saved; the caller's freshness check refreshes it from there.
                    return replace(mapped, loads=1)
        snapshot = load_snapshot(connection, tenant_id)
        if directory is not None:
            # Write it now and read it back mapped: this process's copy is then the page
            # cache's, which every process of the machine shares.
            path = files.save(snapshot, directory)
            with self._lock:
                self._saved_at[(id(engine), tenant_id)] = time.monotonic()
            snapshot = files.counted(files.load(path), snapshot)
        release_memory()
        return snapshot

    def _adopted(self, engine: Engine, snapshot: Snapshot) -> Snapshot:
        """A newer saved version (another process saved it) in place of ``snapshot``, when
        there is one: refreshing from it keeps this process on the shared copy."""
        directory = self._directory(engine, snapshot.tenant_id)
        if directory is None:
            return snapshot
        found = files.newest(directory)
        if found is None or found[0] <= files.mark_of(snapshot):
            return snapshot
        try:
            return files.counted(files.load(found[1]), snapshot)
        except (OSError, ValueError, EOFError, pickle.UnpicklingError):
            return snapshot

    def _save_later(self, engine: Engine, snapshot: Snapshot) -> None:
        """Save a refreshed snapshot (its changed arrays are this process's own copies) in a
        background thread and map it back, at most once per :data:`SAVE_INTERVAL` per
        tenant; a process that refreshes meanwhile keeps its copies until the next save."""
        directory = self._directory(engine, snapshot.tenant_id)
        if directory is None:
            return
        key = (id(engine), snapshot.tenant_id)
        now = time.monotonic()
        with self._lock:
            if now - self._saved_at.get(key, -1e9) < self.save_interval:
                return
            self._saved_at[key] = now
        thread = threading.Thread(
            target=self._save_and_map,
            args=(engine, snapshot, directory),
            name="trace-snapshot-save",
            daemon=True,
        )
        with self._lock:
            self._saving = [t for t in self._saving if t.is_alive()] + [thread]
        thread.start()

    def _save_and_map(self, engine: Engine, snapshot: Snapshot, directory: Path) -> None:
        found = files.newest(directory)
        if found is not None and found[0] >= files.mark_of(snapshot):
            # Another process saved this state (or a later one) already: map that.
            return
        path = files.save(snapshot, directory)
        mapped = files.load(path)
        with self._lock:
            tenants = self._by_engine.get(engine, {})
            current = tenants.get(snapshot.tenant_id)
            if current is snapshot:  # nothing newer meanwhile: swap in the mapped copy
                tenants[snapshot.tenant_id] = files.counted(mapped, snapshot)
        del snapshot, current
        release_memory()

    def wait_saved(self, timeout: float | None = None) -> None:
        """Wait for the background saves started so far (tests and the benchmark)."""
        with self._lock:
            threads = list(self._saving)
        for thread in threads:
            thread.join(timeout)

    # --- background loading -----------------------------------------------------------

    def start_background(
        self,
        engine: Engine,
        tenant_ids: Iterable[int] | None = None,
        *,
        files_root: Path | None = None,
    ) -> None:
        """From now on, ``engine``'s snapshots load in the background (no request waits); start
        loading those of ``tenant_ids`` (default: every tenant), one after the other, in one
        thread. With ``files_root``, snapshots are shared through memory-mapped files there."""
        if files_root is not None:
            self.use_files(engine, files_root)
        with self._lock:
            self._background.add(engine)
        thread = threading.Thread(
            target=self._load_tenants,
            args=(engine, None if tenant_ids is None else list(tenant_ids)),
            name="trace-snapshot-preload",
            daemon=True,
        )
        with self._lock:
            self._loading[(id(engine), 0)] = thread
        thread.start()

    def ready(self, engine: Engine, tenant_id: int) -> bool:
        with self._lock:
            return tenant_id in self._by_engine.get(engine, {})

    def wait_loaded(self, timeout: float | None = None) -> None:
        """Wait for the background loads started so far (tests and the benchmark)."""
        with self._lock:
            threads = list(self._loading.values())
        for thread in threads:
            thread.join(timeout)

    def _load_in_background(self, engine: Engine, tenant_id: int) -> None:
        key = (id(engine), int(tenant_id))
        with self._lock:
            # The startup thread loads every tenant (key 0): one load at a time, not two.
            for running in (self._loading.get(key), self._loading.get((id(engine), 0))):
                if running is not None and running.is_alive():
                    return
            thread = threading.Thread(
                target=self._load_tenants,
                args=(engine, [int(tenant_id)]),
                name=f"trace-snapshot-load-{tenant_id}",
                daemon=True,
            )
            self._loading[key] = thread
        thread.start()

    def _load_tenants(self, engine: Engine, tenant_ids: list[int] | None) -> None:
        gate = self.loading_gate
        if gate is not None:
            gate.wait()
        if tenant_ids is None:
            with engine.connect() as connection, connection.begin():
                if connection.dialect.name == "postgresql":
                    # For this transaction only (the connection goes back to the pool).
                    connection.exec_driver_sql("SELECT set_config('app.rls_bypass', 'on', true)")
                tenant_ids = [
                    int(value)
                    for value in connection.exec_driver_sql(
                        "SELECT id FROM tenants ORDER BY id"
                    ).scalars()
                ]
        for tenant_id in tenant_ids:
            if self.ready(engine, tenant_id):
                continue
            try:
                with engine.connect() as connection, connection.begin():
                    if connection.dialect.name == "postgresql":
                        connection.exec_driver_sql(
                            f"SELECT set_config('app.tenant_id', '{int(tenant_id)}', true)"
                        )
                    snapshot = self._initial(connection, engine, tenant_id)
                    snapshot = replace(
                        snapshot,
                        parties_version=tuple(
                            _probe(connection, tenant_id, "", snapshot.floor)[3:5]
                        ),
                        parties=load_parties(connection, tenant_id),
                    )
            except Exception:
                # Its traces stay on the SQL path; a later trace starts the load again.
                _log.exception("trace snapshot of tenant %s not loaded", tenant_id)
                continue
            with self._lock:
                tenants = self._by_engine.setdefault(engine, {})
                # A request may have loaded it meanwhile (inline mode): keep the first.
                tenants.setdefault(tenant_id, snapshot)
            self._warm(snapshot.items)

    def _warm(self, items: ItemTable) -> None:
        """Build the recall-listing fragments of every item of a freshly loaded table in a
        background thread, so that the first listing of a lot costs what later ones do
        (about 4 µs per item on a 2-core VM: 4 s for a million items, ~250 MB)."""
        if not self.warm_listing:
            return
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
        """Forget every snapshot, and go back to loading on first use (tests, benchmark)."""
        with self._lock:
            self._by_engine = weakref.WeakKeyDictionary()
            self._background = weakref.WeakSet()
            self._files = weakref.WeakKeyDictionary()
            self._saved_at = {}
            self.sql_traces = 0


SNAPSHOTS = SnapshotCache()
_WARM_CHUNK = 20_000


def _fill_all_fragments(items: ItemTable) -> None:
    """Fill ``items``' listing fragments chunk by chunk (requests interleave between them;
    a request listing rows not filled yet builds them itself)."""
    for start in range(0, items.size, _WARM_CHUNK):
        fill_listing_fragments(items, np.arange(start, min(start + _WARM_CHUNK, items.size)))


def _matches_database(connection: Connection, snapshot: Snapshot) -> bool:
    """Whether a saved snapshot was made from this database: its newest event row holds the
    same eventID (a database restored from a backup, or another database at the same URL,
    does not use files written before)."""
    rows = snapshot.events.row_ids
    if rows.size == 0:
        return True
    mark = int(rows[-1])  # the tenant's newest event in the snapshot (rows are sorted)
    saved = snapshot.events.facts([mark]).get(mark)
    stored = connection.exec_driver_sql(
        f"SELECT event_id FROM epcis_events WHERE id = {int(mark)}"
    ).scalar()
    return saved is not None and stored == saved.event_id


def release_memory() -> None:
    """Hand the memory a full load freed back to the OS (glibc keeps freed heap pages, in
    every thread's arena, until trimmed: after a million rows read in batches that was
    several hundred MB of a process's resident memory). A no-op where there is no glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        return


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
    items = _read_all_items(connection, vocabulary, f"tenant_id = {tenant}")
    edge_parts = [
        np.array(rows, dtype=np.int64).reshape(-1, 5)
        for rows in _fetch_batches(
            connection,
            f"SELECT id, from_item_id, to_item_id, event_row_id, {_KIND_CODE_SQL} "
            f"FROM genealogy_edges WHERE tenant_id = {tenant} AND retracted_by_event_id IS NULL",
        )
    ]
    edge_columns = _edge_columns(
        np.concatenate(edge_parts) if edge_parts else np.empty((0, 5), dtype=np.int64)
    )
    del edge_parts
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
    hops = HopTable.from_facts(_read_hops(connection, f"tenant_id = {tenant}"), vocabulary)
    event_parts = [
        EventTable.from_rows(rows, vocabulary)
        for rows in _fetch_batches(connection, _events_sql(connection, f"tenant_id = {tenant}"))
    ]
    events = EventTable.concatenated(event_parts, vocabulary)
    del event_parts
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
    hops = cached.hops.replaced(rehop, read_hops)
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


def _fetch_batches(
    connection: Connection, sql: str, size: int = 50_000
) -> Iterable[list[tuple[Any, ...]]]:
    """Rows of a bulk read in batches, so a full load never holds a million row tuples at
    once (each batch becomes columns before the next is read)."""
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        while True:
            batch = list(cursor.fetchmany(size))
            if not batch:
                return
            yield batch
    finally:
        cursor.close()


def _items_sql(connection: Connection, where: str) -> str:
    return (
        "SELECT id, kind, gtin, COALESCE(serial, lot, sscc, ''), COALESCE(lot_item_id, -1), "
        "COALESCE(first_event_id, -1), commissioned, "
        f"{_time_text(connection, 'last_event_time')}, last_biz_step, last_disposition, "
        # An unregistered holder is minus its GLN (see ``engine.facts.party_key``).
        "last_biz_location, COALESCE(holder_party_id, -CAST(holder_gln AS BIGINT), -1), "
        f"CASE WHEN uri = ({_CANONICAL_URI}) THEN NULL ELSE uri END "
        f"FROM trace_items WHERE {where}"
    )


def _read_all_items(connection: Connection, vocabulary: Vocabulary, where: str) -> ItemTable:
    """A whole tenant's items, read batch by batch into columns (see :func:`_fetch_batches`)."""
    parts = [
        _items_of_rows(vocabulary, rows)
        for rows in _fetch_batches(connection, _items_sql(connection, where))
    ]
    if len(parts) <= 1:
        return parts[0] if parts else _items_of_rows(vocabulary, [])
    width = max(part.key.dtype.itemsize for part in parts)
    columns: dict[str, Any] = {
        name: np.concatenate(
            [
                part._columns()[name].astype(f"S{width}")
                if name == "key"
                else part._columns()[name]
                for part in parts
            ]
        )
        for name in parts[0]._columns()
    }
    overrides: dict[int, str] = {}
    for part in parts:
        overrides.update(part.uri_overrides)
    table = ItemTable(**columns, vocabulary=vocabulary, uri_overrides=overrides)
    ids = table.ids
    if ids.size > 1 and not bool((ids[1:] > ids[:-1]).all()):
        table = table.take(np.argsort(ids, kind="stable"))
    return table


def _read_items(connection: Connection, vocabulary: Vocabulary, where: str) -> ItemTable:
    return _items_of_rows(vocabulary, _fetch(connection, _items_sql(connection, where)))


def _items_of_rows(vocabulary: Vocabulary, rows: list[tuple[Any, ...]]) -> ItemTable:
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


def _edge_columns(edges: Sequence[Sequence[Any]] | np.ndarray[Any, Any]) -> dict[str, Any]:
    """Columns of ``(id, from, to, event row, kind code)`` rows (or such a matrix)."""
    if isinstance(edges, np.ndarray):
        matrix = edges.astype(np.int64, copy=False).reshape(-1, 5)
    else:
        matrix = np.array(
            [tuple(edge) for edge in edges] if edges and not isinstance(edges[0], tuple) else edges,
            dtype=np.int64,
        ).reshape(-1, 5)
    # By edge id: a node's arcs are then in one order however the rows were read (a full
    # load, the SQL path), so walks pick the same first parent either way.
    if matrix.shape[0] > 1 and not bool((matrix[1:, 0] > matrix[:-1, 0]).all()):
        matrix = matrix[np.argsort(matrix[:, 0], kind="stable")]
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


def _events_sql(connection: Connection, where: str) -> str:
    return (
        "SELECT id, event_id, event_type, action, biz_step, disposition, "
        f"{_time_text(connection, 'event_time')}, capturing_party_id "
        f"FROM epcis_events WHERE {where}"
    )


def _read_events(connection: Connection, where: str) -> list[tuple[Any, ...]]:
    return _fetch(connection, _events_sql(connection, where))


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


# --- the SQL path (before the snapshot is loaded) -----------------------------------------

# What a walk reaches, by recursive SQL: ids only; the facts are read for those ids after.
# Downstream follows edges from → to and a lot to its serials; upstream edges to → from and a
# serial to its lot. SQLite allows several recursive references in one compound; PostgreSQL
# one, so both arc kinds go in a LATERAL subquery probed per reached node.
_REACH_SQLITE = {
    Direction.DOWNSTREAM: (
        "WITH RECURSIVE reach(id) AS (SELECT CAST(:root AS INTEGER)"
        # CROSS JOIN keeps the reached set as the outer loop, so SQLite probes the indexes.
        " UNION SELECT e.to_item_id FROM reach r CROSS JOIN genealogy_edges e"
        "  WHERE e.tenant_id = :t AND e.from_item_id = r.id AND e.retracted_by_event_id IS NULL"
        " UNION SELECT i.id FROM reach r CROSS JOIN trace_items i"
        "  WHERE i.tenant_id = :t AND i.lot_item_id = r.id)"
        " SELECT id FROM reach"
    ),
    Direction.UPSTREAM: (
        "WITH RECURSIVE reach(id) AS (SELECT CAST(:root AS INTEGER)"
        " UNION SELECT e.from_item_id FROM reach r CROSS JOIN genealogy_edges e"
        "  WHERE e.tenant_id = :t AND e.to_item_id = r.id AND e.retracted_by_event_id IS NULL"
        " UNION SELECT i.lot_item_id FROM reach r CROSS JOIN trace_items i"
        "  WHERE i.id = r.id AND i.lot_item_id IS NOT NULL)"
        " SELECT id FROM reach"
    ),
}
_REACH_POSTGRES = {
    Direction.DOWNSTREAM: (
        "WITH RECURSIVE reach(id) AS (SELECT CAST(:root AS BIGINT)"
        " UNION SELECT n.id FROM reach r CROSS JOIN LATERAL ("
        "  SELECT e.to_item_id AS id FROM genealogy_edges e"
        "   WHERE e.tenant_id = :t AND e.from_item_id = r.id AND e.retracted_by_event_id IS NULL"
        "  UNION ALL SELECT i.id FROM trace_items i"
        "   WHERE i.tenant_id = :t AND i.lot_item_id = r.id) n)"
        " SELECT id FROM reach"
    ),
    Direction.UPSTREAM: (
        "WITH RECURSIVE reach(id) AS (SELECT CAST(:root AS BIGINT)"
        " UNION SELECT n.id FROM reach r CROSS JOIN LATERAL ("
        "  SELECT e.from_item_id AS id FROM genealogy_edges e"
        "   WHERE e.tenant_id = :t AND e.to_item_id = r.id AND e.retracted_by_event_id IS NULL"
        "  UNION ALL SELECT i.lot_item_id FROM trace_items i"
        "   WHERE i.id = r.id AND i.lot_item_id IS NOT NULL) n)"
        " SELECT id FROM reach"
    ),
}


def sql_reach(
    connection: Connection, tenant_id: int, root_id: int, direction: Direction
) -> set[int]:
    """Ids of every item reachable from ``root_id`` going ``direction`` (the root included),
    by one recursive SQL statement."""
    statements = _REACH_POSTGRES if connection.dialect.name == "postgresql" else _REACH_SQLITE
    rows = connection.execute(
        text(statements[direction]), {"root": int(root_id), "t": int(tenant_id)}
    ).scalars()
    return {int(value) for value in rows}


def sql_snapshot(
    connection: Connection, tenant_id: int, root_id: int, directions: Sequence[Direction]
) -> Snapshot:
    """A snapshot holding just what a trace of ``root_id`` reads, from the database.

    Used while the tenant's full snapshot is not loaded yet (see :class:`SnapshotCache`): the
    walk's reach comes from recursive SQL; then the facts of the reached items and of their
    neighbourhood (every edge at either end of a reached item, the serials of reached lots
    that were not commissioned — what the gaps ask —, the lots of serials) are read, and the
    trace runs the same engine code on them. The walk over this subgraph is the walk over the
    whole genealogy: a reached set is closed under its direction's arcs, and the arcs of a
    node are in the same order as in a fully loaded snapshot (edges by id, then lot arcs).
    """
    tenant = int(tenant_id)
    SNAPSHOTS.sql_traces += 1
    reached: set[int] = {int(root_id)}
    for direction in directions:
        reached |= sql_reach(connection, tenant, root_id, direction)
    vocabulary = Vocabulary()
    # The reached items first: which lots were not commissioned (their units are read too).
    items = _items_of(connection, vocabulary, tenant, sorted(reached))
    uncommissioned = items.ids[(items.kind == LOT) & ~items.commissioned].tolist()
    units: set[int] = set()
    for chunk in _chunks(uncommissioned):
        units.update(
            int(value)
            for value in connection.exec_driver_sql(
                f"SELECT id FROM trace_items WHERE tenant_id = {tenant} "
                f"AND lot_item_id IN ({_ints(chunk)})"
            ).scalars()
        )
    centre = sorted(reached | units)
    edges: dict[int, tuple[Any, ...]] = {}
    for column in ("from_item_id", "to_item_id"):
        for chunk in _chunks(centre):
            for edge in connection.exec_driver_sql(
                f"SELECT id, from_item_id, to_item_id, event_row_id, {_KIND_CODE_SQL}, "
                "ended_by_event_id FROM genealogy_edges "
                f"WHERE tenant_id = {tenant} AND {column} IN ({_ints(chunk)}) "
                "AND retracted_by_event_id IS NULL"
            ):
                edges[int(edge[0])] = tuple(edge)
    ordered = [edges[key] for key in sorted(edges)]
    neighbours = {int(edge[1]) for edge in ordered} | {int(edge[2]) for edge in ordered}
    wanted = (neighbours | units) - set(items.ids.tolist())
    items = items.merged(_items_of(connection, vocabulary, tenant, sorted(wanted)))
    lots = set(items.lot_item_id[items.lot_item_id != NONE].tolist()) - set(items.ids.tolist())
    items = items.merged(_items_of(connection, vocabulary, tenant, sorted(lots)))
    edge_columns = _edge_columns([edge[:5] for edge in ordered])
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
    hops: list[HopFacts] = []
    for chunk in _chunks(sorted(reached)):
        hops.extend(_read_hops(connection, f"tenant_id = {tenant} AND item_id IN ({_ints(chunk)})"))
    # Every event a report of these items may link: arcs, hops, commissionings.
    event_rows = {int(edge[3]) for edge in ordered}
    event_rows |= {
        row
        for hop in hops
        for row in (hop.ship_event_row_id, hop.receive_event_row_id)
        if row is not None
    }
    event_rows |= set(items.first_event_row_id[items.first_event_row_id != NONE].tolist())
    event_list: list[tuple[Any, ...]] = []
    for chunk in _chunks(sorted(event_rows)):
        event_list.extend(
            _read_events(connection, f"+tenant_id = {tenant} AND id IN ({_ints(chunk)})")
        )
    return Snapshot(
        tenant_id=tenant,
        graph=graph,
        items=items,
        hops=HopTable.from_facts(hops, vocabulary),
        events=EventTable.from_rows(event_list, vocabulary),
        max_item_id=0,
        max_edge_id=0,
        max_hop_id=0,
        floor=0,
        applied=frozenset(),
        parties=load_parties(connection, tenant),
        ended_containments=frozenset(
            (int(edge[1]), int(edge[2]), int(edge[3])) for edge in ordered if edge[5] is not None
        ),
        loads=0,
    )


def _items_of(
    connection: Connection, vocabulary: Vocabulary, tenant: int, item_ids: Sequence[int]
) -> ItemTable:
    table = _read_items(connection, vocabulary, "1 = 0")
    for chunk in _chunks(item_ids):
        table = table.merged(
            _read_items(connection, vocabulary, f"+tenant_id = {tenant} AND id IN ({_ints(chunk)})")
        )
    return table
