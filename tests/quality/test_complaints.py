"""Complaints and adverse events by UDI, the reportability decision per regulator with
signatures, NCR and CAPA from a complaint, the complaint trend, service records per serial —
over HTTP, with partner isolation and refusals that change nothing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.system import system_unit_of_work
from medledger.quality.models import Complaint, ServiceRecord
from tests.builders import PASSWORD, Network, build_network, gtin
from tests.quality.builders import Api, counts
from tests.web.browsing import csrf, field_errors, log_in

UDI = f"(01){gtin(51)}(17)281231(10)L-77(21)SN-9"
UDI_NO_SERIAL = f"(01){gtin(51)}(10)L-77"


@pytest.fixture
def net(factory: sessionmaker[Session]) -> Network:
    return build_network(factory)


@pytest.fixture
def api(app: object) -> Api:
    return Api(TestClient(app))  # type: ignore[arg-type]


def _state(factory: sessionmaker[Session]) -> Any:
    with system_unit_of_work(factory) as session:
        rows = sorted(
            session.execute(
                select(Complaint.id, Complaint.state, Complaint.version, Complaint.ncr_id)
            ).all()
        )
        services = session.scalar(select(func.count()).select_from(ServiceRecord))
    return counts(factory), rows, services


def _report(api: Api, user: str = "distributor", **fields: Any) -> dict[str, Any]:
    body = {
        "title": "Catheter tip separated during insertion",
        "udi": UDI,
        "description": "Tip found detached; removed without harm.",
        "harm": "malfunction",
        "event_date": (date.today() - timedelta(days=2)).isoformat(),
        **fields,
    }
    response = api.post(user, "/api/v1/quality/complaints", body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_partner_reports_by_udi_and_the_hub_decides_reportability_with_signatures(
    api: Api, net: Network, factory: sessionmaker[Session]
) -> None:
    complaint = _report(api, harm="serious_injury", patient_involved=True)
    assert complaint["number"].startswith("CMP-") and complaint["state"] == "received"
    assert (complaint["udi_gtin"], complaint["udi_lot"], complaint["udi_serial"]) == (
        gtin(51),
        "L-77",
        "SN-9",
    )
    assert complaint["udi_expiry"] == "2028-12-31"
    # A serious injury starts the 10-day clock (the earliest regulator's).
    assert complaint["due_date"] == (date.today() + timedelta(days=10)).isoformat()
    cid = complaint["id"]
    path = f"/api/v1/quality/complaints/{cid}"

    # The reporter sees its complaint; the supplier does not.
    assert api.get("distributor", path).status_code == 200
    assert api.get("supplier", path).status_code == 404
    listed = api.get("supplier", "/api/v1/quality/complaints").json()
    assert listed["total"] == 0

    # The partner cannot write the hub's decision; nothing changes.
    before = _state(factory)
    refused = api.patch("distributor", path, {"fda_mdr_reportable": True})
    assert refused.status_code == 403, refused.text
    assert _state(factory) == before

    assert api.step("qa", "complaint", cid, "investigate").status_code == 200
    # Proposing before every regulator is decided is refused, naming the first missing one.
    api.patch("qa", path, {"investigation": "Tip bond under-cured in lot L-77."})
    before = _state(factory)
    refused = api.step("qa", "complaint", cid, "propose_decision", password=PASSWORD)
    assert (refused.status_code, refused.json()["code"]) == (
        409,
        "complaint.reportability_missing",
    )
    assert [e["field"] for e in refused.json()["errors"]] == ["fda_mdr_reportable"]
    assert _state(factory) == before
    response = api.patch(
        "qa",
        path,
        {
            "fda_mdr_reportable": True,
            "eu_vigilance_reportable": True,
            "nmpa_reportable": False,
            "reportability_rationale": "Serious injury: MDR and EU vigilance; not sold in CN.",
        },
    )
    assert response.status_code == 200, response.text
    # Without a signature the step is refused.
    refused = api.step("qa", "complaint", cid, "propose_decision")
    assert (refused.status_code, refused.json()["code"]) == (422, "signature.required")
    proposed = api.step("qa", "complaint", cid, "propose_decision", password=PASSWORD)
    assert proposed.status_code == 200, proposed.text
    assert proposed.json()["state"] == "decision_review"
    # The decision is frozen while in review.
    frozen = api.patch("qa", path, {"nmpa_reportable": True})
    assert (frozen.status_code, frozen.json()["code"]) == (409, "record.locked_by_state")
    # A wrong password is refused; the approver approves.
    wrong = api.step("qa_approver", "complaint", cid, "approve_decision", password="nope")
    assert wrong.status_code == 403, wrong.text
    approved = api.step("qa_approver", "complaint", cid, "approve_decision", password=PASSWORD)
    assert approved.status_code == 200, approved.text
    meanings = [s["meaning"] for s in approved.json()["signatures"]]
    assert meanings == ["reviewed", "approved"]
    # Closing needs a conclusion; then the approver closes with a signature.
    refused = api.step("qa_approver", "complaint", cid, "close", password=PASSWORD)
    assert (refused.status_code, refused.json()["code"]) == (409, "complaint.conclusion_missing")
    api.patch(
        "qa", path, {"conclusion": "MDR and vigilance reports filed.", "report_references": "MW123"}
    )
    closed = api.step("qa_approver", "complaint", cid, "close", password=PASSWORD)
    assert closed.status_code == 200, closed.text
    assert closed.json()["state"] == "closed"
    assert [s["meaning"] for s in closed.json()["signatures"]] == ["reviewed", "approved", "closed"]


def test_the_author_cannot_approve_its_own_decision(
    api: Api, net: Network, factory: sessionmaker[Session]
) -> None:
    complaint = _report(api, user="qa_approver")
    cid = complaint["id"]
    api.step("qa", "complaint", cid, "investigate")
    api.patch(
        "qa",
        f"/api/v1/quality/complaints/{cid}",
        {
            "investigation": "checked",
            "fda_mdr_reportable": False,
            "eu_vigilance_reportable": False,
            "nmpa_reportable": False,
            "reportability_rationale": "Malfunction without harm, not likely to recur.",
        },
    )
    assert (
        api.step("qa", "complaint", cid, "propose_decision", password=PASSWORD).status_code == 200
    )
    before = _state(factory)
    refused = api.step("qa_approver", "complaint", cid, "approve_decision", password=PASSWORD)
    assert (refused.status_code, refused.json()["code"]) == (
        403,
        "signature.author_cannot_approve",
    )
    assert _state(factory) == before


def test_a_bad_udi_is_refused_on_its_field_and_nothing_is_stored(
    api: Api, net: Network, factory: sessionmaker[Session]
) -> None:
    before = _state(factory)
    response = api.post(
        "distributor", "/api/v1/quality/complaints", {"title": "x", "udi": "(10)L-1"}
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "udi.no_device_identifier"
    assert [(e["code"], e["field"]) for e in problem["errors"]] == [
        ("udi.no_device_identifier", "udi")
    ]
    owner = api.post(
        "distributor",
        "/api/v1/quality/complaints",
        {"title": "x", "udi": UDI, "owner_user_id": net.users["qa"]},
    )
    assert owner.status_code == 422
    assert [e["code"] for e in owner.json()["errors"]] == ["complaint.hub_only_field"]
    assert _state(factory) == before


def test_a_complaint_opens_an_ncr_with_its_lot_and_then_a_capa(
    api: Api, net: Network, factory: sessionmaker[Session]
) -> None:
    complaint = _report(api)
    cid = complaint["id"]
    # Partners cannot open NCRs from complaints.
    assert api.post("distributor", f"/api/v1/quality/complaints/{cid}/ncr", {}).status_code == 403
    response = api.post(
        "qa", f"/api/v1/quality/complaints/{cid}/ncr", {"supplier_party_id": net.supplier_id}
    )
    assert response.status_code == 201, response.text
    ncr = response.json()
    assert (ncr["source"], ncr["complaint_udi"], ncr["supplier_party_id"]) == (
        "complaint",
        UDI,
        net.supplier_id,
    )
    assert ncr["affected_lots"] == [{"gtin": gtin(51), "lot": "L-77"}]
    again = api.post("qa", f"/api/v1/quality/complaints/{cid}/ncr", {})
    assert (again.status_code, again.json()["code"]) == (409, "complaint.ncr_exists")
    capa = api.post("qa", f"/api/v1/quality/complaints/{cid}/capa")
    assert capa.status_code == 201, capa.text
    assert capa.json()["source_ncr_id"] == ncr["id"]
    linked = api.get("qa", f"/api/v1/quality/complaints/{cid}").json()
    assert (linked["ncr_id"], linked["capa_id"]) == (ncr["id"], capa.json()["id"])


def test_the_trend_counts_complaints_per_month_gtin_and_lot(
    api: Api, net: Network, factory: sessionmaker[Session]
) -> None:
    _report(api)
    _report(api, harm="injury")
    _report(api, udi=f"(01){gtin(51)}(10)L-78", harm="death")
    other = _report(api, udi=f"(01){gtin(52)}(10)X-1")
    api.step("qa_approver", "complaint", other["id"], "cancel", reason="duplicate")
    month = date.today().strftime("%Y-%m")
    rows = api.get("qa", "/api/v1/quality/complaints/trend").json()
    assert [(r["month"], r["gtin"], r["lot"], r["complaints"], r["with_harm"]) for r in rows] == [
        (month, gtin(51), "L-77", 2, 1),
        (month, gtin(51), "L-78", 1, 1),
    ]
    only = api.get("qa", f"/api/v1/quality/complaints/trend?gtin={gtin(52)}").json()
    assert only == []
    # A partner's trend covers only its own reports.
    qa_only = _report(api, user="qa", udi=f"(01){gtin(51)}(10)L-79")
    assert qa_only["created_by_party_id"] == net.hub_id
    partner_rows = api.get("distributor", "/api/v1/quality/complaints/trend").json()
    assert sum(r["complaints"] for r in partner_rows) == 3


def test_service_records_name_one_serial_and_partners_see_their_own(
    api: Api, net: Network, factory: sessionmaker[Session]
) -> None:
    body = {
        "udi": UDI,
        "kind": "repair",
        "performed_on": date.today().isoformat(),
        "description": "Replaced the tip assembly.",
        "parts_replaced": ["tip assembly ", " "],
        "outcome": "in_service",
    }
    before = _state(factory)
    no_serial = api.post(
        "distributor", "/api/v1/quality/service-records", {**body, "udi": UDI_NO_SERIAL}
    )
    assert no_serial.status_code == 422
    assert [(e["code"], e["field"]) for e in no_serial.json()["errors"]] == [
        ("service.serial_required", "udi")
    ]
    assert _state(factory) == before
    created = api.post("distributor", "/api/v1/quality/service-records", body)
    assert created.status_code == 201, created.text
    record = created.json()
    assert (record["gtin"], record["serial"], record["lot"], record["parts_replaced"]) == (
        gtin(51),
        "SN-9",
        "L-77",
        ["tip assembly"],
    )
    assert record["performed_by_party_id"] == net.distributor_id
    hub = api.get("qa", "/api/v1/quality/service-records?serial=SN-9").json()
    assert [r["id"] for r in hub["items"]] == [record["id"]]
    assert api.get("supplier", "/api/v1/quality/service-records").json()["total"] == 0


def test_report_and_decide_a_complaint_from_its_pages(
    client: TestClient, net: Network, factory: sessionmaker[Session]
) -> None:
    # A distributor's clerk reports from the form, with a typed UDI.
    log_in(client, "acme-distributor")
    token = csrf(client, "/quality/complaints/new")
    bad = client.post(
        "/quality/complaints/new",
        data={"csrf_token": token, "title": "Broken", "udi": "(10)L-1", "harm": "none"},
    )
    assert bad.status_code == 422
    assert field_errors(bad.text)["udi"] == ["The UDI has no device identifier (GTIN)."]
    created = client.post(
        "/quality/complaints/new",
        data={
            "csrf_token": token,
            "title": "Broken hub",
            "udi": UDI,
            "harm": "death",
            "patient_involved": "true",
            "description": "Hub cracked during use.",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    page = client.get(created.headers["location"]).text
    assert "Broken hub" in page and 'data-harm="death"' in page and "SN-9" in page
    # The reporter sees no hub-only fields or follow-up.
    assert 'name="fda_mdr_reportable"' not in page and "/ncr" not in page
    complaint_path = created.headers["location"].split("?")[0]
    with system_unit_of_work(factory) as session:
        stored = session.scalars(select(Complaint)).one()
        assert (stored.patient_involved, stored.due_date) == (
            True,
            date.today() + timedelta(days=7),
        )

    # Hub QA records the decision from the page and opens an NCR.
    client.cookies.clear()
    log_in(client, "acme-qa")
    page = client.get(complaint_path).text
    assert 'name="fda_mdr_reportable"' in page
    token = csrf(client, complaint_path)
    step = client.post(
        f"{complaint_path}/transitions",
        data={"csrf_token": token, "action": "investigate"},
        follow_redirects=False,
    )
    assert step.status_code == 303
    saved = client.post(
        complaint_path,
        data={
            "csrf_token": token,
            "investigation": "Crack at the luer.",
            "fda_mdr_reportable": "true",
            "eu_vigilance_reportable": "false",
            "nmpa_reportable": "",
            "reportability_rationale": "Death: MDR 30-day report.",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    with system_unit_of_work(factory) as session:
        stored = session.scalars(select(Complaint)).one()
        assert (
            stored.fda_mdr_reportable,
            stored.eu_vigilance_reportable,
            stored.nmpa_reportable,
        ) == (True, False, None)
    page = client.get(complaint_path).text
    assert 'data-regime="nmpa"' in page and "not decided" in page
    ncr = client.post(
        f"{complaint_path}/ncr",
        data={"csrf_token": token, "severity": "critical", "supplier_party_id": ""},
        follow_redirects=False,
    )
    assert ncr.status_code == 303, ncr.text
    assert ncr.headers["location"].startswith("/quality/ncrs/")
    ncr_page = client.get(ncr.headers["location"]).text
    assert f"{gtin(51)} / L-77" in ncr_page


def test_record_a_service_from_its_page(client: TestClient, net: Network) -> None:
    log_in(client, "acme-distributor")
    token = csrf(client, "/quality/service-records")
    response = client.post(
        "/quality/service-records",
        data={
            "csrf_token": token,
            "udi": UDI,
            "kind": "calibration",
            "performed_on": date.today().isoformat(),
            "outcome": "follow_up",
            "complaint_id": "",
            "description": "Pressure sensor recalibrated.",
            "parts_text": "O-ring\nseal kit",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"]).text
    assert "Pressure sensor recalibrated." in page and "O-ring, seal kit" in page
    assert "needs follow-up" in page
