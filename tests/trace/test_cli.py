"""``medledger trace ID``: the report as JSON or the recall listing as CSV, errors as exit codes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from tests.trace.network import COMPONENT, FINISHED, TraceNetwork, build_trace_network, dl_lot
from typer.testing import CliRunner

from medledger.cli import app as cli


@pytest.fixture
def net(
    factory: sessionmaker[Session], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TraceNetwork]:
    from medledger.core.config import get_settings

    network = build_trace_network(factory)
    monkeypatch.setenv("MEDLEDGER_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield network
    get_settings.cache_clear()


def test_json_report_downstream(net: TraceNetwork) -> None:
    result = CliRunner().invoke(cli, ["trace", dl_lot(COMPONENT, "C1")])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert [lot["lot"] for lot in body["lots"]] == ["F1"]
    assert sorted(s["serial"] for s in body["serials"]) == ["S1", "S2", "S3"]


def test_csv_listing_upstream(net: TraceNetwork) -> None:
    result = CliRunner().invoke(
        cli, ["trace", dl_lot(FINISHED, "F1"), "--direction", "upstream", "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["direction"], r["lot"]) for r in rows] == [
        ("root", "F1"),
        ("upstream", "C1"),
        ("upstream", "C3"),
    ]


def test_unknown_and_malformed_identifiers(net: TraceNetwork) -> None:
    unknown = CliRunner().invoke(cli, ["trace", dl_lot(COMPONENT, "NOPE")])
    assert unknown.exit_code == 1 and "trace.item_not_found" in unknown.output
    malformed = CliRunner().invoke(cli, ["trace", "(01)12345"])
    assert malformed.exit_code == 2
