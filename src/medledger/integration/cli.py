"""``medledger worker`` and ``medledger outbox …``: deliver and operate the outbox."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer
from sqlalchemy.orm import Session, sessionmaker

outbox_app = typer.Typer(help="The outbox of partner messages.", no_args_is_help=True)


def _factory() -> sessionmaker[Session]:
    from medledger.cli import _engine
    from medledger.core.db import make_session_factory

    return make_session_factory(_engine())


def worker_command(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due now, then exit.")
    ] = False,
    threads: Annotated[int, typer.Option(help="Delivery loops in this process.")] = 1,
) -> None:
    """Deliver outbox messages to webhook subscriptions until stopped (Ctrl-C / SIGTERM)."""
    import httpx

    from medledger.core.config import get_settings
    from medledger.integration.worker import WorkerConfig, run_forever, run_once, worker_name

    settings = get_settings()
    config = WorkerConfig(
        max_attempts=settings.webhook_max_attempts,
        backoff_base_seconds=settings.webhook_backoff_base_seconds,
        backoff_cap_seconds=settings.webhook_backoff_cap_seconds,
        request_timeout_seconds=settings.webhook_timeout_seconds,
        lease_seconds=settings.webhook_lease_seconds,
    )
    factory = _factory()
    if once:
        totals: dict[str, int] = {}
        with httpx.Client(timeout=config.request_timeout_seconds) as client:
            while counts := run_once(factory, worker=worker_name(), client=client, config=config):
                for state, n in counts.items():
                    totals[state] = totals.get(state, 0) + n
        typer.echo(
            ", ".join(f"{n} {state}" for state, n in sorted(totals.items())) or "nothing due"
        )
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    loops = [
        threading.Thread(
            target=run_forever,
            kwargs={"factory": factory, "worker": worker_name(i), "config": config, "stop": stop},
            daemon=True,
        )
        for i in range(max(1, threads))
    ]
    for loop in loops:
        loop.start()
    typer.echo(f"worker delivering with {len(loops)} loop(s); Ctrl-C stops")
    try:
        while any(loop.is_alive() for loop in loops):
            stop.wait(0.5)
            if stop.is_set():
                break
    except KeyboardInterrupt:
        stop.set()
    for loop in loops:
        loop.join(timeout=config.request_timeout_seconds + 1)


@outbox_app.command("replay")
def replay(
    delivery: Annotated[
        list[int] | None, typer.Option("--delivery", help="A delivery id (repeatable).")
    ] = None,
    dead: Annotated[bool, typer.Option("--dead", help="Every dead delivery.")] = False,
    tenant: Annotated[
        str | None, typer.Option(help="Only this tenant (slug), with --dead.")
    ] = None,
) -> None:
    """Queue dead deliveries again (each replay is audited)."""
    from medledger.core.errors import DomainError
    from medledger.core.system import default_tenant_id, system_unit_of_work
    from medledger.integration import service

    if not delivery and not dead:
        typer.echo("give --delivery ID or --dead", err=True)
        raise typer.Exit(2)
    try:
        with system_unit_of_work(_factory(), label="cli") as session:
            tenant_id = default_tenant_id(session, tenant) if tenant else None
            replayed = service.replay_ids(session, list(delivery or []))
            if dead:
                replayed += service.replay_dead(session, tenant_id)
    except DomainError as exc:
        typer.echo(f"{exc.code}: {exc.render_english()}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{len(replayed)} deliveries queued again")


@outbox_app.command("status")
def status() -> None:
    """Deliveries per tenant and state."""
    from medledger.core.system import system_unit_of_work
    from medledger.integration import service

    with system_unit_of_work(_factory(), label="cli") as session:
        counts = service.state_counts(session)
    if not counts:
        typer.echo("no deliveries")
    for (tenant_id, state), n in sorted(counts.items()):
        typer.echo(f"tenant {tenant_id}: {n} {state}")
