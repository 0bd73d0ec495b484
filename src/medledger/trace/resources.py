"""The top-level resources of the EPCIS 2.0 REST binding, scoped to what the caller may see.

``/epcis/eventTypes``, ``/epcis/epcs``, ``/epcis/bizSteps``, ``/epcis/bizLocations``,
``/epcis/readPoints`` and ``/epcis/dispositions`` list the values that occur in the events the
caller may see (``repository.visible_events``); for ``epcs`` only the identifiers the caller may
read (the custody rule ``repository.item_access``; the hub sees all). ``/{resource}/{id}`` is the
``{"member": ["events"]}`` collection when the caller sees an event with that value, else a
404; ``/{resource}/{id}/events`` is the query with the matching parameter fixed. Lists are
sorted and paged with ``perPage`` and an opaque ``nextPageToken`` (the last value given).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from medledger.core.errors import NotFound
from medledger.core.principal import Permission, Principal
from medledger.trace.errors import Code
from medledger.trace.models import EpcisEvent, EventItem, TraceItem
from medledger.trace.query import canonical_query_identifier, invalid_parameter
from medledger.trace.repository import item_access, visible_events


@dataclass(frozen=True)
class Resource:
    """One top-level resource: its path, the event column it lists and its query parameter."""

    path: str
    column: Any
    parameter: str


RESOURCES: Final = {
    "eventTypes": Resource("eventTypes", EpcisEvent.event_type, "eventType"),
    "bizSteps": Resource("bizSteps", EpcisEvent.biz_step, "EQ_bizStep"),
    "bizLocations": Resource("bizLocations", EpcisEvent.biz_location, "EQ_bizLocation"),
    "readPoints": Resource("readPoints", EpcisEvent.read_point, "EQ_readPoint"),
    "dispositions": Resource("dispositions", EpcisEvent.disposition, "EQ_disposition"),
}
MAX_PER_PAGE: Final = 1000


def value_token(value: str) -> str:
    """The opaque page token after ``value`` (lists sorted by value)."""
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def token_value(token: str | None) -> str | None:
    """Inverse of :func:`value_token` (400 naming ``nextPageToken``)."""
    if token is None:
        return None
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise invalid_parameter("nextPageToken", "not a token this server gave") from None


def _page(
    session: Session, stmt: Select[Any], column: Any, per_page: int, token: str | None
) -> tuple[list[str], str | None]:
    after = token_value(token)
    if after is not None:
        stmt = stmt.where(column > after)
    values = [str(v) for v in session.scalars(stmt.order_by(column).limit(per_page + 1))]
    more = len(values) > per_page
    values = values[:per_page]
    return values, (value_token(values[-1]) if more and values else None)


def list_values(
    session: Session, principal: Principal, name: str, per_page: int, token: str | None
) -> tuple[list[str], str | None]:
    """One page of the distinct values of resource ``name`` the principal sees."""
    principal.require(Permission.TRACE_READ)
    if name == "epcs":
        return _page(session, _epcs(principal), TraceItem.uri, per_page, token)
    resource = RESOURCES[name]
    visible = visible_events(principal).with_only_columns(resource.column)
    stmt = visible.where(resource.column.is_not(None)).distinct()
    return _page(session, stmt, resource.column, per_page, token)


def _epcs(principal: Principal) -> Select[Any]:
    visible = visible_events(principal).with_only_columns(EpcisEvent.id)
    stmt = (
        select(TraceItem.uri)
        .join(EventItem, EventItem.item_id == TraceItem.id)
        .where(EventItem.event_row_id.in_(visible), TraceItem.tenant_id == principal.tenant_id)
    )
    if not principal.sees_all_parties:
        stmt = stmt.where(item_access(TraceItem.id, principal))
    return stmt.distinct()


def stored_value(name: str, value: str) -> str:
    """A resource id in the form its column stores."""
    if name in ("epcs", "bizLocations", "readPoints"):
        return canonical_query_identifier(value)
    if name == "eventTypes":
        return value
    from medledger.trace.epcis.vocabulary import (
        BIZ_STEP,
        DISPOSITION,
        UnknownVocabularyTerm,
        normalise_term,
    )

    vocabulary = BIZ_STEP if name == "bizSteps" else DISPOSITION
    try:
        return normalise_term(value, vocabulary)
    except UnknownVocabularyTerm:
        raise invalid_parameter(
            name, "{value} is not a standard CBV {label}", value=value, label=vocabulary.label
        ) from None


def require_seen(session: Session, principal: Principal, name: str, value: str) -> str:
    """The stored form of ``value`` if the principal sees an event with it, else 404."""
    principal.require(Permission.TRACE_READ)
    if name == "eventTypes":
        from medledger.trace.epcis.vocabulary import EVENT_TYPES

        if value not in EVENT_TYPES:
            raise invalid_parameter("eventType", "{value} is not an EPCIS event type", value=value)
    stored = stored_value(name, value)
    if name == "epcs":
        stmt = _epcs(principal).where(TraceItem.uri == stored).limit(1)
    else:
        column = RESOURCES[name].column
        stmt = visible_events(principal).with_only_columns(column).where(column == stored).limit(1)
    if session.scalar(stmt) is None:
        raise NotFound(
            "Nothing visible is recorded for {value}.",
            code=Code.RESOURCE_NOT_FOUND,
            params={"value": value[:300]},
        )
    return stored


def events_parameter(session: Session, name: str, stored: str) -> tuple[str, str]:
    """The query parameter (name, value) selecting the events of resource value ``stored``."""
    if name == "epcs":
        kind = session.scalar(select(TraceItem.kind).where(TraceItem.uri == stored).limit(1))
        return ("MATCH_anyEPCClass" if kind in ("lot", "class") else "MATCH_anyEPC", stored)
    return (RESOURCES[name].parameter, stored)
