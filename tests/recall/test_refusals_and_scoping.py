"""Refusals that change nothing (wrong role, missing or wrong signature, the initiator closing
its own recall, closing before every answer) and partner visibility: a partner sees only the
recalls it was notified of, only its own notice, never the scope or the report."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from medledger.compliance.models import AuditEntry, ElectronicSignature, SigningFailure
from medledger.core.system import system_unit_of_work
from medledger.integration.models import OutboxMessage
from medledger.inventory.models import StockBalance
from medledger.recall.models import Recall, RecallNotice, RecallScope
from medledger.trace.models import EpcisEvent
from tests.builders import PASSWORD
from tests.recall.builders import Scenario, build_scenario, ok, recall_body


@pytest.fixture
def s(client: TestClient, factory: sessionmaker[Session]) -> Scenario:
    return build_scenario(client, factory)


def _state(factory: sessionmaker[Session]) -> dict[str, Any]:
    """Everything a recall touches: equal before and after = nothing changed."""
    with system_unit_of_work(factory) as session:
        result: dict[str, Any] = {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (
                Recall,
                RecallNotice,
                RecallScope,
                OutboxMessage,
                EpcisEvent,
                ElectronicSignature,
            )
        }
        result["audit"] = session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action.not_in(("login", "sign_failed")))
        )
        result["stock"] = sorted(
            session.execute(
                select(StockBalance.lot, StockBalance.status, StockBalance.quantity).where(
                    StockBalance.quantity > 0
                )
            ).all()
        )
        result["recalls"] = sorted(
            session.execute(select(Recall.id, Recall.state, Recall.version)).all()
        )
        result["notices"] = sorted(
            session.execute(
                select(
                    RecallNotice.id, RecallNotice.acknowledged_at, RecallNotice.quantity_returned
                )
            ).all()
        )
        return result


def _failures(factory: sessionmaker[Session]) -> int:
    with system_unit_of_work(factory) as session:
        return int(session.scalar(select(func.count()).select_from(SigningFailure)) or 0)


@pytest.mark.parametrize(
    ("user", "body", "status", "code"),
    [
        ("planner", recall_body(), 403, "permission_denied"),
        ("distributor", recall_body(), 403, "permission_denied"),
        ("qa", recall_body(signature=None), 422, "signature.required"),
        ("qa", recall_body(signature={"password": "wrong"}), 403, "signature.invalid_credentials"),
        (
            "qa",
            recall_body(identifiers=["(01)04098760005034(10)NOPE"]),
            404,
            "trace.item_not_found",
        ),
        ("qa", recall_body(ncr_id=999), 422, "recall.ncr_unknown"),
    ],
)
def test_initiation_refusals_change_nothing(
    client: TestClient,
    s: Scenario,
    factory: sessionmaker[Session],
    user: str,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    before = _state(factory)
    failures = _failures(factory)
    response = client.post("/api/v1/recalls", json=body, headers=s.h(user))
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert _state(factory) == before
    # a wrong password is kept as a failed attempt (Part 11), nothing else
    assert _failures(factory) == failures + (1 if code == "signature.invalid_credentials" else 0)


def test_unknown_identifier_names_its_field(client: TestClient, s: Scenario) -> None:
    response = client.post(
        "/api/v1/recalls",
        json=recall_body(identifiers=["(01)04098760005034(10)COMP-7", "not a gs1 id"]),
        headers=s.h("qa"),
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["identifiers.1"]


def _started(client: TestClient, s: Scenario) -> dict[str, Any]:
    return dict(ok(client.post("/api/v1/recalls", json=recall_body(), headers=s.h("qa")), 201))


def test_closure_and_acknowledgement_refusals(
    client: TestClient, s: Scenario, factory: sessionmaker[Session]
) -> None:
    recall = _started(client, s)
    notices = {n["name"]: n for n in recall["notices"]}
    path = f"/api/v1/recalls/{recall['id']}"
    before = _state(factory)
    cases = [
        # closing before every consignee answered
        (
            "qa_approver",
            "/transitions",
            {"action": "close", "signature": {"password": PASSWORD}},
            409,
            "recall.not_all_acknowledged",
        ),
        # the initiator closing its own recall
        (
            "qa",
            "/transitions",
            {"action": "close", "signature": {"password": PASSWORD}},
            403,
            "permission_denied",
        ),
        # a role without quality:approve
        (
            "planner",
            "/transitions",
            {"action": "close", "signature": {"password": PASSWORD}},
            403,
            "permission_denied",
        ),
        # the distributor answering the hospital's notice: not visible to it
        (
            "distributor",
            f"/notices/{notices['City Hospital']['id']}/acknowledgement",
            {"quantity_returned": 1},
            404,
            "recall.notice_not_found",
        ),
        # the hub answering on behalf without saying why
        (
            "qa",
            f"/notices/{notices['City Hospital']['id']}/acknowledgement",
            {"quantity_returned": 1},
            422,
            "recall.reason_on_behalf_required",
        ),
        # more units accounted for than the notice names
        (
            "hospital",
            f"/notices/{notices['City Hospital']['id']}/acknowledgement",
            {"quantity_returned": 5},
            422,
            "recall.quantities_exceed_units",
        ),
        # a supplier that was not notified: the recall does not exist for it
        (
            "supplier",
            f"/notices/{notices['City Hospital']['id']}/acknowledgement",
            {},
            404,
            "not_found",
        ),
    ]
    for user, suffix, body, status, code in cases:
        response = client.post(path + suffix, json=body, headers=s.h(user))
        assert (response.status_code, response.json()["code"]) == (status, code), (user, suffix)
        assert _state(factory) == before, (user, suffix)
    # the initiator's refusal names the rule
    refused = client.post(
        path + "/transitions",
        json={"action": "close", "signature": {"password": PASSWORD}},
        headers=s.h("qa"),
    )
    assert refused.json()["code"] == "permission_denied"
    # The hub records the hospital's answer on its behalf, with a reason
    answer = ok(
        client.post(
            path + f"/notices/{notices['City Hospital']['id']}/acknowledgement",
            json={"quantity_destroyed": 4, "reason": "Phoned the hospital; destroyed on site"},
            headers=s.h("qa"),
        )
    )
    assert (answer["on_behalf"], answer["on_behalf_reason"], answer["acknowledged_by"]) == (
        True,
        "Phoned the hospital; destroyed on site",
        "rc-qa (rc qa)",
    )


def test_a_partner_sees_only_recalls_and_notices_that_concern_it(
    client: TestClient, s: Scenario
) -> None:
    recall = _started(client, s)
    path = f"/api/v1/recalls/{recall['id']}"
    # The distributor sees the recall with its own notice only, and its own effectiveness
    seen = ok(client.get(path, headers=s.h("distributor")))
    assert [n["name"] for n in seen["notices"]] == ["rc Distribution"]
    assert seen["effectiveness"]["consignees"] == 1
    # the scope's figures describe other parties: not for a partner
    assert (seen["consignees"], seen["units_held"], seen["shipments_in_scope"]) == (None,) * 3
    listed = ok(client.get("/api/v1/recalls", headers=s.h("distributor")))
    assert [r["number"] for r in listed["items"]] == [recall["number"]]
    # but never the scope (every consignee) or the report
    for suffix in ("/scope", "/report"):
        assert client.get(path + suffix, headers=s.h("distributor")).status_code == 404
    # The supplier was not notified: no recall exists for it
    assert client.get(path, headers=s.h("supplier")).status_code == 404
    assert ok(client.get("/api/v1/recalls", headers=s.h("supplier")))["items"] == []
    kpi = ok(client.get("/api/v1/recalls/kpi", headers=s.h("supplier")))
    assert (kpi["recalls"], kpi["per_recall"]) == (0, [])
    # The hub sees both notices and the scope
    assert len(ok(client.get(path, headers=s.h("planner")))["notices"]) == 2
    scope = ok(client.get(path + "/scope", headers=s.h("planner")))
    assert [c["name"] for c in scope["consignees"]] == ["City Hospital", "rc Distribution"]
