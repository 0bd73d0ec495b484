"""What the ledger knows of items, hops, events and parties, as plain data and columns.

:class:`ItemTable` holds the facts of many items as numpy columns so that a reached set of
20 000 items is a gather, not 20 000 objects. Pure: numpy only, no ORM, no web.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from medledger.identifiers.epc import CANONICAL_ORIGIN
from medledger.trace.engine.graph import IntArray


@dataclass(frozen=True)
class ItemFacts:
    """What the ledger knows of one item (a ``trace_items`` row)."""

    id: int
    uri: str
    kind: str
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    sscc: str | None = None
    lot_item_id: int | None = None
    first_event_row_id: int | None = None
    commissioned: bool = False
    last_event_time: datetime | None = None
    last_biz_step: str | None = None
    last_disposition: str | None = None
    last_biz_location: str | None = None
    holder_party_id: int | None = None


@dataclass(frozen=True)
class HopFacts:
    """One unretracted custody hop (a ``custody_hops`` row)."""

    id: int
    item_id: int
    from_party_id: int | None
    to_party_id: int | None
    from_ref: str | None = None
    to_ref: str | None = None
    quantity: float | None = None
    ship_event_row_id: int | None = None
    receive_event_row_id: int | None = None
    shipped_at: datetime | None = None
    received_at: datetime | None = None


@dataclass(frozen=True)
class EventFacts:
    """The summary of one captured event a trace links to."""

    row_id: int
    event_id: str
    event_type: str
    action: str | None
    biz_step: str | None
    disposition: str | None
    event_time: datetime
    capturing_party_id: int | None = None


@dataclass(frozen=True)
class PartyFacts:
    """A registered party."""

    id: int
    gln: str | None
    name: str


# A party in the engine is an int: a registered party's id, or minus the GLN of a party that
# is not registered (GLNs are 13 digits, so they fit; ``NONE`` is no party). Parties are
# known by GLN whether or not they are registered.
_GLN_OF_REF = re.compile(r"https://id\.gs1\.org/41[47]/(\d{13})(?:/.*)?")


def party_key(party_id: int | None, ref: str | None) -> int | None:
    """The engine's party key of a party id or, without one, of a ``pgln``/``sgln`` ref."""
    if party_id is not None:
        return int(party_id)
    if ref:
        match = _GLN_OF_REF.fullmatch(ref)
        if match is not None and int(match.group(1)) > 1:
            return -int(match.group(1))
    return None


def unregistered_gln(key: int) -> str | None:
    """The GLN of an unregistered party's key (None for a registered party or ``NONE``)."""
    return f"{-key:013d}" if key < NONE else None


# --- columnar item facts ------------------------------------------------------------------

KINDS = ("lot", "serial", "sscc", "class", "other")
_KIND_CODE = {name: code for code, name in enumerate(KINDS)}
LOT, SERIAL, SSCC, CLASS, OTHER = range(5)
NONE = -1
_NAT = np.datetime64("NaT", "us")


class Vocabulary:
    """Interned strings of low-cardinality columns (GTINs, steps, dispositions, locations).

    Append-only, so tables built at different times can share it: code 0 is None.
    """

    def __init__(self) -> None:
        self.values: list[str | None] = [None]
        self._codes: dict[str | None, int] = {None: 0}
        self._text: NDArray[np.object_] | None = None

    def code(self, value: str | None) -> int:
        found = self._codes.get(value)
        if found is None:
            found = self._codes[value] = len(self.values)
            self.values.append(value)
        return found

    def text(self) -> NDArray[np.object_]:
        """The values as an object array (None shown as ""), for C-level gathers by code."""
        cached = self._text
        if cached is None or cached.size != len(self.values):
            cached = np.array([value or "" for value in self.values], dtype=object)
            self._text = cached
        return cached

    def codes(self, values: Sequence[str | None]) -> NDArray[np.int32]:
        """The codes of many values (new ones are added); a C-level map, no Python loop."""
        for value in set(values) - self._codes.keys():
            self.code(value)
        return np.fromiter(map(self._codes.__getitem__, values), dtype=np.int32, count=len(values))


def canonical_uri(kind: int, gtin: str | None, key: str) -> str | None:
    """The canonical Digital Link URI of an item from its keys (None for ``other`` items)."""
    if kind == LOT:
        return f"{CANONICAL_ORIGIN}/01/{gtin}/10/{key}"
    if kind == SERIAL:
        return f"{CANONICAL_ORIGIN}/01/{gtin}/21/{key}"
    if kind == SSCC:
        return f"{CANONICAL_ORIGIN}/00/{key}"
    if kind == CLASS:
        return f"{CANONICAL_ORIGIN}/01/{gtin}"
    return None


@dataclass(frozen=True)
class ItemTable:
    """Facts of many items as columns, row ``k`` describing item ``ids[k]`` (ids sorted).

    A reached set of 20 000 items is then a gather of a dozen arrays, not 20 000 objects
    fetched and built. Text columns are codes into a shared :class:`Vocabulary`, except the
    lot/serial/SSCC ``key`` (UTF-8 bytes). The URI is rebuilt from the keys; the few items whose
    stored URI differs (percent-encoded keys, ``other`` items) are in ``uri_overrides``.
    """

    ids: IntArray
    kind: NDArray[np.int8]
    gtin: NDArray[np.int32]
    key: NDArray[np.bytes_]
    lot_item_id: IntArray
    first_event_row_id: IntArray
    commissioned: NDArray[np.bool_]
    last_event_time: NDArray[np.datetime64]
    last_biz_step: NDArray[np.int32]
    last_disposition: NDArray[np.int32]
    last_biz_location: NDArray[np.int32]
    holder_party_id: IntArray
    vocabulary: Vocabulary
    uri_overrides: Mapping[int, str]
    # Derived per-row values (the CSV listing's fragments, see ``report.py``), filled on first
    # use: each entry is a tuple of arrays indexed by row, the last a bool "filled" mask. A
    # value may depend only on its row and on the row of its lot (``lot_item_id``). A table is
    # never changed in place; ``merged`` carries the entries over for the rows it leaves as
    # they were (so a capture does not throw away the fragments of the whole tenant).
    listing_cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def size(self) -> int:
        return int(self.ids.size)

    @classmethod
    def from_columns(
        cls,
        vocabulary: Vocabulary,
        *,
        ids: Sequence[int],
        kinds: Sequence[str],
        gtins: Sequence[str | None],
        keys: Sequence[str],
        lot_item_ids: Sequence[int],
        first_event_row_ids: Sequence[int],
        commissioned: Sequence[bool],
        last_event_times: Sequence[Any],
        last_biz_steps: Sequence[str | None],
        last_dispositions: Sequence[str | None],
        last_biz_locations: Sequence[str | None],
        holder_party_ids: Sequence[int],
        uri_overrides: Mapping[int, str],
    ) -> ItemTable:
        """A table from columns (``NONE`` for missing integers; times as naive UTC datetimes,
        ``numpy.datetime64`` or ISO text, None for unknown). Rows may come in any order."""
        id_array = np.asarray(ids, dtype=np.int64)
        order = np.argsort(id_array, kind="stable")
        key_bytes = np.array([key.encode() for key in keys] or [b""], dtype=np.bytes_)
        if not len(keys):
            key_bytes = key_bytes[:0]
        table = cls(
            ids=id_array,
            kind=np.fromiter(
                (_KIND_CODE.get(k, OTHER) for k in kinds), dtype=np.int8, count=len(kinds)
            ),
            gtin=vocabulary.codes(gtins),
            key=key_bytes,
            lot_item_id=np.asarray(lot_item_ids, dtype=np.int64),
            first_event_row_id=np.asarray(first_event_row_ids, dtype=np.int64),
            commissioned=np.asarray(commissioned, dtype=bool),
            last_event_time=np.asarray(last_event_times, dtype="datetime64[us]"),
            last_biz_step=vocabulary.codes(last_biz_steps),
            last_disposition=vocabulary.codes(last_dispositions),
            last_biz_location=vocabulary.codes(last_biz_locations),
            holder_party_id=np.asarray(holder_party_ids, dtype=np.int64),
            vocabulary=vocabulary,
            uri_overrides=dict(uri_overrides),
        )
        return table if _is_sorted(id_array) else table.take(order)

    @classmethod
    def from_facts(
        cls, facts: Iterable[ItemFacts], vocabulary: Vocabulary | None = None
    ) -> ItemTable:
        """A table of :class:`ItemFacts` (tests and small callers)."""
        rows = list(facts)
        overrides: dict[int, str] = {}
        keys = []
        for fact in rows:
            key = fact.serial or fact.lot or fact.sscc or ""
            keys.append(key)
            if canonical_uri(_KIND_CODE.get(fact.kind, OTHER), fact.gtin, key) != fact.uri:
                overrides[fact.id] = fact.uri
        return cls.from_columns(
            vocabulary or Vocabulary(),
            ids=[f.id for f in rows],
            kinds=[f.kind for f in rows],
            gtins=[f.gtin for f in rows],
            keys=keys,
            lot_item_ids=[NONE if f.lot_item_id is None else f.lot_item_id for f in rows],
            first_event_row_ids=[
                NONE if f.first_event_row_id is None else f.first_event_row_id for f in rows
            ],
            commissioned=[f.commissioned for f in rows],
            last_event_times=[
                None if f.last_event_time is None else _naive_utc(f.last_event_time) for f in rows
            ],
            last_biz_steps=[f.last_biz_step for f in rows],
            last_dispositions=[f.last_disposition for f in rows],
            last_biz_locations=[f.last_biz_location for f in rows],
            holder_party_ids=[
                NONE if f.holder_party_id is None else f.holder_party_id for f in rows
            ],
            uri_overrides=overrides,
        )

    def _columns(self) -> dict[str, np.ndarray[Any, Any]]:
        return {
            name: getattr(self, name)
            for name in (
                "ids",
                "kind",
                "gtin",
                "key",
                "lot_item_id",
                "first_event_row_id",
                "commissioned",
                "last_event_time",
                "last_biz_step",
                "last_disposition",
                "last_biz_location",
                "holder_party_id",
            )
        }

    def take(self, rows: IntArray) -> ItemTable:
        """The table of the given rows."""
        columns: dict[str, Any] = {name: column[rows] for name, column in self._columns().items()}
        return ItemTable(**columns, vocabulary=self.vocabulary, uri_overrides=self.uri_overrides)

    def merged(self, newer: ItemTable) -> ItemTable:
        """This table with ``newer``'s rows replacing or adding rows (a new table; same
        vocabulary)."""
        if newer.size == 0:
            return self
        position = np.searchsorted(self.ids, newer.ids)
        clipped = np.minimum(position, max(self.size - 1, 0))
        existing = (
            (self.ids[clipped] == newer.ids) if self.size else np.zeros(newer.size, dtype=bool)
        )
        columns: dict[str, Any] = {}
        for name, column in self._columns().items():
            fresh = getattr(newer, name)
            if column.dtype.kind == "S" and fresh.dtype.itemsize > column.dtype.itemsize:
                column = column.astype(fresh.dtype)
            else:
                column = column.copy()
            column[clipped[existing]] = fresh[existing]
            columns[name] = np.concatenate([column, fresh[~existing]])
        overrides = dict(self.uri_overrides)
        for item_id in newer.ids[existing].tolist():
            overrides.pop(item_id, None)
        overrides.update(newer.uri_overrides)
        table = ItemTable(**columns, vocabulary=self.vocabulary, uri_overrides=overrides)
        ids = table.ids
        order = None if _is_sorted(ids) else np.argsort(ids, kind="stable")
        if order is not None:
            table = table.take(order)
        stale = np.zeros(self.size, dtype=bool)
        stale[clipped[existing]] = True
        stale |= np.isin(self.lot_item_id, newer.ids)  # a row's value may show its lot's key
        for key, arrays in list(self.listing_cache.items()):
            *values, filled = arrays
            added = int((~existing).sum())
            # The mask before the values: a concurrent filler sets a row's values before its
            # flag, so every row flagged in this copy has its values in the copies below.
            kept = np.concatenate([filled & ~stale, np.zeros(added, dtype=bool)])
            grown = [np.concatenate([v, np.zeros(added, dtype=v.dtype)]) for v in values]
            if order is not None:
                grown, kept = [v[order] for v in grown], kept[order]
            table.listing_cache[key] = (*grown, kept)
        return table

    def rows_of(self, item_ids: IntArray) -> IntArray:
        """Row numbers of ``item_ids`` (which must all be in the table)."""
        rows = np.searchsorted(self.ids, item_ids)
        if rows.size and (rows.max() >= self.size or (self.ids[rows] != item_ids).any()):
            raise KeyError("item not in the table")
        return rows

    def known(self, item_ids: IntArray) -> NDArray[np.bool_]:
        """Which of ``item_ids`` the table holds (binary search, not a set build)."""
        if self.size == 0:
            return np.zeros(item_ids.size, dtype=bool)
        rows = np.minimum(np.searchsorted(self.ids, item_ids), self.size - 1)
        return np.asarray(self.ids[rows] == item_ids)

    def contains(self, item_id: int) -> bool:
        row = int(np.searchsorted(self.ids, item_id))
        return row < self.size and int(self.ids[row]) == item_id

    def facts(self, item_id: int) -> ItemFacts:
        """One row as :class:`ItemFacts`."""
        row = self.rows_of(np.array([item_id], dtype=np.int64))
        values = self.gather(row)
        return ItemFacts(
            id=item_id,
            uri=values.uri[0],
            kind=values.kind[0],
            gtin=values.gtin[0],
            lot=values.key[0] if values.kind[0] == "lot" else None,
            serial=values.key[0] if values.kind[0] == "serial" else None,
            sscc=values.key[0] if values.kind[0] == "sscc" else None,
            lot_item_id=values.lot_item_id[0],
            first_event_row_id=values.first_event_row_id[0],
            commissioned=values.commissioned[0],
            last_event_time=_datetime(values.last_event_time[0]),
            last_biz_step=values.last_biz_step[0],
            last_disposition=values.last_disposition[0],
            last_biz_location=values.last_biz_location[0],
            holder_party_id=values.holder_party_id[0],
        )

    def gather(self, rows: IntArray) -> Gathered:
        """The given rows as Python lists (one per column), decoded."""
        vocab = self.vocabulary.values
        ids = self.ids[rows].tolist()
        kind_codes = self.kind[rows].tolist()
        gtins = [vocab[c] for c in self.gtin[rows].tolist()]
        keys = [b.decode() for b in self.key[rows].tolist()]
        overrides = self.uri_overrides
        origin = CANONICAL_ORIGIN
        # Inlined canonical_uri (this runs once per reached item).
        uris = [
            overrides.get(item_id)
            or (
                f"{origin}/01/{gtin}/21/{key}"
                if kind == SERIAL
                else f"{origin}/00/{key}"
                if kind == SSCC
                else f"{origin}/01/{gtin}/10/{key}"
                if kind == LOT
                else canonical_uri(kind, gtin, key) or ""
            )
            for item_id, kind, gtin, key in zip(ids, kind_codes, gtins, keys, strict=True)
        ]
        return Gathered(
            ids=ids,
            uri=uris,
            kind=[KINDS[c] for c in kind_codes],
            gtin=gtins,
            key=keys,
            lot_item_id=[None if v == NONE else v for v in self.lot_item_id[rows].tolist()],
            first_event_row_id=[
                None if v == NONE else v for v in self.first_event_row_id[rows].tolist()
            ],
            commissioned=self.commissioned[rows].tolist(),
            last_event_time=self.last_event_time[rows],
            last_biz_step=[vocab[c] for c in self.last_biz_step[rows].tolist()],
            last_disposition=[vocab[c] for c in self.last_disposition[rows].tolist()],
            last_biz_location=[vocab[c] for c in self.last_biz_location[rows].tolist()],
            holder_party_id=[None if v == NONE else v for v in self.holder_party_id[rows].tolist()],
        )


@dataclass(frozen=True)
class Gathered:
    """Rows of an :class:`ItemTable` as Python lists (one list per column)."""

    ids: list[int]
    uri: list[str]
    kind: list[str]
    gtin: list[str | None]
    key: list[str]
    lot_item_id: list[int | None]
    first_event_row_id: list[int | None]
    commissioned: list[bool]
    last_event_time: NDArray[np.datetime64]  # naive UTC, NaT when unknown
    last_biz_step: list[str | None]
    last_disposition: list[str | None]
    last_biz_location: list[str | None]
    holder_party_id: list[int | None]


def _is_sorted(values: IntArray) -> bool:
    return bool(values.size < 2 or (values[1:] > values[:-1]).all())


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _datetime(value: np.datetime64) -> datetime | None:
    """A naive-UTC ``datetime64`` as an aware datetime (None for NaT)."""
    moment = value.astype("datetime64[us]").item()
    return None if moment is None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class EventTable:
    """Summaries of a tenant's events as columns, sorted by row id."""

    row_ids: NDArray[np.int64]
    event_ids: NDArray[np.bytes_]  # UTF-8, one fixed-width array (not an object per event)
    event_type: NDArray[np.int32]
    action: NDArray[np.int32]
    biz_step: NDArray[np.int32]
    disposition: NDArray[np.int32]
    event_time: NDArray[np.datetime64]
    party: NDArray[np.int64]
    vocabulary: Vocabulary

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[Any]], vocabulary: Vocabulary) -> EventTable:
        """From ``(id, event_id, event_type, action, biz_step, disposition, event_time text,
        capturing_party_id)`` rows."""
        columns = list(zip(*rows, strict=True)) if rows else [()] * 8
        row_ids = np.asarray(columns[0], dtype=np.int64)
        event_ids = np.array([value.encode() for value in columns[1]] or [b""], dtype=np.bytes_)
        if not rows:
            event_ids = event_ids[:0]
        table = cls(
            row_ids=row_ids,
            event_ids=event_ids,
            event_type=vocabulary.codes(columns[2]),
            action=vocabulary.codes(columns[3]),
            biz_step=vocabulary.codes(columns[4]),
            disposition=vocabulary.codes(columns[5]),
            event_time=np.asarray(columns[6], dtype="datetime64[us]"),
            party=np.asarray([NONE if p is None else p for p in columns[7]], dtype=np.int64),
            vocabulary=vocabulary,
        )
        return table.sorted()

    def _columns(self) -> dict[str, np.ndarray[Any, Any]]:
        return {
            name: getattr(self, name)
            for name in (
                "row_ids",
                "event_ids",
                "event_type",
                "action",
                "biz_step",
                "disposition",
                "event_time",
                "party",
            )
        }

    def sorted(self) -> EventTable:
        ids = self.row_ids
        if ids.size < 2 or bool((ids[1:] > ids[:-1]).all()):
            return self
        order = np.argsort(ids, kind="stable")
        unique = np.ones(order.size, dtype=bool)
        unique[1:] = ids[order][1:] != ids[order][:-1]
        order = order[unique]  # a re-applied event replaces nothing: keep one copy
        columns = {name: column[order] for name, column in self._columns().items()}
        return EventTable(**columns, vocabulary=self.vocabulary)

    def _locate(self, row_ids: NDArray[np.int64]) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
        """Positions of ``row_ids`` in this table and which of them are really there."""
        if self.row_ids.size == 0:
            return np.zeros(row_ids.size, dtype=np.intp), np.zeros(row_ids.size, dtype=bool)
        position = np.minimum(np.searchsorted(self.row_ids, row_ids), self.row_ids.size - 1)
        return position, self.row_ids[position] == row_ids

    @classmethod
    def concatenated(cls, tables: Sequence[EventTable], vocabulary: Vocabulary) -> EventTable:
        """One table of several (read in batches), sorted by row id."""
        if not tables:
            return cls.from_rows([], vocabulary)
        columns = {
            name: np.concatenate([table._columns()[name] for table in tables])
            for name in tables[0]._columns()
        }
        return EventTable(**columns, vocabulary=vocabulary).sorted()

    def merged(self, newer: EventTable) -> EventTable:
        if newer.row_ids.size == 0:
            return self
        _, known = self._locate(newer.row_ids)
        columns = {
            name: np.concatenate([column, getattr(newer, name)[~known]])
            for name, column in self._columns().items()
        }
        return EventTable(**columns, vocabulary=self.vocabulary).sorted()

    def parties_of(self, row_ids: NDArray[np.int64]) -> set[int]:
        """The capturing parties of the given rows (unknown rows are ignored)."""
        position, known = self._locate(row_ids)
        position = position[known]
        return {p for p in np.unique(self.party[position]).tolist() if p != NONE}

    def facts(self, row_ids: Iterable[int]) -> dict[int, EventFacts]:
        """:class:`EventFacts` of the given rows (unknown rows are left out)."""
        position, known = self._locate(np.fromiter(row_ids, dtype=np.int64))
        position = position[known]
        vocab = self.vocabulary.values
        found: dict[int, EventFacts] = {}
        for row, event_id, kind, action, step, disposition, time, party in zip(
            self.row_ids[position].tolist(),
            self.event_ids[position].tolist(),
            self.event_type[position].tolist(),
            self.action[position].tolist(),
            self.biz_step[position].tolist(),
            self.disposition[position].tolist(),
            self.event_time[position].tolist(),
            self.party[position].tolist(),
            strict=True,
        ):
            found[row] = EventFacts(
                row_id=row,
                event_id=event_id.decode(),
                event_type=vocab[kind] or "",
                action=vocab[action],
                biz_step=vocab[step],
                disposition=vocab[disposition],
                event_time=time.replace(tzinfo=UTC),
                capturing_party_id=None if party == NONE else party,
            )
        return found


HOP_COLUMNS = (
    "ids",
    "item_ids",
    "from_party",
    "to_party",
    "from_ref",
    "to_ref",
    "quantity",
    "ship_event",
    "receive_event",
    "shipped_at",
    "received_at",
)


@dataclass(frozen=True)
class HopTable(Mapping[int, tuple[HopFacts, ...]]):
    """Custody hops as columns, sorted by (item, hop id): a mapping item id → its hops
    (oldest first), whose :class:`HopFacts` are built only for the items asked for.

    Refs are codes into a :class:`Vocabulary`; missing integers are ``NONE``, a missing
    quantity NaN, a missing time NaT.
    """

    ids: IntArray
    item_ids: IntArray
    from_party: IntArray
    to_party: IntArray
    from_ref: NDArray[np.int32]
    to_ref: NDArray[np.int32]
    quantity: NDArray[np.float64]
    ship_event: IntArray
    receive_event: IntArray
    shipped_at: NDArray[np.datetime64]
    received_at: NDArray[np.datetime64]
    vocabulary: Vocabulary

    @classmethod
    def from_facts(cls, hops: Iterable[HopFacts], vocabulary: Vocabulary) -> HopTable:
        rows = sorted(hops, key=lambda hop: (hop.item_id, hop.id))

        def ints(values: Iterable[int | None]) -> IntArray:
            return np.array([NONE if v is None else v for v in values], dtype=np.int64)

        def times(values: Iterable[datetime | None]) -> NDArray[np.datetime64]:
            return np.array(
                [_NAT if v is None else np.datetime64(_naive_utc(v), "us") for v in values],
                dtype="datetime64[us]",
            )

        return cls(
            ids=ints(h.id for h in rows),
            item_ids=ints(h.item_id for h in rows),
            from_party=ints(h.from_party_id for h in rows),
            to_party=ints(h.to_party_id for h in rows),
            from_ref=vocabulary.codes([h.from_ref for h in rows]),
            to_ref=vocabulary.codes([h.to_ref for h in rows]),
            quantity=np.array(
                [np.nan if h.quantity is None else h.quantity for h in rows], dtype=np.float64
            ),
            ship_event=ints(h.ship_event_row_id for h in rows),
            receive_event=ints(h.receive_event_row_id for h in rows),
            shipped_at=times(h.shipped_at for h in rows),
            received_at=times(h.received_at for h in rows),
            vocabulary=vocabulary,
        )

    def columns(self) -> dict[str, np.ndarray[Any, Any]]:
        return {name: getattr(self, name) for name in HOP_COLUMNS}

    def _span(self, item_id: int) -> tuple[int, int]:
        start = int(np.searchsorted(self.item_ids, item_id, side="left"))
        stop = int(np.searchsorted(self.item_ids, item_id, side="right"))
        return start, stop

    def __getitem__(self, item_id: int) -> tuple[HopFacts, ...]:
        start, stop = self._span(item_id)
        if start == stop:
            raise KeyError(item_id)
        return self._facts(start, stop)

    def get(self, item_id: int, default: Any = None) -> Any:
        start, stop = self._span(item_id)
        return self._facts(start, stop) if start < stop else default

    def __iter__(self) -> Any:
        return iter(np.unique(self.item_ids).tolist())

    def __len__(self) -> int:
        return int(np.unique(self.item_ids).size)

    def _facts(self, start: int, stop: int) -> tuple[HopFacts, ...]:
        vocab = self.vocabulary.values
        window = slice(start, stop)

        def maybe(values: IntArray) -> list[int | None]:
            return [None if v == NONE else v for v in values[window].tolist()]

        def moments(values: NDArray[np.datetime64]) -> list[datetime | None]:
            return [_datetime(v) for v in values[window]]

        quantities = [None if q != q else q for q in self.quantity[window].tolist()]
        return tuple(
            HopFacts(
                id=hop_id,
                item_id=item_id,
                from_party_id=from_party,
                to_party_id=to_party,
                from_ref=vocab[from_ref],
                to_ref=vocab[to_ref],
                quantity=quantity,
                ship_event_row_id=ship,
                receive_event_row_id=receive,
                shipped_at=shipped,
                received_at=received,
            )
            for (
                hop_id,
                item_id,
                from_party,
                to_party,
                from_ref,
                to_ref,
                quantity,
                ship,
                receive,
                shipped,
                received,
            ) in zip(
                self.ids[window].tolist(),
                self.item_ids[window].tolist(),
                maybe(self.from_party),
                maybe(self.to_party),
                self.from_ref[window].tolist(),
                self.to_ref[window].tolist(),
                quantities,
                maybe(self.ship_event),
                maybe(self.receive_event),
                moments(self.shipped_at),
                moments(self.received_at),
                strict=True,
            )
        )

    def replaced(self, item_ids: Iterable[int], hops: Iterable[HopFacts]) -> HopTable:
        """A new table: every hop of ``item_ids`` dropped, then ``hops`` added."""
        dropped = np.unique(np.fromiter(item_ids, dtype=np.int64))
        keep = ~np.isin(self.item_ids, dropped)
        newer = HopTable.from_facts(hops, self.vocabulary)
        columns = {
            name: np.concatenate([column[keep], newer.columns()[name]])
            for name, column in self.columns().items()
        }
        order = np.lexsort((columns["ids"], columns["item_ids"]))
        return HopTable(
            **{name: column[order] for name, column in columns.items()},
            vocabulary=self.vocabulary,
        )
