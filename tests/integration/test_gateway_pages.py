"""Pages and commands of the gateway's partner hygiene and EDI: the partner's own connection
page, the home tiles of users and keys expiring soon (each linking to exactly what it counts),
the EDI lists and a despatch advice's page, and ``medledger edi …`` / ``medledger api-key …``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from medledger.cli import app as cli
from medledger.core.config import Settings, get_settings
from medledger.core.system import system_unit_of_work
from medledger.parties.models import Party, User
from tests.builders import build_network, token_headers
from tests.integration.edi_builders import ship_two_pallets
from tests.web.browsing import csrf, field_errors, input_value
from tests.web.browsing import log_in as _log_in

runner = CliRunner()


@pytest.fixture
def settings(engine: Engine, tmp_path: Path) -> Settings:
    return Settings(
        database_url=str(engine.url.render_as_string(hide_password=False)),
        secret_key="test-secret",
        login_max_failures=5,
        webhook_allow_private_networks=True,
        edi_outbound_root=tmp_path / "out",
    )


@pytest.fixture
def configured(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("MEDLEDGER_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("MEDLEDGER_EDI_OUTBOUND_ROOT", str(tmp_path / "cli-out"))
    get_settings.cache_clear()
    yield tmp_path / "cli-out"
    get_settings.cache_clear()


def log_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    _log_in(client, username)


def _key(client: TestClient, admin: dict[str, str], party_id: int, **extra: Any) -> Any:
    response = client.post(
        "/api/v1/api-keys", json={"party_id": party_id, "name": "WMS", **extra}, headers=admin
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_partner_page_and_expiry_tiles(client: TestClient, factory: sessionmaker[Session]) -> None:
    network = build_network(factory, "pp")
    admin = token_headers(client, "pp-admin")
    soon = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    later = (datetime.now(UTC) + timedelta(days=60)).isoformat()
    expiring = _key(client, admin, network.distributor_id, expires_at=soon)
    _key(client, admin, network.distributor_id, expires_at=later)
    _key(client, admin, network.supplier_id)  # another party's: never on the distributor's page
    client.patch(
        f"/api/v1/users/{network.users['supplier']}", json={"expires_at": soon}, headers=admin
    )
    client.post(
        "/api/v1/integration/subscriptions",
        json={
            "name": "WMS hook",
            "url": "http://127.0.0.1:9/x",
            "event_types": ["edi.despatch_advice"],
        },
        headers=token_headers(client, "pp-distributor"),
    )
    # The partner's page shows its own two keys, the soon one flagged, and its subscription
    log_in(client, "pp-distributor")
    page = client.get("/integration/partner")
    assert page.status_code == 200, page.text
    assert page.text.count(expiring["prefix"]) == 1
    keys_table = page.text.split('data-testid="partner-keys"')[1].split("</table>")[0]
    assert keys_table.count("<tr>") == 3  # header + two keys
    assert "badge-warn" in keys_table
    assert "WMS hook" in page.text and "Despatch advice (EDI)" in page.text
    assert "No secret" not in page.text and "mlk_" not in page.text
    # The admin's home shows one user and one key expiring soon, linking to exactly those
    log_in(client, "pp-admin")
    home = client.get("/")
    assert 'href="/users?expiring=soon"' in home.text
    assert 'href="/api-keys?state=expiring"' in home.text
    users = client.get("/users?expiring=soon&format=csv")
    assert [line.split(",")[0] for line in users.text.strip().splitlines()[1:]] == ["pp-supplier"]
    keys = client.get("/api-keys?state=expiring&format=csv")
    rows = keys.text.strip().splitlines()[1:]
    assert len(rows) == 1 and expiring["prefix"] in rows[0]
    # an expired user is no longer "expiring soon"
    with system_unit_of_work(factory) as session:
        session.execute(
            update(User)
            .where(User.id == network.users["supplier"])
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    assert client.get("/users?expiring=soon&format=csv").text.strip().count("\n") == 0
    assert "pp-supplier" in client.get("/users?expiring=expired&format=csv").text


def test_edi_pages_and_commands(
    client: TestClient, factory: sessionmaker[Session], configured: Path
) -> None:
    shipped = ship_two_pallets(client, factory, "ep")
    with system_unit_of_work(factory) as session:
        distributor = session.get(Party, shipped.w.network.distributor_id)
        assert distributor is not None
        distributor_gln = distributor.gln
    # the admin sets the partner's settings from the command line
    result = runner.invoke(
        cli,
        [
            "edi",
            "settings",
            distributor_gln,
            "--syntax",
            "edifact",
            "--our-id",
            "14:4098760000015",
            "--partner-id",
            f"14:{distributor_gln}",
            "--folder",
            "dist",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["outbound_folder"] == "dist"
    # and sends the despatch advice: the file is in the folder after the command's commit
    sent = runner.invoke(cli, ["edi", "despatch-advice", str(shipped.shipment_ids[0])])
    assert sent.exit_code == 0, sent.output
    advice = json.loads(sent.output)
    assert advice["created"] is True and advice["ssccs"] == shipped.ssccs
    written = Path(advice["written_path"])
    assert written.parent == configured / "dist" and written.read_text().startswith("UNA")
    # a file lost after the commit is written again
    written.unlink()
    again = runner.invoke(cli, ["edi", "write-outbound"])
    assert again.exit_code == 0 and "1 file(s) written" in again.output
    assert written.exists()
    # The pages list the partner and the advice; the advice page shows the document
    log_in(client, "ep-admin")
    partners = client.get("/integration/edi")
    assert partners.status_code == 200 and "ep Distribution" in partners.text
    advices = client.get("/integration/edi/despatch-advices")
    assert advices.status_code == 200 and advice["number"] in advices.text
    one = client.get(f"/integration/edi/despatch-advices/{advice['id']}")
    assert one.status_code == 200 and "DESADV:D:96A:UN:EAN005" in one.text
    # the distributor sees its own advice, the supplier none
    log_in(client, "ep-distributor")
    assert advice["number"] in client.get("/integration/edi/despatch-advices").text
    log_in(client, "ep-supplier")
    assert advice["number"] not in client.get("/integration/edi/despatch-advices").text
    assert client.get(f"/integration/edi/despatch-advices/{advice['id']}").status_code == 404


def test_api_key_commands(
    client: TestClient, factory: sessionmaker[Session], configured: Path
) -> None:
    network = build_network(factory, "kc")
    admin = token_headers(client, "kc-admin")
    soon = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    old = _key(client, admin, network.distributor_id, expires_at=soon)
    listed = runner.invoke(cli, ["api-key", "expiring"])
    assert listed.exit_code == 0, listed.output
    assert f"api key {old['prefix']} (WMS)" in listed.output
    rotated = runner.invoke(cli, ["api-key", "rotate", str(old["id"]), "--overlap-hours", "1"])
    assert rotated.exit_code == 0, rotated.output
    new = json.loads(rotated.output)
    assert new["key"].startswith("mlk_")
    assert client.get("/api/v1/me", headers={"X-API-Key": new["key"]}).status_code == 200
    assert client.get("/api/v1/me", headers={"X-API-Key": old["key"]}).status_code == 200
    refused = runner.invoke(cli, ["api-key", "rotate", str(old["id"])])
    assert refused.exit_code == 2 and "api_key.not_active" in refused.output


def _selected(page: str, name: str) -> str:
    select = page.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
    match = re.search(r'<option value="([^"]*)" selected', select)
    return match.group(1) if match else ""


def test_edi_settings_form(client: TestClient, factory: sessionmaker[Session]) -> None:
    net = build_network(factory, "ef")
    log_in(client, "ef-admin")
    # The list offers to set up a partner; the form starts from the defaults
    assert 'href="/integration/edi/settings"' in client.get("/integration/edi").text
    form = client.get("/integration/edi/settings")
    assert form.status_code == 200
    assert (_selected(form.text, "syntax"), _selected(form.text, "despatch_advice_auto")) == (
        "edifact",
        "true",
    )
    token = csrf(client, "/integration/edi/settings")
    body = {
        "csrf_token": token,
        "party_id": str(net.distributor_id),
        "syntax": "x12",
        "our_id": "ZZ:OURHUB",
        "partner_id": "ZZ:THISIDISLONGERTHAN15",
        "element_separator": "*",
        "component_separator": ">",
        "segment_terminator": "~",
        "outbound_folder": "dist/in",
        "deliver_via_outbox": "false",
        "despatch_advice_auto": "false",
        "test_indicator": "true",
    }
    # A bad identifier is refused at its field, and nothing is saved
    refused = client.post("/integration/edi/settings", data=body, follow_redirects=False)
    assert refused.status_code == 422
    assert list(field_errors(refused.text)) == ["partner_id"]
    assert input_value(refused.text, "outbound_folder") == "dist/in"
    api = token_headers(client, "ef-admin")
    assert (
        client.get(f"/api/v1/integration/edi/partners/{net.distributor_id}", headers=api)
    ).status_code == 404
    # Corrected, it is saved and the list says so
    saved = client.post(
        "/integration/edi/settings",
        data={**body, "partner_id": "ZZ:DISTRIB"},
        follow_redirects=False,
    )
    assert (saved.status_code, saved.headers["location"]) == (303, "/integration/edi?saved=1")
    listed = client.get("/integration/edi?saved=1")
    assert "Saved." in listed.text and "ZZ:DISTRIB" in listed.text
    stored = client.get(
        f"/api/v1/integration/edi/partners/{net.distributor_id}", headers=api
    ).json()
    assert {k: stored[k] for k in body if k in stored} == {
        "party_id": net.distributor_id,
        "syntax": "x12",
        "our_id": "ZZ:OURHUB",
        "partner_id": "ZZ:DISTRIB",
        "element_separator": "*",
        "component_separator": ">",
        "segment_terminator": "~",
        "outbound_folder": "dist/in",
        "deliver_via_outbox": False,
        "despatch_advice_auto": False,
        "test_indicator": True,
    }
    # The form of that partner shows what it has
    again = client.get(f"/integration/edi/settings?party_id={net.distributor_id}")
    assert input_value(again.text, "partner_id") == "ZZ:DISTRIB"
    assert _selected(again.text, "despatch_advice_auto") == "false"
    # A partner's user may not set anyone's settings
    log_in(client, "ef-distributor")
    assert client.get("/integration/edi/settings").status_code == 403
