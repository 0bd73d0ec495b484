"""Checking, normalising and hashing the events of a large capture document in parallel.

Per event, capture spends most of its Python time on pure work: the compiled schema check,
the CBV vocabulary and namespace checks, normalisation and the CBV 2.0 event hash (about
as long as storing every row). None of it depends on other events or on the database, so
for a document of at least :data:`MIN_EVENTS` events the event list is cut into slices of
:data:`SLICE_EVENTS`: worker processes take them first come, first served, the capturing
process checks the first (and any a worker has not started when that is worth it, see
:meth:`ParallelRun.slices`), and the caller gets them in document order, one by one, to store
each while later ones are checked.

This is an accelerator for **valid** documents only. A slice answers ``None`` as soon as one
of its events fails a check or cannot be normalised, and the caller then runs the ordinary
serial path over the whole document, which reports every error exactly as before. A valid
document gives the very same normalised events either way (``tests/trace/test_parallel_capture.py``
captures documents both ways and compares).

Workers are separate processes (``spawn``: nothing of the server — connections, threads,
the trace snapshot — is inherited), started on first use or by :func:`prepare` at server
start, each compiling its validators once. Their number is the ``capture_workers`` setting
(``MEDLEDGER_CAPTURE_WORKERS``): ``0`` turns this off; unset means one fewer than the CPUs,
at most :data:`MAX_AUTO_WORKERS` (none on a single CPU). A broken pool (a worker killed) is
logged and replaced; that capture runs serially.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import fields
from typing import Any, Final

from medledger.core.errors import ValidationFailed
from medledger.trace.epcis.document import LocatedEvent, with_context
from medledger.trace.epcis.normalise import NormalisedEvent, normalise_event
from medledger.trace.epcis.validation import (
    document_event_lists,
    event_problems,
    fast_event_valid,
    fast_skeleton_valid,
    prepare_validators,
)

__all__ = [
    "MIN_EVENTS",
    "ParallelRun",
    "configure",
    "prepare",
    "prepare_document",
    "start",
    "worker_count",
]

log = logging.getLogger(__name__)

#: Documents with fewer events are checked in the capturing process only: shipping a slice
#: to a worker and its results back costs ~15 µs per event, worth it only in bulk.
MIN_EVENTS: Final = 2_000
MAX_AUTO_WORKERS: Final = 4

# NormalisedEvent's fields in order; ``original`` (the event as given, which the capturing
# process holds anyway) does not travel back from a worker.
_FIELDS: Final = tuple(f.name for f in fields(NormalisedEvent) if f.name != "original")

_lock = threading.Lock()
_wanted: int | None = None
_pool: ProcessPoolExecutor | None = None
_pool_size = 0


def configure(workers: int | None) -> None:
    """Use ``workers`` processes (``0``: none, ``None``: automatic; see the module doc).

    A pool of another size is shut down; the new one starts on first use."""
    global _wanted, _pool, _pool_size
    if workers is not None and workers < 0:
        raise ValueError("capture workers must be 0 or more")
    with _lock:
        _wanted = workers
        if _pool is not None and _pool_size != _resolved(workers):
            _pool.shutdown(wait=False, cancel_futures=True)
            _pool, _pool_size = None, 0


def _resolved(workers: int | None) -> int:
    if workers is not None:
        return workers
    return max(0, min((os.cpu_count() or 1) - 1, MAX_AUTO_WORKERS))


def worker_count() -> int:
    """How many worker processes a large capture uses."""
    return _resolved(_wanted)


def _get_pool() -> ProcessPoolExecutor | None:
    global _pool, _pool_size
    size = worker_count()
    if size == 0:
        return None
    with _lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                max_workers=size,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=prepare_validators,
            )
            _pool_size = size
        return _pool


def _discard_pool(pool: ProcessPoolExecutor) -> None:
    global _pool, _pool_size
    with _lock:
        if _pool is pool:
            _pool, _pool_size = None, 0
    pool.shutdown(wait=False, cancel_futures=True)


def _ready(_: int) -> int:
    return os.getpid()


def prepare() -> int:
    """Start the workers now and wait until each has compiled its validators (server start,
    benchmarks); returns how many answered."""
    pool = _get_pool()
    if pool is None:
        return 0
    size = worker_count()
    # One task per worker: the pool starts a process for each task that finds none idle.
    pids = {future.result() for future in [pool.submit(_ready, n) for n in range(size)]}
    return len(pids)


def prepare_document(
    document: Mapping[str, Any], located: Sequence[LocatedEvent]
) -> list[NormalisedEvent] | None:
    """The normalised events of ``document`` (one per ``located`` event, in order), checked
    and hashed in parallel — or ``None`` when this path does not apply (a small document, no
    workers, not a plain ``EPCISDocument`` event list) or any event is not valid: the caller
    then validates and normalises serially, with exact error reports."""
    run = start(document, located)
    if run is None:
        return None
    normalised: list[NormalisedEvent] = []
    for piece in run.slices():
        if piece is None:
            return None
        normalised.extend(piece)
    return normalised


def start(document: Mapping[str, Any], located: Sequence[LocatedEvent]) -> ParallelRun | None:
    """Hand the workers the slices of ``document``'s events and return at once; None when
    this path does not apply (see :func:`prepare_document`). The caller then takes the
    slices in order from :meth:`ParallelRun.slices`."""
    if len(located) < MIN_EVENTS or worker_count() == 0:
        return None
    if document.get("type") != "EPCISDocument":
        return None
    body = document.get("epcisBody")
    events = body.get("eventList") if isinstance(body, Mapping) else None
    if not isinstance(events, list) or len(events) != len(located):
        return None  # entries that are not objects: the serial path reports them
    if len(document_event_lists(document)) != 1:
        return None  # a query-results list beside the event list: checked serially
    if not fast_skeleton_valid(document):
        return None
    bounds = _slices(len(events))
    pool = _get_pool() if len(bounds) > 1 else None
    if pool is None:
        return None
    context = document.get("@context")
    futures: list[Future[list[tuple[Any, ...]] | None] | None] = [None]  # the first: here
    try:
        for begin, stop in bounds[1:]:
            futures.append(pool.submit(check_and_normalise, events[begin:stop], context))
    except RuntimeError as error:  # the pool broke earlier (BrokenProcessPool) or shut down
        log.warning("capture workers unavailable (%s); checking serially", error)
        for future in futures:
            if future is not None:
                future.cancel()
        _discard_pool(pool)
        return None
    return ParallelRun(pool, events, located, bounds, futures)


class ParallelRun:
    """One document being checked, slice by slice: the capturing process checks the first
    slice, the workers the others (first come, first served, in document order), and the
    capturing process takes over a slice no worker has started when that makes the whole
    finish sooner (:meth:`slices`)."""

    def __init__(
        self,
        pool: ProcessPoolExecutor,
        events: list[Any],
        located: Sequence[LocatedEvent],
        bounds: list[tuple[int, int]],
        futures: list[Future[list[tuple[Any, ...]] | None] | None],
    ) -> None:
        self._pool = pool
        self._events = events
        self._located = located
        self._bounds = bounds
        self._futures = futures
        self._started = time.perf_counter()
        self._here: dict[int, list[NormalisedEvent] | None] = {}
        # Seconds per event: checking here, and the caller's work between two slices.
        self._check_cost: float | None = None
        self._caller_cost: float | None = None

    def slices(self) -> Iterator[list[NormalisedEvent] | None]:
        """Each slice's normalised events, in document order — or ``None`` (and nothing
        after it) as soon as a slice has an event that is not valid or a worker failed.

        What the caller does between two slices (inserting and projecting their events)
        only this process can do. When the next slice is still with a worker, this process
        checks a later slice no worker has started instead of waiting, if the workers' part
        would still take longer than everything left here (the costs per event measured so
        far in this document); the slice is kept until its turn."""
        spent, handed = 0.0, 0
        for index in range(len(self._bounds)):
            piece = self._here.pop(index) if index in self._here else self._take(index)
            if piece is None:
                self.abandon()
                yield None
                return
            handed_at = time.perf_counter()
            yield piece
            spent += time.perf_counter() - handed_at
            handed += len(piece)
            self._caller_cost = spent / handed if handed else None

    def abandon(self) -> None:
        """The document goes the serial way: drop the slices no worker has started."""
        for future in self._futures:
            if future is not None:
                future.cancel()

    def _take(self, index: int) -> list[NormalisedEvent] | None:
        future = self._futures[index]
        if future is None or future.cancel():  # ours, or no worker has started it: check here
            return self._check_here(index)
        later = index + 1
        while not future.done() and self._worth_checking_here(index):
            claimed = self._claim(later)
            if claimed is None:
                break
            piece = self._here[claimed] = self._check_here(claimed)
            if piece is None:
                return None
            later = claimed + 1
        return self._from_worker(index)

    def _worth_checking_here(self, index: int) -> bool:
        """Whether checking one more slice here (while slice ``index`` is with a worker)
        still leaves the workers' remaining part the longer one: their pace is what they
        have finished since the start (handing slices over and back included), this
        process's the caller's cost per event so far plus checking the slice."""
        if self._check_cost is None or self._caller_cost is None:
            return False
        finished = with_workers = 0
        for n, (begin, stop) in enumerate(self._bounds):
            future = self._futures[n]
            if future is None or future.cancelled():  # this process's slices
                continue
            if future.done():
                finished += stop - begin
            elif n >= index:
                with_workers += stop - begin
        if not finished:
            return False
        pace = finished / (time.perf_counter() - self._started)  # events per second
        left_here = (self._bounds[-1][1] - self._bounds[index][0]) * self._caller_cost
        size = SLICE_EVENTS
        return (with_workers - size) / pace >= left_here + size * self._check_cost

    def _claim(self, first: int) -> int | None:
        """The first slice from ``first`` on that no worker has started, now this process's."""
        for index in range(first, len(self._bounds)):
            future = self._futures[index]
            if index not in self._here and future is not None and future.cancel():
                return index
        return None

    def _check_here(self, index: int) -> list[NormalisedEvent] | None:
        begin, stop = self._bounds[index]
        started = time.perf_counter()
        piece = _normalise_slice(
            self._events[begin:stop], [item.event for item in self._located[begin:stop]]
        )
        self._check_cost = (time.perf_counter() - started) / max(1, stop - begin)
        return piece

    def _from_worker(self, index: int) -> list[NormalisedEvent] | None:
        future = self._futures[index]
        assert future is not None
        try:
            rows = future.result()
        except Exception as error:
            log.warning("a capture worker failed (%r); checking serially", error)
            _discard_pool(self._pool)
            return None
        if rows is None:
            return None
        begin, stop = self._bounds[index]
        # Rebuilt the way unpickling builds an instance (no __init__, the fields into its
        # __dict__): NormalisedEvent is a plain frozen dataclass, and this is ~2x faster.
        events: list[NormalisedEvent] = []
        new = object.__new__
        for item, row in zip(self._located[begin:stop], rows, strict=True):
            event = new(NormalisedEvent)
            values = event.__dict__
            values.update(zip(_FIELDS, row, strict=True))
            values["original"] = item.event
            events.append(event)
        return events


#: Events per slice. A worker's slice costs ~1 ms to hand over and collect besides its
#: checks (~0.05 ms per event); the capturing process waits for at most a few slices at the
#: end (those already queued to a worker).
SLICE_EVENTS: Final = 1_000


def _slices(count: int) -> list[tuple[int, int]]:
    """(start, stop) of each slice, in order: :data:`SLICE_EVENTS` each, the last one
    taking the remainder."""
    size = max(1, SLICE_EVENTS)
    bounds = [(begin, min(count, begin + size)) for begin in range(0, count, size)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] < size // 2:
        bounds[-2:] = [(bounds[-2][0], count)]
    return bounds


def _normalise_slice(
    raw_events: Sequence[Any], events: Sequence[Mapping[str, Any]]
) -> list[NormalisedEvent] | None:
    """``events`` (``raw_events`` with the document's context) normalised, or None as soon
    as one is not valid: the checks :func:`~medledger.trace.epcis.validation.validate_document`
    makes of each event, then :func:`normalise_event` as capture calls it. Two passes, like
    the serial path (interleaving the two per event runs ~30 % slower)."""
    for raw, event in zip(raw_events, events, strict=True):
        if not isinstance(raw, Mapping) or not fast_event_valid(raw) or event_problems(event, ""):
            return None
    try:
        return [normalise_event(event, strict_identifiers=False) for event in events]
    except ValidationFailed:
        return None


def check_and_normalise(events: list[Any], context: Any) -> list[tuple[Any, ...]] | None:
    """In a worker: one slice of a document's event list, checked and normalised; each event
    as NormalisedEvent's field values without ``original``; None if any event is invalid."""
    document = {"@context": context} if context is not None else {}
    # This process does nothing else meanwhile; the slice's objects all live until it returns.
    gc.disable()
    try:
        normalised = _normalise_slice(
            events,
            [with_context(raw, document) if isinstance(raw, Mapping) else raw for raw in events],
        )
        if normalised is None:
            return None
        rows: list[tuple[Any, ...]] = []
        for event in normalised:
            values = event.__dict__
            rows.append(tuple([values[name] for name in _FIELDS]))
        return rows
    finally:
        gc.enable()
