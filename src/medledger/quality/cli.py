"""``medledger quality …``: the workflow tables, open records, and signature verification (as
the tenant's administrator; read-only)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from medledger.core.principal import Principal

app = typer.Typer(
    help="Quality records: workflows, open records, signatures.",
    no_args_is_help=True,
    add_completion=False,
)

Tenant = Annotated[str | None, typer.Option(help="Tenant slug (default: the first).")]


@app.command("workflows")
def workflows() -> None:
    """Print every transition table: state, action, next state, permission, signature."""
    from medledger.quality.records import WORKFLOWS

    for kind, workflow in WORKFLOWS.items():
        typer.echo(f"{kind} (initial: {workflow.initial})")
        for t in workflow.transitions:
            flags = []
            if t.signature:
                flags.append(f"signature={t.signature.value}")
            if t.author_may_not:
                flags.append("not by the author")
            if t.reason_required:
                flags.append("reason required")
            if t.guard:
                flags.append(f"guard={t.guard.__name__.lstrip('_')}")
            typer.echo(
                f"  {t.source:<22} {t.action:<26} -> {t.target:<22} {t.permission.value:<16}"
                f" {', '.join(flags)}".rstrip()
            )


def _run(tenant: str | None, work: Callable[[Session, Principal], Any]) -> Any:
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
            set_tenant_guc(session, tenant_id)
            return work(session, principal)
    except DomainError as exc:
        typer.echo(f"{exc.code}: {exc.render_english()}", err=True)
        raise typer.Exit(1 if exc.status == 404 else 2) from None


@app.command("open")
def open_records(tenant: Tenant = None) -> None:
    """List open NCRs, CAPAs and change requests, overdue ones marked."""
    from medledger.quality import service

    def work(session: Session, principal: Principal) -> None:
        for kind in ("ncr", "capa", "change"):
            items, _ = service.list_records(session, principal, kind, open_only=True, page_size=500)
            for record in items:
                overdue = " OVERDUE" if service.is_overdue(kind, record) else ""
                due = record.due_date.isoformat() if record.due_date else "-"
                typer.echo(
                    f"{record.number:<16} {record.state:<22} due {due}{overdue}  {record.title}"
                )

    _run(tenant, work)


@app.command("signatures")
def signatures(
    kind: Annotated[str, typer.Argument(help="ncr, capa or change.")],
    record_id: Annotated[int, typer.Argument(help="The record's id.")],
    tenant: Tenant = None,
) -> None:
    """Print a record's signatures as JSON, each checked against the record's current version;
    exit 1 if any no longer matches."""
    from medledger.compliance.signing import record_signatures
    from medledger.quality.service import signature_out

    def work(session: Session, principal: Principal) -> bool:
        found = record_signatures(session, principal, kind, record_id)
        typer.echo(
            json.dumps(
                {
                    "record": found.label,
                    "current_hash": found.current_hash,
                    "all_match": found.all_valid,
                    "signatures": [signature_out(c.signature, c.valid) for c in found.signatures],
                },
                indent=2,
                default=str,
                ensure_ascii=False,
            )
        )
        return found.all_valid

    if not _run(tenant, work):
        raise typer.Exit(1)
