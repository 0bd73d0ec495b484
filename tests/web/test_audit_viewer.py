"""The audit trail viewer: who may open it, filters, old → new values, chain verification."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tests.builders import build_network, gln
from tests.web.browsing import alert, csrf, list_column, list_rows, log_in


def _without_guards(engine: Engine, statement: str, **params: Any) -> None:
    """Change the trail the way someone with database access would (triggers off)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER audit_entries_no_update"))
        conn.execute(text(statement), params)
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_entries ENABLE TRIGGER USER"))


def _sequences(page: str) -> list[int]:
    return [int(s) for s in list_column(page, "seq")]


def test_only_qa_auditors_and_admins_open_the_trail(client: TestClient, factory: Any) -> None:
    build_network(factory)
    for username, status in (
        ("acme-qa", 200),
        ("acme-qa_approver", 200),
        ("acme-auditor", 200),
        ("acme-admin", 200),
        ("acme-planner", 403),
        ("acme-distributor", 403),
    ):
        client.cookies.clear()
        log_in(client, username)
        assert client.get("/audit").status_code == status, username
        assert client.get("/audit/verify").status_code == status, username


def test_filters_and_old_to_new_values(client: TestClient, factory: Any) -> None:
    network = build_network(factory)
    log_in(client, "acme-admin")
    client.post(
        f"/parties/{network.supplier_id}",
        data={
            "csrf_token": csrf(client),
            "name": "Acme Components Ltd",
            "gln": "",
            "roles": ["supplier"],
            "country": "US",
            "region": "US",
            "time_zone": "UTC",
        },
    )
    # (an empty GLN is refused, so nothing changed yet)
    client.post(
        f"/parties/{network.supplier_id}",
        data={
            "csrf_token": csrf(client),
            "name": "Acme Components Ltd",
            "gln": gln(3),
            "roles": ["supplier"],
            "country": "US",
            "region": "US",
            "time_zone": "UTC",
        },
    )
    page = client.get(f"/audit?entity_type=parties&entity_id={network.supplier_id}&action=update")
    rows = list_rows(page.text)
    assert len(rows) == 1
    assert re.search(
        r'<th scope="row">Name</th>\s*<td><del class="old">acme Components</del> '
        r'<span aria-hidden="true">→</span> <ins class="new">Acme Components Ltd</ins></td>',
        rows[0],
    )
    assert "acme-admin (acme admin)" in rows[0]
    # Filter by actor: the CLI built the network, the admin only logged in and changed a party.
    admin_id = network.users["admin"]
    actions = list_column(client.get(f"/audit?actor={admin_id}").text, "action")
    assert actions == ["changed", "logged in"]


def test_time_range_is_in_the_users_days(client: TestClient, factory: Any, engine: Engine) -> None:
    build_network(factory)
    # Entry 1 at 23:30 UTC on 1 March is 2 March 00:30 in Berlin (the admin's zone).
    _without_guards(
        engine,
        "UPDATE audit_entries SET occurred_at = :t WHERE seq = 1",
        t=datetime(2026, 3, 1, 23, 30, tzinfo=UTC),
    )
    log_in(client, "acme-admin")
    page = client.get("/audit?since=2026-03-02&until=2026-03-02")
    assert _sequences(page.text) == [1]
    assert "Mar 2, 2026, 12:30:00\u202fAM +01:00" in page.text
    assert _sequences(client.get("/audit?since=2026-03-01&until=2026-03-01").text) == []


def test_verify_chain_reports_intact_and_broken(
    client: TestClient, factory: Any, engine: Engine
) -> None:
    build_network(factory)
    log_in(client, "acme-auditor")
    page = client.get("/audit/verify")
    assert 'data-result="ok"' in page.text
    assert "The audit trail is intact: 16 entries, the last is #16." in page.text
    fragment = client.get("/audit/verify", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="verify-result"')
    _without_guards(engine, "UPDATE audit_entries SET reason = 'edited' WHERE seq = 3")
    page = client.get("/audit/verify")
    assert 'data-result="broken"' in page.text
    assert "The audit trail is broken at entry #3." in page.text
    assert "An entry was edited." in page.text


def test_a_partner_gets_the_error_page_not_the_trail(client: TestClient, factory: Any) -> None:
    build_network(factory)
    log_in(client, "acme-supplier")
    response = client.get("/audit")
    assert alert(response.text) == ("permission_denied", "Your role may not do this (audit:read).")
