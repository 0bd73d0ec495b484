"""Production end to end through the API: a work order per the BOM consumes component lots
(first expiry first out, released stock only) and produces the finished lot as one EPCIS
TransformationEvent; stock moves through the projection, the trace links components to the
finished lot, the device history record names lots, quantities, operators and times. Every
refusal changes nothing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.system import system_unit_of_work
from medledger.inventory.models import StockMovement
from medledger.inventory.verify import verify
from medledger.production.models import WorkOrder, WorkOrderComponent
from medledger.trace.models import EpcisEvent
from tests.builders import gtin
from tests.inventory.builders import Warehouse, build_warehouse, release_lot, stock

FINISHED = gtin(601)
CATHETER = gtin(602)
VALVE = gtin(603)


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture
def w(client: TestClient, factory: sessionmaker[Session]) -> Warehouse:
    w = build_warehouse(client, factory, "pr")
    for number in (FINISHED, CATHETER, VALVE):
        _ok(
            client.post(
                "/api/v1/products",
                json={
                    "gtin": number,
                    "name": f"Product {number}",
                    "tracking_level": "lot",
                    "storage_class": "ambient",
                },
                headers=w.admin,
            ),
            201,
        )
    items = _ok(client.get("/api/v1/products", params={"q": FINISHED}, headers=w.admin))["items"]
    product = next(p for p in items if p["gtin"] == FINISHED)
    bom = _ok(
        client.post(
            f"/api/v1/products/{product['id']}/boms",
            json={
                "lines": [
                    {"component_gtin": CATHETER, "quantity_per": "1", "unit_of_measure": "EA"},
                    {"component_gtin": VALVE, "quantity_per": "2", "unit_of_measure": "EA"},
                ]
            },
            headers=w.admin,
        ),
        201,
    )
    _ok(client.post(f"/api/v1/boms/{bom['id']}/activate", headers=w.admin))
    return w


def _stock_in(
    client: TestClient, w: Warehouse, number: str, lot: str, quantity: int, expiry: date
) -> None:
    """Receive a component lot, release it and put it away to A1 (the production area)."""
    line = {"gtin": number, "lot": lot, "quantity": quantity}
    _ok(
        client.post(
            "/api/v1/inventory/receipts",
            json={"location_id": w.dock, "lines": [{**line, "expiry": expiry.isoformat()}]},
            headers=w.warehouse,
        ),
        201,
    )
    release_lot(client, w, number, lot)
    _ok(
        client.post(
            "/api/v1/inventory/put-aways",
            json={"from_location_id": w.dock, "to_location_id": w.ambient, "lines": [line]},
            headers=w.warehouse,
        ),
        201,
    )


def _plan(client: TestClient, w: Warehouse, quantity: int = 10, lot: str = "F-1") -> Any:
    return _ok(
        client.post(
            "/api/v1/work-orders",
            json={
                "gtin": FINISHED,
                "location_id": w.ambient,
                "quantity": quantity,
                "lot": lot,
                "expiry": (date.today() + timedelta(days=700)).isoformat(),
            },
            headers=w.warehouse,
        ),
        201,
    )


def _state(client: TestClient, factory: sessionmaker[Session], w: Warehouse) -> Any:
    with system_unit_of_work(factory) as session:
        counts = tuple(
            session.scalar(select(func.count()).select_from(model))
            for model in (StockMovement, EpcisEvent, WorkOrderComponent)
        )
        statuses = sorted(session.scalars(select(WorkOrder.status)))
    return stock(client, w), counts, statuses


def _refused(
    client: TestClient,
    factory: sessionmaker[Session],
    w: Warehouse,
    path: str,
    body: dict[str, Any],
    status: int,
    code: str,
) -> dict[str, Any]:
    before = _state(client, factory, w)
    response = client.post(path, json=body, headers=w.warehouse)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == code
    assert _state(client, factory, w) == before
    return dict(problem)


def test_work_order_consumes_components_fefo_and_produces_the_finished_lot(
    client: TestClient, factory: sessionmaker[Session], w: Warehouse
) -> None:
    soon, later = date.today() + timedelta(days=100), date.today() + timedelta(days=300)
    _stock_in(client, w, CATHETER, "C-LATE", 20, later)
    _stock_in(client, w, CATHETER, "C-SOON", 4, soon)
    _stock_in(client, w, VALVE, "V-1", 30, later)
    order = _plan(client, w)
    assert order["status"] == "planned" and order["number"] == "WO-00001"
    assert order["bom_version"] == 1
    needs = _ok(client.get(f"/api/v1/work-orders/{order['id']}/requirements", headers=w.admin))
    assert [(n["gtin"], n["required"], n["available"]) for n in needs] == [
        (CATHETER, 10, 10),
        (VALVE, 20, 20),
    ]
    started = _ok(
        client.post(
            f"/api/v1/work-orders/{order['id']}/start",
            json={"operators": ["Li Wei"]},
            headers=w.warehouse,
        )
    )
    assert started["status"] == "in_progress" and started["started_at"]
    done = _ok(
        client.post(f"/api/v1/work-orders/{order['id']}/completion", json={}, headers=w.warehouse)
    )
    assert done["status"] == "completed"
    # First expiry first out: the 4 of C-SOON, then 6 of C-LATE; 20 valves of V-1
    assert [(c["gtin"], c["lot"], c["quantity"]) for c in done["components"]] == [
        (CATHETER, "C-SOON", 4),
        (CATHETER, "C-LATE", 6),
        (VALVE, "V-1", 20),
    ]
    assert done["components"][0]["expiry"] == soon.isoformat()
    assert "Li Wei" in done["operators"] and len(done["operators"]) == 2
    # Stock moved through the projection: components consumed, finished lot in quarantine
    assert stock(client, w) == [
        ("A1", "F-1", "", "quarantine", 10),
        ("A1", "C-LATE", "", "released", 14),
        ("A1", "V-1", "", "released", 10),
    ]
    with system_unit_of_work(factory) as session:
        report = verify(session, w.network.tenant_id)
        kinds = sorted(
            session.scalars(
                select(StockMovement.kind).where(
                    StockMovement.epcis_event_row_id
                    == select(EpcisEvent.id)
                    .where(EpcisEvent.event_id == done["event_id"])
                    .scalar_subquery()
                )
            )
        )
    assert report.ok, (report.balance_differences, report.ledger_differences)
    assert kinds == ["consume", "consume", "consume", "produce"]
    # The ledger holds one TransformationEvent: components in, finished lot out
    events = _ok(
        client.get(
            "/epcis/events",
            params={
                "MATCH_anyEPCClass": f"https://id.gs1.org/01/{FINISHED}/10/F-1",
                "eventType": "TransformationEvent",
            },
            headers=w.admin,
        )
    )["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert [e["type"] for e in events] == ["TransformationEvent"]
    assert sorted(q["epcClass"].rsplit("/", 1)[1] for q in events[0]["inputQuantityList"]) == [
        "C-LATE",
        "C-SOON",
        "V-1",
    ]
    # The trace of the finished lot, upstream, reaches every component lot
    report_up = _ok(
        client.get(
            "/api/v1/trace",
            params={"id": f"(01){FINISHED}(10)F-1", "direction": "upstream"},
            headers=w.admin,
        )
    )
    text = str(report_up)
    for lot in ("C-SOON", "C-LATE", "V-1"):
        assert f"/10/{lot}" in text
    # Device history record of the finished lot
    dhr = _ok(
        client.get("/api/v1/device-history", params={"gtin": FINISHED, "lot": "F-1"}, headers=w.qa)
    )
    assert [o["number"] for o in dhr["work_orders"]] == ["WO-00001"]
    assert dhr["work_orders"][0]["completed_at"] and dhr["work_orders"][0]["completed_by"]
    assert len(dhr["work_orders"][0]["components"]) == 3


def test_operator_chosen_component_lots(
    client: TestClient, factory: sessionmaker[Session], w: Warehouse
) -> None:
    later = date.today() + timedelta(days=300)
    _stock_in(client, w, CATHETER, "C-1", 5, later)
    _stock_in(client, w, CATHETER, "C-2", 5, later)
    _stock_in(client, w, VALVE, "V-1", 10, later)
    order = _plan(client, w, quantity=2)
    _ok(client.post(f"/api/v1/work-orders/{order['id']}/start", json={}, headers=w.warehouse))
    chosen = [
        {"gtin": CATHETER, "lot": "C-2", "quantity": 2},
        {"gtin": VALVE, "lot": "V-1", "quantity": 4},
    ]
    done = _ok(
        client.post(
            f"/api/v1/work-orders/{order['id']}/completion",
            json={"components": chosen},
            headers=w.warehouse,
        )
    )
    assert [(c["lot"], c["quantity"]) for c in done["components"]] == [("C-2", 2), ("V-1", 4)]
    assert ("A1", "C-2", "", "released", 3) in stock(client, w)


def test_refusals_change_nothing(
    client: TestClient, factory: sessionmaker[Session], w: Warehouse
) -> None:
    later = date.today() + timedelta(days=300)
    _stock_in(client, w, CATHETER, "C-1", 10, later)
    _stock_in(client, w, VALVE, "V-1", 10, later)
    # Not enough valves (20 needed) to start
    order = _plan(client, w)
    problem = _refused(
        client,
        factory,
        w,
        f"/api/v1/work-orders/{order['id']}/start",
        {},
        409,
        "production.insufficient_components",
    )
    assert problem["errors"][0]["field"] == "components.1"
    assert problem["errors"][0]["message"] == (
        f"Only 10 of component {VALVE} can be consumed at the production location "
        "(released, unexpired, unrecalled); 20 needed."
    )
    # A smaller order starts; then the catheter lot goes on hold: completion is refused
    small = _plan(client, w, quantity=5, lot="F-2")
    _ok(client.post(f"/api/v1/work-orders/{small['id']}/start", json={}, headers=w.warehouse))
    _ok(
        client.post(
            "/api/v1/inventory/status-changes",
            json={"action": "hold", "gtin": CATHETER, "lot": "C-1", "reason": "NCR"},
            headers=w.warehouse,
        )
    )
    _refused(
        client,
        factory,
        w,
        f"/api/v1/work-orders/{small['id']}/completion",
        {},
        409,
        "production.insufficient_components",
    )
    # Naming the held lot explicitly: the stock projection refuses it (not released)
    _refused(
        client,
        factory,
        w,
        f"/api/v1/work-orders/{small['id']}/completion",
        {
            "components": [
                {"gtin": CATHETER, "lot": "C-1", "quantity": 5},
                {"gtin": VALVE, "lot": "V-1", "quantity": 10},
            ]
        },
        409,
        "inventory.stock_not_released",
    )
    # A quarantined component lot is refused the same way
    _ok(
        client.post(
            "/api/v1/inventory/receipts",
            json={
                "location_id": w.ambient,
                "lines": [{"gtin": CATHETER, "lot": "C-Q", "quantity": 5}],
            },
            headers=w.warehouse,
        ),
        201,
    )
    _refused(
        client,
        factory,
        w,
        f"/api/v1/work-orders/{small['id']}/completion",
        {
            "components": [
                {"gtin": CATHETER, "lot": "C-Q", "quantity": 5},
                {"gtin": VALVE, "lot": "V-1", "quantity": 10},
            ]
        },
        409,
        "inventory.stock_not_released",
    )
    # More than the stock of an (released) lot: insufficient stock
    _refused(
        client,
        factory,
        w,
        f"/api/v1/work-orders/{small['id']}/completion",
        {
            "components": [
                {"gtin": CATHETER, "lot": "C-NONE", "quantity": 5},
                {"gtin": VALVE, "lot": "V-1", "quantity": 10},
            ]
        },
        409,
        "inventory.insufficient_stock",
    )
    # A component outside the BOM, or the wrong quantity
    _refused(
        client,
        factory,
        w,
        f"/api/v1/work-orders/{small['id']}/completion",
        {"components": [{"gtin": FINISHED, "lot": "X", "quantity": 5}]},
        422,
        "production.component_not_in_bom",
    )
    _refused(
        client,
        factory,
        w,
        f"/api/v1/work-orders/{small['id']}/completion",
        {
            "components": [
                {"gtin": CATHETER, "lot": "C-1", "quantity": 4},
                {"gtin": VALVE, "lot": "V-1", "quantity": 10},
            ]
        },
        422,
        "production.component_quantity",
    )
    # Completing a planned order, or planning without a lot
    _refused(
        client,
        factory,
        w,
        f"/api/v1/work-orders/{order['id']}/completion",
        {},
        409,
        "production.wrong_state",
    )
    _refused(
        client,
        factory,
        w,
        "/api/v1/work-orders",
        {"gtin": FINISHED, "location_id": w.ambient, "quantity": 1},
        422,
        "production.output_identifier",
    )
    _refused(
        client,
        factory,
        w,
        "/api/v1/work-orders",
        {"gtin": CATHETER, "location_id": w.ambient, "quantity": 1, "lot": "X"},
        409,
        "production.no_active_bom",
    )
    # Partners see no work orders
    assert client.get(f"/api/v1/work-orders/{order['id']}", headers=w.supplier).status_code in (
        403,
        404,
    )


def test_serialised_output(
    client: TestClient, factory: sessionmaker[Session], w: Warehouse
) -> None:
    later = date.today() + timedelta(days=300)
    _stock_in(client, w, CATHETER, "C-1", 5, later)
    _stock_in(client, w, VALVE, "V-1", 10, later)
    order = _ok(
        client.post(
            "/api/v1/work-orders",
            json={
                "gtin": FINISHED,
                "location_id": w.ambient,
                "quantity": 2,
                "lot": "F-S",
                "serials": ["S-1", "S-2"],
            },
            headers=w.warehouse,
        ),
        201,
    )
    _ok(client.post(f"/api/v1/work-orders/{order['id']}/start", json={}, headers=w.warehouse))
    _ok(client.post(f"/api/v1/work-orders/{order['id']}/completion", json={}, headers=w.warehouse))
    rows = [r for r in stock(client, w) if r[1] in ("", "F-S")]
    assert ("A1", "", "", "quarantine", 1) in rows
    with system_unit_of_work(factory) as session:
        report = verify(session, w.network.tenant_id)
    assert report.ok


def test_cli_lists_work_orders_and_prints_the_device_history_record(
    client: TestClient,
    factory: sessionmaker[Session],
    w: Warehouse,
    engine: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import json

    from typer.testing import CliRunner

    from medledger.cli import app as cli
    from medledger.core.config import get_settings

    later = date.today() + timedelta(days=300)
    _stock_in(client, w, CATHETER, "C-1", 5, later)
    _stock_in(client, w, VALVE, "V-1", 10, later)
    order = _plan(client, w, quantity=5, lot="F-CLI")
    _ok(client.post(f"/api/v1/work-orders/{order['id']}/start", json={}, headers=w.warehouse))
    _ok(client.post(f"/api/v1/work-orders/{order['id']}/completion", json={}, headers=w.warehouse))
    monkeypatch.setenv("MEDLEDGER_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    runner = CliRunner()
    listed = runner.invoke(cli, ["production", "work-orders", "--tenant", "pr"])
    assert listed.exit_code == 0, listed.output
    assert [json.loads(line)["number"] for line in listed.output.splitlines()] == ["WO-00001"]
    dhr = runner.invoke(cli, ["production", "dhr", FINISHED, "F-CLI", "--tenant", "pr"])
    assert dhr.exit_code == 0, dhr.output
    record = json.loads(dhr.output)
    assert [(c["lot"], c["quantity"]) for c in record["work_orders"][0]["components"]] == [
        ("C-1", 5),
        ("V-1", 10),
    ]
    missing = runner.invoke(cli, ["production", "dhr", FINISHED, "NOPE", "--tenant", "pr"])
    assert missing.exit_code == 1
    get_settings.cache_clear()


@pytest.mark.skipif(
    __import__("os").environ.get("MEDLEDGER_TEST_DATABASE", "sqlite") != "postgres",
    reason="concurrent writers are a PostgreSQL matter; SQLite has a single writer",
)
def test_a_work_order_is_completed_once_under_concurrent_requests(
    client: TestClient, factory: sessionmaker[Session], w: Warehouse
) -> None:
    import threading
    from collections import Counter

    later = date.today() + timedelta(days=300)
    # Stock for two completions, so only the work order's state can refuse the second
    _stock_in(client, w, CATHETER, "C-1", 10, later)
    _stock_in(client, w, VALVE, "V-1", 20, later)
    order = _plan(client, w, quantity=5)
    _ok(client.post(f"/api/v1/work-orders/{order['id']}/start", json={}, headers=w.warehouse))
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(4)

    def complete() -> None:
        start.wait()
        result = client.post(
            f"/api/v1/work-orders/{order['id']}/completion", json={}, headers=w.warehouse
        )
        key = str(result.status_code)
        if result.status_code != 200:
            key += " " + result.json().get("code", "")
        with lock:
            outcomes[key] += 1

    threads = [threading.Thread(target=complete) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == Counter({"200": 1, "409 production.wrong_state": 3})
    assert ("A1", "C-1", "", "released", 5) in stock(client, w)
    assert ("A1", "F-1", "", "quarantine", 5) in stock(client, w)
