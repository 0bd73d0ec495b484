"""The ``medledger`` command."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated, Any

import typer
from sqlalchemy.engine import Engine

from medledger.core.config import get_settings
from medledger.core.work import work_of

app = typer.Typer(
    help="MedLedger: the shared ledger of the medical-device supply chain.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
seed_app = typer.Typer(help="Load data.", no_args_is_help=True)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(seed_app, name="seed")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")


@app.callback()
def _load_models() -> None:
    """Every table and visibility rule registered before any command runs: the commands of the
    packages (``inventory``, ``orders``, ``quality``, ``outbox``, …) rely on it, since no package
    imports this composition root or ``medledger.models`` (tests/test_import_graph.py)."""
    from medledger.models import load_all_models

    load_all_models()


def _register_capabilities() -> None:
    from medledger.identifiers.cli import app as gs1_app

    app.add_typer(gs1_app, name="gs1", help="GS1 identifiers: parse scans, URIs and URNs.")
    from medledger.inventory.cli import app as inventory_app

    app.add_typer(inventory_app, name="inventory")
    from medledger.production.cli import app as production_app

    app.add_typer(production_app, name="production")
    from medledger.trace.cli import trace_command

    app.command("trace")(trace_command)
    from medledger.integration.cli import outbox_app, worker_command

    app.command("worker")(worker_command)
    app.add_typer(outbox_app, name="outbox")
    from medledger.integration.edi.cli import edi_app, keys_app

    app.add_typer(edi_app, name="edi")
    app.add_typer(keys_app, name="api-key")
    from medledger.integration.imports.cli import import_data
    from medledger.orders.cli import app as import_app
    from medledger.orders.cli import plan_command, score_command

    app.command("score")(score_command)
    app.command("plan")(plan_command)

    import_app.command("data")(import_data)
    app.add_typer(import_app, name="import")
    from medledger.priority.cli import allocate_command

    app.command("allocate")(allocate_command)
    from medledger.quality.cli import app as quality_app

    app.add_typer(quality_app, name="quality")
    from medledger.recall.cli import app as recall_app

    app.add_typer(recall_app, name="recall")


_register_capabilities()


def _engine() -> Engine:
    from medledger.core.db import engine_from_settings
    from medledger.models import load_all_models

    load_all_models()

    settings = get_settings()
    return engine_from_settings(settings)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Apply migrations to the configured database (MEDLEDGER_DATABASE_URL)."""
    from medledger.core.migrate import upgrade

    upgrade(_engine(), revision)
    typer.echo(f"database at {revision}")


@seed_app.command("demo")
def seed_demo(
    force: Annotated[
        bool, typer.Option(help="Seed even if the database already has tenants.")
    ] = False,
) -> None:
    """Load the deterministic demo network (skipped when the database is not empty)."""
    from medledger.core.db import make_session_factory
    from medledger.seed.demo import DEMO_PASSWORD, database_is_empty, seed_demo_network

    factory = make_session_factory(_engine())
    if not force and not database_is_empty(factory):
        typer.echo("database already has data; demo seed skipped")
        return
    from medledger.core.errors import DomainError

    try:
        logins = seed_demo_network(factory)
    except DomainError as exc:
        typer.echo(f"{exc.code}: {exc.render_english()}", err=True)
        raise typer.Exit(2) from None
    from sqlalchemy import func, select

    from medledger.trace.models import EpcisEvent

    with factory() as session:
        events = session.scalar(select(func.count()).select_from(EpcisEvent)) or 0
    typer.echo(f"demo network loaded with {events} EPCIS events of history (2025)")
    typer.echo(f"every demo user's password is {DEMO_PASSWORD!r}:")
    for username, role, party in logins:
        typer.echo(f"  {username:<22} {role:<13} {party}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the web UI and the API."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "medledger.web.asgi:app",
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        proxy_headers=False,
    )


@app.command()
def demo(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Upgrade the database, seed the demo network if it is empty, and serve."""
    db_upgrade("head")
    seed_demo(force=False)
    settings = get_settings()
    typer.echo(f"MedLedger on http://{host or settings.host}:{port or settings.port}")
    serve(host=host, port=port, workers=1)


@app.command("init")
def init(
    hub_name: Annotated[str, typer.Option(help="Name of the hub party (the device maker).")],
    hub_gln: Annotated[str, typer.Option(help="GLN of the hub party (13 digits).")],
    admin: Annotated[str, typer.Option(help="Username of the first admin.")],
    country: Annotated[str, typer.Option(help="Hub country (ISO 3166 alpha-2).")] = "US",
    region: Annotated[str, typer.Option(help="Hub market region (US, EU, CN, …).")] = "US",
    time_zone: Annotated[str, typer.Option(help="IANA time zone of the hub.")] = "UTC",
    network_name: Annotated[
        str | None, typer.Option(help="Name of the network (default: the hub's name).")
    ] = None,
    slug: Annotated[str, typer.Option(help="Short name of the network.")] = "main",
    display_name: Annotated[str | None, typer.Option(help="Admin's full name.")] = None,
    email: Annotated[str, typer.Option(help="Admin's e-mail address.")] = "",
    locale: Annotated[str | None, typer.Option(help="Admin's language: en or zh_Hans.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the admin's password from stdin.")
    ] = False,
) -> None:
    """Start a real installation: migrate the database, create the network, its hub party and
    its first admin (once; a second run is refused)."""
    from pydantic import ValidationError

    from medledger.core.db import make_session_factory
    from medledger.core.errors import DomainError
    from medledger.core.migrate import upgrade
    from medledger.core.principal import Role
    from medledger.core.system import system_unit_of_work
    from medledger.parties.models import PartyRole
    from medledger.parties.schemas import PartyIn, UserIn
    from medledger.parties.service import initialise_installation

    password = _read_password(password_stdin)
    engine = _engine()
    try:
        hub = PartyIn(
            name=hub_name,
            gln=hub_gln,
            roles=[PartyRole.MANUFACTURER],
            country=country,
            region=region,
            time_zone=time_zone,
        )
        first_admin = UserIn(
            username=admin,
            display_name=display_name or admin,
            email=email,
            password=password,
            role=Role.ADMIN,
            party_id=None,
            locale=locale,
            time_zone=time_zone,
        )
        upgrade(engine)
        with system_unit_of_work(make_session_factory(engine), label="init") as session:
            tenant, user = initialise_installation(
                session, name=network_name or hub_name, slug=slug, hub=hub, admin=first_admin
            )
            typer.echo(
                f"network {tenant.slug!r} created with hub {hub.name} (GLN {hub.gln}); "
                f"admin {user.username} can log in"
            )
    except ValidationError as exc:
        _echo_validation(exc)
        raise typer.Exit(2) from None
    except DomainError as exc:
        _echo_domain_error(exc)
        raise typer.Exit(2) from None


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != password:
        typer.echo("passwords differ", err=True)
        raise typer.Exit(2)
    return password


def _echo_validation(exc: Any) -> None:
    for error in exc.errors():
        typer.echo(f"{error['type']}: {'.'.join(map(str, error['loc']))}: {error['msg']}", err=True)


def _echo_domain_error(exc: Any) -> None:
    typer.echo(f"{exc.code}: {exc.render_english()}", err=True)
    for field_error in exc.errors:
        typer.echo(f"  {field_error.field}: {field_error.code}", err=True)


@user_app.command("create")
def user_create(
    username: str,
    role: Annotated[
        str,
        typer.Option(
            help="admin, planner, sales, warehouse, purchasing, qa, "
            "qa_approver, partner_user or auditor."
        ),
    ],
    party: Annotated[
        str | None, typer.Option(help="GLN of the user's party (default: the hub).")
    ] = None,
    display_name: Annotated[str | None, typer.Option(help="Full name.")] = None,
    email: Annotated[str, typer.Option(help="E-mail address.")] = "",
    locale: Annotated[str | None, typer.Option(help="en or zh_Hans.")] = None,
    time_zone: Annotated[str, typer.Option(help="IANA time zone.")] = "UTC",
    tenant: Annotated[str | None, typer.Option(help="Tenant slug (default: the first).")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
) -> None:
    """Create a user (prompts for the password unless --password-stdin)."""
    from pydantic import ValidationError
    from sqlalchemy import select

    from medledger.core.db import make_session_factory
    from medledger.core.errors import DomainError
    from medledger.core.system import default_tenant_id, system_unit_of_work, tenant_admin
    from medledger.parties.models import Party
    from medledger.parties.schemas import UserIn
    from medledger.parties.service import create_user

    password = _read_password(password_stdin)
    factory = make_session_factory(_engine())
    try:
        with system_unit_of_work(factory, label="cli") as session:
            tenant_id = default_tenant_id(session, tenant)
            principal = tenant_admin(session, tenant_id, label="cli")
            party_id = None
            if party:
                party_id = session.scalar(
                    select(Party.id).where(Party.tenant_id == tenant_id, Party.gln == party)
                )
                if party_id is None:
                    typer.echo(f"party.unknown: no party with GLN {party}", err=True)
                    raise typer.Exit(2)
            work_of(session).act_as(principal)
            data = UserIn(
                username=username,
                display_name=display_name or username,
                email=email,
                password=password,
                role=role,
                party_id=party_id,
                locale=locale,
                time_zone=time_zone,
            )
            user = create_user(session, principal, data)
            typer.echo(f"user {user.username} created (id {user.id}, role {user.role})")
    except ValidationError as exc:
        _echo_validation(exc)
        raise typer.Exit(2) from None
    except DomainError as exc:
        _echo_domain_error(exc)
        raise typer.Exit(2) from None


@audit_app.command("verify")
def audit_verify(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant (slug).")] = None,
) -> None:
    """Walk each tenant's hash chain; exit 1 naming the first broken entry if any."""
    from sqlalchemy import text

    from medledger.compliance.service import verify_all

    engine = _engine()
    failed = False
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT set_config('app.rls_bypass', 'on', false)"))
        for report in verify_all(connection, tenant):
            if report.ok:
                typer.echo(f"tenant {report.tenant_id}: {report.entries} entries, chain intact")
            else:
                failed = True
                broken = report.broken
                assert broken is not None
                typer.echo(
                    f"tenant {report.tenant_id}: BROKEN at seq {broken.seq}"
                    f" (entry id {broken.entry_id}): {broken.kind}: {broken.detail}",
                    err=True,
                )
    if failed:
        raise typer.Exit(1)


if __name__ == "__main__":  # pragma: no cover
    app()
