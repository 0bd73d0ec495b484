"""The gateway's listener for business facts (``core.facts``): every announcement becomes an
outbox message for the subscriptions that want it, in the announcer's transaction.

Facts that carry an EDI document for a partner (``edi`` in the payload: ``standard``,
``filename``, ``content``, ``party_id``) are also written to that partner's outbound folder
after commit, when its EDI settings name one (``integration.edi.service.deliver_document``).
"""

from __future__ import annotations

from medledger.core.facts import Announcement, register_listener
from medledger.integration.edi.service import deliver_document
from medledger.integration.outbox import publish


class OutboxListener:
    name = "integration.outbox"

    def heard(self, announcement: Announcement) -> None:
        publish(
            announcement.session,
            tenant_id=announcement.tenant_id,
            event_type=announcement.fact.name,
            subject=announcement.subject,
            payload=announcement.payload,
            audience=announcement.audience,
        )
        document = announcement.payload.get("edi")
        if isinstance(document, dict) and document.get("content"):
            deliver_document(
                announcement.session,
                tenant_id=announcement.tenant_id,
                party_id=int(document["party_id"]),
                filename=str(document["filename"]),
                content=str(document["content"]),
            )


register_listener(OutboxListener())
