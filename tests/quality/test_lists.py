"""The quality lists on the list toolkit (docs/ui.md): sort, search, the filters the home page
links to, the plural total, CSV and XLSX exports of the filtered and sorted list; a partner's
list holds only what concerns its party. And the one declaration per record kind
(``quality.records``) that the workflow, signing, audit trail, pages and lists read."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker

from medledger.compliance.signables import signable
from medledger.quality.records import RECORD_KINDS, WORKFLOWS
from tests.builders import Network, build_network
from tests.quality.builders import Api, raise_ncr
from tests.web.browsing import list_column, log_in


@pytest.fixture
def net(factory: sessionmaker[Session]) -> Network:
    return build_network(factory)


@pytest.fixture
def api(app: object) -> Api:
    return Api(TestClient(app))  # type: ignore[arg-type]


def _csv_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _xlsx_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    assert sheet is not None
    return [[cell if cell is not None else "" for cell in row] for row in sheet.values]


def test_ncr_list_sorts_searches_filters_and_exports(
    client: TestClient, api: Api, net: Network
) -> None:
    overdue = (date.today() - timedelta(days=2)).isoformat()
    crack = raise_ncr(api, title="Crack in housing")
    burr = raise_ncr(api, title="Burr on hub", owner_user_id=net.users["qa"], due_date=overdue)
    supplier_ncr = raise_ncr(api, "supplier", title="Abrasion reported by supplier")
    log_in(client, "acme-qa")
    page = client.get("/quality/ncrs?sort=title")
    assert page.status_code == 200
    titles = ["Abrasion reported by supplier", "Burr on hub", "Crack in housing"]
    assert list_column(page.text, "title") == titles
    assert 'data-testid="list-count">3 NCRs<' in page.text
    assert list_column(client.get("/quality/ncrs?sort=-title").text, "title") == titles[::-1]
    # Newest first by default (the number), and the other way round on request
    numbers = [supplier_ncr["number"], burr["number"], crack["number"]]
    assert list_column(client.get("/quality/ncrs").text, "number") == numbers
    assert list_column(client.get("/quality/ncrs?sort=number").text, "number") == numbers[::-1]
    # Paged in the database: a page past the end shows the last one
    second = client.get("/quality/ncrs?sort=title&size=25&page=2").text
    assert list_column(second, "title") == titles
    # Search over the title and the number; the total in the singular
    found = client.get("/quality/ncrs?q=burr").text
    assert list_column(found, "number") == [burr["number"]]
    assert 'data-testid="list-count">1 NCR<' in found
    assert list_column(client.get(f"/quality/ncrs?q={crack['number']}").text, "title") == [
        "Crack in housing"
    ]
    # The filters the home page links to
    overdue_page = client.get("/quality/ncrs?overdue=1").text
    assert list_column(overdue_page, "number") == [burr["number"]]
    assert list_column(overdue_page, "owner") == ["acme qa"]
    assert "overdue" in list_column(overdue_page, "due")[0]
    assert len(list_column(client.get("/quality/ncrs?open=1&state=open").text, "number")) == 3
    assert list_column(client.get("/quality/ncrs?sort=-due").text, "number")[0] == burr["number"]
    # CSV: the filtered, sorted list as the table shows it; XLSX the same cells
    rows = _csv_rows(client.get("/quality/ncrs?sort=title&format=csv"))
    assert rows[0] == ["Number", "Title", "State", "Owner", "Due", "Created"]
    assert [r[1] for r in rows[1:]] == titles
    assert rows[2][0] == burr["number"] and rows[2][2] == "open" and rows[2][3] == "acme qa"
    assert _xlsx_rows(client.get("/quality/ncrs?sort=title&format=xlsx")) == rows
    searched = _csv_rows(client.get("/quality/ncrs?q=crack&format=csv"))
    assert [r[0] for r in searched] == ["Number", crack["number"]]
    # A title that starts like a formula stays text in the export
    formula = raise_ncr(api, title="=cmd|' /C calc'!A0")
    cells = _csv_rows(client.get("/quality/ncrs?q=cmd&format=csv"))
    assert cells[1][:2] == [formula["number"], "'=cmd|' /C calc'!A0"]
    # A supplier's user sees only the NCR that concerns its party, in its list and export
    supplier = TestClient(client.app)
    log_in(supplier, "acme-supplier")
    assert list_column(supplier.get("/quality/ncrs").text, "number") == [supplier_ncr["number"]]
    exported = _csv_rows(supplier.get("/quality/ncrs?format=csv"))
    assert [r[0] for r in exported[1:]] == [supplier_ncr["number"]]


def test_capa_list_sorts_by_due_date_and_exports_in_chinese(
    client: TestClient, api: Api, net: Network, factory: sessionmaker[Session]
) -> None:
    from medledger.core.system import system_unit_of_work
    from medledger.parties.models import User

    today = date.today()
    made = []
    for title, days in (("导管 校准", 30), ("Alarm review", 10), ("Bonding process", 20)):
        response = api.post(
            "qa",
            "/api/v1/quality/capas",
            {"title": title, "due_date": (today + timedelta(days=days)).isoformat()},
        )
        assert response.status_code == 201, response.text
        made.append(response.json())
    with system_unit_of_work(factory) as session:
        user = session.get(User, net.users["qa"])
        assert user is not None
        user.locale = "zh_Hans"
    log_in(client, "acme-qa")
    page = client.get("/quality/capas?sort=due").text
    assert list_column(page, "title") == ["Alarm review", "Bonding process", "导管 校准"]
    assert 'data-testid="list-count">3 个 CAPA<' in page
    assert list_column(client.get("/quality/capas?sort=-due").text, "title") == [
        "导管 校准",
        "Bonding process",
        "Alarm review",
    ]
    rows = _csv_rows(client.get("/quality/capas?sort=due&format=csv"))
    assert rows[0] == ["编号", "标题", "状态", "负责人", "到期", "创建时间"]
    assert [r[1] for r in rows[1:]] == ["Alarm review", "Bonding process", "导管 校准"]
    assert _xlsx_rows(client.get("/quality/capas?sort=due&format=xlsx")) == rows
    # Inspections and lot releases have their lists too (empty here: a plain statement)
    for path in ("/quality/inspections", "/quality/lot-releases"):
        empty = client.get(path)
        assert empty.status_code == 200 and 'data-testid="list-count">0' in empty.text


def test_one_declaration_per_record_kind_feeds_workflow_signing_and_audit() -> None:
    import medledger.quality.signables  # noqa: F401  (registers the signable kinds)

    assert list(RECORD_KINDS) == [
        "ncr",
        "capa",
        "change",
        "deviation",
        "complaint",
        "inspection",
        "lot_release",
    ]
    for kind, spec in RECORD_KINDS.items():
        assert spec.model.__audit_entity__ == kind
        assert WORKFLOWS[kind] is spec.workflow and spec.workflow.kind == kind
        registered = signable(kind)
        assert registered.model is spec.model
        assert registered.permissions == spec.signature_permissions
    assert {k for k, s in RECORD_KINDS.items() if s.reported_by_partners} == {"ncr", "complaint"}
    assert RECORD_KINDS["lot_release"].page(7) == "/quality/lot-releases/7"
