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

from sqlalchemy import bindparam, event, insert, select
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
)
from medledger.inventory.plan import (
    EventPlan,
    ItemKey,
    MovementRow,
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
        captured = session.info.setdefault(_CAPTURED, {})
        for stored in change.events:
            captured[stored.event.event_id] = stored.row_id
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
                    session,
                    tenant_id,
                    plan.moves,
                    stored.row_id,
                    when.date(),
                    occurred_at=when,
                    shipments=_shipments(session, tenant_id, plan, stored.row_id, stored.event),
                )
            _record_deliveries(session, tenant_id, plan, stored.row_id, stored.event)
            if stored.event.sensor_element_list:
                coldchain.check_event(session, tenant_id, stored.event, stored.row_id)


Facts = dict[tuple[str, str], tuple[Any, bool]]


def check_rules(
    session: Session,
    tenant_id: int,
    moves: tuple[PlannedMove, ...],
    on: date,
    lots: Facts | None = None,
) -> None:
    """Refuse moves that break a stock rule (storage class, expired or recalled lots going to
    sellable places or out). ``lots``: (expiry, recalled) per (gtin, lot), read if not given."""
    classes = repo.storage_classes(session, tenant_id, [m.item.gtin for m in moves])
    if lots is None:
        session.flush()
        lots = repo.lot_facts(session, tenant_id, [(m.item.gtin, m.item.lot) for m in moves])
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
            expiry, recalled = lot
            if recalled:
                raise conflict(
                    LOT_RECALLED,
                    "Lot {lot} of {gtin} is recalled.",
                    f"lines.{number}.lot",
                    gtin=move.item.gtin,
                    lot=move.item.lot,
                )
            if expiry is not None and expiry < on:
                raise conflict(
                    LOT_EXPIRED,
                    "Lot {lot} of {gtin} expired on {expiry}.",
                    f"lines.{number}.lot",
                    gtin=move.item.gtin,
                    lot=move.item.lot,
                    expiry=expiry.isoformat(),
                )


# A balance (tenant, location, container, item, status) and the quantity of a change to it.
BalanceChange = tuple[int, int, str, ItemKey, str, int]
_EXPIRIES = "inventory.expiries"
_WRITTEN = "inventory.movements"
_CAPTURED = "inventory.captured"


def expect_expiries(session: Session, expiries: dict[tuple[str, str], date]) -> None:
    """Expiry dates of lots about to enter stock (a scan's AI 17, an ASN): the projection gives
    them to the lots it creates, and the rules use them, in the same transaction."""
    session.info.setdefault(_EXPIRIES, {}).update(expiries)


def written_movements(session: Session, event_row_ids: Any) -> list[MovementRow] | None:
    """The movements this transaction's projection wrote for these ledger rows (None if it
    did not project all of them here), so an operation need not read back what it wrote."""
    written: dict[int, list[MovementRow]] = session.info.get(_WRITTEN, {})
    wanted = list(event_row_ids)
    if not all(i in written for i in wanted):
        return None
    return sorted((m for i in wanted for m in written.pop(i)), key=lambda m: m.id)


def captured_rows(session: Session, event_ids: list[str]) -> dict[str, int] | None:
    """The ledger row ids of events this transaction captured and projected (None unless
    every one of ``event_ids`` is known here)."""
    captured: dict[str, int] = session.info.get(_CAPTURED, {})
    if not all(i in captured for i in event_ids):
        return None
    return {i: captured[i] for i in event_ids}


def _forget(session: Session, *_: Any) -> None:
    """What a transaction kept in ``session.info`` (stated expiries, written movements,
    captured row ids) ends with it."""
    for key in (_EXPIRIES, _WRITTEN, _CAPTURED):
        session.info.pop(key, None)


event.listen(Session, "after_commit", _forget)
event.listen(Session, "after_rollback", _forget)


def apply_moves(
    session: Session,
    tenant_id: int,
    moves: tuple[PlannedMove, ...],
    event_row_id: int | None,
    on: date,
    reason: str = "",
    occurred_at: datetime | None = None,
    shipments: list[dict[str, Any]] | None = None,
) -> list[MovementRow]:
    """Check the rules, then write the balances and one movement per balance changed (and the
    ``shipments`` the event starts, as column dicts).

    Set-based: the lots and the source balances of all moves are read once, the takes are
    worked out in memory in the moves' order, then written as one ``executemany`` of atomic
    conditional decrements and one of upserted increments (in segments only where a move takes
    what an earlier move of the batch put), the movements as one multi-row insert, and one
    audit entry lists the movements and the lots first seen.
    """
    if not moves:
        return []
    session.flush()  # the reads below go to the connection: pending ORM changes first
    expected: dict[tuple[str, str], date] = session.info.get(_EXPIRIES, {})
    keys = {(m.item.gtin, m.item.lot) for m in moves if m.item.lot}
    facts = repo.lot_facts(session, tenant_id, list(keys))
    missing = sorted(keys - set(facts))
    for key in missing:
        if key in expected:
            facts[key] = (expected[key], False)
    check_rules(session, tenant_id, moves, on, facts)
    held = repo.held_at(
        session,
        tenant_id,
        [(m.source.location_id, m.source.container, m.item) for m in moves if m.source],
    )
    # The takes are worked out in memory, in order, then written in as few statements as
    # that order allows.
    takes: list[BalanceChange] = []
    puts: list[BalanceChange] = []
    put_keys: set[tuple[int, str, ItemKey, str]] = set()
    columns: list[dict[str, Any]] = []
    moment = occurred_at or utcnow()
    created = utcnow()
    for number, move in enumerate(moves):
        parts: list[tuple[str | None, int]]
        if move.source is None:
            parts = [(None, move.quantity)]
        else:
            place = (move.source.location_id, move.source.container, move.item)
            parts = _take(held.setdefault(place, {}), move, number)
            for taken_status, quantity in parts:
                assert taken_status is not None
                balance = (move.source.location_id, move.source.container, move.item, taken_status)
                if balance in put_keys:
                    # It takes what an earlier move of the batch put: those go in first.
                    _write(session, takes, puts, number)
                    takes, puts, put_keys = [], [], set()
                takes.append((tenant_id, *balance, quantity))
        for taken_status, quantity in parts:
            status: str | None = move.target_status or taken_status
            if move.target is not None:
                assert status is not None
                target = (move.target.location_id, move.target.container, move.item, status)
                puts.append((tenant_id, *target, quantity))
                put_keys.add(target)
                entry = held.get((move.target.location_id, move.target.container, move.item))
                if entry is not None:
                    entry[status] = entry.get(status, 0) + quantity
            columns.append(
                {
                    "tenant_id": tenant_id,
                    "kind": move.kind.value,
                    "gtin": move.item.gtin,
                    "lot": move.item.lot,
                    "serial": move.item.serial,
                    "quantity": quantity,
                    "from_location_id": move.source.location_id if move.source else None,
                    "from_container": move.source.container if move.source else "",
                    "from_status": taken_status,
                    "to_location_id": move.target.location_id if move.target else None,
                    "to_container": move.target.container if move.target else "",
                    "to_status": status if move.target else None,
                    "epcis_event_row_id": event_row_id,
                    "reversal_of_id": None,
                    "reason": reason,
                    "occurred_at": moment,
                    "created_at": created,
                }
            )
    _write(session, takes, puts, len(moves) - 1)
    new_lots = _create_missing_lots(session, tenant_id, missing, expected)
    rows = _insert(session, columns)
    if shipments:
        for shipment, shipment_id in zip(
            shipments, repo.insert_shipments(session, shipments), strict=True
        ):
            shipment["id"] = shipment_id
    audit_movements(session, tenant_id, rows, reason, new_lots, shipments)
    hooks.notify(hooks.StockChange(session, tenant_id, rows, reason))
    if event_row_id is not None:
        session.info.setdefault(_WRITTEN, {}).setdefault(event_row_id, []).extend(rows)
    return rows


def _write(
    session: Session, takes: list[BalanceChange], puts: list[BalanceChange], number: int
) -> None:
    """Decrements first (each conditional: what a concurrent taker got first makes it match
    nothing), then increments."""
    if takes and repo.take_many(session, takes) != len(takes):
        # Another transaction took some of it between our read and our update.
        _, location_id, _, item, _, quantity = takes[0]
        raise conflict(
            INSUFFICIENT_STOCK,
            "Only {available} of {gtin} {lot} at location {location_id}; {requested} requested.",
            f"lines.{number}.quantity" if len(takes) == 1 else "lines",
            gtin=item.gtin,
            lot=item.lot or item.serial,
            location_id=location_id,
            available=0,
            requested=quantity,
        )
    repo.put_many(session, puts)


def _insert(session: Session, columns: list[dict[str, Any]]) -> list[MovementRow]:
    ids = repo.insert_movements(session, columns)
    return [MovementRow(id=i, **c) for i, c in zip(ids, columns, strict=True)]


def audit_movements(
    session: Session,
    tenant_id: int,
    rows: list[MovementRow],
    reason: str = "",
    new_lots: list[dict[str, Any]] | None = None,
    shipments: list[dict[str, Any]] | None = None,
) -> None:
    """One audit entry for the movements of one operation, listing each of them (and the
    inventory lots it saw first, with their expiry, and the shipments it started)."""
    if not rows:
        return
    values: dict[str, Any] = {
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
    }
    if new_lots:
        values["lots"] = _lot_list(new_lots)
    if shipments:
        values["shipments"] = [
            [
                c["id"],
                c["sscc"],
                c["from_location_id"],
                c["destination_party_id"],
                c["destination_gln"],
                c["status"],
            ]
            for c in shipments
        ]
    audit.record(
        session,
        tenant_id=tenant_id,
        action="inventory.move",
        entity_type="stock_movements",
        entity_id=rows[0].id,
        new_values=values,
        reason=reason or None,
    )


def _take(held: dict[str, int], move: PlannedMove, number: int) -> list[tuple[str | None, int]]:
    """Take ``move.quantity`` from what the source holds (``held``, per status, updated in
    place), status by status in the move's order."""
    assert move.source is not None
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
        held[taken] -= quantity
    return parts


def _create_missing_lots(
    session: Session,
    tenant_id: int,
    missing: list[tuple[str, str]],
    expected: dict[tuple[str, str], date],
) -> list[dict[str, Any]]:
    """Lots first seen in stock get an inventory lot: expiry as the operation stated it, else
    from the ledger (ILMD) when known. One insert; audited with the movements."""
    if not missing:
        return []
    from medledger.trace.models import TraceItem

    global _LEDGER_EXPIRIES
    if _LEDGER_EXPIRIES is None:
        _LEDGER_EXPIRIES = select(TraceItem.gtin, TraceItem.lot, TraceItem.expiry).where(
            TraceItem.tenant_id == bindparam("tenant_id"),
            TraceItem.gtin.in_(bindparam("gtins", expanding=True)),
            TraceItem.lot.in_(bindparam("lots", expanding=True)),
            TraceItem.serial.is_(None),
        )
    expiries: dict[tuple[str, str], Any] = {}
    unknown = [key for key in missing if expected.get(key) is None]
    gtins = sorted({g for g, _ in unknown})
    names = sorted({lot for _, lot in unknown})
    connection = session.connection()
    for start in range(0, len(names), 900):
        for gtin, lot, expiry in connection.execute(
            _LEDGER_EXPIRIES,
            {"tenant_id": tenant_id, "gtins": gtins, "lots": names[start : start + 900]},
        ):
            expiries[(str(gtin), str(lot))] = expiry
    now = utcnow()
    created = [
        {
            "tenant_id": tenant_id,
            "gtin": gtin,
            "lot": lot,
            "expiry": expected.get((gtin, lot)) or _as_date(expiries.get((gtin, lot))),
            "recalled": False,
            "created_at": now,
        }
        for gtin, lot in missing
    ]
    connection.execute(_INSERT_LOTS, created)
    return created


# Built once (building a statement costs more than running it).
_INSERT_LOTS: Any = insert(InventoryLot)
_LEDGER_EXPIRIES: Any = None  # built at first use (trace models load after this module)


def _lot_list(created: list[dict[str, Any]]) -> list[list[Any]]:
    return [
        [c["gtin"], c["lot"], c["expiry"].isoformat() if c["expiry"] else None] for c in created
    ]


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
        new_values={"lots": _lot_list(created)},
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
    reversals: list[dict[str, Any]] = []
    now = utcnow()
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
            {
                "tenant_id": tenant_id,
                "kind": K.REVERSAL.value,
                "gtin": movement.gtin,
                "lot": movement.lot,
                "serial": movement.serial,
                "quantity": movement.quantity,
                "from_location_id": movement.to_location_id,
                "from_container": movement.to_container,
                "from_status": movement.to_status,
                "to_location_id": movement.from_location_id,
                "to_container": movement.from_container,
                "to_status": movement.from_status,
                "epcis_event_row_id": movement.epcis_event_row_id,
                "reversal_of_id": movement.id,
                "reason": "error declaration",
                "occurred_at": now,
                "created_at": now,
            }
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
    session.flush()
    audit_movements(session, tenant_id, _insert(session, reversals), "error declaration")


def _shipments(
    session: Session, tenant_id: int, plan: EventPlan, row_id: int, event: Any
) -> list[dict[str, Any]]:
    """The shipments (column dicts) a shipping event starts: one per SSCC, when the party it
    goes to is known."""
    if not (plan.shipped_ssccs and plan.destination_gln and plan.moves):
        return []
    party_id = _party_of_gln(session, tenant_id, plan.destination_gln)
    origin = plan.moves[0].source
    if party_id is None or origin is None:
        return []
    return [
        {
            "tenant_id": tenant_id,
            "sscc": sscc,
            "from_location_id": origin.location_id,
            "destination_party_id": party_id,
            "destination_gln": plan.destination_gln,
            "status": ShipmentStatus.SHIPPED.value,
            "ship_event_row_id": row_id,
            "delivery_event_row_id": None,
            "shipped_at": event.event_time,
            "delivered_at": None,
        }
        for sscc in plan.shipped_ssccs
    ]


def _record_deliveries(
    session: Session, tenant_id: int, plan: EventPlan, row_id: int, event: Any
) -> None:
    """Proof of delivery: shipped SSCCs the receiving party's event names."""
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
