"""The KPI board: each figure recomputed here from the raw rows and compared exactly, and each
equal to what its drill-down list (and, for on-time, the orders OTIF report) shows."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from medledger.compliance.pdf import font_path
from medledger.core.system import system_unit_of_work
from medledger.inventory.models import ReplenishmentSetting, StockMovement
from medledger.orders.models import Order, OrderLine, ShipTo
from medledger.parties.models import Location
from medledger.trace.models import CustodyHop, EpcisEvent, GenealogyEdge, TraceItem
from tests.analytics.builders import BoardWorld, build_board_world, ok

PERIOD = {"date_from": "2026-07-01", "date_to": datetime.now(UTC).date().isoformat()}


@pytest.fixture
def world(client: TestClient, factory: sessionmaker[Session]) -> BoardWorld:
    return build_board_world(client, factory)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _board(client: TestClient, world: BoardWorld) -> dict[str, dict[str, Any]]:
    board = ok(client.get("/api/v1/analytics/kpis", params=PERIOD, headers=world.sales))
    return {k["key"]: k for k in board["kpis"]}


def _expected_on_time(factory: sessionmaker[Session], today: date) -> dict[str, Any]:
    by_month: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_market: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    with system_unit_of_work(factory) as session:
        for line, region in session.execute(
            select(OrderLine, ShipTo.region)
            .join(Order, Order.id == OrderLine.order_id)
            .join(ShipTo, ShipTo.id == Order.ship_to_id)
        ):
            if line.status == "cancelled" or not (
                line.promised_date < today or line.completed_date is not None
            ):
                continue
            hit = int(line.completed_date is not None and line.completed_date <= line.promised_date)
            for bucket in (by_month[line.promised_date.strftime("%Y-%m")], by_market[region]):
                bucket[0] += hit
                bucket[1] += 1
    return {"by_month": by_month, "by_market": by_market}


def test_order_on_time_rate_equals_raw_lines_and_the_otif_report(
    client: TestClient, factory: sessionmaker[Session], world: BoardWorld
) -> None:
    kpi = _board(client, world)["on_time"]
    expected = _expected_on_time(factory, datetime.now(UTC).date())
    hits = sum(v[0] for v in expected["by_month"].values())
    due = sum(v[1] for v in expected["by_month"].values())
    assert (hits, due) == (1, 4)  # K-1 on time in full; late, short, never delivered
    assert kpi["value"] == round(hits / due, 4) == 0.25
    assert kpi["count"] == due
    trend = {p["month"]: (p["value"], p["count"]) for p in kpi["trend"]}
    for month, (hit, n) in expected["by_month"].items():
        assert trend[month] == (round(hit / n, 4), n)
    assert {r["key"]: (r["value"], r["count"]) for r in kpi["breakdowns"]["market"]} == {
        market: (round(hit / n, 4), n) for market, (hit, n) in expected["by_market"].items()
    }
    # the orders OTIF report counts the same lines
    otif = ok(client.get("/api/v1/orders/otif?group_by=month", headers=world.sales))
    assert {r["key"]["month"]: (r["on_time_in_full"], r["lines_due"]) for r in otif} == {
        m: tuple(v) for m, v in expected["by_month"].items()
    }
    # and the drill-down lists those lines, with the same figure
    records = ok(
        client.get("/api/v1/analytics/kpis/on_time/records", params=PERIOD, headers=world.sales)
    )
    assert sorted(r["link"] for r in records["records"]) == sorted(
        f"/orders/{i}" for i in world.order_ids
    )
    assert records["value"] == kpi["value"]


def test_inspection_time_traceability_turns_and_stock_out_equal_raw_records(
    client: TestClient, factory: sessionmaker[Session], world: BoardWorld
) -> None:
    board = _board(client, world)
    now = datetime.now(UTC)
    with system_unit_of_work(factory) as session:
        movements = list(
            session.scalars(
                select(StockMovement).order_by(StockMovement.occurred_at, StockMovement.id)
            )
        )
        site_of = dict(session.execute(select(Location.id, Location.site_id)).all())
        # inspection time: receipt of the lot → its decision, in days
        received = {}
        for m in movements:
            if m.kind == "receipt":
                received.setdefault((m.gtin, m.lot), _utc(m.occurred_at))
        days = [
            (_utc(m.occurred_at) - received[(m.gtin, m.lot)]).total_seconds() / 86400
            for m in movements
            if m.kind == "status_change" and m.from_status == "quarantine"
        ]
        # traceability: lots first seen in the period, origin recorded and every shipment received
        complete = total = 0
        for item in session.scalars(select(TraceItem).where(TraceItem.kind == "lot")):
            first = session.get(EpcisEvent, item.first_event_id)
            assert first is not None
            if _utc(first.event_time).date() < date.fromisoformat(PERIOD["date_from"]):
                continue
            produced = session.scalars(
                select(GenealogyEdge).where(
                    GenealogyEdge.to_item_id == item.id, GenealogyEdge.kind == "transformation"
                )
            ).first()
            open_hops = [
                h
                for h in session.scalars(select(CustodyHop).where(CustodyHop.item_id == item.id))
                if h.receive_event_row_id is None
                and h.retracted_by_event_id is None
                and (h.to_party_id or h.to_ref)
            ]
            total += 1
            complete += int((item.commissioned or produced is not None) and not open_hops)
        managed = list(session.scalars(select(ReplenishmentSetting)))
        # this month's stock: on hand at month start and now, units shipped, released left
        start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        on_hand_start: dict[tuple[int, str], int] = defaultdict(int)
        on_hand_now: dict[tuple[int, str], int] = defaultdict(int)
        released_now: dict[tuple[int, str], int] = defaultdict(int)
        shipped: dict[tuple[int, str], int] = defaultdict(int)
        for m in movements:
            at = _utc(m.occurred_at)
            for location, sign, status in (
                (m.from_location_id, -1, m.from_status),
                (m.to_location_id, 1, m.to_status),
            ):
                if location is None:
                    continue
                key = (site_of[location], m.gtin)
                if at < start:
                    on_hand_start[key] += sign * m.quantity
                on_hand_now[key] += sign * m.quantity
                if status == "released":
                    released_now[key] += sign * m.quantity
            if m.kind == "ship" and at >= start:
                shipped[(site_of[m.from_location_id], m.gtin)] += m.quantity
    inspection = board["inspection_time"]
    assert inspection["count"] == len(days) == 2
    assert inspection["value"] == round(sum(days) / len(days), 4)
    trace = board["traceability"]
    assert (trace["count"], trace["value"]) == (
        total,
        round(complete / total, 4) if total else None,
    )
    turns = board["inventory_turns"]
    keys = {
        k
        for k in set(on_hand_start) | set(on_hand_now) | set(shipped)
        if (on_hand_start[k] + on_hand_now[k]) / 2 > 0
    }
    averages = sum((on_hand_start[k] + on_hand_now[k]) / 2 for k in keys)
    this_month = now.strftime("%Y-%m")
    point = next(p for p in turns["trend"] if p["month"] == this_month)
    assert point["value"] == round(12 * sum(shipped[k] for k in keys) / averages, 4)
    assert sum(shipped.values()) == 25
    stock_out = board["stock_out"]
    point = next(p for p in stock_out["trend"] if p["month"] == this_month)
    outs = [s for s in managed if released_now[(s.site_id, s.gtin)] <= 0]
    assert (point["count"], point["value"]) == (len(managed), round(len(outs) / len(managed), 4))
    assert len(managed) == 2 and len(outs) == 1  # the chilled product was never received
    # every figure equals its drill-down's over exactly the listed records
    for key, kpi in board.items():
        listed = ok(
            client.get(f"/api/v1/analytics/kpis/{key}/records", params=PERIOD, headers=world.sales)
        )
        assert (listed["value"], len(listed["records"])) == (kpi["value"], kpi["count"]), key
        for dimension, rows in kpi["breakdowns"].items():
            for row in rows:
                group = ok(
                    client.get(
                        f"/api/v1/analytics/kpis/{key}/records",
                        params={**PERIOD, "dimension": dimension, "value": row["key"]},
                        headers=world.sales,
                    )
                )
                assert (group["value"], len(group["records"])) == (row["value"], row["count"])
    # no recall context yet: the board says so
    recall = board["recall_response"]
    assert (recall["value"], recall["count"], recall["note"]) == (None, 0, "No recalls recorded.")


def test_board_page_and_xlsx_export_show_the_same_figures(
    client: TestClient, world: BoardWorld
) -> None:
    board = _board(client, world)
    html = {**world.sales, "Accept": "text/html"}
    page = client.get("/analytics/kpis", params=PERIOD, headers=html)
    assert page.status_code == 200
    assert 'data-kpi="on_time"' in page.text and "25.0 %" in page.text
    export = client.get("/analytics/kpis", params={**PERIOD, "format": "xlsx"}, headers=html)
    assert export.status_code == 200
    book = load_workbook(io.BytesIO(export.content))
    rows = list(book.worksheets[0].iter_rows(min_row=2, values_only=True))
    assert [(r[1], r[3]) for r in rows] == [(k["value"], k["count"]) for k in board.values()]
    # a partner has no KPI board
    response = client.get("/api/v1/analytics/kpis", headers=world.h.w.supplier)
    assert response.status_code == 403


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _shown(value: float | None, unit: str, locale: str) -> str:
    """A figure as the board prints it (views.format_value) in ``locale``."""
    if value is None:
        return "–"
    if unit == "rate":
        return f"{value * 100:.1f} %"
    if unit == "days":
        return f"{value:.1f} d" if locale == "en" else f"{value:.1f} 天"
    if unit == "hours":
        return f"{value:.1f} h" if locale == "en" else f"{value:.1f} 小时"
    return f"{value:.2f}"


@pytest.mark.parametrize("locale", ["en", "zh_Hans"])
def test_the_pdf_export_prints_the_boards_figures_in_the_users_language(
    client: TestClient, world: BoardWorld, locale: str
) -> None:
    if locale == "zh_Hans" and (font_path() is None or "wqy" not in str(font_path())):
        pytest.fail("the CJK font (fonts-wqy-microhei) is part of the test environment")
    board = _board(client, world)
    assert client.patch(
        "/api/v1/me/preferences", json={"locale": locale}, headers=world.sales
    ).is_success
    html = {**world.sales, "Accept": "text/html"}
    export = client.get("/analytics/kpis", params={**PERIOD, "format": "pdf"}, headers=html)
    assert export.status_code == 200
    assert export.headers["content-type"] == "application/pdf"
    text = _pdf_text(export.content)
    lines = text.splitlines()
    title = {"en": "KPI board", "zh_Hans": "KPI 看板"}[locale]
    on_time = {"en": "Order on-time rate", "zh_Hans": "订单准时率"}[locale]
    assert lines[0] == title
    assert on_time in text
    # The summary table: one row per KPI with its value, target and count as the board has them.
    for kpi in board.values():
        value = _shown(kpi["value"], kpi["unit"], locale)
        target = _shown(kpi["target"], kpi["unit"], locale)
        assert f"{value} {target} {kpi['count']}" in text, (kpi["key"], text[:2000])
        for point in kpi["trend"]:
            shown = _shown(point["value"], kpi["unit"], locale)
            assert f"{point['month']} {shown} {point['count']}" in text
