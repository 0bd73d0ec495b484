"""Authentication: tokens, API keys, sessions, rate limiting, logout."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.system import system_unit_of_work
from medledger.parties.models import LoginAttempt, User
from tests.builders import PASSWORD, build_network, token_headers


def test_password_token_flow_and_me(client: TestClient, factory: sessionmaker[Session]) -> None:
    net = build_network(factory)
    headers = token_headers(client, "acme-distributor")
    me = client.get("/api/v1/me", headers=headers).json()
    assert (me["username"], me["role"], me["party_id"], me["time_zone"]) == (
        "acme-distributor",
        "partner_user",
        net.distributor_id,
        "Asia/Shanghai",
    )
    assert "audit:read" not in me["permissions"]


def test_passwords_are_stored_as_argon2id(factory: sessionmaker[Session]) -> None:
    build_network(factory)
    with system_unit_of_work(factory) as session:
        stored = session.scalar(select(User.password_hash).where(User.username == "acme-qa"))
    assert stored is not None and stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_wrong_password_is_401_and_logged(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    build_network(factory)
    response = client.post("/api/v1/auth/token", data={"username": "acme-qa", "password": "nope"})
    assert (response.status_code, response.json()["code"]) == (401, "login.invalid_credentials")
    with system_unit_of_work(factory) as session:
        attempts = session.execute(select(LoginAttempt.username, LoginAttempt.succeeded)).all()
    assert [tuple(a) for a in attempts] == [("acme-qa", False)]


def test_failed_logins_are_rate_limited(client: TestClient, factory: sessionmaker[Session]) -> None:
    build_network(factory)
    codes = [
        client.post("/api/v1/auth/token", data={"username": "acme-qa", "password": "nope"}).json()[
            "code"
        ]
        for _ in range(6)
    ]
    assert codes == ["login.invalid_credentials"] * 5 + ["login.rate_limited"]
    # even the right password is refused while the limit holds
    right = client.post("/api/v1/auth/token", data={"username": "acme-qa", "password": PASSWORD})
    assert (right.status_code, right.json()["code"]) == (429, "login.rate_limited")


def test_no_credentials_and_bad_token(client: TestClient, factory: sessionmaker[Session]) -> None:
    build_network(factory)
    assert client.get("/api/v1/parties").json()["code"] == "authentication_required"
    bad = client.get("/api/v1/parties", headers={"Authorization": "Bearer nope"})
    assert (bad.status_code, bad.json()["code"]) == (401, "token.invalid")


def test_logout_revokes_the_token(client: TestClient, factory: sessionmaker[Session]) -> None:
    build_network(factory)
    headers = token_headers(client, "acme-qa")
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_api_key_acts_for_its_party_until_revoked(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    net = build_network(factory)
    admin = token_headers(client, "acme-admin")
    created = client.post(
        "/api/v1/api-keys", json={"party_id": net.distributor_id, "name": "ERP"}, headers=admin
    )
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    assert key.startswith("mlk_")
    machine = {"X-API-Key": key}
    parties = client.get("/api/v1/parties", headers=machine).json()
    assert [p["id"] for p in parties["items"]] == [net.distributor_id]
    listed = client.get("/api/v1/api-keys", headers=admin).json()
    assert "key" not in listed[0] and listed[0]["prefix"] == created.json()["prefix"]
    client.post(f"/api/v1/api-keys/{created.json()['id']}/revoke", headers=admin)
    refused = client.get("/api/v1/parties", headers=machine)
    assert (refused.status_code, refused.json()["code"]) == (401, "api_key.invalid")


def test_deactivated_user_cannot_log_in(client: TestClient, factory: sessionmaker[Session]) -> None:
    net = build_network(factory)
    admin = token_headers(client, "acme-admin")
    client.post(f"/api/v1/users/{net.users['sales']}/deactivate", headers=admin)
    response = client.post(
        "/api/v1/auth/token", data={"username": "acme-sales", "password": PASSWORD}
    )
    assert response.status_code == 401


def test_cookie_session_requires_csrf_token_for_writes(
    client: TestClient,
    factory: sessionmaker[Session],
    app,  # type: ignore[no-untyped-def]
) -> None:
    from medledger.parties import auth

    build_network(factory)
    with system_unit_of_work(factory) as session:
        user = session.scalar(select(User).where(User.username == "acme-admin"))
        assert user is not None
        issued = auth.issue_session(session, app.state.settings, user, kind="browser")
    client.cookies.set(app.state.settings.session_cookie_name, issued.token)
    assert client.get("/api/v1/me").status_code == 200
    from tests.builders import gln

    body = {"name": "N", "gln": gln(409), "roles": ["hospital"], "country": "DE", "region": "EU"}
    refused = client.post("/api/v1/parties", json=body)
    assert (refused.status_code, refused.json()["code"]) == (403, "csrf.invalid")
    accepted = client.post(
        "/api/v1/parties", json=body, headers={"X-CSRF-Token": issued.csrf_token}
    )
    assert accepted.status_code == 201, accepted.text
