"""Outbox delivery throughput to a loopback receiver, next to a plain loop of HTTP POSTs of the
same bodies measured in the same run.

    .venv/bin/python bench/bench_outbox.py --messages 2000 --threads 4 --db sqlite
    .venv/bin/python bench/bench_outbox.py --messages 2000 --threads 4 --db postgres

Measured, each on its own freshly published messages (one subscription, so one delivery each):

* baseline: one ``httpx.Client`` POSTing every message's body in a loop (no signing, no
  database) — what a webhook sender cannot beat on one connection;
* the database worker (``run_once`` loops, as ``medledger worker --threads N`` runs them) with
  1 and with N threads: claim, sign, POST, record the outcome;
* through NATS JetStream (a ``nats-server`` started here): the relay hands every delivery over,
  then the subscriber (N threads) delivers them; both phases, and their sum.

The receiver runs in another process (204 to everything), so the CPU seconds printed for each
measure are the sender's alone; on a shared machine read the ratios and the CPU times, the
wall times depend on the neighbours (the load average is printed).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

try:
    from bench._db import create_postgres, drop_postgres
except ModuleNotFoundError:  # run as a script (bench/bench_….py): bench/ itself is on sys.path
    from _db import create_postgres, drop_postgres  # type: ignore[no-redef]
from medledger.core.db import make_engine, make_session_factory, utcnow
from medledger.core.migrate import upgrade
from medledger.core.system import system_unit_of_work
from medledger.identifiers.checkdigit import gs1_check_digit
from medledger.integration.models import (
    Delivery,
    OutboxMessage,
    WebhookSubscription,
)
from medledger.integration.nats_relay import (
    NatsConfig,
    deliver_available,
    relay_available,
)
from medledger.integration.outbox import publish
from medledger.integration.worker import WorkerConfig, message_body, run_once
from medledger.models import load_all_models
from medledger.parties.models import PartyRole
from medledger.parties.schemas import PartyIn
from medledger.parties.service import create_tenant

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.integration.processes import NatsServer

load_all_models()


def _receive(port_out: multiprocessing.connection.Connection) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_out.send(server.server_address[1])
    server.serve_forever()


def _database(kind: str) -> tuple[Engine, str]:
    if kind == "sqlite":
        return make_engine(f"sqlite:///{tempfile.mkdtemp()}/bench.db"), ""
    name = f"bench_outbox_{uuid.uuid4().hex[:8]}"
    return make_engine(create_postgres(name)), name


def _drop(name: str) -> None:
    drop_postgres(name)


def _setup(engine: Engine, url: str) -> int:
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
        assert tenant.owner_party_id is not None
        session.add(
            WebhookSubscription(
                tenant_id=tenant.id,
                party_id=tenant.owner_party_id,
                name="bench",
                url=url,
                event_types=["shipment.despatched"],
                secret="whsec_bench",
                active=True,
                created_by="bench",
            )
        )
        return tenant.id


def _publish(factory: sessionmaker[Session], tenant_id: int, n: int) -> list[bytes]:
    """``n`` fresh messages (one delivery each); their webhook bodies."""
    with system_unit_of_work(factory) as session:
        messages = [
            publish(
                session,
                tenant_id=tenant_id,
                event_type="shipment.despatched",
                subject=f"urn:uuid:{uuid.uuid4()}",
                payload={"eventID": f"urn:uuid:{uuid.uuid4()}", "bizStep": "shipping", "n": i},
                audience=[],
            )
            for i in range(n)
        ]
        bodies = [message_body(m) for m in messages if m is not None]
    return bodies


def _timed(work: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU (this process, all threads) seconds of ``work()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def _undelivered(factory: sessionmaker[Session]) -> int:
    with system_unit_of_work(factory) as session:
        return len(session.scalars(select(Delivery.id).where(Delivery.state != "delivered")).all())


def _worker(factory: sessionmaker[Session], threads: int) -> None:
    config = WorkerConfig(batch_size=50)
    at = utcnow() + timedelta(seconds=1)

    def loop(name: str) -> None:
        with httpx.Client(timeout=10) as client:
            while run_once(factory, worker=name, client=client, config=config, clock=lambda: at):
                pass

    loops = [threading.Thread(target=loop, args=(f"bench:{i}",)) for i in range(threads)]
    for t in loops:
        t.start()
    for t in loops:
        t.join()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    n = args.messages

    parent, child = multiprocessing.Pipe()
    receiver = multiprocessing.Process(target=_receive, args=(child,), daemon=True)
    receiver.start()
    url = f"http://127.0.0.1:{parent.recv()}/hook"
    engine, name = _database(args.db)
    store = Path(tempfile.mkdtemp())
    nats_server = NatsServer(store / "jetstream")
    nats_server.start()
    results: list[tuple[str, float, float]] = []
    try:
        tenant_id = _setup(engine, url)
        factory = make_session_factory(engine)

        bodies = _publish(factory, tenant_id, n)

        def plain_loop() -> None:
            with httpx.Client(timeout=10) as client:
                for body in bodies:
                    response = client.post(
                        url, content=body, headers={"Content-Type": "application/json"}
                    )
                    assert response.status_code == 204

        results.append(("plain loop of POSTs (baseline)", *_timed(plain_loop)))
        # Those messages were only read for their bodies; the worker delivers them now.
        results.append(("db worker, 1 thread", *_timed(lambda: _worker(factory, 1))))
        assert _undelivered(factory) == 0
        _publish(factory, tenant_id, n)
        label = f"db worker, {args.threads} threads"
        results.append((label, *_timed(lambda: _worker(factory, args.threads))))
        assert _undelivered(factory) == 0

        _publish(factory, tenant_id, n)
        nats_config = NatsConfig(url=nats_server.url)
        config = WorkerConfig(batch_size=200)
        relayed: list[int] = []
        relay = _timed(
            lambda: relayed.append(
                asyncio.run(
                    relay_available(
                        factory,
                        relay="relay:bench",
                        config=config,
                        nats_config=nats_config,
                        clock=lambda: utcnow() + timedelta(seconds=1),
                    )
                )
            )
        )
        assert relayed == [n], relayed
        counts: list[dict[str, int]] = []
        subscriber = _timed(
            lambda: counts.append(
                asyncio.run(
                    deliver_available(
                        factory,
                        config=WorkerConfig(batch_size=50),
                        nats_config=nats_config,
                        concurrency=args.threads,
                        idle_seconds=0.5,
                    )
                )
            )
        )
        assert counts == [{"delivered": n}], counts
        assert _undelivered(factory) == 0
        # The subscriber waits idle_seconds for a message that does not come before it stops.
        subscriber = (subscriber[0] - 0.5, subscriber[1])
        results.append(("NATS: relay (hand over)", *relay))
        results.append((f"NATS: subscriber, {args.threads} threads", *subscriber))
        results.append(
            ("NATS: relay + subscriber", relay[0] + subscriber[0], relay[1] + subscriber[1])
        )
        with system_unit_of_work(factory) as session:
            total = len(session.scalars(select(OutboxMessage.id)).all())
        assert total == 3 * n
    finally:
        nats_server.stop()
        engine.dispose()
        _drop(name)
        receiver.terminate()

    load = os.getloadavg()
    base_wall, base_cpu = results[0][1], results[0][2]
    print(f"outbox delivery of {n} messages on {args.db}, loopback receiver in another process")
    print(f"load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} on {os.cpu_count()} CPUs")
    print(f"  {'measure':<34} {'wall s':>8} {'msg/s':>8} {'ratio':>7} {'CPU s':>7} {'CPU ×':>6}")
    for label, wall, cpu in results:
        print(
            f"  {label:<34} {wall:8.2f} {n / wall:8.0f} {base_wall / wall:7.3f}"
            f" {cpu:7.2f} {cpu / base_cpu:6.2f}"
        )
    print("  ratio: throughput / baseline throughput; CPU ×: sender CPU / baseline sender CPU")


if __name__ == "__main__":
    main()
