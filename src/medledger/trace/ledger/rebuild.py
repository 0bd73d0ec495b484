"""Rebuild a tenant's ledger projections from its stored events (after a change of the
projection rules; used by migration 0009).

The events stay as they are; ``event_items``, ``genealogy_edges``, ``custody_hops`` and
``item_parties`` are deleted and written again, and every item's state columns are reset,
by replaying the stored events capture job by capture job, in capture order, through the
same :class:`~medledger.trace.ledger.projection.Projection` a capture uses (each job as its
capturing party, its error declarations applied at its end). ``trace_items`` rows keep their
ids (other tables may point at them). Projections registered by other contexts are not run:
they rebuild their own read models.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from medledger.trace.epcis.normalise import normalise_event
from medledger.trace.ledger.projection import Projection, StoredEvent
from medledger.trace.models import (
    CustodyHop,
    EpcisEvent,
    EventItem,
    GenealogyEdge,
    ItemParty,
    TraceItem,
)

_BATCH = 2000


def rebuild_projections(session: Session, tenant_id: int) -> int:
    """Delete and rebuild the tenant's projections from its events; the events replayed."""
    for model in (EventItem, GenealogyEdge, CustodyHop, ItemParty):
        session.execute(delete(model).where(model.tenant_id == tenant_id))
    session.execute(
        update(TraceItem)
        .where(TraceItem.tenant_id == tenant_id)
        .values(
            lot_item_id=None,
            first_event_id=None,
            commissioned=False,
            last_event_time=None,
            last_biz_step=None,
            last_disposition=None,
            last_biz_location=None,
            holder_party_id=None,
            holder_gln=None,
            expiry=None,
        )
    )
    session.execute(
        update(EpcisEvent)
        .where(EpcisEvent.tenant_id == tenant_id)
        .values(retracted_by_event_id=None)
    )
    replayed = 0
    for party_id, events in _jobs(session, tenant_id):
        projection = Projection(session, tenant_id=tenant_id, capturing_party_id=party_id)
        projection.add(events)
        projection.finish(run_registered=False)
        replayed += len(events)
    return replayed


def _jobs(session: Session, tenant_id: int) -> Iterator[tuple[int, list[StoredEvent]]]:
    """The tenant's events as captured: consecutive rows of one capture job (and party)."""
    current: tuple[Any, int] | None = None
    events: list[StoredEvent] = []
    last_id = 0
    while True:
        rows = session.execute(
            select(
                EpcisEvent.id,
                EpcisEvent.capture_job_id,
                EpcisEvent.capturing_party_id,
                EpcisEvent.record_time,
                EpcisEvent.document,
            )
            .where(EpcisEvent.tenant_id == tenant_id, EpcisEvent.id > last_id)
            .order_by(EpcisEvent.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        for row in rows:
            last_id = row.id
            key = (row.capture_job_id, int(row.capturing_party_id))
            if current is not None and key != current and events:
                yield current[1], events
                events = []
            current = key
            event = normalise_event(dict(row.document), strict_identifiers=False)
            events.append(StoredEvent(int(row.id), event))
    if current is not None and events:
        yield current[1], events
