"""Trace snapshots as memory-mapped files, shared by the processes of one machine.

A snapshot's arrays (the CSR graph, the item, event and custody hop columns) are written as
``.npy`` files into a version directory and read back with ``numpy.load(mmap_mode="r")``:
every ``serve`` process of the machine that maps the same version shares one copy in the
page cache, and a process's resident memory for them is what the OS keeps cached once, not a
copy per process. The rest (the few overriding URIs, the text vocabulary, the applied event
window) is small and goes into ``meta.pickle`` next to them.

Layout: ``<root>/<database key>/t<tenant>/v<applied event mark, 12 digits>-<pid>`` — written
under a temporary name in the same directory and renamed when complete (a reader never sees a
half-written version); a reader takes the version with the highest mark. The database key is
a hash of the database URL, so two databases never share files. Older versions are removed
by the writer, keeping the newest two (a process may still have the previous one mapped:
removing a mapped file is safe on POSIX, its pages stay until unmapped).

Files are versioned by the ledger's high-water mark: a process that maps a version then
refreshes it incrementally from the database (``snapshot.refresh_snapshot``: the events
above the version's floor), exactly as it refreshes a snapshot it loaded itself.

``meta.pickle`` is read with :mod:`pickle`: the directory must be writable only by the
service's own user (it is under the data directory, ``MEDLEDGER_TRACE_SNAPSHOT_DIR``).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from medledger.trace.engine import ItemTable, TraceGraph, Vocabulary
from medledger.trace.engine.facts import HOP_COLUMNS, EventTable, HopTable
from medledger.trace.engine.graph import Adjacency

if TYPE_CHECKING:
    from medledger.trace.snapshot import Snapshot

FORMAT = 2
_ADJACENCY = ("indptr", "neighbour", "event_row_id", "kind", "edge_id")
_ITEMS = (
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
_EVENTS = (
    "row_ids",
    "event_ids",
    "event_type",
    "action",
    "biz_step",
    "disposition",
    "event_time",
    "party",
)


def database_key(url: str) -> str:
    """A short stable name for a database (its URL without password, hashed)."""
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def tenant_dir(root: Path, database: str, tenant_id: int) -> Path:
    return root / database / f"t{int(tenant_id)}"


def mark_of(snapshot: Snapshot) -> int:
    """The version mark of a snapshot: the highest event row it applied."""
    return max(snapshot.applied, default=snapshot.floor)


def newest(directory: Path) -> tuple[int, Path] | None:
    """The newest complete version in ``directory`` (mark, path), if any."""
    best: tuple[int, Path] | None = None
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return None
    for entry in entries:
        name = entry.name
        if not name.startswith("v") or not entry.is_dir():
            continue
        try:
            mark = int(name[1:].split("-", 1)[0])
        except ValueError:
            continue
        if best is None or mark > best[0]:
            best = (mark, Path(entry.path))
    return best


def save(snapshot: Snapshot, directory: Path) -> Path:
    """Write ``snapshot`` as a new version in ``directory`` (atomically) and return it."""
    directory.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=".tmp-", dir=directory))
    try:
        arrays: dict[str, np.ndarray[Any, Any]] = {"graph.item_ids": snapshot.graph.item_ids}
        for side in ("down", "up"):
            adjacency = getattr(snapshot.graph, side)
            for name in _ADJACENCY:
                arrays[f"{side}.{name}"] = getattr(adjacency, name)
        for name in _ITEMS:
            arrays[f"items.{name}"] = getattr(snapshot.items, name)
        for name in _EVENTS:
            arrays[f"events.{name}"] = getattr(snapshot.events, name)
        for name, column in snapshot.hops.columns().items():
            arrays[f"hops.{name}"] = column
        for name, array in arrays.items():
            np.save(temporary / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
        meta = {
            "format": FORMAT,
            "tenant_id": snapshot.tenant_id,
            "vocabulary": snapshot.items.vocabulary.values,
            "uri_overrides": dict(snapshot.items.uri_overrides),
            "max_item_id": snapshot.max_item_id,
            "max_edge_id": snapshot.max_edge_id,
            "max_hop_id": snapshot.max_hop_id,
            "floor": snapshot.floor,
            "applied": sorted(snapshot.applied),
            "ended_containments": sorted(snapshot.ended_containments),
        }
        with open(temporary / "meta.pickle", "wb") as handle:
            pickle.dump(meta, handle, protocol=pickle.HIGHEST_PROTOCOL)
        final = directory / f"v{mark_of(snapshot):012d}-{os.getpid()}"
        if final.exists():
            shutil.rmtree(final)
        os.rename(temporary, final)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    _prune(directory, keep=final)
    return final


def _prune(directory: Path, keep: Path) -> None:
    """Remove versions older than the newest two, and stale temporary directories."""
    versions = sorted(
        (entry for entry in directory.iterdir() if entry.name.startswith("v")),
        key=lambda path: path.name,
    )
    for old in versions[:-2]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)


def load(path: Path) -> Snapshot:
    """The snapshot of a version directory, its arrays memory-mapped read-only."""
    from medledger.trace.snapshot import Snapshot

    with open(path / "meta.pickle", "rb") as handle:
        meta = pickle.load(handle)  # our own file (see the module doc)
    if meta.get("format") != FORMAT:
        raise ValueError(f"unknown trace snapshot format in {path}")

    def array(name: str) -> Any:
        # A plain ndarray view of the mapping (it keeps the mapping alive): numpy's memmap
        # subclass adds a Python hook to every slice and gather a trace makes.
        mapped = np.load(path / f"{name}.npy", mmap_mode="r", allow_pickle=False)
        return mapped.view(np.ndarray)

    vocabulary = Vocabulary()
    for value in meta["vocabulary"][1:]:
        vocabulary.code(value)
    graph = TraceGraph(
        item_ids=array("graph.item_ids"),
        down=Adjacency(**{name: array(f"down.{name}") for name in _ADJACENCY}),
        up=Adjacency(**{name: array(f"up.{name}") for name in _ADJACENCY}),
    )
    items = ItemTable(
        **{name: array(f"items.{name}") for name in _ITEMS},
        vocabulary=vocabulary,
        uri_overrides=meta["uri_overrides"],
    )
    events = EventTable(
        **{name: array(f"events.{name}") for name in _EVENTS}, vocabulary=vocabulary
    )
    return Snapshot(
        tenant_id=int(meta["tenant_id"]),
        graph=graph,
        items=items,
        hops=HopTable(
            **{name: array(f"hops.{name}") for name in HOP_COLUMNS},
            vocabulary=vocabulary,
        ),
        events=events,
        max_item_id=int(meta["max_item_id"]),
        max_edge_id=int(meta["max_edge_id"]),
        max_hop_id=int(meta["max_hop_id"]),
        floor=int(meta["floor"]),
        applied=frozenset(meta["applied"]),
        ended_containments=frozenset(tuple(entry) for entry in meta["ended_containments"]),
        loads=0,
    )


def counted(snapshot: Snapshot, like: Snapshot) -> Snapshot:
    """``snapshot`` with ``like``'s load and refresh counts and parties."""
    return replace(
        snapshot,
        loads=like.loads,
        refreshes=like.refreshes,
        parties=like.parties,
        parties_version=like.parties_version,
    )
