"""Writing business facts to the outbox, in the transaction of the change.

:func:`publish` is what other contexts call. It stores the message and one delivery per
active subscription that asked for its event type and whose party may see it (the hub's
subscriptions see every fact of the tenant; a partner's only facts whose ``audience`` names
its party). A fact no subscription asked for is not stored: nobody is waiting for it, and a
capture of 20 000 shipping events should not write 20 000 rows for no one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from medledger.core.db import utcnow
from medledger.integration.models import (
    Delivery,
    DeliveryState,
    OutboxMessage,
    WebhookSubscription,
)
from medledger.parties.models import Tenant


def subscribers(
    session: Session, tenant_id: int, event_types: Iterable[str]
) -> list[tuple[int, int, frozenset[str]]]:
    """(subscription id, party id, event types) of the tenant's active subscriptions to any of
    ``event_types``."""
    wanted = set(event_types)
    rows = session.execute(
        select(
            WebhookSubscription.id, WebhookSubscription.party_id, WebhookSubscription.event_types
        ).where(WebhookSubscription.tenant_id == tenant_id, WebhookSubscription.active.is_(True))
    ).all()
    return [
        (int(sub_id), int(party_id), frozenset(types))
        for sub_id, party_id, types in rows
        if wanted.intersection(types)
    ]


def publish(
    session: Session,
    *,
    tenant_id: int,
    event_type: str,
    subject: str,
    payload: Mapping[str, Any],
    audience: Iterable[int],
    subscriptions: list[tuple[int, int, frozenset[str]]] | None = None,
) -> OutboxMessage | None:
    """Store ``payload`` as a message for the subscriptions that want it (in the caller's
    transaction); the message, or ``None`` when no subscription wants it.

    ``audience``: the parties that may see this fact. ``subscriptions`` may be passed by a
    caller publishing many facts at once (from :func:`subscribers`)."""
    if subscriptions is None:
        subscriptions = subscribers(session, tenant_id, [event_type])
    hub_party_id = session.scalar(select(Tenant.owner_party_id).where(Tenant.id == tenant_id))
    allowed = set(audience)
    targets = [
        (sub_id, party_id)
        for sub_id, party_id, types in subscriptions
        if event_type in types and (party_id == hub_party_id or party_id in allowed)
    ]
    if not targets:
        return None
    now = utcnow()
    message = OutboxMessage(
        tenant_id=tenant_id,
        message_id=str(uuid.uuid4()),
        event_type=event_type,
        subject=subject[:300],
        audience=sorted(allowed),
        payload=dict(payload),
        created_at=now,
    )
    session.add(message)
    session.flush()
    session.add_all(
        Delivery(
            tenant_id=tenant_id,
            message_row_id=message.id,
            subscription_id=sub_id,
            party_id=party_id,
            state=DeliveryState.PENDING.value,
            attempts=0,
            next_attempt_at=now,
            last_error="",
            created_at=now,
        )
        for sub_id, party_id in targets
    )
    session.flush()
    return message
