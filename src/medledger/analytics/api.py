"""REST routes: supplier scorecards and their records, the KPI board and its records, the
settings (weights, targets), supplier improvement plans."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel

from medledger.analytics import insights, kpis, plans, service
from medledger.analytics.schemas import (
    ActionDoneIn,
    BoardOut,
    PlanIn,
    PlanOut,
    RecordOut,
    ReviewIn,
    ScorecardOut,
    SettingsIn,
    SettingsOut,
    SupplierScoreOut,
)
from medledger.core.deps import CurrentPrincipal, DbSession
from medledger.core.types import RecordId

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

Month = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$", max_length=7)]


class KpiRecordsOut(BaseModel):
    kpi: str
    value: float | None
    records: list[RecordOut]


@router.get("/suppliers", response_model=list[SupplierScoreOut])
def list_suppliers(
    session: DbSession, principal: CurrentPrincipal, month: Month = None
) -> list[SupplierScoreOut]:
    """Every supplier's scorecard total for a month (a supplier's users: their own only)."""
    return service.supplier_ranking(session, principal, month=month)


@router.get("/scorecards/{party_id}", response_model=ScorecardOut)
def read_scorecard(
    session: DbSession,
    principal: CurrentPrincipal,
    party_id: RecordId,
    date_from: date | None = None,
    date_to: date | None = None,
) -> ScorecardOut:
    """A supplier's scorecard per month (404 for a partner asking about another party)."""
    return service.supplier_scorecard(
        session, principal, party_id, date_from=date_from, date_to=date_to
    )


@router.get("/scorecards/{party_id}/records", response_model=list[RecordOut])
def scorecard_records(
    session: DbSession,
    principal: CurrentPrincipal,
    party_id: RecordId,
    month: Month = None,
    factor: Annotated[str, Query(max_length=20)] = "otif",
) -> list[RecordOut]:
    """The records behind one factor of one month (default: the current month's OTIF)."""
    from medledger.analytics.periods import month_of
    from medledger.core.db import utcnow

    return service.scorecard_records(
        session, principal, party_id, month=month or month_of(utcnow()), factor=factor
    )


@router.get("/kpis", response_model=BoardOut)
def read_board(
    session: DbSession,
    principal: CurrentPrincipal,
    date_from: date | None = None,
    date_to: date | None = None,
) -> BoardOut:
    """The KPI board for a period (default: the last 6 months)."""
    return kpis.board(session, principal, date_from=date_from, date_to=date_to)


@router.get("/kpis/{kpi}/records", response_model=KpiRecordsOut)
def kpi_records(
    session: DbSession,
    principal: CurrentPrincipal,
    kpi: Annotated[str, Path(max_length=40)],
    date_from: date | None = None,
    date_to: date | None = None,
    month: Month = None,
    dimension: Annotated[str | None, Query(max_length=20)] = None,
    value: Annotated[str | None, Query(max_length=200)] = None,
) -> KpiRecordsOut:
    """The rows behind a KPI, one month or one breakdown group of it, and their figure."""
    records, figure = kpis.kpi_records(
        session,
        principal,
        kpi,
        date_from=date_from,
        date_to=date_to,
        month=month,
        dimension=dimension,
        value=value,
    )
    return KpiRecordsOut(kpi=kpi, value=figure, records=records)


@router.get("/settings", response_model=SettingsOut)
def read_settings(session: DbSession, principal: CurrentPrincipal) -> SettingsOut:
    """Scorecard weights and parameters, KPI targets."""
    return service.settings_out(session, principal)


@router.put("/settings", response_model=SettingsOut)
def write_settings(
    session: DbSession, principal: CurrentPrincipal, data: SettingsIn
) -> SettingsOut:
    """Change scorecard weights and parameters or KPI targets."""
    return service.update_settings(session, principal, data)


@router.get("/plans", response_model=list[PlanOut])
def list_plans(
    session: DbSession,
    principal: CurrentPrincipal,
    state: Annotated[str | None, Query(max_length=10)] = None,
) -> list[PlanOut]:
    """Supplier improvement plans (a supplier's users: the plans for their party)."""
    return [
        plans.plan_out(session, principal, p)
        for p in plans.list_plans(session, principal, state=state)
    ]


@router.post("/plans", response_model=PlanOut, status_code=status.HTTP_201_CREATED)
def create_plan(session: DbSession, principal: CurrentPrincipal, data: PlanIn) -> PlanOut:
    """Open an improvement plan for a supplier, with its actions and linked NCRs and CAPAs."""
    return plans.plan_out(session, principal, plans.create_plan(session, principal, data))


@router.get("/plans/{plan_id}", response_model=PlanOut)
def read_plan(session: DbSession, principal: CurrentPrincipal, plan_id: RecordId) -> PlanOut:
    return plans.plan_out(session, principal, plans.get_plan(session, principal, plan_id))


@router.post("/plans/{plan_id}/reviews", response_model=PlanOut)
def review_plan(
    session: DbSession, principal: CurrentPrincipal, plan_id: RecordId, data: ReviewIn
) -> PlanOut:
    """Record a review of the plan (and close it, if ``close``)."""
    return plans.plan_out(session, principal, plans.review_plan(session, principal, plan_id, data))


@router.post("/plans/{plan_id}/actions/{action_id}/done", response_model=PlanOut)
def complete_action(
    session: DbSession,
    principal: CurrentPrincipal,
    plan_id: RecordId,
    action_id: RecordId,
    data: ActionDoneIn,
) -> PlanOut:
    """Mark one action done."""
    plan = plans.complete_action(session, principal, plan_id, action_id, data)
    return plans.plan_out(session, principal, plan)


@router.get("/forecasts")
def read_forecasts(
    session: DbSession,
    principal: CurrentPrincipal,
    gtin: Annotated[str | None, Query(max_length=14)] = None,
    region: Annotated[str | None, Query(max_length=8)] = None,
    horizon: Annotated[int, Query(ge=1, le=12)] = 3,
) -> list[dict[str, object]]:
    """Demand forecast per product and region from order history, with its backtest (MAPE of
    the method and of the naive last-value forecast over the held-out months)."""
    return insights.forecasts(session, principal, gtin=gtin, region=region, horizon=horizon)


@router.get("/spc")
def read_control_chart(
    session: DbSession,
    principal: CurrentPrincipal,
    characteristic: Annotated[str, Query(max_length=40)] = "supplier_lead_time",
    supplier_party_id: RecordId | None = None,
    gtin: Annotated[str | None, Query(max_length=14)] = None,
    nelson: bool = False,
) -> dict[str, object]:
    """A control chart of a measured characteristic across lots, with the run rules each point
    fires and links to its lot, NCRs and trace."""
    return insights.control_chart(
        session,
        principal,
        characteristic,
        supplier_party_id=supplier_party_id,
        gtin=gtin,
        nelson=nelson,
    )
