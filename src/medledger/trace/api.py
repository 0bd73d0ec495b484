"""The REST routes of the trace context.

* ``router``: the EPCIS 2.0 REST binding — capture (``/epcis/capture``, ``/epcis/events``) and
  query. Capture runs synchronously inside the request (see ``trace.ledger.capture``); the
  202 + ``Location`` contract of the binding is kept.
* ``trace_router``: ``GET /api/v1/trace`` (JSON report or CSV recall listing).

Thin: parse the body and headers, call the capture/query/trace service, shape the answer.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from medledger.core.db import utcnow
from medledger.core.deps import CurrentPrincipal, DbSession
from medledger.core.errors import DomainError, FieldError
from medledger.core.principal import Permission
from medledger.trace import repository, service
from medledger.trace.engine import Direction
from medledger.trace.ledger.capture import (
    ROLLBACK,
    STANDARD_CONTEXT,
    capture_document,
    capture_event,
)
from medledger.trace.query import query_document, query_events
from medledger.trace.schemas import CaptureJobOut

router = APIRouter(prefix="/epcis", tags=["epcis"])

JSON_TYPES = ("application/json", "application/ld+json")


async def _json_body(request: Request) -> Any:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in JSON_TYPES:
        raise DomainError(
            "Send EPCIS JSON as application/json or application/ld+json, not {content_type}.",
            code="epcis.unsupported_media_type",
            params={"content_type": content_type or "nothing"},
            status=415,
        )
    raw = await request.body()
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DomainError(
            "The body is not JSON: {reason}.",
            code="epcis.malformed_json",
            params={"reason": str(exc)[:200]},
            errors=[FieldError("", "epcis.malformed_json", "The body is not JSON")],
            status=400,
        ) from None


def _job_json(job: Any) -> dict[str, Any]:
    return CaptureJobOut.of(job).model_dump(mode="json", by_alias=True)


@router.post("/capture", status_code=202, summary="Capture an EPCISDocument (synchronous job)")
async def capture(request: Request, session: DbSession, principal: CurrentPrincipal) -> Response:
    document = await _json_body(request)
    behaviour = request.headers.get("gs1-capture-error-behaviour", ROLLBACK).strip().lower()
    job = capture_document(session, principal, document, error_behaviour=behaviour)
    return JSONResponse(
        _job_json(job), status_code=202, headers={"Location": f"/epcis/capture/{job.id}"}
    )


@router.get("/capture", summary="The caller's capture jobs, newest first")
def list_capture_jobs(
    session: DbSession,
    principal: CurrentPrincipal,
    perPage: int = 50,
) -> list[dict[str, Any]]:
    principal.require(Permission.TRACE_READ)
    limit = max(1, min(perPage, 500))
    return [_job_json(job) for job in repository.list_visible_jobs(session, principal, limit=limit)]


@router.get("/capture/{capture_id}", summary="A capture job: state and every error")
def read_capture_job(
    session: DbSession, principal: CurrentPrincipal, capture_id: str
) -> dict[str, Any]:
    principal.require(Permission.TRACE_READ)
    if not capture_id.isdigit():
        raise DomainError(
            "Capture job {id} was not found.",
            code="epcis.capture_job_not_found",
            params={"id": capture_id},
            status=404,
        )
    return _job_json(repository.get_visible_job(session, principal, int(capture_id)))


@router.post("/events", status_code=201, summary="Capture one EPCIS event")
async def capture_single_event(
    request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    event = await _json_body(request)
    event_id, created = capture_event(session, principal, event)
    return JSONResponse(
        {"eventID": event_id, "created": created},
        status_code=201,
        headers={"Location": f"/epcis/events/{quote(event_id, safe='')}"},
    )


@router.get("/events", summary="EPCIS SimpleEventQuery (EPCISQueryDocument, paged)")
def query(request: Request, session: DbSession, principal: CurrentPrincipal) -> Response:
    parameters = list(request.query_params.multi_items())
    page = query_events(session, principal, parameters)
    headers = {}
    if page.next_page_token is not None:
        kept = [(k, v) for k, v in parameters if k != "nextPageToken"]
        url = f"{request.url.path}?{urlencode([*kept, ('nextPageToken', page.next_page_token)])}"
        headers["Link"] = f'<{url}>; rel="next"'
    return JSONResponse(
        query_document(page.events, utcnow()),
        headers=headers,
        media_type="application/ld+json",
    )


@router.get("/events/{event_id:path}", summary="One EPCIS event by eventID (URL-encoded)")
def read_event(session: DbSession, principal: CurrentPrincipal, event_id: str) -> Response:
    principal.require(Permission.TRACE_READ)
    event = repository.get_visible_event(session, principal, event_id)
    document = repository.event_documents(session, principal, [event])[0]
    context = document.get("@context")
    extra = context if isinstance(context, list) else ([context] if context else [])
    document["@context"] = [STANDARD_CONTEXT, *extra]
    return JSONResponse(document, media_type="application/ld+json")


# --- the trace -----------------------------------------------------------------------

trace_router = APIRouter(prefix="/api/v1", tags=["trace"])


class TraceFormat(StrEnum):
    JSON = "json"
    CSV = "csv"


def wants_csv(request: Request, format: TraceFormat | None) -> bool:
    if format is not None:
        return format is TraceFormat.CSV
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


@trace_router.get(
    "/trace",
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
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
            report.listing_csv(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="trace.csv"'},
        )
    return JSONResponse(report.to_json())
