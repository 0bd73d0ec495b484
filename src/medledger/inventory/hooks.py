"""The stock-change hook: how contexts above inventory learn that stock moved or changed status.

Inventory owns stock; orders own reservations and allocation. When stock leaves a status that
can be allocated (a lot put on hold, recalled, rejected) or stock appears, moves or leaves,
inventory emits one :class:`StockChange` per call of ``projection.apply_moves`` (a movement
entered here, an EPCIS event captured by anyone, a status change) with every movement row it
wrote. Another context takes part by registering a handler at import time, as trace projections
do (``trace.ledger.registry``)::

    from medledger.inventory.hooks import StockChange, register_stock_change_handler

    class ReplanOnHold:
        name = "orders.replan"

        def apply(self, change: StockChange) -> None:
            for movement in change.status_changes():
                ...  # drop reservations on movement.gtin / movement.lot, re-plan

    register_stock_change_handler(ReplanOnHold())

Handlers run in the same transaction (``change.session``; flush, never commit), so the stock
change and what follows from it commit or roll back together. A handler must not call back into
``apply_moves`` for the same lots in a way that loops.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from medledger.inventory.plan import MovementRow


@dataclass(frozen=True)
class StockChange:
    session: Session
    tenant_id: int
    movements: Sequence[MovementRow]
    reason: str

    def status_changes(self) -> Iterator[MovementRow]:
        """The movements that changed the status of stock in place (hold, recall, release…)."""
        for movement in self.movements:
            if movement.kind == "status_change":
                yield movement


class StockChangeHandler(Protocol):
    name: str

    def apply(self, change: StockChange) -> None: ...


_handlers: dict[str, StockChangeHandler] = {}


def register_stock_change_handler(handler: StockChangeHandler) -> None:
    """Register ``handler`` (once per name: registering the same name again replaces it)."""
    _handlers[handler.name] = handler


def registered_handlers() -> tuple[StockChangeHandler, ...]:
    return tuple(_handlers.values())


def notify(change: StockChange) -> None:
    """Run every registered handler in registration order."""
    if not change.movements:
        return
    for handler in tuple(_handlers.values()):
        handler.apply(change)
