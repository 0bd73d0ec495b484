"""Use cases of the integration gateway: subscriptions, deliveries, replay."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from medledger.compliance import audit
from medledger.core.db import utcnow
from medledger.core.principal import Permission, Principal
from medledger.core.repository import apply_changes, get_visible, list_visible
from medledger.core.scoping import scoped
from medledger.integration import errors
from medledger.integration.event_types import is_known
from medledger.integration.models import (
    Delivery,
    DeliveryState,
    OutboxMessage,
    WebhookSubscription,
)
from medledger.integration.schemas import SubscriptionIn, SubscriptionUpdate
from medledger.integration.signing import new_secret

REPLAYABLE = (DeliveryState.DEAD.value, DeliveryState.RETRYING.value)


def check_url(url: str, *, allow_private_networks: bool) -> str:
    """``url`` if webhooks may be sent there: http(s) with a host; unless private networks are
    allowed, not a loopback, private or link-local address (a partner must not make the hub
    call its own internal services)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise errors.field_invalid(
            "url", errors.URL_NOT_ALLOWED, "Give an http or https URL with a host name."
        )
    if allow_private_networks:
        return url
    host = parts.hostname.lower()
    private = host == "localhost" or host.endswith(".localhost")
    try:
        address = ipaddress.ip_address(host)
        private = private or not address.is_global
    except ValueError:
        pass
    if private:
        raise errors.field_invalid(
            "url",
            errors.URL_NOT_ALLOWED,
            "Webhooks cannot be sent to {host}: it is not a public address.",
            host=host,
        )
    return url


def _check_event_types(names: list[str]) -> list[str]:
    unknown = [name for name in names if not is_known(name)]
    if unknown:
        raise errors.field_invalid(
            "event_types",
            errors.UNKNOWN_EVENT_TYPE,
            "Unknown event type {name}.",
            name=unknown[0],
        )
    return sorted(set(names))


def create_subscription(
    session: Session, principal: Principal, data: SubscriptionIn, *, allow_private_networks: bool
) -> tuple[WebhookSubscription, str]:
    """Subscribe the principal's party to ``data.event_types``; the subscription and its
    secret (returned this once)."""
    principal.require(Permission.INTEGRATION_MANAGE)
    secret = new_secret()
    subscription = WebhookSubscription(
        tenant_id=principal.tenant_id,
        party_id=principal.party_id,
        name=data.name,
        url=check_url(data.url, allow_private_networks=allow_private_networks),
        event_types=_check_event_types(data.event_types),
        secret=secret,
        active=True,
        created_at=utcnow(),
        created_by=principal.label,
    )
    session.add(subscription)
    session.flush()
    return subscription, secret


def get_subscription(
    session: Session, principal: Principal, subscription_id: int
) -> WebhookSubscription:
    return get_visible(session, WebhookSubscription, subscription_id, principal)


def list_subscriptions(
    session: Session, principal: Principal, *, page: int = 1, page_size: int = 50
) -> tuple[list[WebhookSubscription], int]:
    return list_visible(session, WebhookSubscription, principal, page=page, page_size=page_size)


def update_subscription(
    session: Session,
    principal: Principal,
    subscription_id: int,
    data: SubscriptionUpdate,
    *,
    allow_private_networks: bool,
) -> WebhookSubscription:
    """Rename, re-point, change the event types of, or switch a subscription on or off."""
    # The permission first, as everywhere: a role without it learns nothing (403, not 404).
    principal.require(Permission.INTEGRATION_MANAGE)
    subscription = get_subscription(session, principal, subscription_id)
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    if "url" in changes:
        changes["url"] = check_url(changes["url"], allow_private_networks=allow_private_networks)
    if "event_types" in changes:
        changes["event_types"] = _check_event_types(changes["event_types"])
    apply_changes(subscription, changes)
    session.flush()
    return subscription


def rotate_secret(session: Session, principal: Principal, subscription_id: int) -> str:
    """A new secret for the subscription (the old one stops working at once)."""
    # The permission first, as everywhere: a role without it learns nothing (403, not 404).
    principal.require(Permission.INTEGRATION_MANAGE)
    subscription = get_subscription(session, principal, subscription_id)
    subscription.secret = new_secret()
    session.flush()
    return subscription.secret


def list_deliveries(
    session: Session,
    principal: Principal,
    *,
    state: str | None = None,
    subscription_id: int | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[tuple[Delivery, OutboxMessage]], int]:
    """Deliveries the principal may see (newest first), with their messages."""
    from sqlalchemy import func

    base: Any = select(Delivery, OutboxMessage)
    stmt: Any = scoped(base, Delivery, principal).join(
        OutboxMessage, OutboxMessage.id == Delivery.message_row_id
    )
    if state:
        stmt = stmt.where(Delivery.state == state)
    if subscription_id is not None:
        stmt = stmt.where(Delivery.subscription_id == subscription_id)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.execute(
        stmt.order_by(Delivery.id.desc()).offset((page - 1) * page_size).limit(page_size)
    ).all()
    return [(d, m) for d, m in rows], int(total)


def get_delivery(
    session: Session, principal: Principal, delivery_id: int
) -> tuple[Delivery, OutboxMessage]:
    delivery = get_visible(session, Delivery, delivery_id, principal)
    message = session.get(OutboxMessage, delivery.message_row_id)
    assert message is not None
    return delivery, message


def replay_delivery(session: Session, principal: Principal, delivery_id: int) -> Delivery:
    """Put a dead (or retrying) delivery back in the queue, due now; audited."""
    delivery = get_visible(session, Delivery, delivery_id, principal)
    principal.require(Permission.INTEGRATION_MANAGE)
    return _replay(session, delivery)


def _replay(session: Session, delivery: Delivery) -> Delivery:
    if delivery.state not in REPLAYABLE:
        raise errors.not_replayable(delivery.state)
    old = {"state": delivery.state, "attempts": delivery.attempts}
    delivery.state = DeliveryState.PENDING.value
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    delivery.claimed_by = None
    delivery.claimed_until = None
    session.flush()
    audit.record(
        session,
        tenant_id=delivery.tenant_id,
        action="replay",
        entity_type="webhook_deliveries",
        entity_id=delivery.id,
        old_values=old,
        new_values={"state": delivery.state, "attempts": 0},
    )
    return delivery


def replay_dead(session: Session, tenant_id: int | None = None) -> list[int]:
    """Replay every dead delivery (of one tenant, or all): the operator's
    ``medledger outbox replay --dead``. The ids replayed."""
    stmt = select(Delivery).where(Delivery.state == DeliveryState.DEAD.value)
    if tenant_id is not None:
        stmt = stmt.where(Delivery.tenant_id == tenant_id)
    replayed = []
    for delivery in session.scalars(stmt.order_by(Delivery.id)):
        _replay(session, delivery)
        replayed.append(delivery.id)
    return replayed


def replay_ids(session: Session, ids: list[int]) -> list[int]:
    """Replay the deliveries ``ids`` (operator, any tenant): each is read through the scoping
    helper as its tenant's administrator, so a missing id answers like everywhere else."""
    from medledger.core.errors import NotFound
    from medledger.core.system import tenant_admin

    replayed = []
    for delivery_id in ids:
        tenant_id = session.scalar(select(Delivery.tenant_id).where(Delivery.id == delivery_id))
        if tenant_id is None:
            raise NotFound("Delivery {id} was not found.", params={"id": delivery_id})
        operator = tenant_admin(session, int(tenant_id), label="cli")
        _replay(session, get_visible(session, Delivery, delivery_id, operator))
        replayed.append(delivery_id)
    return replayed


def state_counts(session: Session) -> dict[tuple[int, str], int]:
    """(tenant id, state) → number of deliveries (operators' status)."""
    from sqlalchemy import func

    rows = session.execute(
        select(Delivery.tenant_id, Delivery.state, func.count()).group_by(
            Delivery.tenant_id, Delivery.state
        )
    ).all()
    return {(int(t), str(s)): int(n) for t, s, n in rows}
