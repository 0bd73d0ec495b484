"""The stock, receiving and purchase-order pages through the TestClient."""

from __future__ import annotations

import re
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.inventory.builders import AMBIENT_GTIN, build_warehouse, open_asn, release_lot
from tests.web.browsing import csrf, field_errors, log_in


def test_receiving_page_scans_flags_and_stock_page_colours_near_expiry(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    w = build_warehouse(client, factory, "vw")
    soon = date.today() + timedelta(days=30)
    asn = open_asn(client, w, [{"lot": "SOON", "quantity": 5, "expiry": soon.isoformat()}])
    log_in(client, "vw-warehouse")
    page = client.get("/receiving")
    assert f'href="/receiving/{asn["id"]}"' in page.text
    token = csrf(client, f"/receiving/{asn['id']}")
    # A wrong lot is refused on the page, with the field marked and the reason offered
    response = client.post(
        f"/receiving/{asn['id']}",
        data={
            "csrf_token": token,
            "scan": f"(01){AMBIENT_GTIN}(10)OTHER",
            "quantity": "1",
            "location_id": str(w.dock),
        },
    )
    assert response.status_code == 409
    # One field error is shown once, at the field (the toolkit's rule), not also on top
    assert field_errors(response.text) == {
        "scan": [
            f"Lot OTHER of {AMBIENT_GTIN} is not announced in ASN ASN-1 (expected SOON). "
            "Confirm it with a reason to receive it anyway."
        ]
    }
    assert 'name="accept_discrepancy"' in response.text
    # The announced lot is received and the screen says so
    response = client.post(
        f"/receiving/{asn['id']}",
        data={
            "csrf_token": token,
            "scan": f"(01){AMBIENT_GTIN}(10)SOON",
            "quantity": "5",
            "location_id": str(w.dock),
        },
        follow_redirects=True,
    )
    assert response.status_code == 200, response.text
    assert "Received 5 of lot SOON into quarantine." in response.text
    assert re.search(r'<tr data-lot="SOON">.*?data-received>5<', response.text, re.S)
    # The stock page lists it in quarantine, coloured near expiry
    stock = client.get("/stock")
    assert re.search(
        r'<tr data-row-id="[^"]+" class="near-expiry" data-lot="SOON" data-status="quarantine">',
        stock.text,
    )


def test_supplier_sees_its_order_without_prices(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    w = build_warehouse(client, factory, "vp")
    asn = open_asn(client, w, [{"lot": "P", "quantity": 5}])
    log_in(client, "vp-supplier")
    listing = client.get("/purchase-orders")
    assert listing.status_code == 200
    order_id = asn["purchase_order_id"]
    detail = client.get(f"/purchase-orders/{order_id}")
    assert detail.status_code == 200 and "3.2" not in detail.text
    assert "Unit price" not in detail.text
    client.cookies.clear()
    log_in(client, "vp-purchasing")
    assert "3.2000" in client.get(f"/purchase-orders/{order_id}").text
    client.cookies.clear()
    log_in(client, "vp-distributor")
    assert client.get(f"/purchase-orders/{order_id}").status_code == 404


def test_buyer_drafts_suggestions_from_the_order_list(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    w = build_warehouse(client, factory, "vs")
    client.put(
        "/api/v1/replenishment-settings",
        json={
            "site_id": w.site_id,
            "gtin": AMBIENT_GTIN,
            "supplier_party_id": w.network.supplier_id,
        },
        headers=w.purchasing,
    )
    log_in(client, "vs-purchasing")
    page = client.get("/purchase-orders")
    assert 'action="/purchase-orders/suggestions"' in page.text
    response = client.post(
        "/purchase-orders/suggestions",
        data={"csrf_token": csrf(client, "/purchase-orders"), "site_id": str(w.site_id)},
    )
    # No demand yet: nothing is due, the (empty) list of suggestions is shown
    assert response.status_code == 200, response.text
    assert str(response.url).endswith("/purchase-orders?status=draft")
    assert 'data-status="draft"' not in response.text


def test_picking_page_proposes_fefo_and_picks_to_the_shipping_bay(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    w = build_warehouse(client, factory, "pk")
    for lot, days in (("LATE", 400), ("EARLY", 100)):
        expiry = (date.today() + timedelta(days=days)).isoformat()
        line = {"gtin": AMBIENT_GTIN, "lot": lot, "quantity": 10, "expiry": expiry}
        assert (
            client.post(
                "/api/v1/inventory/receipts",
                json={"location_id": w.dock, "lines": [line]},
                headers=w.warehouse,
            ).status_code
            == 201
        )
        release_lot(client, w, AMBIENT_GTIN, lot)
        client.post(
            "/api/v1/inventory/put-aways",
            json={"from_location_id": w.dock, "to_location_id": w.ambient, "lines": [line]},
            headers=w.warehouse,
        )
    log_in(client, "pk-warehouse")
    query = f"site_id={w.site_id}&gtin={AMBIENT_GTIN}&quantity=15"
    page = client.get(f"/picking?{query}")
    assert page.status_code == 200, page.text
    assert re.findall(r'<tr data-lot="([^"]+)">', page.text) == ["EARLY", "LATE"]
    response = client.post(
        "/picking",
        data={
            "csrf_token": csrf(client, "/picking"),
            "site_id": str(w.site_id),
            "gtin": AMBIENT_GTIN,
            "quantity": "15",
            "to_location_id": str(w.shipping),
        },
        follow_redirects=True,
    )
    assert response.status_code == 200, response.text
    assert 'data-testid="picked"' in response.text
    rows = client.get("/api/v1/inventory/stock", headers=w.warehouse).json()
    assert sorted((r["location_code"], r["lot"], r["quantity"]) for r in rows) == [
        ("A1", "LATE", 5),
        ("SHIP", "EARLY", 10),
        ("SHIP", "LATE", 5),
    ]
