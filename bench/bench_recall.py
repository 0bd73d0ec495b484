"""Recall benchmark: the recall's scope next to the trace it is built on, in the same run.

    .venv/bin/python bench/bench_recall.py --db sqlite --edges 100000

On the trace benchmark's generated network (``bench/bench_trace.py``'s database, reused):

1. recall scope (``recall.scope.compute_scope``: downstream and upstream traces, custody hops
   and packed quantities of everything in scope, consignees with what each holds) of a hot
   component lot and of typical finished lots vs the baseline: the two trace reports alone
   (``trace.service.trace`` downstream + upstream, JSON built) — the ratio is the cost of
   turning a trace into a recall scope;
2. the whole mock initiation of a hot component lot (scope, notices, outbox, EPCIS ``recalled``
   events through the ledger, in a transaction rolled back: what ``medledger recall drill``
   does on PostgreSQL) vs the same baseline.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench.bench_trace import database  # noqa: E402
from medledger.core.db import make_session_factory, set_tenant_guc, unit_of_work  # noqa: E402
from medledger.core.system import system_unit_of_work, tenant_admin  # noqa: E402
from medledger.recall import service as recall_service  # noqa: E402
from medledger.recall.models import Depth, HazardClass  # noqa: E402
from medledger.recall.schemas import RecallIn  # noqa: E402
from medledger.recall.scope import compute_scope  # noqa: E402
from medledger.trace import service  # noqa: E402
from medledger.trace.engine import Direction  # noqa: E402


class _Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--edges", type=int, default=100_000)
    parser.add_argument("--lots", type=int, default=40, help="typical finished lots sampled")
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    engine, network = database(args.db, args.edges, args.regenerate)
    factory = make_session_factory(engine)
    with system_unit_of_work(factory) as session:
        admin = tenant_admin(session, network.tenant_id, label="bench")
    print(f"MedLedger recall benchmark · {args.db} · {network.edges:,} edges")

    def traces(identifier: str) -> int:
        with unit_of_work(factory, principal=admin) as session:
            set_tenant_guc(session, admin.tenant_id)
            down = service.trace(session, admin, service.TraceRequest(identifier))
            up = service.trace(session, admin, service.TraceRequest(identifier, Direction.UPSTREAM))
            down.to_json()
            up.to_json()
            return len(down.rows)

    def scope(identifier: str) -> int:
        with unit_of_work(factory, principal=admin) as session:
            set_tenant_guc(session, admin.tenant_id)
            return len(compute_scope(session, admin, [identifier]).items)

    def initiation(identifier: str) -> None:
        try:
            with unit_of_work(factory, principal=admin) as session:
                set_tenant_guc(session, admin.tenant_id)
                recall_service.initiate_recall(
                    session,
                    admin,
                    RecallIn(
                        identifiers=[identifier],
                        title="bench",
                        hazard_class=HazardClass.II,
                        depth=Depth.RETAIL,
                        reason="bench",
                    ),
                    drill=True,
                )
                raise _Rollback
        except _Rollback:
            pass

    def clock(fn: object, identifier: str) -> float:
        started = time.perf_counter()
        fn(identifier)  # type: ignore[operator]
        return time.perf_counter() - started

    hot = network.lot_uris[network.hot_lots[0]]
    traces(hot)  # loads the snapshot
    rng = random.Random(5)
    lots = [
        network.lot_uris[lot]
        for lot in rng.sample(network.finished_lots, min(args.lots, len(network.finished_lots)))
    ]
    for name, sample in (("typical finished lot", lots), ("hot component lot", [hot] * 5)):
        base, measured = [], []
        for identifier in sample:
            base.append(clock(traces, identifier))
            measured.append(clock(scope, identifier))
        b, m = statistics.median(base), statistics.median(measured)
        print(
            f"{name:<22} scope p50 {m * 1000:8.2f} ms   baseline (2 traces) "
            f"{b * 1000:8.2f} ms   ratio {m / b:5.2f}×   ({scope(sample[0]):,} items in scope)"
        )
    base, measured = [], []
    for _ in range(3):
        base.append(clock(traces, hot))
        measured.append(clock(initiation, hot))
    b, m = statistics.median(base), statistics.median(measured)
    print(
        f"{'mock initiation (hot)':<22} p50 {m * 1000:8.2f} ms   baseline (2 traces) "
        f"{b * 1000:8.2f} ms   ratio {m / b:5.2f}×"
    )


if __name__ == "__main__":
    main()
