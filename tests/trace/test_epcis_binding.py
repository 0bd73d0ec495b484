"""Conformance to the GS1 EPCIS 2.0 REST binding, walked from the standard's own OpenAPI
description (``tests/vectors/epcis/openapi.json``; its paths are relative to ``/epcis``).

For every path and method the standard declares: the success status (a status the standard
declares for it), the GS1 headers it declares that this server supports, and the JSON body
validated against the standard's schema. Then, per path and method, the failures the standard
declares: 401 without credentials, 406 for an ``Accept`` or version range that cannot be met,
404 for an unknown id — each a problem with the binding's ``epcisException:*`` type and our
stable ``code``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jsonschema
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from tests.builders import build_network, token_headers
from tests.trace.epcis_scenario import (
    CONTEXT,
    FINISHED_GTIN,
    S1,
    at,
    document,
    event_id,
    run_scenario,
    sgtin_urn,
)

STANDARD_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)
SPEC_PATH = Path(__file__).parent.parent / "vectors" / "epcis" / "openapi.json"
SPEC: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
METHODS = ("options", "get", "post", "delete")
OPERATIONS = [
    (path, method) for path, item in SPEC["paths"].items() for method in METHODS if method in item
]
# Headers of the binding this server sends where the standard declares them.
SUPPORTED_HEADERS = {
    "allow",
    "gs1-epcis-version",
    "gs1-cbv-version",
    "gs1-epcis-min",
    "gs1-epcis-max",
    "gs1-cbv-min",
    "gs1-cbv-max",
    "gs1-epc-format",
    "gs1-cbv-xml-format",
    "gs1-epcis-capture-limit",
    "gs1-epcis-capture-file-size-limit",
    "gs1-capture-error-behaviour",
    "location",
}
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    """``node`` with a local ``$ref`` followed (responses, parameters)."""
    while "$ref" in node:
        target: Any = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


# ``format: uri`` asserted (the spec tells its extension events from the standard ones by it).
FORMATS = jsonschema.FormatChecker(formats=())
FORMATS.checks("uri")(lambda value: not isinstance(value, str) or bool(URI.match(value)))


def _components() -> dict[str, Any]:
    """The spec's components, with two schemas mended. ``CaptureJob`` says
    ``oneOf`` [``errors`` …, ``errorFile`` …] with neither required, so every job matches both
    branches and none can be valid; ``anyOf`` is what the prose means ("errors or errorFile")."""
    components = json.loads(json.dumps(SPEC["components"]))
    # ``Extended-Event`` (an extension event type) is told from the five standard types only
    # by ``type`` being ``format: uri``, which validators need not assert: said outright.
    extended = components["schemas"]["Extended-Event"]
    extended["allOf"].append(
        {"not": {"properties": {"type": {"enum": list(STANDARD_TYPES)}}, "required": ["type"]}}
    )
    job = components["schemas"]["CaptureJob"]
    for part in job.get("allOf", []):
        if "oneOf" in part:
            part["anyOf"] = part.pop("oneOf")
    return components


COMPONENTS = _components()


def validate(schema: dict[str, Any], body: Any) -> None:
    """``body`` against ``schema`` of the standard (its ``$ref``s into the spec resolved)."""
    wrapped = {**schema, "components": COMPONENTS}
    jsonschema.validate(body, wrapped, cls=jsonschema.Draft7Validator, format_checker=FORMATS)


def success_status(path: str, method: str) -> int:
    declared = sorted(int(s) for s in SPEC["paths"][path][method]["responses"] if s[0] == "2")
    return declared[0]


def declared_headers(path: str, method: str, status: int) -> set[str]:
    response = resolve(SPEC["paths"][path][method]["responses"][str(status)])
    return {name.lower() for name in response.get("headers", {})}


def new_event(n: int) -> dict[str, Any]:
    return {
        "type": "ObjectEvent",
        "eventID": event_id(100 + n),
        "eventTime": at(20 + n),
        "eventTimeZoneOffset": "+00:00",
        "epcList": [sgtin_urn(FINISHED_GTIN, f"N{n}")],
        "action": "ADD",
        "bizStep": "commissioning",
        "disposition": "active",
    }


class Binding:
    """The scenario ledger, the ids the standard's paths need, and the caller's headers."""

    def __init__(self, client: TestClient, factory: sessionmaker[Session]) -> None:
        build_network(factory, "cf")
        self.client = client
        self.hub = token_headers(client, "cf-warehouse")
        self.distributor = token_headers(client, "cf-distributor")
        run_scenario(client, self.hub, self.distributor)
        jobs = client.get("/epcis/capture", headers=self.hub).json()
        created = client.post(
            "/epcis/queries",
            json={"name": "shipments", "query": {"EQ_bizStep": ["shipping"]}},
            headers=self.hub,
        )
        assert created.status_code == 201, created.text
        subscribed = client.post(
            "/epcis/queries/shipments/subscriptions",
            json={"dest": "https://client.example.com/queryCallback", "stream": True},
            headers=self.hub,
        )
        assert subscribed.status_code == 201, subscribed.text
        self.ids = {
            "captureID": jobs[0]["captureID"],
            "eventID": quote(event_id(1), safe=""),
            "eventType": "ObjectEvent",
            "epc": quote(S1, safe=""),
            "bizStep": "shipping",
            "bizLocation": quote(self.first("bizLocations"), safe=""),
            "readPoint": quote(self.first("readPoints"), safe=""),
            "disposition": "in_transit",
            "queryName": "shipments",
            "subscriptionID": subscribed.json()["subscriptionID"],
            "token": "any",
        }

    def first(self, resource: str) -> str:
        answer = self.client.get(f"/epcis/{resource}", headers=self.hub)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["member"][0])

    def url(self, path: str, **override: str) -> str:
        url = "/epcis" + path.rstrip("/")
        for name, value in {**self.ids, **override}.items():
            url = url.replace("{" + name + "}", value)
        return url

    def body(self, path: str, method: str) -> dict[str, Any] | None:
        if method != "post":
            return None
        if path == "/capture":
            return document(new_event(1))
        if path == "/events":
            return {"@context": CONTEXT, **new_event(2)}
        if path == "/queries":
            return {"name": "receipts", "query": {"EQ_bizStep": ["receiving"]}}
        return {"dest": "https://client.example.com/other", "stream": True}


@pytest.fixture
def binding(client: TestClient, factory: sessionmaker[Session]) -> Binding:
    return Binding(client, factory)


def _order(operation: tuple[str, str]) -> tuple[int, str, str]:
    # Deletions last, the subscription's before its query's.
    path, method = operation
    return (1 if method == "delete" else 0, "" if "subscriptionID" in path else path, method)


def test_every_operation_of_the_standard_answers_as_it_declares(binding: Binding) -> None:
    walked = []
    for path, method in sorted(OPERATIONS, key=_order):
        status = success_status(path, method)
        response = binding.client.request(
            method.upper(),
            binding.url(path),
            json=binding.body(path, method),
            headers={**binding.hub, "Accept": "application/json"},
        )
        where = f"{method.upper()} {path}"
        assert response.status_code == status, f"{where}: {response.text[:300]}"
        assert response.headers["GS1-EPCIS-Version"] == "2.0.0", where
        assert response.headers["GS1-CBV-Version"] == "2.0.0", where
        missing = (declared_headers(path, method, status) & SUPPORTED_HEADERS) - {
            k.lower() for k in response.headers
        }
        assert missing == set(), f"{where}: headers {missing}"
        content = resolve(SPEC["paths"][path][method]["responses"][str(status)]).get("content", {})
        if status != 204 and "application/json" in content:
            assert response.headers["content-type"].startswith("application/json"), where
            body = response.json()
            if path == "/queries/{queryName}":
                # The spec's schema says an array of definitions, its own example (and this
                # server) one definition: validated as the one-element array.
                body = [body]
            validate(content["application/json"]["schema"], body)
        walked.append((path, method))
    assert len(walked) == len(OPERATIONS) == 63


def test_discovery_answers_every_path_with_allow_and_the_capture_limits(
    binding: Binding,
) -> None:
    answer = binding.client.options("/epcis/capture")
    assert answer.status_code == 204
    assert answer.headers["Allow"] == "GET, OPTIONS, POST"
    assert answer.headers["GS1-EPCIS-Capture-Limit"] == "10000"
    assert answer.headers["GS1-EPCIS-Capture-File-Size-Limit"] == str(8 * 1024 * 1024)
    assert answer.headers["GS1-Capture-Error-Behaviour"] == "all"
    assert binding.client.options("/epcis").headers["Allow"] == "GET, OPTIONS"
    queries = binding.client.options("/epcis/queries/shipments")
    assert queries.headers["Allow"] == "DELETE, GET, OPTIONS"
    assert binding.client.options("/epcis/nothing").status_code == 404


@pytest.mark.parametrize(
    ("path", "method"),
    [op for op in OPERATIONS if op[1] != "options" and op[0] != "/nextPageToken/{token}"],
)
def test_without_credentials_every_operation_is_a_security_exception(
    client: TestClient, path: str, method: str
) -> None:
    url = "/epcis" + path.rstrip("/")
    for name in ("captureID", "eventID", "eventType", "epc", "bizStep", "bizLocation"):
        url = url.replace("{" + name + "}", "1")
    for name in ("readPoint", "disposition", "queryName", "subscriptionID", "token"):
        url = url.replace("{" + name + "}", "1")
    response = client.request(method.upper(), url, json={} if method == "post" else None)
    assert response.status_code == 401
    body = response.json()
    assert (body["type"], body["code"]) == (
        "epcisException:SecurityException",
        "authentication_required",
    )
    assert response.headers["GS1-EPCIS-Version"] == "2.0.0"


def test_unmeetable_accept_or_version_range_is_406(binding: Binding) -> None:
    for headers in (
        {"Accept": "text/csv"},
        {"GS1-EPCIS-Min": "2.1.0"},
        {"GS1-EPCIS-Max": "1.2.0"},
        {"GS1-CBV-Min": "3.0"},
        {"GS1-EPCIS-Max": "two"},
    ):
        response = binding.client.get("/epcis/events", headers={**binding.hub, **headers})
        assert response.status_code == 406, headers
        body = response.json()
        assert (body["type"], body["code"]) == (
            "epcisException:NotAcceptableException",
            "epcis.not_acceptable",
        )
    fits = {"GS1-EPCIS-Min": "1.2.0", "GS1-EPCIS-Max": "2.0.0", "Accept": "application/ld+json"}
    assert binding.client.get("/epcis/events", headers={**binding.hub, **fits}).status_code == 200


@pytest.mark.parametrize(
    ("url", "kind", "code"),
    [
        ("/epcis/capture/999999", "NoSuchResourceException", "epcis.capture_job_not_found"),
        ("/epcis/events/urn%3Auuid%3Anone", "NoSuchResourceException", "epcis.event_not_found"),
        ("/epcis/bizSteps/picking", "NoSuchResourceException", "epcis.resource_not_found"),
        ("/epcis/queries/none", "NoSuchNameException", "epcis.query_not_found"),
        ("/epcis/queries/none/events", "NoSuchNameException", "epcis.query_not_found"),
        (
            "/epcis/queries/shipments/subscriptions/none",
            "NoSuchResourceException",
            "epcis.subscription_not_found",
        ),
    ],
)
def test_unknown_resources_are_404_of_the_binding(
    binding: Binding, url: str, kind: str, code: str
) -> None:
    response = binding.client.get(url, headers=binding.hub)
    assert response.status_code == 404
    body = response.json()
    assert (body["type"], body["code"]) == (f"epcisException:{kind}", code)


def test_errors_are_the_binding_problem_types_with_our_codes(binding: Binding) -> None:
    client, hub = binding.client, binding.hub
    bad_query = client.get("/epcis/events", params={"EQ_nothing": "x"}, headers=hub)
    assert (bad_query.status_code, bad_query.json()["type"]) == (
        400,
        "epcisException:QueryParameterException",
    )
    invalid = client.post(
        "/epcis/events", json={"@context": CONTEXT, **new_event(3), "action": "NO"}, headers=hub
    )
    assert (invalid.status_code, invalid.json()["type"], invalid.json()["code"]) == (
        400,
        "epcisException:ValidationException",
        "epcis.invalid_event",
    )
    other = {**new_event(1), "eventID": event_id(2)}
    clash = client.post("/epcis/events", json={"@context": CONTEXT, **other}, headers=hub)
    assert (clash.status_code, clash.json()["type"]) == (
        409,
        "epcisException:ResourceAlreadyExistsException",
    )
    xml = client.post("/epcis/capture", content=b"x", headers={**hub, "Content-Type": "text/plain"})
    assert (xml.status_code, xml.json()["type"]) == (
        415,
        "epcisException:UnsupportedMediaTypeException",
    )
    again = client.post("/epcis/queries", json={"name": "shipments", "query": {}}, headers=hub)
    assert (again.status_code, again.json()["type"], again.json()["code"]) == (
        409,
        "epcisException:ResourceAlreadyExistsException",
        "epcis.query_exists",
    )


def test_capture_job_errors_are_rfc7807_problems(binding: Binding) -> None:
    bad = {**new_event(4), "bizStep": "dancing"}
    job = binding.client.post(
        "/epcis/capture",
        json=document(bad),
        headers={**binding.hub, "GS1-Capture-Error-Behaviour": "proceed"},
    )
    assert job.status_code == 202
    assert job.headers["GS1-Capture-Error-Behaviour"] == "proceed"
    [error] = job.json()["errors"]
    problem = resolve(SPEC["components"]["schemas"]["RFC7807ProblemResponseBody"])
    jsonschema.validate(error, {k: v for k, v in problem.items() if k != "xml"})
    assert (error["type"], error["status"], error["code"]) == (
        "epcisException:ValidationException",
        400,
        "epcis.unknown_biz_step",
    )
    assert error["detail"] == error["message"]


def test_capture_limit_is_enforced_with_413(binding: Binding, monkeypatch: Any) -> None:
    from medledger.trace import api

    monkeypatch.setattr(api, "CAPTURE_LIMIT", 1)
    response = binding.client.post(
        "/epcis/capture", json=document(new_event(5), new_event(6)), headers=binding.hub
    )
    assert response.status_code == 413
    body = response.json()
    assert (body["type"], body["code"]) == (
        "epcisException:CaptureLimitExceededException",
        "epcis.capture_limit_exceeded",
    )
    assert response.headers["GS1-EPCIS-Capture-Limit"] == "10000"
    assert (
        binding.client.get(
            "/epcis/events", params={"EQ_eventID": event_id(105)}, headers=binding.hub
        ).json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        == []
    )


def test_capture_jobs_are_paged_with_a_link(binding: Binding) -> None:
    first = binding.client.get("/epcis/capture", params={"perPage": 2}, headers=binding.hub)
    assert first.status_code == 200
    assert len(first.json()) == 2
    link = first.headers["Link"]
    assert link.endswith('; rel="next"')
    url = link[1 : link.index(">")]
    rest = binding.client.get(url, headers=binding.hub).json()
    everything = binding.client.get("/epcis/capture", headers=binding.hub).json()
    assert [j["captureID"] for j in first.json() + rest][: len(everything)] == [
        j["captureID"] for j in everything
    ][: len(first.json()) + len(rest)]
    assert {j["captureID"] for j in first.json()}.isdisjoint({j["captureID"] for j in rest})
