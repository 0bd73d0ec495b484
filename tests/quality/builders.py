"""Quality test data through the real HTTP API."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from medledger.compliance.models import (
    AuditEntry,
    ElectronicSignature,
    SigningFailure,
    WorkflowTransition,
)
from medledger.core.system import system_unit_of_work
from medledger.quality.models import Capa, CapaAction, ChangeNotice, ChangeRequest, Ncr
from tests.builders import PASSWORD, gtin, token_headers


class Api:
    """Logged-in clients per user, so a test reads like who does what."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self._headers: dict[str, dict[str, str]] = {}

    def headers(self, user: str) -> dict[str, str]:
        if user not in self._headers:
            self._headers[user] = token_headers(self.client, f"acme-{user}")
        return self._headers[user]

    def get(self, user: str, path: str) -> Any:
        return self.client.get(path, headers=self.headers(user))

    def post(self, user: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.client.post(path, json=body or {}, headers=self.headers(user))

    def patch(self, user: str, path: str, body: dict[str, Any]) -> Any:
        return self.client.patch(path, json=body, headers=self.headers(user))

    def step(
        self,
        user: str,
        kind: str,
        record_id: int,
        action: str,
        *,
        password: str | None = None,
        reason: str = "",
    ) -> Any:
        body: dict[str, Any] = {"action": action, "reason": reason}
        if password is not None:
            body["signature"] = {"password": password, "comment": f"{action} by {user}"}
        return self.post(user, f"/api/v1/quality/{kind}s/{record_id}/transitions", body)


def sign(password: str = PASSWORD) -> str:
    return password


def raise_ncr(api: Api, user: str = "qa", **fields: Any) -> dict[str, Any]:
    body = {
        "title": "Burr on catheter hub",
        "description": "Sharp burr found at incoming inspection.",
        "severity": "major",
        "affected_lots": [{"gtin": gtin(51), "lot": "L-100"}],
        **fields,
    }
    response = api.post(user, "/api/v1/quality/ncrs", body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def ncr_ready_for_approval(api: Api, supplier_id: int) -> dict[str, Any]:
    """An NCR raised by acme-qa, investigated, with a disposition proposed (signed reviewed)."""
    ncr = raise_ncr(api, supplier_party_id=supplier_id)
    assert api.step("qa", "ncr", ncr["id"], "investigate").status_code == 200
    response = api.patch(
        "qa",
        f"/api/v1/quality/ncrs/{ncr['id']}",
        {"disposition": "return_to_supplier", "disposition_rationale": "Burr out of spec."},
    )
    assert response.status_code == 200, response.text
    response = api.step("qa", "ncr", ncr["id"], "propose_disposition", password=PASSWORD)
    assert response.status_code == 200, response.text
    return dict(response.json())


def counts(factory: sessionmaker[Session]) -> dict[str, Any]:
    """Rows of every quality and signature table and the audit tail: equal = nothing changed."""
    with system_unit_of_work(factory) as session:
        result: dict[str, Any] = {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (
                Ncr,
                Capa,
                CapaAction,
                ChangeRequest,
                ChangeNotice,
                ElectronicSignature,
                WorkflowTransition,
                SigningFailure,
            )
        }
        result["audit"] = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action != "login")
        )
        result["states"] = sorted(
            (kind, row_id, state, version)
            for kind, model in (("ncr", Ncr), ("capa", Capa), ("change", ChangeRequest))
            for row_id, state, version in session.execute(
                select(model.id, model.state, model.version)
            )
        )
        return result


def audit_actions(factory: sessionmaker[Session], entity_type: str) -> list[tuple[str, str]]:
    with system_unit_of_work(factory) as session:
        return [
            (row.action, row.actor_label)
            for row in session.execute(
                select(AuditEntry.action, AuditEntry.actor_label)
                .where(AuditEntry.entity_type == entity_type)
                .order_by(AuditEntry.seq)
            )
        ]
