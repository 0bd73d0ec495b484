"""The request guard: what every request must be before any endpoint sees it.

One ASGI middleware, in front of every route (API, EPCIS binding and HTML forms alike):

* the URL (path and query string) carries no control characters (``request.control_character``,
  400, naming the query parameter or ``path``);
* the body is no larger than the limit of its endpoint (``request.body_too_large``, 413, before
  the body is read when ``Content-Length`` says so, otherwise as soon as it passes the limit);
* a JSON body is JSON (``request.malformed_json``, 400), nested at most :data:`MAX_JSON_DEPTH`
  deep (``request.json_too_deep``, 400), has only finite numbers (no ``NaN``/``Infinity`` and no
  number too large for a float: ``request.non_finite_number``, 422) and no control character in
  any string or key other than tab, line feed and carriage return (``request.control_character``,
  422, naming the field as a dotted path);
* a form body has no such control character either.

The databases disagree on these (PostgreSQL refuses NUL in text and NaN in JSON, SQLite stores
them), so refusing them here keeps both alike and turns what used to be 500s into problems.
The parsed JSON document is kept in the request state (``json_body``) so that an endpoint that
reads the raw body (the EPCIS binding) does not parse it twice: :func:`parsed_json`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final
from urllib.parse import parse_qsl

import numpy as np

from medledger.core.errors import Code, DomainError, FieldError, ValidationFailed

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_JSON_DEPTH: Final = 64
JSON_TYPES: Final = ("application/json", "application/ld+json")
_FORM_TYPE: Final = "application/x-www-form-urlencoded"
_STATE_KEY: Final = "json_body"

# C0 controls other than tab, line feed and carriage return; DEL; C1 controls.
_CONTROL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class BadRequestBody(DomainError):
    """The body is not what the endpoint can read (HTTP 400)."""

    status = 400
    code = Code.MALFORMED_JSON
    title = "Bad request"


class PayloadTooLarge(DomainError):
    """The body is larger than the endpoint accepts (HTTP 413)."""

    status = 413
    code = Code.BODY_TOO_LARGE
    title = "Payload too large"


def has_control_character(value: str, *, allow_line_breaks: bool = True) -> bool:
    """Whether ``value`` holds a control character (tab, LF and CR allowed if asked)."""
    if _CONTROL.search(value) is not None:
        return True
    return not allow_line_breaks and any(c in value for c in "\t\n\r")


def _control_error(field: str, status: int = 422) -> DomainError:
    params = {"field": field}
    error = ValidationFailed(
        "{field} contains a control character.",
        code=Code.CONTROL_CHARACTER,
        params=params,
        errors=[
            FieldError(
                field, Code.CONTROL_CHARACTER, "{field} contains a control character.", params
            )
        ],
    )
    if status != error.status:
        error.status, error.title = status, BadRequestBody.title
    return error


class _NonFinite:
    """Stands in for a NaN/Infinity while parsing, so that the field holding it can be named."""

    def __init__(self, text: str) -> None:
        self.text = text


def _decoder_hooks() -> tuple[Callable[[str], Any], Callable[[str], Any], list[_NonFinite]]:
    seen: list[_NonFinite] = []

    def constant(text: str) -> _NonFinite:
        seen.append(_NonFinite(text))
        return seen[-1]

    def number(text: str) -> float | _NonFinite:
        value = float(text)
        if math.isfinite(value):
            return value
        return constant(text)

    return constant, number, seen


def _find(document: Any, predicate: Callable[[Any], bool]) -> str:
    """The dotted path of the first value (or key) in ``document`` for which ``predicate``
    holds; ``body`` for the document itself. Only called once something is known wrong."""
    stack: list[tuple[Any, str]] = [(document, "")]
    while stack:
        value, path = stack.pop()
        if predicate(value):
            return path or "body"
        if isinstance(value, dict):
            for key, item in reversed(list(value.items())):
                child = f"{path}.{key}" if path else str(key)
                if predicate(key):
                    return child
                stack.append((item, child))
        elif isinstance(value, list):
            for index in range(len(value) - 1, -1, -1):
                stack.append((value[index], f"{path}.{index}" if path else str(index)))
    return "body"


def json_depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in the *valid* JSON text ``raw``, from its bytes: a
    quote not escaped by an odd run of backslashes opens or closes a string, and the brackets
    outside strings give the depth. Vectorised comparisons, a fraction of the parse itself
    (walking the parsed document instead costs as much as the parse of a capture document)."""
    data = np.frombuffer(raw, dtype=np.uint8)
    opening = (data == _OPEN_ARRAY) | (data == _OPEN_OBJECT)
    brackets = np.flatnonzero(opening | (data == _CLOSE_ARRAY) | (data == _CLOSE_OBJECT))
    if brackets.size == 0:
        return 0
    quotes = np.flatnonzero(data == _QUOTE)
    after_backslash = quotes[(quotes > 0) & (data[np.maximum(quotes - 1, 0)] == _BACKSLASH)]
    escaped = [int(q) for q in after_backslash if _escaped(raw, int(q))]
    if escaped:
        quotes = np.setdiff1d(quotes, np.array(escaped), assume_unique=True)
    # A bracket is outside strings when an even number of quotes precedes it.
    outside = brackets[(np.searchsorted(quotes, brackets) & 1) == 0]
    if outside.size == 0:
        return 0
    steps = np.where(opening[outside], 1, -1)
    return int(np.cumsum(steps).max())


def _escaped(raw: bytes, quote: int) -> bool:
    run = 0
    while quote - run - 1 >= 0 and raw[quote - run - 1] == _BACKSLASH:
        run += 1
    return run % 2 == 1


_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_OPEN_ARRAY, _CLOSE_ARRAY, _OPEN_OBJECT, _CLOSE_OBJECT = b"[]{}"


def parse_json(raw: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON document in ``raw``, or the problem that refuses it (see the module doc)."""
    constant, number, non_finite = _decoder_hooks()
    if b"\x00" in raw:
        # UTF-16 or UTF-32 (valid UTF-8 JSON has no NUL byte): JSON is exchanged as UTF-8
        # (RFC 8259), and the byte checks below read UTF-8.
        raise BadRequestBody(
            "The body is not JSON: {reason}.",
            params={"reason": "not UTF-8"},
            errors=[FieldError("body", Code.MALFORMED_JSON, "The body is not JSON.")],
        )
    try:
        document = json.loads(raw, parse_constant=constant, parse_float=number)
    except RecursionError:
        raise _too_deep(max_depth) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequestBody(
            "The body is not JSON: {reason}.",
            params={"reason": str(exc)[:200]},
            errors=[FieldError("body", Code.MALFORMED_JSON, "The body is not JSON.")],
        ) from None
    if isinstance(document, dict | list) and json_depth(raw) > max_depth:
        raise _too_deep(max_depth)
    if non_finite:
        field = _find(document, lambda v: isinstance(v, _NonFinite))
        params = {"field": field, "value": non_finite[0].text[:40]}
        raise ValidationFailed(
            "{field} must be a finite number, not {value}.",
            code=Code.NON_FINITE_NUMBER,
            params=params,
            errors=[
                FieldError(
                    field,
                    Code.NON_FINITE_NUMBER,
                    "{field} must be a finite number, not {value}.",
                    params,
                )
            ],
        )
    if _may_hold_control_character(raw):
        field = _find(document, lambda v: isinstance(v, str) and has_control_character(v))
        if field != "body" or (isinstance(document, str) and has_control_character(document)):
            raise _control_error(field)
    return document


def _may_hold_control_character(raw: bytes) -> bool:
    """Whether the JSON text ``raw`` may hold a control character in a string: C0 controls
    must be escaped in JSON (``\\u00XX``, ``\\b``, ``\\f``), DEL and C1 may also come as raw
    UTF-8. Vectorised byte comparisons (a regular expression over megabytes costs more than the
    parse); a hit is confirmed on the parsed strings, so an escaped backslash followed by
    ``u0000`` text is no control character."""
    data = np.frombuffer(raw, dtype=np.uint8)
    if np.any(data == 0x7F):
        return True
    lead = np.flatnonzero(data[:-1] == 0xC2)
    if lead.size and np.any((data[lead + 1] >= 0x80) & (data[lead + 1] <= 0x9F)):
        return True
    escapes = np.flatnonzero(data[:-1] == _BACKSLASH)
    if escapes.size == 0:
        return False
    padded = np.concatenate([data, np.zeros(6, dtype=np.uint8)])
    kind = padded[escapes + 1]
    if np.any((kind == ord("b")) | (kind == ord("f"))):
        return True
    unicode = escapes[kind == ord("u")]
    high = (padded[unicode + 2] == ord("0")) & (padded[unicode + 3] == ord("0"))
    digit = padded[unicode[high] + 4]
    return bool(np.any(np.isin(digit, _CONTROL_HEX) | _is_7f(padded, unicode[high])))


def _is_7f(padded: np.ndarray, unicode: np.ndarray) -> np.ndarray:
    fourth, fifth = padded[unicode + 4], padded[unicode + 5]
    return (fourth == ord("7")) & ((fifth == ord("f")) | (fifth == ord("F")))


_CONTROL_HEX = np.frombuffer(b"0189", dtype=np.uint8)


def _too_deep(limit: int) -> BadRequestBody:
    return BadRequestBody(
        "The JSON body is nested deeper than {limit} levels.",
        code=Code.JSON_TOO_DEEP,
        params={"limit": limit},
        errors=[
            FieldError(
                "body",
                Code.JSON_TOO_DEEP,
                "The JSON body is nested deeper than {limit} levels.",
                {"limit": limit},
            )
        ],
    )


def parsed_json(scope: Scope) -> Any:
    """The JSON body the guard parsed for this request (``KeyError`` if there was none)."""
    return scope["state"][_STATE_KEY]


def content_type_of(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return str(value.decode("latin-1").split(";")[0].strip().lower())
    return ""


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _url_problem(scope: Scope) -> DomainError | None:
    path = scope.get("path", "")
    if has_control_character(path, allow_line_breaks=False):
        return _control_error("path", 400)
    query = scope.get("query_string", b"")
    if query:
        try:
            pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True, encoding="utf-8")
        except ValueError:
            return None
        for name, value in pairs:
            if has_control_character(name, allow_line_breaks=False):
                return _control_error("query", 400)
            if has_control_character(value, allow_line_breaks=False):
                return _control_error(name, 400)
    return None


def _form_problem(raw: bytes) -> DomainError | None:
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return None
    for name, value in pairs:
        if has_control_character(name) or has_control_character(value):
            return _control_error(name)
    return None


class RequestGuard:
    """ASGI middleware applying the rules of the module doc.

    ``limit_for(path)`` gives the body limit in bytes of the endpoint at ``path``; ``respond``
    turns a problem into the response for this request (problem+json, in the request's
    language)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit_for: Callable[[str], int],
        respond: Callable[[Scope, Receive, Send, DomainError], Awaitable[None]],
    ) -> None:
        self.app = app
        self.limit_for = limit_for
        self.respond = respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = _url_problem(scope)
        if problem is not None:
            await self.respond(scope, receive, send, problem)
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self.respond(scope, receive, send, _too_large(limit))
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self.respond(scope, receive, send, _too_large(limit))
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        content_type = content_type_of(scope)
        try:
            if body and (content_type in JSON_TYPES or content_type.endswith("+json")):
                scope.setdefault("state", {})[_STATE_KEY] = parse_json(body)
            elif body and content_type == _FORM_TYPE:
                form_problem = _form_problem(body)
                if form_problem is not None:
                    raise form_problem
        except DomainError as exc:
            await self.respond(scope, receive, send, exc)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        "The body is larger than the {limit} bytes this endpoint accepts.",
        params={"limit": limit},
        errors=[
            FieldError(
                "body",
                Code.BODY_TOO_LARGE,
                "The body is larger than the {limit} bytes this endpoint accepts.",
                {"limit": limit},
            )
        ],
    )
