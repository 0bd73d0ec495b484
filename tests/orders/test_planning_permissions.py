"""Who may use the priority, allocation, board and approval routes (every hub role and a
partner), with refused writes changing nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.system import system_unit_of_work
from medledger.orders.planning_models import LineScore, PlanningApproval, PriorityRuleSet
from medledger.priority.scoring import DEFAULT_RULE_SET
from tests.orders.builders import STENT, build_order_world, headers
from tests.orders.planning_builders import _ok, stock_up

ROLES = ("admin", "planner", "sales", "warehouse", "purchasing", "qa", "qa_approver", "auditor")
FULFIL = {"admin", "planner", "sales", "warehouse"}
PLAN = {"admin", "planner", "sales"}
APPROVE = {"admin", "planner"}


def _counts(factory: sessionmaker[Session]) -> tuple[int, ...]:
    with system_unit_of_work(factory) as session:
        return tuple(
            int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (PriorityRuleSet, PlanningApproval, LineScore)
        )


@pytest.fixture
def world(factory: sessionmaker[Session], client: TestClient) -> dict[str, Any]:
    build_order_world(factory)
    stock_up(client, [(STENT, "S1", 5, "2029-06-30")])
    order = _ok(
        client.post(
            "/api/v1/orders",
            json={
                "customer_reference": "PO-PM",
                "requested_delivery_date": "2026-12-20",
                "lines": [{"gtin": STENT, "quantity": 2}],
            },
            headers=headers(client, "hospital"),
        )
    )
    return {"order": order["id"], "line": order["lines"][0]["id"]}


def test_reads_by_role(client: TestClient, world: dict[str, Any]) -> None:
    reads = {
        "/api/v1/order-board": FULFIL,
        "/api/v1/priority/queue": FULFIL,
        f"/api/v1/order-lines/{world['line']}/score": FULFIL,
        f"/api/v1/orders/{world['order']}/plan": FULFIL,
        "/api/v1/priority/rule-sets": PLAN,
        "/api/v1/order-approvals": PLAN | APPROVE,
    }
    seen = {}
    for path, allowed in reads.items():
        for role in (*ROLES, "hospital"):
            status = client.get(path, headers=headers(client, role)).status_code
            seen[(path, role)] = status
            assert status == (200 if role in allowed else 403), (path, role, status)
    assert len(seen) == len(reads) * (len(ROLES) + 1)


def test_writes_by_role_and_refusals_change_nothing(
    factory: sessionmaker[Session], client: TestClient, world: dict[str, Any]
) -> None:
    writes: list[tuple[str, dict[str, Any], set[str]]] = [
        ("/api/v1/priority/rescore", {}, PLAN),
        ("/api/v1/priority/plan", {"solver": "greedy"}, PLAN),
        (
            "/api/v1/priority/rule-sets",
            {"document": {**DEFAULT_RULE_SET, "name": "probe"}, "note": "x"},
            PLAN,
        ),
        (
            f"/api/v1/order-lines/{world['line']}/override",
            {"score": 99, "reason": "VIP"},
            PLAN,
        ),
        (f"/api/v1/orders/{world['order']}/board", {"to": "scored"}, FULFIL),
    ]
    for path, body, allowed in writes:
        for role in (*ROLES, "hospital"):
            before = _counts(factory)
            response = client.post(path, json=body, headers=headers(client, role))
            if role in allowed:
                # the first allowed role does it; later ones may meet a business rule instead
                assert response.status_code in (200, 201, 409), (path, role, response.text)
            else:
                assert response.status_code == 403, (path, role, response.text)
                assert _counts(factory) == before, (path, role)
    # a partner cannot read or decide approvals either
    approval = _ok(client.get("/api/v1/order-approvals", headers=headers(client, "planner")))
    approval_id = approval["items"][0]["id"]
    for role in ("sales", "warehouse", "qa", "auditor", "hospital"):
        response = client.post(
            f"/api/v1/order-approvals/{approval_id}/decision",
            json={"decision": "approve", "signature": {"password": "x"}},
            headers=headers(client, role),
        )
        assert response.status_code == 403, (role, response.text)
