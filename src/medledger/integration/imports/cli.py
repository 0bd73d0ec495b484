"""``medledger import data FILE --entity E [--mapping NAME] [--dry-run]``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from medledger.core.work import work_of

import_app = typer.Typer(help="Import files.", no_args_is_help=True)


@import_app.command("data")
def import_data(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="A .csv or .xlsx file.")
    ],
    entity: Annotated[
        str, typer.Option(help="products, parties, sites, locations, lots or opening_stock.")
    ],
    mapping: Annotated[
        str | None, typer.Option(help="A saved column mapping of the hub (default: headers).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row and report; import nothing.")
    ] = False,
    tenant: Annotated[str | None, typer.Option(help="Tenant slug (default: the first).")] = None,
) -> None:
    """Import master data as the hub's administration, with a data-quality report. Exit 0 when
    every row was accepted, 1 when some were rejected (the others are imported; fix and replay
    the rejected ones on the Imports page or by API), 2 when the file itself was refused."""
    from medledger.core.config import get_settings
    from medledger.core.db import engine_from_settings, make_session_factory
    from medledger.core.errors import DomainError
    from medledger.core.system import default_tenant_id, system_unit_of_work, tenant_admin
    from medledger.integration.imports import service
    from medledger.integration.imports.reader import read_sheet

    content = file.read_bytes()
    factory = make_session_factory(engine_from_settings(get_settings()))
    try:
        total = len(read_sheet(file.name, content).rows)
        with (
            system_unit_of_work(factory, label="cli") as session,
            typer.progressbar(length=total, label=f"{entity} rows", file=None) as bar,
        ):
            principal = tenant_admin(session, default_tenant_id(session, tenant), label="cli")
            work_of(session).act_as(principal)
            done = 0

            def advance(rows: int) -> None:
                nonlocal done
                bar.update(rows - done)
                done = rows

            run = service.run_import(
                session,
                principal,
                entity=entity,
                file_name=file.name,
                content=content,
                mapping_name=mapping,
                dry_run=dry_run,
                on_row=advance,
            )
            rows, _ = service.run_rows(session, principal, run.id, page_size=20)
            summary = (
                f"import {run.id}{' (dry run)' if dry_run else ''}: {run.total_rows} rows, "
                f"{run.accepted_rows} accepted, {run.rejected_rows} rejected; "
                f"file sha256 {run.file_sha256}"
            )
            details = [
                f"  row {row.row_number}: {e['field'] or '-'}: {e['code']}: "
                + e["message"].format(**e["params"])
                for row in rows
                for e in row.errors
            ]
            rules = [f"  {code}: {n}" for code, n in run.rule_counts.items()]
            rejected = run.rejected_rows
    except DomainError as exc:
        typer.echo(f"{exc.code}: {exc.render_english()}", err=True)
        raise typer.Exit(2) from None
    typer.echo(summary)
    if rules:
        typer.echo("rejections per rule:")
        typer.echo("\n".join(rules))
        typer.echo("first rejected rows:")
        typer.echo("\n".join(details))
    if rejected:
        raise typer.Exit(1)
