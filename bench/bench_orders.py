"""Order intake API under load: ``POST /api/v1/orders`` vs a minimal FastAPI INSERT endpoint.

Both run under uvicorn (one process each, started here) on the same database; real HTTP
clients (httpx, keep-alive) post at 8 and 32 concurrent clients. The order endpoint does the
whole use case: bearer-token authentication, validation (customer, ship-to, contract, product),
the idempotency key, the order, its line and its first version, audit entries in the hash
chain, the priority score of each line, commit; the allocation against live stock runs after
the response, in the same server process (its background planner, orders/planning_queue.py),
so its CPU is part of what the throughput measures. The
baseline parses a small pydantic body and INSERTs one row, commit. Targets (DESIGN.md §7):
throughput ≥ 0.6× the baseline, p99 ≤ 2× its p99.

    .venv/bin/python bench/bench_orders.py --db sqlite
    .venv/bin/python bench/bench_orders.py --db postgres     # local server, trust auth
    # options: --requests N per client level (default 2000), --clients 8,32
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data"
PASSWORD = "bench-password-1"
GTIN = "04098760000503"  # any valid GTIN-14


# --- the baseline application ------------------------------------------------------------------


class BaselineIn(BaseModel):
    customer_reference: str
    gtin: str
    quantity: int


def _baseline_app() -> FastAPI:
    from medledger.core.db import make_engine

    engine = make_engine(os.environ["MEDLEDGER_DATABASE_URL"])
    app = FastAPI()

    @app.post("/baseline", status_code=201)
    def create(body: BaselineIn) -> dict[str, int]:
        with engine.begin() as conn:
            row = conn.execute(
                text(
                    "INSERT INTO bench_baseline_orders (customer_reference, gtin, quantity) "
                    "VALUES (:r, :g, :q) RETURNING id"
                ),
                {"r": body.customer_reference, "g": body.gtin, "q": body.quantity},
            ).scalar_one()
        return {"id": int(row)}

    return app


if os.environ.get("MEDLEDGER_BENCH_BASELINE"):
    baseline_app = _baseline_app()


# --- setup -------------------------------------------------------------------------------------


def _database(kind: str) -> str:
    if kind == "sqlite":
        DATA.mkdir(parents=True, exist_ok=True)
        path = DATA / "orders.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    admin_url = "postgresql://postgres@127.0.0.1:5432/postgres"
    from medledger.core.db import make_engine

    admin = make_engine(admin_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "medledger_bench_orders" WITH (FORCE)'))
        conn.execute(text('CREATE DATABASE "medledger_bench_orders"'))
    admin.dispose()
    return "postgresql://postgres@127.0.0.1:5432/medledger_bench_orders"


def _prepare(url: str) -> None:
    """Schema, a hub with one hospital customer (ship-to, contract), one product, one user."""
    from medledger.catalog.schemas import ProductIn
    from medledger.catalog.service import create_product
    from medledger.core.db import make_engine, make_session_factory
    from medledger.core.migrate import upgrade
    from medledger.core.system import system_unit_of_work, tenant_admin
    from medledger.core.work import work_of
    from medledger.models import load_all_models
    from medledger.orders import customers
    from medledger.orders.schemas import ContractIn, CustomerIn, ShipToIn
    from medledger.parties.models import PartyRole
    from medledger.parties.schemas import PartyIn, UserIn
    from medledger.parties.service import create_party, create_tenant, create_user

    load_all_models()
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE bench_baseline_orders (id "
                + ("SERIAL" if url.startswith("postgresql") else "INTEGER")
                + " PRIMARY KEY, customer_reference VARCHAR(35), gtin VARCHAR(14),"
                " quantity INTEGER)"
            )
        )
    factory = make_session_factory(engine)
    with system_unit_of_work(factory) as session:
        tenant = create_tenant(
            session,
            name="bench",
            slug="bench",
            hub=PartyIn(
                name="Bench Medical",
                gln="4098760000015",
                roles=[PartyRole.MANUFACTURER],
                country="DE",
                region="EU",
            ),
        )
        admin = tenant_admin(session, tenant.id)
        work_of(session).act_as(admin)
        hospital = create_party(
            session,
            admin,
            PartyIn(
                name="Bench Hospital",
                gln="4098760000022",
                roles=[PartyRole.HOSPITAL],
                country="DE",
                region="EU",
            ),
        )
        create_user(
            session,
            admin,
            UserIn(
                username="bench-hospital",
                display_name="Bench",
                password=PASSWORD,
                role="partner_user",
                party_id=hospital.id,
            ),
        )
        create_product(
            session,
            admin,
            ProductIn(gtin=GTIN, name="Bench stent", tracking_level="lot", storage_class="ambient"),  # type: ignore[arg-type]
        )
        customer = customers.create_customer(session, admin, CustomerIn(party_id=hospital.id))
        customers.add_ship_to(
            session,
            admin,
            customer.id,
            ShipToIn(code="MAIN", name="Store", country="DE", region="EU", is_default=True),  # type: ignore[arg-type]
        )
        customers.add_contract(
            session,
            admin,
            customer.id,
            ContractIn(
                number="C-1",
                valid_from=date(2020, 1, 1),
                service_level_days=3,
                penalty_per_day_late=Decimal("10"),
                min_remaining_shelf_life_days=90,
            ),
        )
    engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(app: str, url: str, port: int, *, baseline: bool) -> subprocess.Popen[bytes]:
    # This checkout's sources first (an editable install may point at another checkout).
    path = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
    env = {**os.environ, "MEDLEDGER_DATABASE_URL": url, "PYTHONPATH": path}
    if baseline:
        env["MEDLEDGER_BENCH_BASELINE"] = "1"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            app,
            "--port",
            str(port),
            "--workers",
            "1",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 300  # a loaded machine builds the OpenAPI document slowly
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"{app} did not start")


# --- load ------------------------------------------------------------------------------------


async def _load(
    url: str,
    clients: int,
    requests: int,
    body_of,
    headers_of,  # type: ignore[no-untyped-def]
) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    counter = iter(range(requests))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal errors
            for i in counter:
                started = time.perf_counter()
                try:
                    response = await client.post(url, json=body_of(i), headers=headers_of(i))
                except httpx.TransportError as error:
                    latencies.append(time.perf_counter() - started)
                    errors += 1
                    print("error", type(error).__name__)
                    continue
                latencies.append(time.perf_counter() - started)
                if response.status_code not in (200, 201):
                    errors += 1
                    if errors <= 3:
                        print("error", response.status_code, response.text[:300])

        begin = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - begin
    return len(latencies) / elapsed, latencies, errors


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", default="8,32")
    args = parser.parse_args()
    url = _database(args.db)
    _prepare(url)
    ours_port, base_port = _free_port(), _free_port()
    ours = _start("medledger.web.asgi:app", url, ours_port, baseline=False)
    base = _start("bench.bench_orders:baseline_app", url, base_port, baseline=True)
    try:
        token = httpx.post(
            f"http://127.0.0.1:{ours_port}/api/v1/auth/token",
            data={"username": "bench-hospital", "password": PASSWORD},
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        run = [0]

        def order_body(i: int) -> dict[str, object]:
            return {
                "customer_reference": f"R{run[0]}-{i}",
                "lines": [{"gtin": GTIN, "quantity": 1 + i % 7}],
            }

        def order_headers(i: int) -> dict[str, str]:
            return {**auth, "Idempotency-Key": f"k{run[0]}-{i}"}

        def base_body(i: int) -> dict[str, object]:
            return {"customer_reference": f"R{run[0]}-{i}", "gtin": GTIN, "quantity": 1 + i % 7}

        print(f"order intake vs minimal INSERT endpoint, {args.db}, {args.requests} requests")
        columns = ("req/s", "p50 ms", "p99 ms", "max ms")
        print(f"{'clients':>7} {'endpoint':<10} " + " ".join(f"{c:>8}" for c in columns), "errors")
        for clients in [int(c) for c in args.clients.split(",")]:
            results = {}
            for name, target, body_of, headers_of in (
                ("baseline", f"http://127.0.0.1:{base_port}/baseline", base_body, lambda i: {}),
                (
                    "orders",
                    f"http://127.0.0.1:{ours_port}/api/v1/orders",
                    order_body,
                    order_headers,
                ),
            ):
                run[0] += 1
                asyncio.run(_load(target, clients, min(200, args.requests), body_of, headers_of))
                run[0] += 1
                rate, latencies, errors = asyncio.run(
                    _load(target, clients, args.requests, body_of, headers_of)
                )
                results[name] = (rate, _p(latencies, 50), _p(latencies, 99), max(latencies) * 1000)
                print(
                    f"{clients:>7} {name:<10} {rate:>8.0f} {results[name][1]:>8.1f} "
                    f"{results[name][2]:>8.1f} {results[name][3]:>8.1f} {errors:>6}"
                )
            b, o = results["baseline"], results["orders"]
            print(
                f"{clients:>7} ratio      throughput {o[0] / b[0]:.2f}× (target ≥ 0.6), "
                f"p99 {o[2] / b[2]:.2f}× (target ≤ 2)"
            )
    finally:
        for process in (ours, base):
            process.terminate()
        for process in (ours, base):
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        if args.db == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{DATA / 'orders.db'}{suffix}").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
