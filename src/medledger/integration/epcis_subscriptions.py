"""EPCIS query subscriptions delivered as webhooks (the sink of ``trace.named_queries``).

A subscription to a named EPCIS query (``POST /epcis/queries/{name}/subscriptions``) gets a
webhook subscription of its party to ``epcis.query_result`` with the subscriber's ``dest`` and
signing secret; each report (an ``EPCISQueryDocument`` of the events the subscriber may see)
is a message for that webhook alone, signed, retried and replayable like every other delivery.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from medledger.core.db import utcnow
from medledger.core.principal import Principal
from medledger.integration.event_types import register_event_type
from medledger.integration.models import WebhookSubscription
from medledger.integration.outbox import publish
from medledger.trace.named_queries import EVENT_TYPE, register_webhook_sink

QUERY_RESULT = register_event_type(
    EVENT_TYPE,
    "A report of an EPCIS query subscription: the newly captured events the query selects "
    "(EPCISQueryDocument; only to the subscription it belongs to).",
)


class OutboxWebhookSink:
    def open(
        self, session: Session, principal: Principal, *, name: str, url: str, secret: str
    ) -> int:
        webhook = WebhookSubscription(
            tenant_id=principal.tenant_id,
            party_id=principal.party_id,
            name=name[:100],
            url=url,
            event_types=[EVENT_TYPE],
            secret=secret,
            active=True,
            created_at=utcnow(),
            created_by=principal.label[:200],
        )
        session.add(webhook)
        session.flush()
        return webhook.id

    def deliver(
        self,
        session: Session,
        *,
        tenant_id: int,
        party_id: int,
        webhook_id: int,
        subject: str,
        document: dict[str, Any],
    ) -> None:
        publish(
            session,
            tenant_id=tenant_id,
            event_type=EVENT_TYPE,
            subject=subject,
            payload=document,
            audience={party_id},
            subscriptions=[(webhook_id, party_id, frozenset({EVENT_TYPE}))],
        )

    def close(self, session: Session, webhook_id: int) -> None:
        webhook = session.get(WebhookSubscription, webhook_id)
        if webhook is not None:
            webhook.active = False
            session.flush()

    def check_url(self, url: str, *, allow_private_networks: bool) -> str:
        from medledger.integration.service import check_url

        return check_url(url, allow_private_networks=allow_private_networks)


register_webhook_sink(OutboxWebhookSink())
