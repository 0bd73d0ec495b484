"""Quality pages through the TestClient: home, record pages, the signature dialog, print view,
partner views; refusals on the page change nothing."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.builders import PASSWORD, Network, build_network, gtin
from tests.quality.builders import Api, counts, ncr_ready_for_approval, raise_ncr
from tests.web.browsing import alert, csrf, field_errors, log_in


@pytest.fixture
def net(factory: sessionmaker[Session]) -> Network:
    return build_network(factory)


@pytest.fixture
def api(app: object) -> Api:
    return Api(TestClient(app))  # type: ignore[arg-type]


def test_quality_home_and_start_page_show_my_overdue_tasks(
    client: TestClient, api: Api, net: Network
) -> None:
    overdue = raise_ncr(
        api, owner_user_id=net.users["qa"], due_date=(date.today() - timedelta(days=3)).isoformat()
    )
    log_in(client, "acme-qa")
    start = client.get("/").text
    assert f'data-task="ncr-{overdue["id"]}"' in start
    assert "overdue" in start
    home = client.get("/quality")
    assert home.status_code == 200
    assert f'data-task="ncr-{overdue["id"]}"' in home.text
    assert "1 overdue" in home.text
    listed = client.get("/quality/ncrs?overdue=1").text
    assert overdue["number"] in listed


def test_signature_dialog_refuses_a_wrong_password_then_signs(
    client: TestClient, api: Api, net: Network, factory: sessionmaker[Session]
) -> None:
    ncr = ncr_ready_for_approval(api, net.supplier_id)
    path = f"/quality/ncrs/{ncr['id']}"
    log_in(client, "acme-qa_approver")
    page = client.get(path).text
    assert 'data-action="approve_disposition"' in page
    assert 'data-meaning="reviewed"' in page  # the signature shows on the record page
    dialog = client.get(f"{path}?step=approve_disposition").text
    assert "<dialog open" in dialog and "I approve this record version." in dialog
    token = csrf(client, path)
    before = counts(factory)
    refused = client.post(
        f"{path}/transitions",
        data={"csrf_token": token, "action": "approve_disposition", "password": "nope"},
    )
    assert refused.status_code == 403
    # One field error: shown once, at the field (the form toolkit's rule), no alert on top
    assert 'role="alert"' not in refused.text.split("<dialog", 1)[0]
    assert field_errors(refused.text)["signature.password"] == [
        "The password is wrong; the record was not signed."
    ]
    assert "<dialog open" in refused.text
    after = counts(factory)
    assert after["states"] == before["states"]
    assert after["signing_failures"] == before["signing_failures"] + 1
    signed = client.post(
        f"{path}/transitions",
        data={"csrf_token": token, "action": "approve_disposition", "password": PASSWORD},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    page = client.get(path).text
    assert 'data-state="dispositioned"' in page
    assert 'data-meaning="approved"' in page and "acme qa_approver" in page
    printed = client.get(f"{path}/print").text
    assert printed.count("data-signature=") == 2
    assert "Burr out of spec." in printed


def test_a_page_refusal_changes_nothing(
    client: TestClient, api: Api, net: Network, factory: sessionmaker[Session]
) -> None:
    ncr = ncr_ready_for_approval(api, net.supplier_id)
    path = f"/quality/ncrs/{ncr['id']}"
    log_in(client, "acme-qa")
    token = csrf(client, path)
    before = counts(factory)
    refused = client.post(
        f"{path}/transitions",
        data={"csrf_token": token, "action": "approve_disposition", "password": PASSWORD},
    )
    assert refused.status_code == 403
    assert alert(refused.text)[0] == "permission_denied"
    assert counts(factory) == before


def test_raise_an_ncr_from_the_form_with_lots(
    client: TestClient, net: Network, factory: sessionmaker[Session]
) -> None:
    log_in(client, "acme-qa")
    token = csrf(client, "/quality/ncrs/new")
    response = client.post(
        "/quality/ncrs/new",
        data={
            "csrf_token": token,
            "title": "Seal leak",
            "source": "manual",
            "severity": "critical",
            "supplier_party_id": str(net.supplier_id),
            "affected_lots.0.gtin": gtin(51),
            "affected_lots.0.lot": "L-9",
            "affected_lots.1.gtin": "",
            "affected_lots.1.lot": "",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"]).text
    assert f"{gtin(51)} / L-9" in page
    bad = client.post(
        "/quality/ncrs/new",
        data={"csrf_token": token, "title": "", "affected_lots.0.gtin": "123"},
    )
    assert bad.status_code == 422
    assert set(field_errors(bad.text)) >= {"title", "affected_lots.0.gtin"}


def test_supplier_portal_shows_and_answers_only_its_ncrs(
    client: TestClient, api: Api, net: Network
) -> None:
    ours = raise_ncr(api, supplier_party_id=net.supplier_id)
    other = raise_ncr(api, title="Internal label issue")
    api.step("qa", "ncr", ours["id"], "investigate")
    api.step("qa", "ncr", ours["id"], "request_supplier_response")
    log_in(client, "acme-supplier")
    listed = client.get("/quality/ncrs").text
    assert ours["number"] in listed and other["number"] not in listed
    assert client.get(f"/quality/ncrs/{other['id']}").status_code == 404
    page = client.get(f"/quality/ncrs/{ours['id']}").text
    assert "supplier-response" in page
    token = csrf(client, f"/quality/ncrs/{ours['id']}")
    answered = client.post(
        f"/quality/ncrs/{ours['id']}/supplier-response",
        data={"csrf_token": token, "response": "Containment done; 8D attached."},
        follow_redirects=False,
    )
    assert answered.status_code == 303
    assert "Containment done" in client.get(f"/quality/ncrs/{ours['id']}").text
    home = client.get("/quality").text
    assert re.search(r"<strong>1</strong>\s*open", home)


def test_the_dialog_asks_for_a_registered_second_factor(
    client: TestClient, api: Api, net: Network
) -> None:
    from medledger.compliance.signing import register_second_factor, unregister_second_factor
    from tests.compliance.test_signing import FixedCode

    ncr = ncr_ready_for_approval(api, net.supplier_id)
    path = f"/quality/ncrs/{ncr['id']}"
    factor = FixedCode()
    register_second_factor(factor)
    try:
        log_in(client, "acme-qa_approver")
        dialog = client.get(f"{path}?step=approve_disposition").text
        assert 'name="second_factor"' in dialog
        token = csrf(client, path)
        refused = client.post(
            f"{path}/transitions",
            data={"csrf_token": token, "action": "approve_disposition", "password": PASSWORD},
        )
        assert refused.status_code == 403
        assert "signature.second_factor" in field_errors(refused.text)
        signed = client.post(
            f"{path}/transitions",
            data={
                "csrf_token": token,
                "action": "approve_disposition",
                "password": PASSWORD,
                "second_factor": "424242",
            },
            follow_redirects=False,
        )
        assert signed.status_code == 303
    finally:
        unregister_second_factor(factor)
