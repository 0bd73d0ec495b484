"""Partner API hygiene: per-key rate limits (429 + Retry-After, one mechanism for every route,
a deterministic clock instead of sleeping), rotation with an overlap window, key and user
expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.config import Settings
from medledger.core.system import system_unit_of_work
from medledger.parties.models import ApiKey, User
from tests.builders import build_network, token_headers


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def settings(engine: Engine) -> Settings:
    return Settings(
        database_url=str(engine.url.render_as_string(hide_password=False)),
        secret_key="test-secret",
        login_max_failures=5,
        api_rate_limit_requests=3,
        api_rate_limit_window_seconds=60,
    )


@pytest.fixture
def clock(app: Any) -> FakeClock:
    clock = FakeClock(1_000_000.0)  # a window starts at 999 960: 40 s into it
    app.state.rate_clock = clock
    return clock


def _key(client: TestClient, admin: dict[str, str], party_id: int, **extra: Any) -> Any:
    response = client.post(
        "/api/v1/api-keys", json={"party_id": party_id, "name": "ERP", **extra}, headers=admin
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_each_key_is_limited_on_every_route_with_retry_after(
    client: TestClient, factory: sessionmaker[Session], clock: FakeClock
) -> None:
    network = build_network(factory, "rl")
    admin = token_headers(client, "rl-admin")
    default = {"X-API-Key": _key(client, admin, network.distributor_id)["key"]}
    generous = {"X-API-Key": _key(client, admin, network.supplier_id, rate_limit_requests=5)["key"]}
    # Three requests on three different routers count in one window of the key
    for path in ("/api/v1/me", "/api/v1/integration/subscriptions", "/epcis/events"):
        assert client.get(path, headers=default).status_code == 200, path
    refused = client.get("/api/v1/parties", headers=default)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "20"
    problem = refused.json()
    assert (problem["code"], problem["status"]) == ("api_key.rate_limited", 429)
    assert refused.headers["content-type"].startswith("application/problem+json")
    # another key has its own count and its own limit
    assert [client.get("/api/v1/me", headers=generous).status_code for _ in range(6)] == [
        200,
        200,
        200,
        200,
        200,
        429,
    ]
    # people (bearer tokens) are not counted against keys
    assert client.get("/api/v1/me", headers=admin).status_code == 200
    # 19 s later it is still refused, with 1 s to wait; at the window's end it works again
    clock.now += 19
    again = client.get("/api/v1/me", headers=default)
    assert (again.status_code, again.headers["Retry-After"]) == (429, "1")
    clock.now += 1
    assert client.get("/api/v1/me", headers=default).status_code == 200


def test_rotation_keeps_the_old_key_for_the_overlap_then_only_the_new_one_works(
    client: TestClient, factory: sessionmaker[Session], app: Any
) -> None:
    app.state.settings.api_rate_limit_requests = 0  # no limit here
    network = build_network(factory, "rot")
    admin = token_headers(client, "rot-admin")
    old = _key(client, admin, network.distributor_id, rate_limit_requests=50)
    rotated = client.post(
        f"/api/v1/api-keys/{old['id']}/rotate", json={"overlap_hours": 2}, headers=admin
    )
    assert rotated.status_code == 201, rotated.text
    new = rotated.json()
    assert (new["party_id"], new["name"], new["rate_limit_requests"]) == (
        network.distributor_id,
        "ERP",
        50,
    )
    keys = {k["id"]: k for k in client.get("/api/v1/api-keys", headers=admin).json()}
    assert keys[old["id"]]["replaced_by_id"] == new["id"]
    overlap = datetime.fromisoformat(keys[old["id"]]["expires_at"]) - datetime.fromisoformat(
        new["created_at"]
    )
    assert abs(overlap - timedelta(hours=2)) < timedelta(minutes=1)
    # During the overlap both keys work
    for secret in (old["key"], new["key"]):
        assert client.get("/api/v1/me", headers={"X-API-Key": secret}).status_code == 200
    # a key already rotated cannot be rotated again
    twice = client.post(f"/api/v1/api-keys/{old['id']}/rotate", json={}, headers=admin)
    assert (twice.status_code, twice.json()["code"]) == (409, "api_key.not_active")
    # When the overlap is over, the old key is refused and the new one still works
    with system_unit_of_work(factory) as session:
        session.execute(
            update(ApiKey)
            .where(ApiKey.id == old["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    refused = client.get("/api/v1/me", headers={"X-API-Key": old["key"]})
    assert (refused.status_code, refused.json()["code"]) == (401, "api_key.invalid")
    assert client.get("/api/v1/me", headers={"X-API-Key": new["key"]}).status_code == 200


def test_expiry_of_keys_and_users(client: TestClient, factory: sessionmaker[Session]) -> None:
    network = build_network(factory, "exp")
    admin = token_headers(client, "exp-admin")
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    soon = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    refused = client.post(
        "/api/v1/api-keys",
        json={"party_id": network.distributor_id, "name": "old", "expires_at": past},
        headers=admin,
    )
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [
        ("expires_at", "expiry.in_past")
    ]
    key = _key(client, admin, network.distributor_id, expires_at=soon)
    assert key["expires_at"] is not None
    # a user given an expiry works until then, and not after
    user_id = network.users["distributor"]
    patched = client.patch(f"/api/v1/users/{user_id}", json={"expires_at": soon}, headers=admin)
    assert patched.status_code == 200 and patched.json()["expires_at"] is not None
    partner = token_headers(client, "exp-distributor")
    assert client.get("/api/v1/me", headers=partner).status_code == 200
    with system_unit_of_work(factory) as session:
        session.execute(
            update(User)
            .where(User.id == user_id)
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert client.get("/api/v1/me", headers=partner).status_code == 401
    login = client.post(
        "/api/v1/auth/token",
        data={"username": "exp-distributor", "password": "correct horse battery"},
    )
    assert (login.status_code, login.json()["code"]) == (401, "login.invalid_credentials")
