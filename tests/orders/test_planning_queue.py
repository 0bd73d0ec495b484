"""Planning after intake: an order is scored in its intake's transaction and planned after the
commit (orders/planning_queue.py) — by the API server's background planner, right after the
commit for other callers, or by ``medledger plan``."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.core.work import work_of
from medledger.orders import planning_queue, service
from medledger.orders.models import Channel, Order
from medledger.orders.planning_models import LineScore, LineShortfall, Reservation
from medledger.orders.schemas import OrderIn
from tests.orders.builders import STENT, OrderWorld, build_order_world, headers
from tests.orders.planning_builders import _ok, stock_up


def _order(reference: str, quantity: int) -> dict[str, object]:
    return {"customer_reference": reference, "lines": [{"gtin": STENT, "quantity": quantity}]}


def _place_without_planning(
    factory: sessionmaker[Session], world: OrderWorld, reference: str, quantity: int
) -> tuple[int, list[set[int]]]:
    """Place an order as the hub's order desk, with the after-commit planning handed to a
    runner that only records what it was given (as if the process stopped after the commit)."""
    handed: list[set[int]] = []
    with system_unit_of_work(factory) as session:
        admin = tenant_admin(session, world.net.tenant_id)
        work_of(session).act_as(admin)
        planning_queue.defer_to(session, handed.append)
        data = OrderIn.model_validate(
            {**_order(reference, quantity), "customer_id": world.hospital_customer_id}
        )
        order = service.place_order(session, admin, data.to_draft(), channel=Channel.API)
        order_id = order.id
    return order_id, handed


def _state(factory: sessionmaker[Session], order_id: int) -> tuple[str, int, int, int]:
    """(board column, scores, reserved units, shortfall units) of an order."""
    with system_unit_of_work(factory) as session:
        column = session.scalars(select(Order.board_state).where(Order.id == order_id)).one()
        scores = len(session.scalars(select(LineScore).where(LineScore.order_id == order_id)).all())
        reserved = sum(
            r.quantity
            for r in session.scalars(select(Reservation).where(Reservation.order_id == order_id))
        )
        short = sum(
            s.quantity
            for s in session.scalars(
                select(LineShortfall).where(LineShortfall.order_id == order_id)
            )
        )
    return column, scores, reserved, short


def test_intake_scores_the_order_and_leaves_its_planning_for_after_the_commit(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    # given released stock of 5 stents
    world = build_order_world(factory)
    stock_up(client, [(STENT, "S1", 5, "2029-06-30")])
    # when an order for 3 is placed and its after-commit planning is only handed over
    order_id, handed = _place_without_planning(factory, world, "PO-Q1", 3)
    # then it is committed, scored and waiting in "scored", with nothing reserved yet
    assert handed == [{world.net.tenant_id}]
    assert _state(factory, order_id) == ("scored", 1, 0, 0)
    # when the waiting orders of the tenant are planned
    assert planning_queue.drain(factory, {world.net.tenant_id}) == 1
    # then its 3 units are reserved and it is allocated; nothing is left waiting
    assert _state(factory, order_id) == ("allocated", 1, 3, 0)
    assert planning_queue.drain(factory, {world.net.tenant_id}) == 0


def test_an_order_posted_to_the_api_is_planned_by_the_servers_background_planner(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    # given released stock of 5 stents
    build_order_world(factory)
    stock_up(client, [(STENT, "S1", 5, "2029-06-30")])
    # when two orders are posted, for 4 and then 3 units
    first = _ok(
        client.post("/api/v1/orders", json=_order("PO-B1", 4), headers=headers(client, "hospital"))
    )
    second = _ok(
        client.post("/api/v1/orders", json=_order("PO-B2", 3), headers=headers(client, "hospital"))
    )
    # then the background planner (run after each response) reserved what the stock allows
    assert _state(factory, first["id"]) == ("allocated", 1, 4, 0)
    assert _state(factory, second["id"]) == ("backorder", 1, 1, 2)
    plan = _ok(
        client.get(f"/api/v1/orders/{second['id']}/plan", headers=headers(client, "planner"))
    )
    assert [(r["lot"], r["quantity"]) for r in plan["reservations"]] == [("S1", 1)]


def test_a_failed_background_run_leaves_the_order_waiting_for_the_next_one(
    factory: sessionmaker[Session],
    client: TestClient,
    app,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    # given stock, and a background run that fails (the database went away, say)
    build_order_world(factory)
    stock_up(client, [(STENT, "S1", 5, "2029-06-30")])

    def broken(*_args: object) -> int:
        raise RuntimeError("database unavailable")

    monkeypatch.setattr(planning_queue, "drain", broken)
    # when an order is posted: it is accepted, scored and waits
    first = _ok(
        client.post("/api/v1/orders", json=_order("PO-F1", 2), headers=headers(client, "hospital"))
    )
    assert _state(factory, first["id"]) == ("scored", 1, 0, 0)
    monkeypatch.undo()
    # then the next order's run plans both
    second = _ok(
        client.post("/api/v1/orders", json=_order("PO-F2", 2), headers=headers(client, "hospital"))
    )
    assert _state(factory, first["id"]) == ("allocated", 1, 2, 0)
    assert _state(factory, second["id"]) == ("allocated", 1, 2, 0)


@pytest.fixture
def cli_world(
    factory: sessionmaker[Session], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[OrderWorld]:
    from medledger.core.config import get_settings

    built = build_order_world(factory)
    monkeypatch.setenv("MEDLEDGER_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    yield built
    get_settings.cache_clear()


def test_medledger_plan_plans_the_orders_still_waiting(
    cli_world: OrderWorld, factory: sessionmaker[Session], client: TestClient
) -> None:
    # given stock and two orders whose planning never ran
    stock_up(client, [(STENT, "S1", 5, "2029-06-30")])
    first, _ = _place_without_planning(factory, cli_world, "PO-C1", 2)
    second, _ = _place_without_planning(factory, cli_world, "PO-C2", 3)
    # when `medledger plan` runs
    result = CliRunner().invoke(_cli(), ["plan"])
    # then both are planned and allocated in full
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"planned_orders": 2}
    assert _state(factory, first) == ("allocated", 1, 2, 0)
    assert _state(factory, second) == ("allocated", 1, 3, 0)


def _cli():  # type: ignore[no-untyped-def]
    from medledger.cli import app

    return app
