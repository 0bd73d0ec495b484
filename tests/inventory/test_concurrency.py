"""No oversell under concurrent requests on PostgreSQL: competing picks of one hot lot in
parallel threads, and the conditional decrement itself between two open transactions."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.db import set_tenant_guc
from medledger.core.system import system_unit_of_work
from medledger.inventory import repository as repo
from medledger.inventory.models import StockBalance
from medledger.inventory.plan import ItemKey
from medledger.inventory.verify import verify
from tests.conftest import BACKEND
from tests.inventory.builders import AMBIENT_GTIN, build_warehouse, release_lot, stock

pytestmark = pytest.mark.skipif(
    BACKEND != "postgres",
    reason="concurrent writers are a PostgreSQL matter; SQLite has a single writer",
)

WORKERS = 16
ATTEMPTS = 5
STOCK = 50


def test_parallel_picks_of_one_hot_lot_never_oversell(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    # Given 50 released units of one lot in storage
    w = build_warehouse(client, factory, "hot")
    response = client.post(
        "/api/v1/inventory/receipts",
        json={
            "location_id": w.dock,
            "lines": [{"gtin": AMBIENT_GTIN, "lot": "HOT", "quantity": STOCK}],
        },
        headers=w.warehouse,
    )
    assert response.status_code == 201, response.text
    release_lot(client, w, AMBIENT_GTIN, "HOT")
    response = client.post(
        "/api/v1/inventory/put-aways",
        json={
            "from_location_id": w.dock,
            "to_location_id": w.ambient,
            "lines": [{"gtin": AMBIENT_GTIN, "lot": "HOT", "quantity": STOCK}],
        },
        headers=w.warehouse,
    )
    assert response.status_code == 201, response.text
    # When 16 threads each try to pick 5 × 1 unit at once (80 picks for 50 units)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(WORKERS)
    body = {
        "from_location_id": w.ambient,
        "to_location_id": w.shipping,
        "lines": [{"gtin": AMBIENT_GTIN, "lot": "HOT", "quantity": 1}],
    }

    def picker() -> None:
        start.wait()
        for _ in range(ATTEMPTS):
            result = client.post("/api/v1/inventory/picks", json=body, headers=w.warehouse)
            key = str(result.status_code)
            if result.status_code != 201:
                key += " " + result.json().get("code", "")
            with lock:
                outcomes[key] += 1

    threads = [threading.Thread(target=picker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then exactly 50 succeeded, 30 were refused for lack of stock, nothing oversold
    assert outcomes == Counter({"201": STOCK, "409 inventory.insufficient_stock": 30})
    assert stock(client, w) == [("SHIP", "HOT", "", "released", STOCK)]
    with system_unit_of_work(factory) as session:
        report = verify(session, w.network.tenant_id)
    assert report.ok, report


def test_the_conditional_decrement_sees_a_concurrent_take(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    # Given 5 units in one balance
    w = build_warehouse(client, factory, "cd")
    response = client.post(
        "/api/v1/inventory/receipts",
        json={"location_id": w.dock, "lines": [{"gtin": AMBIENT_GTIN, "lot": "C", "quantity": 5}]},
        headers=w.warehouse,
    )
    assert response.status_code == 201, response.text
    tenant = w.network.tenant_id
    item = ItemKey(AMBIENT_GTIN, "C")
    first, second = factory(), factory()
    try:
        for session in (first, second):
            set_tenant_guc(session, tenant)
        # Both transactions read 5 available
        for session in (first, second):
            held = repo.balances_at(session, tenant, w.dock, "", item)
            assert held == {"quarantine": 5}
        # The first takes 4 and commits while the second waits to take 4 too
        assert repo.take(first, tenant, w.dock, "", item, "quarantine", 4)
        result: list[bool] = []
        waiter = threading.Thread(
            target=lambda: result.append(
                repo.take(second, tenant, w.dock, "", item, "quarantine", 4)
            )
        )
        waiter.start()
        first.commit()
        waiter.join()
        # Then the second's conditional update matches no row: it changed nothing
        assert result == [False]
        second.commit()
    finally:
        first.close()
        second.close()
    with system_unit_of_work(factory) as session:
        quantities = session.scalars(select(StockBalance.quantity)).all()
    assert quantities == [1]
