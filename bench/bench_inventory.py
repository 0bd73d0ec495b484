"""Receiving and shipping throughput, and parallel picks of one hot lot.

    .venv/bin/python bench/bench_inventory.py --db sqlite|postgres
    # options: --operations N (default 200), --lines L (default 10), --rounds R (default 3),
    #          --workers W (default 16, PostgreSQL only), --picks P (default 400)

1. **Receiving / shipping.** ``--operations`` receipts through ``inventory.service.receive``,
   each one unit of work (one request's worth) of ``--lines`` lots: one EPCIS receiving event
   captured through the ledger (capture job, event, trace projections, audit entry), the stock
   projection (one movement, one balance upsert, one inventory lot per line, written set-based)
   and one audit entry listing the movements and new lots, committed. Then the same number of
   shipments through ``inventory.service.ship``: one SSCC holding ``--lines`` lots per
   operation (packed before timing), one shipping event, one movement and one conditional
   decrement per lot, the shipment row, one audit entry listing both. Baseline, same run:
   **every row the service wrote** (read back after its run: capture jobs, events, trace rows,
   movements, balances, lots, shipments, audit entries) ``executemany``-d table by table in
   one transaction into a fresh database set up identically. Ratio = service movements/s ÷
   baseline movements/s (target ≥ 0.5).
2. **Parallel picks of one hot lot (PostgreSQL).** ``--picks`` picks of 1 unit from a lot
   that holds ``--picks`` × 3 ÷ 4 units, by ``--workers`` threads at once (each pick one unit
   of work through ``inventory.service.move``), vs the same picks one at a time. Reports picks
   per second of both, how many were refused, and the oversell (units picked beyond the
   stock; must be 0).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

try:
    from bench._db import create_postgres
except ModuleNotFoundError:  # run as a script (bench/bench_….py): bench/ itself is on sys.path
    from _db import create_postgres  # type: ignore[no-redef]
from medledger.catalog.schemas import ProductIn
from medledger.catalog.service import create_product
from medledger.compliance.audit import SystemActor
from medledger.compliance.models import AuditEntry
from medledger.core.db import make_engine, make_session_factory, set_tenant_guc, unit_of_work
from medledger.core.errors import DomainError
from medledger.core.migrate import upgrade
from medledger.core.principal import Principal, make_principal
from medledger.core.system import tenant_admin
from medledger.core.work import work_of
from medledger.identifiers.checkdigit import gs1_check_digit
from medledger.models import load_all_models
from medledger.parties.models import PartyRole
from medledger.parties.schemas import LocationIn, PartyIn, SiteIn
from medledger.parties.service import create_location, create_party, create_site, create_tenant

load_all_models()

from medledger.inventory import service as inventory  # noqa: E402
from medledger.inventory.models import (  # noqa: E402
    InventoryLot,
    Shipment,
    StockBalance,
    StockMovement,
)
from medledger.inventory.schemas import (  # noqa: E402
    MoveIn,
    PackIn,
    ReceiptIn,
    ShipIn,
    StockLineIn,
)
from medledger.trace.models import (  # noqa: E402
    CaptureJob,
    CustodyHop,
    EpcisEvent,
    EventItem,
    GenealogyEdge,
    ItemParty,
    TraceItem,
)

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432"
TABLES: tuple[type[Any], ...] = (
    CaptureJob,
    EpcisEvent,
    TraceItem,
    EventItem,
    GenealogyEdge,
    CustodyHop,
    ItemParty,
    InventoryLot,
    StockBalance,
    StockMovement,
    Shipment,
    AuditEntry,
)


def _gln(n: int) -> str:
    body = f"409876{n:06d}"
    return body + gs1_check_digit(body)


def _sscc(n: int) -> str:
    body = f"3409876{n:010d}"
    return body + gs1_check_digit(body)


GTIN = "0409876000777" + gs1_check_digit("0409876000777")


def _database(kind: str, name: str) -> str:
    if kind == "sqlite":
        path = Path(f"/tmp/{name}.db")
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return f"sqlite:///{path}"
    return create_postgres(name)


class Warehouse:
    """A fresh database with one tenant, a managed site (dock, storage, shipping bay), one
    product and a distributor. Deterministic ids, so rows of one fit into another."""

    def __init__(self, kind: str, name: str) -> None:
        self.kind = kind
        self.engine: Engine = make_engine(_database(kind, name))
        upgrade(self.engine)
        self.factory: sessionmaker[Session] = make_session_factory(self.engine)
        with self.unit() as session:
            tenant = create_tenant(
                session,
                name="bench",
                slug="bench",
                hub=PartyIn(
                    name="hub",
                    gln=_gln(1),
                    roles=[PartyRole.MANUFACTURER],
                    country="DE",
                    region="EU",
                ),
            )
            admin = tenant_admin(session, tenant.id)
            work_of(session).act_as(admin)
            self.distributor = create_party(
                session,
                admin,
                PartyIn(
                    name="distributor",
                    gln=_gln(2),
                    roles=[PartyRole.DISTRIBUTOR],
                    country="DE",
                    region="EU",
                ),
            ).id
            site = create_site(
                session,
                admin,
                SiteIn(party_id=admin.party_id, name="DC", gln=_gln(3), country="DE"),
            )
            ids = {}
            for code, zone in (
                ("DOCK", "receiving_quarantine"),
                ("A1", "released"),
                ("SHIP", "shipping"),
            ):
                ids[code] = create_location(
                    session,
                    admin,
                    LocationIn(
                        site_id=site.id,
                        code=code,
                        name=code,
                        storage_class="ambient",  # type: ignore[arg-type]
                        zone_purpose=zone,  # type: ignore[arg-type]
                    ),
                ).id
            create_product(
                session,
                admin,
                ProductIn(
                    gtin=GTIN,
                    name="bench product",
                    tracking_level="lot",  # type: ignore[arg-type]
                    storage_class="ambient",  # type: ignore[arg-type]
                ),
            )
            inventory.enable_site(session, admin, site.id)
            self.tenant_id = tenant.id
            self.dock, self.store, self.ship = ids["DOCK"], ids["A1"], ids["SHIP"]
        self.principal = make_principal(
            user_id=None,
            tenant_id=self.tenant_id,
            party_id=admin.party_id,
            role="admin",
            username="bench",
            display_name="bench",
            hub_party_id=admin.party_id,
        )

    def unit(self) -> Any:
        return _Unit(self)


class _Unit:
    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        self.context: Any = None

    def __enter__(self) -> Session:
        self.context = unit_of_work(self.warehouse.factory, principal=SystemActor())
        session: Session = self.context.__enter__()
        if self.warehouse.kind == "postgres":
            session.execute(text("SELECT set_config('app.rls_bypass', 'on', true)"))
        return session

    def __exit__(self, *exc: Any) -> Any:
        return self.context.__exit__(*exc)


def _request(warehouse: Warehouse, action: Any) -> Any:
    """One unit of work as a request runs it: tenant GUC, principal, action, commit."""
    with unit_of_work(warehouse.factory, principal=warehouse.principal) as session:
        set_tenant_guc(session, warehouse.tenant_id)
        return action(session, warehouse.principal)


def _lines(op: int, lines: int) -> list[StockLineIn]:
    return [StockLineIn(gtin=GTIN, lot=f"L{op}-{k}", quantity=10) for k in range(lines)]


def receive_and_ship(kind: str, operations: int, lines: int) -> dict[str, float]:
    w = Warehouse(kind, "medledger_bench_inventory")
    _warm_up(w)
    receiving_from = _bounds(w)
    started = time.perf_counter()
    for op in range(operations):
        _request(
            w,
            lambda s, p, op=op: inventory.receive(
                s, p, ReceiptIn(location_id=w.dock, lines=_lines(op, lines))
            ),
        )
    receiving = time.perf_counter() - started
    receiving_to = _bounds(w)
    # Outside the timing: release, put away, pick and pack what the shipments take.
    for op in range(operations):
        batch = _lines(op, lines)

        def prepare(
            s: Session, p: Principal, batch: list[StockLineIn] = batch, op: int = op
        ) -> None:
            for line in batch:
                inventory.release_lot(s, p, GTIN, line.lot, "bench")
            inventory.move(
                s,
                p,
                MoveIn(from_location_id=w.dock, to_location_id=w.ship, lines=batch),
                picking=True,
            )
            inventory.pack(s, p, PackIn(location_id=w.ship, sscc=_sscc(op), lines=batch))

        _request(w, prepare)
    movements_before = _count(w, StockMovement)
    shipping_from = _bounds(w)
    started = time.perf_counter()
    for op in range(operations):
        _request(
            w,
            lambda s, p, op=op: inventory.ship(
                s,
                p,
                ShipIn(location_id=w.ship, ssccs=[_sscc(op)], destination_party_id=w.distributor),
            ),
        )
    shipping = time.perf_counter() - started
    shipped = _count(w, StockMovement) - movements_before
    received_rows = _written(w, receiving_from, receiving_to)
    prepared_rows = _written(w, receiving_to, shipping_from)
    shipped_rows = _written(w, shipping_from, _bounds(w))
    baseline_db = Warehouse(kind, "medledger_bench_inventory_baseline")
    # The shipments refer to rows the (untimed) preparation wrote: those go in untimed.
    baseline = _insert(baseline_db, received_rows)
    _insert(baseline_db, prepared_rows)
    baseline += _insert(baseline_db, shipped_rows)
    all_movements = len(received_rows["stock_movements"]) + len(shipped_rows["stock_movements"])
    assert all_movements == operations * lines + shipped
    total_rows = sum(len(v) for v in received_rows.values()) + sum(
        len(v) for v in shipped_rows.values()
    )
    w.engine.dispose()
    baseline_db.engine.dispose()
    return {
        "receipts_per_s": operations * lines / receiving,
        "ships_per_s": shipped / shipping,
        "service_movements_per_s": (operations * lines + shipped) / (receiving + shipping),
        "baseline_movements_per_s": all_movements / baseline,
        "service_movements_timed": operations * lines + shipped,
        "rows_written": total_rows,
        "baseline_seconds": baseline,
        "service_seconds": receiving + shipping,
        "movements_written": all_movements,
    }


def _warm_up(w: Warehouse) -> None:
    """One receipt and one shipment before timing: the EPCIS validators are compiled once per
    process (about 2 s here), a start-up cost a running server has paid long before, not a
    cost of each movement. Their rows are outside the measured id ranges."""
    batch = [StockLineIn(gtin=GTIN, lot="WARM", quantity=10)]
    unit = _sscc(999_999)

    def warm(s: Session, p: Principal) -> None:
        inventory.receive(s, p, ReceiptIn(location_id=w.dock, lines=batch))
        inventory.release_lot(s, p, GTIN, "WARM", "bench")
        inventory.move(
            s, p, MoveIn(from_location_id=w.dock, to_location_id=w.ship, lines=batch), picking=True
        )
        inventory.pack(s, p, PackIn(location_id=w.ship, sscc=unit, lines=batch))
        inventory.ship(
            s, p, ShipIn(location_id=w.ship, ssccs=[unit], destination_party_id=w.distributor)
        )

    _request(w, warm)


def _bounds(w: Warehouse) -> dict[str, int]:
    """The largest id of every table: rows above it were written later."""
    with w.unit() as session:
        return {
            model.__table__.name: int(
                session.scalar(select(func.coalesce(func.max(model.id), 0))) or 0
            )
            for model in TABLES
        }


def _count(w: Warehouse, model: type[Any]) -> int:
    with w.unit() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _written(
    w: Warehouse, start: dict[str, int], end: dict[str, int]
) -> dict[str, list[dict[str, Any]]]:
    """Every row inserted between two ``_bounds``, per table (balances a phase only updated
    are not new rows: the baseline does not repeat those updates)."""
    rows: dict[str, list[dict[str, Any]]] = {}
    with w.engine.begin() as conn:
        if w.kind == "postgres":
            conn.execute(text("SELECT set_config('app.rls_bypass', 'on', true)"))
        for model in TABLES:
            table = model.__table__
            rows[table.name] = [
                dict(row._mapping)
                for row in conn.execute(
                    select(table)
                    .where(table.c.id > start[table.name], table.c.id <= end[table.name])
                    .order_by(table.c.id)
                )
            ]
    return rows


def _insert(w: Warehouse, rows: dict[str, list[dict[str, Any]]]) -> float:
    tables = {model.__table__.name: model.__table__ for model in TABLES}
    started = time.perf_counter()
    with w.engine.begin() as conn:
        if w.kind == "postgres":
            conn.execute(text("SELECT set_config('app.rls_bypass', 'on', true)"))
        for name, table_rows in rows.items():
            if table_rows:
                conn.execute(tables[name].insert(), table_rows)
    return time.perf_counter() - started


def parallel_picks(picks: int, workers: int) -> dict[str, float]:
    """Picks of 1 unit of one hot lot: ``workers`` threads at once vs one at a time."""
    results: dict[str, float] = {}
    stock = picks * 3 // 4
    for mode in ("sequential", "parallel"):
        results.update(_picks(mode, picks, workers, stock))
    results["stock"] = stock
    return results


def _picks(mode: str, picks: int, workers: int, stock: int) -> dict[str, float]:
    results: dict[str, float] = {}
    w = Warehouse("postgres", f"medledger_bench_picks_{mode}")
    line = StockLineIn(gtin=GTIN, lot="HOT", quantity=stock)

    def setup(s: Session, p: Principal) -> None:
        inventory.receive(s, p, ReceiptIn(location_id=w.dock, lines=[line]))
        inventory.release_lot(s, p, GTIN, "HOT", "bench")
        inventory.move(s, p, MoveIn(from_location_id=w.dock, to_location_id=w.store, lines=[line]))

    _request(w, setup)
    one = MoveIn(
        from_location_id=w.store,
        to_location_id=w.ship,
        lines=[StockLineIn(gtin=GTIN, lot="HOT", quantity=1)],
    )
    done = {"ok": 0, "refused": 0}
    lock = threading.Lock()

    def pick_once() -> None:
        try:
            _request(w, lambda s, p: inventory.move(s, p, one, picking=True))
            outcome = "ok"
        except DomainError:
            outcome = "refused"
        with lock:
            done[outcome] += 1

    started = time.perf_counter()
    if mode == "sequential":
        for _ in range(picks):
            pick_once()
    else:
        per_worker = picks // workers
        barrier = threading.Barrier(workers)

        def worker() -> None:
            barrier.wait()
            for _ in range(per_worker):
                pick_once()

        threads = [threading.Thread(target=worker) for _ in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    elapsed = time.perf_counter() - started
    with w.unit() as session:
        picked = int(
            session.scalar(
                select(func.coalesce(func.sum(StockBalance.quantity), 0)).where(
                    StockBalance.location_id == w.ship
                )
            )
            or 0
        )
        negative = int(
            session.scalar(
                select(func.count()).select_from(StockBalance).where(StockBalance.quantity < 0)
            )
            or 0
        )
    results[f"{mode}_picks_per_s"] = (done["ok"] + done["refused"]) / elapsed
    results[f"{mode}_succeeded"] = done["ok"]
    results[f"{mode}_refused"] = done["refused"]
    results[f"{mode}_oversell"] = max(picked - stock, 0) + negative
    results[f"{mode}_picked"] = picked
    w.engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--operations", type=int, default=200)
    parser.add_argument("--lines", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--picks", type=int, default=400)
    args = parser.parse_args()
    runs = [receive_and_ship(args.db, args.operations, args.lines) for _ in range(args.rounds)]

    def median(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    ratio = statistics.median(
        r["service_movements_per_s"] / r["baseline_movements_per_s"] for r in runs
    )
    print(
        f"database: {args.db}; {args.operations} receipts and {args.operations} shipments "
        f"of {args.lines} lots; {args.rounds} rounds (medians)"
    )
    print(
        "  receiving (event + movements + projection + audit, commit each): "
        f"{median('receipts_per_s'):,.0f} movements/s"
    )
    print(
        "  shipping (event + movements + projection + shipment + audit, commit each): "
        f"{median('ships_per_s'):,.0f} movements/s"
    )
    print(f"  service, both: {median('service_movements_per_s'):,.0f} movements/s")
    print(
        f"  baseline executemany of every row written ({runs[0]['rows_written']:,.0f} rows, "
        f"{runs[0]['movements_written']:,.0f} movements): "
        f"{median('baseline_movements_per_s'):,.0f} movements/s"
    )
    print(f"  ratio service / baseline: {ratio:.2f} (target >= 0.5)")
    if args.db == "postgres":
        picks = parallel_picks(args.picks, args.workers)
        print(
            f"parallel picks of one hot lot ({picks['stock']:.0f} units, {args.picks} picks of 1):"
        )
        for mode in ("sequential", "parallel"):
            label = "one at a time" if mode == "sequential" else f"{args.workers} workers"
            print(
                f"  {label}: {picks[f'{mode}_picks_per_s']:,.0f} picks/s, "
                f"{picks[f'{mode}_succeeded']:.0f} picked, {picks[f'{mode}_refused']:.0f} refused, "
                f"oversell {picks[f'{mode}_oversell']:.0f}"
            )
        print(
            "  ratio parallel / sequential: "
            f"{picks['parallel_picks_per_s'] / picks['sequential_picks_per_s']:.2f}"
        )


if __name__ == "__main__":
    main()
