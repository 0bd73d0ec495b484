"""The dictionary's checks registered with order intake (all channels) and with the records
other contexts take in (``core.record_checks``: inspection results), and used by imports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from medledger.core.errors import FieldError
from medledger.core.principal import Principal
from medledger.core.record_checks import Where, register_record_check
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


def check_exchanged_record(
    session: Session, principal: Principal, entity: str, values: Mapping[str, Any], where: Where
) -> list[FieldError]:
    """A record of ``entity`` against the version in force (nothing for version 0)."""
    version = service.active(session, principal.tenant_id)
    if version.number == 0:
        return []
    # A list (a party's roles) is checked as imports write it: values separated by ";".
    flat = {
        name: ";".join(str(v) for v in value) if isinstance(value, list | tuple) else value
        for name, value in values.items()
    }
    return service.check_record(version, entity, flat, where)


register_record_check(check_exchanged_record)
