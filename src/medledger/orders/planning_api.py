"""REST routes of priority and allocation: rule sets, scores with their breakdown, the queue,
planning runs, reservations, the board and the approvals inbox."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medledger.compliance.signing import Credentials, SigningPolicy, failed_attempts_kept
from medledger.core.deps import CurrentPrincipal, DbSession
from medledger.core.principal import Permission, Principal
from medledger.core.repository import get_visible, list_visible
from medledger.core.schemas import Page
from medledger.core.types import RecordId
from medledger.orders import approvals, board, planning
from medledger.orders.models import Customer, Order, OrderLine
from medledger.orders.planning_models import (
    LineScore,
    LineShortfall,
    PlanningApproval,
    PriorityRuleSet,
    Reservation,
)
from medledger.parties.models import Party

router = APIRouter(prefix="/api/v1", tags=["priority"])


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class RuleSetIn(_In):
    """A new draft version: the engine's rule-set document (its ``version`` is assigned)."""

    document: dict[str, Any]
    note: str = Field("", max_length=2000)


class RuleSetOut(_Out):
    id: int
    name: str
    version: int
    state: str
    digest: str
    note: str
    document: dict[str, Any]
    created_at: datetime
    activated_at: datetime | None


class ReasonOnlyIn(_In):
    reason: str = Field("", max_length=500)


class OverrideIn(_In):
    score: float = Field(..., ge=-1000, le=1000)
    reason: str = Field("", max_length=500)


class PreemptionIn(_In):
    order_line_id: RecordId
    reason: str = Field("", max_length=500)


class SignatureIn(_In):
    password: str = Field(..., min_length=1, max_length=200)
    comment: str = Field("", max_length=1000)
    second_factor: str | None = Field(None, max_length=64)


class DecisionIn(_In):
    decision: Literal["approve", "reject"]
    note: str = Field("", max_length=1000)
    signature: SignatureIn | None = None


class MoveIn(_In):
    to: str = Field(..., min_length=1, max_length=16)
    reason: str = Field("", max_length=500)


class PlanIn(_In):
    solver: Literal["auto", "exact", "greedy"] = "auto"


class ApprovalOut(_Out):
    id: int
    number: str
    kind: str
    state: str
    order_line_id: int | None
    reservation_id: int | None
    rule_set_id: int | None
    details: dict[str, Any]
    reason: str
    requested_by: str
    requested_at: datetime
    decided_by: str
    decided_at: datetime | None
    decision_note: str


class Contribution(BaseModel):
    factor: str
    label: str
    contribution: float


class LineScoreOut(BaseModel):
    order_line_id: int
    order_id: int
    order_number: str
    line_number: int
    customer: str
    gtin: str
    quantity_open: int
    score: float
    rule_set_version: int | None
    contributions: list[Contribution]
    override_score: float | None
    reserved: int
    shortfall: int
    reasons: list[str]


class ReservationOut(_Out):
    id: int
    order_id: int
    order_line_id: int
    location_id: int
    gtin: str
    lot: str
    expiry: date | None
    quantity: int
    status: str


class ShortfallOut(_Out):
    order_line_id: int
    gtin: str
    quantity: int
    reasons: list[str]
    promise_date: date | None = None


class OrderPlanOut(BaseModel):
    order_id: int
    board_state: str
    reservations: list[ReservationOut]
    shortfalls: list[ShortfallOut]


class PlanOut(BaseModel):
    solver: str
    lines: int
    reserved_units: int
    shortfall_units: int


class RescoreOut(BaseModel):
    rule_set_id: int
    rule_set_version: int
    lines: int


class CardOut(BaseModel):
    order_id: int
    number: str
    customer: str
    channel: str
    column: str
    score: float
    lines: int
    units: int
    reserved: int
    shortfall: int
    reasons: list[str]
    promised: str
    targets: list[str]


class ColumnOut(BaseModel):
    label: str
    count: int
    cards: list[CardOut]


class BoardOut(BaseModel):
    columns: dict[str, ColumnOut]


class MoveOut(BaseModel):
    order_id: int
    board_state: str
    targets: list[str]


class PreemptionOut(BaseModel):
    approval: ApprovalOut | None
    reservation: ReservationOut | None


def _policy(request: Request) -> SigningPolicy:
    return SigningPolicy.from_settings(request.app.state.settings)


def _hub(principal: Principal) -> None:
    principal.require(Permission.ORDERS_FULFIL)


# --- rule sets -------------------------------------------------------------------------------


@router.get("/priority/rule-sets", response_model=list[RuleSetOut])
def list_rule_sets(session: DbSession, principal: CurrentPrincipal) -> list[RuleSetOut]:
    """Every version, newest first (the active one says ``active``)."""
    principal.require(Permission.PRIORITY_WRITE)
    planning.active_rule_set(session, principal.tenant_id)
    items, _ = list_visible(
        session,
        PriorityRuleSet,
        principal,
        order_by=PriorityRuleSet.version.desc(),
        page_size=200,
    )
    return [RuleSetOut.model_validate(i) for i in items]


@router.get("/priority/rule-sets/{rule_set_id}", response_model=RuleSetOut)
def read_rule_set(
    session: DbSession, principal: CurrentPrincipal, rule_set_id: RecordId
) -> RuleSetOut:
    principal.require(Permission.PRIORITY_WRITE)
    return RuleSetOut.model_validate(get_visible(session, PriorityRuleSet, rule_set_id, principal))


@router.post("/priority/rule-sets", response_model=RuleSetOut, status_code=201)
def create_rule_set(session: DbSession, principal: CurrentPrincipal, data: RuleSetIn) -> RuleSetOut:
    """Save a draft version (validated by the engine; errors name the field)."""
    return RuleSetOut.model_validate(
        planning.save_draft(session, principal, data.document, data.note)
    )


@router.post(
    "/priority/rule-sets/{rule_set_id}/activation", response_model=ApprovalOut, status_code=201
)
def ask_activation(
    session: DbSession, principal: CurrentPrincipal, rule_set_id: RecordId, data: ReasonOnlyIn
) -> ApprovalOut:
    """Ask for the activation of a draft: it takes effect when an approver signs it."""
    return ApprovalOut.model_validate(
        approvals.request_activation(session, principal, rule_set_id, data.reason)
    )


@router.post("/priority/rescore", response_model=RescoreOut)
def rescore_all(session: DbSession, principal: CurrentPrincipal) -> RescoreOut:
    """Score every open line again with the active rule set (as ``medledger score``)."""
    principal.require(Permission.PRIORITY_WRITE)
    result = planning.rescore(session, principal.tenant_id)
    return RescoreOut(
        rule_set_id=result.rule_set.id,
        rule_set_version=result.rule_set.version,
        lines=result.lines,
    )


@router.post("/priority/plan", response_model=PlanOut)
def plan_all(session: DbSession, principal: CurrentPrincipal, data: PlanIn) -> PlanOut:
    """Reserve free stock for all open demand not yet reserved (existing reservations stay)."""
    principal.require(Permission.PRIORITY_WRITE)
    result = planning.plan(session, principal.tenant_id, solver=data.solver)
    return PlanOut(**result.__dict__)


# --- scores and the queue --------------------------------------------------------------------


def queue_rows(
    session: Session,
    principal: Principal,
    *,
    gtin: str | None = None,
    order_id: int | None = None,
    line_id: int | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[LineScoreOut], int]:
    """Open lines by score (highest first), each with its breakdown."""
    _hub(principal)
    tenant = principal.tenant_id
    query = (
        select(LineScore, OrderLine, Order, Party.name, PriorityRuleSet)
        .join(OrderLine, OrderLine.id == LineScore.order_line_id)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Customer, Customer.id == Order.customer_id)
        .join(Party, Party.id == Customer.party_id)
        .outerjoin(PriorityRuleSet, PriorityRuleSet.id == LineScore.rule_set_id)
        .where(LineScore.tenant_id == tenant, OrderLine.status.in_(planning.OPEN_STATUSES))
    )
    if gtin:
        query = query.where(OrderLine.gtin == gtin)
    if order_id is not None:
        query = query.where(Order.id == order_id)
    if line_id is not None:
        query = query.where(OrderLine.id == line_id)
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = session.execute(
        query.order_by(LineScore.score.desc(), OrderLine.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    ids = [line.id for _, line, _, _, _ in rows]
    reserved = dict(
        session.execute(
            select(Reservation.order_line_id, func.sum(Reservation.quantity))
            .where(
                Reservation.order_line_id.in_(ids),
                Reservation.status.in_(planning.ACTIVE_RESERVATION),
            )
            .group_by(Reservation.order_line_id)
        ).all()
    )
    shortfalls = {
        s.order_line_id: s
        for s in session.scalars(select(LineShortfall).where(LineShortfall.order_line_id.in_(ids)))
    }
    out = []
    for score, line, order, customer, rule_set in rows:
        short = shortfalls.get(line.id)
        out.append(
            LineScoreOut(
                order_line_id=line.id,
                order_id=order.id,
                order_number=order.number,
                line_number=line.line_number,
                customer=customer,
                gtin=line.gtin,
                quantity_open=line.quantity - line.delivered_quantity,
                score=round(float(score.score), 4),
                rule_set_version=rule_set.version if rule_set else None,
                contributions=[Contribution(**c) for c in planning.explained(score, rule_set)],
                override_score=score.override_score,
                reserved=int(reserved.get(line.id, 0) or 0),
                shortfall=short.quantity if short else 0,
                reasons=list(short.reasons) if short else [],
            )
        )
    return out, total


@router.get("/priority/queue", response_model=Page[LineScoreOut])
def priority_queue(
    session: DbSession,
    principal: CurrentPrincipal,
    gtin: str | None = Query(None, max_length=14),
    page: int = Query(1, ge=1, le=10_000),
    page_size: int = Query(50, ge=1, le=500),
) -> Page[LineScoreOut]:
    items, total = queue_rows(session, principal, gtin=gtin, page=page, page_size=page_size)
    return Page(items=items, total=total, page=page, page_size=page_size)


@router.get("/order-lines/{line_id}/score", response_model=LineScoreOut)
def line_score(session: DbSession, principal: CurrentPrincipal, line_id: RecordId) -> LineScoreOut:
    """A line's score as the sum of its factor contributions."""
    items, _ = queue_rows(session, principal, line_id=line_id)
    if not items:
        get_visible(session, OrderLine, line_id, principal)
        from medledger.orders.errors import not_found

        raise not_found("order line score", line_id)
    return items[0]


@router.post("/order-lines/{line_id}/override", response_model=ApprovalOut, status_code=201)
def ask_override(
    session: DbSession, principal: CurrentPrincipal, line_id: RecordId, data: OverrideIn
) -> ApprovalOut:
    """Ask for a manual priority (takes effect when an approver signs it)."""
    return ApprovalOut.model_validate(
        approvals.request_override(session, principal, line_id, data.score, data.reason)
    )


# --- reservations ----------------------------------------------------------------------------


@router.get("/orders/{order_id}/plan", response_model=OrderPlanOut)
def order_plan(session: DbSession, principal: CurrentPrincipal, order_id: RecordId) -> OrderPlanOut:
    """The order's reservations (lot, location, quantity) and shortfalls with their reasons."""
    _hub(principal)
    order = get_visible(session, Order, order_id, principal)
    reservations = session.scalars(
        select(Reservation).where(Reservation.order_id == order.id).order_by(Reservation.id)
    ).all()
    shortfalls = session.scalars(
        select(LineShortfall)
        .where(LineShortfall.order_id == order.id)
        .order_by(LineShortfall.order_line_id)
    ).all()
    return OrderPlanOut(
        order_id=order.id,
        board_state=order.board_state,
        reservations=[ReservationOut.model_validate(r) for r in reservations],
        shortfalls=[ShortfallOut.model_validate(s) for s in shortfalls],
    )


@router.post(
    "/order-reservations/{reservation_id}/preemption", response_model=PreemptionOut, status_code=201
)
def ask_preemption(
    session: DbSession, principal: CurrentPrincipal, reservation_id: RecordId, data: PreemptionIn
) -> PreemptionOut:
    """Move reserved (not picked) units to another line: at once within one customer, after a
    signed approval from another customer's reservation."""
    approval, reservation = approvals.request_preemption(
        session, principal, reservation_id, data.order_line_id, data.reason
    )
    return PreemptionOut(
        approval=ApprovalOut.model_validate(approval) if approval else None,
        reservation=ReservationOut.model_validate(reservation) if reservation else None,
    )


# --- the board -------------------------------------------------------------------------------


@router.get("/order-board", response_model=BoardOut)
def read_board(session: DbSession, principal: CurrentPrincipal) -> BoardOut:
    """Columns with their cards (highest score first, 60 per column) and counts."""
    _hub(principal)
    columns = board.cards(session, principal)
    return BoardOut(
        columns={
            key: ColumnOut(
                label=value["label"],
                count=value["count"],
                cards=[CardOut(**card.__dict__) for card in value["cards"]],
            )
            for key, value in columns.items()
        }
    )


@router.post("/orders/{order_id}/board", response_model=MoveOut)
def move_card(
    session: DbSession, principal: CurrentPrincipal, order_id: RecordId, data: MoveIn
) -> MoveOut:
    """Move an order to another column; the transition table decides (409 otherwise)."""
    order = board.move(session, principal, order_id, data.to, data.reason)
    return MoveOut(
        order_id=order.id,
        board_state=order.board_state,
        targets=board.allowed_targets(order.board_state),
    )


# --- approvals -------------------------------------------------------------------------------


@router.get("/order-approvals", response_model=Page[ApprovalOut])
def list_order_approvals(
    session: DbSession,
    principal: CurrentPrincipal,
    state: Literal["pending", "approved", "rejected"] | None = None,
    page: int = Query(1, ge=1, le=10_000),
) -> Page[ApprovalOut]:
    items, total = approvals.list_approvals(session, principal, state, page)
    return Page(
        items=[ApprovalOut.model_validate(i) for i in items], total=total, page=page, page_size=50
    )


@router.get("/order-approvals/{approval_id}", response_model=ApprovalOut)
def read_order_approval(
    session: DbSession, principal: CurrentPrincipal, approval_id: RecordId
) -> ApprovalOut:
    return ApprovalOut.model_validate(approvals.get_approval(session, principal, approval_id))


@router.post("/order-approvals/{approval_id}/decision", response_model=ApprovalOut)
def decide_order_approval(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    approval_id: RecordId,
    data: DecisionIn,
) -> ApprovalOut:
    """Approve or reject with an electronic signature (the password again)."""
    policy = _policy(request)
    credentials = (
        Credentials(data.signature.password, data.signature.comment, data.signature.second_factor)
        if data.signature
        else None
    )
    with failed_attempts_kept(session, principal, policy):
        approval: PlanningApproval = approvals.decide(
            session,
            principal,
            approval_id,
            data.decision == "approve",
            credentials,
            data.note,
            policy=policy,
        )
    return ApprovalOut.model_validate(approval)
