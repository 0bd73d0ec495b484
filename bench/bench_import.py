"""Master-data import throughput (rows/s) vs ``executemany`` of the same rows.

    .venv/bin/python bench/bench_import.py --rows 5000 --db sqlite|postgres

The service run imports a CSV of N product rows the way ``POST /api/v1/imports`` does (read,
map, validate each row with the API schema, create it through the catalogue service inside a
SAVEPOINT with its audit entry, keep the run record) in one transaction. The baseline, same
run, same database server: the very ``products`` rows the service wrote (read back after its
run) plus its audit entries, inserted with one Core ``executemany`` per table into a fresh
database set up identically. Ratio = service rows/s ÷ baseline rows/s.
"""

from __future__ import annotations

import argparse
import csv
import io
import tempfile
import time
import uuid
from typing import Any

from sqlalchemy import Engine, insert, select, text

try:
    from bench._db import create_postgres, drop_postgres
except ModuleNotFoundError:  # run as a script (bench/bench_….py): bench/ itself is on sys.path
    from _db import create_postgres, drop_postgres  # type: ignore[no-redef]
from medledger.catalog.models import Product
from medledger.compliance.models import AuditEntry
from medledger.core.db import make_engine, make_session_factory
from medledger.core.migrate import upgrade
from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.core.work import work_of
from medledger.identifiers.checkdigit import gs1_check_digit
from medledger.models import load_all_models
from medledger.parties.models import PartyRole
from medledger.parties.schemas import PartyIn
from medledger.parties.service import create_tenant

load_all_models()

from medledger.integration.imports.service import run_import  # noqa: E402


def _database(kind: str) -> tuple[Engine, str]:
    if kind == "sqlite":
        return make_engine(f"sqlite:///{tempfile.mkdtemp()}/bench.db"), ""
    name = f"bench_import_{uuid.uuid4().hex[:8]}"
    return make_engine(create_postgres(name)), name


def _drop(name: str) -> None:
    drop_postgres(name)


def _tenant(engine: Engine) -> int:
    upgrade(engine)
    with system_unit_of_work(make_session_factory(engine)) as session:
        body = "409876000001"
        tenant = create_tenant(
            session,
            name="bench",
            slug="bench",
            hub=PartyIn(
                name="Bench Medical",
                gln=body + gs1_check_digit(body),
                roles=[PartyRole.MANUFACTURER],
                country="DE",
                region="EU",
            ),
        )
        return tenant.id


def _csv(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["gtin", "name", "tracking_level", "storage_class", "shelf_life_days"])
    for n in range(rows):
        body = f"0409876{n + 1000:06d}"
        writer.writerow([body + gs1_check_digit(body), f"Product {n}", "lot", "ambient", "730"])
    return out.getvalue().encode()


def _rows(engine: Engine, model: Any) -> list[dict[str, Any]]:
    table = model.__table__
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT set_config('app.rls_bypass', 'on', false)"))
        return [dict(r._mapping) for r in conn.execute(select(table).order_by(table.c.id))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    content = _csv(args.rows)

    engine, name = _database(args.db)
    try:
        tenant_id = _tenant(engine)
        factory = make_session_factory(engine)
        started = time.perf_counter()
        with system_unit_of_work(factory) as session:
            principal = tenant_admin(session, tenant_id)
            work_of(session).act_as(principal)
            run = run_import(
                session, principal, entity="products", file_name="p.csv", content=content
            )
            assert run.accepted_rows == args.rows, run.rule_counts
        service_s = time.perf_counter() - started
        products = _rows(engine, Product)
        audit = [r for r in _rows(engine, AuditEntry) if r["entity_type"] == "products"]
    finally:
        engine.dispose()
        _drop(name)

    base_engine, base_name = _database(args.db)
    try:
        _tenant(base_engine)
        # The same tenant setup wrote its own first audit entries: number the copied ones after.
        offset = max(r["seq"] for r in _rows(base_engine, AuditEntry))
        first = min(r["seq"] for r in audit)
        audit = [{**r, "id": None, "seq": r["seq"] - first + offset + 1} for r in audit]
        for row in audit:
            del row["id"]
        started = time.perf_counter()
        with base_engine.begin() as conn:
            if base_engine.dialect.name == "postgresql":
                conn.execute(text("SELECT set_config('app.rls_bypass', 'on', true)"))
            conn.execute(insert(Product.__table__), products)
            conn.execute(insert(AuditEntry.__table__), audit)
        baseline_s = time.perf_counter() - started
    finally:
        base_engine.dispose()
        _drop(base_name)

    service_rate, baseline_rate = args.rows / service_s, args.rows / baseline_s
    print(f"import of {args.rows} product rows on {args.db}")
    print(f"  service  {service_s:8.2f} s  {service_rate:10.0f} rows/s")
    print(f"  baseline {baseline_s:8.2f} s  {baseline_rate:10.0f} rows/s (executemany, same rows)")
    print(f"  ratio    {service_rate / baseline_rate:8.3f}")


if __name__ == "__main__":
    main()
