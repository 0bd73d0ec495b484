"""Shipments and receipts recorded in the trace ledger, published to the outbox.

Registered with the ledger (``trace.ledger.registry``), so it runs in every capture
transaction: a ``shipping`` event becomes ``shipment.despatched``, a ``receiving`` event
``receipt.confirmed``, whoever captured it (the hub's warehouse, a 3PL, the receiving
distributor). The parties a fact concerns — the capturer and the registered parties its
source and destination lists name — are its audience: their subscriptions receive it.
Error declarations publish nothing (``event.corrected`` may follow when a partner needs it).
"""

from __future__ import annotations

from typing import Any

from medledger.integration.event_types import register_event_type
from medledger.integration.outbox import publish, subscribers
from medledger.trace.epcis.normalise import NormalisedEvent
from medledger.trace.ledger.item_keys import gln_of
from medledger.trace.ledger.registry import LedgerChange, register_projection
from medledger.trace.ledger.rules import resolve_parties

SHIPMENT_DESPATCHED = register_event_type(
    "shipment.despatched",
    "Goods left a site: an EPCIS shipping event (items, source, destination, documents).",
)
RECEIPT_CONFIRMED = register_event_type(
    "receipt.confirmed",
    "Goods arrived: an EPCIS receiving event (items, source, destination, documents).",
)
_BY_STEP = {"shipping": SHIPMENT_DESPATCHED.name, "receiving": RECEIPT_CONFIRMED.name}


def _payload(event: NormalisedEvent) -> dict[str, Any]:
    return {
        "eventID": event.event_id,
        "eventTime": event.event_time.isoformat().replace("+00:00", "Z"),
        "bizStep": event.biz_step,
        "disposition": event.disposition,
        "bizLocation": event.biz_location,
        "epcList": list(event.all_epcs),
        "quantityList": [
            {
                "epcClass": q.epc_class,
                "quantity": None if q.quantity is None else str(q.quantity),
                "uom": q.uom,
            }
            for q in event.quantity_list
        ],
        "sourceList": [{"type": s.type, "source": s.value} for s in event.source_list],
        "destinationList": [
            {"type": d.type, "destination": d.value} for d in event.destination_list
        ],
        "bizTransactionList": [
            {"type": t.type, "bizTransaction": t.value} for t in event.biz_transaction_list
        ],
    }


class LedgerEventPublisher:
    """The ledger projection that writes shipments and receipts to the outbox."""

    name = "integration.ledger_events"

    def apply(self, change: LedgerChange) -> None:
        relevant = [
            stored
            for stored in change.events
            if stored.event.biz_step in _BY_STEP and stored.event.error_declaration is None
        ]
        if not relevant:
            return
        subscriptions = subscribers(change.session, change.tenant_id, _BY_STEP.values())
        if not subscriptions:
            return
        glns = {
            gln
            for stored in relevant
            for entry in (*stored.event.source_list, *stored.event.destination_list)
            if (gln := gln_of(entry.value))
        }
        parties = resolve_parties(change.session, change.tenant_id, glns) if glns else {}
        for stored in relevant:
            event = stored.event
            audience = {change.capturing_party_id}
            for entry in (*event.source_list, *event.destination_list):
                gln = gln_of(entry.value)
                if gln and gln in parties:
                    audience.add(parties[gln])
            publish(
                change.session,
                tenant_id=change.tenant_id,
                event_type=_BY_STEP[event.biz_step or ""],
                subject=event.event_id,
                payload=_payload(event),
                audience=audience,
                subscriptions=subscriptions,
            )


register_projection(LedgerEventPublisher())
