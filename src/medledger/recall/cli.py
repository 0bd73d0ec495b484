"""``medledger recall drill IDENTIFIER…``: a mock recall against a copy of the data.

The drill runs the real initiation (trace scope, own stock recalled, notices, outbox messages,
EPCIS events) as the tenant's administrator, unsigned, where it cannot touch the real data:

* SQLite: the database file is copied with SQLite's online backup (safe while ``serve`` runs,
  WAL included) into a temporary file; the drill commits there, and the copy is deleted unless
  ``--keep PATH`` asks to keep it for inspection;
* PostgreSQL: the drill runs in one transaction that is rolled back at the end (nothing is
  committed; outbox messages are never seen by a worker).

It prints the time to full scope (the trace walks and the scope assembly), the time of the whole
mock initiation, the scope counts, and the completeness of the trace (shipments with a receipt,
lots with a recorded origin) with its gaps.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(help="Recall cases: mock recalls (drills).", no_args_is_help=True)


class _Rollback(Exception):
    """Raised at the end of a PostgreSQL drill so its unit of work rolls back."""


def _sqlite_copy(url: Any, target: Path) -> None:
    source = sqlite3.connect(str(url.database))
    try:
        copy = sqlite3.connect(str(target))
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()


def drill(
    database_url: str,
    identifiers: list[str],
    tenant: str | None = None,
    keep: Path | None = None,
) -> dict[str, Any]:
    """Run a mock recall of ``identifiers`` against a copy of ``database_url``'s data (see
    the module docstring); the drill's figures."""
    from sqlalchemy.engine import make_url

    from medledger.core.db import make_engine, make_session_factory, set_tenant_guc
    from medledger.core.system import default_tenant_id, system_unit_of_work, tenant_admin
    from medledger.recall import service
    from medledger.recall.models import Depth, HazardClass
    from medledger.recall.schemas import RecallIn

    url = make_url(database_url)
    sqlite = url.get_backend_name() == "sqlite"
    workdir = None
    if sqlite:
        if not url.database or url.database == ":memory:":
            from medledger.core.errors import ValidationFailed
            from medledger.recall.errors import Code

            raise ValidationFailed(
                "A drill needs a database file to copy.", code=Code.DRILL_UNSUPPORTED_DATABASE
            )
        if keep is not None:
            target = keep
        else:
            workdir = tempfile.TemporaryDirectory(prefix="medledger-drill-")
            target = Path(workdir.name) / "drill.db"
        _sqlite_copy(url, target)
        engine = make_engine(f"sqlite:///{target}")
    else:
        engine = make_engine(database_url)
    factory = make_session_factory(engine)
    result: dict[str, Any] = {}
    started = time.perf_counter()
    try:
        with system_unit_of_work(factory, label="recall-drill") as session:
            tenant_id = default_tenant_id(session, tenant)
            principal = tenant_admin(session, tenant_id, label="recall-drill")
            set_tenant_guc(session, tenant_id)
            initiated = service.initiate_recall(
                session,
                principal,
                RecallIn(
                    identifiers=identifiers,
                    title="Recall drill",
                    hazard_class=HazardClass.II,
                    depth=Depth.CONSUMER,
                    reason="Mock recall (drill)",
                ),
                drill=True,
            )
            recall, scope = initiated.recall, initiated.scope
            result = {
                "identifiers": scope.identifiers,
                "database": "sqlite copy" if sqlite else "postgresql, rolled back",
                "seconds_to_full_scope": round(scope.seconds, 6),
                "seconds_total": round(time.perf_counter() - started, 6),
                "scope": {
                    "lots": recall.lots_in_scope,
                    "serials": recall.serials_in_scope,
                    "logistic_units": recall.logistic_units_in_scope,
                    "shipments": recall.shipments_in_scope,
                    "consignees": recall.consignees,
                    "units_distributed": sum(c.units for c in scope.consignees.values()),
                    "units_held": recall.units_held,
                    "upstream_items": len(scope.upstream),
                    "suppliers": len(scope.suppliers),
                },
                "completeness": scope.completeness,
                "gaps": scope.gaps,
                "consignees": [
                    {"name": c.name, "gln": c.gln, "units": c.units}
                    for c in sorted(scope.consignees.values(), key=lambda c: (c.name, c.key))
                ],
            }
            if not sqlite:
                raise _Rollback
    except _Rollback:
        pass
    finally:
        engine.dispose()
        if workdir is not None:
            workdir.cleanup()
    return result


@app.command("drill")
def drill_command(
    identifiers: Annotated[
        list[str],
        typer.Argument(
            metavar="IDENTIFIER…",
            help="Lots, serials, logistic units or a supplier's component lot (anything the "
            "trace accepts).",
        ),
    ],
    tenant: Annotated[str | None, typer.Option(help="Tenant slug (default: the first).")] = None,
    keep: Annotated[
        Path | None,
        typer.Option(help="SQLite: keep the drill's copy of the database at this path."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Mock recall of IDENTIFIER… against a copy of the data: time to full scope, scope,
    trace completeness and gaps. The real data is never changed."""
    from medledger.core.config import get_settings
    from medledger.core.errors import DomainError

    try:
        result = drill(get_settings().database_url, identifiers, tenant, keep)
    except DomainError as exc:
        typer.echo(f"{exc.code}: {exc.render_english()}", err=True)
        raise typer.Exit(1 if exc.status == 404 else 2) from None
    if as_json:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
        return
    scope, completeness = result["scope"], result["completeness"]
    typer.echo(f"Recall drill of {', '.join(result['identifiers'])} ({result['database']})")
    typer.echo(f"  time to full scope   {result['seconds_to_full_scope'] * 1000:.1f} ms")
    typer.echo(f"  mock initiation      {result['seconds_total'] * 1000:.1f} ms")
    typer.echo(
        f"  scope                {scope['lots']} lots, {scope['serials']} serials, "
        f"{scope['logistic_units']} logistic units, {scope['shipments']} shipments"
    )
    typer.echo(
        f"  consignees           {scope['consignees']} ({scope['units_distributed']} units); "
        f"own stock recalled {scope['units_held']}"
    )
    typer.echo(
        f"  upstream context     {scope['upstream_items']} items, {scope['suppliers']} suppliers"
    )
    typer.echo(
        f"  trace completeness   {completeness['score']:.1%} "
        f"(shipments received {completeness['shipments_received']}/{completeness['shipments']}, "
        f"lots with origin {completeness['lots_with_origin']}/{completeness['lots']})"
    )
    for gap in result["gaps"]:
        typer.echo(f"  gap: {gap['kind']} {gap['uri']}")
