"""The list toolkit (``web.lists``) through the pages that use it: sort in the reader's language,
search, filters and sort in the URL, page size, plural totals, CSV/XLSX export, bulk actions,
empty states."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from medledger.compliance.models import AuditEntry
from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.core.work import work_of
from medledger.parties.models import Party, PartyRole, User
from medledger.parties.service import create_party
from medledger.web.collation import text_key
from tests.builders import Network, build_network, party_in
from tests.web.browsing import csrf, list_column, log_in

# Names a code-point sort gets wrong: case ("CVC" before "Calibrator"), accents, Chinese.
EXTRA_PARTIES = [
    ("CVC Logistics", 40, "US", "US"),
    ("Calibration Lab", 41, "DE", "EU"),
    ("Élan Medical", 42, "FR", "EU"),
    ("北京协和医院", 43, "CN", "CN"),
    ("上海医疗器械", 44, "CN", "CN"),
    ("阿莫西林供应", 45, "CN", "CN"),
]


def _network_with_parties(factory: Any) -> Network:
    network = build_network(factory)
    with system_unit_of_work(factory) as session:
        admin = tenant_admin(session, network.tenant_id)
        work_of(session).act_as(admin)
        for name, number, country, region in EXTRA_PARTIES:
            create_party(
                session, admin, party_in(name, number, [PartyRole.HOSPITAL], country, region)
            )
    return network


def _chinese(factory: Any, network: Network, who: str = "admin") -> None:
    with system_unit_of_work(factory) as session:
        user = session.get(User, network.users[who])
        assert user is not None
        user.locale = "zh_Hans"


def test_text_sorts_in_the_readers_language() -> None:
    names = [
        "上海医疗",
        "CVC insertion kit",
        "Boston Medical",
        "北京协和医院",
        "Calibrator",
        "阿莫西林",
    ]
    # Code points put "CVC" before "Calibrator" and Chinese after every Latin name.
    assert sorted(names)[1:3] == ["CVC insertion kit", "Calibrator"]
    assert sorted(names, key=lambda n: text_key("en", n)) == [
        "Boston Medical",
        "Calibrator",
        "CVC insertion kit",
        "上海医疗",
        "北京协和医院",
        "阿莫西林",
    ]
    # In Chinese, Han characters sort by their pinyin among the Latin names.
    assert sorted(names, key=lambda n: text_key("zh_Hans", n)) == [
        "阿莫西林",  # a mo xi lin
        "北京协和医院",  # bei jing
        "Boston Medical",
        "Calibrator",
        "CVC insertion kit",
        "上海医疗",  # shang hai
    ]


def test_a_list_sorts_by_any_column_both_ways_in_the_url(client: TestClient, factory: Any) -> None:
    _network_with_parties(factory)
    log_in(client, "acme-admin")
    page = client.get("/parties").text
    names = list_column(page, "name")
    assert names[:4] == ["acme Components", "acme Distribution", "acme Medical", "Calibration Lab"]
    assert names.index("Calibration Lab") < names.index("CVC Logistics")
    assert names.index("CVC Logistics") < names.index("Élan Medical")
    # The column header links to the other direction; the sort is kept in the URL.
    assert 'href="/parties?sort=-name" data-sort="name"' in page
    assert 'aria-sort="ascending"' in page
    descending = list_column(client.get("/parties?sort=-name").text, "name")
    assert descending == list(reversed(names))
    by_country = list_column(client.get("/parties?sort=country").text, "country")
    assert by_country == sorted(by_country)
    # An unknown sort key falls back to the list's default.
    assert list_column(client.get("/parties?sort=password").text, "name") == names


def test_chinese_readers_get_pinyin_order(client: TestClient, factory: Any) -> None:
    network = _network_with_parties(factory)
    _chinese(factory, network)
    log_in(client, "acme-admin")
    names = list_column(client.get("/parties?region=CN").text, "name")
    # a mo xi lin · acme · bei jing · shang hai
    assert names == ["阿莫西林供应", "acme Distribution", "北京协和医院", "上海医疗器械"]


def test_search_filters_and_plural_totals(client: TestClient, factory: Any) -> None:
    network = _network_with_parties(factory)
    log_in(client, "acme-admin")
    page = client.get("/parties?q=medical").text
    assert list_column(page, "name") == ["acme Medical", "Élan Medical"]
    assert '<strong class="count" data-testid="list-count">2 parties</strong>' in page
    one = client.get("/parties?q=calibration").text
    assert '<strong class="count" data-testid="list-count">1 party</strong>' in one
    # Locations had no text search before: they have one now (code, name, GLN).
    assert client.get("/locations?q=zzz").status_code == 200
    # A filter the service applies and the search combine.
    assert list_column(client.get("/parties?region=EU&q=a").text, "name") == [
        "acme Medical",
        "Calibration Lab",
        "Élan Medical",
    ]
    _chinese(factory, network)
    zh = client.get("/parties?q=medical").text
    assert '<strong class="count" data-testid="list-count">2 个参与方</strong>' in zh


def test_page_size_and_pages(client: TestClient, factory: Any) -> None:
    network = build_network(factory)
    with system_unit_of_work(factory) as session:
        admin = tenant_admin(session, network.tenant_id)
        work_of(session).act_as(admin)
        for n in range(30):
            create_party(
                session, admin, party_in(f"Hospital {n:02d}", 100 + n, [PartyRole.HOSPITAL])
            )
    log_in(client, "acme-admin")
    first = client.get("/parties").text
    assert len(list_column(first, "name")) == 25
    assert "33 parties" in first and "Page 1 of 2" in first
    assert 'href="/parties?page=2" hx-get="/parties?page=2"' in first
    second = client.get("/parties?page=2").text
    assert len(list_column(second, "name")) == 8
    everything = client.get("/parties?size=50").text
    assert len(list_column(everything, "name")) == 33
    assert "Page 1 of" not in everything
    # A size that is not offered is the default.
    assert len(list_column(client.get("/parties?size=7").text, "name")) == 25


def _csv_rows(response: Any) -> list[list[str]]:
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_export_carries_the_filtered_sorted_list(client: TestClient, factory: Any) -> None:
    _network_with_parties(factory)
    log_in(client, "acme-admin")
    shown = client.get("/parties?region=EU&sort=-name").text
    names = list_column(shown, "name")
    assert names == ["Élan Medical", "Calibration Lab", "acme Medical"]
    # CSV at the list's own URL: the columns the table shows, the rows in the same order.
    csv_rows = _csv_rows(client.get("/parties?region=EU&sort=-name&format=csv"))
    assert csv_rows[0] == ["Name", "GLN", "Roles", "Country", "Region", "State"]
    assert [row[0] for row in csv_rows[1:]] == names
    assert csv_rows[1][2:] == ["Hospital", "FR", "European Union", "active"]
    # XLSX: the same cells.
    response = client.get("/parties?region=EU&sort=-name&format=xlsx")
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert 'filename="parties-' in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    assert sheet is not None
    xlsx_rows = [[cell if cell is not None else "" for cell in row] for row in sheet.values]
    assert xlsx_rows == csv_rows
    # Every page is exported, not only the one shown.
    assert len(_csv_rows(client.get("/parties?format=csv"))) == 1 + 9


def test_bulk_deactivation_changes_all_selected_rows_or_none(
    client: TestClient, factory: Any
) -> None:
    network = _network_with_parties(factory)
    with system_unit_of_work(factory) as session:
        ids = {p.name: p.id for p in session.scalars(select(Party))}
    log_in(client, "acme-admin")
    token = csrf(client, "/parties")
    chosen = [ids["Calibration Lab"], ids["Élan Medical"]]
    response = client.post(
        "/parties?region=EU",
        data={"csrf_token": token, "action": "deactivate", "ids": chosen, "reason": "Merged"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/parties?region=EU&done=2"
    page = client.get(response.headers["location"]).text
    assert "2 rows changed." in page
    with system_unit_of_work(factory) as session:
        assert {p.name for p in session.scalars(select(Party).where(Party.active.is_(False)))} == {
            "Calibration Lab",
            "Élan Medical",
        }
        reasons = session.scalars(
            select(AuditEntry.reason).where(AuditEntry.action == "deactivate")
        ).all()
        assert reasons == ["Merged", "Merged"]
    # A row the user may not change (another tenant's id) refuses the whole action.
    refused = client.post(
        "/parties",
        data={"csrf_token": token, "action": "reactivate", "ids": [chosen[0], 999_999]},
    )
    assert refused.status_code == 404
    assert "parties 999999 was not found." in refused.text
    with system_unit_of_work(factory) as session:
        party = session.get(Party, chosen[0])
        assert party is not None and party.active is False
    # A role without the permission sees no selection and cannot post the action.
    client.cookies.clear()
    log_in(client, "acme-planner")
    planner_page = client.get("/parties").text
    assert 'name="ids"' not in planner_page and "bulk-form" not in planner_page
    denied = client.post(
        "/parties",
        data={"csrf_token": csrf(client, "/parties"), "action": "reactivate", "ids": chosen},
    )
    assert denied.status_code == 422
    assert "Choose an action." in denied.text
    assert network.users["planner"]


def test_empty_states_say_what_to_do_next(client: TestClient, factory: Any) -> None:
    build_network(factory)
    log_in(client, "acme-admin")
    page = client.get("/products").text
    assert 'data-testid="empty-state"' in page
    assert "No products yet. Add a product with its GTIN to trace its lots and serials." in page
    assert '<a class="button primary" href="/products/new">New product</a>' in page
    assert "Export" not in page.split('id="results"', 1)[1]
    filtered = client.get("/parties?q=nothing-like-this").text
    assert "Nothing matches these filters." in filtered
    assert '<a href="/parties">Clear the filters</a>' in filtered
    client.cookies.clear()
    log_in(client, "acme-planner")
    planner = client.get("/products").text
    assert "No products yet." in planner and 'href="/products/new"' not in planner


def test_every_list_answers_htmx_with_its_results_only(client: TestClient, factory: Any) -> None:
    build_network(factory)
    log_in(client, "acme-admin")
    for path in (
        "/parties",
        "/sites",
        "/locations",
        "/users",
        "/products",
        "/boms",
        "/api-keys",
        "/audit",
        "/lots",
        "/events",
        "/capture-jobs",
    ):
        full = client.get(path)
        assert full.status_code == 200, path
        assert re.search(r'<div id="results" data-total="\d+">', full.text), path
        fragment = client.get(path, headers={"HX-Request": "true", "HX-Target": "results"})
        assert fragment.text.lstrip().startswith('<div id="results"'), path
        assert "<html" not in fragment.text, path
        exported = client.get(path, params={"format": "csv"})
        assert exported.status_code == 200, path
        assert exported.headers["content-type"] == "text/csv; charset=utf-8", path


def test_an_exported_cell_is_never_a_formula(client: TestClient, factory: Any) -> None:
    # Given a partner whose name a spreadsheet would run as a formula
    network = build_network(factory)
    with system_unit_of_work(factory) as session:
        admin = tenant_admin(session, network.tenant_id)
        work_of(session).act_as(admin)
        create_party(session, admin, party_in("=HYPERLINK(1)", 50, [PartyRole.HOSPITAL]))
    log_in(client, "acme-admin")
    # Then the export keeps it as text, in CSV and in XLSX
    rows = _csv_rows(client.get("/parties?q=HYPERLINK&format=csv"))
    assert rows[1][0] == "'=HYPERLINK(1)"
    response = client.get("/parties?q=HYPERLINK&format=xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    cell = sheet["A2"]
    assert (cell.value, cell.data_type) == ("'=HYPERLINK(1)", "s")
