"""Every quality endpoint × every role, written out by hand; denied calls change nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.builders import token_headers
from tests.fixtures_network import World, build_world, snapshot

HUB_ROLES = ("admin", "planner", "sales", "warehouse", "purchasing", "qa", "qa_approver", "auditor")
ALL = (*HUB_ROLES, "distributor", "supplier")
READERS = frozenset(ALL) - {"sales"}
REPORTERS = frozenset({"admin", "warehouse", "qa", "qa_approver", "distributor", "supplier"})
WRITERS = frozenset({"admin", "qa", "qa_approver"})


@dataclass(frozen=True)
class Call:
    name: str
    method: str
    path: Callable[[dict[str, int]], str]
    body: dict[str, Any] | None
    expected: Callable[[str], int]  # role -> status
    mutates: bool


def _reads_record(role: str) -> int:
    # the NCR concerns the supplier; the distributor cannot see it; sales may not read quality
    if role == "sales":
        return 403
    return 404 if role == "distributor" else 200


def _writes_record(ok: int) -> Callable[[str], int]:
    def expected(role: str) -> int:
        if role in WRITERS:
            return ok
        return 404 if role == "distributor" else 403

    return expected


CALLS = [
    Call(
        "list NCRs",
        "GET",
        lambda i: "/api/v1/quality/ncrs",
        None,
        lambda r: 200 if r in READERS else 403,
        False,
    ),
    Call(
        "read NCR", "GET", lambda i: f"/api/v1/quality/ncrs/{i['ncr']}", None, _reads_record, False
    ),
    Call(
        "list signatures",
        "GET",
        lambda i: f"/api/v1/signatures?record_kind=ncr&record_id={i['ncr']}",
        None,
        _reads_record,
        False,
    ),
    Call(
        "tasks",
        "GET",
        lambda i: "/api/v1/quality/tasks",
        None,
        lambda r: 200 if r in READERS else 403,
        False,
    ),
    Call(
        "summary",
        "GET",
        lambda i: "/api/v1/quality/summary",
        None,
        lambda r: 200 if r in READERS else 403,
        False,
    ),
    Call(
        "workflows",
        "GET",
        lambda i: "/api/v1/quality/workflows",
        None,
        lambda r: 200 if r in READERS else 403,
        False,
    ),
    Call(
        "list CAPAs",
        "GET",
        lambda i: "/api/v1/quality/capas",
        None,
        lambda r: 200 if r in READERS else 403,
        False,
    ),
    Call(
        "list changes",
        "GET",
        lambda i: "/api/v1/quality/changes",
        None,
        lambda r: 200 if r in READERS else 403,
        False,
    ),
    Call(
        "list deviations",
        "GET",
        lambda i: "/api/v1/quality/deviations",
        None,
        lambda r: 200 if r in READERS else 403,
        False,
    ),
    Call(
        "record deviation",
        "POST",
        lambda i: "/api/v1/quality/deviations",
        {"title": "Oven"},
        lambda r: 201 if r in WRITERS else 403,
        True,
    ),
    Call(
        "raise NCR",
        "POST",
        lambda i: "/api/v1/quality/ncrs",
        {"title": "Scratch", "source": "partner_report"},
        lambda r: 201 if r in REPORTERS else 403,
        True,
    ),
    Call(
        "edit NCR",
        "PATCH",
        lambda i: f"/api/v1/quality/ncrs/{i['ncr']}",
        {"investigation": "Looked."},
        lambda r: 200 if r in WRITERS else 403,
        True,
    ),
    Call(
        "investigate NCR",
        "POST",
        lambda i: f"/api/v1/quality/ncrs/{i['ncr']}/transitions",
        {"action": "investigate"},
        _writes_record(200),
        True,
    ),
    Call(
        "open CAPA",
        "POST",
        lambda i: "/api/v1/quality/capas",
        {"title": "Fix"},
        lambda r: 201 if r in WRITERS else 403,
        True,
    ),
    Call(
        "open change",
        "POST",
        lambda i: "/api/v1/quality/changes",
        {"title": "Change"},
        lambda r: 201 if r in WRITERS else 403,
        True,
    ),
]


@pytest.fixture
def world(factory: sessionmaker[Session]) -> World:
    return build_world(factory)


@pytest.fixture
def ids(world: World, client: TestClient) -> dict[str, int]:
    response = client.post(
        "/api/v1/quality/ncrs",
        json={"title": "Burr", "supplier_party_id": world.a.supplier_id},
        headers=token_headers(client, "acme-qa"),
    )
    assert response.status_code == 201, response.text
    return {"ncr": response.json()["id"]}


def _check(
    call: Call, role: str, client: TestClient, factory: sessionmaker[Session], ids: dict[str, int]
) -> None:
    headers = token_headers(client, f"acme-{role}")
    before = snapshot(factory)
    response = client.request(call.method, call.path(ids), json=call.body, headers=headers)
    expected = call.expected(role)
    assert response.status_code == expected, f"{role}: {response.text}"
    if expected >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert snapshot(factory) == before, f"{role}: a denied call changed data"


@pytest.mark.parametrize("call", CALLS, ids=[c.name for c in CALLS])
def test_every_role_on_every_quality_endpoint(
    call: Call, client: TestClient, factory: sessionmaker[Session], ids: dict[str, int]
) -> None:
    for role in ALL:
        if call.mutates and call.expected(role) < 400:
            continue
        _check(call, role, client, factory, ids)


@pytest.mark.parametrize(
    ("call", "role"),
    [(c, r) for c in CALLS if c.mutates for r in ALL if c.expected(r) < 400],
    ids=[f"{c.name}-{r}" for c in CALLS if c.mutates for r in ALL if c.expected(r) < 400],
)
def test_roles_that_may_write_succeed(
    call: Call, role: str, client: TestClient, factory: sessionmaker[Session], ids: dict[str, int]
) -> None:
    _check(call, role, client, factory, ids)


def test_other_tenant_never_sees_the_ncr(
    client: TestClient, world: World, ids: dict[str, int]
) -> None:
    for role in ("admin", "qa_approver", "auditor"):
        headers = token_headers(client, f"bravo-{role}")
        assert client.get(f"/api/v1/quality/ncrs/{ids['ncr']}", headers=headers).status_code == 404
        assert client.get("/api/v1/quality/ncrs", headers=headers).json()["items"] == []
