"""The ``medledger`` command."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer
from sqlalchemy.engine import Engine

from medledger.core.config import get_settings

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


def _register_capabilities() -> None:
    from medledger.identifiers.cli import app as gs1_app

    app.add_typer(gs1_app, name="gs1", help="GS1 identifiers: parse scans, URIs and URNs.")
    from medledger.trace.cli import trace_command

    app.command("trace")(trace_command)
    from medledger.orders.cli import app as import_app

    app.add_typer(import_app, name="import")


_register_capabilities()


def _engine() -> Engine:
    from medledger.core.db import make_engine
    from medledger.models import load_all_models

    load_all_models()

    settings = get_settings()
    return make_engine(settings.database_url, echo=settings.sql_echo)


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

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            typer.echo("passwords differ", err=True)
            raise typer.Exit(2)
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
            session.info["principal"] = principal
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
        for error in exc.errors():
            typer.echo(
                f"{error['type']}: {'.'.join(map(str, error['loc']))}: {error['msg']}", err=True
            )
        raise typer.Exit(2) from None
    except DomainError as exc:
        typer.echo(f"{exc.code}: {exc.render_english()}", err=True)
        for field_error in exc.errors:
            typer.echo(f"  {field_error.field}: {field_error.code}", err=True)
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
