"""Synthetic multi-tier trace network, bulk-written straight into the projection tables.

Shape (for ``--edges 1000000``; everything scales linearly with ``--edges``)::

    20 suppliers ── 2 000 component lots (commissioned by the supplier, shipped to the hub)
                      │  3 per subassembly lot; lot k of the 10 "hot" lots feeds every
                      │  subassembly j with j % 100 == k  → a hot lot reaches ~20 000 units
    5 000 subassembly lots
                      │  2 per finished lot (uniform)
    24 000 finished lots ── 40 serials each (trace_items.lot_item_id)
                      │  aggregation: 20 serials per SSCC
    48 000 SSCCs ── shipped hub → one of 10 distributors (received),
                    half of them onward to one of 40 hospitals (90 % received)

Genealogy edges: 15 000 + 48 000 + 960 000 ≈ 1.02 M. Every edge and hop points at a real
``epcis_events`` row (one per transformation, packing, shipping, receiving, commissioning).
Ids are assigned here, so the rows go in with ``executemany`` (SQLite) or ``COPY``
(PostgreSQL) without a round trip per row.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from medledger.core.db import make_session_factory
from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.core.work import work_of
from medledger.identifiers.checkdigit import gs1_check_digit
from medledger.parties.models import PartyRole
from medledger.parties.schemas import PartyIn
from medledger.parties.service import create_party, create_tenant

DL = "https://id.gs1.org"
T0 = datetime(2025, 1, 1, tzinfo=UTC)
SERIALS_PER_LOT = 40
SERIALS_PER_SSCC = 20
HOT_LOTS = 10


def gln(n: int) -> str:
    body = f"5012345{n:05d}"
    return body + gs1_check_digit(body)


def gtin(n: int) -> str:
    body = f"0501234{n:06d}"
    return body + gs1_check_digit(body)


def sscc(n: int) -> str:
    body = f"3501234{n:010d}"
    return body + gs1_check_digit(body)


@dataclass
class Network:
    """What the benchmark needs to know about the generated data."""

    tenant_id: int
    hub_id: int
    component_lots: list[int] = field(default_factory=list)  # item ids
    hot_lots: list[int] = field(default_factory=list)
    finished_lots: list[int] = field(default_factory=list)
    lot_uris: dict[int, str] = field(default_factory=dict)
    edges: int = 0
    items: int = 0
    hops: int = 0
    events: int = 0
    seconds: float = 0.0


@dataclass
class _Rows:
    events: list[tuple[Any, ...]] = field(default_factory=list)
    items: list[tuple[Any, ...]] = field(default_factory=list)
    edges: list[tuple[Any, ...]] = field(default_factory=list)
    hops: list[tuple[Any, ...]] = field(default_factory=list)


EVENT_COLUMNS = (
    "id",
    "tenant_id",
    "event_id",
    "event_type",
    "action",
    "event_time",
    "event_time_zone_offset",
    "record_time",
    "biz_step",
    "capturing_party_id",
    "biz_transactions",
    "sources",
    "destinations",
    "document",
)
ITEM_COLUMNS = (
    "id",
    "tenant_id",
    "uri",
    "kind",
    "gtin",
    "lot",
    "serial",
    "sscc",
    "lot_item_id",
    "first_event_id",
    "commissioned",
    "last_event_time",
    "last_biz_step",
    "last_disposition",
    "last_biz_location",
    "holder_party_id",
)
EDGE_COLUMNS = ("id", "tenant_id", "from_item_id", "to_item_id", "kind", "event_row_id")
HOP_COLUMNS = (
    "id",
    "tenant_id",
    "item_id",
    "from_party_id",
    "to_party_id",
    "quantity",
    "ship_event_row_id",
    "receive_event_row_id",
    "shipped_at",
    "received_at",
)


def _parties(engine: Engine, slug: str) -> tuple[int, int, list[int], list[int], list[int]]:
    factory = make_session_factory(engine)
    with system_unit_of_work(factory, label="bench") as session:
        tenant = create_tenant(
            session,
            name=f"{slug} bench",
            slug=slug,
            hub=PartyIn(
                name="Bench Medical",
                gln=gln(1),
                roles=[PartyRole.MANUFACTURER],
                country="DE",
                region="EU",
            ),
        )
        admin = tenant_admin(session, tenant.id, label="bench")
        work_of(session).act_as(admin)

        def party(n: int, name: str, role: PartyRole) -> int:
            return create_party(
                session,
                admin,
                PartyIn(name=name, gln=gln(n), roles=[role], country="DE", region="EU"),
            ).id

        suppliers = [party(10 + i, f"Supplier {i}", PartyRole.SUPPLIER) for i in range(20)]
        distributors = [
            party(100 + i, f"Distributor {i}", PartyRole.DISTRIBUTOR) for i in range(10)
        ]
        hospitals = [party(200 + i, f"Hospital {i}", PartyRole.HOSPITAL) for i in range(40)]
        return tenant.id, int(tenant.owner_party_id or 0), suppliers, distributors, hospitals


def _next_ids(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SELECT set_config('app.rls_bypass', 'on', false)")
        return {
            table: int(
                connection.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table}").scalar()
                or 0
            )
            + 1
            for table in ("epcis_events", "trace_items", "genealogy_edges", "custody_hops")
        }


def generate(
    engine: Engine, edges: int = 1_000_000, *, slug: str = "bench", seed: int = 7
) -> Network:
    """Write the network for about ``edges`` genealogy edges; returns what the bench needs."""
    started = time.perf_counter()
    rng = random.Random(seed)
    scale = edges / 1_000_000
    n_components = max(HOT_LOTS * 2, int(2000 * scale))
    n_subassemblies = max(100, int(5000 * scale))
    n_finished = max(10, int(24000 * scale))
    tenant, hub, suppliers, distributors, hospitals = _parties(engine, slug)
    ids = _next_ids(engine)
    rows = _Rows()
    net = Network(tenant, hub)
    clock = [T0]

    def event(event_type: str, step: str, party: int) -> int:
        row_id = ids["epcis_events"]
        ids["epcis_events"] += 1
        clock[0] += timedelta(seconds=7)
        rows.events.append(
            (
                row_id,
                tenant,
                f"urn:uuid:bench-{row_id}",
                event_type,
                "ADD" if event_type != "TransformationEvent" else None,
                clock[0],
                "+00:00",
                clock[0],
                step,
                party,
                "[]",
                "[]",
                "[]",
                "{}",
            )
        )
        return row_id

    def item(
        uri: str,
        kind: str,
        *,
        code: str | None = None,
        lot: str | None = None,
        serial: str | None = None,
        unit: str | None = None,
        lot_item: int | None = None,
        first_event: int | None = None,
        holder: int = hub,
        step: str = "commissioning",
        disposition: str = "active",
        location: str | None = None,
    ) -> int:
        item_id = ids["trace_items"]
        ids["trace_items"] += 1
        rows.items.append(
            (
                item_id,
                tenant,
                uri,
                kind,
                code,
                lot,
                serial,
                unit,
                lot_item,
                first_event,
                first_event is not None,
                clock[0],
                step,
                disposition,
                location,
                holder,
            )
        )
        return item_id

    def edge(source: int, target: int, kind: str, row: int) -> None:
        rows.edges.append((ids["genealogy_edges"], tenant, source, target, kind, row))
        ids["genealogy_edges"] += 1

    def hop(
        item_id: int, source: int, target: int, quantity: int | None, ship: int, receive: int | None
    ) -> None:
        rows.hops.append(
            (
                ids["custody_hops"],
                tenant,
                item_id,
                source,
                target,
                quantity,
                ship,
                receive,
                clock[0],
                clock[0] if receive else None,
            )
        )
        ids["custody_hops"] += 1

    # Tier 1: supplier component lots, commissioned, shipped to and received by the hub.
    for k in range(n_components):
        supplier = suppliers[k % len(suppliers)]
        code, number = gtin(1000 + k % 100), f"C{k:06d}"
        commission = event("ObjectEvent", "commissioning", supplier)
        lot_id = item(
            f"{DL}/01/{code}/10/{number}",
            "lot",
            code=code,
            lot=number,
            first_event=commission,
            step="receiving",
            location=f"{DL}/414/{gln(1)}",
        )
        net.lot_uris[lot_id] = f"(01){code}(10){number}"
        net.component_lots.append(lot_id)
        ship = event("ObjectEvent", "shipping", supplier)
        hop(lot_id, supplier, hub, 500, ship, event("ObjectEvent", "receiving", hub))
    net.hot_lots = net.component_lots[:HOT_LOTS]
    cold = net.component_lots[HOT_LOTS:]

    # Tier 2: subassemblies; the hot lot j % 100 (if any) plus random cold component lots.
    subassemblies: list[int] = []
    for j in range(n_subassemblies):
        code, number = gtin(2000 + j % 50), f"A{j:06d}"
        make = event("TransformationEvent", "transforming", hub)
        lot_id = item(
            f"{DL}/01/{code}/10/{number}",
            "lot",
            code=code,
            lot=number,
            first_event=make,
            step="transforming",
        )
        net.lot_uris[lot_id] = f"(01){code}(10){number}"
        subassemblies.append(lot_id)
        hot = j % 100
        inputs = [net.hot_lots[hot]] if hot < HOT_LOTS else []
        inputs += rng.sample(cold, 3 - len(inputs))
        for source in inputs:
            edge(source, lot_id, "transformation", make)

    # Tier 3: finished lots, their serials, SSCCs and shipments.
    unit_number = 0
    for f in range(n_finished):
        code, number = gtin(3000 + f % 200), f"F{f:06d}"
        make = event("TransformationEvent", "transforming", hub)
        lot_id = item(
            f"{DL}/01/{code}/10/{number}",
            "lot",
            code=code,
            lot=number,
            first_event=make,
            step="transforming",
        )
        net.lot_uris[lot_id] = f"(01){code}(10){number}"
        net.finished_lots.append(lot_id)
        for source in rng.sample(subassemblies, 2):
            edge(source, lot_id, "transformation", make)
        serials = [
            item(
                f"{DL}/01/{code}/21/{number}-{s:03d}",
                "serial",
                code=code,
                serial=f"{number}-{s:03d}",
                lot_item=lot_id,
                step="packing",
            )
            for s in range(SERIALS_PER_LOT)
        ]
        for start in range(0, len(serials), SERIALS_PER_SSCC):
            unit_number += 1
            distributor = distributors[rng.randrange(len(distributors))]
            onward = rng.random() < 0.5
            hospital = hospitals[rng.randrange(len(hospitals))]
            received = rng.random() < 0.9
            holder = hospital if onward and received else distributor
            pack = event("AggregationEvent", "packing", hub)
            unit_id = item(
                f"{DL}/00/{sscc(unit_number)}",
                "sscc",
                unit=sscc(unit_number),
                holder=holder,
                step="receiving",
                disposition="in_progress",
                location=f"{DL}/414/{gln(1)}",
            )
            for serial_id in serials[start : start + SERIALS_PER_SSCC]:
                edge(serial_id, unit_id, "aggregation", pack)
            hop(
                unit_id,
                hub,
                distributor,
                None,
                event("ObjectEvent", "shipping", hub),
                event("ObjectEvent", "receiving", distributor),
            )
            if onward:
                ship = event("ObjectEvent", "shipping", distributor)
                hop(
                    unit_id,
                    distributor,
                    hospital,
                    None,
                    ship,
                    event("ObjectEvent", "receiving", hospital) if received else None,
                )

    _write(engine, rows)
    net.edges, net.items, net.hops, net.events = (
        len(rows.edges),
        len(rows.items),
        len(rows.hops),
        len(rows.events),
    )
    net.seconds = time.perf_counter() - started
    return net


def _write(engine: Engine, rows: _Rows) -> None:
    tables: list[tuple[str, Sequence[str], list[tuple[Any, ...]]]] = [
        ("epcis_events", EVENT_COLUMNS, rows.events),
        ("trace_items", ITEM_COLUMNS, rows.items),
        ("genealogy_edges", EDGE_COLUMNS, rows.edges),
        ("custody_hops", HOP_COLUMNS, rows.hops),
    ]
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            cursor.execute("SELECT set_config('app.rls_bypass', 'on', false)")
            for table, columns, data in tables:
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in data:
                        copy.write_row(row)
                # Ids were given explicitly: move the sequence past them, so that captures
                # into the generated ledger (bench section 4) get fresh ids.
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
        else:
            cursor.execute("PRAGMA foreign_keys=OFF")  # ids are consistent by construction
            for table, columns, data in tables:
                placeholders = ", ".join("?" for _ in columns)
                sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
                for chunk in _chunks(data, 50_000):
                    cursor.executemany(sql, [_sqlite_row(row) for row in chunk])
        raw.commit()
    finally:
        raw.close()


def _sqlite_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    # The ORM stores UTC datetimes as ISO text on SQLite; do the same here.
    return tuple(
        value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(value, datetime)
        else value
        for value in row
    )


def _chunks(data: list[tuple[Any, ...]], size: int) -> Iterable[list[tuple[Any, ...]]]:
    for start in range(0, len(data), size):
        yield data[start : start + size]
