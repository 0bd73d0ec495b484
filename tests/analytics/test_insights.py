"""Forecasts and control charts over recorded history, through the API: the forecast's
figures are the engine's on the order history read here, replenishment's reorder levels use
them, and the control chart plots each lot's measured value with its signals' links."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from medledger.analytics.forecast import forecast
from medledger.analytics.periods import add_months, first_day, month_of
from medledger.core.system import system_unit_of_work
from medledger.inventory.models import StockMovement
from tests.analytics.builders import BoardWorld, build_board_world, ok
from tests.inventory.builders import AMBIENT_GTIN


def _order_history(client: TestClient, world: BoardWorld, months: int = 15) -> list[float]:
    """One order a month for the past ``months`` months, seasonal quantities."""
    customer = ok(client.get("/api/v1/customers", headers=world.sales))["items"][0]["id"]
    this_month = month_of(datetime.now(UTC))
    quantities = []
    for k in range(months, 0, -1):
        month = add_months(this_month, -k)
        quantity = 100 + 10 * (k % 4)
        quantities.append(quantity)
        ok(
            client.post(
                "/api/v1/orders",
                json={
                    "customer_id": customer,
                    "customer_reference": f"H-{month}",
                    "order_date": f"{month}-01",
                    "requested_delivery_date": f"{month}-15",
                    "lines": [{"gtin": AMBIENT_GTIN, "quantity": quantity}],
                },
                headers=world.sales,
            ),
            201,
        )
    return quantities


def test_forecast_is_the_engines_on_the_order_history_and_feeds_reorder_levels(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    world = build_board_world(client, factory)
    monthly = _order_history(client, world)
    # the board world's November orders fall into the same series (10 units each, 4 lines)
    history = ok(
        client.get(
            "/api/v1/analytics/forecasts", params={"gtin": AMBIENT_GTIN}, headers=world.sales
        )
    )
    assert [(f["gtin"], f["region"]) for f in history] == [(AMBIENT_GTIN, "CN")]
    found = history[0]
    series = [p["units"] for p in found["history"]]
    november = month_of(date(2026, 11, 1))
    expected = list(map(float, monthly))
    months = [p["month"] for p in found["history"]]
    if november in months:
        expected[months.index(november)] += 40
    assert series == expected
    engine = forecast(series, 3)
    assert [p["units"] for p in found["forecast"]] == engine.values
    assert found["method"] == engine.method == "holt"
    assert engine.backtest is not None
    assert found["backtest"]["mape"] == engine.backtest.mape
    assert found["backtest"]["naive_mape"] == engine.backtest.naive_mape
    # replenishment's reorder levels follow the forecast (a year of history or more)
    w = world.h.w
    suggestions = ok(
        client.post(
            "/api/v1/replenishment/suggestions", json={"site_id": w.site_id}, headers=w.purchasing
        )
    )
    ambient = next(s for s in suggestions if s["gtin"] == AMBIENT_GTIN)
    today = datetime.now(UTC).date()
    days = (first_day(add_months(month_of(today), 1)) - first_day(month_of(today))).days
    next_month = forecast(series, 1)
    mean = next_month.values[0] / days
    assert next_month.backtest is not None and next_month.backtest.rmse is not None
    sigma = next_month.backtest.rmse / math.sqrt(days)
    lead = ambient["lead_time_days"]
    safety = math.ceil(round(1.645 * sigma * math.sqrt(lead), 9))
    assert ambient["mean_daily_demand"] == round(mean, 4)
    assert (ambient["safety_stock"], ambient["reorder_point"]) == (
        safety,
        math.ceil(round(mean * lead, 9)) + safety,
    )


def test_control_chart_plots_each_lots_inspection_time(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    world = build_board_world(client, factory)
    chart = ok(
        client.get(
            "/api/v1/analytics/spc",
            params={"characteristic": "inspection_time"},
            headers=world.sales,
        )
    )
    with system_unit_of_work(factory) as session:
        movements = list(session.scalars(select(StockMovement).order_by(StockMovement.id)))
    received = {(m.gtin, m.lot): m.occurred_at for m in movements if m.kind == "receipt"}
    days = {
        m.lot: round((m.occurred_at - received[(m.gtin, m.lot)]).total_seconds() / 86400, 3)
        for m in movements
        if m.kind == "status_change" and m.from_status == "quarantine"
    }
    assert chart["kind"] == "individuals"
    assert {p["lot"]: p["value"] for p in chart["points"]} == days
    assert chart["centre"] == round(sum(days.values()) / 2, 4)
    assert all(p["trace_link"].startswith("/trace?id=") for p in chart["points"])
    page = client.get(
        "/analytics/spc?characteristic=inspection_time",
        headers={**world.sales, "Accept": "text/html"},
    )
    assert page.status_code == 200 and "L-GOOD" in page.text
    # a partner has no control charts; an unknown characteristic is a field error
    assert client.get("/api/v1/analytics/spc", headers=w_supplier(world)).status_code == 403
    bad = client.get("/api/v1/analytics/spc", params={"characteristic": "x"}, headers=world.sales)
    assert bad.status_code == 422


def w_supplier(world: BoardWorld) -> dict[str, str]:
    return world.h.w.supplier
