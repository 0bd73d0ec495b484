"""Recall pages through the TestClient: start a recall with the signature on the page, the list
and its KPI, the console (scope, consignees, KPIs), a consignee acknowledging from its portal,
the partner's view limited to its own notice, closure in the signature dialog, the report."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.system import system_unit_of_work
from medledger.recall.models import RecallNotice
from tests.builders import PASSWORD
from tests.recall.builders import COMPONENT_LOT, Scenario, build_scenario
from tests.recall.test_refusals_and_scoping import _state
from tests.web.browsing import csrf, field_errors, list_column, log_in


@pytest.fixture
def s(app: object, factory: sessionmaker[Session]) -> Scenario:
    return build_scenario(TestClient(app), factory)  # type: ignore[arg-type]


def _start(client: TestClient, password: str = PASSWORD) -> object:
    token = csrf(client, "/recalls/new")
    return client.post(
        "/recalls/new",
        data={
            "csrf_token": token,
            "identifiers_text": COMPONENT_LOT,
            "title": "Cracked hubs",
            "hazard_class": "I",
            "depth": "consumer",
            "action": "removal",
            "ncr_id": "",
            "reason": "Burst pressure failure",
            "instructions": "Return all units",
            "password": password,
        },
        follow_redirects=False,
    )


def test_start_acknowledge_and_close_from_the_pages(
    client: TestClient, s: Scenario, factory: sessionmaker[Session], app: object
) -> None:
    log_in(client, "rc-qa")
    form = client.get("/recalls/new")
    assert form.status_code == 200 and 'name="password"' in form.text
    # A wrong password on the page: refused at its field, nothing changed
    before = _state(factory)
    refused = _start(client, "wrong")
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert "signature.password" in field_errors(refused.text)  # type: ignore[attr-defined]
    assert _state(factory) == before
    # With the password the recall starts and the console opens
    started = _start(client)
    assert started.status_code == 303, started.text  # type: ignore[attr-defined]
    console_path = started.headers["location"].split("?")[0]  # type: ignore[attr-defined]
    console = client.get(console_path).text
    assert 'data-testid="recall-scope"' in console
    assert 'data-kpi="consignees">0 / 2<' in console
    assert console.count('data-acknowledged="no"') == 2
    assert 'data-meaning="authored"' in console
    listed = client.get("/recalls").text
    assert list_column(listed, "number") == ["RCL-2026-0001"]
    assert 'data-testid="recall-kpi"' in listed
    # The hospital's user sees only its own notice, and acknowledges from its portal
    hospital = TestClient(app)  # type: ignore[arg-type]
    log_in(hospital, "rc-hospital")
    portal = hospital.get(console_path).text
    assert portal.count("data-notice=") == 1 and "City Hospital" in portal
    assert "rc Distribution" not in portal and 'data-testid="recall-scope"' not in portal
    with system_unit_of_work(factory) as session:
        notice_ids = {
            n.name: n.id for n in session.query(RecallNotice).order_by(RecallNotice.id).all()
        }
    token = csrf(hospital, console_path)
    answered = hospital.post(
        f"{console_path}/notices/{notice_ids['City Hospital']}/acknowledge",
        data={
            "csrf_token": token,
            "quantity_on_hand": "0",
            "quantity_returned": "4",
            "quantity_destroyed": "0",
            "comment": "",
        },
        follow_redirects=False,
    )
    assert answered.status_code == 303, answered.text
    # it may not answer the distributor's notice, nor read the report
    other = hospital.post(
        f"{console_path}/notices/{notice_ids['rc Distribution']}/acknowledge",
        data={"csrf_token": token, "quantity_returned": "1"},
    )
    assert other.status_code == 404
    assert hospital.get(f"{console_path}/report").status_code == 404
    # The supplier was not notified: the recall does not exist for it
    supplier = TestClient(app)  # type: ignore[arg-type]
    log_in(supplier, "rc-supplier")
    assert supplier.get(console_path).status_code == 404
    assert "RCL-2026-0001" not in supplier.get("/recalls").text
    # The hub records the distributor's answer on its behalf (a reason is required)
    token = csrf(client, console_path)
    path = f"{console_path}/notices/{notice_ids['rc Distribution']}/acknowledge"
    missing = client.post(path, data={"csrf_token": token, "quantity_returned": "8"})
    assert missing.status_code == 422
    assert "reason" in field_errors(missing.text)
    done = client.post(
        path,
        data={"csrf_token": token, "quantity_returned": "8", "reason": "Phoned"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    # The approver closes it in the signature dialog
    approver = TestClient(app)  # type: ignore[arg-type]
    log_in(approver, "rc-qa_approver")
    dialog = approver.get(f"{console_path}?step=close").text
    assert "<dialog open" in dialog and "I close this record version." in dialog
    token = csrf(approver, console_path)
    closed = approver.post(
        f"{console_path}/transitions",
        data={"csrf_token": token, "action": "close", "password": PASSWORD, "reason": "done"},
        follow_redirects=False,
    )
    assert closed.status_code == 303, closed.text
    page = approver.get(console_path).text
    assert 'data-state="closed"' in page and 'data-meaning="closed"' in page
    assert 'data-kpi="consignees">2 / 2<' in page
    report = approver.get(f"{console_path}/report")
    assert report.status_code == 200
    consignees = re.search(r'data-testid="report-consignees".*?</table>', report.text, re.S)
    assert consignees is not None and "City Hospital" in consignees.group(0)
