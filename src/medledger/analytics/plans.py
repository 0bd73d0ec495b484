"""Supplier improvement plans: a goal, actions with owners and due dates on both sides, reviews,
and the NCRs and CAPAs that triggered it. The supplier's users see the plans for their party;
the hub's purchasing and QA people write them. Overdue actions show on both sides' homes."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from medledger.analytics.errors import Code, conflict, invalid
from medledger.analytics.models import (
    ImprovementAction,
    ImprovementPlan,
    ImprovementReview,
    PlanState,
)
from medledger.analytics.schemas import (
    ActionDoneIn,
    ActionOut,
    LinkOut,
    PlanIn,
    PlanOut,
    ReviewIn,
    ReviewOut,
)
from medledger.core.db import utcnow
from medledger.core.principal import Permission, Principal
from medledger.core.repository import get_visible
from medledger.core.scoping import scoped
from medledger.core.work import work_of
from medledger.parties.models import Party
from medledger.quality.models import Capa, Ncr


def _plans(principal: Principal) -> Select[Any]:
    return scoped(select(ImprovementPlan), ImprovementPlan, principal)


def list_plans(
    session: Session, principal: Principal, *, state: str | None = None
) -> list[ImprovementPlan]:
    """Plans the principal may see, open ones first, by due date."""
    principal.require(Permission.ANALYTICS_READ)
    stmt = _plans(principal)
    if state:
        stmt = stmt.where(ImprovementPlan.state == state)
    return list(
        session.scalars(
            stmt.order_by(
                ImprovementPlan.state.desc(), ImprovementPlan.due_date, ImprovementPlan.id
            )
        )
    )


def get_plan(session: Session, principal: Principal, plan_id: int) -> ImprovementPlan:
    principal.require(Permission.ANALYTICS_READ)
    return get_visible(session, ImprovementPlan, plan_id, principal)


def _check_links(session: Session, principal: Principal, data: PlanIn) -> None:
    links: tuple[tuple[str, Any, list[int]], ...] = (
        ("ncr_ids", Ncr, data.ncr_ids),
        ("capa_ids", Capa, data.capa_ids),
    )
    for field, model, ids in links:
        for index, record_id in enumerate(ids):
            record = session.get(model, record_id)
            if (
                record is None
                or record.tenant_id != principal.tenant_id
                or record.supplier_party_id != data.supplier_party_id
            ):
                raise invalid(
                    Code.LINK_UNKNOWN,
                    "Record {id} is not a record about this supplier.",
                    f"{field}.{index}",
                    id=record_id,
                )


def create_plan(session: Session, principal: Principal, data: PlanIn) -> ImprovementPlan:
    """Open a plan for a supplier of the tenant (audited with its actions)."""
    principal.require(Permission.ANALYTICS_WRITE)
    supplier = session.get(Party, data.supplier_party_id)
    if supplier is None or supplier.tenant_id != principal.tenant_id:
        raise invalid(
            Code.SUPPLIER_UNKNOWN,
            "Party {id} is not a party of this network.",
            "supplier_party_id",
            id=data.supplier_party_id,
        )
    _check_links(session, principal, data)
    count = session.scalar(
        select(func.count())
        .select_from(ImprovementPlan)
        .where(ImprovementPlan.tenant_id == principal.tenant_id)
    )
    plan = ImprovementPlan(
        tenant_id=principal.tenant_id,
        number=f"SIP-{(count or 0) + 1:05d}",
        supplier_party_id=supplier.id,
        title=data.title,
        goal=data.goal,
        owner_user_id=principal.user_id,
        due_date=data.due_date,
        state=PlanState.OPEN.value,
        ncr_ids=list(dict.fromkeys(data.ncr_ids)),
        capa_ids=list(dict.fromkeys(data.capa_ids)),
    )
    session.add(plan)
    session.flush()
    for action in data.actions:
        session.add(
            ImprovementAction(
                tenant_id=principal.tenant_id,
                plan_id=plan.id,
                description=action.description,
                side=action.side,
                owner_name=action.owner_name,
                due_date=action.due_date,
            )
        )
    session.flush()
    return plan


def _open_plan(session: Session, principal: Principal, plan_id: int) -> ImprovementPlan:
    principal.require(Permission.ANALYTICS_WRITE)
    plan = get_visible(session, ImprovementPlan, plan_id, principal)
    if plan.state != PlanState.OPEN.value:
        raise conflict(Code.PLAN_CLOSED, "Plan {number} is closed.", "", number=plan.number)
    return plan


def review_plan(
    session: Session, principal: Principal, plan_id: int, data: ReviewIn
) -> ImprovementPlan:
    """Record a review; ``close`` ends the plan."""
    plan = _open_plan(session, principal, plan_id)
    work_of(session).give_reason(data.note)
    session.add(
        ImprovementReview(
            tenant_id=principal.tenant_id,
            plan_id=plan.id,
            reviewer_label=principal.display_name,
            note=data.note,
        )
    )
    if data.close:
        plan.state = PlanState.CLOSED.value
        plan.closed_at = utcnow()
    session.flush()
    return plan


def complete_action(
    session: Session, principal: Principal, plan_id: int, action_id: int, data: ActionDoneIn
) -> ImprovementPlan:
    """Mark an action of an open plan done."""
    plan = _open_plan(session, principal, plan_id)
    action = session.get(ImprovementAction, action_id)
    if action is None or action.plan_id != plan.id:
        from medledger.core.errors import Code as CoreCode
        from medledger.core.errors import NotFound

        raise NotFound(
            "{entity} {id} was not found.",
            code=CoreCode.NOT_FOUND,
            params={"entity": "improvement_actions", "id": action_id},
        )
    if action.done_at is not None:
        raise conflict(Code.ACTION_DONE, "This action is already done.", "action_id")
    action.done_at = utcnow()
    action.done_note = data.note
    session.flush()
    return plan


def _actions(session: Session, plan_ids: list[int]) -> list[ImprovementAction]:
    if not plan_ids:
        return []
    return list(
        session.scalars(
            select(ImprovementAction)
            .where(ImprovementAction.plan_id.in_(plan_ids))
            .order_by(ImprovementAction.due_date, ImprovementAction.id)
        )
    )


def plan_out(session: Session, principal: Principal, plan: ImprovementPlan) -> PlanOut:
    today = utcnow().date()
    supplier = session.get(Party, plan.supplier_party_id)
    reviews = session.scalars(
        select(ImprovementReview)
        .where(ImprovementReview.plan_id == plan.id)
        .order_by(ImprovementReview.reviewed_at.desc(), ImprovementReview.id.desc())
    )
    ncrs = [session.get(Ncr, i) for i in plan.ncr_ids or []]
    capas = [session.get(Capa, i) for i in plan.capa_ids or []]
    is_open = plan.state == PlanState.OPEN.value
    return PlanOut(
        id=plan.id,
        number=plan.number,
        supplier_party_id=plan.supplier_party_id,
        supplier_name=supplier.name if supplier else "",
        title=plan.title,
        goal=plan.goal,
        due_date=plan.due_date,
        state=plan.state,
        overdue=is_open and plan.due_date < today,
        ncrs=[LinkOut(id=r.id, number=r.number, title=r.title, state=r.state) for r in ncrs if r],
        capas=[LinkOut(id=r.id, number=r.number, title=r.title, state=r.state) for r in capas if r],
        actions=[
            ActionOut(
                id=a.id,
                description=a.description,
                side=a.side,
                owner_name=a.owner_name,
                due_date=a.due_date,
                done=a.done_at is not None,
                done_note=a.done_note,
                overdue=is_open and a.done_at is None and a.due_date < today,
            )
            for a in _actions(session, [plan.id])
        ],
        reviews=[ReviewOut.model_validate(r) for r in reviews],
    )


def overdue_actions(
    session: Session, principal: Principal, today: date | None = None
) -> list[tuple[ImprovementPlan, ImprovementAction]]:
    """Open actions past their due date in the plans the principal sees: the hub sees the hub's
    side, a supplier its own side."""
    if not principal.can(Permission.ANALYTICS_READ):
        return []
    today = today or utcnow().date()
    side = "hub" if principal.sees_all_parties else "supplier"
    plans = {
        p.id: p
        for p in session.scalars(
            _plans(principal).where(ImprovementPlan.state == PlanState.OPEN.value)
        )
    }
    return [
        (plans[a.plan_id], a)
        for a in _actions(session, list(plans))
        if a.done_at is None and a.due_date < today and a.side == side
    ]
