"""REST route of the trace: ``GET /api/v1/trace`` (JSON report or CSV recall listing)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from medledger.core.deps import CurrentPrincipal, DbSession
from medledger.trace import service
from medledger.trace.engine import Direction, TraceReport

router = APIRouter(prefix="/api/v1", tags=["trace"])


class TraceFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


def listing_csv(report: TraceReport) -> str:
    """The recall listing as CSV text (header row first)."""
    return report.listing_csv()


def wants_csv(request: Request, format: TraceFormat | None) -> bool:
    if format is not None:
        return format is TraceFormat.CSV
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


@router.get(
    "/trace",
    responses={
        200: {"content": {"application/json": {}, "text/csv": {}}},
        404: {"description": "Nothing recorded for the item, or not visible to the caller"},
    },
    summary="Trace a lot, serial or logistic unit upstream and/or downstream",
)
def trace_item(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    id: Annotated[
        str,
        Query(
            min_length=1,
            max_length=500,
            description="Scan, bracketed string, Digital Link URI or EPC URN.",
        ),
    ],
    direction: Direction = Direction.DOWNSTREAM,
    format: TraceFormat | None = None,
) -> Any:
    """Lots, serials, logistic units, parties, linking events and gaps reached from ``id``.

    ``format=csv`` (or ``Accept: text/csv``) answers the flat recall listing instead: one
    row per reached unit or lot with its last known holder, location and disposition.
    """
    report = service.trace(session, principal, service.TraceRequest(id, direction))
    if wants_csv(request, format):
        return Response(
            listing_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="trace.csv"'},
        )
    return JSONResponse(report.to_json())
