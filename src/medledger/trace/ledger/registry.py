"""Projections of other contexts, maintained in the capture transaction of the trace ledger.

The trace ledger is where physical flow is recorded; other contexts keep their own read models
of it (inventory keeps stock balances, for example). They do so by registering a
:class:`LedgerProjection` here, at import time of their own package, instead of editing the
trace code: every capture (``trace.ledger.capture``) calls each registered projection once,
after the trace's own projections of the document are written and its error declarations
applied, in the same transaction. A projection that raises rolls back the capture exactly as a
failure of the trace's own projections would.

What a projection is given (:class:`LedgerChange`): the events just stored, in document order
(row id + normalised event, error declarations included), and the row ids of earlier events
that error declarations of this capture retracted — so that a projection can reverse what it
derived from them. Projections run in registration order, which is import order; one that
depends on another's writes registers after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from medledger.trace.ledger.projection import StoredEvent


@dataclass(frozen=True)
class LedgerChange:
    """What one capture changed in the ledger of one tenant."""

    session: Session
    tenant_id: int
    capturing_party_id: int
    events: Sequence[StoredEvent]
    retracted_event_row_ids: Sequence[int]


class LedgerProjection(Protocol):
    """A read model kept from the ledger's events in the capture transaction."""

    name: str

    def apply(self, change: LedgerChange) -> None:
        """Write what ``change`` means for this projection (flush, never commit)."""


_projections: list[LedgerProjection] = []


def register_projection(projection: LedgerProjection) -> LedgerProjection:
    """Add ``projection`` to every later capture (once per name: re-registering replaces it)."""
    for index, existing in enumerate(_projections):
        if existing.name == projection.name:
            _projections[index] = projection
            return projection
    _projections.append(projection)
    return projection


def unregister_projection(name: str) -> None:
    """Remove the projection called ``name`` (tests; a context that is switched off)."""
    _projections[:] = [p for p in _projections if p.name != name]


def registered_projections() -> tuple[LedgerProjection, ...]:
    """The registered projections, in the order they run."""
    return tuple(_projections)


def apply_registered(change: LedgerChange) -> None:
    """Run every registered projection over ``change`` (no-op when none is registered)."""
    if not change.events and not change.retracted_event_row_ids:
        return
    for projection in _projections:
        projection.apply(change)
