"""Inventory queries, the balance writes (atomic conditional updates) and visibility rules.

Stock, movements, lots and managed sites are the hub's own business: partner users see none of
it. A shipment is also the business of the party it goes to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, false, func, insert, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from medledger.catalog.models import Product
from medledger.core.db import utcnow
from medledger.core.principal import Principal
from medledger.core.scoping import party_rule
from medledger.inventory.models import (
    InventoryLot,
    InventorySite,
    ProductTemperatureRange,
    ReplenishmentSetting,
    Shipment,
    StockBalance,
    StockMovement,
    StockStatus,
    TemperatureExcursion,
)
from medledger.inventory.plan import HubLocation, ItemKey, LocationIndex, location_uris, site_uri
from medledger.parties.models import Location, Site, Tenant


@party_rule(StockBalance)
def _balance_visible(principal: Principal) -> ColumnElement[bool]:
    return false()


@party_rule(StockMovement)
def _movement_visible(principal: Principal) -> ColumnElement[bool]:
    return false()


@party_rule(InventoryLot)
def _lot_visible(principal: Principal) -> ColumnElement[bool]:
    return false()


@party_rule(InventorySite)
def _site_visible(principal: Principal) -> ColumnElement[bool]:
    return false()


@party_rule(ReplenishmentSetting)
def _replenishment_visible(principal: Principal) -> ColumnElement[bool]:
    return false()


@party_rule(ProductTemperatureRange)
def _range_visible(principal: Principal) -> ColumnElement[bool]:
    # Storage conditions are on the label: part of the shared catalogue.
    return true()


@party_rule(TemperatureExcursion)
def _excursion_visible(principal: Principal) -> ColumnElement[bool]:
    return false()


@party_rule(Shipment)
def _shipment_visible(principal: Principal) -> ColumnElement[bool]:
    return Shipment.destination_party_id == principal.party_id


def hub_party_id(session: Session, tenant_id: int) -> int | None:
    return session.scalar(select(Tenant.owner_party_id).where(Tenant.id == tenant_id))


_MANAGED_LOCATIONS: Any = (
    select(
        Location.id,
        Location.site_id,
        Location.code,
        Location.gln,
        Location.zone_purpose,
        Location.storage_class,
        Site.gln,
        InventorySite.after_event_row_id,
    )
    .join(Site, Site.id == Location.site_id)
    .join(
        InventorySite,
        (InventorySite.site_id == Site.id) & (InventorySite.tenant_id == Location.tenant_id),
    )
    .where(Location.tenant_id == bindparam("tenant_id"), Location.active.is_(True))
    .order_by(Location.id)
)


def location_index(session: Session, tenant_id: int) -> LocationIndex:
    """Every location of the sites inventory manages, by the URIs events name them with."""
    rows = session.execute(_MANAGED_LOCATIONS, {"tenant_id": tenant_id}).all()
    by_uri: dict[str, HubLocation] = {}
    defaults: dict[str, HubLocation] = {}
    for location_id, site_id, code, location_gln, zone, storage, site_gln, after in rows:
        hub = HubLocation(location_id, site_id, zone, storage, after)
        for uri in location_uris(site_gln, code, location_gln):
            by_uri[uri] = hub
        key = site_uri(site_gln)
        current = defaults.get(key)
        if current is None or (
            current.zone_purpose != "receiving_quarantine" and zone == "receiving_quarantine"
        ):
            defaults[key] = hub
    for uri, hub in defaults.items():
        by_uri.setdefault(uri, hub)
    return LocationIndex(by_uri)


def has_stock_or_shipments(session: Session, tenant_id: int) -> bool:
    """Whether the tenant has any stock balance or shipment (inventory is in use)."""
    for model in (StockBalance, Shipment):
        found = session.scalar(select(model.id).where(model.tenant_id == tenant_id).limit(1))
        if found is not None:
            return True
    return False


def balances_at(
    session: Session, tenant_id: int, location_id: int, container: str, item: ItemKey
) -> dict[str, int]:
    """Quantity per status of ``item`` at a place."""
    rows = session.execute(
        select(StockBalance.status, StockBalance.quantity).where(
            StockBalance.tenant_id == tenant_id,
            StockBalance.location_id == location_id,
            StockBalance.container == container,
            StockBalance.gtin == item.gtin,
            StockBalance.lot == item.lot,
            StockBalance.serial == item.serial,
        )
    ).all()
    return {status: int(quantity) for status, quantity in rows if quantity}


HeldKey = tuple[int, str, ItemKey]


def held_at(
    session: Session, tenant_id: int, places: Sequence[HeldKey]
) -> dict[HeldKey, dict[str, int]]:
    """Quantity per status of each (location, container, item) in ``places``, in one read (a
    few when there are very many lots): what a batch of moves may take from."""
    wanted = set(places)
    held: dict[HeldKey, dict[str, int]] = {place: {} for place in wanted}
    if not wanted:
        return held
    base = {
        "tenant_id": tenant_id,
        "locations": sorted({p[0] for p in wanted}),
        "containers": sorted({p[1] for p in wanted}),
        "gtins": sorted({p[2].gtin for p in wanted}),
    }
    lots = sorted({p[2].lot for p in wanted})
    connection = session.connection()
    for start in range(0, len(lots), _CHUNK):
        rows = connection.execute(_HELD_OF_LOTS, {**base, "lots": lots[start : start + _CHUNK]})
        for location_id, container, gtin, lot, serial, status, quantity in rows:
            entry = held.get((location_id, container, ItemKey(gtin, lot, serial)))
            if entry is not None:
                entry[status] = int(quantity)
    return held


_CONTENTS: Any = (
    select(
        StockBalance.gtin,
        StockBalance.lot,
        StockBalance.serial,
        func.sum(StockBalance.quantity),
    )
    .where(
        StockBalance.tenant_id == bindparam("tenant_id"),
        StockBalance.location_id == bindparam("location_id"),
        StockBalance.container == bindparam("sscc"),
        StockBalance.quantity > 0,
    )
    .group_by(StockBalance.gtin, StockBalance.lot, StockBalance.serial)
    .order_by(StockBalance.gtin, StockBalance.lot, StockBalance.serial)
)


def container_contents(
    session: Session, tenant_id: int, location_id: int, sscc: str
) -> list[tuple[ItemKey, int]]:
    """What is packed in ``sscc`` at a location (all statuses together)."""
    rows = session.execute(
        _CONTENTS, {"tenant_id": tenant_id, "location_id": location_id, "sscc": sscc}
    ).all()
    return [(ItemKey(g, lot, serial), int(q)) for g, lot, serial, q in rows]


def take(
    session: Session,
    tenant_id: int,
    location_id: int,
    container: str,
    item: ItemKey,
    status: str,
    quantity: int,
) -> bool:
    """Decrement one balance by ``quantity`` if it holds that much: one atomic conditional
    ``UPDATE … SET quantity = quantity - :n WHERE … AND quantity >= :n``. False (nothing
    changed) when it does not — also when a concurrent transaction took it first."""
    return take_many(session, [(tenant_id, location_id, container, item, status, quantity)]) == 1


def take_many(session: Session, rows: Sequence[tuple[int, int, str, ItemKey, str, int]]) -> int:
    """Decrement balances, each by one atomic conditional update (``quantity >= :n``), in one
    ``executemany``: rows of (tenant, location, container, item, status, quantity). Returns how
    many balances were decremented; fewer than ``len(rows)`` means some balance no longer held
    its quantity (a concurrent transaction took it) and nothing of that row changed."""
    if not rows:
        return 0
    now = utcnow()
    # Core on the session's connection: no ORM bookkeeping (or autoflush) per statement.
    result: Any = session.connection().execute(
        _TAKE,
        [
            {
                "b_tenant_id": tenant_id,
                "b_location_id": location_id,
                "b_container": container,
                "b_gtin": item.gtin,
                "b_lot": item.lot,
                "b_serial": item.serial,
                "b_status": status,
                "b_quantity": quantity,
                "b_now": now,
            }
            for tenant_id, location_id, container, item, status, quantity in rows
        ],
    )
    return int(result.rowcount)


_BALANCES: Any = StockBalance.__table__
# Built once: building a statement costs more than running it.
_TAKE: Any = (
    update(_BALANCES)
    .where(
        _BALANCES.c.tenant_id == bindparam("b_tenant_id"),
        _BALANCES.c.location_id == bindparam("b_location_id"),
        _BALANCES.c.container == bindparam("b_container"),
        _BALANCES.c.gtin == bindparam("b_gtin"),
        _BALANCES.c.lot == bindparam("b_lot"),
        _BALANCES.c.serial == bindparam("b_serial"),
        _BALANCES.c.status == bindparam("b_status"),
        _BALANCES.c.quantity >= bindparam("b_quantity"),
    )
    .values(quantity=_BALANCES.c.quantity - bindparam("b_quantity"), updated_at=bindparam("b_now"))
)
_HELD: Any = select(
    _BALANCES.c.location_id,
    _BALANCES.c.container,
    _BALANCES.c.gtin,
    _BALANCES.c.lot,
    _BALANCES.c.serial,
    _BALANCES.c.status,
    _BALANCES.c.quantity,
).where(
    _BALANCES.c.tenant_id == bindparam("tenant_id"),
    _BALANCES.c.location_id.in_(bindparam("locations", expanding=True)),
    _BALANCES.c.container.in_(bindparam("containers", expanding=True)),
    _BALANCES.c.gtin.in_(bindparam("gtins", expanding=True)),
    _BALANCES.c.quantity > 0,
)
_HELD_OF_LOTS: Any = _HELD.where(_BALANCES.c.lot.in_(bindparam("lots", expanding=True)))
_CHUNK = 900  # bound parameters per IN list, below SQLite's limits
_BALANCE_KEY = ("tenant_id", "location_id", "gtin", "lot", "serial", "container", "status")
_UPSERTS: dict[str, Any] = {}


def _upsert(dialect: str) -> Any:
    """``INSERT … ON CONFLICT (key) DO UPDATE SET quantity = quantity + excluded.quantity``,
    built once per dialect (building it costs more than running it)."""
    statement = _UPSERTS.get(dialect)
    if statement is None:
        table: Any = StockBalance.__table__
        insert: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
        statement = insert.on_conflict_do_update(
            index_elements=list(_BALANCE_KEY),
            set_={
                "quantity": table.c.quantity + insert.excluded.quantity,
                "updated_at": insert.excluded.updated_at,
            },
        )
        _UPSERTS[dialect] = statement
    return statement


def put_many(session: Session, rows: Sequence[tuple[int, int, str, ItemKey, str, int]]) -> None:
    """Increment balances (created at zero if new), one atomic upsert each, in one
    ``executemany``: rows of (tenant, location, container, item, status, quantity)."""
    if not rows:
        return
    now = utcnow()
    connection = session.connection()
    connection.execute(
        _upsert(connection.dialect.name),
        [
            {
                "tenant_id": tenant_id,
                "location_id": location_id,
                "gtin": item.gtin,
                "lot": item.lot,
                "serial": item.serial,
                "container": container,
                "status": status,
                "quantity": quantity,
                "updated_at": now,
            }
            for tenant_id, location_id, container, item, status, quantity in rows
        ],
    )


def put(
    session: Session,
    tenant_id: int,
    location_id: int,
    container: str,
    item: ItemKey,
    status: str,
    quantity: int,
) -> None:
    """Increment one balance (created at zero if new): one atomic upsert."""
    put_many(session, [(tenant_id, location_id, container, item, status, quantity)])


def lots(
    session: Session, tenant_id: int, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], InventoryLot]:
    """The inventory lots of ``(gtin, lot)`` pairs that exist."""
    wanted = {k for k in keys if k[1]}
    if not wanted:
        return {}
    gtins = sorted({g for g, _ in wanted})
    names = sorted({lot for _, lot in wanted})
    rows = session.scalars(
        select(InventoryLot).where(
            InventoryLot.tenant_id == tenant_id,
            InventoryLot.gtin.in_(gtins),
            InventoryLot.lot.in_(names),
        )
    )
    return {(r.gtin, r.lot): r for r in rows if (r.gtin, r.lot) in wanted}


_LOT_FACTS: Any = select(
    InventoryLot.gtin, InventoryLot.lot, InventoryLot.expiry, InventoryLot.recalled
).where(
    InventoryLot.tenant_id == bindparam("tenant_id"),
    InventoryLot.gtin.in_(bindparam("gtins", expanding=True)),
    InventoryLot.lot.in_(bindparam("lots", expanding=True)),
)


def lot_facts(
    session: Session, tenant_id: int, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], tuple[Any, bool]]:
    """(expiry, recalled) of the inventory lots of ``(gtin, lot)`` pairs that exist: a plain
    read on the session's connection (the caller flushes first)."""
    wanted = {k for k in keys if k[1]}
    if not wanted:
        return {}
    gtins = sorted({g for g, _ in wanted})
    names = sorted({lot for _, lot in wanted})
    connection = session.connection()
    facts: dict[tuple[str, str], tuple[Any, bool]] = {}
    for start in range(0, len(names), _CHUNK):
        for gtin, lot, expiry, recalled in connection.execute(
            _LOT_FACTS,
            {"tenant_id": tenant_id, "gtins": gtins, "lots": names[start : start + _CHUNK]},
        ):
            if (gtin, lot) in wanted:
                facts[(gtin, lot)] = (expiry, bool(recalled))
    return facts


_STORAGE_CLASSES: Any = select(Product.gtin, Product.storage_class).where(
    Product.tenant_id == bindparam("tenant_id"),
    Product.gtin.in_(bindparam("gtins", expanding=True)),
)


def storage_classes(session: Session, tenant_id: int, gtins: Sequence[str]) -> dict[str, str]:
    """The storage class of each catalogued GTIN."""
    if not gtins:
        return {}
    return dict(
        session.connection()
        .execute(_STORAGE_CLASSES, {"tenant_id": tenant_id, "gtins": sorted(set(gtins))})
        .all()
    )


_SHIPMENTS: Any = Shipment.__table__
_MOVEMENTS: Any = StockMovement.__table__
_INSERTS: dict[tuple[str, bool], Any] = {
    (table.name, returning): (
        insert(table).returning(table.c.id, sort_by_parameter_order=True)
        if returning
        else insert(table)
    )
    for table in (_SHIPMENTS, _MOVEMENTS)
    for returning in (True, False)
}


def _insert_returning_ids(
    session: Session, table: Any, rows: Sequence[dict[str, Any]]
) -> list[int]:
    """Insert rows (column dicts) in as few statements as the database allows; their ids, in
    the order of ``rows``.

    PostgreSQL: one ``INSERT … RETURNING id`` per batch, sorted by parameter order. SQLite
    cannot sort a multi-row ``RETURNING`` (SQLAlchemy would send one statement per row), but
    it has a single writer, and this transaction already holds the write lock (a movement
    follows its balance writes): one ``executemany`` gives the rows consecutive ids ending at
    ``last_insert_rowid()``.
    """
    if not rows:
        return []
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.execute(_INSERTS[(table.name, False)], list(rows))
        last = int(connection.exec_driver_sql("SELECT last_insert_rowid()").scalar_one())
        return list(range(last - len(rows) + 1, last + 1))
    result = connection.execute(_INSERTS[(table.name, True)], list(rows))
    return [int(i) for i in result.scalars().all()]


def insert_shipments(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert shipment rows (column dicts); their ids, in order (audited by the caller, with
    the movements of the shipping event)."""
    return _insert_returning_ids(session, _SHIPMENTS, rows)


def insert_movements(session: Session, rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert movement rows (column dicts); their ids, in order."""
    return _insert_returning_ids(session, _MOVEMENTS, rows)


def live_movements_of_events(
    session: Session, tenant_id: int, event_row_ids: Sequence[int]
) -> list[StockMovement]:
    """Movements projected from these ledger events and not yet reversed, newest first."""
    if not event_row_ids:
        return []
    reversed_ids = select(StockMovement.reversal_of_id).where(
        StockMovement.tenant_id == tenant_id, StockMovement.reversal_of_id.is_not(None)
    )
    return list(
        session.scalars(
            select(StockMovement)
            .where(
                StockMovement.tenant_id == tenant_id,
                StockMovement.epcis_event_row_id.in_(list(event_row_ids)),
                StockMovement.reversal_of_id.is_(None),
                StockMovement.id.not_in(reversed_ids),
            )
            .order_by(StockMovement.id.desc())
        )
    )


STATUS_ORDER = [s.value for s in StockStatus]
