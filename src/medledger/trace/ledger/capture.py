"""EPCIS 2.0 capture: validate, normalise, store and project events in one transaction.

Capture is **synchronous**: ``POST /epcis/capture`` runs the whole job inside the request and
the job row records its outcome, so by the time the client reads the ``202`` and follows
``Location`` the job is already ``succeeded`` or ``failed``. The REST binding's contract
(202 + ``Location: /epcis/capture/{id}``) is kept, so a future asynchronous worker can take
over without changing clients. A capture job row is written even when every event is
rejected, so the client can read the errors.

Rules:

* validation is the pure engine's (EPCIS 2.0.1 JSON schema + CBV); values that cannot be
  normalised (a bad timestamp…) are reported like validation errors;
* ``rollback`` (default): any invalid event rejects the whole document, nothing is stored;
  ``proceed``: valid events are stored, invalid ones reported. Document-level errors (no
  ``@context``, a malformed header) reject everything in both modes;
* the event ID is the sender's ``eventID``, else the CBV 2.0 event hash. An event already in
  the ledger (same ID, same content: the same CBV 2.0 event hash) is skipped without error
  (idempotent re-capture), also within a document; the same ID with other content is an
  error of that event (``epcis.duplicate_event_id``, naming the eventID). An error
  declaration is stored under ``<eventID>#errorDeclaration`` (it repeats the ID of the event
  it corrects) and retracts that event's projections;
* only the party that captured an event may declare it erroneous — or the hub's QA roles
  (``qa``, ``qa_approver``) with a ``reason``, audited (``epcis.error_declared_by_qa``);
  anyone else's declaration is an error of that event (``epcis.not_event_owner``) and changes
  nothing;
* identifiers are canonicalised (EPC URNs and Digital Links → ``https://id.gs1.org/…``);
  keys with a wrong check digit are kept in their Digital Link spelling (EPCIS conformance
  does not cover GS1 key syntax, and the OpenEPCIS valid documents contain such keys);
* every event is attributed to the capturing party; one audit entry per job.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from medledger.compliance import audit
from medledger.core.db import is_postgres, utcnow
from medledger.core.errors import DomainError, FieldError, ValidationFailed
from medledger.core.principal import Permission, Principal, Role
from medledger.trace.epcis import parallel
from medledger.trace.epcis.document import LocatedEvent, is_single_event, locate_events
from medledger.trace.epcis.hashing import event_hash
from medledger.trace.epcis.normalise import NormalisedEvent, normalise_event
from medledger.trace.epcis.validation import EventError, validate_document
from medledger.trace.errors import Code
from medledger.trace.ledger.bulk import bulk_insert, table_of
from medledger.trace.ledger.projection import Projection, ProjectionCounts, StoredEvent
from medledger.trace.models import CaptureJob, EpcisEvent
from medledger.trace.repository import ERROR_DECLARATION_SUFFIX, existing_event_keys

ROLLBACK: Final = "rollback"
PROCEED: Final = "proceed"
ERROR_BEHAVIOURS: Final = (ROLLBACK, PROCEED)
STANDARD_CONTEXT: Final = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
_ID_CHUNK: Final = 900  # bound parameters per SELECT … IN, below SQLite's limits
_STANDARD_CONTEXTS: Final = frozenset(
    {STANDARD_CONTEXT, "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"}
)


_gc_lock = threading.Lock()
_gc_pauses = 0
_gc_was_enabled = False


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while the block runs.

    A capture allocates millions of short-lived, acyclic objects (JSON, normalised events,
    rows), which triggers full collections over everything alive again and again: ~15-20 %
    of a 20 000-event capture. Reference counting still frees them. The collector is
    process-wide, so concurrent captures share one pause: the first one in disables it, the
    last one out restores it (only if it was enabled in the first place).
    """
    global _gc_pauses, _gc_was_enabled
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_enabled:
                gc.enable()


# First key of the two-key advisory lock: keeps it apart from any other use of advisory locks.
_LEDGER_LOCK_NAMESPACE = 0x4D4C  # "ML"


def serialise_tenant_ledger_writes(session: Session, tenant_id: int) -> None:
    """One ledger writer per tenant at a time (PostgreSQL: a transaction-scoped advisory lock).

    Two things depend on it: a tenant's event row ids are then allocated in commit order, so
    the trace snapshot's incremental refresh (which reads rows above the ids it has applied)
    cannot miss a transaction that committed late; and two concurrent captures of the same
    event cannot both pass the duplicate check. SQLite already has a single writer.
    """
    if is_postgres(session):
        session.execute(
            text("SELECT pg_advisory_xact_lock(:namespace, :tenant)"),
            {"namespace": _LEDGER_LOCK_NAMESPACE, "tenant": tenant_id},
        )


@dataclass
class StoreResult:
    """What storing a batch of valid events did."""

    stored: list[StoredEvent] = field(default_factory=list)
    duplicates: int = 0
    projections: ProjectionCounts = field(default_factory=ProjectionCounts)


def error_entry(error: EventError) -> dict[str, Any]:
    """A validation error as the capture job stores and shows it."""
    return {
        "eventIndex": error.event_index,
        "eventID": error.event_id,
        "pointer": error.pointer,
        "code": error.code,
        "message": error.message,
    }


def storage_key(event: NormalisedEvent) -> str:
    """The ``epcis_events.event_id`` of an event (declarations get a suffix, see module doc)."""
    if event.error_declaration is not None:
        return event.event_id + ERROR_DECLARATION_SUFFIX
    return event.event_id


def _extra_context(context: Any) -> list[Any]:
    """The parts of a document ``@context`` beyond the standard EPCIS context (namespaces)."""
    items = context if isinstance(context, list) else [context]
    return [
        item
        for item in items
        if item is not None and not (isinstance(item, str) and item in _STANDARD_CONTEXTS)
    ]


def _stored_document(
    raw: Mapping[str, Any], event: NormalisedEvent, extra: list[Any]
) -> dict[str, Any]:
    document = dict(raw)
    if event.event_id_is_hash:
        document["eventID"] = event.event_id
    # Keep the namespaces the event's extensions need, so a query answer stays meaningful.
    if extra and "@context" not in document:
        document["@context"] = extra
    return document


def store_events(
    session: Session,
    principal: Principal,
    events: Sequence[tuple[NormalisedEvent, Mapping[str, Any]]],
    *,
    job_id: int | None,
    document_context: Any = None,
) -> StoreResult:
    """Insert ``events`` (normalised, with the JSON each came as) not yet in the ledger, and
    write their projections. Bulk statements; flushes, never commits."""
    if not events:
        return StoreResult()
    store = _EventStore(session, principal, job_id=job_id, document_context=document_context)
    store.insert(events)
    return store.finish()


class _EventStore:
    """Event rows inserted batch by batch (in document order), each batch's projections
    collected as soon as its rows are in, and written at the end (``projection.Projection``:
    a later event may correct an earlier one of the same document)."""

    def __init__(
        self, session: Session, principal: Principal, *, job_id: int | None, document_context: Any
    ) -> None:
        self.session = session
        self.principal = principal
        self.job_id = job_id
        self.result = StoreResult()
        self.already: set[str] = set()
        self.record_time = utcnow()
        self.extra = _extra_context(document_context)
        serialise_tenant_ledger_writes(session, principal.tenant_id)
        self.projection = Projection(
            session, tenant_id=principal.tenant_id, capturing_party_id=principal.party_id
        )

    def insert(self, events: Sequence[tuple[NormalisedEvent, Mapping[str, Any]]]) -> None:
        """Insert the event rows of ``events`` not in the ledger (nor in an earlier batch)."""
        session, result, already = self.session, self.result, self.already
        tenant_id, party_id, job_id = self.principal.tenant_id, self.principal.party_id, self.job_id
        record_time, extra = self.record_time, self.extra
        already |= existing_event_keys(session, tenant_id, [storage_key(e) for e, _ in events])
        rows: list[tuple[Any, ...]] = []
        accepted: list[NormalisedEvent] = []
        for event, raw in events:
            key = storage_key(event)
            if key in already:
                result.duplicates += 1
                continue
            already.add(key)
            accepted.append(event)
            rows.append(
                (
                    tenant_id,
                    key,
                    event.event_type,
                    event.action,
                    event.event_time,
                    event.event_time_zone_offset,
                    record_time,
                    event.biz_step,
                    event.disposition,
                    event.read_point,
                    event.biz_location,
                    event.transformation_id,
                    party_id,
                    job_id,
                    None,
                    [{"type": t.type, "value": t.value} for t in event.biz_transaction_list],
                    [{"type": s.type, "value": s.value} for s in event.source_list],
                    [{"type": d.type, "value": d.value} for d in event.destination_list],
                    _stored_document(raw, event, extra),
                )
            )
        if not rows:
            return
        session.flush()
        ids = _insert_events(session, tenant_id, rows)
        stored = [
            StoredEvent(ids[row[1]], event) for row, event in zip(rows, accepted, strict=True)
        ]
        result.stored.extend(stored)
        self.projection.add(stored)

    def finish(self) -> StoreResult:
        """Write the projections of every inserted event; what storing did."""
        self.result.projections = self.projection.finish()
        return self.result


_QA_ROLES: Final = frozenset({Role.QA, Role.QA_APPROVER})


@dataclass(frozen=True)
class _Override:
    """An error declaration the hub's QA made for an event another party captured."""

    event_id: str
    capturing_party_id: int
    reason: str


class _LedgerChecks:
    """What the ledger says about events about to be stored, document order: an eventID
    already used for other content (in the ledger or earlier in the document), and error
    declarations by a party that may not make them. Checked before anything is stored."""

    def __init__(self, session: Session, principal: Principal, context: Any) -> None:
        self.session = session
        self.principal = principal
        self.context = context
        self.seen: dict[str, tuple[NormalisedEvent, Mapping[str, Any]]] = {}
        self.overrides: list[_Override] = []

    def check(
        self, events: Sequence[tuple[int, str, NormalisedEvent, Mapping[str, Any]]]
    ) -> list[EventError]:
        """Errors of ``events`` ((index, JSON pointer, normalised, raw), in document order)."""
        errors: list[EventError] = []
        keys = [storage_key(event) for _, _, event, _ in events]
        declared = [e.event_id for _, _, e, _ in events if e.error_declaration is not None]
        stored = _stored_events(self.session, self.principal.tenant_id, [*keys, *declared])
        for (index, pointer, event, raw), key in zip(events, keys, strict=True):
            earlier = self.seen.get(key)
            if earlier is not None or key in stored:
                if earlier is not None:
                    same = _same_content(earlier[0], earlier[1], event, raw, self.context)
                else:
                    same = _same_content(None, stored[key][1], event, raw, self.context)
                if not same:
                    errors.append(_duplicate_error(index, pointer, event.event_id))
                    continue
            self.seen.setdefault(key, (event, raw))
            if event.error_declaration is None:
                continue
            if event.event_id in self.seen and storage_key(self.seen[event.event_id][0]) == (
                event.event_id
            ):
                continue  # corrects an event of this very capture: the capturer's own
            original = stored.get(event.event_id)
            if original is None or original[0] == self.principal.party_id:
                continue
            reason = event.error_declaration.reason
            if self._may_override() and reason:
                self.overrides.append(_Override(event.event_id, original[0], reason))
                continue
            errors.append(
                EventError(
                    index,
                    event.event_id,
                    pointer + "/errorDeclaration",
                    Code.NOT_EVENT_OWNER,
                    "Only the party that captured event "
                    f"{event.event_id} (or the hub's QA, with a reason) may declare it an error",
                )
            )
        return errors

    def _may_override(self) -> bool:
        principal = self.principal
        return principal.party_id == principal.hub_party_id and principal.role in _QA_ROLES

    def audit(self, stored: Sequence[StoredEvent]) -> None:
        """One audit entry per QA declaration that was stored."""
        done = {s.event.event_id for s in stored if s.event.error_declaration is not None}
        for override in self.overrides:
            if override.event_id not in done:
                continue
            audit.record(
                self.session,
                tenant_id=self.principal.tenant_id,
                action="epcis.error_declared_by_qa",
                entity_type="epcis_event",
                entity_id=override.event_id[:200],
                new_values={
                    "event_id": override.event_id,
                    "capturing_party_id": override.capturing_party_id,
                    "reason": override.reason,
                },
                reason=override.reason,
            )


def _stored_events(
    session: Session, tenant_id: int, keys: Sequence[str]
) -> dict[str, tuple[int, dict[str, Any]]]:
    """(capturing party, stored document) of the events among ``keys`` in the ledger."""
    found: dict[str, tuple[int, dict[str, Any]]] = {}
    unique = sorted(set(keys))
    table = table_of(EpcisEvent)
    for start in range(0, len(unique), _ID_CHUNK):
        chunk = unique[start : start + _ID_CHUNK]
        for key, party, document in session.connection().execute(
            select(table.c.event_id, table.c.capturing_party_id, table.c.document).where(
                table.c.tenant_id == tenant_id, table.c.event_id.in_(chunk)
            )
        ):
            found[key] = (int(party), document)
    return found


def _same_content(
    first: NormalisedEvent | None,
    first_raw: Mapping[str, Any],
    second: NormalisedEvent,
    second_raw: Mapping[str, Any],
    context: Any,
) -> bool:
    """Whether two events with one eventID say the same (the CBV 2.0 event hash, which does
    not depend on how identifiers or times are written, and the error declaration)."""
    if second.event_id_is_hash:
        return True  # the ID is the content's hash
    first_context = context if first is not None else None
    return event_hash(first_raw, first_context) == event_hash(second_raw, context) and (
        first_raw.get("errorDeclaration") == second_raw.get("errorDeclaration")
    )


def _duplicate_error(index: int, pointer: str, event_id: str) -> EventError:
    return EventError(
        index,
        event_id,
        pointer + "/eventID",
        "epcis.duplicate_event_id",
        f"eventID {event_id} is already used for an event with other content",
    )


def _store_checked_in_parallel(
    session: Session,
    principal: Principal,
    run: parallel.ParallelRun,
    document: Mapping[str, Any],
    job_id: int | None,
) -> StoreResult | None:
    """Store a large document checked in parallel (``parallel.start``): the event rows of
    each slice are inserted as soon as it is checked (while the workers check later ones),
    then every event is projected. None (nothing stored: the savepoint is rolled back) when
    an event is not valid, so the caller goes the serial way for exact errors."""
    raw_events = document["epcisBody"]["eventList"]
    savepoint = None
    store = None
    begin = 0
    checks = _LedgerChecks(session, principal, document.get("@context"))
    for normalised in run.slices():
        if normalised is not None:
            stop = begin + len(normalised)
            pointers = [f"/epcisBody/eventList/{i}" for i in range(begin, stop)]
            slice_events = list(
                zip(range(begin, stop), pointers, normalised, raw_events[begin:stop], strict=True)
            )
            if checks.check(slice_events):
                normalised = None  # the serial way reports the errors exactly
        if normalised is None:
            if savepoint is not None:
                savepoint.rollback()
            return None
        if store is None:
            savepoint = session.begin_nested()
            store = _EventStore(
                session, principal, job_id=job_id, document_context=document.get("@context")
            )
        stop = begin + len(normalised)
        store.insert(list(zip(normalised, raw_events[begin:stop], strict=True)))
        begin = stop
    assert store is not None and savepoint is not None
    result = store.finish()
    checks.audit(result.stored)
    savepoint.commit()
    return result


_EVENT_COLUMNS: Final = (
    "tenant_id",
    "event_id",
    "event_type",
    "action",
    "event_time",
    "event_time_zone_offset",
    "record_time",
    "biz_step",
    "disposition",
    "read_point",
    "biz_location",
    "transformation_id",
    "capturing_party_id",
    "capture_job_id",
    "retracted_by_event_id",
    "biz_transactions",
    "sources",
    "destinations",
    "document",
)


def _insert_events(session: Session, tenant_id: int, rows: list[tuple[Any, ...]]) -> dict[str, int]:
    """Insert the event rows (tuples in ``_EVENT_COLUMNS`` order); their ids by storage key.

    PostgreSQL returns the ids from the bulk insert itself; on SQLite they are read back by
    the unique (tenant, event_id) key: one indexed ``SELECT … IN`` per chunk.
    """
    table = table_of(EpcisEvent)
    inserted = bulk_insert(session, table, _EVENT_COLUMNS, rows, returning=("event_id", "id"))
    if inserted is not None:
        return {event_id: row_id for event_id, row_id in inserted}
    connection = session.connection()
    keys = [row[1] for row in rows]
    ids: dict[str, int] = {}
    for start in range(0, len(keys), _ID_CHUNK):
        chunk = keys[start : start + _ID_CHUNK]
        for event_id, row_id in connection.execute(
            select(table.c.event_id, table.c.id).where(
                table.c.tenant_id == tenant_id, table.c.event_id.in_(chunk)
            )
        ):
            ids[event_id] = row_id
    return ids


def _normalise_all(
    document: Mapping[str, Any], located: Sequence[LocatedEvent], errors: list[EventError]
) -> tuple[list[tuple[NormalisedEvent, Mapping[str, Any]]], list[EventError]]:
    """Normalise the ``located`` events of ``document`` without validation errors;
    normalisation failures become errors."""
    bad = {error.event_index for error in errors}
    raw_events = _raw_event_list(document)
    normalised: list[tuple[NormalisedEvent, Mapping[str, Any]]] = []
    extra: list[EventError] = []
    for item in located:
        if item.index in bad:
            continue
        try:
            event = normalise_event(item.event, strict_identifiers=False)
        except ValidationFailed as failure:
            for problem in failure.errors or [
                FieldError("", failure.code, failure.render_english())
            ]:
                pointer = item.pointer + "".join(
                    "/" + part for part in problem.field.split(".") if part
                )
                message = (
                    problem.message.format(**problem.params) if problem.params else problem.message
                )
                event_id = item.event.get("eventID")
                extra.append(
                    EventError(
                        item.index,
                        event_id if isinstance(event_id, str) else None,
                        pointer,
                        problem.code,
                        message,
                    )
                )
            continue
        raw = raw_events[item.index] if raw_events is not None else item.event
        normalised.append((event, raw))
    return normalised, extra


def _check_and_normalise(
    document: Any, located: Sequence[LocatedEvent]
) -> tuple[list[EventError], list[tuple[NormalisedEvent, Mapping[str, Any]]]]:
    """Validate every event, normalise the valid ones: (every error, in document order;
    the normalised events with the JSON each came as)."""
    errors = validate_document(document, located)
    normalised: list[tuple[NormalisedEvent, Mapping[str, Any]]] = []
    document_level = any(error.event_index is None for error in errors)
    if not document_level and isinstance(document, Mapping):
        normalised, more = _normalise_all(document, located, errors)
        errors = sorted(
            [*errors, *more],
            key=lambda e: (-1 if e.event_index is None else e.event_index, e.pointer, e.code),
        )
    return errors, normalised


def _raw_event_list(document: Mapping[str, Any]) -> list[Any] | None:
    if is_single_event(document):
        return [{k: v for k, v in document.items()}]
    body = document.get("epcisBody")
    if not isinstance(body, Mapping):
        return None
    if isinstance(body.get("eventList"), list):
        return list(body["eventList"])
    results = (body.get("queryResults") or {}).get("resultsBody")
    if isinstance(results, Mapping) and isinstance(results.get("eventList"), list):
        return list(results["eventList"])
    return None


def capture_document(
    session: Session,
    principal: Principal,
    document: Any,
    *,
    error_behaviour: str = ROLLBACK,
) -> CaptureJob:
    """Capture an EPCISDocument (or EPCISQueryDocument) as one capture job.

    Validates every event, then stores the valid ones according to ``error_behaviour``
    (``rollback``: all or nothing; ``proceed``: valid events stored, invalid ones reported),
    writes their projections and one audit entry, and returns the finished job (``succeeded``
    or ``failed``; a failed ``proceed`` job may have stored some events). Raises
    ``PermissionDenied`` without ``trace:capture`` and ``ValidationFailed`` for an unknown
    error behaviour.
    """
    principal.require(Permission.TRACE_CAPTURE)
    if error_behaviour not in ERROR_BEHAVIOURS:
        raise DomainError(
            "GS1-Capture-Error-Behaviour must be rollback or proceed, not {value}.",
            code=Code.INVALID_CAPTURE_ERROR_BEHAVIOUR,
            params={"value": error_behaviour},
            errors=[
                FieldError(
                    "GS1-Capture-Error-Behaviour",
                    Code.INVALID_CAPTURE_ERROR_BEHAVIOUR,
                    "must be rollback or proceed",
                )
            ],
            status=400,
        )
    job = CaptureJob(
        tenant_id=principal.tenant_id,
        capturing_party_id=principal.party_id,
        submitted_by=principal.label[:200],
        state="running",
        error_behaviour=error_behaviour,
        event_count=0,
        captured_count=0,
        errors=[],
        document=None,
    )
    session.add(job)
    session.flush()
    with paused_gc():
        located = locate_events(document) if isinstance(document, Mapping) else []
        job.event_count = len(located)
        # A large valid document is checked and hashed in worker processes too (parallel.py).
        run = parallel.start(document, located) if located else None
        result = (
            _store_checked_in_parallel(session, principal, run, document, job.id)
            if run is not None
            else None
        )
        errors: list[EventError] = []
        if result is None:
            errors, normalised = _check_and_normalise(document, located)
            result = StoreResult()
            context = document.get("@context") if isinstance(document, Mapping) else None
            checks = _LedgerChecks(session, principal, context)
            if normalised:
                bad = {error.event_index for error in errors}
                kept = [item for item in located if item.index not in bad]
                refused = checks.check(
                    [
                        (item.index, item.pointer, event, raw)
                        for item, (event, raw) in zip(kept, normalised, strict=True)
                    ]
                )
                if refused:
                    out = {error.event_index for error in refused}
                    normalised = [
                        pair
                        for item, pair in zip(kept, normalised, strict=True)
                        if item.index not in out
                    ]
                    errors = sorted(
                        [*errors, *refused],
                        key=lambda e: (
                            -1 if e.event_index is None else e.event_index,
                            e.pointer,
                            e.code,
                        ),
                    )
            if normalised and (not errors or error_behaviour == PROCEED):
                result = store_events(
                    session, principal, normalised, job_id=job.id, document_context=context
                )
                checks.audit(result.stored)
    job.errors = [error_entry(error) for error in errors]
    job.captured_count = len(result.stored)
    job.state = "failed" if errors else "succeeded"
    job.finished_at = utcnow()
    session.flush()
    audit.record(
        session,
        tenant_id=principal.tenant_id,
        action="epcis.capture",
        entity_type="epcis_capture_job",
        entity_id=job.id,
        new_values={
            "state": job.state,
            "error_behaviour": error_behaviour,
            "event_count": job.event_count,
            "captured_count": job.captured_count,
            "duplicate_count": result.duplicates,
            "error_count": len(errors),
            "capturing_party_id": principal.party_id,
        },
    )
    return job


def capture_event(session: Session, principal: Principal, event: Any) -> tuple[str, bool]:
    """Capture one EPCIS event synchronously (``POST /epcis/events``).

    Returns ``(eventID, created)``; ``created`` is False when the event was already stored
    (idempotent). Raises ``ValidationFailed`` (code ``epcis.invalid_event``) listing every
    problem, each with its JSON pointer as ``field``; nothing is stored then.
    """
    principal.require(Permission.TRACE_CAPTURE)
    if not isinstance(event, Mapping) or not is_single_event(event):
        raise ValidationFailed(
            "The body must be one EPCIS event (a JSON object with a type).",
            code=Code.INVALID_EVENT,
            errors=[FieldError("", Code.SCHEMA, "An EPCIS event is a JSON object with a type")],
        )
    job = capture_document(session, principal, dict(event), error_behaviour=ROLLBACK)
    conflict = next((e for e in job.errors if e["code"] == "epcis.duplicate_event_id"), None)
    if conflict is not None:
        raise DomainError(
            "eventID {event_id} is already used for an event with other content.",
            code=Code.DUPLICATE_EVENT_ID,
            params={"event_id": conflict["eventID"]},
            errors=[FieldError(conflict["pointer"], conflict["code"], conflict["message"])],
            status=409,
        )
    if job.state != "succeeded":
        raise ValidationFailed(
            "The event is invalid.",
            code=Code.INVALID_EVENT,
            errors=[FieldError(e["pointer"], e["code"], e["message"]) for e in job.errors],
        )
    normalised = normalise_event(dict(event), strict_identifiers=False)
    return normalised.event_id, job.captured_count == 1
