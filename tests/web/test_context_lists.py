"""The lists of inventory, purchasing, orders, production and integration on the list toolkit
(``web.lists``): each sorts by a column both ways, searches, keeps its filters in the URL, and
exports at its own URL exactly the filtered, sorted list it shows (CSV and XLSX)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker

from tests.inventory.builders import AMBIENT_GTIN, Warehouse, build_warehouse, open_asn
from tests.orders.builders import STENT, build_order_world, headers
from tests.production.test_work_orders import FINISHED, w  # noqa: F401
from tests.web.browsing import csrf, list_column, log_in

VECTORS = Path(__file__).parent.parent / "vectors" / "edi"


def _csv(client: TestClient, path: str, **params: str) -> list[list[str]]:
    response = client.get(path, params={**params, "format": "csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def _xlsx(client: TestClient, path: str, **params: str) -> list[list[Any]]:
    response = client.get(path, params={**params, "format": "xlsx"})
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    assert sheet is not None
    return [[cell if cell is not None else "" for cell in row] for row in sheet.values]


def _column(client: TestClient, path: str, column: str, **params: str) -> list[str]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return list_column(response.text, column)


def test_stock_sorts_searches_and_exports_what_it_shows(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    # Given three lots received at the dock
    wh = build_warehouse(client, factory, "ls")
    for lot, quantity in (("LOT-B", 5), ("LOT-A", 3), ("LOT-C", 7)):
        response = client.post(
            "/api/v1/inventory/receipts",
            json={
                "location_id": wh.dock,
                "lines": [{"gtin": AMBIENT_GTIN, "lot": lot, "quantity": quantity}],
            },
            headers=wh.warehouse,
        )
        assert response.status_code == 201, response.text
    log_in(client, "ls-warehouse")
    # Sorted by quantity, both ways, in the URL
    assert _column(client, "/stock", "lot", sort="quantity") == ["LOT-A", "LOT-B", "LOT-C"]
    assert _column(client, "/stock", "lot", sort="-quantity") == ["LOT-C", "LOT-B", "LOT-A"]
    assert _column(client, "/stock", "quantity", sort="-lot") == ["7", "5", "3"]
    # The product shows by name, the status translated
    page = client.get("/stock").text
    assert list_column(page, "product") == [f"Product {AMBIENT_GTIN}"] * 3
    assert list_column(page, "status") == ["Quarantine"] * 3
    assert 'data-testid="list-count">3 stock lines<' in page
    # Search and filters narrow it
    assert _column(client, "/stock", "lot", q="lot-b") == ["LOT-B"]
    assert _column(client, "/stock", "lot", status="released") == []
    assert _column(client, "/stock", "lot", lot="LOT-C", gtin=AMBIENT_GTIN) == ["LOT-C"]
    # The export is the filtered, sorted list: same rows, same order, same cells
    shown = client.get("/stock", params={"q": "lot-", "sort": "-quantity", "status": "quarantine"})
    rows = _csv(client, "/stock", q="lot-", sort="-quantity", status="quarantine")
    assert rows[0] == [
        "Location",
        "Product",
        "GTIN",
        "Lot",
        "Serial",
        "SSCC",
        "Status",
        "Quantity",
        "Expiry",
    ]
    assert [r[3] for r in rows[1:]] == list_column(shown.text, "lot") == ["LOT-C", "LOT-B", "LOT-A"]
    assert rows[1] == [
        "DOCK",
        f"Product {AMBIENT_GTIN}",
        AMBIENT_GTIN,
        "LOT-C",
        "",
        "",
        "Quarantine",
        "7",
        "",
    ]
    assert _xlsx(client, "/stock", q="lot-", sort="-quantity", status="quarantine") == rows
    assert _csv(client, "/stock", q="lot-b") == [rows[0], rows[2]]


def test_purchase_orders_sort_search_filter_and_export(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    # Given three confirmed purchase orders
    wh = build_warehouse(client, factory, "lp")
    for number in ("ASN-1", "ASN-2", "ASN-3"):
        open_asn(client, wh, [{"lot": number, "quantity": 5}], number=number)
    log_in(client, "lp-purchasing")
    numbers = _column(client, "/purchase-orders", "number", sort="number")
    assert len(numbers) == 3 and numbers == sorted(numbers)
    # Newest first by default; the other way round on request
    assert _column(client, "/purchase-orders", "number") == numbers[::-1]
    assert _column(client, "/purchase-orders", "number", sort="-number") == numbers[::-1]
    page = client.get("/purchase-orders").text
    assert list_column(page, "status") == ["Confirmed"] * 3
    assert list_column(page, "supplier") == ["lp Components"] * 3
    assert list_column(page, "lines") == ["1"] * 3
    # Search by number, filter by status
    assert _column(client, "/purchase-orders", "number", q=numbers[1]) == [numbers[1]]
    assert _column(client, "/purchase-orders", "number", status="draft") == []
    # The export carries the filtered, sorted list
    rows = _csv(client, "/purchase-orders", sort="number", status="confirmed")
    assert rows[0] == ["Number", "Supplier", "Ship to", "Status", "Lines", "Created", "Confirmed"]
    assert [r[0] for r in rows[1:]] == numbers
    assert _xlsx(client, "/purchase-orders", sort="number", status="confirmed") == rows
    assert [r[0] for r in _csv(client, "/purchase-orders", q=numbers[2])[1:]] == [numbers[2]]
    # A supplier's user sees the orders addressed to it, without the buyer's filter options
    client.cookies.clear()
    log_in(client, "lp-supplier")
    assert _column(client, "/purchase-orders", "number", sort="number") == numbers
    # The warehouse receives against the open ASNs: a list of its own
    client.cookies.clear()
    log_in(client, "lp-warehouse")
    assert _column(client, "/receiving", "number", sort="-number") == ["ASN-3", "ASN-2", "ASN-1"]
    assert _column(client, "/receiving", "number", q="asn-2") == ["ASN-2"]
    assert _column(client, "/receiving", "supplier", q="asn-2") == ["lp Components"]
    rows = _csv(client, "/receiving", sort="-number")
    assert rows[0] == ["Advance ship notice", "Supplier", "Ship date", "Announced"]
    assert [r[0] for r in rows[1:]] == ["ASN-3", "ASN-2", "ASN-1"]
    assert _xlsx(client, "/receiving", sort="-number") == rows


def test_orders_sort_search_and_export(client: TestClient, factory: sessionmaker[Session]) -> None:
    # Given three orders of the hospital
    build_order_world(factory, "lo")
    hospital = headers(client, "hospital", "lo")
    for reference in ("PO-B", "PO-A", "PO-C"):
        response = client.post(
            "/api/v1/orders",
            json={"customer_reference": reference, "lines": [{"gtin": STENT, "quantity": 2}]},
            headers=hospital,
        )
        assert response.status_code == 201, response.text
    log_in(client, "lo-sales")
    # Newest first by default; sorted by purchase order number both ways
    assert _column(client, "/orders", "reference") == ["PO-C", "PO-A", "PO-B"]
    assert _column(client, "/orders", "reference", sort="reference") == ["PO-A", "PO-B", "PO-C"]
    assert _column(client, "/orders", "reference", sort="-reference") == ["PO-C", "PO-B", "PO-A"]
    page = client.get("/orders").text
    assert list_column(page, "customer") == ["lo St. Mary Hospital"] * 3
    assert list_column(page, "channel") == ["API"] * 3
    assert 'data-testid="list-count">3 orders<' in page
    # Search by purchase order number or by our order number
    assert _column(client, "/orders", "reference", q="po-a") == ["PO-A"]
    assert _column(client, "/orders", "number", q="SO-0000002") == ["SO-0000002"]
    assert _column(client, "/orders", "reference", status="cancelled") == []
    assert _column(client, "/orders", "reference", channel="api", sort="number") == [
        "PO-B",
        "PO-A",
        "PO-C",
    ]
    # The export is the filtered, sorted list
    rows = _csv(client, "/orders", sort="-reference", channel="api")
    assert rows[0] == [
        "Order",
        "Customer",
        "Purchase order",
        "Channel",
        "Order date",
        "Requested delivery",
        "Status",
        "Version",
    ]
    assert [r[2] for r in rows[1:]] == ["PO-C", "PO-B", "PO-A"]
    assert [r[6] for r in rows[1:]] == ["open"] * 3
    assert _xlsx(client, "/orders", sort="-reference", channel="api") == rows
    assert [r[2] for r in _csv(client, "/orders", q="PO-B")[1:]] == ["PO-B"]


def test_order_inbox_lists_failed_messages_first_and_exports_them(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    # Given an accepted EDI order and a failed one (a bad GTIN check digit)
    build_order_world(factory, "li")
    log_in(client, "li-sales")
    good = (VECTORS / "pydifact" / "order.edi").read_text()
    bad = good.replace("5020436373108", "5020436373109")
    for name, content in (("good.edi", good), ("bad.edi", bad)):
        response = client.post(
            "/orders/inbox",
            data={"csrf_token": csrf(client, "/orders/inbox")},
            files={"file": (name, content.encode(), "application/edifact")},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
    # Failed first (they wait for someone), then accepted
    page = client.get("/orders/inbox").text
    assert list_column(page, "filename") == ["bad.edi", "good.edi"]
    assert list_column(page, "status") == ["failed", "accepted"]
    assert list_column(page, "errors") == ["1", "0"]
    assert _column(client, "/orders/inbox", "filename", sort="-received_at") == [
        "bad.edi",
        "good.edi",
    ]
    assert _column(client, "/orders/inbox", "filename", sort="filename") == [
        "bad.edi",
        "good.edi",
    ]
    assert _column(client, "/orders/inbox", "filename", sort="-filename") == [
        "good.edi",
        "bad.edi",
    ]
    assert _column(client, "/orders/inbox", "filename", status="accepted") == ["good.edi"]
    assert _column(client, "/orders/inbox", "filename", q="GOOD") == ["good.edi"]
    rows = _csv(client, "/orders/inbox", sort="-filename")
    assert rows[0] == [
        "Message",
        "Channel",
        "File",
        "Purchase order",
        "Received",
        "Status",
        "Errors",
    ]
    assert [(r[2], r[5], r[6]) for r in rows[1:]] == [
        ("good.edi", "accepted", "0"),
        ("bad.edi", "failed", "1"),
    ]
    # An empty upload is refused on the page, at 422, and nothing is received
    refused = client.post(
        "/orders/inbox", data={"csrf_token": csrf(client, "/orders/inbox"), "content": " "}
    )
    assert refused.status_code == 422
    assert 'data-code="validation_failed"' in refused.text
    assert "Choose a file or paste its content." in refused.text
    assert list_column(refused.text, "filename") == ["bad.edi", "good.edi"]


def test_work_orders_sort_search_and_export(
    client: TestClient,
    factory: sessionmaker[Session],
    w: Warehouse,  # noqa: F811
) -> None:
    # Given three planned work orders of the finished product
    log_in(client, "pr-warehouse")
    token = csrf(client, "/work-orders/new")
    for lot, quantity in (("FP-B", "2"), ("FP-A", "3"), ("FP-C", "1")):
        created = client.post(
            "/work-orders/new",
            data={
                "csrf_token": token,
                "gtin": FINISHED,
                "location_id": str(w.ambient),
                "quantity": quantity,
                "lot": lot,
                "serials": "",
                "number": "",
                "note": "",
                "expiry": "",
            },
            follow_redirects=False,
        )
        assert created.status_code == 303, created.text
    assert _column(client, "/work-orders", "lot", sort="lot") == ["FP-A", "FP-B", "FP-C"]
    assert _column(client, "/work-orders", "lot", sort="-quantity") == ["FP-A", "FP-B", "FP-C"]
    assert _column(client, "/work-orders", "lot", sort="quantity") == ["FP-C", "FP-B", "FP-A"]
    assert _column(client, "/work-orders", "lot", q="fp-b") == ["FP-B"]
    assert _column(client, "/work-orders", "lot", status="completed") == []
    rows = _csv(client, "/work-orders", sort="-lot", status="planned")
    assert [r[2] for r in rows[1:]] == ["FP-C", "FP-B", "FP-A"]
    assert [r[3] for r in rows[1:]] == ["1", "2", "3"]
    assert _xlsx(client, "/work-orders", sort="-lot", status="planned") == rows


def test_the_data_dictionary_sorts_searches_and_exports(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    build_order_world(factory, "ld")
    log_in(client, "ld-distributor")
    shown = _column(client, "/integration/dictionary", "name", entity="lot", sort="-name")
    assert shown == ["sscc", "serial", "production_date", "lot", "gtin", "expiry"]
    assert _column(client, "/integration/dictionary", "name", entity="lot", q="date") == [
        "expiry",
        "production_date",
    ]
    rows = _csv(client, "/integration/dictionary", entity="lot", sort="-name", q="s")
    assert [r[1] for r in rows[1:]] == ["sscc", "serial"]
    assert _xlsx(client, "/integration/dictionary", entity="lot", sort="-name", q="s") == rows
