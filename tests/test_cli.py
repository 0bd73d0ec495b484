"""The `medledger` command: help on every level, user creation, database upgrade."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from medledger.cli import app
from medledger.compliance.models import AuditEntry
from medledger.core.config import get_settings
from medledger.core.security import verify_password
from medledger.core.system import system_unit_of_work
from medledger.parties.models import Party, Tenant, User
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
        ["init"],
        ["worker"],
        ["outbox"],
        ["outbox", "replay"],
        ["import"],
        ["import", "data"],
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


def _init(*extra: str, password: str = "a long admin password\n") -> Any:
    return runner.invoke(
        app,
        [
            "init",
            "--hub-name",
            "Lumen Medical",
            "--hub-gln",
            gln(1),
            "--admin",
            "root.admin",
            "--country",
            "CN",
            "--region",
            "CN",
            "--time-zone",
            "Asia/Shanghai",
            "--password-stdin",
            *extra,
        ],
        input=password,
    )


def test_init_starts_a_real_installation(
    configured: Engine, factory: sessionmaker[Session]
) -> None:
    # Given an empty database, when the installation is initialised
    result = _init("--locale", "zh_Hans")
    # Then the tenant, its hub and an admin who can log in exist, and each was audited
    assert result.exit_code == 0, result.output
    assert f"hub Lumen Medical (GLN {gln(1)})" in result.output
    with system_unit_of_work(factory) as session:
        tenant = session.scalars(select(Tenant)).one()
        hub = session.get(Party, tenant.owner_party_id)
        user = session.scalars(select(User)).one()
        assert (tenant.slug, tenant.name) == ("main", "Lumen Medical")
        assert hub is not None
        assert (hub.name, hub.gln, hub.roles, hub.country, hub.time_zone) == (
            "Lumen Medical",
            gln(1),
            ["manufacturer"],
            "CN",
            "Asia/Shanghai",
        )
        assert (user.username, user.role, user.party_id, user.locale) == (
            "root.admin",
            "admin",
            hub.id,
            "zh_Hans",
        )
        assert verify_password(user.password_hash, "a long admin password")
        audited = session.execute(
            select(AuditEntry.entity_type, AuditEntry.action).order_by(AuditEntry.seq)
        ).all()
    assert [tuple(row) for row in audited] == [
        ("tenants", "create"),
        ("parties", "create"),
        ("tenants", "update"),
        ("users", "create"),
    ]


def test_init_refuses_a_second_run(configured: Engine, factory: sessionmaker[Session]) -> None:
    assert _init().exit_code == 0
    again = _init()
    assert again.exit_code == 2
    assert "installation.already_initialised" in again.output
    with system_unit_of_work(factory) as session:
        assert session.scalar(select(func.count()).select_from(Tenant)) == 1
        assert session.scalar(select(func.count()).select_from(User)) == 1


@pytest.mark.parametrize(
    ("extra", "password", "code"),
    [
        (["--hub-gln", "4012345000010"], "a long admin password\n", "gs1.bad_check_digit: gln:"),
        ([], "short\n", "string_too_short"),
    ],
)
def test_init_refuses_bad_input_and_writes_nothing(
    configured: Engine,
    factory: sessionmaker[Session],
    extra: list[str],
    password: str,
    code: str,
) -> None:
    result = _init(*extra, password=password)
    assert result.exit_code == 2
    assert code in result.output
    with system_unit_of_work(factory) as session:
        assert session.scalar(select(func.count()).select_from(Tenant)) == 0


def test_user_create_on_an_empty_database_points_to_init(configured: Engine) -> None:
    result = runner.invoke(
        app,
        ["user", "create", "someone", "--role", "admin", "--password-stdin"],
        input="a long enough password\n",
    )
    assert result.exit_code != 0
    assert "medledger init" in result.output
