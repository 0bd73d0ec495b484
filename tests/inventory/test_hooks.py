"""The stock-change hook: a registered handler sees every movement written, in the same
transaction, whether the stock moved through this API or through a captured EPCIS event; a
handler that fails rolls the stock change back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.system import system_unit_of_work
from medledger.inventory import hooks
from medledger.inventory.models import StockMovement
from tests.inventory.builders import AMBIENT_GTIN, Warehouse, build_warehouse, release_lot


class Recorder:
    name = "tests.recorder"

    def __init__(self, fail_on: str | None = None) -> None:
        self.seen: list[tuple[str, str | None, str | None, str | None, int, str]] = []
        self.fail_on = fail_on

    def apply(self, change: hooks.StockChange) -> None:
        # The movements are flushed: visible to a query in the same transaction.
        count = change.session.scalar(select(func.count()).select_from(StockMovement))
        assert count is not None and count >= len(change.movements)
        for m in change.movements:
            self.seen.append((m.kind, m.lot, m.from_status, m.to_status, m.quantity, change.reason))
            if self.fail_on == m.kind:
                raise RuntimeError("handler refused")


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    handler = Recorder()
    hooks.register_stock_change_handler(handler)
    yield handler
    hooks._handlers.pop(handler.name, None)


@pytest.fixture
def w(client: TestClient, factory: sessionmaker[Session]) -> Warehouse:
    return build_warehouse(client, factory, "hk")


def _post(client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    response = client.post(path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_handler_sees_receipt_and_status_change(
    client: TestClient, w: Warehouse, recorder: Recorder
) -> None:
    _post(
        client,
        "/api/v1/inventory/receipts",
        {"location_id": w.dock, "lines": [{"gtin": AMBIENT_GTIN, "lot": "H1", "quantity": 3}]},
        w.warehouse,
    )
    release = release_lot(client, w, AMBIENT_GTIN, "H1")
    assert recorder.seen == [
        ("receipt", "H1", None, "quarantine", 3, ""),
        ("status_change", "H1", "quarantine", "released", 3, f"{release['number']} released"),
    ]


def test_a_failing_handler_rolls_the_change_back(
    client: TestClient, factory: sessionmaker[Session], w: Warehouse, recorder: Recorder
) -> None:
    _post(
        client,
        "/api/v1/inventory/receipts",
        {"location_id": w.dock, "lines": [{"gtin": AMBIENT_GTIN, "lot": "H2", "quantity": 2}]},
        w.warehouse,
    )
    recorder.fail_on = "status_change"
    with pytest.raises(RuntimeError, match="handler refused"):
        client.post(
            "/api/v1/inventory/status-changes",
            json={"action": "reject", "gtin": AMBIENT_GTIN, "lot": "H2", "reason": "check"},
            headers=w.qa,
        )
    with system_unit_of_work(factory) as session:
        kinds = sorted(session.scalars(select(StockMovement.kind)))
    assert kinds == ["receipt"]
