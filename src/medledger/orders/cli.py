"""``medledger import …``: order intake from files, and the inbox, from the command line (as the
tenant's administrator)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from medledger.core.work import work_of

app = typer.Typer(
    help="Import orders (EDI, CSV) and work the order inbox.",
    no_args_is_help=True,
    add_completion=False,
)

TenantOption = Annotated[str | None, typer.Option(help="Tenant slug (default: the first).")]


def _run(tenant: str | None, action: Callable[[Any, Any], Any]) -> Any:
    from medledger.core.config import get_settings
    from medledger.core.db import engine_from_settings, make_session_factory, set_tenant_guc
    from medledger.core.errors import DomainError
    from medledger.core.system import default_tenant_id, system_unit_of_work, tenant_admin

    settings = get_settings()
    factory = make_session_factory(engine_from_settings(settings))
    try:
        with system_unit_of_work(factory, label="cli") as session:
            tenant_id = default_tenant_id(session, tenant)
            principal = tenant_admin(session, tenant_id, label="cli")
            work_of(session).act_as(principal)
            set_tenant_guc(session, tenant_id)
            return action(session, principal)
    except DomainError as exc:
        typer.echo(f"{exc.code}: {exc.render_english()}", err=True)
        for error in exc.errors:
            typer.echo(f"  {error.field}: {error.code}", err=True)
        raise typer.Exit(1 if exc.status == 404 else 2) from None


def _summary(rows: list[Any]) -> list[dict[str, Any]]:
    from medledger.orders.schemas import InboxMessageOut

    return [
        InboxMessageOut.model_validate(row).model_dump(
            mode="json",
            include={"id", "channel", "document_reference", "status", "order_id", "errors"},
        )
        for row in rows
    ]


def _report(rows: list[dict[str, Any]]) -> None:
    typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    if any(row["status"] == "failed" for row in rows):
        raise typer.Exit(3)


@app.command("edi")
def import_edi(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="EDIFACT or X12 file.")],
    tenant: TenantOption = None,
) -> None:
    """Receive an EDIFACT ORDERS or X12 850 interchange. Exit 3 if a message failed (it waits
    in the inbox)."""
    from medledger.orders import intake

    content = file.read_bytes().decode("utf-8-sig", errors="replace")
    rows = _run(
        tenant,
        lambda s, p: _summary(intake.import_edi(s, p, content, filename=file.name)),
    )
    _report(rows)


@app.command("csv")
def import_csv(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV of order lines.")],
    tenant: TenantOption = None,
) -> None:
    """Receive a CSV of order lines (see docs/orders.md for the columns)."""
    from medledger.orders import intake

    content = file.read_text(encoding="utf-8-sig")
    rows = _run(tenant, lambda s, p: _summary(intake.import_csv(s, p, content, filename=file.name)))
    _report(rows)


@app.command("inbox")
def inbox(
    status: Annotated[str, typer.Option(help="failed, accepted or discarded.")] = "failed",
    tenant: TenantOption = None,
) -> None:
    """List inbox messages with their errors."""
    from medledger.orders import intake

    rows = _run(
        tenant,
        lambda s, p: _summary(intake.list_inbox(s, p, status=status, page_size=500)[0]),
    )
    typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))


@app.command("replay")
def replay(
    message_id: Annotated[int, typer.Argument(help="Inbox message id.")],
    corrected: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="Corrected content.")
    ] = None,
    reason: Annotated[str, typer.Option(help="Why (kept in the audit trail).")] = "",
    tenant: TenantOption = None,
) -> None:
    """Process a failed inbox message again, optionally with corrected content."""
    from medledger.orders import intake

    content = corrected.read_text(encoding="utf-8-sig") if corrected else None
    rows = _run(
        tenant,
        lambda s, p: _summary([intake.replay(s, p, message_id, content=content, reason=reason)]),
    )
    _report(rows)


def score_command(
    tenant: TenantOption = None,
    plan: Annotated[
        bool, typer.Option("--plan/--no-plan", help="Also reserve stock for unreserved demand.")
    ] = False,
) -> None:
    """Rescore every open order line with the active priority rule set (and re-plan)."""
    from medledger.orders import planning

    def action(session: Any, principal: Any) -> dict[str, Any]:
        work_of(session).give_reason("medledger score")
        result = planning.rescore(session, principal.tenant_id)
        report: dict[str, Any] = {
            "rule_set": result.rule_set.label,
            "digest": result.rule_set.digest,
            "lines": result.lines,
        }
        if plan:
            planned = planning.plan(session, principal.tenant_id)
            report["plan"] = planned.__dict__
        return report

    typer.echo(json.dumps(_run(tenant, action), sort_keys=True))


def plan_command(tenant: TenantOption = None) -> None:
    """Plan the orders waiting in the board's "scored" column (scored at intake, not yet
    planned: normally planned right after their intake; this catches up after a crash)."""
    from medledger.orders import planning_queue

    def action(session: Any, principal: Any) -> dict[str, Any]:
        work_of(session).give_reason("medledger plan")
        planned = 0
        while True:
            done = planning_queue.plan_waiting(session, principal.tenant_id)
            planned += done
            if done < planning_queue.BATCH:
                return {"planned_orders": planned}

    typer.echo(json.dumps(_run(tenant, action), sort_keys=True))
