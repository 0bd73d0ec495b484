"""Lots and opening stock through the imports toolkit: dry run, rejected rows kept with their
errors, corrected and replayed; opening stock enters through inventory's own movements (an
EPCIS receiving event, then its status), so the ledger and the stock agree."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.system import system_unit_of_work
from medledger.inventory.models import InventoryLot, StockMovement
from medledger.inventory.verify import verify
from medledger.trace.models import EpcisEvent
from tests.builders import gtin
from tests.inventory.builders import AMBIENT_GTIN, CHILLED_GTIN, build_warehouse, stock


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def _upload(
    client: TestClient, headers: dict[str, str], entity: str, content: bytes, **form: str
) -> Any:
    response = client.post(
        "/api/v1/imports",
        files={"file": (f"{entity}.csv", content, "text/csv")},
        data={"entity": entity, **form},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


def _counts(factory: sessionmaker[Session]) -> tuple[int, ...]:
    with system_unit_of_work(factory) as session:
        return tuple(
            int(session.scalar(select(func.count()).select_from(m)) or 0)
            for m in (InventoryLot, StockMovement, EpcisEvent)
        )


def test_lots_import_with_a_dry_run_and_a_replayed_row(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    w = build_warehouse(client, factory, "il")
    expiry = (date.today() + timedelta(days=400)).isoformat()
    content = _csv(
        ["gtin", "lot", "expiry"],
        [
            [AMBIENT_GTIN, "LOT-A", expiry],
            [AMBIENT_GTIN, "LOT-A", expiry],  # the same lot twice in the file
            [gtin(999), "LOT-X", expiry],  # no such product
            [CHILLED_GTIN, "LOT-C", "31/12/2027"],  # not a date
        ],
    )
    before = _counts(factory)
    dry = _upload(client, w.admin, "lots", content, dry_run="true")
    assert (dry["accepted_rows"], dry["rejected_rows"]) == (1, 3)
    assert dry["rule_counts"] == {
        "date_from_datetime_parsing": 1,
        "import.duplicate_in_file": 1,
        "inventory.unknown_product": 1,
    }
    assert _counts(factory) == before
    run = _upload(client, w.admin, "lots", content)
    assert (run["accepted_rows"], run["rejected_rows"]) == (1, 3)
    rows = client.get(f"/api/v1/imports/{run['id']}/rows", headers=w.admin).json()["items"]
    assert [(r["row_number"], r["errors"][0]["field"]) for r in rows] == [
        (3, "gtin"),
        (4, "gtin"),
        (5, "expiry"),
    ]
    # Correct the date and replay that row
    bad_date = rows[2]
    fixed = client.patch(
        f"/api/v1/imports/{run['id']}/rows/{bad_date['id']}",
        json={"values": {**bad_date["values"], "expiry": "2027-12-31"}},
        headers=w.admin,
    )
    assert fixed.status_code == 200, fixed.text
    replay = client.post(f"/api/v1/imports/{run['id']}/replay", headers=w.admin)
    assert replay.status_code == 200, replay.text
    with system_unit_of_work(factory) as session:
        lots = {(lot.gtin, lot.lot): lot.expiry for lot in session.scalars(select(InventoryLot))}
    assert lots == {
        (AMBIENT_GTIN, "LOT-A"): date.fromisoformat(expiry),
        (CHILLED_GTIN, "LOT-C"): date(2027, 12, 31),
    }
    # Importing a lot that exists is refused (kept in the inbox)
    again = _upload(client, w.admin, "lots", _csv(["gtin", "lot"], [[AMBIENT_GTIN, "LOT-A"]]))
    assert again["rule_counts"] == {"inventory.lot_exists": 1}


def test_opening_stock_moves_stock_through_the_ledger(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    w = build_warehouse(client, factory, "io")
    expiry = (date.today() + timedelta(days=300)).isoformat()
    header = ["site_gln", "location_code", "gtin", "lot", "serial", "quantity", "expiry", "status"]
    content = _csv(
        header,
        [
            [w.site_gln, "A1", AMBIENT_GTIN, "OS-1", "", "40", expiry, "released"],
            [w.site_gln, "A1", AMBIENT_GTIN, "OS-2", "", "5", expiry, "on_hold"],
            [w.site_gln, "DOCK", AMBIENT_GTIN, "OS-3", "", "7", "", "quarantine"],
            [w.site_gln, "A1", AMBIENT_GTIN, "OS-1", "", "1", "", "released"],  # duplicate
            [w.site_gln, "NOPE", AMBIENT_GTIN, "OS-4", "", "1", "", ""],  # no such location
            [w.site_gln, "A1", CHILLED_GTIN, "OS-5", "", "3", "", "released"],  # wrong storage
            [w.site_gln, "A1", AMBIENT_GTIN, "OS-6", "", "0", "", "released"],  # quantity
        ],
    )
    before = _counts(factory)
    dry = _upload(client, w.admin, "opening_stock", content, dry_run="true")
    assert (dry["accepted_rows"], dry["rejected_rows"]) == (3, 4)
    assert _counts(factory) == before
    assert stock(client, w) == []
    run = _upload(client, w.admin, "opening_stock", content)
    assert (run["accepted_rows"], run["rejected_rows"]) == (3, 4)
    assert run["rule_counts"] == {
        "greater_than_equal": 1,
        "import.duplicate_in_file": 1,
        "import.unknown_reference": 1,
        "inventory.storage_class_mismatch": 1,
    }
    assert stock(client, w) == [
        ("A1", "OS-1", "", "released", 40),
        ("A1", "OS-2", "", "on_hold", 5),
        ("DOCK", "OS-3", "", "quarantine", 7),
    ]
    rows = client.get(f"/api/v1/imports/{run['id']}/rows", headers=w.admin).json()["items"]
    assert [(r["row_number"], r["errors"][0]["field"]) for r in rows] == [
        (5, "site_gln"),
        (6, "location_code"),
        (7, "location_code"),
        (8, "quantity"),
    ]
    # Correct the storage-class row to the chilled location and replay it
    chilled = rows[2]
    client.patch(
        f"/api/v1/imports/{run['id']}/rows/{chilled['id']}",
        json={"values": {**chilled["values"], "location_code": "C1"}},
        headers=w.admin,
    ).raise_for_status()
    replay = client.post(
        f"/api/v1/imports/{run['id']}/replay",
        json={"row_ids": [chilled["id"]]},
        headers=w.admin,
    )
    assert replay.status_code == 200, replay.text
    assert ("C1", "OS-5", "", "released", 3) in stock(client, w)
    # Each row is one EPCIS receiving event; the ledger and the stock agree
    with system_unit_of_work(factory) as session:
        report = verify(session, w.network.tenant_id)
        events = session.scalar(
            select(func.count()).select_from(EpcisEvent).where(EpcisEvent.biz_step == "receiving")
        )
    assert report.ok, (report.balance_differences, report.ledger_differences)
    assert events == 4
    # The warehouse role may import quarantined opening stock, not released stock
    denied = _upload(
        client,
        w.warehouse,
        "opening_stock",
        _csv(header, [[w.site_gln, "A1", AMBIENT_GTIN, "OS-9", "", "1", "", "released"]]),
    )
    assert denied["rule_counts"] == {"permission_denied": 1}
