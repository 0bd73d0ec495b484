"""Migration 0009: a ledger captured before the custody rules traces by them after upgrade.

The ledger is written as revision 0004 left it: the events as captured, and projections by
the old rules (an unpacking retracted the containment, the capturer of a receipt or an
observation became the holder, the capturer got read access to everything it named). The
upgrade rebuilds the projections from the events.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from tests.builders import build_network, gln, gtin
from tests.conftest import BACKEND, POSTGRES_URL
from tests.trace.epcis_scenario import CONTEXT, DL, sgtin_urn
from tests.trace.test_custody import (
    DIST,
    HUB,
    OUTSIDE_HOSPITAL,
    P1,
    assembling,
    commissioning,
    packing,
    receiving,
    shipping,
)

from medledger.core import record_checks
from medledger.core.db import make_engine, make_session_factory
from medledger.core.migrate import upgrade
from medledger.core.principal import make_principal
from medledger.core.system import system_unit_of_work
from medledger.trace import service
from medledger.trace.engine import Direction
from medledger.trace.epcis.normalise import normalise_event
from medledger.trace.snapshot import SNAPSHOTS

COMPONENT, FINISHED = gtin(10), gtin(20)


@contextmanager
def _columns_added_later(engine: Engine, tables: tuple[str, ...]) -> Iterator[None]:
    """Today's models write columns that later migrations add (``users.credential_epoch``…):
    add them for the time the old-revision rows are written, then drop them again, so the
    upgrade that follows adds them itself."""
    from medledger.core.db import Base
    from medledger.models import load_all_models

    load_all_models()
    added: list[tuple[str, str]] = []
    with engine.begin() as conn:
        existing = {t: {c["name"] for c in inspect(conn).get_columns(t)} for t in tables}
        for table in tables:
            for column in Base.metadata.tables[table].columns:
                if column.name in existing[table]:
                    continue
                kind = column.type.compile(dialect=conn.dialect)
                conn.execute(text(f'ALTER TABLE {table} ADD COLUMN "{column.name}" {kind}'))
                added.append((table, column.name))
    yield
    with engine.begin() as conn:
        for table, name in added:
            conn.execute(text(f'ALTER TABLE {table} DROP COLUMN "{name}"'))


@pytest.fixture
def empty_engine(tmp_path: Path) -> Iterator[Engine]:
    """A database with no schema at all (its own, on either backend)."""
    if BACKEND == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return
    base, _, _ = POSTGRES_URL.rpartition("/")
    name = f"medledger_test_migration_{os.getpid()}"
    admin = make_engine(POSTGRES_URL)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(f"{base}/{name}")
    yield engine
    engine.dispose()
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _insert_events(
    engine: Engine, tenant: int, party: int, job: int, events: list[dict[str, Any]]
) -> dict[str, int]:
    """Event rows as a 0004 capture wrote them; their ids by eventID."""
    ids: dict[str, int] = {}
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO epcis_capture_jobs (id, tenant_id, capturing_party_id, submitted_by,"
                " state, error_behaviour, event_count, captured_count, errors, created_at)"
                " VALUES (:id, :tenant, :party, 'old', 'succeeded', 'rollback', :n, :n, '[]',"
                " :now)"
            ),
            {"id": job, "tenant": tenant, "party": party, "n": len(events), "now": _now()},
        )
        for raw in events:
            event = normalise_event({**raw, "@context": CONTEXT}, strict_identifiers=False)
            row = conn.execute(
                text(
                    "INSERT INTO epcis_events (tenant_id, event_id, event_type, action,"
                    " event_time, event_time_zone_offset, record_time, biz_step, disposition,"
                    " read_point, biz_location, transformation_id, capturing_party_id,"
                    " capture_job_id, biz_transactions, sources, destinations, document)"
                    " VALUES (:tenant, :event_id, :type, :action, :time, '+01:00', :now,"
                    " :step, :disposition, NULL, :location, NULL, :party, :job, '[]',"
                    " :sources, :destinations, :document) RETURNING id"
                ),
                {
                    "tenant": tenant,
                    "event_id": event.event_id,
                    "type": event.event_type,
                    "action": event.action,
                    "time": event.event_time,
                    "now": _now(),
                    "step": event.biz_step,
                    "disposition": event.disposition,
                    "location": event.biz_location,
                    "party": party,
                    "job": job,
                    "sources": _json(
                        [{"type": s.type, "value": s.value} for s in event.source_list]
                    ),
                    "destinations": _json(
                        [{"type": d.type, "value": d.value} for d in event.destination_list]
                    ),
                    "document": _json({**raw, "@context": CONTEXT[1:]}),
                },
            ).scalar_one()
            ids[event.event_id] = int(row)
    return ids


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


def _now() -> datetime:
    return datetime(2026, 3, 5, tzinfo=UTC)


def test_a_ledger_captured_before_the_change_traces_by_the_new_rules_after_upgrade(
    empty_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a database at revision 0004 with a network and its ledger as 0004 stored it (no
    # data dictionary existed then: its checks of master data are not registered)
    monkeypatch.setattr(record_checks, "_CHECKS", [])
    upgrade(empty_engine, "0004")
    factory = make_session_factory(empty_engine)
    with _columns_added_later(empty_engine, ("tenants", "parties", "users")):
        net = build_network(factory, "old")
    hub_events = [
        commissioning(1, [(COMPONENT, "C1", 100)], HUB),
        assembling(2, [(COMPONENT, "C1", 10)], ["S1", "S2"]),
        packing(3, P1, ["S1", "S2"]),
        shipping(4, [f"{DL}/00/{P1}"], HUB, DIST),
    ]
    distributor_events = [
        receiving(5, [f"{DL}/00/{P1}"], DIST, DIST),
        packing(6, P1, [], action="DELETE"),
        shipping(7, [sgtin_urn(FINISHED, "S1")], DIST, OUTSIDE_HOSPITAL, style="dl"),
        receiving(8, [sgtin_urn(FINISHED, "S1")], OUTSIDE_HOSPITAL, style="dl"),
    ]
    rows = _insert_events(empty_engine, net.tenant_id, net.hub_id, 1, hub_events)
    rows |= _insert_events(empty_engine, net.tenant_id, net.distributor_id, 2, distributor_events)
    s1, p1 = f"{DL}/01/{FINISHED}/21/S1", f"{DL}/00/{P1}"
    with empty_engine.begin() as conn:
        # projections by the old rules: the capturer (the distributor) held S1 after the
        # hospital's receipt, the unpacking retracted S1's containment, capturer access
        item = {}
        for uri, kind, keys, holder in (
            (s1, "serial", (FINISHED, "S1", None), net.distributor_id),
            (p1, "sscc", (None, None, P1), net.hub_id),
        ):
            item[uri] = conn.execute(
                text(
                    "INSERT INTO trace_items (tenant_id, uri, kind, gtin, serial, sscc,"
                    " commissioned, holder_party_id) VALUES (:t, :uri, :kind, :gtin, :serial,"
                    " :sscc, false, :holder) RETURNING id"
                ),
                {
                    "t": net.tenant_id,
                    "uri": uri,
                    "kind": kind,
                    "gtin": keys[0],
                    "serial": keys[1],
                    "sscc": keys[2],
                    "holder": holder,
                },
            ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO genealogy_edges (tenant_id, from_item_id, to_item_id, kind,"
                " event_row_id, retracted_by_event_id) VALUES (:t, :s1, :p1, 'aggregation',"
                " :pack, :unpack)"
            ),
            {
                "t": net.tenant_id,
                "s1": item[s1],
                "p1": item[p1],
                "pack": rows[hub_events[2]["eventID"]],
                "unpack": rows[distributor_events[1]["eventID"]],
            },
        )
        conn.execute(
            text(
                "INSERT INTO item_parties (tenant_id, item_id, party_id, relation, note)"
                " VALUES (:t, :s1, :supplier, 'capturer', '')"
            ),
            {"t": net.tenant_id, "s1": item[s1], "supplier": net.supplier_id},
        )

    # when the database is upgraded
    upgrade(empty_engine)

    # then the ledger traces by the new rules: the unpacked SSCC is still in the recall, the
    # unregistered hospital holds S1 and received it, the old item ids are kept
    SNAPSHOTS.clear()
    with system_unit_of_work(factory) as session:
        hub_qa = make_principal(
            user_id=net.users["qa"],
            tenant_id=net.tenant_id,
            party_id=net.hub_id,
            role="qa",
            hub_party_id=net.hub_id,
            username="old-qa",
            display_name="old qa",
        )
        report = service.trace(
            session,
            hub_qa,
            service.TraceRequest(f"(01){COMPONENT}(10)C1", Direction.DOWNSTREAM),
        ).to_json()
        ids = dict(
            session.execute(
                text("SELECT uri, id FROM trace_items WHERE uri IN (:a, :b)"), {"a": s1, "b": p1}
            ).all()
        )
        relations = session.execute(
            text(
                "SELECT party_id, relation FROM item_parties WHERE item_id = :s1 ORDER BY party_id"
            ),
            {"s1": ids[s1]},
        ).all()
    assert ids == item
    assert [(u["sscc"], u["containment"]) for u in report["logistic_units"]] == [(P1, "ended")]
    holders = {
        row["uri"].rsplit("/", 1)[-1]: (row["holder"] or {}).get("gln")
        for row in [report["item"], *report["serials"], *report["logistic_units"]]
    }
    assert holders == {"C1": HUB, "S1": OUTSIDE_HOSPITAL, "S2": DIST, P1: DIST}
    assert {p["gln"]: p["roles"] for p in report["parties"]} == {
        HUB: ["holder"],
        DIST: ["holder", "consignee"],
        OUTSIDE_HOSPITAL: ["holder", "consignee"],
    }
    assert report["gaps"] == []
    # read access from the custody chain only: the stale capturer row is gone
    assert [tuple(r) for r in relations] == [
        (net.hub_id, "holder"),
        (net.distributor_id, "holder"),
    ]
    assert gln(3) not in holders.values()
