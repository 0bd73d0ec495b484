"""Every read of the trace ledger, and its partner-visibility rules.

Hub staff and auditors see the whole tenant (``core.scoping`` lets them through). A partner
user sees (the one rule, :func:`item_access`, for the trace, the event query and any other
context reading the ledger):

* items its party may read: ``item_parties``, written at capture from the custody chain only
  (it commissioned or made the item, received it — from a shipment to it, or as the hub
  recorded —, held the container it was packed in, or was the sender or consignee of a
  shipment the hub or the item's holder recorded); never from merely naming an item;
* capture jobs its own party submitted;
* events its party captured, or that name an item it may read; of the latter, the
  identifiers of items it may not read are taken out on the way out
  (:func:`event_documents`; the stored document stays whole, so its hash verifies for
  whoever sees it whole);
* edges, hops and event-item rows of items it may read.
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
    NamedQuery,
    QuerySubscription,
    TraceItem,
)

ERROR_DECLARATION_SUFFIX = "#errorDeclaration"


def item_access(item_id: Any, principal: Principal) -> ColumnElement[bool]:
    """Whether the principal's party may read the item ``item_id`` (a column or value): the
    single visibility rule of the ledger's items (see the module docstring)."""
    return exists().where(
        ItemParty.tenant_id == principal.tenant_id,
        ItemParty.item_id == item_id,
        ItemParty.party_id == principal.party_id,
    )


@party_rule(NamedQuery)
def _named_query_visible(principal: Principal) -> ColumnElement[bool]:
    # Named queries belong to the party that created them (names are per party).
    return NamedQuery.party_id == principal.party_id


@party_rule(QuerySubscription)
def _query_subscription_visible(principal: Principal) -> ColumnElement[bool]:
    return QuerySubscription.party_id == principal.party_id


@party_rule(CaptureJob)
def _capture_job_rule(principal: Principal) -> ColumnElement[bool]:
    return CaptureJob.capturing_party_id == principal.party_id


@party_rule(EpcisEvent)
def _event_rule(principal: Principal) -> ColumnElement[bool]:
    concerns_party = exists().where(
        EventItem.event_row_id == EpcisEvent.id, item_access(EventItem.item_id, principal)
    )
    return (EpcisEvent.capturing_party_id == principal.party_id) | concerns_party


@party_rule(TraceItem)
def _item_rule(principal: Principal) -> ColumnElement[bool]:
    return item_access(TraceItem.id, principal)


@party_rule(ItemParty)
def _item_party_rule(principal: Principal) -> ColumnElement[bool]:
    return ItemParty.party_id == principal.party_id


@party_rule(EventItem)
def _event_item_rule(principal: Principal) -> ColumnElement[bool]:
    return item_access(EventItem.item_id, principal)


@party_rule(GenealogyEdge)
def _edge_rule(principal: Principal) -> ColumnElement[bool]:
    return item_access(GenealogyEdge.from_item_id, principal) | item_access(
        GenealogyEdge.to_item_id, principal
    )


@party_rule(CustodyHop)
def _hop_rule(principal: Principal) -> ColumnElement[bool]:
    return (
        (CustodyHop.from_party_id == principal.party_id)
        | (CustodyHop.to_party_id == principal.party_id)
        | item_access(CustodyHop.item_id, principal)
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


_IDENTIFIER_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")


def event_documents(
    session: Session, principal: Principal, events: Sequence[EpcisEvent]
) -> list[dict[str, Any]]:
    """The EPCIS JSON of ``events`` (visible to the principal) as the principal may read
    them: whole for the hub, auditors and the capturer; otherwise without the identifiers of
    items the principal's party may not read (``parentID`` dropped, list entries left out).
    The stored document is never changed."""
    documents = [dict(event.document) for event in events]
    if principal.sees_all_parties:
        return documents
    others = [e.id for e in events if e.capturing_party_id != principal.party_id]
    if not others:
        return documents
    hidden: dict[int, set[str]] = {}
    for start in range(0, len(others), 900):
        chunk = others[start : start + 900]
        rows = session.execute(
            select(EventItem.event_row_id, TraceItem.uri)
            .join(TraceItem, TraceItem.id == EventItem.item_id)
            .where(EventItem.event_row_id.in_(chunk), ~item_access(EventItem.item_id, principal))
        )
        for row_id, uri in rows:
            hidden.setdefault(int(row_id), set()).add(uri)
    return [
        _redacted(document, hidden[event.id]) if event.id in hidden else document
        for event, document in zip(events, documents, strict=True)
    ]


def _redacted(document: dict[str, Any], hidden: set[str]) -> dict[str, Any]:
    """``document`` without the identifiers in ``hidden`` (canonical URIs)."""
    from medledger.trace.epcis.normalise import stored_identifier

    def shown(value: Any) -> bool:
        return not isinstance(value, str) or stored_identifier(value) not in hidden

    redacted = dict(document)
    if "parentID" in redacted and not shown(redacted["parentID"]):
        del redacted["parentID"]
    for name in _IDENTIFIER_LISTS:
        values = redacted.get(name)
        if isinstance(values, list):
            redacted[name] = [value for value in values if shown(value)]
    for name in _QUANTITY_LISTS:
        values = redacted.get(name)
        if isinstance(values, list):
            redacted[name] = [
                value
                for value in values
                if not isinstance(value, dict) or shown(value.get("epcClass"))
            ]
    return redacted


def visible_events(principal: Principal) -> Select[EpcisEvent]:
    """The base statement of event queries: the principal's visible events."""
    return scoped(select(EpcisEvent), EpcisEvent, principal)
