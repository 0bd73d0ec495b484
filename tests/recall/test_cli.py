"""``medledger recall drill``: a mock recall on a copy of the data (SQLite) or in a rolled-back
transaction (PostgreSQL) reports the scope, time to full scope and trace completeness, and
leaves the real data exactly as it was."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from medledger.cli import app
from medledger.core.config import get_settings
from tests.builders import build_network
from tests.recall.builders import COMPONENT_LOT, FINISHED, build_scenario
from tests.recall.test_refusals_and_scoping import _state

runner = CliRunner()


@pytest.fixture
def configured(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("MEDLEDGER_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield engine
    get_settings.cache_clear()


def test_drill_reports_scope_and_completeness_and_changes_nothing(
    configured: Engine, client: TestClient, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    build_scenario(client, factory)
    before = _state(factory)
    result = runner.invoke(app, ["recall", "drill", COMPONENT_LOT, "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["scope"] == {
        "lots": 2,
        "serials": 0,
        "logistic_units": 2,
        "shipments": 2,
        "consignees": 2,
        "units_distributed": 12,
        "units_held": 38,
        "upstream_items": 0,
        "suppliers": 0,
    }
    # The hospital never received its SSCC: one of two shipments has a receipt; the finished
    # lot was made by a recorded transformation, the component lot's making is not recorded
    assert figures["completeness"] == {
        "shipments": 2,
        "shipments_received": 1,
        "lots": 2,
        "lots_with_origin": 1,
        "score": 0.5,
    }
    assert sorted(gap["kind"] for gap in figures["gaps"]) == [
        "no_commissioning",
        "unreceived_shipment",
    ]
    assert [c["name"] for c in figures["consignees"]] == ["City Hospital", "rc Distribution"]
    assert 0 < figures["seconds_to_full_scope"] <= figures["seconds_total"]
    # and the real data is exactly as it was
    assert _state(factory) == before
    # The text report says the same; a drill of a finished lot sees its component upstream
    text = runner.invoke(app, ["recall", "drill", f"(01){FINISHED}(10)F-1"])
    assert text.exit_code == 0, text.output
    assert "upstream context     1 items, 0 suppliers" in text.output
    assert "consignees           2 (12 units)" in text.output
    assert "time to full scope" in text.output
    assert _state(factory) == before


def test_drill_of_an_unknown_lot_fails_with_the_trace_code(
    configured: Engine, factory: sessionmaker[Session]
) -> None:
    build_network(factory, "rc")
    result = runner.invoke(app, ["recall", "drill", "(01)04098760005034(10)NOPE"])
    assert result.exit_code == 1
    assert "trace.item_not_found" in result.output
