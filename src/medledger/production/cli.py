"""``medledger production …``: work orders and device history records from the shell."""

from __future__ import annotations

from typing import Annotated, Any

import typer

app = typer.Typer(help="Production: work orders, device history records.", no_args_is_help=True)

TenantOption = Annotated[str | None, typer.Option(help="Tenant slug (default: the first).")]


def _factory() -> Any:
    from medledger.core.config import get_settings
    from medledger.core.db import make_engine, make_session_factory

    settings = get_settings()
    return make_session_factory(make_engine(settings.database_url, echo=settings.sql_echo))


@app.command("work-orders")
def work_orders_command(
    tenant: TenantOption = None,
    status: Annotated[str | None, typer.Option(help="planned, in_progress, …")] = None,
) -> None:
    """Work orders as JSON lines, newest first."""
    from medledger.core.db import set_tenant_guc
    from medledger.core.system import default_tenant_id, system_unit_of_work, tenant_admin
    from medledger.production import service

    with system_unit_of_work(_factory(), label="cli") as session:
        tenant_id = default_tenant_id(session, tenant)
        set_tenant_guc(session, tenant_id)
        admin = tenant_admin(session, tenant_id, label="cli")
        orders, _ = service.list_work_orders(session, admin, status=status, page_size=500)
        for order in orders:
            typer.echo(service.work_order_out(session, order).model_dump_json())


@app.command("dhr")
def device_history_command(gtin: str, lot: str, tenant: TenantOption = None) -> None:
    """The device history record of a finished lot as JSON (exit 1 if none)."""
    from medledger.core.db import set_tenant_guc
    from medledger.core.errors import DomainError
    from medledger.core.system import default_tenant_id, system_unit_of_work, tenant_admin
    from medledger.production import service

    with system_unit_of_work(_factory(), label="cli") as session:
        tenant_id = default_tenant_id(session, tenant)
        set_tenant_guc(session, tenant_id)
        admin = tenant_admin(session, tenant_id, label="cli")
        try:
            record = service.device_history(session, admin, gtin, lot)
        except DomainError as exc:
            typer.echo(exc.message.format(**exc.params), err=True)
            raise typer.Exit(1) from None
    typer.echo(record.model_dump_json(indent=2))
