"""Signing directly through /api/v1/signatures: who may sign what, second factor, machines."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from medledger.compliance.signing import (
    Signer,
    register_second_factor,
    unregister_second_factor,
)
from tests.builders import PASSWORD, Network, build_network
from tests.quality.builders import Api, counts, raise_ncr


@pytest.fixture
def net(factory: sessionmaker[Session]) -> Network:
    return build_network(factory)


@pytest.fixture
def api(client: TestClient) -> Api:
    return Api(client)


class FixedCode:
    """A second factor for approvers only, accepting one code (a TOTP would check the time)."""

    name = "totp"

    def required_for(self, session: Session, user: Signer) -> bool:
        return user.role == "qa_approver"

    def verify(self, session: Session, user: Signer, code: str) -> bool:
        return code == "424242"


@pytest.fixture
def second_factor() -> Iterator[FixedCode]:
    factor = FixedCode()
    register_second_factor(factor)
    yield factor
    unregister_second_factor(factor)


def _sign(api: Api, user: str, record_id: int, **extra: Any) -> Any:
    body = {
        "record_kind": "ncr",
        "record_id": record_id,
        "meaning": "reviewed",
        "password": PASSWORD,
        **extra,
    }
    return api.post(user, "/api/v1/signatures", body)


def test_a_registered_second_factor_is_required_after_the_password(
    api: Api, net: Network, factory: sessionmaker[Session], second_factor: FixedCode
) -> None:
    ncr = raise_ncr(api)
    before = counts(factory)
    refused = _sign(api, "qa_approver", ncr["id"])
    assert (refused.status_code, refused.json()["code"]) == (403, "signature.invalid_credentials")
    assert [e["field"] for e in refused.json()["errors"]] == ["signature.second_factor"]
    assert counts(factory)["electronic_signatures"] == before["electronic_signatures"]
    assert counts(factory)["signing_failures"] == before["signing_failures"] + 1
    signed = _sign(api, "qa_approver", ncr["id"], second_factor="424242")
    assert signed.status_code == 201, signed.text
    assert signed.json()["authentication"] == "password+totp"
    # users the factor does not cover sign with the password alone
    assert _sign(api, "qa", ncr["id"]).json()["authentication"] == "password"


def test_who_may_sign_directly(api: Api, net: Network, factory: sessionmaker[Session]) -> None:
    ncr = raise_ncr(api, supplier_party_id=net.supplier_id)
    before = counts(factory)
    # approvals only happen through the workflow
    refused = _sign(api, "qa_approver", ncr["id"], meaning="approved")
    assert (refused.status_code, refused.json()["code"]) == (422, "signature.meaning_not_allowed")
    refused = _sign(api, "qa", ncr["id"], meaning="blessed")
    assert (refused.status_code, refused.json()["code"]) == (422, "signature.unknown_meaning")
    refused = _sign(api, "qa", ncr["id"], record_kind="invoice")
    assert (refused.status_code, refused.json()["code"]) == (422, "signature.unknown_kind")
    # roles without quality:write, and partners, may not review
    for user in ("planner", "warehouse", "auditor", "supplier"):
        refused = _sign(api, user, ncr["id"])
        assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied"), user
    assert _sign(api, "qa", 999).status_code == 404
    assert counts(factory) == before


def test_machine_clients_cannot_sign(
    api: Api, client: TestClient, net: Network, factory: sessionmaker[Session]
) -> None:
    ncr = raise_ncr(api)
    created = api.post(
        "admin", "/api/v1/api-keys", {"party_id": net.hub_id, "name": "QMS", "role": "qa"}
    )
    assert created.status_code == 201, created.text
    before = counts(factory)
    response = client.post(
        "/api/v1/signatures",
        json={
            "record_kind": "ncr",
            "record_id": ncr["id"],
            "meaning": "reviewed",
            "password": PASSWORD,
        },
        headers={"X-API-Key": created.json()["key"]},
    )
    assert (response.status_code, response.json()["code"]) == (403, "signature.person_required")
    assert counts(factory) == before
