"""The REST routes of the trace context.

* ``router``: the EPCIS 2.0 REST binding — capture (``/epcis/capture``, ``/epcis/events``) and
  query. Capture runs synchronously inside the request (see ``trace.ledger.capture``); the
  202 + ``Location`` contract of the binding is kept.
* ``trace_router``: ``GET /api/v1/trace`` (JSON report or CSV recall listing).

Thin: parse the body and headers, call the capture/query/trace service, shape the answer.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from medledger.core.bodies import parse_json, parsed_json
from medledger.core.db import utcnow
from medledger.core.deps import CurrentPrincipal, DbSession
from medledger.core.errors import FieldError, NotFound, UnsupportedMediaType
from medledger.core.principal import Permission
from medledger.core.types import record_id_or_none
from medledger.trace import repository, service
from medledger.trace.engine import Direction
from medledger.trace.errors import Code
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
        raise UnsupportedMediaType(
            "Send EPCIS JSON as application/json or application/ld+json, not {content_type}.",
            code=Code.UNSUPPORTED_MEDIA_TYPE,
            params={"content_type": content_type or "nothing"},
        )
    try:
        # The request guard parsed (and checked) it already.
        return parsed_json(request.scope)
    except KeyError:
        return parse_json(await request.body())


# Parsed on the event loop (awaiting the body is I/O); the endpoints that use it are plain
# functions run in the thread pool, so their database work never blocks the loop.
EpcisJson = Annotated[Any, Depends(_json_body)]


def _job_json(job: Any) -> dict[str, Any]:
    return CaptureJobOut.of(job).model_dump(mode="json", by_alias=True)


# The binding reads the body itself (EPCIS JSON or JSON-LD); described here for clients.
_EPCIS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            media_type: {"schema": {"type": "object", "additionalProperties": True}}
            for media_type in JSON_TYPES
        },
    }
}
_CAPTURE_PROBLEMS: dict[int | str, dict[str, Any]] = {
    415: {"description": "Unsupported media type"},
    422: {"description": "Validation failed"},
}


@router.post(
    "/capture",
    status_code=202,
    summary="Capture an EPCISDocument (synchronous job)",
    openapi_extra=_EPCIS_BODY,
    responses=_CAPTURE_PROBLEMS,
)
def capture(
    request: Request, session: DbSession, principal: CurrentPrincipal, document: EpcisJson
) -> Response:
    behaviour = request.headers.get("gs1-capture-error-behaviour", ROLLBACK).strip().lower()
    job = capture_document(session, principal, document, error_behaviour=behaviour)
    return JSONResponse(
        _job_json(job), status_code=202, headers={"Location": f"/epcis/capture/{job.id}"}
    )


@router.get("/capture", summary="The caller's capture jobs, newest first")
def list_capture_jobs(
    session: DbSession,
    principal: CurrentPrincipal,
    perPage: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    principal.require(Permission.TRACE_READ)
    jobs = repository.list_visible_jobs(session, principal, limit=perPage)
    return [_job_json(job) for job in jobs]


@router.get("/capture/{capture_id}", summary="A capture job: state and every error")
def read_capture_job(
    session: DbSession, principal: CurrentPrincipal, capture_id: str
) -> dict[str, Any]:
    principal.require(Permission.TRACE_READ)
    job_id = record_id_or_none(capture_id)
    if job_id is None:
        raise NotFound(
            "Capture job {id} was not found.",
            code=Code.CAPTURE_JOB_NOT_FOUND,
            params={"id": capture_id},
            errors=[FieldError("capture_id", Code.CAPTURE_JOB_NOT_FOUND, "No such capture job.")],
        )
    return _job_json(repository.get_visible_job(session, principal, job_id))


@router.post(
    "/events",
    status_code=201,
    summary="Capture one EPCIS event",
    openapi_extra=_EPCIS_BODY,
    responses=_CAPTURE_PROBLEMS,
)
def capture_single_event(
    session: DbSession, principal: CurrentPrincipal, event: EpcisJson
) -> Response:
    event_id, created = capture_event(session, principal, event)
    return JSONResponse(
        {"eventID": event_id, "created": created},
        status_code=201,
        headers={"Location": f"/epcis/events/{quote(event_id, safe='')}"},
    )


class JsonLdResponse(JSONResponse):
    """EPCIS documents and events are answered as JSON-LD."""

    media_type = "application/ld+json"


@router.get(
    "/events",
    summary="EPCIS SimpleEventQuery (EPCISQueryDocument, paged)",
    response_class=JsonLdResponse,
)
def query(request: Request, session: DbSession, principal: CurrentPrincipal) -> Response:
    parameters = list(request.query_params.multi_items())
    page = query_events(session, principal, parameters)
    headers = {}
    if page.next_page_token is not None:
        kept = [(k, v) for k, v in parameters if k != "nextPageToken"]
        url = f"{request.url.path}?{urlencode([*kept, ('nextPageToken', page.next_page_token)])}"
        headers["Link"] = f'<{url}>; rel="next"'
    return JsonLdResponse(query_document(page.events, utcnow()), headers=headers)


@router.get(
    "/events/{event_id:path}",
    summary="One EPCIS event by eventID (URL-encoded)",
    response_class=JsonLdResponse,
)
def read_event(session: DbSession, principal: CurrentPrincipal, event_id: str) -> Response:
    principal.require(Permission.TRACE_READ)
    event = repository.get_visible_event(session, principal, event_id)
    document = repository.event_documents(session, principal, [event])[0]
    context = document.get("@context")
    extra = context if isinstance(context, list) else ([context] if context else [])
    document["@context"] = [STANDARD_CONTEXT, *extra]
    return JsonLdResponse(document)


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
            report.listing_csv(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="trace.csv"'},
        )
    return JSONResponse(report.to_json())
