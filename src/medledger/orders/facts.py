"""The business facts orders announce (``core.facts``) for partners' systems."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from medledger.core.facts import announce, declare_fact
from medledger.orders.models import Acknowledgement, Order

ORDER_ACKNOWLEDGED = declare_fact(
    "order.acknowledged",
    "An order received by EDI was acknowledged: the order response (EANCOM ORDRSP or X12 855) "
    "with the document itself.",
)
_UNSAFE = re.compile(r"[^0-9A-Za-z_-]")


def acknowledged(session: Session, order: Order, ack: Acknowledgement) -> None:
    """Announce ``ack`` to the ordering party (its webhooks; its EDI outbound folder)."""
    extension = "edi" if ack.standard == "ORDRSP" else "x12"
    reference = _UNSAFE.sub("_", order.customer_reference)[:35] or str(order.id)
    filename = f"{ack.standard}_{reference}_{ack.control_reference}.{extension}"
    announce(
        session,
        tenant_id=order.tenant_id,
        fact=ORDER_ACKNOWLEDGED,
        subject=order.customer_reference,
        payload={
            "order_id": order.id,
            "customer_reference": order.customer_reference,
            "order_version": ack.order_version,
            "status": order.status,
            "edi": {
                "party_id": order.party_id,
                "standard": ack.standard,
                "control_reference": ack.control_reference,
                "filename": filename,
                "content": ack.content,
            },
        },
        audience=[order.party_id],
    )
