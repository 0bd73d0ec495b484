"""REST routes: lanes (master data) and the lanes of an order line (comparison, choice)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from medledger.analytics import transport as service
from medledger.core.deps import CurrentPrincipal, DbSession
from medledger.core.types import RecordId
from medledger.transport.schemas import ChoiceIn, ComparisonOut, LaneIn, LaneOut, LaneUpdate

router = APIRouter(prefix="/api/v1/transport", tags=["transport"])


@router.get("/lanes", response_model=list[LaneOut])
def list_lanes(session: DbSession, principal: CurrentPrincipal) -> list[LaneOut]:
    """Every lane of the tenant (the hub's people; partners see none)."""
    return [LaneOut.model_validate(lane) for lane in service.list_lanes(session, principal)]


@router.post("/lanes", response_model=LaneOut, status_code=status.HTTP_201_CREATED)
def create_lane(session: DbSession, principal: CurrentPrincipal, data: LaneIn) -> LaneOut:
    """Add a lane; open demand not yet reserved is planned with it."""
    return LaneOut.model_validate(service.create_lane(session, principal, data))


@router.get("/lanes/{lane_id}", response_model=LaneOut)
def read_lane(session: DbSession, principal: CurrentPrincipal, lane_id: RecordId) -> LaneOut:
    return LaneOut.model_validate(service.get_lane(session, principal, lane_id))


@router.patch("/lanes/{lane_id}", response_model=LaneOut)
def update_lane(
    session: DbSession, principal: CurrentPrincipal, lane_id: RecordId, data: LaneUpdate
) -> LaneOut:
    """Change carrier, mode, cost, transit days, cold chain, activity or note."""
    return LaneOut.model_validate(service.update_lane(session, principal, lane_id, data))


@router.get("/order-lines/{line_id}/lanes", response_model=ComparisonOut)
def compare_lanes(
    session: DbSession, principal: CurrentPrincipal, line_id: RecordId
) -> ComparisonOut:
    """The lanes of an open order line compared against its promised date, the recommended
    one with its reason, the chosen one, and the transit days allocation uses."""
    return service.compare_for_line(session, principal, line_id)


@router.put("/order-lines/{line_id}/lane", response_model=ComparisonOut)
def choose_lane(
    session: DbSession, principal: CurrentPrincipal, line_id: RecordId, data: ChoiceIn
) -> ComparisonOut:
    """Ship the line on a lane: it is re-planned from the lane's origin with its transit days."""
    service.choose_lane(session, principal, line_id, data)
    return service.compare_for_line(session, principal, line_id)


@router.delete("/order-lines/{line_id}/lane", status_code=status.HTTP_204_NO_CONTENT)
def clear_choice(session: DbSession, principal: CurrentPrincipal, line_id: RecordId) -> Response:
    """Back to the best lane (re-planned)."""
    service.clear_choice(session, principal, line_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
