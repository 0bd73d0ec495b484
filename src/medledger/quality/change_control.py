"""Change control: a change request with its affected products, BOMs and documents, impact
assessment, approval and effective date; partners whose items it touches are notified and
acknowledge in their portal."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from medledger.catalog.models import BillOfMaterials, Product
from medledger.core.db import utcnow
from medledger.core.errors import Conflict, NotFound, field_error
from medledger.core.principal import Permission, Principal
from medledger.core.repository import apply_changes
from medledger.core.scoping import scoped
from medledger.quality import repository as repo
from medledger.quality.errors import Code
from medledger.quality.models import ChangeNotice, ChangeRequest
from medledger.quality.schemas import AcknowledgeIn, ChangeIn, ChangeUpdate
from medledger.quality.service import check_hub_user, check_party, get_record, locked_record
from medledger.quality.workflows import CHANGE_WORKFLOW


def _check_ids(
    session: Session, principal: Principal, model: Any, field: str, ids: list[int]
) -> None:
    if not ids:
        return
    found = set(
        session.scalars(
            select(model.id).where(model.tenant_id == principal.tenant_id, model.id.in_(ids))
        )
    )
    for position, value in enumerate(ids):
        if value not in found:
            raise field_error(
                f"{field}.{position}", Code.RECORD_UNKNOWN, "Record {id} does not exist.", id=value
            )


def _check_references(session: Session, principal: Principal, values: dict[str, Any]) -> None:
    _check_ids(
        session,
        principal,
        Product,
        "affected_product_ids",
        values.get("affected_product_ids") or [],
    )
    _check_ids(
        session,
        principal,
        BillOfMaterials,
        "affected_bom_ids",
        values.get("affected_bom_ids") or [],
    )
    for position, party_id in enumerate(values.get("extra_party_ids") or []):
        check_party(session, principal, f"extra_party_ids.{position}", party_id)
    if values.get("owner_user_id") is not None:
        check_hub_user(session, principal, "owner_user_id", values["owner_user_id"])


def create_change(session: Session, principal: Principal, data: ChangeIn) -> ChangeRequest:
    """Open a change request (draft)."""
    principal.require(Permission.QUALITY_WRITE)
    values = data.model_dump()
    _check_references(session, principal, values)
    now = utcnow()
    change = ChangeRequest(
        tenant_id=principal.tenant_id,
        number=repo.next_number(session, ChangeRequest, principal.tenant_id, "CC", now.year),
        state=CHANGE_WORKFLOW.initial,
        created_by_user_id=principal.user_id,
        created_by_party_id=principal.party_id,
        version=1,
        **{**values, "title": data.title.strip()},
    )
    session.add(change)
    session.flush()
    return change


def update_change(
    session: Session, principal: Principal, change_id: int, data: ChangeUpdate
) -> ChangeRequest:
    """Edit a change request while it is a draft."""
    principal.require(Permission.QUALITY_WRITE)
    change: ChangeRequest = locked_record(session, principal, "change", change_id)
    if change.state != "draft":
        raise Conflict(
            "{record} cannot be edited while it is {state}.",
            code=Code.RECORD_LOCKED_BY_STATE,
            params={"record": change.number, "state": change.state},
        )
    changes = data.model_dump(exclude_unset=True)
    for key in ("title", "description", "reason_for_change", "impact_assessment"):
        if key in changes and changes[key] is None:
            raise field_error(key, Code.VALUE_REQUIRED, "This field is required.")
    for key in (
        "affected_product_ids",
        "affected_bom_ids",
        "affected_documents",
        "extra_party_ids",
    ):
        if key in changes and changes[key] is None:
            changes[key] = []
    if "affected_documents" in changes:
        changes["affected_documents"] = [
            d.strip()[:200] for d in changes["affected_documents"] if d.strip()
        ]
    _check_references(session, principal, changes)
    apply_changes(change, changes)
    change.version = (change.version or 0) + 1
    session.flush()
    return change


def notices(session: Session, principal: Principal, change: ChangeRequest) -> list[ChangeNotice]:
    """The change's notices the caller may see (a partner: only its own)."""
    query: Select[Any] = select(ChangeNotice).where(ChangeNotice.change_id == change.id)
    stmt = scoped(query, ChangeNotice, principal).order_by(ChangeNotice.party_id)
    return list(session.scalars(stmt))


def acknowledge(
    session: Session, principal: Principal, change_id: int, data: AcknowledgeIn
) -> ChangeNotice:
    """A notified partner acknowledges the change (once)."""
    principal.require(Permission.QUALITY_REPORT)
    change = get_record(session, principal, "change", change_id)
    notice = session.scalar(
        select(ChangeNotice).where(
            ChangeNotice.change_id == change.id, ChangeNotice.party_id == principal.party_id
        )
    )
    if notice is None:
        raise NotFound(
            "Your party was not notified of {record}.",
            code=Code.CHANGE_NOT_NOTIFIED,
            params={"record": change.number},
        )
    if notice.acknowledged_at is not None:
        raise Conflict(
            "{record} was acknowledged already.",
            code=Code.CHANGE_ALREADY_ACKNOWLEDGED,
            params={"record": change.number},
        )
    notice.acknowledged_at = utcnow()
    notice.acknowledged_by_user_id = principal.user_id
    notice.comment = data.comment.strip()
    session.flush()
    return notice
