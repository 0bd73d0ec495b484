"""The Imports pages: upload, report, the mapping step, correct-and-replay of a row."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from medledger.catalog.models import Product
from medledger.core.system import system_unit_of_work
from tests.builders import build_network, gtin
from tests.web.browsing import csrf, log_in


def _products(factory: sessionmaker[Session]) -> list[str]:
    with system_unit_of_work(factory) as session:
        return list(session.scalars(select(Product.name).order_by(Product.name)))


def test_upload_report_and_correct_a_row_on_the_pages(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    build_network(factory, "ip")
    log_in(client, "ip-admin")
    content = (
        "gtin,name,tracking_level,storage_class\n"
        f"{gtin(1)},Good one,lot,ambient\n"
        f"{gtin(2)},Bad one,lot,tropical\n"
    ).encode()
    response = client.post(
        "/imports",
        data={"csrf_token": csrf(client, "/imports"), "entity": "products", "mapping": ""},
        files={"file": ("p.csv", content, "text/csv")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    run_url = response.headers["location"]
    page = client.get(run_url)
    assert re.search(r'data-testid="accepted">1<', page.text)
    assert re.search(r'data-testid="rejected">1<', page.text)
    assert "storage_class" in page.text
    row_id = re.search(r'action="/imports/\d+/rows/(\d+)"', page.text)
    assert row_id is not None
    fixed = client.post(
        f"{run_url}/rows/{row_id.group(1)}",
        data={
            "csrf_token": csrf(client, run_url),
            "val:gtin": gtin(2),
            "val:name": "Bad one",
            "val:tracking_level": "lot",
            "val:storage_class": "chilled_2_8",
        },
        follow_redirects=False,
    )
    assert fixed.status_code == 303
    assert 'data-status="replayed"' in client.get(run_url).text
    assert _products(factory) == ["Bad one", "Good one"]


def test_a_file_with_unknown_headers_leads_to_the_mapping_step(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    build_network(factory, "iq")
    log_in(client, "iq-admin")
    content = f"条码,名称,追溯,储存\n{gtin(3)},导管,lot,ambient\n".encode()
    first = client.post(
        "/imports",
        data={"csrf_token": csrf(client, "/imports"), "entity": "products"},
        files={"file": ("erp.csv", content, "text/csv")},
    )
    assert first.status_code == 422
    assert 'data-testid="mapping-step"' in first.text
    assert all(f'name="col:{c}"' in first.text for c in ("条码", "名称", "追溯", "储存"))
    saved = client.post(
        "/imports/mappings",
        data={
            "csrf_token": csrf(client, "/imports"),
            "entity": "products",
            "name": "erp",
            "col:条码": "gtin",
            "col:名称": "name",
            "col:追溯": "tracking_level",
            "col:储存": "storage_class",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    second = client.post(
        "/imports",
        data={"csrf_token": csrf(client, "/imports"), "entity": "products", "mapping": "erp"},
        files={"file": ("erp.csv", content, "text/csv")},
        follow_redirects=False,
    )
    assert second.status_code == 303
    assert _products(factory) == ["导管"]


def test_a_partner_sees_no_upload_form(client: TestClient, factory: sessionmaker[Session]) -> None:
    build_network(factory, "ir")
    log_in(client, "ir-distributor")
    page = client.get("/imports")
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' not in page.text
    with system_unit_of_work(factory) as session:
        assert session.scalar(select(func.count()).select_from(Product)) == 0
