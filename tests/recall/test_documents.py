"""Recall documents: each consignee's recall notice as a page and a PDF file (its own only,
in its language, Chinese embedded with the CJK font), and the correction-and-removal report
(21 CFR 806) as a PDF file from the API and the page; the PDF text is extracted and checked."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from medledger.compliance.pdf import font_path
from medledger.core.system import system_unit_of_work
from medledger.recall.models import RecallNotice
from tests.quality.test_documents import pdf_text
from tests.recall.builders import FINISHED, P2, Scenario, build_scenario, ok, recall_body
from tests.web.browsing import log_in

TITLE = "导管接头破裂 Cracked hubs"


@pytest.fixture
def s(client: TestClient, factory: sessionmaker[Session]) -> Scenario:
    return build_scenario(client, factory)


def _start(client: TestClient, s: Scenario) -> dict[str, Any]:
    return dict(
        ok(client.post("/api/v1/recalls", json=recall_body(title=TITLE), headers=s.h("qa")), 201)
    )


def _notices(factory: sessionmaker[Session]) -> dict[str, int]:
    with system_unit_of_work(factory) as session:
        return {n.name: n.id for n in session.query(RecallNotice).order_by(RecallNotice.id)}


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.skipif(font_path() is None or "wqy" not in str(font_path()), reason="no CJK font")
def test_each_consignee_sees_its_own_notice_as_page_and_pdf_in_its_language(
    client: TestClient, s: Scenario, factory: sessionmaker[Session], app: object
) -> None:
    recall = _start(client, s)
    notices = _notices(factory)
    assert set(notices) == {"City Hospital", "rc Distribution"}
    base = f"/recalls/{recall['id']}"
    hospital_notice = f"{base}/notices/{notices['City Hospital']}"
    distributor_notice = f"{base}/notices/{notices['rc Distribution']}"
    # The hospital's user reads its notice in Chinese
    ok(client.patch("/api/v1/me/preferences", json={"locale": "zh_Hans"}, headers=s.h("hospital")))
    hospital = TestClient(app)  # type: ignore[arg-type]
    log_in(hospital, "rc-hospital")
    page = hospital.get(hospital_notice)
    assert page.status_code == 200
    assert 'data-testid="recall-notice"' in page.text and TITLE in page.text
    assert "召回通知" in page.text and P2 in page.text
    assert 'data-testid="notice-units">4<' in page.text
    pdf = hospital.get(f"{hospital_notice}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = _flat(pdf_text(pdf.content))
    for expected in (
        "召回通知",
        TITLE,
        recall["number"],
        "City Hospital",
        FINISHED,
        "F-1",
        P2,
        "Stop using, quarantine and return the units.",
        "尚未确认",
        "rc qa 已编写",
    ):
        assert expected in text, (expected, text)
    assert "rc Distribution" not in text
    # Not the distributor's notice, neither page nor file (and the console links its own)
    assert hospital.get(distributor_notice).status_code == 404
    assert hospital.get(f"{distributor_notice}/pdf").status_code == 404
    assert f'href="{hospital_notice}"' in hospital.get(base).text
    # A party that was not notified sees no notice at all
    supplier = TestClient(app)  # type: ignore[arg-type]
    log_in(supplier, "rc-supplier")
    assert supplier.get(hospital_notice).status_code == 404
    # The hub reads every notice (in English); after the answer the notice shows it
    qa = TestClient(app)  # type: ignore[arg-type]
    log_in(qa, "rc-qa")
    ok(
        client.post(
            f"/api/v1/recalls/{recall['id']}/notices/{notices['rc Distribution']}/acknowledgement",
            json={"quantity_on_hand": 0, "quantity_returned": 8, "quantity_destroyed": 0},
            headers=s.h("distributor"),
        )
    )
    text = _flat(pdf_text(qa.get(f"{distributor_notice}/pdf").content))
    assert "Recall notice" in text and "rc Distribution" in text and "P1" not in text
    assert "Returned 8" in text and "Not acknowledged yet." not in text
    assert qa.get(f"{base}/notices/999999").status_code == 404


def test_the_806_report_as_pdf_for_the_hub_only(
    client: TestClient, s: Scenario, factory: sessionmaker[Session], app: object
) -> None:
    recall = _start(client, s)
    response = client.get(
        f"/api/v1/recalls/{recall['id']}/report", params={"format": "pdf"}, headers=s.h("qa")
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    text = _flat(pdf_text(response.content))
    for expected in (
        "Correction and removal report (21 CFR 806)",
        recall["number"],
        "(to be completed by the reporter)",
        "City Hospital",
        "rc Distribution",
        "COMP-7",
        "F-1",
        "Leak during infusion; temporary harm possible.",
        "authored",
    ):
        assert expected in text, (expected, text)
    # The page's PDF, in the reader's language
    qa = TestClient(app)  # type: ignore[arg-type]
    log_in(qa, "rc-qa")
    page_pdf = qa.get(f"/recalls/{recall['id']}/report/pdf")
    assert page_pdf.status_code == 200 and page_pdf.content.startswith(b"%PDF")
    assert "City Hospital" in _flat(pdf_text(page_pdf.content))
    assert 'data-testid="report-pdf"' in qa.get(f"/recalls/{recall['id']}/report").text
    # A consignee may not read the report (it names every consignee)
    assert (
        client.get(
            f"/api/v1/recalls/{recall['id']}/report",
            params={"format": "pdf"},
            headers=s.h("hospital"),
        ).status_code
        == 404
    )
    hospital = TestClient(app)  # type: ignore[arg-type]
    log_in(hospital, "rc-hospital")
    assert hospital.get(f"/recalls/{recall['id']}/report/pdf").status_code == 404
