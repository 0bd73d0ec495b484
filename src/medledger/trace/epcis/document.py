"""Finding the events of an EPCIS 2.0 JSON document.

An EPCIS payload is an ``EPCISDocument`` (events in ``epcisBody.eventList``), an
``EPCISQueryDocument`` (events in ``epcisBody.queryResults.resultsBody.eventList``) or a
single event carrying its own ``@context``. Every event found is returned with the
``@context`` that applies to it (the document's, followed by the event's own), so that it
can be validated, normalised and hashed on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from medledger.trace.epcis.namespaces import merge_contexts
from medledger.trace.epcis.vocabulary import EVENT_TYPES

DOCUMENT_TYPES = frozenset({"EPCISDocument", "EPCISQueryDocument"})


@dataclass(frozen=True)
class LocatedEvent:
    """An event, its position in the document and its JSON pointer."""

    index: int
    pointer: str
    event: dict[str, Any]


def is_single_event(doc: Mapping[str, Any]) -> bool:
    """True if the payload is one event rather than a document."""
    kind = doc.get("type")
    return isinstance(kind, str) and kind not in DOCUMENT_TYPES and "epcisBody" not in doc


def locate_events(doc: Mapping[str, Any]) -> list[LocatedEvent]:
    """Every event of a document (or the single event) with its index and JSON pointer.

    Each returned event is a shallow copy whose ``@context`` is the effective context.
    Entries of ``eventList`` that are not JSON objects are skipped (schema validation
    reports them).
    """
    if not isinstance(doc, Mapping):
        return []
    if is_single_event(doc):
        return [LocatedEvent(0, "", dict(doc))]
    body = doc.get("epcisBody")
    if not isinstance(body, Mapping):
        return []
    events: Any
    if "eventList" in body:
        events, base = body.get("eventList"), "/epcisBody/eventList"
    elif isinstance(body.get("queryResults"), Mapping):
        results = body["queryResults"].get("resultsBody")
        events = results.get("eventList") if isinstance(results, Mapping) else None
        base = "/epcisBody/queryResults/resultsBody/eventList"
    elif isinstance(body.get("event"), Mapping):
        # Not in the 2.0 schema, but some senders wrap a single event this way.
        return [LocatedEvent(0, "/epcisBody/event", with_context(body["event"], doc))]
    else:
        return []
    if not isinstance(events, list):
        return []
    return [
        LocatedEvent(index, f"{base}/{index}", with_context(event, doc))
        for index, event in enumerate(events)
        if isinstance(event, Mapping)
    ]


def with_context(event: Mapping[str, Any], doc: Mapping[str, Any]) -> dict[str, Any]:
    copy = dict(event)
    context = merge_contexts(doc.get("@context"), event.get("@context"))
    if context is not None:
        copy["@context"] = context
    return copy


def iter_document_events(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The events of an EPCIS document (or the single event), each with its ``@context``.

    Handles ``epcisBody.eventList`` (capture documents), query documents and single
    events. The document's ``@context`` is merged into each event's, so namespace prefixes
    of user extensions and ILMD fields resolve when the event is handled on its own.
    """
    return [located.event for located in locate_events(doc)]


def is_standard_event_type(value: object) -> bool:
    """True for the five EPCIS 2.0 event types."""
    return isinstance(value, str) and value in EVENT_TYPES
