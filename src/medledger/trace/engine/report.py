"""The answer of a trace: items as columns, parties, events, gaps; JSON and the CSV listing.

Built by :func:`medledger.trace.engine.assemble_report`. Rows are positions in the item table
(:class:`ReportFrame`); Python columns (:class:`ItemRows`), objects and dicts are built on
first use, so the recall listing of 20 000 units is a few list passes. Pure: no ORM, no web.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from medledger.identifiers.epc import CANONICAL_ORIGIN
from medledger.trace.engine.facts import (
    CLASS,
    KINDS,
    LOT,
    NONE,
    OTHER,
    SERIAL,
    SSCC,
    EventFacts,
    ItemTable,
    _datetime,
)
from medledger.trace.engine.graph import Direction, IntArray


@dataclass(frozen=True)
class PartyRef:
    gln: str | None
    name: str | None
    ref: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"gln": self.gln, "name": self.name, **({"ref": self.ref} if self.ref else {})}


@dataclass
class TracedItem:
    """A reached item (or the root, ``depth`` 0) with its last known state."""

    id: int
    uri: str
    kind: str
    gtin: str | None
    lot: str | None
    serial: str | None
    sscc: str | None
    direction: str  # root | upstream | downstream
    depth: int
    parent_uri: str | None
    via_event_id: str | None
    via: str | None  # transformation | aggregation | lot
    holder: PartyRef | None
    location: str | None
    disposition: str | None
    last_event_time: datetime | None
    commissioned: bool
    # Quality inspections of a reached lot; empty until quality records exist.
    inspections: list[dict[str, Any]] | None = None
    # Reached through a packing arc: whether that containment holds now ("current") or was
    # ended by an unpacking ("ended"); None otherwise.
    containment: str | None = None

    def to_json(self) -> dict[str, Any]:
        return _with_containment(
            self.containment,
            _item_json(
                self.uri,
                self.kind,
                self.gtin,
                self.direction,
                self.depth,
                self.parent_uri,
                self.via,
                self.via_event_id,
                self.holder,
                self.location,
                self.disposition,
                _iso(self.last_event_time),
                self.lot,
                self.serial,
                self.sscc,
                self.commissioned,
                self.inspections,
            ),
        )


def _with_containment(containment: str | None, data: dict[str, Any]) -> dict[str, Any]:
    if containment is not None:
        data["containment"] = containment
    return data


def _item_json(
    uri: str,
    kind: str,
    gtin: str | None,
    direction: str,
    depth: int,
    parent: str | None,
    via: str | None,
    via_event_id: str | None,
    holder: PartyRef | None,
    location: str | None,
    disposition: str | None,
    last_event_time: str | None,
    lot: str | None,
    serial: str | None,
    sscc: str | None,
    commissioned: bool,
    inspections: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "uri": uri,
        "kind": kind,
        "gtin": gtin,
        "direction": direction,
        "depth": depth,
        "parent": parent,
        "via": via,
        "via_event_id": via_event_id,
        "holder": holder.to_json() if holder else None,
        "location": location,
        "disposition": disposition,
        "last_event_time": last_event_time,
    }
    if kind == "lot":
        data["lot"] = lot
        data["commissioned"] = commissioned
    elif kind == "serial":
        data["serial"] = serial
        data["lot"] = lot
    elif kind == "sscc":
        data["sscc"] = sscc
    if inspections is not None:
        data["inspections"] = inspections
    return data


@dataclass
class TracedParty:
    """A party in the chain with its roles and the quantities it shipped and received."""

    party_id: int | None
    gln: str | None
    name: str | None
    ref: str | None
    roles: set[str] = field(default_factory=set)
    quantity_received: float = 0.0
    quantity_shipped: float = 0.0

    @property
    def ordered_roles(self) -> list[str]:
        return [role for role in ("supplier", "holder", "consignee") if role in self.roles]

    def to_json(self) -> dict[str, Any]:
        ordered = self.ordered_roles
        return {
            "id": self.party_id,
            "registered": self.party_id is not None,
            "gln": self.gln,
            "name": self.name,
            "ref": self.ref,
            "role": ordered[0] if ordered else None,
            "roles": ordered,
            "quantity_received": _number(self.quantity_received),
            "quantity_shipped": _number(self.quantity_shipped),
        }


@dataclass(frozen=True)
class Gap:
    """A hole in the record: a shipment never received, a lot never commissioned."""

    kind: str  # unreceived_shipment | no_commissioning
    uri: str
    party: PartyRef | None = None
    event_id: str | None = None
    time: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "uri": self.uri,
            "party": self.party.to_json() if self.party else None,
            "event_id": self.event_id,
            "time": _iso(self.time),
        }


@dataclass(frozen=True)
class Completeness:
    """How complete the record of a trace is: shipments with a matching receipt, and reached
    lots whose origin is recorded (commissioned, or the output of a transformation).
    ``lots``/``lots_with_origin`` are None in a partner's report (the hub's data quality)."""

    shipments: int
    shipments_received: int
    lots: int | None
    lots_with_origin: int | None

    @property
    def score(self) -> float:
        """The share of both that is complete (1.0 when there is nothing to check)."""
        total = self.shipments + (self.lots or 0)
        done = self.shipments_received + (self.lots_with_origin or 0)
        return round(done / total, 4) if total else 1.0

    def to_json(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "shipments": self.shipments,
            "shipments_received": self.shipments_received,
            "lots": self.lots,
            "lots_with_origin": self.lots_with_origin,
        }


EventSource = Mapping[int, EventFacts] | Callable[[Iterable[int]], Mapping[int, EventFacts]]


class EventLookup:
    """Event summaries by row, fetched from ``source`` on demand and remembered."""

    def __init__(self, source: EventSource) -> None:
        self._source = source
        self._found: dict[int, EventFacts] = {}
        self._asked: set[int] = set()

    def get_many(self, rows: Iterable[int]) -> dict[int, EventFacts]:
        wanted = set(rows)
        missing = wanted - self._asked
        if missing:
            source = self._source
            if callable(source):
                self._found.update(source(missing))
            else:
                self._found.update((row, source[row]) for row in missing if row in source)
            self._asked |= missing
        return {row: self._found[row] for row in wanted if row in self._found}


@dataclass(frozen=True)
class ItemRows:
    """The root (row 0) and the reached items of a report, one Python list per column.

    Kept as columns so that a 20 000-item recall listing is a few list passes; the
    :class:`TracedItem` objects of :attr:`TraceReport.items` are only built when asked for.
    """

    ids: list[int]
    uri: list[str]
    kind: list[str]
    gtin: list[str | None]
    lot: list[str | None]
    serial: list[str | None]
    sscc: list[str | None]
    direction: list[str]
    depth: list[int]
    parent_uri: list[str | None]
    via_event_row: list[int | None]  # the linking event row, None when not shown
    via: list[str | None]
    holder: list[PartyRef | None]
    location: list[str | None]
    disposition: list[str | None]
    last_event_time: NDArray[np.datetime64]  # naive UTC, NaT when unknown
    commissioned: list[bool]
    inspections: list[bool]  # whether the row carries an (empty) inspections list
    events: EventLookup  # resolves ``via_event_row`` to eventIDs when they are asked for
    # Per row: "current"/"ended" for a packing arc (see ``TracedItem.containment``), else None.
    containment: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def via_event_id(self) -> list[str | None]:
        """The eventID linking each row to its parent (looked up on first use: the CSV
        listing never needs it)."""
        found = self.events.get_many(row for row in self.via_event_row if row is not None)
        return [
            (event.event_id if (event := found.get(row)) else None) if row is not None else None
            for row in self.via_event_row
        ]

    def slice(self, start: int, stop: int) -> ItemRows:
        columns = {
            name: getattr(self, name)[start:stop]
            for name in self.__dataclass_fields__
            if name != "events"
        }
        return ItemRows(**columns, events=self.events)

    def item(self, k: int) -> TracedItem:
        return TracedItem(
            id=self.ids[k],
            uri=self.uri[k],
            kind=self.kind[k],
            gtin=self.gtin[k],
            lot=self.lot[k],
            serial=self.serial[k],
            sscc=self.sscc[k],
            direction=self.direction[k],
            depth=self.depth[k],
            parent_uri=self.parent_uri[k],
            via_event_id=self.via_event_id[k],
            via=self.via[k],
            holder=self.holder[k],
            location=self.location[k],
            disposition=self.disposition[k],
            last_event_time=_datetime(self.last_event_time[k]),
            commissioned=self.commissioned[k],
            inspections=[] if self.inspections[k] else None,
            containment=self.containment[k] if self.containment else None,
        )

    def json_rows(self, start: int = 0, stop: int | None = None) -> list[dict[str, Any]]:
        """The JSON objects of rows ``start:stop``."""
        if stop is not None:
            return self.slice(start, stop).json_rows()
        times = _iso_array(self.last_event_time[start:])
        rows = [
            _item_json(*values, [] if inspect else None)  # type: ignore[call-arg]
            for *values, inspect in zip(
                self.uri[start:],
                self.kind[start:],
                self.gtin[start:],
                self.direction[start:],
                self.depth[start:],
                self.parent_uri[start:],
                self.via[start:],
                self.via_event_id[start:],
                self.holder[start:],
                self.location[start:],
                self.disposition[start:],
                times,
                self.lot[start:],
                self.serial[start:],
                self.sscc[start:],
                self.commissioned[start:],
                self.inspections[start:],
                strict=True,
            )
        ]
        for data, containment in zip(rows, self.containment[start:], strict=False):
            if containment is not None:
                data["containment"] = containment
        return rows


Links = tuple[list[TracedParty], list[EventFacts], list[Gap], Completeness]
# Up to this many rows, per-row work is done in plain Python: below it a numpy call (a few
# microseconds each) costs more than the loop it replaces. Results are the same either way
# (``tests/trace/test_engine.py`` runs the engine tests with both).
SMALL_ROWS = 256
_KIND_NAMES = np.array(KINDS, dtype=object)
# Parts of a canonical URI by kind code (lot, serial, sscc, class, other): head + GTIN +
# middle + key. ``other`` items always have their stored URI in ``uri_overrides``.
_URI_HEAD = np.array(
    [
        f"{CANONICAL_ORIGIN}/01/",
        f"{CANONICAL_ORIGIN}/01/",
        f"{CANONICAL_ORIGIN}/00/",
        f"{CANONICAL_ORIGIN}/01/",
        "",
    ],
    dtype=object,
)
_URI_MIDDLE = np.array(["/10/", "/21/", "", "", ""], dtype=object)


@dataclass
class ReportFrame:
    """The rows of a report as positions in the item table (numpy), with what is needed to
    list them without building an object (or a dict) per row."""

    items: ItemTable
    table_rows: IntArray
    directions: list[str]
    depth: NDArray[np.int32]
    holder_refs: Mapping[int | None, PartyRef | None]

    @cached_property
    def kind(self) -> NDArray[np.int8]:
        return self.items.kind[self.table_rows]

    @cached_property
    def keys(self) -> list[str]:
        return list(map(bytes.decode, self.items.key[self.table_rows].tolist()))

    @cached_property
    def key_objects(self) -> NDArray[np.object_]:
        return np.array(self.keys, dtype=object)

    def lot_names(self) -> list[str | None]:
        """Each row's lot: a lot's own, a serial's lot (``lot_item_id``), else None."""
        return _lot_names(self.items, self.table_rows, self.kind, self.key_objects).tolist()

    def listing_text(self) -> str:
        """The recall listing's data lines as CSV text, each ending in CRLF (see
        ``LISTING_COLUMNS``), root first.

        A line is ``direction,depth,`` + the item's identity and state fragments around its
        holder's cells. The item fragments depend on the item table only, so they are built
        once per table row (vectorised, for the rows not seen yet) and kept in the table's
        ``listing_cache``; the holder cells depend on the report (a partner does not see
        every holder), so they are built per report, once per distinct holder.
        """
        items, rows = self.items, self.table_rows
        identity, state = fill_listing_fragments(items, rows)
        if rows.size <= SMALL_ROWS:
            cells: dict[int, str] = {}
            lines = []
            for direction, depth, head, holder, tail in zip(
                self.directions,
                self.depth.tolist(),
                identity[rows].tolist(),
                items.holder_party_id[rows].tolist(),
                state[rows].tolist(),
                strict=True,
            ):
                cell = cells.get(holder)
                if cell is None:
                    cell = cells[holder] = self._holder_cells(holder)
                lines.append(f"{direction},{depth},{head}{cell}{tail}")
            return "".join(lines)
        holder_ids, position = np.unique(items.holder_party_id[rows], return_inverse=True)
        holder_cells = np.array(
            [self._holder_cells(p) for p in holder_ids.tolist()],
            dtype=object,
        )
        # ``,depth,`` from the few distinct depths; then one join over a grid of fragments
        # (no intermediate string per line).
        depths, depth_position = np.unique(self.depth, return_inverse=True)
        depth_text = np.array([f",{d}," for d in depths.tolist()], dtype=object)
        grid = np.empty((rows.size, 5), dtype=object)
        grid[:, 0] = self.directions
        grid[:, 1] = depth_text[depth_position]
        grid[:, 2] = identity[rows]
        grid[:, 3] = holder_cells[position]
        grid[:, 4] = state[rows]
        return "".join(grid.ravel().tolist())

    def _holder_cells(self, party: int) -> str:
        """The ``holder_gln,holder_name`` cells of a holder party id (``NONE``: no holder)."""
        ref = self.holder_refs.get(None if party == NONE else party)
        if ref is None:
            return ","
        return _csv_cell(ref.gln or ref.ref or "") + "," + _csv_cell(ref.name or "")


def listing_fragments(
    items: ItemTable,
) -> tuple[NDArray[np.object_], NDArray[np.object_], NDArray[np.bool_]]:
    """The table's listing fragment arrays (identity, state, filled mask), created empty on
    first use and kept in ``items.listing_cache``."""
    fragments = items.listing_cache.get("fragments")
    if fragments is None:
        # setdefault: two first requests at once end up sharing one set of arrays.
        fragments = items.listing_cache.setdefault(
            "fragments",
            (
                np.full(items.size, None, dtype=object),
                np.full(items.size, None, dtype=object),
                np.zeros(items.size, dtype=bool),
            ),
        )
    return fragments


def fill_listing_fragments(
    items: ItemTable, rows: IntArray
) -> tuple[NDArray[np.object_], NDArray[np.object_]]:
    """Build the listing fragments of the given table rows not built yet; the identity and
    state arrays (indexed by table row). Safe beside concurrent readers and fillers: a row
    is marked filled only after its values are in place, and racing fillers write the same
    values."""
    identity, state, filled = listing_fragments(items)
    missing = rows[~filled[rows]]
    if missing.size:
        if missing.size > 1:
            missing = np.unique(missing)
        new_identity, new_state = _item_fragments(items, missing)
        identity[missing] = new_identity
        state[missing] = new_state
        filled[missing] = True
    return identity, state


def _lot_names(
    items: ItemTable, rows: IntArray, kind: NDArray[np.int8], keys: NDArray[np.object_]
) -> NDArray[np.object_]:
    """Each row's lot: a lot's own, a serial's lot (``lot_item_id``), else None."""
    if kind.size <= SMALL_ROWS:
        return _lot_names_small(items, rows, kind, keys)
    names = np.full(kind.size, None, dtype=object)
    is_lot = kind == LOT
    names[is_lot] = keys[is_lot]
    lot_ids = items.lot_item_id[rows]
    members = np.flatnonzero((lot_ids != NONE) & ~is_lot)
    if members.size:
        # A few hundred lots for 20 000 serials: decode each lot's key once.
        wanted, inverse = np.unique(lot_ids[members], return_inverse=True)
        known = items.known(wanted)
        lot_keys = np.full(wanted.size, None, dtype=object)
        lot_keys[known] = [key.decode() for key in items.key[items.rows_of(wanted[known])]]
        names[members] = lot_keys[inverse]
    return names


def _lot_names_small(
    items: ItemTable, rows: IntArray, kind: NDArray[np.int8], keys: NDArray[np.object_]
) -> NDArray[np.object_]:
    """:func:`_lot_names` of a few rows, in plain Python (same result)."""
    key_list = keys.tolist()
    names: list[str | None] = [None] * len(key_list)
    lots: dict[int, str | None] = {}
    wanted: list[tuple[int, int]] = []
    for k, (code, lot_id) in enumerate(
        zip(kind.tolist(), items.lot_item_id[rows].tolist(), strict=True)
    ):
        if code == LOT:
            names[k] = key_list[k]
        elif lot_id != NONE:
            wanted.append((k, lot_id))
            lots[lot_id] = None
    if lots:
        lot_ids = np.fromiter(lots, dtype=np.int64, count=len(lots))
        known = items.known(lot_ids)
        found = items.key[items.rows_of(lot_ids[known])].tolist()
        lots.update(zip(lot_ids[known].tolist(), (key.decode() for key in found), strict=True))
        for k, lot_id in wanted:
            names[k] = lots[lot_id]
    result = np.empty(len(names), dtype=object)
    result[:] = names
    return result


def _item_fragments(
    items: ItemTable, rows: IntArray
) -> tuple[NDArray[np.object_], NDArray[np.object_]]:
    """The listing fragments of table rows, straight from the arrays: identity
    ``kind,gtin,lot,serial,sscc,uri,`` and state ``,location,disposition,last_event_time\\r\\n``
    (each cell CSV-quoted if needed)."""
    if rows.size <= SMALL_ROWS:
        return _item_fragments_small(items, rows)
    kind = items.kind[rows]
    keys = np.array(list(map(bytes.decode, items.key[rows].tolist())), dtype=object)
    text = items.vocabulary.text()
    gtins = text[items.gtin[rows]]
    # URIs rebuilt with object-array additions (one C loop per part), then the few
    # stored non-canonical ones put back.
    keyed = (kind != CLASS) & (kind != OTHER)
    uris = (
        _URI_HEAD[kind]
        + np.where(kind == SSCC, "", gtins)
        + _URI_MIDDLE[kind]
        + np.where(keyed, keys, "")
    )
    overrides = items.uri_overrides
    if overrides:
        ids = items.ids[rows]
        for k in np.flatnonzero(np.isin(ids, np.fromiter(overrides, dtype=np.int64))):
            uris[k] = overrides[int(ids[k])]
    lots = _lot_names(items, rows, kind, keys)
    lots[lots == None] = ""  # noqa: E711 - elementwise comparison on an object array
    times = np.array([t or "" for t in _iso_array(items.last_event_time[rows])], dtype=object)
    comma = np.array(",", dtype=object)
    identity = (
        _KIND_NAMES[kind]
        + comma
        + _csv_array(gtins)
        + comma
        + _csv_array(lots)
        + comma
        + _csv_array(np.where(kind == SERIAL, keys, ""))
        + comma
        + _csv_array(np.where(kind == SSCC, keys, ""))
        + comma
        + _csv_array(uris)
        + comma
    )
    state = (
        comma
        + _csv_array(text[items.last_biz_location[rows]])
        + comma
        + _csv_array(text[items.last_disposition[rows]])
        + comma
        + times
        + np.array("\r\n", dtype=object)
    )
    return identity, state


def _item_fragments_small(
    items: ItemTable, rows: IntArray
) -> tuple[NDArray[np.object_], NDArray[np.object_]]:
    """:func:`_item_fragments` of a few rows, a line at a time in plain Python (same text;
    a dozen object-array operations cost more than formatting a few dozen lines)."""
    facts = items.gather(rows)
    kind = items.kind[rows]
    lots = _lot_names_small(items, rows, kind, np.array(facts.key, dtype=object)).tolist()
    identity = np.empty(rows.size, dtype=object)
    state = np.empty(rows.size, dtype=object)
    for k, (name, gtin, key, lot, uri, location, disposition, time) in enumerate(
        zip(
            facts.kind,
            facts.gtin,
            facts.key,
            lots,
            facts.uri,
            facts.last_biz_location,
            facts.last_disposition,
            _iso_array(facts.last_event_time),
            strict=True,
        )
    ):
        serial = key if name == "serial" else ""
        sscc = key if name == "sscc" else ""
        line = f"{name},{gtin or ''},{lot or ''},{serial},{sscc},{uri},"
        if line.count(",") != 6 or '"' in line or "\n" in line or "\r" in line:
            cells = (gtin or "", lot or "", serial, sscc, uri)
            line = f"{name}," + ",".join(map(_csv_cell, cells)) + ","
        identity[k] = line
        tail = f",{location or ''},{disposition or ''},"
        if tail.count(",") != 3 or '"' in tail or "\n" in tail or "\r" in tail:
            tail = f",{_csv_cell(location or '')},{_csv_cell(disposition or '')},"
        state[k] = f"{tail}{time or ''}\r\n"
    return identity, state


def _csv_array(values: NDArray[np.object_]) -> NDArray[np.object_]:
    """An object array of text, each cell CSV-quoted if needed (see :func:`_csv_column`)."""
    return np.array(_csv_column(values.tolist()), dtype=object)


def _csv_cell(value: str) -> str:
    if "," in value or '"' in value or "\n" in value or "\r" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


@dataclass
class TraceReport:
    """The answer of a trace: the root, every reached item, parties, linking events, gaps.

    Parties, events and gaps are worked out on first use (the CSV listing needs none of them);
    everything they read is in memory, so that may happen after the transaction ended.
    """

    frame: ReportFrame  # row 0 is the root; then reached items, upstream first then downstream
    build_rows: Callable[[], ItemRows]
    direction: Direction
    links: Callable[[], Links]
    scoped_to_party: bool = False

    @cached_property
    def rows(self) -> ItemRows:
        """The rows as Python columns (built on first use; the CSV listing does without)."""
        return self.build_rows()

    @cached_property
    def _links(self) -> Links:
        return self.links()

    @property
    def parties(self) -> list[TracedParty]:
        return self._links[0]

    @property
    def events(self) -> list[EventFacts]:
        return self._links[1]

    @property
    def gaps(self) -> list[Gap]:
        return self._links[2]

    @property
    def completeness(self) -> Completeness:
        return self._links[3]

    @cached_property
    def root(self) -> TracedItem:
        return self.rows.item(0)

    @cached_property
    def items(self) -> list[TracedItem]:
        """Reached items (root excluded) as objects (built on first use)."""
        return [self.rows.item(k) for k in range(1, len(self.rows))]

    def of_kind(self, kind: str) -> list[TracedItem]:
        return [item for item in self.items if item.kind == kind]

    @property
    def counts(self) -> dict[str, int]:
        kinds = np.bincount(self.frame.kind[1:], minlength=len(KINDS))
        sides = self.frame.directions[1:]
        return {
            "lots": int(kinds[LOT]),
            "serials": int(kinds[SERIAL]),
            "logistic_units": int(kinds[SSCC]),
            "upstream": sides.count("upstream"),
            "downstream": sides.count("downstream"),
            "parties": len(self.parties),
            "events": len(self.events),
            "gaps": len(self.gaps),
        }

    def to_json(self) -> dict[str, Any]:
        """The JSON answer of ``GET /api/v1/trace``."""
        reached = self.rows.json_rows(1)
        by_kind: dict[str, list[dict[str, Any]]] = {"lot": [], "serial": [], "sscc": []}
        other: list[dict[str, Any]] = []
        for data in reached:
            by_kind.get(data["kind"], other).append(data)
        return {
            "item": self.rows.json_rows(0, 1)[0],
            "direction": self.direction.value,
            "scoped_to_party": self.scoped_to_party,
            "counts": self.counts,
            "lots": by_kind["lot"],
            "serials": by_kind["serial"],
            "logistic_units": by_kind["sscc"],
            "other_items": other,
            "parties": [party.to_json() for party in self.parties],
            "events": [_event_json(event) for event in self.events],
            "gaps": [gap.to_json() for gap in self.gaps],
            "completeness": self.completeness.to_json(),
        }

    def _listing_columns(self) -> list[list[str]]:
        rows = self.rows
        holder_gln = [(h.gln or h.ref or "") if h else "" for h in rows.holder]
        holder_name = [(h.name or "") if h else "" for h in rows.holder]
        return [
            rows.direction,
            list(map(str, rows.depth)),
            rows.kind,
            [v or "" for v in rows.gtin],
            [v or "" for v in rows.lot],
            [v or "" for v in rows.serial],
            [v or "" for v in rows.sscc],
            rows.uri,
            holder_gln,
            holder_name,
            [v or "" for v in rows.location],
            [v or "" for v in rows.disposition],
            [t or "" for t in _iso_array(rows.last_event_time)],
        ]

    def listing(self) -> list[list[str]]:
        """The flat recall listing: a header, then one row per item (root first)."""
        return [list(LISTING_COLUMNS), *map(list, zip(*self._listing_columns(), strict=True))]

    def listing_csv(self) -> str:
        """:meth:`listing` as CSV text (RFC 4180, CRLF; what ``csv.writer`` writes), built
        column-wise from the frame: only a column holding a comma, quote or line break is
        quoted cell by cell."""
        return ",".join(LISTING_COLUMNS) + "\r\n" + self.frame.listing_text()


def _csv_column(values: list[str]) -> list[str]:
    joined = "\x00".join(values)  # one scan of the column instead of four per cell
    if not ("," in joined or '"' in joined or "\n" in joined or "\r" in joined):
        return values
    return [_csv_cell(v) for v in values]


LISTING_COLUMNS = (
    "direction",
    "depth",
    "kind",
    "gtin",
    "lot",
    "serial",
    "sscc",
    "uri",
    "holder_gln",
    "holder_name",
    "location",
    "disposition",
    "last_event_time",
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def _iso_array(stamps: NDArray[np.datetime64]) -> list[str | None]:
    """:func:`_iso` of many naive-UTC times at once (numpy formats them; same text). A few
    are formatted by ``datetime.isoformat`` (numpy's formatting call costs more than that)."""
    if stamps.size <= SMALL_ROWS:
        # Rows of one trace share few distinct times (a lot's serials were commissioned
        # together): format each distinct one once.
        text_of: dict[int, str | None] = {}
        found = []
        for micros in stamps.astype("datetime64[us]").view(np.int64).tolist():
            text = text_of.get(micros, _UNSET)
            if text is _UNSET:
                text = text_of[micros] = (
                    None
                    if micros == _NAT_INT
                    else (_EPOCH + timedelta(microseconds=micros)).isoformat() + "Z"
                )
            found.append(text)
        return found
    text = np.datetime_as_string(stamps, unit="s", timezone="UTC").astype(object)
    fraction = stamps.astype(np.int64) % 1_000_000 != 0
    fraction &= ~np.isnat(stamps)
    if fraction.any():
        text[fraction] = np.datetime_as_string(stamps[fraction], unit="us", timezone="UTC")
    missing = np.isnat(stamps)
    if missing.any():
        text[missing] = None
    return text.tolist()


_EPOCH = datetime(1970, 1, 1)
_NAT_INT = int(np.datetime64("NaT", "us").view(np.int64))
_UNSET: Any = object()


def _number(value: float) -> float | int:
    return int(value) if math.isfinite(value) and value == int(value) else value


def _event_json(event: EventFacts) -> dict[str, Any]:
    return {
        "eventID": event.event_id,
        "type": event.event_type,
        "action": event.action,
        "bizStep": event.biz_step,
        "disposition": event.disposition,
        "eventTime": _iso(event.event_time),
    }
