"""Every read of the trace ledger, and its partner-visibility rules.

Hub staff and auditors see the whole tenant (``core.scoping`` lets them through). A partner
user sees:

* capture jobs its own party submitted;
* events its party captured, or that name an item its party is involved with (``item_parties``:
  held, shipped, received, captured);
* items, edges, hops and event-item rows of items its party is involved with.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, select
from sqlalchemy.orm import Session

from medledger.core.errors import NotFound
from medledger.core.principal import Principal
from medledger.core.scoping import party_rule, scoped
from medledger.trace.errors import Code
from medledger.trace.models import (
    CaptureJob,
    CustodyHop,
    EpcisEvent,
    EventItem,
    GenealogyEdge,
    ItemParty,
    TraceItem,
)

ERROR_DECLARATION_SUFFIX = "#errorDeclaration"


def _involved(item_id: Any, principal: Principal) -> ColumnElement[bool]:
    return exists().where(
        ItemParty.tenant_id == principal.tenant_id,
        ItemParty.item_id == item_id,
        ItemParty.party_id == principal.party_id,
    )


@party_rule(CaptureJob)
def _capture_job_rule(principal: Principal) -> ColumnElement[bool]:
    return CaptureJob.capturing_party_id == principal.party_id


@party_rule(EpcisEvent)
def _event_rule(principal: Principal) -> ColumnElement[bool]:
    concerns_party = exists().where(
        EventItem.event_row_id == EpcisEvent.id,
        ItemParty.tenant_id == principal.tenant_id,
        ItemParty.item_id == EventItem.item_id,
        ItemParty.party_id == principal.party_id,
    )
    return (EpcisEvent.capturing_party_id == principal.party_id) | concerns_party


@party_rule(TraceItem)
def _item_rule(principal: Principal) -> ColumnElement[bool]:
    return _involved(TraceItem.id, principal)


@party_rule(ItemParty)
def _item_party_rule(principal: Principal) -> ColumnElement[bool]:
    return ItemParty.party_id == principal.party_id


@party_rule(EventItem)
def _event_item_rule(principal: Principal) -> ColumnElement[bool]:
    return _involved(EventItem.item_id, principal)


@party_rule(GenealogyEdge)
def _edge_rule(principal: Principal) -> ColumnElement[bool]:
    return _involved(GenealogyEdge.from_item_id, principal) | _involved(
        GenealogyEdge.to_item_id, principal
    )


@party_rule(CustodyHop)
def _hop_rule(principal: Principal) -> ColumnElement[bool]:
    return (
        (CustodyHop.from_party_id == principal.party_id)
        | (CustodyHop.to_party_id == principal.party_id)
        | _involved(CustodyHop.item_id, principal)
    )


# --- reads ---------------------------------------------------------------------------------


def existing_event_keys(session: Session, tenant_id: int, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` (storage event ids) are already in the tenant's ledger.

    Deliberately unscoped within the tenant: idempotency must hold even when another party
    captured the event first (the caller learns nothing but "already stored").
    """
    found: set[str] = set()
    unique = sorted(set(keys))
    for start in range(0, len(unique), 900):
        chunk = unique[start : start + 900]
        found.update(
            session.scalars(
                select(EpcisEvent.event_id).where(
                    EpcisEvent.tenant_id == tenant_id, EpcisEvent.event_id.in_(chunk)
                )
            )
        )
    return found


def get_visible_event(session: Session, principal: Principal, event_id: str) -> EpcisEvent:
    """The event with this eventID the principal may see (the event itself, else the error
    declaration stored under ``<eventID>#errorDeclaration``), or 404."""
    for key in (event_id, event_id + ERROR_DECLARATION_SUFFIX):
        query: Select[Any] = select(EpcisEvent).where(EpcisEvent.event_id == key)
        stmt = scoped(query, EpcisEvent, principal)
        event = session.scalars(stmt).first()
        if event is not None:
            return event
    raise NotFound(
        "EPCIS event {event_id} was not found.",
        code=Code.EVENT_NOT_FOUND,
        params={"event_id": event_id},
    )


def get_visible_job(session: Session, principal: Principal, job_id: int) -> CaptureJob:
    """The capture job if the principal may see it, else 404."""
    query: Select[Any] = select(CaptureJob).where(CaptureJob.id == job_id)
    stmt = scoped(query, CaptureJob, principal)
    job = session.scalars(stmt).first()
    if job is None:
        raise NotFound(
            "Capture job {id} was not found.",
            code=Code.CAPTURE_JOB_NOT_FOUND,
            params={"id": job_id},
        )
    return job


def list_visible_jobs(
    session: Session, principal: Principal, *, limit: int, before_id: int | None = None
) -> list[CaptureJob]:
    """The most recent capture jobs the principal may see, newest first."""
    stmt: Select[Any] = scoped(select(CaptureJob), CaptureJob, principal)
    if before_id is not None:
        stmt = stmt.where(CaptureJob.id < before_id)
    return list(session.scalars(stmt.order_by(CaptureJob.id.desc()).limit(limit)))


def visible_events(principal: Principal) -> Select[tuple[EpcisEvent]]:
    """The base statement of event queries: the principal's visible events."""
    return scoped(select(EpcisEvent), EpcisEvent, principal)
