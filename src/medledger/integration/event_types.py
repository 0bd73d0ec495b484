"""The event types partners can subscribe to. Each context registers the facts it publishes
(at import time), with an English description (translated where shown)."""

from __future__ import annotations

from dataclasses import dataclass


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


def event_types() -> list[EventType]:
    """Every registered event type, by name."""
    return [_TYPES[name] for name in sorted(_TYPES)]


def is_known(name: str) -> bool:
    return name in _TYPES
