"""Checking, normalising and hashing the events of a large capture document in parallel.

Per event, capture spends most of its Python time on pure work: the compiled schema check,
the CBV vocabulary and namespace checks, normalisation and the CBV 2.0 event hash (about
2.3 s for 20 000 events on a 2-core VM, against ~3 s to store every row). None of it depends
on other events or on the database, so for a document of at least :data:`MIN_EVENTS` events
the event list is cut into slices: worker processes take all but the first, the capturing
process takes the first, and the slices come back in order.

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
from collections.abc import Mapping, Sequence
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
_FIELDS: Final = tuple(f.name for f in fields(NormalisedEvent))
_ORIGINAL: Final = _FIELDS.index("original")

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
    head = run.head()
    if head is None:
        run.abandon()
        return None
    rest = run.rest()
    return None if rest is None else head + rest


def start(document: Mapping[str, Any], located: Sequence[LocatedEvent]) -> ParallelRun | None:
    """Hand the workers their slices of ``document``'s events and return at once; None when
    this path does not apply (see :func:`prepare_document`). The caller then takes
    :meth:`ParallelRun.head` (its own slice, worked out in the calling thread) and, when it
    is ready for them, :meth:`ParallelRun.rest`."""
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
    pool = _get_pool()
    if pool is None:
        return None
    context = document.get("@context")
    bounds = _slices(len(events), worker_count())
    try:
        futures: list[Future[list[tuple[Any, ...]] | None]] = [
            pool.submit(check_and_normalise, events[begin:stop], context)
            for begin, stop in bounds[1:]
        ]
    except RuntimeError as error:  # the pool broke earlier (BrokenProcessPool) or shut down
        log.warning("capture workers unavailable (%s); checking serially", error)
        _discard_pool(pool)
        return None
    return ParallelRun(pool, events, located, bounds, futures)


class ParallelRun:
    """One document being checked: the capturing process's slice, then the workers'."""

    def __init__(
        self,
        pool: ProcessPoolExecutor,
        events: list[Any],
        located: Sequence[LocatedEvent],
        bounds: list[tuple[int, int]],
        futures: list[Future[list[tuple[Any, ...]] | None]],
    ) -> None:
        self._pool = pool
        self._events = events
        self._located = located
        self._bounds = bounds
        self._futures = futures

    def head(self) -> list[NormalisedEvent] | None:
        """The first slice, checked and normalised here; None if one of its events is not
        valid."""
        _, stop = self._bounds[0]
        return _normalise_slice(self._events[:stop], [i.event for i in self._located[:stop]])

    def abandon(self) -> None:
        """The document goes the serial way: drop the slices no worker has started."""
        for future in self._futures:
            future.cancel()

    def rest(self) -> list[NormalisedEvent] | None:
        """The workers' slices, in order (waits for them); None if one of their events is
        not valid or a worker failed."""
        results: list[NormalisedEvent] | None = []
        for future, (begin, stop) in zip(self._futures, self._bounds[1:], strict=True):
            try:
                rows = future.result()
            except Exception as error:
                log.warning("a capture worker failed (%r); checking serially", error)
                _discard_pool(self._pool)
                return None
            if rows is None or results is None:
                results = None
                continue
            for item, row in zip(self._located[begin:stop], rows, strict=True):
                results.append(
                    NormalisedEvent(*row[:_ORIGINAL], item.event, *row[_ORIGINAL:])  # type: ignore[call-arg]
                )
        return results


#: The capturing process's slice is this fraction of a worker's: besides checking it, the
#: capture inserts its event rows while the workers still check theirs (~0.07 ms per event),
#: and a worker's events also travel both ways (~0.04 ms against ~0.12 ms of checks), so
#: both sides finish together.
HEAD_WEIGHT: Final = 0.85


def _slices(count: int, workers: int) -> list[tuple[int, int]]:
    """(start, stop) of the capturing process's slice, then of each worker's."""
    head = min(count, round(count * HEAD_WEIGHT / (HEAD_WEIGHT + workers)))
    rest = count - head
    bounds = [(0, head)]
    for n in range(workers):
        start = head + rest * n // workers
        stop = head + rest * (n + 1) // workers
        if stop > start:
            bounds.append((start, stop))
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
            values = tuple(getattr(event, name) for name in _FIELDS)
            rows.append(values[:_ORIGINAL] + values[_ORIGINAL + 1 :])
        return rows
    finally:
        gc.enable()
