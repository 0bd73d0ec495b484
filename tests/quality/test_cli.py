"""``medledger quality``: workflow tables, open records, signature verification."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from medledger.cli import app
from medledger.core.config import get_settings
from tests.builders import build_network
from tests.quality.builders import Api, ncr_ready_for_approval

runner = CliRunner()


@pytest.fixture
def configured(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("MEDLEDGER_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield engine
    get_settings.cache_clear()


def test_workflows_prints_the_transition_tables() -> None:
    result = runner.invoke(app, ["quality", "workflows"])
    assert result.exit_code == 0, result.output
    line = next(ln for ln in result.output.splitlines() if "approve_disposition" in ln)
    assert line.split() == [
        "disposition_proposed",
        "approve_disposition",
        "->",
        "dispositioned",
        "quality:approve",
        "signature=approved,",
        "not",
        "by",
        "the",
        "author",
    ]


def test_signatures_are_verified_against_the_current_record(
    configured: Engine, client: TestClient, factory: sessionmaker[Session]
) -> None:
    network = build_network(factory)
    ncr = ncr_ready_for_approval(Api(client), network.supplier_id)
    result = runner.invoke(app, ["quality", "signatures", "ncr", str(ncr["id"])])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["all_match"] is True
    assert [s["meaning"] for s in report["signatures"]] == ["reviewed"]
    opened = runner.invoke(app, ["quality", "open"])
    assert opened.exit_code == 0
    assert ncr["number"] in opened.output and "disposition_proposed" in opened.output
    # When the signed content is changed behind the application's back
    with configured.begin() as conn:
        conn.execute(text("UPDATE quality_ncrs SET disposition_rationale = 'edited'"))
    # Then the signature no longer matches and the command fails
    result = runner.invoke(app, ["quality", "signatures", "ncr", str(ncr["id"])])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["all_match"] is False
    assert report["signatures"][0]["intact"] is True
    missing = runner.invoke(app, ["quality", "signatures", "ncr", "999"])
    assert missing.exit_code == 1
