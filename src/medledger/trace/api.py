"""The REST routes of the trace context.

* ``router``: the EPCIS 2.0 REST binding — capture (``/epcis/capture``, ``/epcis/events``) and
  query. Capture runs synchronously inside the request (see ``trace.ledger.capture``); the
  202 + ``Location`` contract of the binding is kept.
* ``trace_router``: ``GET /api/v1/trace`` (JSON report or CSV recall listing).

Thin: parse the body and headers, call the capture/query/trace service, shape the answer.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request, Response, WebSocket
from fastapi.responses import JSONResponse

from medledger.core.bodies import parse_json, parsed_json
from medledger.core.db import utcnow
from medledger.core.deps import CurrentPrincipal, DbSession
from medledger.core.errors import DomainError, FieldError, NotFound, UnsupportedMediaType
from medledger.core.principal import Permission
from medledger.core.types import record_id_or_none
from medledger.trace import named_queries, repository, resources, service
from medledger.trace.answers import (
    CBV_FORMATS,
    EPC_FORMATS,
    STANDARD_CONTEXT,
    answered_events,
    header_choice,
    query_document,
)
from medledger.trace.binding import CAPTURE_LIMIT, TOP_LEVEL_RESOURCES, wants_xml
from medledger.trace.engine import Direction
from medledger.trace.epcis.document import locate_events
from medledger.trace.epcis.xml import (
    XML_TYPES,
    XmlDocumentError,
    query_document_xml,
    xml_to_document,
)
from medledger.trace.errors import Code
from medledger.trace.ledger.capture import ROLLBACK, capture_document, capture_event
from medledger.trace.query import decode_job_token, encode_job_token, query_events
from medledger.trace.schemas import CaptureJobOut

router = APIRouter(prefix="/epcis", tags=["epcis"])

JSON_TYPES = ("application/json", "application/ld+json")


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _json_body(request: Request) -> Any:
    content_type = _content_type(request)
    if content_type in XML_TYPES:
        return _xml_body(await request.body())
    if content_type not in JSON_TYPES:
        raise UnsupportedMediaType(
            "Send EPCIS as JSON-LD (application/ld+json, application/json) or XML "
            "(application/xml, text/xml), not {content_type}.",
            code=Code.UNSUPPORTED_MEDIA_TYPE,
            params={"content_type": content_type or "nothing"},
        )
    try:
        # The request guard parsed (and checked) it already.
        return parsed_json(request.scope)
    except KeyError:
        return parse_json(await request.body())


def _xml_body(raw: bytes) -> Any:
    """An EPCIS 2.0 or 1.2 XML document (or one event) as the JSON-LD capture takes."""
    try:
        return xml_to_document(raw)
    except XmlDocumentError as error:
        raise DomainError(
            "The EPCIS XML document cannot be read: {detail}",
            code=Code.INVALID_XML,
            params={"detail": str(error)[:300]},
            status=400,
            errors=[FieldError("body", Code.INVALID_XML, str(error)[:300])],
        ) from error


# Parsed on the event loop (awaiting the body is I/O); the endpoints that use it are plain
# functions run in the thread pool, so their database work never blocks the loop.
EpcisJson = Annotated[Any, Depends(_json_body)]


def _job_json(job: Any) -> dict[str, Any]:
    return CaptureJobOut.of(job).model_dump(mode="json", by_alias=True)


def _epc_format(request: Request) -> str:
    return header_choice(request.headers.get("gs1-epc-format"), EPC_FORMATS, "GS1-EPC-Format")


def _cbv_format(request: Request) -> str:
    return header_choice(
        request.headers.get("gs1-cbv-xml-format"), CBV_FORMATS, "GS1-CBV-XML-Format"
    )


def _link(request: Request, parameters: list[tuple[str, str]], token: str | None) -> dict[str, str]:
    if token is None:
        return {}
    kept = [(k, v) for k, v in parameters if k != "nextPageToken"]
    url = f"{request.url.path}?{urlencode([*kept, ('nextPageToken', token)])}"
    return {"Link": f'<{url}>; rel="next"'}


def _document_answer(
    request: Request, document: dict[str, Any], headers: dict[str, str] | None = None
) -> Response:
    """An EPCIS query document in JSON-LD, in XML when ``Accept`` prefers XML (with the CBV
    values as ``GS1-CBV-XML-Format`` says), or ``application/json`` when ``Accept`` names that
    and not JSON-LD. JSON-LD always carries the bare CBV words."""
    cbv_format = _cbv_format(request)
    if wants_xml(request.headers.get("accept", "")):
        return Response(
            query_document_xml(document, cbv_format),
            media_type="application/xml",
            headers={**(headers or {}), "GS1-CBV-XML-Format": _xml_format_answered(cbv_format)},
        )
    if _plain_json(request):
        return JSONResponse(document, headers=headers)
    return JsonLdResponse(document, headers=headers)


def _json_ld(
    request: Request,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
    *,
    status: int = 200,
) -> Response:
    """``body`` as JSON-LD, or as ``application/json`` when ``Accept`` asks for that."""
    if _plain_json(request):
        return JSONResponse(body, headers=headers, status_code=status)
    return JsonLdResponse(body, headers=headers, status_code=status)


def _xml_format_answered(cbv_format: str) -> str:
    return "Always_Web_URI" if cbv_format == "No_Preference" else cbv_format


def _plain_json(request: Request) -> bool:
    accept = request.headers.get("accept", "").lower()
    return "application/json" in accept and "application/ld+json" not in accept


# The binding reads the body itself (EPCIS JSON, JSON-LD or XML); described here for clients.
_EPCIS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            **{
                media_type: {"schema": {"type": "object", "additionalProperties": True}}
                for media_type in JSON_TYPES
            },
            **{media_type: {"schema": {"type": "string"}} for media_type in XML_TYPES},
        },
    }
}
_CAPTURE_PROBLEMS: dict[int | str, dict[str, Any]] = {
    413: {"description": "More events than GS1-EPCIS-Capture-Limit, or too large a body"},
    415: {"description": "Unsupported media type"},
}


class JsonLdResponse(JSONResponse):
    """EPCIS documents and events are answered as JSON-LD."""

    media_type = "application/ld+json"


# Answers in JSON-LD, or plain JSON when Accept asks for that (see _json_ld).
_LD_OR_JSON: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/ld+json": {}, "application/json": {}}}
}
# Event documents: JSON-LD, JSON or XML (see _document_answer).
_LD_JSON_OR_XML: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/ld+json": {}, "application/json": {}, "application/xml": {}}}
}


@router.get(
    "",
    summary="The top-level resources of the EPCIS repository",
    response_class=JsonLdResponse,
    responses=_LD_OR_JSON,
)
def top_level(request: Request, principal: CurrentPrincipal) -> Response:
    principal.require(Permission.TRACE_READ)
    return _json_ld(
        request,
        {
            "@context": STANDARD_CONTEXT,
            "type": "Collection",
            "member": list(TOP_LEVEL_RESOURCES),
        },
    )


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
    principal.require(Permission.TRACE_CAPTURE)
    count = len(locate_events(document)) if isinstance(document, dict) else 0
    if count > CAPTURE_LIMIT:
        raise DomainError(
            "The document has {count} events; one capture takes at most {limit}.",
            code=Code.CAPTURE_LIMIT_EXCEEDED,
            params={"count": count, "limit": CAPTURE_LIMIT},
            status=413,
        )
    behaviour = request.headers.get("gs1-capture-error-behaviour", ROLLBACK).strip().lower()
    job = capture_document(session, principal, document, error_behaviour=behaviour)
    return JSONResponse(
        _job_json(job),
        status_code=202,
        headers={
            "Location": f"/epcis/capture/{job.id}",
            "GS1-Capture-Error-Behaviour": job.error_behaviour,
        },
    )


@router.get("/capture", summary="The caller's capture jobs, newest first (paged)")
def list_capture_jobs(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    perPage: Annotated[int, Query(ge=1, le=500)] = 50,
    nextPageToken: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    principal.require(Permission.TRACE_READ)
    before = decode_job_token(nextPageToken) if nextPageToken is not None else None
    jobs = repository.list_visible_jobs(session, principal, limit=perPage + 1, before_id=before)
    token = encode_job_token(jobs[perPage - 1].id) if len(jobs) > perPage else None
    parameters = list(request.query_params.multi_items())
    return JSONResponse(
        [_job_json(job) for job in jobs[:perPage]], headers=_link(request, parameters, token)
    )


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
    responses={
        **_CAPTURE_PROBLEMS,
        201: {"content": {"application/ld+json": {}, "application/json": {}}},
    },
    response_class=JsonLdResponse,
)
def capture_single_event(
    request: Request, session: DbSession, principal: CurrentPrincipal, event: EpcisJson
) -> Response:
    principal.require(Permission.TRACE_CAPTURE)
    event_id, _created = capture_event(session, principal, event)
    # The binding answers the event as stored (a re-capture of the same content too: it is
    # idempotent, see docs/epcis.md), with its recordTime.
    try:
        stored = repository.get_visible_event(session, principal, event_id)
        [answer] = answered_events(session, principal, [stored], _epc_format(request))
    except NotFound:
        # Already stored by a party whose event the caller may not see: what it sent.
        answer = {**event, "eventID": event_id}
    return _json_ld(
        request, answer, {"Location": f"/epcis/events/{quote(event_id, safe='')}"}, status=201
    )


def _events_answer(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    fixed: list[tuple[str, str]],
) -> Response:
    parameters = list(request.query_params.multi_items())
    epc_format = _epc_format(request)
    page = query_events(session, principal, [*parameters, *fixed])
    events = answered_events(session, principal, page.rows, epc_format)
    return _document_answer(
        request, query_document(events, utcnow()), _link(request, parameters, page.next_page_token)
    )


@router.get(
    "/events",
    summary="EPCIS SimpleEventQuery (EPCISQueryDocument, paged)",
    response_class=JsonLdResponse,
    responses=_LD_JSON_OR_XML,
)
def query(request: Request, session: DbSession, principal: CurrentPrincipal) -> Response:
    return _events_answer(request, session, principal, [])


@router.get(
    "/events/{event_id:path}",
    summary="One EPCIS event by eventID (URL-encoded), as an EPCISQueryDocument",
    response_class=JsonLdResponse,
    responses=_LD_JSON_OR_XML,
)
def read_event(
    request: Request, session: DbSession, principal: CurrentPrincipal, event_id: str
) -> Response:
    principal.require(Permission.TRACE_READ)
    epc_format = _epc_format(request)
    event = repository.get_visible_event(session, principal, event_id)
    events = answered_events(session, principal, [event], epc_format)
    return _document_answer(request, query_document(events, utcnow()))


# --- named queries and subscriptions (trace/named_queries.py) -----------------------------


async def _object_body(request: Request) -> Any:
    if _content_type(request) not in JSON_TYPES:
        raise UnsupportedMediaType(
            "Send JSON (application/json), not {content_type}.",
            code=Code.UNSUPPORTED_MEDIA_TYPE,
            params={"content_type": _content_type(request) or "nothing"},
        )
    try:
        return parsed_json(request.scope)
    except KeyError:
        return parse_json(await request.body())


# Read on the event loop (it awaits the body); the endpoint itself runs in the thread pool.
ObjectJson = Annotated[Any, Depends(_object_body)]

_QUERY_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["name", "query"],
                    "properties": {
                        "name": {"type": "string", "maxLength": 200},
                        "query": {"type": "object", "additionalProperties": True},
                    },
                }
            }
        },
    }
}
_SUBSCRIPTION_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["dest", "stream"],
                    "properties": {
                        "dest": {"type": "string", "maxLength": 2000},
                        "stream": {"type": "boolean"},
                        "signatureToken": {"type": "string", "maxLength": 100},
                        "reportIfEmpty": {"type": "boolean"},
                        "initialRecordTime": {"type": "string"},
                    },
                }
            }
        },
    }
}


@router.post(
    "/queries",
    status_code=201,
    summary="Create a named query of the caller's party",
    openapi_extra=_QUERY_BODY,
    responses={415: {"description": "Unsupported media type"}},
)
def create_named_query(
    session: DbSession, principal: CurrentPrincipal, body: ObjectJson
) -> Response:
    named = named_queries.create_query(session, principal, body)
    return JSONResponse(
        named_queries.query_json(named),
        status_code=201,
        headers={"Location": f"/epcis/queries/{quote(named.name, safe='')}"},
    )


@router.get("/queries", summary="The named queries of the caller's party (paged)")
def list_named_queries(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    perPage: Annotated[int, Query(ge=1, le=500)] = 30,
    nextPageToken: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    after = resources.token_value(nextPageToken)
    rows, last = named_queries.list_queries(session, principal, perPage, after)
    token = resources.value_token(last) if last is not None else None
    parameters = list(request.query_params.multi_items())
    return JSONResponse(
        [named_queries.query_json(row) for row in rows], headers=_link(request, parameters, token)
    )


@router.get("/queries/{queryName}", summary="One named query")
def read_named_query(
    session: DbSession, principal: CurrentPrincipal, queryName: str
) -> dict[str, Any]:
    return named_queries.query_json(named_queries.get_query(session, principal, queryName))


@router.delete("/queries/{queryName}", status_code=204, summary="Delete a named query")
def delete_named_query(session: DbSession, principal: CurrentPrincipal, queryName: str) -> Response:
    named_queries.delete_query(session, principal, queryName)
    return Response(status_code=204)


@router.get(
    "/queries/{queryName}/events",
    summary="Run a named query (EPCISQueryDocument, paged)",
    response_class=JsonLdResponse,
    responses=_LD_JSON_OR_XML,
)
def run_named_query(
    request: Request, session: DbSession, principal: CurrentPrincipal, queryName: str
) -> Response:
    parameters = list(request.query_params.multi_items())
    epc_format = _epc_format(request)
    page = named_queries.run_query(session, principal, queryName, parameters)
    events = answered_events(session, principal, page.rows, epc_format)
    document = query_document(events, utcnow(), query_name=queryName)
    return _document_answer(request, document, _link(request, parameters, page.next_page_token))


@router.websocket("/queries/{queryName}/events")
async def stream_named_query(websocket: WebSocket, queryName: str) -> None:
    """The WebSocket subscription of the binding: after the upgrade, every event captured from
    then on (or recorded since ``GS1-Query-InitialRecordTime``, header or query parameter) that
    the named query selects and the caller may see is sent as an EPCISQueryDocument (one per
    batch). Credentials as for any call (``Authorization: Bearer …`` or ``X-API-Key``); refused
    connections close with 1008 (policy: no credentials, no such query of the caller)."""
    from starlette.concurrency import run_in_threadpool

    opened = await run_in_threadpool(_open_stream, websocket, queryName)
    if opened is None:
        await websocket.close(POLICY_VIOLATION)
        return
    principal, after_id, epc_format = opened
    await websocket.accept()
    while True:
        batch, after_id = await run_in_threadpool(
            _stream_batch, websocket, principal, queryName, after_id, epc_format
        )
        if batch is None:
            await websocket.close(POLICY_VIOLATION)
            return
        if batch:
            document = query_document(batch, utcnow(), query_name=queryName)
            await websocket.send_json(document)
        try:
            message = await asyncio.wait_for(websocket.receive(), timeout=STREAM_POLL_SECONDS)
        except TimeoutError:
            continue
        if message["type"] == "websocket.disconnect":
            return


STREAM_POLL_SECONDS = 0.5
POLICY_VIOLATION = 1008  # WebSocket close status (RFC 6455 §7.4.1)


def _open_stream(websocket: WebSocket, name: str) -> tuple[Any, int, str] | None:
    from sqlalchemy import func, select

    from medledger.core.db import set_tenant_guc
    from medledger.core.deps import resolve_principal
    from medledger.trace.epcis.timestamps import to_utc
    from medledger.trace.models import EpcisEvent

    factory = websocket.app.state.session_factory
    with factory() as session:
        try:
            principal = resolve_principal(websocket, session)  # type: ignore[arg-type]
            if principal is None:
                return None
            named_queries.get_query(session, principal, name)
            epc_format = header_choice(
                websocket.headers.get("gs1-epc-format"), EPC_FORMATS, "GS1-EPC-Format"
            )
        except DomainError:
            return None
        set_tenant_guc(session, principal.tenant_id)
        initial = websocket.headers.get("gs1-query-initialrecordtime") or (
            websocket.query_params.get("initialRecordTime")
        )
        stmt = select(func.max(EpcisEvent.id)).where(EpcisEvent.tenant_id == principal.tenant_id)
        if initial:
            try:
                moment = to_utc(initial)
            except (ValueError, TypeError):
                return None
            stmt = stmt.where(EpcisEvent.record_time < moment)
        after_id = session.scalar(stmt) or 0
        session.rollback()
    return principal, int(after_id), epc_format


def _stream_batch(
    websocket: WebSocket, principal: Any, name: str, after_id: int, epc_format: str
) -> tuple[list[dict[str, Any]] | None, int]:
    from sqlalchemy import func, select

    from medledger.core.db import set_tenant_guc
    from medledger.trace.models import EpcisEvent

    factory = websocket.app.state.session_factory
    with factory() as session:
        set_tenant_guc(session, principal.tenant_id)
        try:
            named = named_queries.get_query(session, principal, name)
        except DomainError:
            return None, after_id
        newest = session.scalar(
            select(func.max(EpcisEvent.id)).where(EpcisEvent.tenant_id == principal.tenant_id)
        )
        if not newest or newest <= after_id:
            return [], after_id
        rows = named_queries.matching_after(session, principal, named, after_id, int(newest))
        events = answered_events(session, principal, rows, epc_format)
        session.rollback()
    return events, int(newest)


@router.post(
    "/queries/{queryName}/subscriptions",
    status_code=201,
    summary="Subscribe a webhook to a named query (stream)",
    openapi_extra=_SUBSCRIPTION_BODY,
    responses={415: {"description": "Unsupported media type"}},
)
def subscribe_to_query(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    queryName: str,
    body: ObjectJson,
) -> Response:
    settings = request.app.state.settings
    subscription, secret = named_queries.subscribe(
        session,
        principal,
        queryName,
        body,
        epc_format=_epc_format(request),
        allow_private_networks=settings.webhook_allow_private_networks,
    )
    answer = {**named_queries.subscription_json(subscription), "signatureToken": secret}
    location = (
        f"/epcis/queries/{quote(queryName, safe='')}/subscriptions/{subscription.subscription_id}"
    )
    return JSONResponse(answer, status_code=201, headers={"Location": location})


@router.get("/queries/{queryName}/subscriptions", summary="The subscriptions of a named query")
def list_query_subscriptions(
    session: DbSession, principal: CurrentPrincipal, queryName: str
) -> list[dict[str, Any]]:
    return [
        named_queries.subscription_json(s)
        for s in named_queries.list_subscriptions(session, principal, queryName)
    ]


@router.get("/queries/{queryName}/subscriptions/{subscriptionID}", summary="One subscription")
def read_query_subscription(
    session: DbSession, principal: CurrentPrincipal, queryName: str, subscriptionID: str
) -> dict[str, Any]:
    return named_queries.subscription_json(
        named_queries.get_subscription(session, principal, queryName, subscriptionID)
    )


@router.delete(
    "/queries/{queryName}/subscriptions/{subscriptionID}",
    status_code=204,
    summary="End a subscription",
)
def delete_query_subscription(
    session: DbSession, principal: CurrentPrincipal, queryName: str, subscriptionID: str
) -> Response:
    named_queries.unsubscribe(session, principal, queryName, subscriptionID)
    return Response(status_code=204)


@router.delete(
    "/nextPageToken/{token}",
    status_code=204,
    summary="Forget a page token (tokens are stateless: nothing is held, nothing to free)",
)
def delete_page_token(principal: CurrentPrincipal, token: str) -> Response:
    principal.require(Permission.TRACE_READ)
    return Response(status_code=204)


# --- top-level resources (trace/resources.py) ---------------------------------------------


def _collection(members: list[str]) -> dict[str, Any]:
    return {"@context": STANDARD_CONTEXT, "type": "Collection", "member": members}


def _resource_routes(name: str, parameter: str) -> None:
    def listing(
        request: Request,
        session: DbSession,
        principal: CurrentPrincipal,
        perPage: Annotated[int, Query(ge=1, le=resources.MAX_PER_PAGE)] = 30,
        nextPageToken: Annotated[str | None, Query(max_length=2000)] = None,
    ) -> Response:
        members, token = resources.list_values(session, principal, name, perPage, nextPageToken)
        parameters = list(request.query_params.multi_items())
        return _json_ld(request, _collection(members), _link(request, parameters, token))

    def events(
        request: Request, session: DbSession, principal: CurrentPrincipal, value: str
    ) -> Response:
        stored = resources.require_seen(session, principal, name, value)
        fixed = resources.events_parameter(session, name, stored)
        return _events_answer(request, session, principal, [fixed])

    def one(
        request: Request, session: DbSession, principal: CurrentPrincipal, value: str
    ) -> Response:
        resources.require_seen(session, principal, name, value)
        return _json_ld(request, _collection(["events"]))

    router.add_api_route(
        f"/{name}",
        listing,
        methods=["GET"],
        summary=f"The {name} of the events the caller may see (paged)",
        response_class=JsonLdResponse,
        responses=_LD_OR_JSON,
    )
    router.add_api_route(
        f"/{name}/{{{parameter}:path}}/events",
        _renamed(events, parameter),
        methods=["GET"],
        summary=f"The events of one of the {name} (EPCISQueryDocument, paged)",
        response_class=JsonLdResponse,
        responses=_LD_JSON_OR_XML,
    )
    router.add_api_route(
        f"/{name}/{{{parameter}:path}}",
        _renamed(one, parameter),
        methods=["GET"],
        summary=f"One of the {name}: its sub-resources, if the caller sees an event of it",
        response_class=JsonLdResponse,
        responses=_LD_OR_JSON,
    )


def _renamed(function: Any, parameter: str) -> Any:
    """``function`` with its path parameter ``value`` called ``parameter`` (FastAPI reads
    parameter names from the signature)."""
    import functools
    import inspect

    signature = inspect.signature(function)
    renamed = [
        p.replace(name=parameter) if p.name == "value" else p for p in signature.parameters.values()
    ]

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        kwargs["value"] = kwargs.pop(parameter)
        return function(*args, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=renamed)  # type: ignore[attr-defined]
    return wrapper


for _name, _parameter in (
    ("eventTypes", "eventType"),
    ("epcs", "epc"),
    ("bizSteps", "bizStep"),
    ("bizLocations", "bizLocation"),
    ("readPoints", "readPoint"),
    ("dispositions", "disposition"),
):
    _resource_routes(_name, _parameter)


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
