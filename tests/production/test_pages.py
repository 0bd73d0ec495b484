"""The work order pages through the TestClient: list (ListSpec), plan, start, complete, and the
device history record on the record page; a refusal is shown on the page and changes nothing."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.inventory.builders import Warehouse, stock
from tests.production.test_work_orders import CATHETER, FINISHED, VALVE, _stock_in, w  # noqa: F401
from tests.web.browsing import csrf, log_in


def test_plan_start_and_complete_a_work_order_on_its_pages(
    client: TestClient,
    factory: sessionmaker[Session],
    w: Warehouse,  # noqa: F811
) -> None:
    later = date.today() + timedelta(days=300)
    _stock_in(client, w, CATHETER, "C-1", 3, later)
    _stock_in(client, w, VALVE, "V-1", 10, later)
    log_in(client, "pr-warehouse")
    empty = client.get("/work-orders")
    assert empty.status_code == 200
    assert "No work orders yet." in empty.text
    token = csrf(client, "/work-orders/new")
    created = client.post(
        "/work-orders/new",
        data={
            "csrf_token": token,
            "gtin": FINISHED,
            "location_id": str(w.ambient),
            "quantity": "5",
            "lot": "FP-1",
            "serials": "",
            "number": "",
            "note": "",
            "expiry": "",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    record = created.headers["location"]
    page = client.get(record)
    assert "WO-00001" in page.text and 'data-testid="requirements"' in page.text
    # Not enough catheters (3 of 5): start is refused on the page, nothing changes
    refused = client.post(f"{record}/start", data={"csrf_token": token, "operators": "Li"})
    assert refused.status_code == 409
    assert "Only 3 of component" in refused.text
    _stock_in(client, w, CATHETER, "C-2", 2, later + timedelta(days=10))
    started = client.post(
        f"{record}/start",
        data={"csrf_token": token, "operators": "Li Wei, Anna"},
        follow_redirects=False,
    )
    assert started.status_code == 303
    done = client.post(f"{record}/complete", data={"csrf_token": token}, follow_redirects=True)
    assert done.status_code == 200
    assert 'data-testid="consumed"' in done.text
    assert '<tr data-lot="C-1">' in done.text and '<tr data-lot="C-2">' in done.text
    assert "Li Wei, Anna" in done.text
    listing = client.get("/work-orders", params={"status": "completed"})
    assert "WO-00001" in listing.text and "FP-1" in listing.text
    assert ("A1", "FP-1", "", "quarantine", 5) in stock(client, w)
    # The list exports like every toolkit list
    export = client.get("/work-orders", params={"format": "csv"})
    assert export.status_code == 200 and "WO-00001" in export.text
    # zh_Hans
    assert client.get("/work-orders", headers={"Accept-Language": "zh-CN"}).status_code == 200
