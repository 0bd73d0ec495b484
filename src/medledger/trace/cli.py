"""``medledger trace ID``: trace from the command line (as the tenant's administrator)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from medledger.trace.engine import Direction

app = typer.Typer(help="Trace lots, serials and logistic units.", add_completion=False)


@app.command()
def trace_command(
    identifier: Annotated[
        str,
        typer.Argument(metavar="ID", help="Scan, bracketed string, Digital Link URI or EPC URN."),
    ],
    direction: Annotated[Direction, typer.Option(help="upstream, downstream or both.")] = (
        Direction.DOWNSTREAM
    ),
    format: Annotated[
        str, typer.Option(help="json (the report) or csv (recall listing).")
    ] = "json",
    tenant: Annotated[str | None, typer.Option(help="Tenant slug (default: the first).")] = None,
) -> None:
    """Trace ID upstream (components, suppliers) and/or downstream (units, consignees)."""
    from medledger.core.config import get_settings
    from medledger.core.db import engine_from_settings, make_session_factory, set_tenant_guc
    from medledger.core.errors import DomainError
    from medledger.core.system import default_tenant_id, system_unit_of_work, tenant_admin
    from medledger.trace import service

    if format not in ("json", "csv"):
        typer.echo("format must be json or csv", err=True)
        raise typer.Exit(2)
    settings = get_settings()
    factory = make_session_factory(engine_from_settings(settings))
    try:
        with system_unit_of_work(factory, label="cli") as session:
            tenant_id = default_tenant_id(session, tenant)
            principal = tenant_admin(session, tenant_id, label="cli")
            set_tenant_guc(session, tenant_id)
            report = service.trace(session, principal, service.TraceRequest(identifier, direction))
    except DomainError as exc:
        typer.echo(f"{exc.code}: {exc.render_english()}", err=True)
        raise typer.Exit(1 if exc.status == 404 else 2) from None
    if format == "csv":
        sys.stdout.write(report.listing_csv())
    else:
        typer.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
