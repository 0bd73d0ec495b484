"""Schemathesis from the standard's own OpenAPI description of the EPCIS 2.0 REST binding
(``tests/vectors/epcis/openapi.json``), pointed at this server's ``/epcis``: generated valid and
invalid requests for every operation it declares, as the hub and as a partner, on the scenario
ledger. No request may end in a server error, and every JSON answer the standard describes
must match its schema. (Statuses are not held to the standard's lists: its dev version leaves
out the 400 ``QueryParameterException`` of the query operations, which the binding's text
requires.) Modest in size so CI stays fast; ``MEDLEDGER_FUZZ_EXAMPLES`` runs it deeper."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance
from sqlalchemy.orm import Session, sessionmaker
from tests.builders import build_network, token_headers
from tests.trace.epcis_scenario import run_scenario
from tests.trace.test_epcis_binding import COMPONENTS, SPEC

EXAMPLES = int(os.environ.get("MEDLEDGER_FUZZ_EXAMPLES", "2"))


def _standard() -> dict[str, Any]:
    spec = json.loads(json.dumps(SPEC))
    spec["components"] = json.loads(json.dumps(COMPONENTS))
    spec["servers"] = [{"url": "/epcis"}]
    # The standard's schema for one named query says an array of definitions, its own example
    # (and this server) one definition: checked as that one definition (see
    # tests/trace/test_epcis_binding.py, which validates it as the one-element array).
    answer = spec["paths"]["/queries/{queryName}"]["get"]["responses"]["200"]
    for media in answer.get("content", {}).values():
        schema = media.get("schema", {})
        if schema.get("type") == "array" and "items" in schema:
            media["schema"] = schema["items"]
    return spec


def _fuzz(
    operation: Any,
    mode: GenerationMode,
    headers: dict[str, str],
    failures: list[str],
    schema_checked: bool,
) -> Any:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        if len(failures) > 5:
            return
        try:
            response = case.call(headers={**headers, "Accept": "application/json"})
        except Exception as exc:  # the app raised: a 500 for a real client
            failures.append(f"{case.method} {case.path} raised {exc!r}")
            return
        checks = [not_a_server_error]
        if schema_checked and response.status_code < 400:
            checks.append(response_schema_conformance)
        try:
            case.validate_response(response, checks=checks)
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(
                f"{case.method} {case.path} [{mode.value}] {response.status_code}: "
                f"{exc}\n  {case.as_curl_command()}"
            )

    return run


# As the hub (answers checked against the standard's schemas) and as a partner (server errors
# only: a partner's view of an event withholds the identifiers it may not read, and a
# transformation seen from one side can so lack the other side the schema requires; see
# docs/epcis.md).
@pytest.mark.parametrize("user", ["warehouse", "distributor"])
def test_the_standards_description_finds_no_server_error(
    user: str, app: Any, client: TestClient, factory: sessionmaker[Session]
) -> None:
    build_network(factory, "sf")
    hub = token_headers(client, "sf-warehouse")
    run_scenario(client, hub, token_headers(client, "sf-distributor"))
    headers = token_headers(client, f"sf-{user}")
    query = {"name": "myQuery", "query": {"EQ_bizStep": ["shipping"]}}
    assert client.post("/epcis/queries", json=query, headers=headers).status_code == 201
    schema = schemathesis.openapi.from_dict(_standard())
    schema.app = app
    failures: list[str] = []
    unsatisfiable: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run = _fuzz(operation, mode, headers, failures, user == "warehouse")
            try:
                run()
            except Unsatisfiable:
                # Nothing to generate (no parameters to break; or a request body schema of
                # the standard no value satisfies, e.g. the capture document's): named here.
                unsatisfiable.append(f"{operation.method.upper()} {operation.path} {mode.value}")
    assert operations == 63
    assert failures == [], "\n\n".join(failures)
    # Only the disposition operations generate nothing valid: the standard's ``Disposition``
    # path parameter schema admits no value. Every other operation was exercised.
    positive = [u for u in unsatisfiable if u.endswith("positive")]
    assert positive == [
        "OPTIONS /dispositions/{disposition} positive",
        "GET /dispositions/{disposition} positive",
        "OPTIONS /dispositions/{disposition}/events positive",
        "GET /dispositions/{disposition}/events positive",
    ]
