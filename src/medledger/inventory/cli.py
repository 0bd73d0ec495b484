"""``medledger inventory …``: verify stock against the ledger, list stock, manage sites."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from medledger.core.work import work_of

app = typer.Typer(help="Stock: verify, list, manage sites.", no_args_is_help=True)

TenantOption = Annotated[str | None, typer.Option(help="Tenant slug (default: the first).")]


def _factory() -> Any:
    from medledger.core.config import get_settings
    from medledger.core.db import engine_from_settings, make_session_factory

    settings = get_settings()
    return make_session_factory(engine_from_settings(settings))


@app.command("verify")
def verify_command(tenant: TenantOption = None) -> None:
    """Prove that balances equal the replay of the movements and agree with the ledger's
    events (exit 1 and the differences otherwise)."""
    from medledger.core.db import set_tenant_guc
    from medledger.core.system import default_tenant_id, system_unit_of_work
    from medledger.inventory.verify import verify

    with system_unit_of_work(_factory(), label="cli") as session:
        tenant_id = default_tenant_id(session, tenant)
        set_tenant_guc(session, tenant_id)
        report = verify(session, tenant_id)
    typer.echo(
        f"{report.balances} balances, {report.movements} movements, "
        f"{report.events_replayed} ledger events replayed"
    )
    if report.ok:
        typer.echo("stock OK: balances = replay of movements = replay of the ledger")
        return
    for key, expected, found in report.balance_differences:
        typer.echo(f"balance {key}: movements say {expected}, balance is {found}", err=True)
    for blind, expected, found in report.ledger_differences:
        typer.echo(f"place {blind}: ledger says {expected}, movements say {found}", err=True)
    for key in report.negative:
        typer.echo(f"negative balance {key}", err=True)
    raise typer.Exit(1)


@app.command("stock")
def stock_command(
    tenant: TenantOption = None,
    gtin: Annotated[str | None, typer.Option()] = None,
    lot: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Stock by location, lot and status, as JSON lines."""
    from medledger.core.db import set_tenant_guc
    from medledger.core.system import default_tenant_id, system_unit_of_work, tenant_admin
    from medledger.inventory import service

    with system_unit_of_work(_factory(), label="cli") as session:
        tenant_id = default_tenant_id(session, tenant)
        set_tenant_guc(session, tenant_id)
        rows = service.stock(
            session, tenant_admin(session, tenant_id, label="cli"), gtin=gtin, lot=lot
        )
    for row in rows:
        typer.echo(json.dumps(row.model_dump(mode="json"), ensure_ascii=False))


@app.command("enable-site")
def enable_site_command(
    site_gln: Annotated[str, typer.Argument(help="GLN of a hub site.")],
    tenant: TenantOption = None,
) -> None:
    """Manage the stock of a hub site from now on."""
    from sqlalchemy import select

    from medledger.core.db import set_tenant_guc
    from medledger.core.errors import DomainError
    from medledger.core.system import default_tenant_id, system_unit_of_work, tenant_admin
    from medledger.inventory import service
    from medledger.parties.models import Site

    try:
        with system_unit_of_work(_factory(), label="cli") as session:
            tenant_id = default_tenant_id(session, tenant)
            set_tenant_guc(session, tenant_id)
            principal = tenant_admin(session, tenant_id, label="cli")
            work_of(session).act_as(principal)
            site_id = session.scalar(
                select(Site.id).where(Site.tenant_id == tenant_id, Site.gln == site_gln)
            )
            if site_id is None:
                typer.echo(f"no site with GLN {site_gln}", err=True)
                raise typer.Exit(1)
            managed = service.enable_site(session, principal, int(site_id))
            typer.echo(f"site {site_gln} managed from ledger row {managed.after_event_row_id}")
    except DomainError as exc:
        typer.echo(f"{exc.code}: {exc.render_english()}", err=True)
        raise typer.Exit(2) from None
