"""``medledger worker`` and ``medledger outbox …``: deliver and operate the outbox."""

from __future__ import annotations

import signal
import threading
from typing import TYPE_CHECKING, Annotated, Any

import typer
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from medledger.integration.nats_relay import NatsConfig
    from medledger.integration.worker import WorkerConfig

outbox_app = typer.Typer(help="The outbox of partner messages.", no_args_is_help=True)


def _factory() -> sessionmaker[Session]:
    from medledger.core.config import get_settings
    from medledger.core.db import engine_from_settings, make_session_factory

    return make_session_factory(engine_from_settings(get_settings()))


def _worker_config(**overrides: Any) -> WorkerConfig:
    from medledger.core.config import get_settings
    from medledger.integration.worker import WorkerConfig

    settings = get_settings()
    return WorkerConfig(
        max_attempts=settings.webhook_max_attempts,
        backoff_base_seconds=settings.webhook_backoff_base_seconds,
        backoff_cap_seconds=settings.webhook_backoff_cap_seconds,
        request_timeout_seconds=settings.webhook_timeout_seconds,
        lease_seconds=settings.webhook_lease_seconds,
        **overrides,
    )


def _require_delivery_mode(mode: str) -> None:
    """Refuse to start the other mode's processes: one deployment delivers one way."""
    from medledger.core.config import get_settings

    configured = get_settings().outbox_delivery
    if configured != mode:
        hint = {
            "worker": "run `medledger worker`",
            "nats": "run `medledger outbox relay` and `medledger outbox deliver-from-nats`",
        }[configured]
        typer.echo(f"MEDLEDGER_OUTBOX_DELIVERY is {configured!r}, not {mode!r}: {hint}", err=True)
        raise typer.Exit(2)


def worker_command(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due now, then exit.")
    ] = False,
    threads: Annotated[int, typer.Option(help="Delivery loops in this process.")] = 1,
) -> None:
    """Deliver outbox messages to webhook subscriptions until stopped (Ctrl-C / SIGTERM)."""
    import httpx

    from medledger.integration.worker import run_forever, run_once, worker_name

    _require_delivery_mode("worker")
    config = _worker_config()
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


def _nats_config() -> NatsConfig:
    from medledger.core.config import get_settings
    from medledger.integration.nats_relay import NatsConfig

    settings = get_settings()
    return NatsConfig(
        url=settings.nats_url,
        stream=settings.nats_stream,
        subject_prefix=settings.nats_subject_prefix,
        consumer=settings.nats_consumer,
        duplicate_window_seconds=settings.nats_duplicate_window_seconds,
        ack_wait_seconds=settings.nats_ack_wait_seconds,
        handover_lease_seconds=settings.nats_handover_lease_seconds,
    )


def _run_until_signalled(main: Any) -> None:
    """Run the coroutine ``main(stop)`` until SIGTERM or Ctrl-C sets ``stop``."""
    import asyncio

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    asyncio.run(runner())


@outbox_app.command("relay")
def relay(
    once: Annotated[
        bool, typer.Option("--once", help="Hand over what is due now, then exit.")
    ] = False,
    batch: Annotated[int, typer.Option(help="Deliveries claimed per batch.")] = 200,
) -> None:
    """Hand due outbox deliveries over to NATS JetStream (MEDLEDGER_OUTBOX_DELIVERY=nats)."""
    import asyncio
    import logging

    from medledger.integration.nats_relay import relay_available, relay_forever
    from medledger.integration.worker import worker_name

    _require_delivery_mode("nats")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    factory, config, nats_config = _factory(), _worker_config(batch_size=batch), _nats_config()
    name = "relay:" + worker_name()
    if once:
        try:
            n = asyncio.run(
                relay_available(factory, relay=name, config=config, nats_config=nats_config)
            )
        except Exception as exc:
            typer.echo(f"NATS at {nats_config.url}: {type(exc).__name__}: {exc}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"{n} deliveries handed over")
        return
    typer.echo(f"relaying the outbox to {nats_config.url} ({nats_config.stream}); Ctrl-C stops")
    _run_until_signalled(
        lambda stop: relay_forever(
            factory, relay=name, config=config, nats_config=nats_config, stop=stop
        )
    )


@outbox_app.command("deliver-from-nats")
def deliver_from_nats(
    once: Annotated[
        bool,
        typer.Option("--once", help="Deliver what the consumer holds, then exit when idle."),
    ] = False,
    concurrency: Annotated[int, typer.Option(help="Deliveries sent at once.")] = 4,
    batch: Annotated[int, typer.Option(help="Messages fetched per pull.")] = 20,
) -> None:
    """Deliver webhooks handed over to NATS JetStream (MEDLEDGER_OUTBOX_DELIVERY=nats)."""
    import asyncio
    import logging

    from medledger.integration.nats_relay import deliver_available, deliver_forever

    _require_delivery_mode("nats")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    factory, config, nats_config = _factory(), _worker_config(batch_size=batch), _nats_config()
    if once:
        try:
            counts = asyncio.run(
                deliver_available(
                    factory, config=config, nats_config=nats_config, concurrency=concurrency
                )
            )
        except Exception as exc:
            typer.echo(f"NATS at {nats_config.url}: {type(exc).__name__}: {exc}", err=True)
            raise typer.Exit(1) from None
        typer.echo(
            ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "nothing due"
        )
        return
    typer.echo(f"delivering from {nats_config.url} ({nats_config.consumer}); Ctrl-C stops")
    _run_until_signalled(
        lambda stop: deliver_forever(
            factory,
            config=config,
            nats_config=nats_config,
            stop=stop,
            concurrency=max(1, concurrency),
        )
    )
