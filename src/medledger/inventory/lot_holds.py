"""Inventory's handler of quality's lot-hold requests (``quality.hooks``), registered at import.

An NCR names suspect lots; quality emits a hold request in the NCR's transaction, and this
handler puts every *released* unit of each lot on hold, everywhere in own stock (every
location, serial and logistic unit), recording a :class:`LotHold` with the quantity it took.
Quarantine, rejected and recalled stock is left as it is: it is not usable anyway, and the
signed lot release refuses a lot an open NCR names.

A release request (the NCR closed or cancelled; quality has already left out lots another open
NCR names) lifts every hold of that source kind on the lot: at most the units they took go back
from on-hold to released, so stock held by hand or by a temperature excursion stays held. A lot
that another kind of source still holds here is not released.

Inventory does not import quality: the request is described here by the fields the handler
reads (:class:`HoldRequest`), and quality registers this handler in its own registry
(``quality.ncr``), since quality is the context above inventory.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from medledger.core.db import utcnow
from medledger.inventory.coldchain import EXCURSION_HOLD
from medledger.inventory.models import LotHold, MovementKind, StockBalance, StockStatus
from medledger.inventory.plan import ItemKey, Place, PlannedMove
from medledger.inventory.projection import apply_moves


class LotRefLike(Protocol):
    @property
    def gtin(self) -> str: ...

    @property
    def lot(self) -> str: ...


class HoldRequest(Protocol):
    """What the handler reads of a lot-hold request (quality's ``HoldRequest`` has it)."""

    @property
    def session(self) -> Session: ...

    @property
    def tenant_id(self) -> int: ...

    @property
    def action(self) -> str: ...

    @property
    def lots(self) -> Sequence[LotRefLike]: ...

    @property
    def source_kind(self) -> str: ...

    @property
    def source_id(self) -> int: ...

    @property
    def source_label(self) -> str: ...

    @property
    def reason(self) -> str: ...


def _balances(session: Session, tenant_id: int, gtin: str, lot: str, status: StockStatus) -> list:
    return list(
        session.scalars(
            select(StockBalance)
            .where(
                StockBalance.tenant_id == tenant_id,
                StockBalance.gtin == gtin,
                StockBalance.lot == lot,
                StockBalance.status == status.value,
                StockBalance.quantity > 0,
            )
            .order_by(StockBalance.location_id, StockBalance.serial, StockBalance.container)
            .with_for_update()
        )
    )


def _move(
    session: Session,
    tenant_id: int,
    gtin: str,
    lot: str,
    source: StockStatus,
    target: StockStatus,
    limit: int | None,
    reason: str,
) -> int:
    moves = []
    left = limit
    for balance in _balances(session, tenant_id, gtin, lot, source):
        quantity = balance.quantity if left is None else min(balance.quantity, left)
        if quantity <= 0:
            break
        place = Place(balance.location_id, balance.container)
        moves.append(
            PlannedMove(
                MovementKind.STATUS_CHANGE,
                ItemKey(gtin, lot, balance.serial),
                quantity,
                place,
                place,
                (source,),
                target,
            )
        )
        if left is not None:
            left -= quantity
    if moves:
        apply_moves(session, tenant_id, tuple(moves), None, utcnow().date(), reason)
    return sum(m.quantity for m in moves)


class InventoryLotHolds:
    name = "inventory"

    def apply(self, request: HoldRequest) -> None:
        session, tenant = request.session, request.tenant_id
        for ref in request.lots:
            if request.action == "hold":
                self._hold(session, tenant, ref.gtin, ref.lot, request)
            else:
                self._release(session, tenant, ref.gtin, ref.lot, request)
        session.flush()

    def _hold(
        self, session: Session, tenant: int, gtin: str, lot: str, request: HoldRequest
    ) -> None:
        active = session.scalar(
            select(LotHold).where(
                LotHold.tenant_id == tenant,
                LotHold.gtin == gtin,
                LotHold.lot == lot,
                LotHold.source_kind == request.source_kind,
                LotHold.source_id == request.source_id,
                LotHold.released_at.is_(None),
            )
        )
        held = _move(
            session,
            tenant,
            gtin,
            lot,
            StockStatus.RELEASED,
            StockStatus.ON_HOLD,
            None,
            f"hold: {request.reason}"[:500],
        )
        if active is not None:
            active.quantity_held += held
            return
        session.add(
            LotHold(
                tenant_id=tenant,
                gtin=gtin,
                lot=lot,
                source_kind=request.source_kind,
                source_id=request.source_id,
                source_label=request.source_label[:64],
                quantity_held=held,
            )
        )

    def _release(
        self, session: Session, tenant: int, gtin: str, lot: str, request: HoldRequest
    ) -> None:
        holds = list(
            session.scalars(
                select(LotHold).where(
                    LotHold.tenant_id == tenant,
                    LotHold.gtin == gtin,
                    LotHold.lot == lot,
                    LotHold.released_at.is_(None),
                    # An excursion's record of the quarantine units it held is not a hold of
                    # released stock: it ends when those units leave the hold (coldchain.py).
                    LotHold.source_kind != EXCURSION_HOLD,
                )
            )
        )
        # Quality emits a release only for lots no other open record of its kind names, so
        # every hold of that kind on the lot ends now (also one that took nothing because an
        # earlier hold had taken the units).
        own = [h for h in holds if h.source_kind == request.source_kind]
        others = [h for h in holds if h.source_kind != request.source_kind]
        now = utcnow()
        for hold in own:
            hold.released_at = now
        if others or not own:
            # Another kind of source (a recall …) still holds the lot: its units stay on hold,
            # and that hold takes over what these held.
            if others and own:
                others[0].quantity_held += sum(h.quantity_held for h in own)
            return
        taken = sum(h.quantity_held for h in own)
        released = _move(
            session,
            tenant,
            gtin,
            lot,
            StockStatus.ON_HOLD,
            StockStatus.RELEASED,
            taken,
            f"hold lifted: {request.reason}"[:500],
        )
        own[0].quantity_released = released
