"""The lot-hold hook: how an NCR puts its affected lots on hold without knowing inventory.

Quality owns the decision ("these lots are suspect"); stock status belongs to inventory. When an
NCR is raised (or its affected lots change) quality emits a :class:`LotHoldRequest` with
``action="hold"``; when the NCR is closed or cancelled it emits ``action="release"`` for the lots
no other open NCR still holds. Another context takes part by registering a handler at import
time, as trace projections do (``trace.ledger.registry``)::

    from medledger.quality.hooks import LotHoldRequest, register_lot_hold_handler

    class InventoryLotHolds:
        name = "inventory"

        def apply(self, request: LotHoldRequest) -> None:
            # put request.lots on hold (or release them) in request.session's transaction
            ...

    register_lot_hold_handler(InventoryLotHolds())

Handlers run in the NCR's transaction (``request.session``; flush, never commit), so the hold
and the NCR commit or roll back together. Every request is also written to the audit trail
(action ``lot_hold`` / ``lot_release`` on the NCR) with the handlers that applied it, so a
request made before any handler existed is still on record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from medledger.compliance import audit
from medledger.core.principal import Principal


@dataclass(frozen=True)
class LotRef:
    gtin: str
    lot: str


@dataclass(frozen=True)
class LotHoldRequest:
    session: Session
    tenant_id: int
    action: str  # "hold" | "release"
    lots: tuple[LotRef, ...]
    source_kind: str  # "ncr"
    source_id: int
    source_label: str
    reason: str
    actor: Principal


class LotHoldHandler(Protocol):
    name: str

    def apply(self, request: LotHoldRequest) -> None: ...


_HANDLERS: dict[str, LotHoldHandler] = {}


def register_lot_hold_handler(handler: LotHoldHandler) -> None:
    """Join the hold requests of quality records (replaces a handler of the same name)."""
    _HANDLERS[handler.name] = handler


def unregister_lot_hold_handler(name: str) -> None:
    _HANDLERS.pop(name, None)


def lot_hold_handlers() -> list[LotHoldHandler]:
    return list(_HANDLERS.values())


def emit_lot_hold(request: LotHoldRequest) -> list[str]:
    """Hand ``request`` to every registered handler and record it; returns the handlers' names."""
    if not request.lots:
        return []
    names = []
    for handler in list(_HANDLERS.values()):
        handler.apply(request)
        names.append(handler.name)
    audit.record(
        request.session,
        tenant_id=request.tenant_id,
        action=f"lot_{request.action}",
        entity_type=request.source_kind,
        entity_id=request.source_id,
        new_values={
            "lots": [{"gtin": lot.gtin, "lot": lot.lot} for lot in request.lots],
            "handlers": names,
        },
        reason=request.reason,
    )
    return names
