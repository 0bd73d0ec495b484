"""The outbox relayed to NATS JetStream, and a subscriber that delivers the webhooks from it.

An alternative to the database worker (``worker.py``) for deployments that already run NATS,
chosen by ``MEDLEDGER_OUTBOX_DELIVERY=nats`` (``docs/integration.md``). The database outbox stays
the source of truth; NATS only carries "this delivery attempt is due now":

* **The relay** (``medledger outbox relay``) claims due deliveries exactly as a worker does
  (``claim_due``: ``SKIP LOCKED`` on PostgreSQL), publishes each to the stream on the subject
  ``<prefix>.<tenant id>.<event type>`` with the JSON body of the webhook, and, once JetStream
  has acknowledged it, marks the delivery **handed over** (``claimed_by = "nats:<relay>"``,
  held for ``handover_lease_seconds``). A publish that fails (NATS down) releases the claim, so
  the delivery is due again and the relay retries after a pause; a relay that dies leaves claims
  that end with the lease. The JetStream message id (``Nats-Msg-Id``) is the **handover key**
  of the attempt (message id, subscription, attempts made, time the attempt fell due): a
  relay that publishes again what a dead relay had published already is dropped by JetStream's
  de-duplication window, while a retry or a replay (new attempt count or due time) is new.
* **The subscriber** (``medledger outbox deliver-from-nats``) pulls from a durable consumer.
  For each message it reads the delivery, subscription and message from the database — never
  trusting the stream for what it signs or where it sends — and goes on only while the
  delivery is still due with the same handover key (a stale copy — already delivered, or
  retried since — is acknowledged and dropped). It then signs, POSTs and records the outcome
  with the worker's own functions (same signing, backoff and dead-letter rules), and
  acknowledges the NATS message **after** the outcome is committed. A subscriber killed
  mid-batch leaves unacknowledged messages that JetStream redelivers after ``ack_wait``; one it
  had already POSTed reaches the receiver twice with the same ``MedLedger-Message-Id``, which
  receivers apply once. A failed attempt is recorded as ``retrying`` with the worker's backoff;
  when it falls due the relay hands it over again under a new key.
* If a handed-over message never comes back (stream purged, consumer deleted), the handover
  lease ends and the relay publishes the delivery again: nothing is lost while the database
  holds it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import nats
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, RetentionPolicy, StorageType, StreamConfig
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.db import utcnow
from medledger.core.system import system_unit_of_work
from medledger.integration.models import (
    Delivery,
    DeliveryState,
    OutboxMessage,
    WebhookSubscription,
)
from medledger.integration.worker import (
    DUE_STATES,
    ClaimedDelivery,
    Outcome,
    WorkerConfig,
    claim_due,
    message_body,
    park_inactive,
    record_outcome,
    send,
)

log = logging.getLogger(__name__)

HANDED_OVER_PREFIX = "nats:"
HEADER_DELIVERY = "MedLedger-Delivery-Id"
HEADER_HANDOVER = "MedLedger-Handover-Key"
_SUBJECT_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class NatsConfig:
    url: str = "nats://127.0.0.1:4222"
    stream: str = "MEDLEDGER_OUTBOX"
    subject_prefix: str = "medledger.outbox"
    consumer: str = "medledger-webhooks"
    duplicate_window_seconds: float = 120.0
    ack_wait_seconds: float = 60.0
    handover_lease_seconds: float = 900.0
    publish_timeout_seconds: float = 5.0
    connect_timeout_seconds: float = 2.0
    # Pause before the relay or the subscriber tries NATS again after losing it: doubles from
    # base up to cap.
    retry_base_seconds: float = 1.0
    retry_cap_seconds: float = 30.0
    # Keep published messages this long for other readers of the stream (0: for ever).
    max_age_seconds: float = 7 * 24 * 3600.0


def handover_key(
    message_id: str, subscription_id: int, attempts: int, next_attempt_at: datetime
) -> str:
    """The JetStream message id of one handover: the same for a repeat of the same due attempt,
    new for a retry (more attempts) or a replay (attempts reset, due again later)."""
    due = next_attempt_at.replace(tzinfo=None).isoformat(timespec="microseconds")
    return f"{message_id}:{subscription_id}:{attempts}:{due}"


def subject_for(config: NatsConfig, tenant_id: int, event_type: str) -> str:
    """``<prefix>.<tenant id>.<event type>`` — consumers may filter by tenant or event type."""
    return f"{config.subject_prefix}.{tenant_id}.{_SUBJECT_UNSAFE.sub('_', event_type)}"


async def connect(config: NatsConfig) -> NatsClient:
    """A connection that fails fast: the relay and the subscriber do their own retrying."""
    # nats-py tries a server again and again unless it has a positive attempt limit; errors go
    # to the log here, and to the caller as the exception.
    return await nats.connect(
        config.url,
        connect_timeout=config.connect_timeout_seconds,
        allow_reconnect=False,
        max_reconnect_attempts=1,
        reconnect_time_wait=0.1,
        error_cb=_log_nats_error,
    )


async def _log_nats_error(exc: Exception) -> None:
    log.debug("nats: %s: %s", type(exc).__name__, exc)


async def ensure_stream(js: JetStreamContext, config: NatsConfig) -> None:
    """Create the stream if it does not exist (an operator's existing stream is left as it is)."""
    try:
        await js.stream_info(config.stream)
        return
    except nats.js.errors.NotFoundError:
        pass
    await js.add_stream(
        StreamConfig(
            name=config.stream,
            subjects=[f"{config.subject_prefix}.>"],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            duplicate_window=config.duplicate_window_seconds,
            max_age=config.max_age_seconds or None,
        )
    )


# --- relay ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Handover:
    delivery_id: int
    subject: str
    key: str
    message_id: str
    event_type: str
    body: bytes


def _handovers(
    factory: sessionmaker[Session], claimed: Sequence[ClaimedDelivery], config: NatsConfig
) -> list[Handover]:
    ids = [c.id for c in claimed]
    with system_unit_of_work(factory, label="nats-relay") as session:
        rows = {
            row.id: row
            for row in session.execute(
                select(
                    Delivery.id,
                    Delivery.tenant_id,
                    Delivery.subscription_id,
                    Delivery.next_attempt_at,
                ).where(Delivery.id.in_(ids))
            )
        }
    return [
        Handover(
            delivery_id=c.id,
            subject=subject_for(config, rows[c.id].tenant_id, c.event_type),
            key=handover_key(
                c.message_id, rows[c.id].subscription_id, c.attempts, rows[c.id].next_attempt_at
            ),
            message_id=c.message_id,
            event_type=c.event_type,
            body=c.body,
        )
        for c in claimed
    ]


def _settle_handovers(
    factory: sessionmaker[Session],
    relay: str,
    handed: Sequence[int],
    failed: Sequence[int],
    now: datetime,
    config: NatsConfig,
) -> None:
    """Mark what JetStream acknowledged as handed over; release the rest (due again)."""
    with system_unit_of_work(factory, label="nats-relay") as session:
        if handed:
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_(handed), Delivery.claimed_by == relay)
                .values(
                    claimed_by=HANDED_OVER_PREFIX + relay,
                    claimed_until=now + timedelta(seconds=config.handover_lease_seconds),
                )
            )
        if failed:
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_(failed), Delivery.claimed_by == relay)
                .values(claimed_by=None, claimed_until=None)
            )


async def relay_batch(
    factory: sessionmaker[Session],
    js: JetStreamContext,
    *,
    relay: str,
    config: WorkerConfig,
    nats_config: NatsConfig,
    clock: Callable[[], datetime] = utcnow,
) -> int:
    """Claim one batch of due deliveries and hand it over to JetStream; how many were claimed.

    Raises the first publishing error after releasing what was not acknowledged."""
    claimed = await asyncio.to_thread(claim_due, factory, relay, clock(), config)
    if not claimed:
        return 0
    active = [c for c in claimed if c.subscription_active]
    for inactive in (c for c in claimed if not c.subscription_active):
        await asyncio.to_thread(park_inactive, factory, inactive, clock())
    handovers = await asyncio.to_thread(_handovers, factory, active, nats_config)
    results = await asyncio.gather(
        *(
            js.publish(
                h.subject,
                h.body,
                timeout=nats_config.publish_timeout_seconds,
                stream=nats_config.stream,
                headers={
                    "Nats-Msg-Id": h.key,
                    HEADER_DELIVERY: str(h.delivery_id),
                    HEADER_HANDOVER: h.key,
                    "MedLedger-Message-Id": h.message_id,
                    "MedLedger-Event-Type": h.event_type,
                },
            )
            for h in handovers
        ),
        return_exceptions=True,
    )
    handed = [h.delivery_id for h, r in zip(handovers, results, strict=True) if not _failed(r)]
    failed = [h.delivery_id for h, r in zip(handovers, results, strict=True) if _failed(r)]
    await asyncio.to_thread(_settle_handovers, factory, relay, handed, failed, clock(), nats_config)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise errors[0]
    return len(claimed)


def _failed(result: object) -> bool:
    return isinstance(result, BaseException)


async def relay_available(
    factory: sessionmaker[Session],
    *,
    relay: str,
    config: WorkerConfig,
    nats_config: NatsConfig,
    clock: Callable[[], datetime] = utcnow,
) -> int:
    """Connect, hand over every delivery due now, disconnect; how many were claimed.

    NATS errors propagate (``--once`` reports them; the forever loop retries)."""
    nc = await connect(nats_config)
    try:
        js = nc.jetstream()
        await ensure_stream(js, nats_config)
        total = 0
        while n := await relay_batch(
            factory, js, relay=relay, config=config, nats_config=nats_config, clock=clock
        ):
            total += n
        return total
    finally:
        await nc.close()


async def relay_forever(
    factory: sessionmaker[Session],
    *,
    relay: str,
    config: WorkerConfig,
    nats_config: NatsConfig,
    stop: asyncio.Event,
    on_error: Callable[[BaseException], None] | None = None,
) -> None:
    """Hand over due deliveries until ``stop`` is set; while NATS is unreachable, keep trying
    with a growing pause (the deliveries wait in the database meanwhile)."""
    pause = nats_config.retry_base_seconds
    while not stop.is_set():
        try:
            nc = await connect(nats_config)
        except Exception as exc:
            _report(exc, "relay cannot reach NATS", on_error)
            await _sleep(stop, pause)
            pause = min(nats_config.retry_cap_seconds, pause * 2)
            continue
        try:
            js = nc.jetstream()
            await ensure_stream(js, nats_config)
            pause = nats_config.retry_base_seconds
            while not stop.is_set():
                if not await relay_batch(
                    factory, js, relay=relay, config=config, nats_config=nats_config
                ):
                    await _sleep(stop, config.poll_interval_seconds)
        except Exception as exc:
            _report(exc, "relay lost NATS", on_error)
            await _sleep(stop, pause)
            pause = min(nats_config.retry_cap_seconds, pause * 2)
        finally:
            await _close(nc)


# --- subscriber ----------------------------------------------------------------------------


def deliver_handed_over(
    factory: sessionmaker[Session],
    client: httpx.Client,
    *,
    delivery_id: int,
    key: str,
    config: WorkerConfig,
    clock: Callable[[], datetime] = utcnow,
    rng: random.Random | None = None,
) -> str:
    """Deliver one handed-over delivery if it is still due under ``key``; its new state, or
    ``"stale"`` when this copy is out of date (nothing sent)."""
    with system_unit_of_work(factory, label="nats-subscriber") as session:
        row = session.execute(
            select(Delivery, OutboxMessage, WebhookSubscription)
            .join(OutboxMessage, OutboxMessage.id == Delivery.message_row_id)
            .join(WebhookSubscription, WebhookSubscription.id == Delivery.subscription_id)
            .where(Delivery.id == delivery_id)
        ).first()
        if row is None:
            return "stale"
        delivery, message, subscription = row
        current = handover_key(
            message.message_id,
            delivery.subscription_id,
            delivery.attempts,
            delivery.next_attempt_at,
        )
        if delivery.state not in DUE_STATES or current != key:
            return "stale"
        claimed = ClaimedDelivery(
            id=delivery.id,
            attempts=delivery.attempts,
            url=subscription.url,
            secret=subscription.secret,
            message_id=message.message_id,
            event_type=message.event_type,
            body=message_body(message),
            subscription_active=subscription.active,
        )
    if not claimed.subscription_active:
        park_inactive(factory, claimed, clock())
        return DeliveryState.DEAD.value
    outcome: Outcome = send(client, claimed, int(clock().timestamp()))
    return record_outcome(factory, claimed, outcome, clock(), config, rng or random.Random())


async def _subscription(js: JetStreamContext, nats_config: NatsConfig) -> Any:
    await ensure_stream(js, nats_config)
    return await js.pull_subscribe(
        f"{nats_config.subject_prefix}.>",
        durable=nats_config.consumer,
        stream=nats_config.stream,
        config=ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=nats_config.ack_wait_seconds,
            max_deliver=-1,
        ),
    )


async def _deliver_batch(
    messages: Sequence[Any],
    factory: sessionmaker[Session],
    client: httpx.Client,
    pool: ThreadPoolExecutor,
    config: WorkerConfig,
    counts: dict[str, int],
) -> None:
    loop = asyncio.get_running_loop()

    async def one(msg: Any) -> None:
        headers = msg.headers or {}
        try:
            delivery_id = int(headers.get(HEADER_DELIVERY, ""))
            key = headers[HEADER_HANDOVER]
        except (KeyError, ValueError):
            log.warning("dropping a message without a delivery reference on %s", msg.subject)
            await msg.term()
            return
        state = await loop.run_in_executor(
            pool,
            lambda: deliver_handed_over(
                factory, client, delivery_id=delivery_id, key=key, config=config
            ),
        )
        # Only now, with the outcome committed, may NATS forget the message.
        await msg.ack()
        counts[state] = counts.get(state, 0) + 1

    await asyncio.gather(*(one(m) for m in messages))


async def deliver_available(
    factory: sessionmaker[Session],
    *,
    config: WorkerConfig,
    nats_config: NatsConfig,
    concurrency: int = 4,
    idle_seconds: float = 1.0,
) -> dict[str, int]:
    """Deliver what the consumer holds until it has nothing for ``idle_seconds``; how many
    messages ended in each state (``stale``: copies dropped)."""
    counts: dict[str, int] = {}
    nc = await connect(nats_config)
    try:
        psub = await _subscription(nc.jetstream(), nats_config)
        with (
            ThreadPoolExecutor(max_workers=concurrency) as pool,
            httpx.Client(timeout=config.request_timeout_seconds) as client,
        ):
            while True:
                try:
                    messages = await psub.fetch(config.batch_size, timeout=idle_seconds)
                except TimeoutError:  # nats.errors.TimeoutError is one too
                    return counts
                await _deliver_batch(messages, factory, client, pool, config, counts)
    finally:
        await _close(nc)


async def deliver_forever(
    factory: sessionmaker[Session],
    *,
    config: WorkerConfig,
    nats_config: NatsConfig,
    stop: asyncio.Event,
    concurrency: int = 4,
    on_error: Callable[[BaseException], None] | None = None,
) -> None:
    """Deliver from the durable consumer until ``stop`` is set, reconnecting when NATS is lost."""
    pause = nats_config.retry_base_seconds
    with (
        ThreadPoolExecutor(max_workers=concurrency) as pool,
        httpx.Client(timeout=config.request_timeout_seconds) as client,
    ):
        while not stop.is_set():
            try:
                nc = await connect(nats_config)
            except Exception as exc:
                _report(exc, "subscriber cannot reach NATS", on_error)
                await _sleep(stop, pause)
                pause = min(nats_config.retry_cap_seconds, pause * 2)
                continue
            try:
                psub = await _subscription(nc.jetstream(), nats_config)
                pause = nats_config.retry_base_seconds
                counts: dict[str, int] = {}
                while not stop.is_set():
                    try:
                        messages = await psub.fetch(
                            config.batch_size, timeout=config.poll_interval_seconds
                        )
                    except TimeoutError:  # nats.errors.TimeoutError is one too
                        continue
                    await _deliver_batch(messages, factory, client, pool, config, counts)
            except Exception as exc:
                _report(exc, "subscriber lost NATS", on_error)
                await _sleep(stop, pause)
                pause = min(nats_config.retry_cap_seconds, pause * 2)
            finally:
                await _close(nc)


# --- helpers -------------------------------------------------------------------------------


def handed_over_count(factory: sessionmaker[Session]) -> int:
    """Deliveries currently handed over to NATS and not yet settled (for status and tests)."""
    with system_unit_of_work(factory, label="nats-relay") as session:
        return len(
            session.scalars(
                select(Delivery.id).where(
                    Delivery.state.in_(DUE_STATES),
                    Delivery.claimed_by.like(HANDED_OVER_PREFIX + "%"),
                )
            ).all()
        )


def _report(
    exc: BaseException, what: str, on_error: Callable[[BaseException], None] | None
) -> None:
    log.warning("%s: %s: %s", what, type(exc).__name__, exc)
    if on_error is not None:
        on_error(exc)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def _close(nc: NatsClient) -> None:
    # A connection already lost cannot be closed cleanly; there is nothing to keep.
    with contextlib.suppress(Exception):
        await nc.close()
