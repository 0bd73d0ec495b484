"""Exceptions that need a second person's signed approval: a manual priority override, the
pre-emption of another customer's reservation, the activation of a rule-set version.

Whoever may plan (``priority:write``) asks, with a reason; the request is an
``order_approvals`` row (``pending``). An approver (``priority:approve``, not the requester)
approves or rejects it with an electronic signature (``compliance.signing``: password again,
meaning ``approved``/``rejected``, bound to the SHA-256 of the request's content); an approval
takes effect in the same transaction. A refused signature, a wrong role or a request that is
no longer pending changes nothing.

**Pre-emption policy.** Re-planning never takes reserved stock from a line. Reserved (not yet
picked) units can be moved to another line by a pre-emption: within one customer it is done
at once (with a reason); from another customer's reservation it needs the signed approval.
Picked stock is never pre-empted (409 ``reservation.picked``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medledger.compliance.signables import Meaning, SignableKind, register_signable
from medledger.compliance.signing import Credentials, SigningPolicy, sign
from medledger.core.db import utcnow
from medledger.core.principal import Permission, Principal
from medledger.core.repository import get_visible, list_visible
from medledger.core.work import work_of
from medledger.orders import planning
from medledger.orders.errors import Code, planning_conflict
from medledger.orders.models import Order, OrderLine, ShipTo
from medledger.orders.planning_models import (
    ApprovalKind,
    ApprovalState,
    LineScore,
    PlanningApproval,
    PriorityRuleSet,
    Reservation,
    ReservationStatus,
    RuleSetState,
)
from medledger.orders.repository import OPEN_STATUSES

KIND = "order_approval"


def _content(_session: Session, approval: PlanningApproval) -> dict[str, Any]:
    return {
        "kind": approval.kind,
        "order_line_id": approval.order_line_id,
        "reservation_id": approval.reservation_id,
        "rule_set_id": approval.rule_set_id,
        "details": approval.details,
        "reason": approval.reason,
        "requested_by": approval.requested_by,
    }


register_signable(
    SignableKind(
        kind=KIND,
        model=PlanningApproval,
        content=_content,
        author=lambda a: a.requested_by_user_id,
        label=lambda a: a.number,
        path=lambda a: f"/orders/approvals/{a.id}",
    )
)


def _new(
    session: Session, principal: Principal, kind: ApprovalKind, reason: str, **fields: Any
) -> PlanningApproval:
    approval = PlanningApproval(
        tenant_id=principal.tenant_id,
        party_id=principal.hub_party_id or principal.party_id,
        kind=kind.value,
        state=ApprovalState.PENDING.value,
        reason=reason,
        requested_by_user_id=principal.user_id,
        requested_by=principal.label,
        **fields,
    )
    session.add(approval)
    work_of(session).give_reason(reason)
    session.flush()
    return approval


def _open_line(session: Session, principal: Principal, line_id: int) -> OrderLine:
    line = get_visible(session, OrderLine, line_id, principal)
    if line.status not in OPEN_STATUSES:
        raise planning_conflict(
            Code.LINE_NOT_OPEN,
            "Order line {id} is {status}.",
            "order_line_id",
            id=line_id,
            status=line.status,
        )
    return line


def _no_pending(session: Session, principal: Principal, **where: Any) -> None:
    query = select(PlanningApproval.id).where(
        PlanningApproval.tenant_id == principal.tenant_id,
        PlanningApproval.state == ApprovalState.PENDING.value,
    )
    for column, value in where.items():
        query = query.where(getattr(PlanningApproval, column) == value)
    found = session.scalar(query.limit(1))
    if found is not None:
        raise planning_conflict(
            Code.APPROVAL_PENDING_EXISTS,
            "Approval request {id} for this is still pending.",
            next(iter(where)),
            id=found,
        )


def request_override(
    session: Session, principal: Principal, line_id: int, score: float, reason: str
) -> PlanningApproval:
    principal.require(Permission.PRIORITY_WRITE)
    reason = planning.require_reason(reason)
    line = _open_line(session, principal, line_id)
    _no_pending(session, principal, order_line_id=line.id, kind=ApprovalKind.OVERRIDE.value)
    current = session.scalar(select(LineScore.score).where(LineScore.order_line_id == line.id))
    return _new(
        session,
        principal,
        ApprovalKind.OVERRIDE,
        reason,
        order_line_id=line.id,
        details={"score": float(score), "score_before": current},
    )


def request_activation(
    session: Session, principal: Principal, rule_set_id: int, reason: str
) -> PlanningApproval:
    principal.require(Permission.PRIORITY_WRITE)
    reason = planning.require_reason(reason)
    rule_set = get_visible(session, PriorityRuleSet, rule_set_id, principal)
    if rule_set.state != RuleSetState.DRAFT.value:
        raise planning_conflict(
            Code.RULE_SET_NOT_DRAFT,
            "Rule set version {version} is {state}; only a draft can be activated.",
            "rule_set_id",
            version=rule_set.version,
            state=rule_set.state,
        )
    _no_pending(session, principal, rule_set_id=rule_set.id)
    return _new(
        session,
        principal,
        ApprovalKind.RULE_SET,
        reason,
        rule_set_id=rule_set.id,
        details={"version": rule_set.version, "digest": rule_set.digest},
    )


def _eligible(session: Session, tenant_id: int, reservation: Reservation, line: OrderLine) -> bool:
    """May the reserved lot serve ``line`` (released, product, region, cold chain, shelf life)?"""
    if reservation.gtin != line.gtin:
        return False
    order = session.get(Order, line.order_id)
    assert order is not None
    ship_to = session.get(ShipTo, order.ship_to_id)
    assert ship_to is not None
    network = planning.load_network(session, tenant_id, {line.gtin})
    lot = next(
        (
            lot
            for lot in network.lots
            if (lot.location_id, lot.lot) == (reservation.location_id, reservation.lot)
        ),
        None,
    )
    if lot is None or ship_to.region not in network.authorised.get(line.gtin, set()):
        return False
    if lot.storage != "ambient" and not ship_to.cold_chain_capable:
        return False
    transit = planning.lot_transit_days(network, lot, line.id, ship_to)
    if transit is None:
        return False
    if lot.expiry is None:
        return True
    arrival = network.as_of.toordinal() + transit
    return lot.expiry.toordinal() - arrival >= line.min_remaining_shelf_life_days


def _unreserved(session: Session, line: OrderLine) -> int:
    held = session.scalar(
        select(func.coalesce(func.sum(Reservation.quantity), 0)).where(
            Reservation.order_line_id == line.id,
            Reservation.status.in_(planning.ACTIVE_RESERVATION),
        )
    )
    return line.quantity - line.delivered_quantity - int(held or 0)


def request_preemption(
    session: Session, principal: Principal, reservation_id: int, line_id: int, reason: str
) -> tuple[PlanningApproval | None, Reservation | None]:
    """Ask to move reserved units to ``line_id``. Same customer: done now (returns the new
    reservation); another customer's: a pending approval (returned)."""
    principal.require(Permission.PRIORITY_WRITE)
    reason = planning.require_reason(reason)
    reservation = get_visible(session, Reservation, reservation_id, principal)
    line = _open_line(session, principal, line_id)
    _check_preemptible(session, principal.tenant_id, reservation, line)
    if reservation.party_id == line.party_id:
        work_of(session).give_reason(reason)
        return None, _preempt(session, principal.tenant_id, reservation, line)
    _no_pending(session, principal, reservation_id=reservation.id)
    approval = _new(
        session,
        principal,
        ApprovalKind.PREEMPTION,
        reason,
        order_line_id=line.id,
        reservation_id=reservation.id,
        details={
            "from_order_line_id": reservation.order_line_id,
            "gtin": reservation.gtin,
            "lot": reservation.lot,
            "location_id": reservation.location_id,
            "quantity": min(reservation.quantity, _unreserved(session, line)),
        },
    )
    return approval, None


def _check_preemptible(
    session: Session, tenant_id: int, reservation: Reservation, line: OrderLine
) -> None:
    if reservation.status == ReservationStatus.PICKED.value:
        raise planning_conflict(
            Code.RESERVATION_PICKED,
            "Reservation {id} is already picked; picked stock is never pre-empted.",
            "reservation_id",
            id=reservation.id,
        )
    if reservation.status != ReservationStatus.RESERVED.value:
        raise planning_conflict(
            Code.RESERVATION_NOT_ACTIVE,
            "Reservation {id} is {status}.",
            "reservation_id",
            id=reservation.id,
            status=reservation.status,
        )
    if reservation.order_line_id == line.id or _unreserved(session, line) <= 0:
        raise planning_conflict(
            Code.PREEMPTION_NOT_NEEDED,
            "Order line {id} needs no more stock.",
            "order_line_id",
            id=line.id,
        )
    if not _eligible(session, tenant_id, reservation, line):
        raise planning_conflict(
            Code.PREEMPTION_INELIGIBLE,
            "Lot {lot} may not serve order line {id} (product, region, cold chain or shelf life).",
            "order_line_id",
            lot=reservation.lot,
            id=line.id,
        )


def _preempt(
    session: Session, tenant_id: int, reservation: Reservation, line: OrderLine
) -> Reservation:
    units = min(reservation.quantity, _unreserved(session, line))
    loser_order = reservation.order_id
    taken = Reservation(
        tenant_id=tenant_id,
        party_id=line.party_id,
        order_id=line.order_id,
        order_line_id=line.id,
        location_id=reservation.location_id,
        gtin=reservation.gtin,
        lot=reservation.lot,
        expiry=reservation.expiry,
        quantity=units,
    )
    if units == reservation.quantity:
        session.delete(reservation)
    else:
        reservation.quantity -= units
    session.add(taken)
    session.flush()
    # The loser is planned again from free stock; both orders move on the board.
    loser = session.get(Order, loser_order)
    if loser is not None and loser.board_state == "allocated":
        loser.board_state = "scored"
    planning.plan(session, tenant_id, gtins={line.gtin})
    planning.settle_board(session, tenant_id, {line.order_id, loser_order})
    return taken


def decide(
    session: Session,
    principal: Principal,
    approval_id: int,
    approve: bool,
    credentials: Credentials | None,
    note: str = "",
    *,
    policy: SigningPolicy | None = None,
) -> PlanningApproval:
    """Approve or reject a pending request with an electronic signature; an approval takes
    effect now. Wrap in ``signing.failed_attempts_kept`` to keep refused signatures."""
    principal.require(Permission.PRIORITY_APPROVE)
    approval = get_visible(session, PlanningApproval, approval_id, principal)
    if approval.state != ApprovalState.PENDING.value:
        raise planning_conflict(
            Code.APPROVAL_NOT_PENDING,
            "Approval request {number} is already {state}.",
            "approval_id",
            number=approval.number,
            state=approval.state,
        )
    meaning = Meaning.APPROVED if approve else Meaning.REJECTED
    sign(session, principal, KIND, approval, meaning, credentials, policy=policy)
    approval.state = (ApprovalState.APPROVED if approve else ApprovalState.REJECTED).value
    approval.decided_by = principal.label
    approval.decided_at = utcnow()
    approval.decision_note = note.strip()[:1000]
    work_of(session).give_reason(note or f"{approval.number} {approval.state}")
    if approve:
        _take_effect(session, principal, approval)
    session.flush()
    return approval


def _take_effect(session: Session, principal: Principal, approval: PlanningApproval) -> None:
    tenant = principal.tenant_id
    if approval.kind == ApprovalKind.RULE_SET.value:
        rule_set = session.get(PriorityRuleSet, approval.rule_set_id)
        assert rule_set is not None
        planning.activate(session, tenant, rule_set)
        return
    assert approval.order_line_id is not None
    line = _open_line(session, principal, approval.order_line_id)
    if approval.kind == ApprovalKind.OVERRIDE.value:
        planning.rescore(session, tenant, order_ids={line.order_id})
        score = session.scalars(select(LineScore).where(LineScore.order_line_id == line.id)).one()
        score.override_score = float(approval.details["score"])
        score.override_approval_id = approval.id
        session.flush()
        planning.rescore(session, tenant, order_ids={line.order_id})
        planning.plan(session, tenant, gtins={line.gtin})
        return
    reservation = session.get(Reservation, approval.reservation_id)
    if reservation is None:
        raise planning_conflict(
            Code.RESERVATION_NOT_ACTIVE,
            "Reservation {id} is no longer held.",
            "reservation_id",
            id=approval.reservation_id,
        )
    _check_preemptible(session, tenant, reservation, line)
    _preempt(session, tenant, reservation, line)


def get_approval(session: Session, principal: Principal, approval_id: int) -> PlanningApproval:
    principal.require(Permission.PRIORITY_WRITE)
    return get_visible(session, PlanningApproval, approval_id, principal)


def list_approvals(
    session: Session, principal: Principal, state: str | None = "pending", page: int = 1
) -> tuple[list[PlanningApproval], int]:
    if not (principal.can(Permission.PRIORITY_WRITE) or principal.can(Permission.PRIORITY_APPROVE)):
        principal.require(Permission.PRIORITY_APPROVE)
    filters = [PlanningApproval.state == state] if state else []
    return list_visible(
        session,
        PlanningApproval,
        principal,
        filters=filters,
        order_by=PlanningApproval.id.desc(),
        page=page,
        page_size=50,
    )


def summary(session: Session, approval: PlanningApproval) -> dict[str, Any]:
    """What a person approving needs to see, in plain words (one line per fact)."""
    facts: dict[str, Any] = defaultdict(str)
    if approval.order_line_id is not None:
        line = session.get(OrderLine, approval.order_line_id)
        if line is not None:
            order = session.get(Order, line.order_id)
            facts["line"] = f"{order.number if order else ''}/{line.line_number} {line.gtin}"
    facts.update({k: v for k, v in approval.details.items() if v is not None})
    return dict(facts)
