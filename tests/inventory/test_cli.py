"""``medledger inventory verify``: OK when stock agrees with its movements and the ledger,
exit 1 naming the difference when a balance was tampered with."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from medledger.cli import app as cli
from medledger.core.system import system_unit_of_work
from medledger.inventory.models import StockBalance
from tests.inventory.builders import AMBIENT_GTIN, Warehouse, build_warehouse


@pytest.fixture
def w(
    client: TestClient,
    factory: sessionmaker[Session],
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Warehouse]:
    from medledger.core.config import get_settings

    warehouse = build_warehouse(client, factory, "cli")
    response = client.post(
        "/api/v1/inventory/receipts",
        json={
            "location_id": warehouse.dock,
            "lines": [{"gtin": AMBIENT_GTIN, "lot": "V", "quantity": 9}],
        },
        headers=warehouse.warehouse,
    )
    assert response.status_code == 201, response.text
    monkeypatch.setenv("MEDLEDGER_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield warehouse
    get_settings.cache_clear()


def test_verify_passes_then_names_a_tampered_balance(
    w: Warehouse, factory: sessionmaker[Session]
) -> None:
    result = CliRunner().invoke(cli, ["inventory", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "1 balances, 1 movements, 1 ledger events replayed",
        "stock OK: balances = replay of movements = replay of the ledger",
    ]
    with system_unit_of_work(factory) as session:
        session.execute(update(StockBalance).values(quantity=8))
    result = CliRunner().invoke(cli, ["inventory", "verify"])
    assert result.exit_code == 1
    assert (
        f"balance ({w.dock}, '', '{AMBIENT_GTIN}', 'V', '', 'quarantine'): movements say 9, "
        "balance is 8"
    ) in result.output


def test_stock_lists_json_lines(w: Warehouse) -> None:
    result = CliRunner().invoke(cli, ["inventory", "stock", "--lot", "V"])
    assert result.exit_code == 0, result.output
    assert '"quantity": 9' in result.output and '"status": "quarantine"' in result.output
