"""Order screens through the TestClient with a browser session: list, entry form (with field
errors), order page, CSV upload, EDI inbox with fix-and-replay."""

from __future__ import annotations

import html
import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.orders.builders import STENT, build_order_world
from tests.web.browsing import csrf, field_errors, log_in, nav_keys

VECTORS = Path(__file__).parent.parent / "vectors" / "edi"


def test_entry_form_places_an_order_and_shows_it(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    build_order_world(factory)
    log_in(client, "acme-hospital")
    assert "orders" in nav_keys(client.get("/orders").text)
    assert "order-inbox" not in nav_keys(client.get("/orders").text)
    token = csrf(client, "/orders/new")
    # a bad quantity and an unknown ship-to come back next to their fields
    refused = client.post(
        "/orders/new",
        data={
            "csrf_token": token,
            "customer_reference": "F-1",
            "ship_to_code": "NOPE",
            "lines.0.gtin": STENT,
            "lines.0.quantity": "0",
        },
    )
    assert refused.status_code == 422
    assert list(field_errors(refused.text)) == ["lines.0.quantity"]
    refused = client.post(
        "/orders/new",
        data={
            "csrf_token": token,
            "customer_reference": "F-1",
            "ship_to_code": "NOPE",
            "lines.0.gtin": STENT,
            "lines.0.quantity": "3",
        },
    )
    assert refused.status_code == 422
    # One field error: shown once, at the field (the form toolkit's rule)
    assert list(field_errors(refused.text)) == ["ship_to_code"]
    placed = client.post(
        "/orders/new",
        data={
            "csrf_token": token,
            "customer_reference": "F-1",
            "lines.0.gtin": STENT,
            "lines.0.quantity": "3",
            "lines.0.unit_price": "99.5",
        },
        follow_redirects=False,
    )
    assert placed.status_code == 303
    page = client.get(placed.headers["location"]).text
    assert "F-1" in page and STENT in page and "99.5" in page
    assert "created" in page  # version 1
    listing = client.get("/orders").text
    assert "SO-0000001" in listing and "entry form" in listing


def test_csv_upload_page_reports_accepted_and_failed_orders(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    build_order_world(factory)
    log_in(client, "acme-hospital")
    token = csrf(client, "/orders/upload")
    content = f"customer_reference,gtin,quantity\nU-1,{STENT},2\nU-2,{STENT},-1\n"
    page = client.post(
        "/orders/upload",
        data={"csrf_token": token},
        files={"file": ("orders.csv", content.encode(), "text/csv")},
    )
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "U-1" in text and "U-2" in text
    assert "row 1.quantity: The quantity must be a whole number greater than zero." in text


def test_inbox_shows_errors_and_replays_a_corrected_message(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    build_order_world(factory)
    log_in(client, "acme-sales")
    token = csrf(client, "/orders/inbox")
    bad = (VECTORS / "pydifact" / "order.edi").read_text().replace("5020436373108", "5020436373109")
    received = client.post(
        "/orders/inbox",
        data={"csrf_token": token},
        files={"file": ("bad.edi", bad.encode(), "application/edifact")},
        follow_redirects=False,
    )
    assert received.status_code == 303
    detail_path = received.headers["location"]
    page = client.get(detail_path).text
    assert "segment 12 LIN.gtin" in page and "gs1.bad_check_digit" in page
    content = html.unescape(
        re.search(r'<textarea id="f-content"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    )  # type: ignore[union-attr]
    replayed = client.post(
        f"{detail_path}/replay",
        data={
            "csrf_token": token,
            "content": content.replace("5020436373109", "5020436373108"),
            "reason": "typo",
        },
        follow_redirects=False,
    )
    assert replayed.status_code == 303
    after = client.get(replayed.headers["location"]).text
    assert "accepted" in after and "Open the order" in after
    listing = client.get("/orders/inbox?status=accepted").text
    assert "801715918011" in listing
    order_page = client.get("/orders/1").text
    assert "ORDRSP" in order_page and "UNH+1+ORDRSP:D:96A:UN:EAN005" in html.unescape(order_page)
