"""Warehouse use cases: receive, put away, transfer, pick, pack, ship, scrap; status changes
and adjustments; stock and pick lists.

Every physical movement is an EPCIS event: the use case builds it and captures it through the
trace ledger's capture service, in the caller's transaction, and the stock projection
(``inventory.projection``) moves the stock — exactly as for an event a partner captures. Status
changes (release, hold, reject, recall) and counted adjustments are not physical: they are
stock movements only, each with its reason in the audit trail.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from medledger.core.db import utcnow
from medledger.core.errors import NotFound, ValidationFailed
from medledger.core.principal import Permission, Principal
from medledger.core.repository import get_visible
from medledger.core.work import work_of
from medledger.identifiers.digital_link import encode_value
from medledger.inventory import coldchain
from medledger.inventory import repository as repo
from medledger.inventory.errors import INSUFFICIENT_STOCK, NOT_MANAGED, Code, conflict, invalid
from medledger.inventory.models import (
    InventoryLot,
    InventorySite,
    MovementKind,
    StockBalance,
    StockMovement,
    StockStatus,
)
from medledger.inventory.plan import DL, ItemKey, MovementRow, Place, PlannedMove, location_uris
from medledger.inventory.projection import (
    apply_moves,
    captured_rows,
    expect_expiries,
    written_movements,
)
from medledger.inventory.schemas import (
    AdjustIn,
    LotIn,
    MoveIn,
    OpeningStockIn,
    PackIn,
    PickListIn,
    PickListOut,
    PickOut,
    ReceiptIn,
    ScrapIn,
    ShipIn,
    StatusChangeIn,
    StockLineIn,
    StockRowOut,
)
from medledger.parties.models import Location, Party, Site
from medledger.trace.ledger.capture import STANDARD_CONTEXT, capture_document
from medledger.trace.models import EpcisEvent

NEAR_EXPIRY_DAYS_DEFAULT = 90


# -- managed sites ---------------------------------------------------------------------------


def enable_site(session: Session, principal: Principal, site_id: int) -> InventorySite:
    """Let inventory manage the stock of a hub site from now on (events captured from now on
    move its stock; earlier ones stay trace history)."""
    principal.require(Permission.INVENTORY_MOVE)
    site = get_visible(session, Site, site_id, principal)
    if site.party_id != principal.hub_party_id:
        raise invalid(
            Code.NOT_A_HUB_SITE,
            "Site {site_id} is not a site of the hub.",
            "site_id",
            site_id=site_id,
        )
    existing = session.scalar(
        select(InventorySite).where(
            InventorySite.tenant_id == principal.tenant_id, InventorySite.site_id == site_id
        )
    )
    if existing is not None:
        return existing
    last = session.scalar(
        select(func.max(EpcisEvent.id)).where(EpcisEvent.tenant_id == principal.tenant_id)
    )
    managed = InventorySite(
        tenant_id=principal.tenant_id, site_id=site_id, after_event_row_id=int(last or 0)
    )
    session.add(managed)
    session.flush()
    return managed


_MANAGED_LOCATION: Any = (
    select(Location, Site, InventorySite.id)
    .join(Site, Site.id == Location.site_id)
    .outerjoin(
        InventorySite,
        (InventorySite.site_id == Location.site_id)
        & (InventorySite.tenant_id == Location.tenant_id),
    )
    .where(Location.id == bindparam("location_id"), Location.tenant_id == bindparam("tenant_id"))
)


def _managed_location(
    session: Session, principal: Principal, location_id: int, field: str
) -> tuple[Location, Site]:
    found = session.execute(
        _MANAGED_LOCATION, {"location_id": location_id, "tenant_id": principal.tenant_id}
    ).first()
    if found is None:
        raise NotFound(
            "Location {id} was not found.",
            params={"id": location_id},
        )
    location, site, managed = found
    if managed is None or not location.active:
        raise conflict(
            NOT_MANAGED,
            "Location {code} is not in a site whose stock is managed here.",
            field,
            code=location.code,
        )
    return location, site


def location_uri(location: Location, site: Site) -> str:
    return location_uris(site.gln, location.code, location.gln)[0]


# -- EPCIS events ----------------------------------------------------------------------------


def _epcs_and_quantities(lines: Sequence[StockLineIn]) -> dict[str, Any]:
    epcs = [f"{DL}/01/{line.gtin}/21/{encode_value(line.serial)}" for line in lines if line.serial]
    quantities = [
        {"epcClass": f"{DL}/01/{line.gtin}/10/{encode_value(line.lot)}", "quantity": line.quantity}
        if line.lot
        else {"epcClass": f"{DL}/01/{line.gtin}", "quantity": line.quantity}
        for line in lines
        if not line.serial
    ]
    return {"epcList": epcs, "quantityList": quantities}


def _event(event_type: str, where: str, **fields: Any) -> dict[str, Any]:
    now = utcnow()
    return {
        "type": event_type,
        "eventID": f"urn:uuid:{uuid.uuid4()}",
        "eventTime": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "eventTimeZoneOffset": "+00:00",
        "readPoint": {"id": where},
        "bizLocation": {"id": where},
        **fields,
    }


def capture(session: Session, principal: Principal, *events: dict[str, Any]) -> list[int]:
    """Capture ``events`` in the caller's transaction; the ledger row ids, in order."""
    document = {
        "@context": [STANDARD_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": utcnow().isoformat(timespec="seconds").replace("+00:00", "Z"),
        "epcisBody": {"eventList": list(events)},
    }
    job = capture_document(session, principal, document)
    if job.state != "succeeded":
        # Our own events are built valid; a failure here is a bug worth its full detail.
        raise ValidationFailed(
            "The EPCIS event could not be captured.",
            code=Code.EVENT_INVALID,
            params={"errors": job.errors},
        )
    ids = [e["eventID"] for e in events]
    rows = captured_rows(session, ids)
    if rows is None:
        rows = dict(
            session.execute(
                select(EpcisEvent.event_id, EpcisEvent.id).where(
                    EpcisEvent.tenant_id == principal.tenant_id, EpcisEvent.event_id.in_(ids)
                )
            ).all()
        )
    return [int(rows[i]) for i in ids]


def movements_of(session: Session, tenant_id: int, row_ids: Sequence[int]) -> list[MovementRow]:
    """The movements projected from these ledger rows (as this transaction wrote them, or read
    back), in id order."""
    written = written_movements(session, row_ids)
    if written is not None:
        return written
    return [
        MovementRow(**{c: getattr(m, c) for c in MovementRow.__slots__})
        for m in session.scalars(
            select(StockMovement)
            .where(
                StockMovement.tenant_id == tenant_id,
                StockMovement.epcis_event_row_id.in_(list(row_ids)),
            )
            .order_by(StockMovement.id)
        )
    ]


def _remember_expiry(session: Session, tenant_id: int, lines: Sequence[StockLineIn]) -> None:
    """Lots received with an expiry date (scan AI 17, ASN) get it recorded: a known lot without
    one gets it now; a new lot gets it when the projection creates it (and the rules use it)."""
    stated: dict[tuple[str, str], date] = {}
    for line in lines:
        if line.lot and line.expiry is not None:
            stated.setdefault((line.gtin, line.lot), line.expiry)
    if not stated:
        return
    known = repo.lots(session, tenant_id, list(stated))
    for key, lot in known.items():
        if lot.expiry is None:
            lot.expiry = stated[key]
    expect_expiries(session, {k: v for k, v in stated.items() if k not in known})
    session.flush()


# -- physical movements ----------------------------------------------------------------------


def receive(
    session: Session, principal: Principal, data: ReceiptIn, *, asn_number: str = ""
) -> tuple[str, list[MovementRow]]:
    """Receive goods at a managed location into quarantine (an ObjectEvent ``receiving``)."""
    principal.require(Permission.INVENTORY_MOVE)
    location, site = _managed_location(session, principal, data.location_id, "location_id")
    _remember_expiry(session, principal.tenant_id, data.lines)
    fields: dict[str, Any] = {
        "action": "OBSERVE",
        "bizStep": "receiving",
        "disposition": "in_progress",
        **_epcs_and_quantities(data.lines),
    }
    if data.source_party_id is not None:
        source = get_visible(session, Party, data.source_party_id, principal)
        hub = session.get(Party, principal.hub_party_id)
        fields["sourceList"] = [{"type": "owning_party", "source": f"{DL}/417/{source.gln}"}]
        if hub is not None:
            fields["destinationList"] = [
                {"type": "owning_party", "destination": f"{DL}/417/{hub.gln}"}
            ]
    if asn_number:
        fields["bizTransactionList"] = [
            {"type": "desadv", "bizTransaction": f"urn:medledger:desadv:{asn_number}"}
        ]
    event = _event("ObjectEvent", location_uri(location, site), **fields)
    rows = capture(session, principal, event)
    return event["eventID"], movements_of(session, principal.tenant_id, rows)


def move(
    session: Session, principal: Principal, data: MoveIn, *, picking: bool = False
) -> tuple[str, list[MovementRow]]:
    """Put away, transfer (``storing``) or pick (``picking``) between managed locations."""
    principal.require(Permission.INVENTORY_MOVE)
    source, source_site = _managed_location(
        session, principal, data.from_location_id, "from_location_id"
    )
    target, target_site = _managed_location(
        session, principal, data.to_location_id, "to_location_id"
    )
    if source.id == target.id:
        raise invalid(
            Code.SAME_LOCATION,
            "The stock is already at location {code}.",
            "to_location_id",
            code=target.code,
        )
    event = _event(
        "ObjectEvent",
        location_uri(target, target_site),
        action="OBSERVE",
        bizStep="picking" if picking else "storing",
        sourceList=[{"type": "location", "source": location_uri(source, source_site)}],
        destinationList=[{"type": "location", "destination": location_uri(target, target_site)}],
        **_epcs_and_quantities(data.lines),
    )
    rows = capture(session, principal, event)
    return event["eventID"], movements_of(session, principal.tenant_id, rows)


def pack(session: Session, principal: Principal, data: PackIn) -> tuple[str, list[MovementRow]]:
    """Pack released stock at a location into a logistic unit (an AggregationEvent ``ADD``)."""
    principal.require(Permission.INVENTORY_MOVE)
    from medledger.identifiers.checkdigit import gs1_check_digit

    if gs1_check_digit(data.sscc[:-1]) != data.sscc[-1]:
        raise invalid(
            Code.SSCC_CHECK_DIGIT,
            "SSCC {sscc} has a wrong check digit.",
            "sscc",
            sscc=data.sscc,
        )
    location, site = _managed_location(session, principal, data.location_id, "location_id")
    children = _epcs_and_quantities(data.lines)
    event = _event(
        "AggregationEvent",
        location_uri(location, site),
        action="ADD",
        bizStep="packing",
        disposition="in_progress",
        parentID=f"{DL}/00/{data.sscc}",
        childEPCs=children["epcList"],
        childQuantityList=children["quantityList"],
    )
    rows = capture(session, principal, event)
    return event["eventID"], movements_of(session, principal.tenant_id, rows)


def ship(session: Session, principal: Principal, data: ShipIn) -> tuple[str, list[MovementRow]]:
    """Ship logistic units to a party (an ObjectEvent ``shipping`` with its destination)."""
    principal.require(Permission.INVENTORY_MOVE)
    location, site = _managed_location(session, principal, data.location_id, "location_id")
    destination = get_visible(session, Party, data.destination_party_id, principal)
    hub = session.get(Party, principal.hub_party_id)
    for number, sscc in enumerate(data.ssccs):
        if not repo.container_contents(session, principal.tenant_id, location.id, sscc):
            raise conflict(
                INSUFFICIENT_STOCK,
                "Nothing is packed in {sscc} at location {code}.",
                f"ssccs.{number}",
                sscc=sscc,
                code=location.code,
            )
    fields: dict[str, Any] = {
        "action": "OBSERVE",
        "bizStep": "shipping",
        "disposition": "in_transit",
        "epcList": [f"{DL}/00/{sscc}" for sscc in data.ssccs],
        "sourceList": [{"type": "owning_party", "source": f"{DL}/417/{hub.gln}"}] if hub else [],
        "destinationList": [{"type": "owning_party", "destination": f"{DL}/417/{destination.gln}"}],
    }
    if data.reference:
        fields["bizTransactionList"] = [
            {"type": "desadv", "bizTransaction": f"urn:medledger:desadv:{data.reference}"}
        ]
    event = _event("ObjectEvent", location_uri(location, site), **fields)
    rows = capture(session, principal, event)
    return event["eventID"], movements_of(session, principal.tenant_id, rows)


def scrap(session: Session, principal: Principal, data: ScrapIn) -> tuple[str, list[MovementRow]]:
    """Destroy stock (an ObjectEvent ``destroying``); rejected stock goes first."""
    principal.require(Permission.INVENTORY_MOVE)
    location, site = _managed_location(session, principal, data.location_id, "location_id")
    work_of(session).give_reason(data.reason)
    event = _event(
        "ObjectEvent",
        location_uri(location, site),
        action="OBSERVE",
        bizStep="destroying",
        disposition="destroyed",
        **_epcs_and_quantities(data.lines),
    )
    rows = capture(session, principal, event)
    return event["eventID"], movements_of(session, principal.tenant_id, rows)


# -- status changes and adjustments (no physical movement, no EPCIS event) --------------------

# action -> (statuses it takes from, in order; the status it gives)
_STATUS_ACTIONS: dict[str, tuple[tuple[StockStatus, ...], StockStatus]] = {
    "release": ((StockStatus.QUARANTINE,), StockStatus.RELEASED),
    "reject": ((StockStatus.QUARANTINE, StockStatus.ON_HOLD), StockStatus.REJECTED),
    # Quarantine stock is already unusable; holding it would let "unhold" release it unsigned.
    "hold": ((StockStatus.RELEASED,), StockStatus.ON_HOLD),
    "unhold": ((StockStatus.ON_HOLD,), StockStatus.RELEASED),
    "recall": (
        (StockStatus.RELEASED, StockStatus.QUARANTINE, StockStatus.ON_HOLD),
        StockStatus.RECALLED,
    ),
}


RELEASE_NEEDS_SIGNATURE = "inventory.release_needs_signature"


def change_status(
    session: Session, principal: Principal, data: StatusChangeIn
) -> list[MovementRow]:
    """Hold, unhold, reject or recall stock of a lot/serial, at one location or everywhere,
    with a reason. Unhold, reject and recall need QA's ``inventory:release``; anyone who moves
    stock may put it on hold.

    ``release`` is refused here (409 ``inventory.release_needs_signature``): a lot leaves
    quarantine only through quality's signed lot release (``POST /api/v1/quality/lot-releases``
    and its ``release`` step), which calls :func:`release_lot`. One way to release.
    """
    principal.require(
        Permission.INVENTORY_MOVE if data.action == "hold" else Permission.INVENTORY_RELEASE
    )
    if data.action == "release":
        raise conflict(
            RELEASE_NEEDS_SIGNATURE,
            "Stock leaves quarantine only through a signed lot release (Quality → Lot releases).",
            "action",
        )
    return _set_status(session, principal, data)


def _set_status(session: Session, principal: Principal, data: StatusChangeIn) -> list[MovementRow]:
    work_of(session).give_reason(data.reason)
    tenant = principal.tenant_id
    statuses, target = _STATUS_ACTIONS[data.action]
    if data.location_id is not None:
        _managed_location(session, principal, data.location_id, "location_id")
    query = select(StockBalance).where(
        StockBalance.tenant_id == tenant,
        StockBalance.gtin == data.gtin,
        StockBalance.lot == data.lot,
        StockBalance.serial == data.serial,
        StockBalance.status.in_([s.value for s in statuses]),
        StockBalance.quantity > 0,
    )
    if data.location_id is not None:
        query = query.where(StockBalance.location_id == data.location_id)
    balances = list(session.scalars(query.order_by(StockBalance.location_id, StockBalance.id)))
    order = {s.value: i for i, s in enumerate(statuses)}
    balances.sort(key=lambda b: (b.location_id, order[b.status], b.container))
    available = sum(b.quantity for b in balances)
    wanted = data.quantity if data.quantity is not None else available
    if available == 0 or wanted > available:
        raise conflict(
            INSUFFICIENT_STOCK,
            "Only {available} of {gtin} {lot} can be given status {status}; {requested} requested.",
            "quantity",
            available=available,
            gtin=data.gtin,
            lot=data.lot or data.serial,
            status=target.value,
            requested=wanted,
        )
    if data.action == "recall" and data.lot:
        lot = repo.lots(session, tenant, [(data.gtin, data.lot)]).get((data.gtin, data.lot))
        if lot is not None and data.location_id is None:
            lot.recalled = True
    moves: list[PlannedMove] = []
    item = ItemKey(data.gtin, data.lot, data.serial)
    # On-hold units an excursion took from quarantine go back there, not to released or only
    # with the signed lot release (coldchain.quarantine_owed); rejected, they settle it too.
    owed = (
        coldchain.quarantine_owed(session, tenant, item)
        if data.action in ("unhold", "reject")
        else 0
    )
    settled = 0
    left = wanted
    for balance in balances:
        if left == 0:
            break
        quantity = min(balance.quantity, left)
        left -= quantity
        place = Place(balance.location_id, balance.container)
        status = StockStatus(balance.status)
        parts = [(quantity, target)]
        if status is StockStatus.ON_HOLD and owed > settled:
            back = min(quantity, owed - settled)
            settled += back
            to = StockStatus.QUARANTINE if data.action == "unhold" else target
            parts = [(back, to), (quantity - back, target)]
        for part, to in parts:
            if part:
                moves.append(
                    PlannedMove(MovementKind.STATUS_CHANGE, item, part, place, place, (status,), to)
                )
    rows = apply_moves(session, tenant, tuple(moves), None, utcnow().date(), data.reason)
    if settled:
        coldchain.settle_quarantine_holds(session, tenant, item, settled)
    return rows


# -- lot decisions taken elsewhere (quality's signed lot release) ------------------------------


def _lot_change(
    session: Session, principal: Principal, action: str, gtin: str, lot: str, reason: str
) -> list[MovementRow]:
    principal.require(Permission.INVENTORY_RELEASE)
    statuses = _STATUS_ACTIONS[action][0]
    available = lot_quantities(session, principal.tenant_id, gtin, lot)
    if not any(available.get(s.value, 0) for s in statuses):
        return []
    return _set_status(
        session,
        principal,
        StatusChangeIn(action=action, gtin=gtin, lot=lot, reason=reason[:500] or action),
    )


def release_lot(
    session: Session, principal: Principal, gtin: str, lot: str, reason: str
) -> list[MovementRow]:
    """Every quarantine unit of the lot, everywhere in own stock, to released. Called by the
    signed lot release (the signature and its rules are the caller's); nothing else releases."""
    return _lot_change(session, principal, "release", gtin, lot, reason)


def reject_lot(
    session: Session, principal: Principal, gtin: str, lot: str, reason: str
) -> list[MovementRow]:
    """Every quarantine and on-hold unit of the lot, everywhere in own stock, to rejected."""
    return _lot_change(session, principal, "reject", gtin, lot, reason)


def lot_quantities(session: Session, tenant_id: int, gtin: str, lot: str) -> dict[str, int]:
    """Units of a lot in own stock per status (every location, serial and container)."""
    rows = session.execute(
        select(StockBalance.status, func.sum(StockBalance.quantity))
        .where(
            StockBalance.tenant_id == tenant_id,
            StockBalance.gtin == gtin,
            StockBalance.lot == lot,
            StockBalance.quantity > 0,
        )
        .group_by(StockBalance.status)
    ).all()
    return {str(status): int(quantity or 0) for status, quantity in rows}


def first_receipt_at(session: Session, tenant_id: int, gtin: str, lot: str) -> Any:
    """When the lot first came into own stock (its first receipt movement), or None."""
    return session.scalar(
        select(func.min(StockMovement.occurred_at)).where(
            StockMovement.tenant_id == tenant_id,
            StockMovement.gtin == gtin,
            StockMovement.lot == lot,
            StockMovement.kind == MovementKind.RECEIPT.value,
        )
    )


def shipment_contents(session: Session, tenant_id: int, shipment_id: int) -> list[dict[str, Any]]:
    """What a shipment carried: (gtin, lot, serial, quantity) from its shipping movements."""
    from medledger.inventory.models import Shipment

    shipment = session.get(Shipment, shipment_id)
    if shipment is None or shipment.tenant_id != tenant_id:
        return []
    rows = session.execute(
        select(
            StockMovement.gtin,
            StockMovement.lot,
            StockMovement.serial,
            func.sum(StockMovement.quantity),
        )
        .where(
            StockMovement.tenant_id == tenant_id,
            StockMovement.epcis_event_row_id == shipment.ship_event_row_id,
            StockMovement.kind == MovementKind.SHIP.value,
            StockMovement.reversal_of_id.is_(None),
        )
        .group_by(StockMovement.gtin, StockMovement.lot, StockMovement.serial)
        .order_by(StockMovement.gtin, StockMovement.lot, StockMovement.serial)
    ).all()
    return [
        {"gtin": g, "lot": lot, "serial": serial, "quantity": int(q or 0)}
        for g, lot, serial, q in rows
    ]


def adjust(session: Session, principal: Principal, data: AdjustIn) -> list[MovementRow]:
    """Correct a balance after a count (no EPCIS event: nothing moved physically)."""
    principal.require(Permission.INVENTORY_RELEASE)
    if data.delta == 0:
        raise invalid(Code.ZERO_ADJUSTMENT, "An adjustment changes the quantity.", "delta")
    work_of(session).give_reason(data.reason)
    _managed_location(session, principal, data.location_id, "location_id")
    item = ItemKey(data.gtin, data.lot, data.serial)
    place = Place(data.location_id)
    status = StockStatus(data.status)
    planned = (
        PlannedMove(MovementKind.ADJUST, item, data.delta, None, place, (), status)
        if data.delta > 0
        else PlannedMove(MovementKind.ADJUST, item, -data.delta, place, None, (status,))
    )
    return apply_moves(session, principal.tenant_id, (planned,), None, utcnow().date(), data.reason)


# -- lots and opening stock (migration, imports) ----------------------------------------------

LOT_EXISTS = Code.LOT_EXISTS
UNKNOWN_PRODUCT = Code.UNKNOWN_PRODUCT


def _known_product(session: Session, tenant_id: int, gtin: str) -> None:
    from medledger.catalog.models import Product

    found = session.scalar(
        select(Product.id).where(Product.tenant_id == tenant_id, Product.gtin == gtin)
    )
    if found is None:
        raise invalid(
            UNKNOWN_PRODUCT, "No product with GTIN {gtin} is registered.", "gtin", gtin=gtin
        )


def register_lot(session: Session, principal: Principal, data: LotIn) -> InventoryLot:
    """Record a lot and its expiry before stock of it moves (audited like every new lot)."""
    principal.require(Permission.INVENTORY_MOVE)
    from medledger.inventory.projection import create_lots

    _known_product(session, principal.tenant_id, data.gtin)
    if repo.lots(session, principal.tenant_id, [(data.gtin, data.lot)]):
        raise conflict(
            LOT_EXISTS,
            "Lot {lot} of {gtin} is already recorded.",
            "lot",
            gtin=data.gtin,
            lot=data.lot,
        )
    create_lots(
        session,
        principal.tenant_id,
        [
            {
                "tenant_id": principal.tenant_id,
                "gtin": data.gtin,
                "lot": data.lot,
                "expiry": data.expiry,
                "recalled": False,
                "created_at": utcnow(),
            }
        ],
    )
    lot = repo.lots(session, principal.tenant_id, [(data.gtin, data.lot)])[(data.gtin, data.lot)]
    return lot


def open_stock(session: Session, principal: Principal, data: OpeningStockIn) -> MovementRow:
    """Opening stock at a managed location: received through an EPCIS receiving event (so the
    ledger and the stock agree, and ``verify`` proves it), then given its status by a status
    change with the reason "opening stock". Stock in a status other than quarantine needs QA's
    ``inventory:release``, as a release does. The receipt movement is returned."""
    principal.require(Permission.INVENTORY_MOVE)
    if data.status != StockStatus.QUARANTINE.value:
        principal.require(Permission.INVENTORY_RELEASE)
    _known_product(session, principal.tenant_id, data.gtin)
    line = StockLineIn(
        gtin=data.gtin,
        lot=data.lot,
        serial=data.serial,
        quantity=data.quantity,
        expiry=data.expiry,
    )
    _, movements = receive(
        session, principal, ReceiptIn(location_id=data.location_id, lines=[line])
    )
    if data.status != StockStatus.QUARANTINE.value:
        place = Place(data.location_id)
        apply_moves(
            session,
            principal.tenant_id,
            (
                PlannedMove(
                    MovementKind.STATUS_CHANGE,
                    ItemKey(data.gtin, data.lot, data.serial),
                    data.quantity,
                    place,
                    place,
                    (StockStatus.QUARANTINE,),
                    StockStatus(data.status),
                ),
            ),
            None,
            utcnow().date(),
            "opening stock",
        )
    return movements[0]


# -- reads -----------------------------------------------------------------------------------


def stock(
    session: Session,
    principal: Principal,
    *,
    site_id: int | None = None,
    location_id: int | None = None,
    gtin: str | None = None,
    lot: str | None = None,
    status: str | None = None,
    near_expiry_days: int = NEAR_EXPIRY_DAYS_DEFAULT,
    today: date | None = None,
) -> list[StockRowOut]:
    """Stock by location, lot/serial and status, with expiry and the derived expired /
    near-expiry flags; hub staff only."""
    principal.require(Permission.INVENTORY_READ)
    if not principal.sees_all_parties:
        return []
    today = today or utcnow().date()
    query = (
        select(StockBalance, Location.code, Location.site_id, InventoryLot.expiry)
        .join(Location, Location.id == StockBalance.location_id)
        .outerjoin(
            InventoryLot,
            (InventoryLot.tenant_id == StockBalance.tenant_id)
            & (InventoryLot.gtin == StockBalance.gtin)
            & (InventoryLot.lot == StockBalance.lot),
        )
        .where(StockBalance.tenant_id == principal.tenant_id, StockBalance.quantity > 0)
    )
    if site_id is not None:
        query = query.where(Location.site_id == site_id)
    if location_id is not None:
        query = query.where(StockBalance.location_id == location_id)
    if gtin:
        query = query.where(StockBalance.gtin == gtin)
    if lot:
        query = query.where(StockBalance.lot == lot)
    if status:
        query = query.where(StockBalance.status == status)
    query = query.order_by(
        Location.site_id,
        Location.code,
        StockBalance.gtin,
        StockBalance.lot,
        StockBalance.serial,
        StockBalance.container,
        StockBalance.status,
    )
    warn = today + timedelta(days=near_expiry_days)
    return [
        StockRowOut(
            location_id=b.location_id,
            location_code=code,
            site_id=site,
            gtin=b.gtin,
            lot=b.lot,
            serial=b.serial,
            container=b.container,
            status=b.status,
            quantity=b.quantity,
            expiry=expiry,
            expired=expiry is not None and expiry < today,
            near_expiry=expiry is not None and today <= expiry <= warn,
        )
        for b, code, site, expiry in session.execute(query).all()
    ]


def managed_location(
    session: Session, principal: Principal, location_id: int, field: str
) -> tuple[Location, Site]:
    """An active location of a managed site, or the refusal ``inventory.location_not_managed``
    naming ``field`` (for other contexts' operations at a hub location)."""
    return _managed_location(session, principal, location_id, field)


def remember_expiry(session: Session, tenant_id: int, lines: Sequence[StockLineIn]) -> None:
    """Record the expiry of lots about to enter stock (before their event is captured)."""
    _remember_expiry(session, tenant_id, lines)


def fefo_at_location(
    session: Session,
    tenant_id: int,
    location_id: int,
    gtin: str,
    quantity: int,
    today: date | None = None,
) -> tuple[list[PickOut], int]:
    """Released, unexpired, unrecalled loose stock of ``gtin`` at one location, first expiry
    first out, for ``quantity``: the picks and what they cannot cover."""
    today = today or utcnow().date()
    rows = session.execute(
        _fefo_query(tenant_id, gtin).where(StockBalance.location_id == location_id)
    ).all()
    return _fefo(rows, quantity, today)


def _fefo_query(tenant_id: int, gtin: str) -> Any:
    return (
        select(StockBalance, Location.code, InventoryLot.expiry, InventoryLot.recalled)
        .join(Location, Location.id == StockBalance.location_id)
        .outerjoin(
            InventoryLot,
            (InventoryLot.tenant_id == StockBalance.tenant_id)
            & (InventoryLot.gtin == StockBalance.gtin)
            & (InventoryLot.lot == StockBalance.lot),
        )
        .where(
            StockBalance.tenant_id == tenant_id,
            StockBalance.gtin == gtin,
            StockBalance.status == StockStatus.RELEASED.value,
            StockBalance.container == "",
            StockBalance.quantity > 0,
        )
        .order_by(
            InventoryLot.expiry.is_(None),
            InventoryLot.expiry,
            StockBalance.lot,
            StockBalance.serial,
            Location.code,
        )
    )


def _fefo(rows: Sequence[Any], quantity: int, today: date) -> tuple[list[PickOut], int]:
    picks: list[PickOut] = []
    left = quantity
    for balance, code, expiry, recalled in rows:
        if left == 0:
            break
        if recalled or (expiry is not None and expiry < today):
            continue
        taken = min(balance.quantity, left)
        left -= taken
        picks.append(
            PickOut(
                location_id=balance.location_id,
                location_code=code,
                gtin=balance.gtin,
                lot=balance.lot,
                serial=balance.serial,
                quantity=taken,
                expiry=expiry,
            )
        )
    return picks, left


def pick_list(
    session: Session, principal: Principal, data: PickListIn, today: date | None = None
) -> PickListOut:
    """Which stock to pick for ``quantity`` of a GTIN at a site: released, unexpired,
    unrecalled, loose stock in storage-compatible locations, first expiry first out (lots
    without expiry last, then by location)."""
    principal.require(Permission.INVENTORY_READ)
    today = today or utcnow().date()
    site = get_visible(session, Site, data.site_id, principal)
    rows = session.execute(
        _fefo_query(principal.tenant_id, data.gtin).where(
            Location.site_id == site.id, Location.zone_purpose == "released"
        )
    ).all()
    picks, left = _fefo(rows, data.quantity, today)
    return PickListOut(gtin=data.gtin, requested=data.quantity, picks=picks, shortfall=left)
