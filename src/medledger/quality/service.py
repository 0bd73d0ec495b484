"""Use cases shared by every quality record: read, list, workflow steps, tasks and overdue items.

The record-specific use cases are in ``ncr.py``, ``capa.py`` and ``change_control.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from medledger.compliance import workflow as wf
from medledger.compliance.models import ElectronicSignature, WorkflowTransition
from medledger.compliance.signing import Credentials, SigningPolicy, signatures_of
from medledger.core.db import utcnow
from medledger.core.errors import NotFound, ValidationFailed
from medledger.core.principal import Permission, Principal
from medledger.core.repository import get_visible, list_visible
from medledger.core.scoping import scoped
from medledger.parties.errors import Code as PartiesCode
from medledger.parties.models import Party, User
from medledger.quality import repository as repo
from medledger.quality.errors import Code
from medledger.quality.models import (
    ChangeNotice,
    ChangeRequest,
    Inspection,
    Ncr,
)
from medledger.quality.records import RECORD_KINDS, WORKFLOWS
from medledger.quality.schemas import SignatureIn, TransitionIn


def _any(stmt: Any) -> Select[Any]:
    """A statement typed for ``core.scoping.scoped``."""
    return stmt


def model_of(kind: str) -> Any:
    spec = RECORD_KINDS.get(kind)
    if spec is None:
        raise NotFound("{entity} {id} was not found.", params={"entity": kind, "id": ""})
    return spec.model


def get_record(session: Session, principal: Principal, kind: str, record_id: int) -> Any:
    """A quality record the caller may see, or 404."""
    principal.require(Permission.QUALITY_READ)
    return get_visible(session, model_of(kind), record_id, principal)


def locked_record(session: Session, principal: Principal, kind: str, record_id: int) -> Any:
    """The record, row-locked on PostgreSQL, for a change; 404 if not visible."""
    principal.require(Permission.QUALITY_READ)
    record = repo.lock_record(session, model_of(kind), record_id, principal)
    if record is None:
        raise NotFound(
            "{entity} {id} was not found.",
            params={"entity": kind, "id": record_id},
        )
    return record


def credentials_of(signature: SignatureIn | None) -> Credentials | None:
    if signature is None:
        return None
    return Credentials(signature.password, signature.comment, signature.second_factor)


def transition(
    session: Session,
    principal: Principal,
    kind: str,
    record_id: int,
    data: TransitionIn,
    *,
    policy: SigningPolicy | None = None,
) -> Any:
    """Take a workflow step on a record (the transition table decides; see compliance.workflow).
    Wrap the call in ``signing.failed_attempts_kept`` so refused signatures are kept."""
    record = locked_record(session, principal, kind, record_id)
    if kind == "lot_release":
        from medledger.quality.lot_release import refresh_evidence

        refresh_evidence(session, record)
    wf.perform(
        session,
        principal,
        WORKFLOWS[kind],
        record,
        data.action,
        reason=data.reason,
        credentials=credentials_of(data.signature),
        policy=policy,
    )
    return record


def is_overdue(kind: str, record: Any, today: date | None = None) -> bool:
    today = today or utcnow().date()
    return (
        record.due_date is not None
        and record.due_date < today
        and record.state not in WORKFLOWS[kind].closed_states
    )


@dataclass(frozen=True)
class RecordView:
    """A record with what every display of it shows: signatures (checked against the current
    version), history, and the steps the viewer may take."""

    kind: str
    record: Any
    signatures: Any
    history: list[WorkflowTransition]
    offers: list[wf.Offer]
    overdue: bool


def view(session: Session, principal: Principal, kind: str, record: Any) -> RecordView:
    return RecordView(
        kind,
        record,
        signatures_of(session, principal, kind, record),
        wf.history(session, principal, kind, [record.id]),
        wf.offers(session, principal, WORKFLOWS[kind], record),
        is_overdue(kind, record),
    )


def out_payload(view_: RecordView) -> dict[str, Any]:
    """The common part of a record's API shape (signatures, history, available steps)."""
    sigs = view_.signatures
    return {
        "overdue": view_.overdue,
        "signatures": [signature_out(c.signature, c.valid) for c in sigs.signatures],
        "history": view_.history,
        "actions_available": [
            {
                "action": o.transition.action,
                "target": o.transition.target,
                "signature": o.transition.signature.value if o.transition.signature else None,
                "reason_required": o.transition.reason_required,
                "blocked_code": o.blocked.code if o.blocked else None,
            }
            for o in view_.offers
        ],
    }


def signature_out(signature: ElectronicSignature, matches: bool) -> dict[str, Any]:
    from medledger.compliance.signables import content_hash

    return {
        "id": signature.id,
        "record_kind": signature.record_kind,
        "record_id": signature.record_id,
        "record_label": signature.record_label,
        "meaning": signature.meaning,
        "printed_name": signature.printed_name,
        "signer_username": signature.signer_username,
        "signer_user_id": signature.signer_user_id,
        "signed_at": signature.signed_at,
        "content_hash": signature.content_hash,
        "record_state": signature.record_state,
        "workflow_action": signature.workflow_action,
        "comment": signature.comment,
        "authentication": signature.authentication,
        "intact": content_hash(signature.content) == signature.content_hash,
        "matches_current_version": matches,
    }


def list_records(
    session: Session,
    principal: Principal,
    kind: str,
    *,
    state: str | None = None,
    q: str | None = None,
    open_only: bool = False,
    overdue_only: bool = False,
    supplier_party_id: int | None = None,
    page: int = 1,
    page_size: int = 50,
    order_by: tuple[Any, ...] | None = None,
) -> tuple[list[Any], int]:
    """Records of one kind the caller may see, newest first (or in ``order_by``); ``q`` is a
    part of the title, or the number (or the lot, for kinds that name one) exactly."""
    principal.require(Permission.QUALITY_READ)
    model = model_of(kind)
    closed = WORKFLOWS[kind].closed_states
    filters: list[ColumnElement[bool]] = []
    if state:
        filters.append(model.state == state)
    if open_only:
        filters.append(model.state.not_in(closed))
    if overdue_only:
        filters.append(repo.overdue_filter(model, utcnow().date(), closed))
    if q:
        matches = [model.title.ilike(f"%{q}%"), model.number == q]
        if hasattr(model, "lot"):
            matches.append(model.lot == q)
        filters.append(or_(*matches))
    if supplier_party_id is not None and hasattr(model, "supplier_party_id"):
        filters.append(model.supplier_party_id == supplier_party_id)
    return list_visible(
        session,
        model,
        principal,
        filters=filters,
        order_by=order_by or (model.id.desc(),),
        page=page,
        page_size=page_size,
    )


@dataclass(frozen=True)
class Task:
    kind: str
    id: int
    number: str
    title: str
    state: str
    due_date: date | None
    overdue: bool
    why: str  # owner | approval | supplier_response | notice | results | overdue

    @property
    def path(self) -> str:
        return RECORD_KINDS[self.kind].page(self.id)


def _waiting_states(kind: str, principal: Principal) -> list[str]:
    """States in which a step needs a permission the principal has beyond reporting."""
    states = []
    for t in WORKFLOWS[kind].transitions:
        if t.permission == Permission.QUALITY_APPROVE and principal.can(t.permission):
            states.append(t.source)
    return sorted(set(states) - {"open", "received", "investigation", "investigating", "draft"})


def my_tasks(session: Session, principal: Principal, limit: int = 50) -> list[Task]:
    """What waits for the user: records it owns, records waiting for its approval, NCRs waiting
    for its party's answer, change notices its party has not acknowledged; for hub users also
    every overdue record. Overdue first, then by due date."""
    if not principal.can(Permission.QUALITY_READ):
        return []
    today = utcnow().date()
    tasks: dict[tuple[str, int], Task] = {}
    for kind, model in ((k, r.model) for k, r in RECORD_KINDS.items()):
        closed = WORKFLOWS[kind].closed_states
        conditions: list[tuple[str, ColumnElement[bool]]] = []
        if principal.user_id is not None:
            conditions.append(("owner", model.owner_user_id == principal.user_id))
        waiting = _waiting_states(kind, principal)
        if waiting and principal.sees_all_parties:
            conditions.append(("approval", model.state.in_(waiting)))
        if kind == "inspection" and not principal.sees_all_parties:
            conditions.append(
                (
                    "results",
                    (Inspection.state == "open") & (Inspection.lab_party_id == principal.party_id),
                )
            )
        if kind == "ncr" and not principal.sees_all_parties:
            conditions.append(
                (
                    "supplier_response",
                    (Ncr.state == "awaiting_supplier")
                    & (Ncr.supplier_party_id == principal.party_id),
                )
            )
        if principal.sees_all_parties:
            # A partner's list is what waits for its own answer, not the hub's backlog.
            conditions.append(("overdue", repo.overdue_filter(model, today, closed)))
        for why, condition in conditions:
            stmt = scoped(
                select(model).where(condition, model.state.not_in(closed)), model, principal
            ).limit(limit)
            for record in session.scalars(stmt):
                key = (kind, record.id)
                if key not in tasks or why == "overdue":
                    tasks[key] = Task(
                        kind,
                        record.id,
                        record.number,
                        record.title,
                        record.state,
                        record.due_date,
                        is_overdue(kind, record, today),
                        why,
                    )
    if not principal.sees_all_parties:
        stmt = (
            scoped(_any(select(ChangeRequest)), ChangeRequest, principal)
            .join(ChangeNotice, ChangeNotice.change_id == ChangeRequest.id)
            .where(
                ChangeNotice.party_id == principal.party_id, ChangeNotice.acknowledged_at.is_(None)
            )
        )
        for change in session.scalars(stmt):
            tasks.setdefault(
                ("change", change.id),
                Task(
                    "change",
                    change.id,
                    change.number,
                    change.title,
                    change.state,
                    change.due_date,
                    False,
                    "notice",
                ),
            )
    return sorted(
        tasks.values(),
        key=lambda t: (not t.overdue, t.due_date or date.max, t.kind, t.id),
    )[:limit]


def open_counts(session: Session, principal: Principal) -> dict[str, dict[str, int]]:
    """Per kind: open records and overdue records the caller may see."""
    principal.require(Permission.QUALITY_READ)
    today = utcnow().date()
    result = {}
    for kind, model in ((k, r.model) for k, r in RECORD_KINDS.items()):
        closed = WORKFLOWS[kind].closed_states
        base = scoped(_any(select(func.count()).select_from(model)), model, principal)
        result[kind] = {
            "open": int(session.scalar(base.where(model.state.not_in(closed))) or 0),
            "overdue": int(
                session.scalar(base.where(repo.overdue_filter(model, today, closed))) or 0
            ),
        }
    return result


# --- reference checks shared by the record use cases ------------------------------------------


def check_party(session: Session, principal: Principal, field: str, party_id: int | None) -> None:
    if party_id is None:
        return
    found = session.scalar(
        select(Party.id).where(Party.id == party_id, Party.tenant_id == principal.tenant_id)
    )
    if found is None:
        raise _invalid(field, PartiesCode.PARTY_UNKNOWN, "Party {id} does not exist.", id=party_id)


def check_hub_user(session: Session, principal: Principal, field: str, user_id: int | None) -> None:
    if user_id is None:
        return
    found = session.scalar(
        select(User.id).where(
            User.id == user_id,
            User.tenant_id == principal.tenant_id,
            User.party_id == principal.hub_party_id,
            User.active.is_(True),
        )
    )
    if found is None:
        raise _invalid(field, Code.USER_UNKNOWN, "User {id} does not exist.", id=user_id)


def _invalid(field: str, code: str, message: str, **params: Any) -> ValidationFailed:
    from medledger.core.errors import field_error

    return field_error(field, code, message, **params)
