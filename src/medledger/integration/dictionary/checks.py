"""The dictionary's checks registered with order intake (all channels), and used by imports."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from medledger.core.errors import FieldError
from medledger.core.principal import Principal
from medledger.integration.dictionary import service
from medledger.orders import hooks


def check_order_draft(session: Session, principal: Principal, draft: Any) -> list[FieldError]:
    """The order's header and lines against the version in force (the built-in version 0
    states what intake already checks, so only an approved version adds problems)."""
    version = service.active(session, principal.tenant_id)
    if version.number == 0:
        return []
    errors = service.check_record(
        version,
        "order",
        {
            "customer_reference": draft.customer_reference,
            "requested_delivery_date": draft.requested_delivery_date,
        },
        draft.where,
    )
    for line in draft.lines:
        errors += service.check_record(
            version,
            "order_line",
            {
                "gtin": line.gtin,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "requested_delivery_date": line.requested_delivery_date,
            },
            line.where,
        )
    return errors


hooks.register_draft_check(check_order_draft)
