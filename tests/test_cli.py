"""The `medledger` command: help on every level, user creation, database upgrade."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from medledger.cli import app
from medledger.core.config import get_settings
from medledger.core.security import verify_password
from medledger.core.system import system_unit_of_work
from medledger.parties.models import User
from tests.builders import build_network, gln

runner = CliRunner()


@pytest.fixture
def configured(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("MEDLEDGER_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield engine
    get_settings.cache_clear()


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["db"],
        ["seed"],
        ["user"],
        ["audit"],
        ["gs1"],
        ["user", "create"],
        ["audit", "verify"],
        ["serve"],
        ["demo"],
        ["trace"],
    ],
)
def test_help_on_every_level(args: list[str]) -> None:
    result = runner.invoke(app, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_user_create_with_password_from_stdin(
    configured: Engine, factory: sessionmaker[Session]
) -> None:
    net = build_network(factory)
    result = runner.invoke(
        app,
        [
            "user",
            "create",
            "li.na",
            "--role",
            "partner_user",
            "--party",
            gln(2),
            "--display-name",
            "Li Na",
            "--locale",
            "zh_Hans",
            "--time-zone",
            "Asia/Shanghai",
            "--password-stdin",
        ],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    with system_unit_of_work(factory) as session:
        user = session.scalar(select(User).where(User.username == "li.na"))
        assert user is not None
        assert (user.party_id, user.role, user.locale, user.time_zone) == (
            net.distributor_id,
            "partner_user",
            "zh_Hans",
            "Asia/Shanghai",
        )
        assert verify_password(user.password_hash, "a long enough password")


def test_user_create_defaults_to_the_hub_and_reports_bad_input(
    configured: Engine, factory: sessionmaker[Session]
) -> None:
    net = build_network(factory)
    ok = runner.invoke(
        app,
        ["user", "create", "planner2", "--role", "planner", "--password-stdin"],
        input="a long enough password\n",
    )
    assert ok.exit_code == 0, ok.output
    with system_unit_of_work(factory) as session:
        assert (
            session.scalar(select(User.party_id).where(User.username == "planner2")) == net.hub_id
        )
    short = runner.invoke(
        app, ["user", "create", "xx2", "--role", "planner", "--password-stdin"], input="short\n"
    )
    assert short.exit_code == 2
    assert "string_too_short: password" in short.output
    unknown = runner.invoke(
        app,
        ["user", "create", "xx3", "--role", "sales", "--party", gln(99), "--password-stdin"],
        input="a long enough password\n",
    )
    assert unknown.exit_code == 2
    assert f"party.unknown: no party with GLN {gln(99)}" in unknown.output
    internal = runner.invoke(
        app,
        ["user", "create", "xx4", "--role", "sales", "--party", gln(2), "--password-stdin"],
        input="a long enough password\n",
    )
    assert internal.exit_code == 2
    assert "role.internal_only" in internal.output


def test_db_upgrade_is_idempotent(configured: Engine) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "database at head"
