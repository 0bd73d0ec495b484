"""Despatch advices that send themselves: a ledger projection that, in the capture
transaction of every shipping event, generates the advice for a receiving partner whose EDI
settings ask for it (``despatch_advice_auto``).

It runs after inventory's stock projection (imported first below), which records the event's
shipments and ``ship`` movements the advice is made of. Files are written under the process's
``MEDLEDGER_EDI_OUTBOUND_ROOT`` after commit.
"""

from __future__ import annotations

import medledger.inventory.projection  # noqa: F401  registers first: shipments the advice reads
from medledger.core.config import get_settings
from medledger.core.work import work_of
from medledger.integration.edi.service import advise_shipping_events
from medledger.trace.ledger.registry import LedgerChange, register_projection


class AutoDespatchAdvice:
    name = "integration.edi.auto_despatch_advice"

    def apply(self, change: LedgerChange) -> None:
        shipping = [
            stored.row_id
            for stored in change.events
            if stored.event.biz_step == "shipping" and stored.event.error_declaration is None
        ]
        if not shipping:
            return
        actor = work_of(change.session).actor
        advise_shipping_events(
            change.session,
            change.tenant_id,
            shipping,
            created_by=actor.label if actor is not None else "system",
            outbound_root=get_settings().edi_outbound_root,
        )


register_projection(AutoDespatchAdvice())
