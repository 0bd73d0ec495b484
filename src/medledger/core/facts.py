"""Business facts a context announces without knowing who delivers them.

A context that records something a partner's system may need to know (an order acknowledged,
an NCR shared with a supplier, a change notified) declares the fact's type once and announces
each occurrence in its own transaction::

    from medledger.core.facts import declare_fact, announce

    ORDER_ACKNOWLEDGED = declare_fact("order.acknowledged", "An order was accepted …")

    announce(session, tenant_id=…, fact=ORDER_ACKNOWLEDGED, subject=order.number,
             payload={…}, audience=[order.party_id])

The integration gateway registers the listener that turns each announcement into outbox
messages for the subscriptions that want it (and, for EDI documents, files in the partner's
outbound folder) — in the same transaction, so the fact and its delivery commit or roll back
together. ``audience`` lists the parties the fact concerns: only their subscriptions (and the
hub's) receive it. With no listener registered (a context used alone), announcing does nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class FactType:
    name: str
    description: str


@dataclass(frozen=True)
class Announcement:
    session: Session
    tenant_id: int
    fact: FactType
    subject: str
    payload: Mapping[str, Any]
    audience: frozenset[int]


class FactListener(Protocol):
    name: str

    def heard(self, announcement: Announcement) -> None: ...


_TYPES: dict[str, FactType] = {}
_LISTENERS: dict[str, FactListener] = {}


def declare_fact(name: str, description: str) -> FactType:
    """Declare that some context announces ``name`` (idempotent; the description is English
    and translated where shown)."""
    fact = FactType(name, description)
    _TYPES[name] = fact
    return fact


def declared_facts() -> tuple[FactType, ...]:
    return tuple(_TYPES[name] for name in sorted(_TYPES))


def register_listener(listener: FactListener) -> None:
    """Register ``listener`` (once per name: the same name again replaces it)."""
    _LISTENERS[listener.name] = listener


def announce(
    session: Session,
    *,
    tenant_id: int,
    fact: FactType,
    subject: str,
    payload: Mapping[str, Any],
    audience: Iterable[int],
) -> None:
    """Tell every registered listener, in the caller's transaction."""
    if fact.name not in _TYPES:
        raise ValueError(f"undeclared fact type {fact.name!r}")
    announcement = Announcement(
        session, tenant_id, fact, subject, dict(payload), frozenset(int(p) for p in audience)
    )
    for listener in tuple(_LISTENERS.values()):
        listener.heard(announcement)
