"""Stock balances as a projection of the trace ledger, kept in the capture transaction.

Registered with ``trace.ledger.registry`` at import time. For every captured event it plans
the stock moves (``inventory.plan``), checks the rules every movement obeys (storage class,
released / unexpired / unrecalled stock for sellable places, no negative stock) and writes
one append-only movement per balance it changes. Error declarations reverse the movements of
the events they retract. Any refusal raises a domain error, which rolls the whole capture
back: an event that would oversell or break a rule is not stored.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from medledger.compliance import audit
from medledger.core.db import utcnow
from medledger.inventory import coldchain, hooks
from medledger.inventory import repository as repo
from medledger.inventory.errors import (
    INSUFFICIENT_STOCK,
    LOT_EXPIRED,
    LOT_RECALLED,
    NOT_RELEASED,
    STORAGE_CLASS,
    conflict,
)
from medledger.inventory.models import (
    InventoryLot,
    MovementKind,
    Shipment,
    ShipmentStatus,
    StockMovement,
)
from medledger.inventory.plan import (
    EventPlan,
    ItemKey,
    PlannedMove,
    plan_event,
)
from medledger.parties.models import Party, Site
from medledger.trace.ledger.registry import LedgerChange, register_projection

K = MovementKind
# Docks where goods pass through: the storage-class rule is for where stock is stored.
TRANSIT_ZONES = frozenset({"receiving_quarantine", "shipping"})
# Kinds whose stock must be sellable: released (by the take order), unexpired, unrecalled.
_SELLABLE_KINDS = frozenset({K.PICK, K.SHIP, K.CONSUME})


class StockProjection:
    """Moves stock for the events of each capture (see module docstring)."""

    name = "inventory.stock"

    def apply(self, change: LedgerChange) -> None:
        session, tenant_id = change.session, change.tenant_id
        if change.retracted_event_row_ids:
            reverse_events(session, tenant_id, change.retracted_event_row_ids)
        if not change.events:
            return
        index = repo.location_index(session, tenant_id)
        if not index.by_uri and not repo.has_stock_or_shipments(session, tenant_id):
            # Inventory is not in use in this tenant: nothing to move, hold or deliver.
            return
        for stored in change.events:
            plan = plan_event(
                stored.event,
                stored.row_id,
                index,
                lambda location_id, sscc: repo.container_contents(
                    session, tenant_id, location_id, sscc
                ),
            )
            if plan.moves:
                when = stored.event.event_time
                apply_moves(
                    session, tenant_id, plan.moves, stored.row_id, when.date(), occurred_at=when
                )
            _record_shipments(session, tenant_id, plan, stored.row_id, stored.event)
            if stored.event.sensor_element_list:
                coldchain.check_event(session, tenant_id, stored.event, stored.row_id)


def check_rules(session: Session, tenant_id: int, moves: tuple[PlannedMove, ...], on: date) -> None:
    """Refuse moves that break a stock rule (storage class, expired or recalled lots going to
    sellable places or out)."""
    classes = repo.storage_classes(session, tenant_id, [m.item.gtin for m in moves])
    lots = repo.lots(session, tenant_id, [(m.item.gtin, m.item.lot) for m in moves])
    for number, move in enumerate(moves):
        target = move.target_location
        product_class = classes.get(move.item.gtin)
        if (
            target is not None
            and product_class is not None
            and target.zone_purpose not in TRANSIT_ZONES
            and move.source_location != target
            and target.storage_class != product_class
        ):
            raise conflict(
                STORAGE_CLASS,
                "{gtin} must be stored {product_class}; location {location_id} is "
                "{location_class}.",
                f"lines.{number}",
                gtin=move.item.gtin,
                product_class=product_class,
                location_id=target.id,
                location_class=target.storage_class,
            )
        sellable = move.kind in _SELLABLE_KINDS or (
            target is not None and target.sellable and move.kind is not K.PACK
        )
        lot = lots.get((move.item.gtin, move.item.lot))
        if sellable and lot is not None:
            if lot.recalled:
                raise conflict(
                    LOT_RECALLED,
                    "Lot {lot} of {gtin} is recalled.",
                    f"lines.{number}.lot",
                    gtin=move.item.gtin,
                    lot=move.item.lot,
                )
            if lot.expiry is not None and lot.expiry < on:
                raise conflict(
                    LOT_EXPIRED,
                    "Lot {lot} of {gtin} expired on {expiry}.",
                    f"lines.{number}.lot",
                    gtin=move.item.gtin,
                    lot=move.item.lot,
                    expiry=lot.expiry.isoformat(),
                )


def apply_moves(
    session: Session,
    tenant_id: int,
    moves: tuple[PlannedMove, ...],
    event_row_id: int | None,
    on: date,
    reason: str = "",
    occurred_at: datetime | None = None,
) -> list[StockMovement]:
    """Check the rules, then write the balances and one movement per balance changed."""
    check_rules(session, tenant_id, moves, on)
    rows: list[StockMovement] = []
    # Increments are batched into one executemany, written before any later decrement.
    puts: list[tuple[int, int, str, ItemKey, str, int]] = []
    moment = occurred_at or utcnow()
    for number, move in enumerate(moves):
        parts: list[tuple[str | None, int]]
        if move.source is None:
            parts = [(None, move.quantity)]
        else:
            repo.put_many(session, puts)
            puts = []
            parts = _take(session, tenant_id, move, number)
        for taken_status, quantity in parts:
            status: str | None = move.target_status or taken_status
            if move.target is not None:
                assert status is not None
                puts.append(
                    (
                        tenant_id,
                        move.target.location_id,
                        move.target.container,
                        move.item,
                        status,
                        quantity,
                    )
                )
            rows.append(
                StockMovement(
                    tenant_id=tenant_id,
                    kind=move.kind.value,
                    gtin=move.item.gtin,
                    lot=move.item.lot,
                    serial=move.item.serial,
                    quantity=quantity,
                    from_location_id=move.source.location_id if move.source else None,
                    from_container=move.source.container if move.source else "",
                    from_status=taken_status,
                    to_location_id=move.target.location_id if move.target else None,
                    to_container=move.target.container if move.target else "",
                    to_status=status if move.target else None,
                    epcis_event_row_id=event_row_id,
                    reason=reason,
                    occurred_at=moment,
                )
            )
    repo.put_many(session, puts)
    _ensure_lots(session, tenant_id, moves)
    session.add_all(rows)
    session.flush()
    audit_movements(session, tenant_id, rows, reason)
    hooks.notify(hooks.StockChange(session, tenant_id, rows, reason))
    return rows


def audit_movements(
    session: Session, tenant_id: int, rows: list[StockMovement], reason: str = ""
) -> None:
    """One audit entry for the movements of one operation, listing each of them."""
    if not rows:
        return
    audit.record(
        session,
        tenant_id=tenant_id,
        action="inventory.move",
        entity_type="stock_movements",
        entity_id=rows[0].id,
        new_values={
            "epcis_event_row_id": rows[0].epcis_event_row_id,
            "movements": [
                [
                    m.id,
                    m.kind,
                    m.gtin,
                    m.lot,
                    m.serial,
                    m.quantity,
                    m.from_location_id,
                    m.from_container,
                    m.from_status,
                    m.to_location_id,
                    m.to_container,
                    m.to_status,
                    m.reversal_of_id,
                ]
                for m in rows
            ],
        },
        reason=reason or None,
    )


def _take(
    session: Session, tenant_id: int, move: PlannedMove, number: int
) -> list[tuple[str | None, int]]:
    """Take ``move.quantity`` from the source, status by status in the move's order."""
    assert move.source is not None
    held = repo.balances_at(
        session, tenant_id, move.source.location_id, move.source.container, move.item
    )
    wanted = move.quantity
    parts: list[tuple[str | None, int]] = []
    for status in move.take:
        available = held.get(status.value, 0)
        if wanted == 0:
            break
        if available <= 0:
            continue
        quantity = min(available, wanted)
        parts.append((status.value, quantity))
        wanted -= quantity
    if wanted > 0:
        total = sum(held.values())
        allowed = sum(held.get(s.value, 0) for s in move.take)
        params = {
            "gtin": move.item.gtin,
            "lot": move.item.lot or move.item.serial,
            "location_id": move.source.location_id,
            "available": allowed,
            "requested": move.quantity,
            "total": total - allowed,
        }
        field = f"lines.{number}.quantity"
        if total >= move.quantity and allowed < move.quantity:
            raise conflict(
                NOT_RELEASED,
                "Only {available} of {gtin} {lot} at location {location_id} may be moved this "
                "way (released); {requested} requested, {total} held in other statuses.",
                field,
                **params,
            )
        raise conflict(
            INSUFFICIENT_STOCK,
            "Only {available} of {gtin} {lot} at location {location_id}; {requested} requested.",
            field,
            **params,
        )
    for taken, quantity in parts:
        assert taken is not None
        if not repo.take(
            session,
            tenant_id,
            move.source.location_id,
            move.source.container,
            move.item,
            taken,
            quantity,
        ):
            # Another transaction took it between our read and our update.
            raise conflict(
                INSUFFICIENT_STOCK,
                "Only {available} of {gtin} {lot} at location {location_id}; {requested} "
                "requested.",
                f"lines.{number}.quantity",
                gtin=move.item.gtin,
                lot=move.item.lot or move.item.serial,
                location_id=move.source.location_id,
                available=0,
                requested=move.quantity,
            )
    return parts


def _ensure_lots(session: Session, tenant_id: int, moves: tuple[PlannedMove, ...]) -> None:
    """Lots first seen in stock get an inventory lot (expiry from the ledger when known)."""
    keys = {(m.item.gtin, m.item.lot) for m in moves if m.item.lot}
    if not keys:
        return
    known = repo.lots(session, tenant_id, list(keys))
    missing = sorted(keys - set(known))
    if not missing:
        return
    from medledger.trace.models import TraceItem

    expiries: dict[tuple[str, str], Any] = {}
    for gtin, lot, expiry in session.execute(
        select(TraceItem.gtin, TraceItem.lot, TraceItem.expiry).where(
            TraceItem.tenant_id == tenant_id,
            TraceItem.gtin.in_(sorted({g for g, _ in missing})),
            TraceItem.lot.is_not(None),
            TraceItem.serial.is_(None),
        )
    ):
        expiries[(str(gtin), str(lot))] = expiry
    created = [
        {
            "tenant_id": tenant_id,
            "gtin": gtin,
            "lot": lot,
            "expiry": _as_date(expiries.get((gtin, lot))),
            "recalled": False,
            "created_at": utcnow(),
        }
        for gtin, lot in missing
    ]
    create_lots(session, tenant_id, created)


def create_lots(session: Session, tenant_id: int, created: list[dict[str, Any]]) -> None:
    """Insert new inventory lots in one statement and one audit entry listing them (later
    changes — expiry, recall — are audited row by row)."""
    if not created:
        return
    table: Any = InventoryLot.__table__
    session.connection().execute(table.insert(), created)
    audit.record(
        session,
        tenant_id=tenant_id,
        action="create",
        entity_type="inventory_lots",
        entity_id=f"{created[0]['gtin']}/{created[0]['lot']}",
        new_values={
            "lots": [
                [c["gtin"], c["lot"], c["expiry"].isoformat() if c["expiry"] else None]
                for c in created
            ]
        },
    )


def _as_date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def reverse_events(session: Session, tenant_id: int, event_row_ids: Any) -> None:
    """Undo the movements of retracted events, newest first (a refusal if the stock has since
    moved on: the correction must then be preceded by moving it back)."""
    reversals: list[StockMovement] = []
    for number, movement in enumerate(
        repo.live_movements_of_events(session, tenant_id, event_row_ids)
    ):
        item = ItemKey(movement.gtin, movement.lot, movement.serial)
        if movement.to_location_id is not None:
            assert movement.to_status is not None
            if not repo.take(
                session,
                tenant_id,
                movement.to_location_id,
                movement.to_container,
                item,
                movement.to_status,
                movement.quantity,
            ):
                raise conflict(
                    INSUFFICIENT_STOCK,
                    "The correction cannot be applied: {quantity} of {gtin} {lot} are no "
                    "longer at location {location_id}.",
                    f"events.{number}",
                    quantity=movement.quantity,
                    gtin=movement.gtin,
                    lot=movement.lot or movement.serial,
                    location_id=movement.to_location_id,
                )
        if movement.from_location_id is not None:
            assert movement.from_status is not None
            repo.put(
                session,
                tenant_id,
                movement.from_location_id,
                movement.from_container,
                item,
                movement.from_status,
                movement.quantity,
            )
        reversals.append(
            StockMovement(
                tenant_id=tenant_id,
                kind=K.REVERSAL.value,
                gtin=movement.gtin,
                lot=movement.lot,
                serial=movement.serial,
                quantity=movement.quantity,
                from_location_id=movement.to_location_id,
                from_container=movement.to_container,
                from_status=movement.to_status,
                to_location_id=movement.from_location_id,
                to_container=movement.from_container,
                to_status=movement.from_status,
                epcis_event_row_id=movement.epcis_event_row_id,
                reversal_of_id=movement.id,
                reason="error declaration",
            )
        )
    ids = list(event_row_ids)
    for shipment in session.scalars(
        select(Shipment).where(
            Shipment.tenant_id == tenant_id,
            (Shipment.ship_event_row_id.in_(ids)) | (Shipment.delivery_event_row_id.in_(ids)),
        )
    ):
        if shipment.ship_event_row_id in ids:
            shipment.status = ShipmentStatus.RETRACTED.value
        else:
            shipment.status = ShipmentStatus.SHIPPED.value
            shipment.delivery_event_row_id = None
            shipment.delivered_at = None
    session.add_all(reversals)
    session.flush()
    audit_movements(session, tenant_id, reversals, "error declaration")


def _record_shipments(
    session: Session, tenant_id: int, plan: EventPlan, row_id: int, event: Any
) -> None:
    if plan.shipped_ssccs and plan.destination_gln and plan.moves:
        party_id = _party_of_gln(session, tenant_id, plan.destination_gln)
        origin = plan.moves[0].source
        if party_id is not None and origin is not None:
            for sscc in plan.shipped_ssccs:
                session.add(
                    Shipment(
                        tenant_id=tenant_id,
                        sscc=sscc,
                        from_location_id=origin.location_id,
                        destination_party_id=party_id,
                        destination_gln=plan.destination_gln,
                        status=ShipmentStatus.SHIPPED.value,
                        ship_event_row_id=row_id,
                        shipped_at=event.event_time,
                    )
                )
            session.flush()
    if plan.received_elsewhere_ssccs:
        for shipment in session.scalars(
            select(Shipment).where(
                Shipment.tenant_id == tenant_id,
                Shipment.sscc.in_(list(plan.received_elsewhere_ssccs)),
                Shipment.status == ShipmentStatus.SHIPPED.value,
            )
        ):
            shipment.status = ShipmentStatus.DELIVERED.value
            shipment.delivery_event_row_id = row_id
            shipment.delivered_at = event.event_time
        session.flush()


def _party_of_gln(session: Session, tenant_id: int, gln: str) -> int | None:
    party = session.scalar(select(Party.id).where(Party.tenant_id == tenant_id, Party.gln == gln))
    if party is not None:
        return int(party)
    site = session.scalar(select(Site.party_id).where(Site.tenant_id == tenant_id, Site.gln == gln))
    return int(site) if site is not None else None


register_projection(StockProjection())
