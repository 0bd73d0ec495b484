"""The OpenAPI description tells clients which problems each operation can answer.

FastAPI documents the success response and a 422 in its own validation-error shape. Every error
here is RFC 9457 ``application/problem+json`` (``core.problems``), so the generated description
is completed once, from what each operation is:

* every operation: ``400`` (the request guard refuses control characters in the URL, forged
  cursors and malformed bodies), ``401`` and ``403`` (credentials, role, CSRF) — except the
  token endpoint, which answers ``401`` and ``429`` for wrong passwords — and ``503`` (overload,
  with ``Retry-After``; docs/operations.md);
* operations with parameters or a body: ``422`` (field errors);
* operations that name a record, in the path, the query or the body (any field typed
  ``RecordId``, recognised by its bounds 1..``DB_INT_MAX``): ``404`` (unseen records answer
  404, never 403, wherever their id was given);
* operations that write (POST, PATCH, PUT, DELETE): ``409`` (business rule) and ``413`` (body
  size limit, docs/api.md "Limits");
* what a route declares itself in ``responses=`` (the trace's ``404``, capture's ``415``).

Each of these responses points at the one ``Problem`` schema.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from medledger.core.problems import PROBLEM_JSON, Problem
from medledger.core.types import DB_INT_MAX

TITLES: dict[int, str] = {
    400: "Bad request: the URL, a query parameter or the body cannot be read",
    401: "Authentication failed: no or invalid credentials",
    403: "Permission denied: the role may not do this",
    404: "Not found: no such record, or not visible to the caller",
    409: "Conflict: a business rule forbids the change",
    413: "Payload too large: the body exceeds the endpoint's limit",
    415: "Unsupported media type",
    422: "Validation failed: fields are invalid (see `errors`)",
    429: "Too many attempts",
    503: "Service unavailable: overloaded, retry after `Retry-After` seconds",
}
WRITES = frozenset({"post", "patch", "put", "delete"})
TOKEN_PATH = "/api/v1/auth/token"


def problem_response(status: int) -> dict[str, Any]:
    """The OpenAPI response object of a problem with ``status``."""
    return {
        "description": TITLES[status],
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _is_record_id(node: dict[str, Any]) -> bool:
    return (
        node.get("type") == "integer"
        and node.get("minimum") == 1
        and node.get("maximum") in (DB_INT_MAX, float(DB_INT_MAX))
    )


def names_a_record(node: Any, components: dict[str, Any], seen: set[str] | None = None) -> bool:
    """Whether the schema ``node`` has a ``RecordId`` anywhere (``$ref`` followed once)."""
    seen = set() if seen is None else seen
    if isinstance(node, list):
        return any(names_a_record(value, components, seen) for value in node)
    if not isinstance(node, dict):
        return False
    if _is_record_id(node):
        return True
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[-1]
        if name in seen:
            return False
        seen.add(name)
        return names_a_record(components.get(name), components, seen)
    return any(names_a_record(value, components, seen) for value in node.values())


def statuses_of(
    path: str, method: str, operation: dict[str, Any], components: dict[str, Any] | None = None
) -> set[int]:
    """The problem statuses ``operation`` can answer (see the module doc)."""
    statuses = {400, 401, 503}
    if path == TOKEN_PATH:
        statuses |= {422, 429}
    else:
        statuses.add(403)
    parameters = operation.get("parameters", [])
    if parameters or "requestBody" in operation:
        statuses.add(422)
    if any(p.get("in") == "path" for p in parameters) or names_a_record(
        [parameters, operation.get("requestBody")], components or {}
    ):
        statuses.add(404)
    if method in WRITES:
        statuses |= {409, 413}
    return statuses


def _integer_bounds(node: Any) -> None:
    """FastAPI's OpenAPI model keeps bounds as floats, and 2^63 - 1 as a float is 2^63, past
    what the databases hold: integer bounds are written back as integers (none of ours is
    larger than ``DB_INT_MAX``)."""
    if isinstance(node, dict):
        if node.get("type") == "integer":
            for key in ("minimum", "maximum"):
                if isinstance(node.get(key), float):
                    node[key] = min(int(node[key]), DB_INT_MAX)
        for value in node.values():
            _integer_bounds(value)
    elif isinstance(node, list):
        for value in node:
            _integer_bounds(value)


def declare_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Complete ``schema`` (an OpenAPI document from FastAPI) in place; returns it."""
    _integer_bounds(schema)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in problem_schema.pop("$defs", {}).items():
        components[name] = definition
    components["Problem"] = problem_schema
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete", "head", "options"):
                continue
            responses = operation.setdefault("responses", {})
            declared = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
            for status in sorted(statuses_of(path, method, operation, components) | declared):
                responses[str(status)] = problem_response(status)
    return schema


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` answer the completed description (built once)."""
    generate: Callable[[], dict[str, Any]] = app.openapi
    done: dict[int, dict[str, Any]] = {}

    def openapi() -> dict[str, Any]:
        schema = generate()
        if id(schema) not in done:
            done.clear()
            done[id(schema)] = declare_problems(schema)
        return done[id(schema)]

    app.openapi = openapi  # type: ignore[method-assign]
