"""API throughput and latency under concurrent clients vs a minimal FastAPI endpoint (issue 11.7).

    .venv/bin/python bench/bench_api.py --db sqlite|postgres
    # options: --clients 8,32,64  --seconds 5  --rounds 1  --products 200

Two servers run side by side as separate uvicorn processes (one worker each, no access log),
on the same freshly migrated database:

* the product: ``medledger.web.asgi:app``, the real application, driven with a bearer token of
  the hub's administrator: ``GET /api/v1/products`` (first page of 50, with the total) and
  ``POST /api/v1/products`` (validation, scoping, audit entry, commit);
* the baseline: ``bench/api/minimal_app.py``, a minimal FastAPI app on the same engine settings
  doing one indexed SELECT (``GET /items``, 50 rows) or one INSERT (``POST /items``, the same
  JSON body).

The load comes from ``wrk`` (Debian package ``wrk``; two threads, keep-alive connections, one
per client, ``--timeout 2s`` so that a request still unanswered after 2 s counts as "over
2 s"). Each (endpoint, clients) pair runs the baseline and the product back to back, after a
1 s warm-up of each. Printed per pair: requests/s, p50 and p99 latency, errors (non-2xx and
socket errors), requests over 2 s, and the ratios product/baseline (targets: throughput
>= 0.6x, p99 <= 2x, no errors and nothing over 2 s at 64 clients).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.api.minimal_app import CREATE_TABLE, CREATE_TABLE_POSTGRES, TABLE  # noqa: E402
from medledger.core.db import make_engine, make_session_factory  # noqa: E402
from medledger.core.migrate import upgrade  # noqa: E402
from medledger.core.system import system_unit_of_work, tenant_admin  # noqa: E402
from medledger.core.work import work_of  # noqa: E402
from medledger.models import load_all_models  # noqa: E402

load_all_models()

from medledger.catalog.schemas import ProductIn  # noqa: E402
from medledger.catalog.service import create_product  # noqa: E402
from medledger.identifiers.checkdigit import gs1_check_digit  # noqa: E402
from medledger.parties.models import PartyRole  # noqa: E402
from medledger.parties.schemas import PartyIn, UserIn  # noqa: E402
from medledger.parties.service import create_tenant, create_user  # noqa: E402

POSTGRES_URL = os.environ.get("MEDLEDGER_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
PASSWORD = "bench horse battery staple"
PYTHON = sys.executable


def _database(kind: str, name: str = "medledger_bench_api") -> str:
    if kind == "sqlite":
        path = Path(f"/tmp/{name}.db")
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return f"sqlite:///{path}"
    admin = make_engine(f"{POSTGRES_URL}/postgres")
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{POSTGRES_URL}/{name}"


def _gtin(n: int) -> str:
    body = f"0409876{n:06d}"
    return body + gs1_check_digit(body)


def _setup(kind: str, products: int) -> str:
    """A migrated database with a tenant, its administrator, ``products`` products, and the
    baseline's table holding as many rows."""
    url = _database(kind)
    engine = make_engine(url)
    upgrade(engine)
    factory = make_session_factory(engine)
    with system_unit_of_work(factory, label="bench") as session:
        tenant = create_tenant(
            session,
            name="Bench network",
            slug="bench",
            hub=PartyIn(
                name="Bench Medical",
                gln="4098760000015",
                roles=[PartyRole.MANUFACTURER],
                country="DE",
                region="EU",
            ),
        )
        admin = tenant_admin(session, tenant.id, label="bench")
        work_of(session).act_as(admin)
        create_user(
            session,
            admin,
            UserIn(username="bench-admin", display_name="Bench", password=PASSWORD, role="admin"),
        )
        for n in range(1, products + 1):
            create_product(
                session,
                admin,
                ProductIn(
                    gtin=_gtin(n),
                    name=f"Product {n:04d}",
                    tracking_level="lot",
                    storage_class="ambient",
                ),
            )
    with engine.begin() as conn:
        conn.execute(text(CREATE_TABLE_POSTGRES if kind == "postgres" else CREATE_TABLE))
        conn.execute(
            text(
                f"INSERT INTO {TABLE} (tenant_id, gtin, name, storage_class)"
                " VALUES (1, :gtin, :name, 'ambient')"
            ),
            [{"gtin": _gtin(n), "name": f"Product {n:04d}"} for n in range(1, products + 1)],
        )
    engine.dispose()
    return url


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """A uvicorn process serving ``target`` on a free port."""

    def __init__(self, target: str, env: dict[str, str], ready_path: str = "/openapi.json") -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # fmt: off
        command = [
            PYTHON, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(self.port),
            "--no-access-log", "--log-level", "warning",
        ]
        # fmt: on
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **env},
        )
        # Importing the application takes seconds (tens on a loaded machine).
        deadline = time.monotonic() + 300
        while True:
            try:
                httpx.get(self.url + ready_path, timeout=10)
                return
            except httpx.HTTPError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{target} did not start") from None
                time.sleep(0.2)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()


@dataclass
class Figures:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    over_2s: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


_runs = 0


def _wrk(
    url: str, method: str, path: str, clients: int, seconds: float, headers: list[str]
) -> Figures:
    global _runs
    _runs += 1
    # fmt: off
    command = [
        "wrk", "-t", str(min(2, clients)), "-c", str(clients), "-d", f"{round(seconds)}s",
        "--timeout", "2s", "-s", str(HERE / "api" / "wrk.lua"), url,
        "--", method, path, str(_runs), *headers,
    ]
    # fmt: on
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    data: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return Figures(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=data["status_errors"] + data["socket_errors"],
        over_2s=data["timeouts"],
    )


def _line(label: str, f: Figures) -> str:
    return (
        f"  {label:<26} {f.rate:8.0f} req/s  p50 {f.p50_ms:7.1f} ms  p99 {f.p99_ms:7.1f} ms"
        f"  errors {f.errors:>4}  over 2 s {f.over_2s:>4}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--clients", default="8,32,64")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--products", type=int, default=200)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    clients = [int(c) for c in args.clients.split(",")]
    url = _setup(args.db, args.products)
    env = {"MEDLEDGER_DATABASE_URL": url, "MEDLEDGER_BENCH_DATABASE_URL": url}
    product = Server("medledger.web.asgi:app", env, ready_path="/healthz")
    minimal = Server("bench.api.minimal_app:app", env)
    try:
        token = httpx.post(
            product.url + "/api/v1/auth/token",
            data={"username": "bench-admin", "password": PASSWORD},
            timeout=30,
        ).json()["access_token"]
        auth = [f"Authorization: Bearer {token}"]
        print(f"bench_api  db={args.db}  {args.seconds:g} s per run  load={os.getloadavg()[0]:.2f}")
        cases = [
            ("list", "GET", "/items", "/api/v1/products"),
            ("create", "POST", "/items", "/api/v1/products"),
        ]
        for _round in range(args.rounds):
            for name, method, minimal_path, product_path in cases:
                for n in clients:
                    _wrk(minimal.url, method, minimal_path, n, 1, [])  # warm-up
                    base = _wrk(minimal.url, method, minimal_path, n, args.seconds, [])
                    _wrk(product.url, method, product_path, n, 1, auth)
                    prod = _wrk(product.url, method, product_path, n, args.seconds, auth)
                    print(f"{name} {method} {product_path}, {n} clients")
                    print(_line(f"minimal {method} {minimal_path}", base))
                    print(_line(f"product {method} {product_path}", prod))
                    print(
                        f"  ratio: throughput {prod.rate / base.rate:.2f}x (target >= 0.6),"
                        f" p99 {prod.p99_ms / base.p99_ms:.2f}x (target <= 2)"
                    )
    finally:
        product.stop()
        minimal.stop()


if __name__ == "__main__":
    main()
