"""Trace benchmarks: each result next to a baseline measured in the same run on the same data.

    .venv/bin/python bench/bench_trace.py --db sqlite --edges 1000000
    .venv/bin/python bench/bench_trace.py --db postgres --edges 1000000

1. typical lot (random finished lots), downstream, through the service (JSON report built)
   vs raw recursive SQL over the same edges (ids only) — p50/p95 and the ratio of p50s;
2. worst case (a hot component lot reaching ~20k units), full report + CSV listing through
   the service vs an in-memory BFS over the same edges (dict adjacency, ids only);
3. PostgreSQL only: the same worst case vs a per-node query loop (two indexed queries per
   node: its edges and, for a lot, its serials).

The database is generated once (``bench/.data``/``medledger_bench``) and reused while its
edge count matches; ``--regenerate`` forces a new one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import Connection, Engine  # noqa: E402

from bench.generate import Network, generate  # noqa: E402
from medledger.core.db import make_engine, make_session_factory, set_tenant_guc, unit_of_work  # noqa: E402
from medledger.core.migrate import upgrade  # noqa: E402
from medledger.core.principal import Principal  # noqa: E402
from medledger.core.system import system_unit_of_work, tenant_admin  # noqa: E402
from medledger.models import load_all_models  # noqa: E402
from medledger.trace import service  # noqa: E402
from medledger.trace.engine import Direction  # noqa: E402
from medledger.trace.ledger.capture import capture_document  # noqa: E402
from medledger.trace.snapshot import SNAPSHOTS, find_item_id, sql_snapshot  # noqa: E402

POSTGRES_ADMIN = os.environ.get(
    "MEDLEDGER_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# The SQL baselines join serials to their lot; the projection has no index for that yet.
LOT_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_bench_trace_items_lot ON trace_items (tenant_id, lot_item_id)"
)


def database(kind: str, edges: int, regenerate: bool) -> tuple[Engine, Network]:
    """The benchmark database, generated if missing or of another size."""
    if kind == "sqlite":
        path = ROOT / "bench" / ".data" / f"trace-{edges}.db"
        if regenerate and path.exists():
            path.unlink()
        fresh = not path.exists()
        engine = make_engine(f"sqlite:///{path}")
    else:
        name = f"medledger_bench_{edges}"
        admin = make_engine(POSTGRES_ADMIN)
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).scalar()
            if regenerate and exists:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                exists = None
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        fresh = regenerate or not exists
        engine = make_engine(POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + name)
    load_all_models()
    upgrade(engine)  # a kept database gets the migrations added since it was generated
    if fresh:
        print(f"generating ~{edges:,} edges on {kind} …", flush=True)
        network = generate(engine, edges)
        print(
            f"  {network.edges:,} edges, {network.items:,} items, {network.hops:,} hops, "
            f"{network.events:,} events in {network.seconds:.1f} s",
            flush=True,
        )
    else:
        network = describe(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(LOT_INDEX)
        if engine.dialect.name != "postgresql":
            # With ANALYZE statistics, SQLite 3.40 plans each step of the recursive CTE with a
            # Bloom filter built over the whole edge index (~190 ms for a 42-item reach instead
            # of ~0.1 ms): the baseline would be unfairly slow. Without statistics it probes the
            # indexes. The service's lookups (primary keys, unique URI) do not depend on them.
            stats = conn.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
            ).scalar()
            if stats:
                conn.exec_driver_sql("DELETE FROM sqlite_stat1")
                conn.exec_driver_sql("ANALYZE sqlite_schema")
    if engine.dialect.name == "postgresql":
        # What autovacuum does to tables after a bulk load: statistics, and the visibility
        # map that lets index-only scans (the trace probe's event window) skip the heap. The
        # checkpoint writes the pages it dirtied now rather than during the measurements.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
            conn.exec_driver_sql("CHECKPOINT")
    return engine, network


def describe(engine: Engine) -> Network:
    """Rebuild the ``Network`` facts of an existing benchmark database."""
    with engine.connect() as conn:
        bypass(conn)
        tenant, hub = conn.exec_driver_sql(
            "SELECT id, owner_party_id FROM tenants WHERE slug = 'bench'"
        ).one()
        network = Network(tenant, hub)
        rows = conn.exec_driver_sql(
            f"SELECT id, gtin, lot FROM trace_items WHERE tenant_id = {tenant} AND kind = 'lot' "
            "ORDER BY id"
        ).all()
        for item_id, gtin, lot in rows:
            network.lot_uris[item_id] = f"(01){gtin}(10){lot}"
            if lot.startswith("C"):
                network.component_lots.append(item_id)
            elif lot.startswith("F"):
                network.finished_lots.append(item_id)
        network.hot_lots = network.component_lots[:10]
        network.edges = int(
            conn.exec_driver_sql(
                f"SELECT count(*) FROM genealogy_edges WHERE tenant_id = {tenant}"
            ).scalar()
            or 0
        )
    return network


def bypass(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT set_config('app.rls_bypass', 'on', false)")


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.3f} ms"


def recursive_sql(dialect: str) -> str:
    """Downstream reach of one item (ids only): edges plus a lot's serials."""
    if dialect == "postgresql":
        # PostgreSQL allows one recursive reference: both arc kinds go in a LATERAL subquery
        # probed per reached node (indexes on from_item_id and lot_item_id).
        return (
            "WITH RECURSIVE reach(id) AS (SELECT %(root)s::bigint"
            " UNION SELECT n.id FROM reach r CROSS JOIN LATERAL ("
            "  SELECT e.to_item_id AS id FROM genealogy_edges e"
            "   WHERE e.tenant_id = %(t)s AND e.from_item_id = r.id"
            "   AND e.retracted_by_event_id IS NULL"
            "  UNION ALL SELECT i.id FROM trace_items i"
            "   WHERE i.tenant_id = %(t)s AND i.lot_item_id = r.id) n)"
            " SELECT id FROM reach"
        )
    return (
        "WITH RECURSIVE reach(id) AS (SELECT :root"
        # CROSS JOIN keeps the reached set as the outer loop, so SQLite probes the indexes.
        " UNION SELECT e.to_item_id FROM reach r CROSS JOIN genealogy_edges e"
        "  WHERE e.tenant_id = :t AND e.from_item_id = r.id AND e.retracted_by_event_id IS NULL"
        " UNION SELECT i.id FROM reach r CROSS JOIN trace_items i"
        "  WHERE i.tenant_id = :t AND i.lot_item_id = r.id)"
        " SELECT id FROM reach"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--lots", type=int, default=300, help="typical lots sampled")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument(
        "--start-only", action="store_true", help="only section 0 (memory and start)"
    )
    args = parser.parse_args()

    engine, network = database(args.db, args.edges, args.regenerate)
    factory = make_session_factory(engine)
    with system_unit_of_work(factory) as session:
        admin: Principal = tenant_admin(session, network.tenant_id, label="bench")
    print(
        f"MedLedger trace benchmark · {args.db} · {network.edges:,} edges · "
        f"{platform.python_implementation()} {platform.python_version()} · "
        f"{os.cpu_count()} CPUs · {time.strftime('%Y-%m-%d')}"
    )

    def service_trace(
        identifier: str, direction: Direction = Direction.DOWNSTREAM, csv: bool = False
    ) -> Any:
        with unit_of_work(factory, principal=admin) as session:
            set_tenant_guc(session, admin.tenant_id)
            report = service.trace(session, admin, service.TraceRequest(identifier, direction))
            return report.listing_csv() if csv else report.to_json()

    # Memory and start, each in a fresh process (a restarted `serve`), see start_and_memory.
    files_root = ROOT / "bench" / ".data" / f"snapshots-{args.db}-{args.edges}"
    shutil.rmtree(files_root, ignore_errors=True)
    probe_uri = network.lot_uris[network.finished_lots[0]]
    print("\n0. memory and start (each line a fresh process, as after a restart)")
    for label, with_files in (
        ("no files (each process its own copy)", False),
        ("files, first process (loads, saves)", True),
        ("files, next process (maps them)", True),
    ):
        figures = measure_start(
            engine.url.render_as_string(hide_password=False),
            network.tenant_id,
            probe_uri,
            files_root if with_files else None,
        )
        print(f"   {label}")
        print(
            f"     first request after the restart {figures['first_request_s'] * 1000:8.1f} ms"
            f" (answered by {'SQL' if figures['first_by_sql'] else 'the snapshot'});"
            f" snapshot ready after {figures['ready_s']:.2f} s;"
            f" the same trace then {figures['after_ready_s'] * 1000:.2f} ms"
        )
        print(
            f"     RSS before {figures['rss_before_mb']:.0f} MB, peak {figures['peak_mb']:.0f} MB,"
            f" steady {figures['rss_after_mb']:.0f} MB, of which the process's own"
            f" (anonymous) {figures['anon_after_mb'] - figures['anon_before_mb']:.0f} MB more"
            f" than before and mapped files {figures['file_after_mb']:.0f} MB"
        )
    on_disk = sum(path.stat().st_size for path in files_root.rglob("*") if path.is_file())
    print(
        f"   files of the newest version(s) on disk: {on_disk / 2**20:.0f} MB "
        "(in the page cache once per machine)"
    )
    if args.start_only:
        return

    # Cold: the first trace of this process loads the tenant's snapshot (or maps the files).
    SNAPSHOTS.clear()
    SNAPSHOTS.use_files(engine, files_root)
    cold = timed(lambda: service_trace(probe_uri), 1)[0]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nsnapshot of this process (mapped from the files): {cold:.2f} s;"
        f" peak RSS of the benchmark process {rss:.0f} MB"
    )

    rng = random.Random(11)
    lots = rng.sample(network.finished_lots, min(args.lots, len(network.finished_lots)))
    sql = recursive_sql(engine.dialect.name)
    raw = engine.raw_connection()
    cursor = raw.cursor()
    if engine.dialect.name == "postgresql":
        cursor.execute("SELECT set_config('app.rls_bypass', 'on', false)")

    def raw_reach(root: int) -> list[Any]:
        cursor.execute(sql, {"root": root, "t": network.tenant_id})
        return cursor.fetchall()

    # Warm both paths, then interleave so that drift hits both alike.
    for lot in lots[:20]:
        service_trace(network.lot_uris[lot])
        raw_reach(lot)
    listing_samples: list[float] = []
    report_samples: list[float] = []
    sql_samples: list[float] = []
    reached_sizes = []
    # Each lot is traced once (no answer is cached between requests): its recall listing
    # for even lots, its JSON report for odd ones, each right after the raw SQL baseline.
    for k, lot in enumerate(lots):
        sql_samples += timed(lambda lot=lot: reached_sizes.append(len(raw_reach(lot))), 1)
        uri = network.lot_uris[lot]
        if k % 2 == 0:
            listing_samples += timed(lambda uri=uri: service_trace(uri, csv=True), 1)
        else:
            report_samples += timed(lambda uri=uri: service_trace(uri), 1)
    sql_p50 = pct(sql_samples, 0.5)
    print(
        f"\n1. typical lot downstream ({len(lots)} finished lots, "
        f"{statistics.mean(reached_sizes) - 1:.0f} items reached on average)"
    )
    for label, samples in (
        ("service, recall listing (CSV)", listing_samples),
        ("service, JSON report", report_samples),
        ("raw recursive SQL (ids)", sql_samples),
    ):
        print(
            f"   {label:31s} p50 {ms(pct(samples, 0.5))}   p95 {ms(pct(samples, 0.95))}"
            f"   ratio (p50) {pct(samples, 0.5) / sql_p50:.2f}×"
        )
    print("   target: recall scope ≤ 3× raw recursive SQL, p50 ≤ 1 ms on SQLite")

    # 2. Worst case: the hot component lot reaching the most units.
    reach_by_hot = {lot: len(raw_reach(lot)) for lot in network.hot_lots}
    hot = max(reach_by_hot, key=lambda lot: reach_by_hot[lot])
    hot_uri = network.lot_uris[hot]
    adjacency = build_adjacency(engine, network.tenant_id)

    def bfs() -> int:
        seen = {hot}
        queue = deque([hot])
        while queue:
            node = queue.popleft()
            for target in adjacency.get(node, ()):
                if target not in seen:
                    seen.add(target)
                    queue.append(target)
        return len(seen)

    units = bfs()
    # The first listing of these rows (their CSV fragments are built by it and kept).
    first_listing = timed(lambda: service_trace(hot_uri, csv=True), 1)[0]
    repeat = 7
    worst_service = timed(lambda: service_trace(hot_uri, csv=True), repeat)
    worst_bfs = timed(bfs, repeat)
    rows = service_trace(hot_uri, csv=True).count("\n") - 1
    print(
        f"\n2. worst case: component lot reaching {units - 1:,} items "
        f"({rows:,} listing rows), median of {repeat}"
    )
    print(f"   service (report + CSV listing)   {ms(statistics.median(worst_service))}")
    print(f"   in-memory BFS (ids only)         {ms(statistics.median(worst_bfs))}")
    print(
        f"   ratio                            "
        f"{statistics.median(worst_service) / statistics.median(worst_bfs):.2f}×   (target ≤ 3×)"
    )
    print(f"   service, first listing of the lot        {ms(first_listing)}")
    json_report = timed(lambda: service_trace(hot_uri), 3)
    print(f"   service (JSON report)            {ms(statistics.median(json_report))}")
    raw_worst = timed(lambda: raw_reach(hot), 3)
    print(f"   raw recursive SQL (ids only)     {ms(statistics.median(raw_worst))}")

    incremental_refresh(factory, admin, network, hot_uri, cold)

    if engine.dialect.name == "postgresql":
        loop = timed(lambda: per_node_loop(cursor, network.tenant_id, hot), 1)[0]
        print(f"   per-node query loop (ids only)   {ms(loop)}")
        print(
            f"   speed-up of the service          "
            f"{loop / statistics.median(worst_service):.0f}×   (target ≥ 50×)"
        )
    raw.close()


def measure_start(url: str, tenant: int, uri: str, files_root: Path | None) -> dict[str, Any]:
    """Run :func:`start_and_memory` in a fresh Python process and return its figures."""
    command = [sys.executable, __file__, "--start-child", url, str(tenant), uri]
    if files_root is not None:
        command.append(str(files_root))
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _memory() -> dict[str, float]:
    """This process's resident memory (MB): all, anonymous (its own) and file-backed."""
    fields: dict[str, float] = {}
    with open("/proc/self/smaps_rollup") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                fields[parts[0][:-1]] = int(parts[1]) / 1024
    rss = fields.get("Rss", 0.0)
    anon = fields.get("Anonymous", 0.0)
    return {"rss": rss, "anon": anon, "file": rss - anon}


def start_and_memory(url: str, tenant: int, uri: str, files_root: str | None) -> None:
    """A restarted server process: snapshots load in the background from its start; one trace
    is asked at once (answered by SQL while loading), one after the snapshot is ready. Prints
    the times and the memory (JSON)."""
    import gc

    engine = make_engine(url)
    load_all_models()
    factory = make_session_factory(engine)
    with system_unit_of_work(factory) as session:
        admin: Principal = tenant_admin(session, tenant, label="bench")
        # What a request imports and opens, without loading a snapshot: the baseline.
        root = find_item_id(session, tenant, service.item_uri(uri))
        assert root is not None
        report = sql_snapshot(session.connection(), tenant, root, [Direction.DOWNSTREAM])
    SNAPSHOTS.clear()
    gc.collect()
    before = _memory()
    started = time.perf_counter()
    SNAPSHOTS.start_background(
        engine, [tenant], files_root=Path(files_root) if files_root else None
    )

    def one() -> Any:
        with unit_of_work(factory, principal=admin) as session:
            set_tenant_guc(session, admin.tenant_id)
            return service.trace(session, admin, service.TraceRequest(uri)).to_json()

    first = one()
    first_s = time.perf_counter() - started
    by_sql = SNAPSHOTS.sql_traces > 0
    SNAPSHOTS.wait_loaded()
    ready_s = time.perf_counter() - started
    one()  # the first trace of the snapshot
    tick = time.perf_counter()
    after = one()
    after_ready_s = time.perf_counter() - tick
    assert after == first, "the SQL path and the snapshot answered differently"
    SNAPSHOTS.wait_saved()
    del report
    gc.collect()
    steady = _memory()
    print(
        json.dumps(
            {
                "first_request_s": first_s,
                "first_by_sql": by_sql,
                "ready_s": ready_s,
                "after_ready_s": after_ready_s,
                "rss_before_mb": before["rss"],
                "anon_before_mb": before["anon"],
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "rss_after_mb": steady["rss"],
                "anon_after_mb": steady["anon"],
                "file_after_mb": steady["file"],
            }
        )
    )


def incremental_refresh(
    factory: Any, admin: Principal, network: Network, hot_uri: str, full_load: float
) -> None:
    """4. The first trace after a capture (snapshot refreshed incrementally) vs a full load.

    Each round captures and commits, through the capture service, one transformation of the
    hot lot into a new lot with 5 serials, then times the next trace (refresh + trace) and the
    one after it (snapshot current). The captured rows stay in the benchmark database (6 items
    per round, named ``B<time><round>`` so that reruns never collide).
    """
    gtin_value, lot_value = hot_uri[4:18], hot_uri[22:]
    stamp = int(time.time()) % 10**8
    probe = network.lot_uris[network.finished_lots[1]]
    samples, warm, captures = [], [], []
    for round_ in range(5):
        name = f"B{stamp}{round_}"
        new_lot = f"https://id.gs1.org/01/{gtin_value}/10/{name}"
        serials = [f"https://id.gs1.org/01/{gtin_value}/21/{name}S{k}" for k in range(5)]
        event = {
            "type": "TransformationEvent",
            "eventID": f"urn:uuid:00000000-0000-4000-8000-{stamp:08d}{round_:04d}",
            "eventTime": "2026-01-01T00:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "bizStep": "assembling",
            "inputQuantityList": [
                {"epcClass": f"https://id.gs1.org/01/{gtin_value}/10/{lot_value}", "quantity": 1}
            ],
            "outputEPCList": serials,
            "outputQuantityList": [{"epcClass": new_lot, "quantity": 5}],
        }
        document = {
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-01-01T00:00:00Z",
            "epcisBody": {"eventList": [event]},
        }
        started = time.perf_counter()
        with unit_of_work(factory, principal=admin) as session:
            set_tenant_guc(session, admin.tenant_id)
            job = capture_document(session, admin, document)
            assert job.state == "succeeded", job.errors
        captures.append(time.perf_counter() - started)
        for bucket in (samples, warm):
            with unit_of_work(factory, principal=admin) as session:
                set_tenant_guc(session, admin.tenant_id)
                started = time.perf_counter()
                service.trace(session, admin, service.TraceRequest(probe)).to_json()
                bucket.append(time.perf_counter() - started)
    # The last round's transformation declared an error: its edges retracted, the hot lot's
    # and the new items' state recomputed (the captured rows stay, retracted).
    event["errorDeclaration"] = {"declarationTime": "2026-01-02T00:00:00Z"}
    started = time.perf_counter()
    with unit_of_work(factory, principal=admin) as session:
        set_tenant_guc(session, admin.tenant_id)
        job = capture_document(session, admin, document)
        assert job.state == "succeeded", job.errors
    declared = time.perf_counter() - started
    with unit_of_work(factory, principal=admin) as session:
        snapshot = SNAPSHOTS.peek(session.get_bind(), admin.tenant_id)  # type: ignore[arg-type]
        assert snapshot is not None and snapshot.loads == 1, "refresh fell back to a full load"
        reached = service.trace(session, admin, service.TraceRequest(hot_uri)).counts
    print("\n4. first trace after a capture (1 transformation, 6 new items), median of 5")
    print(f"   the capture itself (committed)    {ms(statistics.median(captures))}")
    print(f"   an error declaration of one       {ms(declared)}")
    print(f"   incremental refresh + trace       {ms(statistics.median(samples))}")
    print(f"   the same trace, snapshot current  {ms(statistics.median(warm))}")
    print(f"   full load (was: after every capture) {full_load * 1000:10.1f} ms")
    print(f"   speed-up                          {full_load / statistics.median(samples):.0f}×")
    print(f"   hot lot now reaches {reached['lots']} lots, {reached['serials']} serials")


def build_adjacency(engine: Engine, tenant: int) -> dict[int, list[int]]:
    """Downstream adjacency (edges plus lot → serial) as Python dicts, for the BFS baseline."""
    adjacency: dict[int, list[int]] = {}
    with engine.connect() as conn:
        bypass(conn)
        for source, target in conn.exec_driver_sql(
            "SELECT from_item_id, to_item_id FROM genealogy_edges "
            f"WHERE tenant_id = {tenant} AND retracted_by_event_id IS NULL"
        ):
            adjacency.setdefault(source, []).append(target)
        for source, target in conn.exec_driver_sql(
            f"SELECT lot_item_id, id FROM trace_items WHERE tenant_id = {tenant} "
            "AND lot_item_id IS NOT NULL"
        ):
            adjacency.setdefault(source, []).append(target)
    return adjacency


def per_node_loop(cursor: Any, tenant: int, root: int) -> int:
    """The naive way: two indexed queries per reached node."""
    seen = {root}
    queue = deque([root])
    while queue:
        node = queue.popleft()
        cursor.execute(
            "SELECT to_item_id FROM genealogy_edges WHERE tenant_id = %s AND from_item_id = %s "
            "AND retracted_by_event_id IS NULL",
            (tenant, node),
        )
        targets = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT id FROM trace_items WHERE tenant_id = %s AND lot_item_id = %s", (tenant, node)
        )
        targets += [row[0] for row in cursor.fetchall()]
        for target in targets:
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return len(seen)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--start-child":
        start_and_memory(
            sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5] if len(sys.argv) > 5 else None
        )
    else:
        main()
