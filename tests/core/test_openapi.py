"""The OpenAPI description tells clients the truth (issue 11, item 10)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.types import DB_INT_MAX
from tests.builders import build_network, token_headers

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


@pytest.fixture
def described(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def _operations(described: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, operations in described["paths"].items()
        for method, operation in operations.items()
    ]


def test_every_error_answer_is_declared_as_problem_json(described: dict[str, Any]) -> None:
    for method, path, operation in _operations(described):
        errors = {code: r for code, r in operation["responses"].items() if int(code) >= 400}
        assert {"400", "401"} <= set(errors), (method, path)
        for code, response in errors.items():
            assert response["content"] == {"application/problem+json": {"schema": PROBLEM_REF}}, (
                method,
                path,
                code,
            )
    assert "HTTPValidationError" not in described["components"]["schemas"]
    problem = described["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "code", "detail"}


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("get", "/api/v1/me", {"400", "401", "403", "503"}),
        ("get", "/api/v1/parties", {"400", "401", "403", "422", "503"}),
        ("post", "/api/v1/parties", {"400", "401", "403", "409", "413", "422", "503"}),
        ("get", "/api/v1/parties/{party_id}", {"400", "401", "403", "404", "422", "503"}),
        (
            "patch",
            "/api/v1/parties/{party_id}",
            {"400", "401", "403", "404", "409", "413", "422", "503"},
        ),
        ("post", "/api/v1/auth/token", {"400", "401", "409", "413", "422", "429", "503"}),
        ("post", "/epcis/capture", {"400", "401", "403", "409", "413", "415", "422", "503"}),
        # a record named in the body: 404 (an unseen site party), not only in the path
        ("post", "/api/v1/sites", {"400", "401", "403", "404", "409", "413", "422", "503"}),
        ("get", "/api/v1/trace", {"400", "401", "403", "404", "422", "503"}),
    ],
)
def test_each_operation_declares_what_it_can_answer(
    described: dict[str, Any], method: str, path: str, statuses: set[str]
) -> None:
    responses = described["paths"][path][method]["responses"]
    assert {code for code in responses if int(code) >= 400} == statuses


def _integers(node: Any, where: str) -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        if node.get("type") == "integer":
            found.append((where, node))
        for key, value in node.items():
            found += _integers(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _integers(value, f"{where}.{index}")
    return found


def test_no_integer_a_client_sends_is_unbounded(described: dict[str, Any]) -> None:
    inputs: list[tuple[str, dict[str, Any]]] = []
    for method, path, operation in _operations(described):
        for parameter in operation.get("parameters", []):
            inputs += _integers(parameter["schema"], f"{method} {path} {parameter['name']}")
    for name, schema in described["components"]["schemas"].items():
        if name.endswith(("In", "Update")) or name in ("Contact", "BomLineIn"):
            inputs += _integers(schema, name)
    assert len(inputs) > 20
    unbounded = [where for where, schema in inputs if schema.get("maximum", 2**64) > DB_INT_MAX]
    assert unbounded == []


def test_gs1_keys_carry_their_patterns(described: dict[str, Any]) -> None:
    schemas = described["components"]["schemas"]
    assert schemas["ProductIn"]["properties"]["gtin"] | {"description": "", "title": ""} == {
        "type": "string",
        "pattern": "^([0-9]{8}|[0-9]{12,14})$",
        "minLength": 8,
        "maxLength": 14,
        "description": "",
        "title": "",
    }
    assert schemas["PartyIn"]["properties"]["gln"]["pattern"] == "^[0-9]{13}$"
    assert schemas["PartyIn"]["properties"]["gln"]["minLength"] == 13
    assert schemas["PartyOut"]["properties"]["gln"]["pattern"] == "^[0-9]{13}$"
    assert schemas["ProductOut"]["properties"]["gtin"]["pattern"] == "^[0-9]{14}$"
    assert schemas["ProductOut"]["properties"]["gtin"]["maxLength"] == 14
    sscc = schemas["ParsedGS1Out"]["properties"]["sscc"]["anyOf"][0]
    assert (sscc["pattern"], sscc["minLength"], sscc["maxLength"]) == ("^[0-9]{18}$", 18, 18)
    location_gln = schemas["LocationIn"]["properties"]["gln"]["anyOf"][0]
    assert location_gln["pattern"] == "^[0-9]{13}$"


def test_epcis_documents_are_described_as_json_ld(described: dict[str, Any]) -> None:
    for path in ("/epcis/events", "/epcis/events/{event_id}"):
        # JSON-LD, or plain JSON or XML when Accept asks for it (the EPCIS binding's forms)
        assert set(described["paths"][path]["get"]["responses"]["200"]["content"]) == {
            "application/ld+json",
            "application/json",
            "application/xml",
        }
    body = described["paths"]["/epcis/capture"]["post"]["requestBody"]["content"]
    # and XML documents (EPCIS 2.0 or 1.2), normalised to the same stored events
    assert set(body) == {"application/json", "application/ld+json", "application/xml", "text/xml"}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/me/preferences", {"time_zone": None}, "time_zone"),
        ("/api/v1/parties/{party}", {"name": None}, "name"),
        ("/api/v1/parties/{party}", {"roles": None}, "roles"),
    ],
)
def test_a_partial_update_refuses_null_where_a_value_is_required(
    client: TestClient, factory: sessionmaker[Session], path: str, body: dict[str, Any], field: str
) -> None:
    network = build_network(factory)
    headers = token_headers(client, "acme-admin")
    response = client.patch(path.format(party=network.supplier_id), json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [
        (field, "request.null_not_allowed")
    ]


def test_a_partial_update_may_clear_what_may_be_empty(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    build_network(factory)
    headers = token_headers(client, "acme-admin")
    response = client.patch("/api/v1/me/preferences", json={"locale": None}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["locale"] is None
