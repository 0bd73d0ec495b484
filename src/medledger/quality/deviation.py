"""Deviations: planned (approved beforehand for a window of time) or unplanned, with a risk
assessment, approval and a closing summary."""

from __future__ import annotations

from sqlalchemy.orm import Session

from medledger.core.db import utcnow
from medledger.core.errors import Conflict, field_error
from medledger.core.principal import Permission, Principal
from medledger.core.repository import apply_changes
from medledger.quality import repository as repo
from medledger.quality.errors import Code
from medledger.quality.models import Deviation
from medledger.quality.ncr import check_product, lots_of
from medledger.quality.schemas import DeviationIn, DeviationUpdate
from medledger.quality.service import check_hub_user, check_party, locked_record
from medledger.quality.workflows import DEVIATION_WORKFLOW

# The draft is edited freely; once approved only the closing summary (and owner, due date).
EDITABLE: dict[str, frozenset[str] | None] = {
    "draft": None,  # every field
    "approved": frozenset({"closure_summary", "owner_user_id", "due_date"}),
}


def _check_window(valid_from: object, valid_until: object) -> None:
    if valid_from is not None and valid_until is not None and valid_until < valid_from:  # type: ignore[operator]
        raise field_error(
            "valid_until",
            Code.DEVIATION_WINDOW_REVERSED,
            "The deviation must end on or after the day it starts.",
        )


def create_deviation(session: Session, principal: Principal, data: DeviationIn) -> Deviation:
    """Record a deviation (draft)."""
    principal.require(Permission.QUALITY_WRITE)
    check_product(session, principal, data.product_id)
    check_party(session, principal, "supplier_party_id", data.supplier_party_id)
    check_hub_user(session, principal, "owner_user_id", data.owner_user_id)
    _check_window(data.valid_from, data.valid_until)
    now = utcnow()
    deviation = Deviation(
        tenant_id=principal.tenant_id,
        number=repo.next_number(session, Deviation, principal.tenant_id, "DEV", now.year),
        title=data.title.strip(),
        description=data.description,
        kind=data.kind,
        state=DEVIATION_WORKFLOW.initial,
        product_id=data.product_id,
        supplier_party_id=data.supplier_party_id,
        affected_lots=lots_of(data.affected_lots),
        risk_assessment=data.risk_assessment,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        owner_user_id=data.owner_user_id,
        due_date=data.due_date,
        created_by_user_id=principal.user_id,
        created_by_party_id=principal.party_id,
        version=1,
    )
    session.add(deviation)
    session.flush()
    return deviation


def update_deviation(
    session: Session, principal: Principal, deviation_id: int, data: DeviationUpdate
) -> Deviation:
    """Edit the fields the deviation's state allows."""
    principal.require(Permission.QUALITY_WRITE)
    deviation: Deviation = locked_record(session, principal, "deviation", deviation_id)
    changes = data.model_dump(exclude_unset=True)
    if deviation.state not in EDITABLE:
        raise Conflict(
            "{record} cannot be edited while it is {state}.",
            code=Code.RECORD_LOCKED_BY_STATE,
            params={"record": deviation.number, "state": deviation.state},
        )
    allowed = EDITABLE[deviation.state]
    for key, value in changes.items():
        if allowed is not None and key not in allowed:
            raise Conflict(
                "{field} of {record} cannot be changed while it is {state}.",
                code=Code.RECORD_LOCKED_BY_STATE,
                params={"field": key, "record": deviation.number, "state": deviation.state},
            )
        if key in ("title", "description", "risk_assessment", "closure_summary") and value is None:
            raise field_error(key, Code.VALUE_REQUIRED, "This field is required.")
    if "product_id" in changes:
        check_product(session, principal, data.product_id)
    if "supplier_party_id" in changes:
        check_party(session, principal, "supplier_party_id", data.supplier_party_id)
    if "owner_user_id" in changes:
        check_hub_user(session, principal, "owner_user_id", data.owner_user_id)
    if "affected_lots" in changes:
        changes["affected_lots"] = lots_of(data.affected_lots or [])
    _check_window(
        changes.get("valid_from", deviation.valid_from),
        changes.get("valid_until", deviation.valid_until),
    )
    apply_changes(deviation, changes)
    deviation.version = (deviation.version or 0) + 1
    session.flush()
    return deviation
