"""``medledger import edi|csv|inbox|replay``: the samples from the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from medledger.cli import app as cli
from medledger.core.system import system_unit_of_work
from medledger.orders.models import Order
from tests.orders.builders import OrderWorld, build_order_world

VECTORS = Path(__file__).parent.parent / "vectors" / "edi"


@pytest.fixture
def world(
    factory: sessionmaker[Session], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[OrderWorld]:
    from medledger.core.config import get_settings

    built = build_order_world(factory)
    monkeypatch.setenv("MEDLEDGER_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield built
    get_settings.cache_clear()


def test_import_edi_files_and_replay_a_corrected_one(
    world: OrderWorld, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    runner = CliRunner()
    accepted = runner.invoke(cli, ["import", "edi", str(VECTORS / "edinet" / "x12.850.edi")])
    assert accepted.exit_code == 0, accepted.output
    [row] = json.loads(accepted.output)
    assert (row["channel"], row["document_reference"], row["status"]) == (
        "x12",
        "1000012",
        "accepted",
    )
    bad = tmp_path / "bad.edi"
    bad.write_text(
        (VECTORS / "pydifact" / "order.edi")
        .read_text()
        .replace("QTY+21:8'\nRFF+PD:99'\nLIN+2", "QTY+21:0'\nRFF+PD:99'\nLIN+2")
    )
    failed = runner.invoke(cli, ["import", "edi", str(bad)])
    assert failed.exit_code == 3
    [row] = json.loads(failed.output)
    assert [(e["field"], e["code"]) for e in row["errors"]] == [
        ("segment 10 QTY", "quantity.invalid")
    ]
    listed = json.loads(runner.invoke(cli, ["import", "inbox"]).output)
    assert [r["id"] for r in listed] == [row["id"]]
    fixed = tmp_path / "fixed.edi"
    with system_unit_of_work(factory) as session:
        from medledger.orders.models import InboundMessage

        message = session.get(InboundMessage, row["id"])
        assert message is not None
        fixed.write_text(message.content.replace("QTY+21:0'", "QTY+21:8'"))
    replayed = runner.invoke(
        cli, ["import", "replay", str(row["id"]), "--corrected", str(fixed), "--reason", "qty 0"]
    )
    assert replayed.exit_code == 0, replayed.output
    assert json.loads(replayed.output)[0]["status"] == "accepted"
    with system_unit_of_work(factory) as session:
        assert sorted(session.scalars(select(Order.channel))) == ["edifact", "x12"]
    missing = runner.invoke(cli, ["import", "replay", "999"])
    assert missing.exit_code == 1 and "not_found" in missing.output


def test_score_rescores_every_open_line_and_plans(
    world: OrderWorld, factory: sessionmaker[Session]
) -> None:
    from medledger.orders.planning_models import LineScore, LineShortfall

    runner = CliRunner()
    imported = runner.invoke(cli, ["import", "edi", str(VECTORS / "pydifact" / "order.edi")])
    assert imported.exit_code == 0, imported.output
    with system_unit_of_work(factory) as session:
        session.execute(LineScore.__table__.delete())  # type: ignore[attr-defined]
    scored = runner.invoke(cli, ["score", "--plan"])
    assert scored.exit_code == 0, scored.output
    report = json.loads(scored.output)
    assert (report["rule_set"], report["lines"]) == ("default v1", 2)
    assert report["plan"]["lines"] == 2
    with system_unit_of_work(factory) as session:
        assert len(session.scalars(select(LineScore)).all()) == 2
        # no market authorisation for the EU: both lines short, the order in "compliance"
        reasons = {tuple(s.reasons) for s in session.scalars(select(LineShortfall))}
        assert reasons == {("not_authorized_in_region",)}
        assert session.scalars(select(Order.board_state)).one() == "compliance"
