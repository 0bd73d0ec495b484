"""CAPA and change control over HTTP: guards, approvals, effectiveness check, partner notices."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from medledger.catalog.schemas import ProductIn
from medledger.catalog.service import create_product
from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.core.work import work_of
from tests.builders import PASSWORD, Network, build_network, gtin
from tests.quality.builders import Api, counts, raise_ncr


@pytest.fixture
def net(factory: sessionmaker[Session]) -> Network:
    return build_network(factory)


@pytest.fixture
def api(client: TestClient) -> Api:
    return Api(client)


def _refused(
    api: Api, factory: sessionmaker[Session], user: str, kind: str, rid: int, **kw: Any
) -> Any:
    before = counts(factory)
    response = api.step(user, kind, rid, kw.pop("action"), **kw)
    assert counts(factory) == before, response.text
    return response


def test_capa_from_an_ncr_needs_root_cause_actions_and_effectiveness_before_closure(
    api: Api, net: Network, factory: sessionmaker[Session]
) -> None:
    # Given a CAPA opened from an NCR about the supplier's material
    ncr = raise_ncr(api, supplier_party_id=net.supplier_id)
    response = api.post(
        "qa",
        "/api/v1/quality/capas",
        {
            "title": "Deburring escapes",
            "problem": "Burrs reach incoming inspection.",
            "source_ncr_id": ncr["id"],
            "owner_user_id": net.users["qa"],
            "effectiveness_criteria": "No burr NCR in the next 10 lots.",
        },
    )
    assert response.status_code == 201, response.text
    capa = response.json()
    assert capa["supplier_party_id"] == net.supplier_id  # shared with the NCR's supplier
    assert api.get("qa", f"/api/v1/quality/ncrs/{ncr['id']}").json()["capa_id"] == capa["id"]
    cid = capa["id"]
    assert api.step("qa", "capa", cid, "investigate").status_code == 200
    # When the plan is submitted without a root cause or actions, it is refused
    refused = _refused(api, factory, "qa", "capa", cid, action="submit_plan", password=PASSWORD)
    assert (refused.status_code, refused.json()["code"]) == (409, "capa.root_cause_missing")
    api.patch("qa", f"/api/v1/quality/capas/{cid}", {"root_cause": "Worn deburring tool."})
    refused = _refused(api, factory, "qa", "capa", cid, action="submit_plan", password=PASSWORD)
    assert (refused.status_code, refused.json()["code"]) == (409, "capa.no_actions")
    due = (date.today() + timedelta(days=14)).isoformat()
    action = api.post(
        "qa",
        f"/api/v1/quality/capas/{cid}/actions",
        {
            "description": "Tool life limit in PFMEA",
            "owner_user_id": net.users["qa"],
            "due_date": due,
        },
    )
    assert action.status_code == 201, action.text
    # Then with both, the author submits (signed: authored) and the approver approves
    submitted = api.step("qa", "capa", cid, "submit_plan", password=PASSWORD)
    assert submitted.json()["state"] == "plan_review"
    refused = _refused(api, factory, "qa", "capa", cid, action="approve_plan", password=PASSWORD)
    assert refused.status_code == 403
    approved = api.step("qa_approver", "capa", cid, "approve_plan", password=PASSWORD)
    assert approved.json()["state"] == "implementation"
    # the effectiveness check waits for every action to be done
    refused = _refused(api, factory, "qa", "capa", cid, action="check_effectiveness")
    assert (refused.status_code, refused.json()["code"]) == (409, "capa.actions_open")
    done = api.post(
        "qa",
        f"/api/v1/quality/capas/{cid}/actions/{action.json()['id']}/done",
        {"note": "PFMEA rev C"},
    )
    assert done.status_code == 200, done.text
    assert (
        api.step("qa", "capa", cid, "check_effectiveness").json()["state"] == "effectiveness_check"
    )
    # closure needs an effectiveness check that found the actions effective
    refused = _refused(api, factory, "qa_approver", "capa", cid, action="close", password=PASSWORD)
    assert (refused.status_code, refused.json()["code"]) == (409, "capa.effectiveness_unverified")
    api.patch(
        "qa",
        f"/api/v1/quality/capas/{cid}",
        {"effectiveness_result": "10 lots without burr.", "effective": True},
    )
    closed = api.step("qa_approver", "capa", cid, "close", password=PASSWORD)
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["state"] == "closed"
    assert [(s["meaning"], s["printed_name"]) for s in body["signatures"]] == [
        ("authored", "acme qa"),
        ("approved", "acme qa_approver"),
        ("closed", "acme qa_approver"),
    ]
    # later content (effectiveness result) means the plan signatures cover an earlier version
    assert [s["matches_current_version"] for s in body["signatures"]] == [False, False, True]
    # the supplier sees the CAPA shared with it; the distributor does not
    assert api.get("supplier", f"/api/v1/quality/capas/{cid}").status_code == 200
    assert api.get("distributor", f"/api/v1/quality/capas/{cid}").status_code == 404


def test_whoever_signed_as_author_cannot_approve(
    api: Api, net: Network, factory: sessionmaker[Session]
) -> None:
    # Given a CAPA opened by QA but whose plan the approver submitted (signed as author)
    capa = api.post("qa", "/api/v1/quality/capas", {"title": "Label errors"}).json()
    api.step("qa", "capa", capa["id"], "investigate")
    api.patch("qa", f"/api/v1/quality/capas/{capa['id']}", {"root_cause": "Template"})
    api.post(
        "qa",
        f"/api/v1/quality/capas/{capa['id']}/actions",
        {
            "description": "Lock template",
            "owner_user_id": net.users["qa"],
            "due_date": "2030-01-01",
        },
    )
    assert (
        api.step("qa_approver", "capa", capa["id"], "submit_plan", password=PASSWORD).status_code
        == 200
    )
    # When the approver approves her own plan, she is refused
    refused = _refused(
        api, factory, "qa_approver", "capa", capa["id"], action="approve_plan", password=PASSWORD
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "signature.author_cannot_approve")


def _supplier_product(factory: sessionmaker[Session], net: Network) -> int:
    with system_unit_of_work(factory) as session:
        admin = tenant_admin(session, net.tenant_id)
        work_of(session).act_as(admin)
        product = create_product(
            session,
            admin,
            ProductIn(
                gtin=gtin(61),
                name="Hub moulding",
                tracking_level="lot",
                storage_class="ambient",
                owner_party_id=net.supplier_id,
            ),
        )
        return product.id


def test_an_approved_change_is_notified_to_the_partners_whose_items_it_touches(
    api: Api, net: Network, factory: sessionmaker[Session]
) -> None:
    # Given a change to a component the supplier makes, effective today
    product_id = _supplier_product(factory, net)
    response = api.post(
        "qa",
        "/api/v1/quality/changes",
        {
            "title": "New resin grade for hub moulding",
            "reason_for_change": "Resin discontinued.",
            "affected_product_ids": [product_id],
            "affected_documents": ["SPEC-0042 rev D"],
            "due_date": (date.today() + timedelta(days=30)).isoformat(),
        },
    )
    assert response.status_code == 201, response.text
    change = response.json()
    assert change["number"].startswith("CC-")
    # When submitted without an impact assessment or effective date, it is refused
    refused = _refused(
        api, factory, "qa", "change", change["id"], action="submit", password=PASSWORD
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "change.impact_missing")
    api.patch(
        "qa",
        f"/api/v1/quality/changes/{change['id']}",
        {
            "impact_assessment": "Biocompatibility re-test needed.",
            "effective_date": date.today().isoformat(),
        },
    )
    # the supplier does not see the draft
    assert api.get("supplier", f"/api/v1/quality/changes/{change['id']}").status_code == 404
    assert api.step("qa", "change", change["id"], "submit", password=PASSWORD).status_code == 200
    refused = _refused(
        api, factory, "qa", "change", change["id"], action="approve", password=PASSWORD
    )
    assert refused.status_code == 403
    approved = api.step("qa_approver", "change", change["id"], "approve", password=PASSWORD)
    assert approved.status_code == 200, approved.text
    # Then the supplier (owner of the affected product) got a notice; the distributor did not
    assert [(n["party_id"], n["why"]) for n in approved.json()["notices"]] == [
        (net.supplier_id, f"product {gtin(61)}")
    ]
    seen = api.get("supplier", "/api/v1/quality/changes").json()
    assert [c["id"] for c in seen["items"]] == [change["id"]]
    assert api.get("distributor", f"/api/v1/quality/changes/{change['id']}").status_code == 404
    tasks = api.get("supplier", "/api/v1/quality/tasks").json()
    assert [(t["kind"], t["id"]) for t in tasks] == [("change", change["id"])]
    # and the supplier acknowledges once
    ack = api.post(
        "supplier", f"/api/v1/quality/changes/{change['id']}/acknowledge", {"comment": "OK"}
    )
    assert ack.status_code == 200, ack.text
    again = api.post("supplier", f"/api/v1/quality/changes/{change['id']}/acknowledge", {})
    assert (again.status_code, again.json()["code"]) == (409, "change.already_acknowledged")
    assert api.get("supplier", "/api/v1/quality/tasks").json() == []
    # and the change becomes effective and is closed with a signature
    assert api.step("qa", "change", change["id"], "make_effective").json()["state"] == "effective"
    closed = api.step("qa_approver", "change", change["id"], "close", password=PASSWORD)
    assert [s["meaning"] for s in closed.json()["signatures"]] == ["authored", "approved", "closed"]


def test_a_change_cannot_become_effective_before_its_date(
    api: Api, net: Network, factory: sessionmaker[Session]
) -> None:
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    change = api.post(
        "qa",
        "/api/v1/quality/changes",
        {
            "title": "Torque spec",
            "affected_documents": ["WI-7"],
            "impact_assessment": "None on form, fit or function.",
            "effective_date": tomorrow,
        },
    ).json()
    api.step("qa", "change", change["id"], "submit", password=PASSWORD)
    api.step("qa_approver", "change", change["id"], "approve", password=PASSWORD)
    refused = _refused(api, factory, "qa", "change", change["id"], action="make_effective")
    assert (refused.status_code, refused.json()["code"]) == (409, "change.not_yet_effective")


def test_workflow_tables_are_published(api: Api, net: Network) -> None:
    tables = api.get("auditor", "/api/v1/quality/workflows").json()
    approve = next(t for t in tables["ncr"]["transitions"] if t["action"] == "approve_disposition")
    assert approve == {
        "from": "disposition_proposed",
        "action": "approve_disposition",
        "to": "dispositioned",
        "permission": "quality:approve",
        "signature": "approved",
        "author_may_not": True,
        "reason_required": False,
        "guard": None,
    }
    assert sorted(tables) == [
        "capa",
        "change",
        "complaint",
        "deviation",
        "inspection",
        "lot_release",
        "ncr",
    ]
    release = next(t for t in tables["lot_release"]["transitions"] if t["action"] == "release")
    assert (release["signature"], release["author_may_not"]) == ("released", True)
