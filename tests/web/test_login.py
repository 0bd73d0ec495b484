"""Login, logout, sessions and CSRF of the HTML UI."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from medledger.core.system import system_unit_of_work
from medledger.parties.models import AuthSession, LoginAttempt, Party
from tests.builders import PASSWORD, build_network
from tests.web.browsing import alert, csrf, log_in, login_form


def _count(factory: Any, stmt: Any) -> int:
    with system_unit_of_work(factory) as session:
        return int(session.scalar(stmt) or 0)


def test_anonymous_visitor_is_sent_to_the_login_page(client: TestClient) -> None:
    response = client.get("/parties?q=x", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fparties%3Fq%3Dx"


def test_login_sets_an_http_only_lax_session_cookie_and_goes_on(
    client: TestClient, factory: Any, settings: Any
) -> None:
    build_network(factory)
    response = client.post(
        "/login",
        data=login_form(client, {"username": "acme-qa", "password": PASSWORD, "next": "/products"}),
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/products"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{settings.session_cookie_name}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert (
        _count(
            factory,
            select(func.count()).select_from(AuthSession).where(AuthSession.kind == "browser"),
        )
        == 1
    )
    assert client.get("/products").status_code == 200


def test_login_never_redirects_off_site(client: TestClient, factory: Any) -> None:
    build_network(factory)
    response = client.post(
        "/login",
        data=login_form(
            client, {"username": "acme-qa", "password": PASSWORD, "next": "//evil.example/"}
        ),
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_failed_login_is_kept_and_shows_the_message(client: TestClient, factory: Any) -> None:
    build_network(factory)
    response = client.post(
        "/login", data=login_form(client, {"username": "acme-qa", "password": "wrong password"})
    )
    assert response.status_code == 401
    assert alert(response.text) == ("login.invalid_credentials", "Wrong username or password.")
    assert 'value="acme-qa"' in response.text
    assert (
        _count(
            factory,
            select(func.count()).select_from(LoginAttempt).where(LoginAttempt.succeeded.is_(False)),
        )
        == 1
    )


def test_failed_login_message_follows_the_browser_language(
    client: TestClient, factory: Any
) -> None:
    build_network(factory)
    response = client.post(
        "/login",
        data=login_form(client, {"username": "acme-qa", "password": "wrong password"}),
        headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"},
    )
    assert alert(response.text) == ("login.invalid_credentials", "用户名或密码错误。")


def test_too_many_failures_are_refused(client: TestClient, factory: Any) -> None:
    build_network(factory)
    for _ in range(5):
        assert (
            client.post(
                "/login", data=login_form(client, {"username": "acme-qa", "password": "nope nope"})
            ).status_code
            == 401
        )
    response = client.post(
        "/login", data=login_form(client, {"username": "acme-qa", "password": PASSWORD})
    )
    assert response.status_code == 429
    assert alert(response.text) == (
        "login.rate_limited",
        "Too many failed logins. Try again in 15 minutes.",
    )


def test_logout_revokes_the_session(client: TestClient, factory: Any, settings: Any) -> None:
    build_network(factory)
    log_in(client, "acme-admin")
    cookie = client.cookies.get(settings.session_cookie_name)
    token = csrf(client)
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?logged_out=1"
    assert (
        _count(
            factory,
            select(func.count())
            .select_from(AuthSession)
            .where(AuthSession.revoked_at.is_not(None)),
        )
        == 1
    )
    # The old cookie no longer opens anything.
    client.cookies.set(settings.session_cookie_name, str(cookie))
    assert client.get("/parties", follow_redirects=False).status_code == 303


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    client: TestClient, factory: Any
) -> None:
    network = build_network(factory)
    log_in(client, "acme-admin")
    response = client.post(f"/parties/{network.supplier_id}/deactivate", data={"reason": "x"})
    assert response.status_code == 403
    assert alert(response.text)[0] == "csrf.invalid"
    assert "<html" in response.text
    with system_unit_of_work(factory) as session:
        party = session.get(Party, network.supplier_id)
        assert party is not None and party.active is True


def test_htmx_requests_carry_the_token_in_a_header(client: TestClient, factory: Any) -> None:
    network = build_network(factory)
    log_in(client, "acme-admin")
    token = csrf(client)
    response = client.post(
        f"/parties/{network.supplier_id}/deactivate",
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    with system_unit_of_work(factory) as session:
        party = session.get(Party, network.supplier_id)
        assert party is not None and party.active is False


def test_login_without_the_form_token_is_refused_and_not_counted(
    client: TestClient, factory: Any, settings: Any
) -> None:
    """A cross-site page cannot log the browser in: the form's token must match its cookie."""
    build_network(factory)
    client.get("/login")  # the cookie exists, but the posted token is forged
    response = client.post(
        "/login",
        data={"username": "acme-qa", "password": PASSWORD, "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert alert(response.text)[0] == "csrf.invalid"
    assert settings.session_cookie_name not in response.headers.get("set-cookie", "")
    assert _count(factory, select(func.count()).select_from(LoginAttempt)) == 0
    assert _count(factory, select(func.count()).select_from(AuthSession)) == 0
