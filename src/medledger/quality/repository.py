"""Quality queries and partner-visibility rules.

A partner user sees a quality record only when it concerns its party:

* an NCR about its material (``supplier_party_id``) or one it reported itself;
* a CAPA or a deviation shared with it as the supplier concerned (and that CAPA's actions);
* a change request it was notified of (a :class:`ChangeNotice` for its party), and its own
  notices.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from medledger.core.db import is_postgres
from medledger.core.principal import Principal
from medledger.core.scoping import party_rule, scoped
from medledger.quality.models import (
    Capa,
    CapaAction,
    ChangeNotice,
    ChangeRequest,
    Complaint,
    Deviation,
    Inspection,
    Ncr,
    ServiceRecord,
)


@party_rule(Ncr)
def _ncr_visible(principal: Principal) -> ColumnElement[bool]:
    return or_(
        Ncr.supplier_party_id == principal.party_id, Ncr.created_by_party_id == principal.party_id
    )


@party_rule(Capa)
def _capa_visible(principal: Principal) -> ColumnElement[bool]:
    return Capa.supplier_party_id == principal.party_id


@party_rule(CapaAction)
def _capa_action_visible(principal: Principal) -> ColumnElement[bool]:
    return CapaAction.capa_id.in_(
        select(Capa.id).where(Capa.supplier_party_id == principal.party_id)
    )


@party_rule(Deviation)
def _deviation_visible(principal: Principal) -> ColumnElement[bool]:
    return Deviation.supplier_party_id == principal.party_id


@party_rule(Complaint)
def _complaint_visible(principal: Principal) -> ColumnElement[bool]:
    return Complaint.created_by_party_id == principal.party_id


@party_rule(ServiceRecord)
def _service_record_visible(principal: Principal) -> ColumnElement[bool]:
    return ServiceRecord.performed_by_party_id == principal.party_id


@party_rule(Inspection)
def _inspection_visible(principal: Principal) -> ColumnElement[bool]:
    # A test lab sees the inspections of the lots sent to it (and enters their results).
    return Inspection.lab_party_id == principal.party_id


@party_rule(ChangeRequest)
def _change_visible(principal: Principal) -> ColumnElement[bool]:
    return ChangeRequest.id.in_(
        select(ChangeNotice.change_id).where(ChangeNotice.party_id == principal.party_id)
    )


@party_rule(ChangeNotice)
def _notice_visible(principal: Principal) -> ColumnElement[bool]:
    return ChangeNotice.party_id == principal.party_id


def next_number(session: Session, model: Any, tenant_id: int, prefix: str, year: int) -> str:
    """``PREFIX-YYYY-NNNN``: one more than the tenant's highest of that year."""
    stem = f"{prefix}-{year}-"
    highest = session.scalar(
        select(func.max(model.number)).where(
            model.tenant_id == tenant_id, model.number.like(f"{stem}%")
        )
    )
    last = int(str(highest).rsplit("-", 1)[1]) if highest else 0
    return f"{stem}{last + 1:04d}"


def lock_record(session: Session, model: Any, record_id: int, principal: Principal) -> Any:
    """The visible record, locked for a state change on PostgreSQL (None if not visible)."""
    stmt: Select[Any] = scoped(select(model).where(model.id == record_id), model, principal)
    if is_postgres(session):
        stmt = stmt.with_for_update()
    return session.scalars(stmt.execution_options(populate_existing=True)).first()


def capa_actions(session: Session, capa_ids: list[int]) -> dict[int, list[CapaAction]]:
    result: dict[int, list[CapaAction]] = {i: [] for i in capa_ids}
    if capa_ids:
        for action in session.scalars(
            select(CapaAction).where(CapaAction.capa_id.in_(capa_ids)).order_by(CapaAction.id)
        ):
            result[action.capa_id].append(action)
    return result


def change_notices(session: Session, change_id: int) -> list[ChangeNotice]:
    return list(
        session.scalars(
            select(ChangeNotice)
            .where(ChangeNotice.change_id == change_id)
            .order_by(ChangeNotice.party_id)
        )
    )


def lots_held_by_other_open_ncrs(
    session: Session, tenant_id: int, ncr_id: int, closed_states: frozenset[str]
) -> set[tuple[str, str]]:
    """(gtin, lot) pairs that another open NCR of the tenant still names."""
    held: set[tuple[str, str]] = set()
    rows = session.scalars(
        select(Ncr.affected_lots).where(
            Ncr.tenant_id == tenant_id, Ncr.id != ncr_id, Ncr.state.not_in(closed_states)
        )
    )
    for lots in rows:
        for lot in lots or []:
            held.add((str(lot.get("gtin")), str(lot.get("lot"))))
    return held


def overdue_filter(model: Any, today: date, closed_states: frozenset[str]) -> ColumnElement[bool]:
    return (model.due_date < today) & model.state.not_in(closed_states)
