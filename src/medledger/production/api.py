"""REST routes: work orders (plan, start, complete, cancel) and device history records."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, status

from medledger.core.deps import CurrentPrincipal, DbSession
from medledger.core.schemas import Page
from medledger.core.types import RecordId
from medledger.identifiers.fields import GTIN
from medledger.production import service
from medledger.production.schemas import (
    CompleteIn,
    DeviceHistoryOut,
    RequirementOut,
    StartIn,
    WorkOrderIn,
    WorkOrderOut,
)

router = APIRouter(prefix="/api/v1", tags=["production"])

StatusFilter = Literal["planned", "in_progress", "completed", "cancelled"]


_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "The production location (or the finished lot) was not found."}
}


@router.post(
    "/work-orders",
    response_model=WorkOrderOut,
    status_code=status.HTTP_201_CREATED,
    responses=_NOT_FOUND,
)
def create_work_order(
    session: DbSession, principal: CurrentPrincipal, data: WorkOrderIn
) -> WorkOrderOut:
    """Plan a work order by the product's active BOM at a managed production location."""
    order = service.create_work_order(session, principal, data)
    return service.work_order_out(session, order)


@router.get("/work-orders", response_model=Page[WorkOrderOut])
def list_work_orders(
    session: DbSession,
    principal: CurrentPrincipal,
    status_: Annotated[StatusFilter | None, Query(alias="status")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[WorkOrderOut]:
    orders, total = service.list_work_orders(
        session, principal, status=status_, page=page, page_size=page_size
    )
    return Page(
        items=[service.work_order_out(session, o) for o in orders],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.get("/work-orders/{work_order_id}", response_model=WorkOrderOut)
def read_work_order(
    session: DbSession, principal: CurrentPrincipal, work_order_id: RecordId
) -> WorkOrderOut:
    order = service.get_work_order(session, principal, work_order_id)
    return service.work_order_out(session, order)


@router.get("/work-orders/{work_order_id}/requirements", response_model=list[RequirementOut])
def read_requirements(
    session: DbSession, principal: CurrentPrincipal, work_order_id: RecordId
) -> list[RequirementOut]:
    """Per BOM line: units needed and units available at the production location."""
    order = service.get_work_order(session, principal, work_order_id)
    return service.requirements(session, order)


@router.post("/work-orders/{work_order_id}/start", response_model=WorkOrderOut)
def start_work_order(
    session: DbSession, principal: CurrentPrincipal, work_order_id: RecordId, data: StartIn
) -> WorkOrderOut:
    order = service.start_work_order(session, principal, work_order_id, data)
    return service.work_order_out(session, order)


@router.post("/work-orders/{work_order_id}/completion", response_model=WorkOrderOut)
def complete_work_order(
    session: DbSession, principal: CurrentPrincipal, work_order_id: RecordId, data: CompleteIn
) -> WorkOrderOut:
    """Consume the components and produce the finished lot (one TransformationEvent)."""
    order = service.complete_work_order(session, principal, work_order_id, data)
    return service.work_order_out(session, order)


@router.post("/work-orders/{work_order_id}/cancellation", response_model=WorkOrderOut)
def cancel_work_order(
    session: DbSession, principal: CurrentPrincipal, work_order_id: RecordId
) -> WorkOrderOut:
    order = service.cancel_work_order(session, principal, work_order_id)
    return service.work_order_out(session, order)


@router.get("/device-history", response_model=DeviceHistoryOut, responses=_NOT_FOUND)
def read_device_history(
    session: DbSession,
    principal: CurrentPrincipal,
    gtin: GTIN,
    lot: Annotated[str, Query(min_length=1, max_length=20, pattern=r"^[!-~]+$")],
) -> DeviceHistoryOut:
    """The device history record of a finished lot: work order, components and lots
    consumed, quantities, operators and times."""
    return service.device_history(session, principal, gtin, lot)
