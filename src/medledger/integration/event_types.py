"""The event types partners can subscribe to. Each context registers the facts it publishes
(at import time), with an English description (translated where shown)."""

from __future__ import annotations

from dataclasses import dataclass

from medledger.core.facts import declared_facts


@dataclass(frozen=True)
class EventType:
    name: str
    description: str


_TYPES: dict[str, EventType] = {}


def register_event_type(name: str, description: str) -> EventType:
    """Declare that some context publishes ``name`` (idempotent)."""
    event_type = EventType(name, description)
    _TYPES[name] = event_type
    return event_type


def _all() -> dict[str, EventType]:
    """The gateway's own types and the business facts other contexts declare
    (``core.facts``), which :mod:`medledger.integration.facts` publishes."""
    merged = {fact.name: EventType(fact.name, fact.description) for fact in declared_facts()}
    merged.update(_TYPES)
    return merged


def event_types() -> list[EventType]:
    """Every registered event type, by name."""
    types = _all()
    return [types[name] for name in sorted(types)]


def is_known(name: str) -> bool:
    return name in _all()
