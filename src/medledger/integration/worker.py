"""The delivery worker: claims due deliveries, POSTs them signed, records the outcome.

Runs after commit, outside any business transaction (``medledger worker``). Several workers
may run at once, on one machine or many:

* **Claiming** takes a batch of due deliveries (pending, or retrying whose time has come) that
  nobody holds, and stamps them with the worker's id and a lease (``claimed_until``). On
  PostgreSQL the candidate rows are read ``FOR UPDATE SKIP LOCKED``, so concurrent workers take
  different rows without waiting for each other; on SQLite (one writer) the stamping UPDATE is
  itself the lock. Either way the UPDATE only stamps rows still unclaimed, and the worker then
  reads back exactly the rows it stamped.
* **A worker that dies** leaves its claims behind; they become due again when the lease ends,
  and another worker delivers them. That delivery may repeat one the dead worker had made:
  delivery is at least once, and the message id every attempt carries is the idempotency key
  with which a receiver applies the fact exactly once (``docs/integration.md``).
* **Outcome**: a 2xx answer marks the delivery delivered. Anything else (another status, a
  connection error, a timeout) counts an attempt, keeps the status and error, and schedules
  the next attempt after an exponential backoff with jitter; after ``max_attempts`` the
  delivery is dead until someone replays it.
"""

from __future__ import annotations

import json
import os
import random
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.db import utcnow
from medledger.core.system import system_unit_of_work
from medledger.integration.models import (
    Delivery,
    DeliveryState,
    OutboxMessage,
    WebhookSubscription,
)
from medledger.integration.signing import signed_headers

DUE_STATES = (DeliveryState.PENDING.value, DeliveryState.RETRYING.value)


@dataclass(frozen=True)
class WorkerConfig:
    batch_size: int = 20
    lease_seconds: float = 60.0
    max_attempts: int = 8
    backoff_base_seconds: float = 5.0
    backoff_cap_seconds: float = 3600.0
    request_timeout_seconds: float = 10.0
    poll_interval_seconds: float = 1.0


@dataclass(frozen=True)
class ClaimedDelivery:
    """A delivery a worker holds, with everything needed to send it."""

    id: int
    attempts: int
    url: str
    secret: str
    message_id: str
    event_type: str
    body: bytes
    subscription_active: bool


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None
    error: str


def worker_name(index: int = 0) -> str:
    """``host:pid:index`` — who holds a claim, for operators reading the table."""
    return f"{socket.gethostname()}:{os.getpid()}:{index}"


def message_body(message: OutboxMessage) -> bytes:
    """The JSON body of every delivery of ``message`` (the same bytes on every attempt)."""
    document = {
        "id": message.message_id,
        "type": message.event_type,
        "createdAt": message.created_at.isoformat().replace("+00:00", "Z"),
        "subject": message.subject,
        "data": message.payload,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def backoff_delay(attempts: int, config: WorkerConfig, rng: random.Random) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones: exponential, capped,
    half of it jittered (so retries of many deliveries spread out, yet never come at once)."""
    ceiling = min(config.backoff_cap_seconds, config.backoff_base_seconds * 2 ** (attempts - 1))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def claim_due(
    factory: sessionmaker[Session], worker: str, now: datetime, config: WorkerConfig
) -> list[ClaimedDelivery]:
    """Claim up to ``batch_size`` due deliveries for ``worker`` (committed before return)."""
    until = now + timedelta(seconds=config.lease_seconds)
    due = (
        Delivery.state.in_(DUE_STATES),
        Delivery.next_attempt_at <= now,
        or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now),
    )
    with system_unit_of_work(factory, label="worker") as session:
        candidates = list(
            session.scalars(
                select(Delivery.id)
                .where(*due)
                .order_by(Delivery.next_attempt_at, Delivery.id)
                .limit(config.batch_size)
                .with_for_update(skip_locked=True)
            )
        )
        if not candidates:
            return []
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(candidates), *due)
            .values(claimed_by=worker, claimed_until=until)
        )
        rows = session.execute(
            select(Delivery, OutboxMessage, WebhookSubscription)
            .join(OutboxMessage, OutboxMessage.id == Delivery.message_row_id)
            .join(WebhookSubscription, WebhookSubscription.id == Delivery.subscription_id)
            .where(
                Delivery.id.in_(candidates),
                Delivery.claimed_by == worker,
                Delivery.claimed_until == until,
            )
            .order_by(Delivery.next_attempt_at, Delivery.id)
        ).all()
        return [
            ClaimedDelivery(
                id=delivery.id,
                attempts=delivery.attempts,
                url=subscription.url,
                secret=subscription.secret,
                message_id=message.message_id,
                event_type=message.event_type,
                body=message_body(message),
                subscription_active=subscription.active,
            )
            for delivery, message, subscription in rows
        ]


def send(client: httpx.Client, claimed: ClaimedDelivery, timestamp: int) -> Outcome:
    """POST one delivery, signed at ``timestamp``; never raises for network trouble."""
    headers = signed_headers(
        secret=claimed.secret,
        timestamp=timestamp,
        body=claimed.body,
        message_id=claimed.message_id,
        event_type=claimed.event_type,
    )
    try:
        response = client.post(claimed.url, content=claimed.body, headers=headers)
    except httpx.HTTPError as exc:
        return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:1000])
    if 200 <= response.status_code < 300:
        return Outcome(True, response.status_code, "")
    return Outcome(
        False, response.status_code, f"HTTP {response.status_code}: {response.text[:500]}"
    )


def record_outcome(
    factory: sessionmaker[Session],
    claimed: ClaimedDelivery,
    outcome: Outcome,
    now: datetime,
    config: WorkerConfig,
    rng: random.Random,
) -> str:
    """Write the result of one attempt; the delivery's new state."""
    attempts = claimed.attempts + 1
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_status": outcome.status,
        "last_error": outcome.error,
        "last_attempt_at": now,
        "claimed_by": None,
        "claimed_until": None,
    }
    if outcome.ok:
        state = DeliveryState.DELIVERED
        values["delivered_at"] = now
    elif attempts >= config.max_attempts:
        state = DeliveryState.DEAD
    else:
        state = DeliveryState.RETRYING
        values["next_attempt_at"] = now + timedelta(seconds=backoff_delay(attempts, config, rng))
    values["state"] = state.value
    with system_unit_of_work(factory, label="worker") as session:
        session.execute(
            update(Delivery)
            .where(Delivery.id == claimed.id, Delivery.state != DeliveryState.DELIVERED.value)
            .values(**values)
        )
    return state.value


def park_inactive(factory: sessionmaker[Session], claimed: ClaimedDelivery, now: datetime) -> None:
    """A delivery whose subscription was switched off is dead (replayable once it is back on)."""
    with system_unit_of_work(factory, label="worker") as session:
        session.execute(
            update(Delivery)
            .where(Delivery.id == claimed.id)
            .values(
                state=DeliveryState.DEAD.value,
                last_error="subscription inactive",
                last_attempt_at=now,
                claimed_by=None,
                claimed_until=None,
            )
        )


def run_once(
    factory: sessionmaker[Session],
    *,
    worker: str,
    client: httpx.Client,
    config: WorkerConfig = WorkerConfig(),
    clock: Callable[[], datetime] = utcnow,
    rng: random.Random | None = None,
) -> dict[str, int]:
    """Claim one batch and deliver it; how many deliveries ended in each state."""
    rng = rng or random.Random()
    counts: dict[str, int] = {}
    for claimed in claim_due(factory, worker, clock(), config):
        if not claimed.subscription_active:
            park_inactive(factory, claimed, clock())
            counts[DeliveryState.DEAD.value] = counts.get(DeliveryState.DEAD.value, 0) + 1
            continue
        outcome = send(client, claimed, int(clock().timestamp()))
        state = record_outcome(factory, claimed, outcome, clock(), config, rng)
        counts[state] = counts.get(state, 0) + 1
    return counts


def run_forever(
    factory: sessionmaker[Session],
    *,
    worker: str,
    config: WorkerConfig = WorkerConfig(),
    stop: threading.Event | None = None,
) -> None:
    """Deliver until ``stop`` is set: batch after batch, pausing ``poll_interval`` when idle."""
    stop = stop or threading.Event()
    with httpx.Client(timeout=config.request_timeout_seconds) as client:
        while not stop.is_set():
            counts = run_once(factory, worker=worker, client=client, config=config)
            if not counts:
                stop.wait(config.poll_interval_seconds)
