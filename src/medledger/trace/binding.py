"""The GS1 EPCIS 2.0 REST binding around the routes of ``trace.api``: discovery and headers.

:class:`EpcisBinding` is an ASGI middleware in front of every answer under ``/epcis``:

* every answer (errors included) carries ``GS1-EPCIS-Version`` and ``GS1-CBV-Version``;
* ``OPTIONS`` on a binding path answers ``204`` with ``Allow`` (the methods of the routes at
  that path), the GS1 version headers, ``GS1-EPCIS-Capture-Limit``,
  ``GS1-EPCIS-Capture-File-Size-Limit`` and ``GS1-Capture-Error-Behaviour: all`` (both
  behaviours supported); an unknown path is a ``404``. Discovery needs no credentials (it tells
  nothing about the ledger), as a CORS pre-flight would;
* ``GS1-EPCIS-Min``/``-Max``, ``GS1-CBV-Min``/``-Max`` that exclude 2.0.0, and an ``Accept``
  naming no media type the binding answers in (JSON-LD, JSON, problem+json; XML only on the
  event-document paths and ``POST /epcis/capture``, :func:`xml_answerable`), are ``406``
  (``NotAcceptableException``);
* every problem answer keeps our stable ``code`` but gets the binding's ``type``
  (``epcisException:…``, :func:`exception_type`), and a ``422`` becomes the binding's ``400``
  ``ValidationException``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

from fastapi.routing import iter_route_contexts
from starlette.routing import compile_path

from medledger.core.errors import DomainError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

EPCIS_VERSION: Final = "2.0.0"
CBV_VERSION: Final = "2.0.0"
# Events per capture call (POST /epcis/capture); the body limit is settings.max_capture_body_bytes.
CAPTURE_LIMIT: Final = 10_000
PREFIX: Final = "/epcis"
TOP_LEVEL_RESOURCES: Final = (
    "events",
    "eventTypes",
    "epcs",
    "bizSteps",
    "bizLocations",
    "readPoints",
    "dispositions",
    "capture",
    "queries",
)

# Media types the binding answers in (JSON-LD documents, problem details).
ANSWER_TYPES: Final = ("application/json", "application/ld+json", "application/problem+json")
# And XML, for the event documents (GET of queries, events by ID, a resource's or named
# query's events) and on POST /epcis/capture (an XML client's capture; its 202 carries the
# job): see xml_answerable.
XML_ANSWER_TYPES: Final = ("application/xml", "text/xml")
XML_PATHS: Final = re.compile(
    r"/epcis/(?:events(?:/.+)?|(?:eventTypes|epcs|bizSteps|bizLocations|readPoints|dispositions)"
    r"/.+/events|queries/[^/]+/events)"
)


def xml_answerable(method: str, path: str) -> bool:
    path = path.rstrip("/")
    if method == "POST":
        return path == PREFIX + "/capture"
    return method in ("GET", "HEAD") and XML_PATHS.fullmatch(path) is not None


def exception_type(status: int, code: str) -> str | None:
    """The binding's problem ``type`` for an answer with ``status`` and our ``code``."""
    from medledger.trace.errors import Code

    if code == Code.INVALID_QUERY_PARAMETER:
        return "epcisException:QueryParameterException"
    if code == Code.QUERY_NOT_FOUND:
        return "epcisException:NoSuchNameException"
    if code in (Code.QUERY_TOO_LARGE,):
        return "epcisException:QueryTooLargeException"
    if code == Code.SUBSCRIPTION_INVALID:
        return "epcisException:SubscriptionControlsException"
    return {
        400: "epcisException:ValidationException",
        422: "epcisException:ValidationException",
        401: "epcisException:SecurityException",
        403: "epcisException:SecurityException",
        404: "epcisException:NoSuchResourceException",
        406: "epcisException:NotAcceptableException",
        409: "epcisException:ResourceAlreadyExistsException",
        413: "epcisException:CaptureLimitExceededException",
        414: "epcisException:URITooLongException",
        415: "epcisException:UnsupportedMediaTypeException",
        500: "epcisException:ImplementationException",
        501: "epcisException:ImplementationException",
    }.get(status)


def binding_problem(body: dict[str, Any]) -> dict[str, Any]:
    """A problem body of ours as the binding's (``type``, and 400 for 422), ``code`` kept."""
    status = int(body.get("status") or 500)
    kind = exception_type(status, str(body.get("code", "")))
    if kind is None:
        return body
    answer = dict(body)
    answer["type"] = kind
    if status == 422:
        answer["status"] = 400
    return answer


def _version(text: str) -> tuple[int, ...] | None:
    parts = text.strip().split(".")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() and len(p) < 6 for p in parts):
        return None
    return tuple(int(p) for p in parts) + (0,) * (3 - len(parts))


def _version_problem(headers: dict[str, str]) -> DomainError | None:
    from medledger.trace.errors import Code

    ours = _version(EPCIS_VERSION)
    assert ours is not None
    for name in ("gs1-epcis-min", "gs1-epcis-max", "gs1-cbv-min", "gs1-cbv-max"):
        if name not in headers:
            continue
        wanted = _version(headers[name])
        fits = wanted is not None and (wanted <= ours if name.endswith("min") else wanted >= ours)
        if not fits:
            return DomainError(
                "This server speaks EPCIS and CBV {version}; {header}: {value} excludes it.",
                code=Code.NOT_ACCEPTABLE,
                params={"version": EPCIS_VERSION, "header": name, "value": headers[name][:50]},
                status=406,
            )
    return None


def _accepted(accept: str) -> list[tuple[str, float]]:
    """The media types of an ``Accept`` header with their ``q`` (0 ones left out), in order."""
    found = []
    for item in accept.split(","):
        media, _, params = item.strip().partition(";")
        q = 1.0
        match = re.search(r"(?:^|;)\s*q\s*=\s*([0-9.]{1,6})\s*(?:$|;)", params)
        if match:
            try:
                q = float(match.group(1))
            except ValueError:
                q = 1.0
        if q > 0:
            found.append((media.strip().lower(), q))
    return found


def accepts(accept: str, *, xml: bool = False) -> bool:
    """Whether an ``Accept`` header admits a media type the binding answers in (XML only
    where ``xml``: see :func:`xml_answerable`)."""
    if not accept.strip():
        return True
    for media, _q in _accepted(accept):
        if media in ("*/*", "application/*") or media in ANSWER_TYPES:
            return True
        if xml and (media in XML_ANSWER_TYPES or media == "text/*"):
            return True
    return False


def wants_xml(accept: str) -> bool:
    """Whether the most preferred type of ``Accept`` the binding answers in is XML (on a
    tie the first named wins; ``*/*`` is JSON-LD)."""
    best: tuple[float, str] | None = None
    for media, q in _accepted(accept):
        if media in XML_ANSWER_TYPES or media == "text/*":
            kind = "xml"
        elif media in ("*/*", "application/*", "application/json", "application/ld+json"):
            kind = "json"
        else:
            continue
        if best is None or q > best[0]:
            best = (q, kind)
    return best is not None and best[1] == "xml"


def _accept_problem(headers: dict[str, str], method: str, path: str) -> DomainError | None:
    from medledger.trace.errors import Code

    accept = headers.get("accept", "")
    if accepts(accept, xml=xml_answerable(method, path)):
        return None
    return DomainError(
        "This server answers in JSON or JSON-LD (event documents also in XML), not {accept}.",
        code=Code.NOT_ACCEPTABLE,
        params={"accept": accept[:100]},
        status=406,
    )


_PATH_CACHE: dict[str, re.Pattern[str]] = {}


def _route_methods(app: Any, path: str) -> set[str] | None:
    """The methods of the app's routes at ``path`` (None: no route there)."""
    methods: set[str] = set()
    found = False
    for context in iter_route_contexts(app.routes):
        route_path = context.path
        if not route_path or not route_path.startswith(PREFIX):
            continue
        pattern = _PATH_CACHE.get(route_path)
        if pattern is None:
            pattern = _PATH_CACHE[route_path] = compile_path(route_path)[0]
        if pattern.match(path):
            found = True
            methods |= set(context.methods or ())
    return methods if found else None


def discovery_headers(settings: Any) -> dict[str, str]:
    """The headers of an ``OPTIONS`` answer (besides ``Allow``)."""
    return {
        "GS1-EPCIS-Min": EPCIS_VERSION,
        "GS1-EPCIS-Max": EPCIS_VERSION,
        "GS1-CBV-Min": CBV_VERSION,
        "GS1-CBV-Max": CBV_VERSION,
        "GS1-EPC-Format": "Always_GS1_Digital_Link",
        "GS1-CBV-XML-Format": "Always_Web_URI",
        "GS1-EPCIS-Capture-Limit": str(CAPTURE_LIMIT),
        "GS1-EPCIS-Capture-File-Size-Limit": str(settings.max_capture_body_bytes),
        "GS1-Capture-Error-Behaviour": "all",
    }


def is_binding_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


class EpcisBinding:
    """The ASGI middleware of the module doc."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        respond: Callable[[Scope, Receive, Send, DomainError], Awaitable[None]],
    ) -> None:
        self.app = app
        self.respond = respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not is_binding_path(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        send = self._wrapped(send, scope["app"].state.settings)
        problem = _version_problem(headers) or _accept_problem(
            headers, scope["method"], scope["path"]
        )
        if problem is not None:
            await self.respond(scope, receive, send, problem)
            return
        if scope["method"] == "OPTIONS":
            await self._options(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _options(self, scope: Scope, receive: Receive, send: Send) -> None:
        from medledger.core.errors import NotFound

        app = scope["app"]
        path = scope["path"].rstrip("/") or PREFIX
        methods = _route_methods(app, path)
        if methods is None:
            await self.respond(scope, receive, send, NotFound("Nothing is found at this address."))
            return
        allow = ", ".join(sorted(methods | {"OPTIONS"}))
        answer = {"Allow": allow, **discovery_headers(app.state.settings)}
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [(k.lower().encode(), v.encode()) for k, v in answer.items()],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    @staticmethod
    def _wrapped(send: Send, settings: Any) -> Send:
        start: Message | None = None
        chunks: list[bytes] = []

        async def wrapped(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                raw = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in (b"gs1-epcis-version", b"gs1-cbv-version")
                ]
                raw += [
                    (b"gs1-epcis-version", EPCIS_VERSION.encode()),
                    (b"gs1-cbv-version", CBV_VERSION.encode()),
                ]
                message = {**message, "headers": raw}
                content_type = dict((k.lower(), v) for k, v in raw).get(b"content-type", b"")
                if content_type.startswith(b"application/problem+json"):
                    start = message  # held until the body is rewritten
                    return
                await send(message)
                return
            if message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = b"".join(chunks)
                try:
                    problem = binding_problem(json.loads(body))
                    body = json.dumps(problem, ensure_ascii=False).encode()
                    status = int(problem.get("status") or start["status"])
                except (ValueError, TypeError, AttributeError):
                    status = start["status"]
                headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(body)).encode()))
                if status == 413:
                    limits = discovery_headers(settings)
                    for name in ("GS1-EPCIS-Capture-Limit", "GS1-EPCIS-Capture-File-Size-Limit"):
                        headers.append((name.lower().encode(), limits[name].encode()))
                await send({**start, "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        return wrapped
