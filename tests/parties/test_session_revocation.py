"""Sessions and tokens end at once when the changes that must end them happen (issue 11.5).

Each case is checked through a second application instance with its own engine and pool, as a
second server process would be: the revocation lives in the database, not in one process.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.config import Settings
from medledger.core.db import make_engine
from medledger.core.system import system_unit_of_work
from medledger.parties.models import AuthSession
from medledger.web.app import create_app
from tests.builders import PASSWORD, build_network, token_headers
from tests.web.browsing import csrf, log_in

NEW_PASSWORD = "another horse battery staple"


@pytest.fixture
def other_process(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """The same database served by a second application with its own engine and pool."""
    second_engine = make_engine(engine.url.render_as_string(hide_password=False))
    with TestClient(create_app(settings, second_engine)) as client:
        yield client
    second_engine.dispose()


def _status(client: TestClient, headers: dict[str, str] | None = None) -> int:
    return client.get("/api/v1/me", headers=headers or {}).status_code


def _cookie_status(client: TestClient, cookie: str | None) -> int:
    """``GET /me`` with only this session cookie."""
    assert cookie
    client.cookies.set("medledger_session", cookie)
    try:
        return client.get("/api/v1/me").status_code
    finally:
        client.cookies.clear()


def _browser(app: FastAPI, username: str) -> TestClient:
    browser = TestClient(app)
    log_in(browser, username)
    assert _status(browser) == 200
    return browser


def test_deactivating_a_party_ends_its_users_tokens_and_sessions_for_good(
    app: FastAPI, client: TestClient, other_process: TestClient, factory: sessionmaker[Session]
) -> None:
    net = build_network(factory)
    admin = token_headers(client, "acme-admin")
    clerk = token_headers(client, "acme-distributor")
    browser = _browser(app, "acme-distributor")
    cookie = browser.cookies.get("medledger_session")
    assert _status(other_process, clerk) == 200

    response = client.post(f"/api/v1/parties/{net.distributor_id}/deactivate", headers=admin)
    assert response.status_code == 200

    assert _status(other_process, clerk) == 401
    assert _cookie_status(other_process, cookie) == 401
    assert _status(browser) == 401
    # reactivating the party does not revive what was ended
    assert client.post(f"/api/v1/parties/{net.distributor_id}/reactivate", headers=admin).is_success
    assert _status(other_process, clerk) == 401
    assert _cookie_status(other_process, cookie) == 401
    # a new login works again; the supplier's users were never touched
    assert _status(other_process, token_headers(client, "acme-distributor")) == 200
    assert _status(other_process, token_headers(client, "acme-supplier")) == 200


def test_an_admin_changing_a_password_ends_every_session_of_that_user(
    app: FastAPI, client: TestClient, other_process: TestClient, factory: sessionmaker[Session]
) -> None:
    net = build_network(factory)
    admin = token_headers(client, "acme-admin")
    planner = token_headers(client, "acme-planner")
    browser = _browser(app, "acme-planner")
    qa = token_headers(client, "acme-qa")

    response = client.patch(
        f"/api/v1/users/{net.users['planner']}", json={"password": NEW_PASSWORD}, headers=admin
    )
    assert response.status_code == 200

    assert _status(other_process, planner) == 401
    assert _status(browser) == 401
    assert _status(other_process, qa) == 200  # other users keep theirs
    assert _status(other_process, admin) == 200
    assert _status(other_process, token_headers(client, "acme-planner", NEW_PASSWORD)) == 200


def test_changing_your_own_password_keeps_this_session_and_ends_the_others(
    client: TestClient, other_process: TestClient, factory: sessionmaker[Session]
) -> None:
    net = build_network(factory)
    this_device = token_headers(client, "acme-admin")
    other_device = token_headers(client, "acme-admin")

    response = client.patch(
        f"/api/v1/users/{net.users['admin']}",
        json={"password": NEW_PASSWORD},
        headers=this_device,
    )
    assert response.status_code == 200

    assert _status(other_process, this_device) == 200
    assert _status(other_process, other_device) == 401


def test_a_profile_change_without_a_new_password_ends_nothing(
    client: TestClient, other_process: TestClient, factory: sessionmaker[Session]
) -> None:
    net = build_network(factory)
    admin = token_headers(client, "acme-admin")
    planner = token_headers(client, "acme-planner")
    response = client.patch(
        f"/api/v1/users/{net.users['planner']}", json={"display_name": "Plan B"}, headers=admin
    )
    assert response.status_code == 200
    assert _status(other_process, planner) == 200


def test_a_reactivated_user_does_not_get_its_old_tokens_back(
    app: FastAPI, client: TestClient, other_process: TestClient, factory: sessionmaker[Session]
) -> None:
    net = build_network(factory)
    admin = token_headers(client, "acme-admin")
    warehouse = token_headers(client, "acme-warehouse")
    browser = _browser(app, "acme-warehouse")
    user_id = net.users["warehouse"]

    assert client.post(f"/api/v1/users/{user_id}/deactivate", headers=admin).is_success
    assert _status(other_process, warehouse) == 401
    assert client.post(f"/api/v1/users/{user_id}/reactivate", headers=admin).is_success

    assert _status(other_process, warehouse) == 401
    assert _status(browser) == 401
    assert _status(other_process, token_headers(client, "acme-warehouse")) == 200


def test_api_logout_with_the_session_cookie_ends_that_session(
    app: FastAPI, other_process: TestClient, factory: sessionmaker[Session]
) -> None:
    build_network(factory)
    browser = _browser(app, "acme-qa")
    other_browser = _browser(app, "acme-qa")
    cookie = browser.cookies.get("medledger_session")

    response = browser.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf(browser)})

    assert response.status_code == 204
    assert _cookie_status(other_process, cookie) == 401
    assert browser.get("/", follow_redirects=False).status_code == 303  # back to the login page
    assert _status(other_browser) == 200  # the same user's other session goes on
    with system_unit_of_work(factory) as session:
        revoked = session.scalars(
            select(AuthSession.revoked_at.is_not(None)).order_by(AuthSession.id)
        ).all()
    assert revoked == [True, False]


def test_api_logout_with_a_cookie_needs_the_csrf_token(
    app: FastAPI, factory: sessionmaker[Session]
) -> None:
    build_network(factory)
    browser = _browser(app, "acme-qa")
    response = browser.post("/api/v1/auth/logout")
    assert (response.status_code, response.json()["code"]) == (403, "csrf.invalid")
    assert _status(browser) == 200


def test_a_password_login_that_upgrades_the_hash_ends_no_session(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    from medledger.core.security import configure_password_hasher

    build_network(factory)
    first = token_headers(client, "acme-qa")
    # a stronger cost makes the next login rehash the same password
    configure_password_hasher(time_cost=2, memory_cost=1024, parallelism=1)
    try:
        second = token_headers(client, "acme-qa", PASSWORD)
    finally:
        configure_password_hasher(time_cost=1, memory_cost=1024, parallelism=1)
    assert (_status(client, first), _status(client, second)) == (200, 200)
