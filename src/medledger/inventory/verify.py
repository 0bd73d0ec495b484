"""``medledger inventory verify``: balances equal the replay of the movements, and the
movements projected from the ledger equal a fresh replay of the ledger's events."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from medledger.inventory import repository as repo
from medledger.inventory.models import StockBalance, StockMovement
from medledger.inventory.plan import ItemKey, plan_event
from medledger.trace.epcis.normalise import normalise_event
from medledger.trace.models import EpcisEvent
from medledger.trace.repository import ERROR_DECLARATION_SUFFIX

FullKey = tuple[int, str, str, str, str, str]  # location, container, gtin, lot, serial, status
BlindKey = tuple[int, str, str, str, str]  # the same without status


@dataclass
class VerifyReport:
    balances: int = 0
    movements: int = 0
    events_replayed: int = 0
    # Differences, as (key, expected, found).
    balance_differences: list[tuple[FullKey, int, int]] = field(default_factory=list)
    ledger_differences: list[tuple[BlindKey, int, int]] = field(default_factory=list)
    negative: list[FullKey] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.balance_differences or self.ledger_differences or self.negative)


def verify(session: Session, tenant_id: int) -> VerifyReport:
    """Check one tenant's stock (read only)."""
    report = VerifyReport()
    replay: dict[FullKey, int] = defaultdict(int)
    from_ledger: dict[BlindKey, int] = defaultdict(int)
    for m in session.scalars(
        select(StockMovement).where(StockMovement.tenant_id == tenant_id).order_by(StockMovement.id)
    ):
        report.movements += 1
        if m.from_location_id is not None:
            key = (
                m.from_location_id,
                m.from_container,
                m.gtin,
                m.lot,
                m.serial,
                m.from_status or "",
            )
            replay[key] -= m.quantity
            if m.epcis_event_row_id is not None:
                from_ledger[key[:5]] -= m.quantity
        if m.to_location_id is not None:
            key = (m.to_location_id, m.to_container, m.gtin, m.lot, m.serial, m.to_status or "")
            replay[key] += m.quantity
            if m.epcis_event_row_id is not None:
                from_ledger[key[:5]] += m.quantity
    stored: dict[FullKey, int] = {}
    for b in session.scalars(select(StockBalance).where(StockBalance.tenant_id == tenant_id)):
        report.balances += 1
        key = (b.location_id, b.container, b.gtin, b.lot, b.serial, b.status)
        stored[key] = b.quantity
        if b.quantity < 0:
            report.negative.append(key)
    for key in sorted(set(replay) | set(stored)):
        if replay.get(key, 0) != stored.get(key, 0):
            report.balance_differences.append((key, replay.get(key, 0), stored.get(key, 0)))
    events = _replay_ledger(session, tenant_id, report)
    for blind in sorted(set(events) | set(from_ledger)):
        if events.get(blind, 0) != from_ledger.get(blind, 0):
            report.ledger_differences.append(
                (blind, events.get(blind, 0), from_ledger.get(blind, 0))
            )
    return report


def _replay_ledger(session: Session, tenant_id: int, report: VerifyReport) -> dict[BlindKey, int]:
    """Plan every live event of the ledger again, in capture order, over an in-memory state."""
    index = repo.location_index(session, tenant_id)
    state: dict[BlindKey, int] = defaultdict(int)
    if not index.by_uri:
        return state
    start = min(location.after_event_row_id for location in index.by_uri.values())

    def contents(location_id: int, sscc: str) -> list[tuple[ItemKey, int]]:
        return [
            (ItemKey(k[2], k[3], k[4]), q)
            for k, q in sorted(state.items())
            if k[0] == location_id and k[1] == sscc and q > 0
        ]

    rows = session.execute(
        select(EpcisEvent.id, EpcisEvent.event_id, EpcisEvent.document)
        .where(
            EpcisEvent.tenant_id == tenant_id,
            EpcisEvent.id > start,
            EpcisEvent.retracted_by_event_id.is_(None),
        )
        .order_by(EpcisEvent.id)
    )
    for row_id, event_id, document in rows:
        if event_id.endswith(ERROR_DECLARATION_SUFFIX):
            continue
        event = normalise_event(document, strict_identifiers=False)
        plan = plan_event(event, row_id, index, contents)
        report.events_replayed += 1
        for move in plan.moves:
            if move.source is not None:
                state[(move.source.location_id, move.source.container, *_item(move.item))] -= (
                    move.quantity
                )
            if move.target is not None:
                state[(move.target.location_id, move.target.container, *_item(move.item))] += (
                    move.quantity
                )
    return {k: v for k, v in state.items() if v}


def _item(item: ItemKey) -> tuple[str, str, str]:
    return (item.gtin, item.lot, item.serial)
