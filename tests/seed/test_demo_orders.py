"""The demo order book: customers, contracts, a tender, a delivered year and an open backlog
from every channel with real scarcity, EDI through the real intake."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from medledger.compliance.audit import verify_chain
from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.orders import otif
from medledger.orders.models import (
    Acknowledgement,
    Contract,
    Customer,
    InboundMessage,
    Order,
    OrderLine,
    TenderLine,
)
from medledger.seed.demo import build_demo_network
from medledger.seed.demo_history import PRODUCTIONS
from medledger.seed.demo_orders import seed_demo_orders


def test_demo_order_book(factory: sessionmaker[Session], engine: Engine) -> None:
    network = build_demo_network(factory)
    summary = seed_demo_orders(factory, network)
    assert (summary.customers, summary.delivered_orders, summary.inbox_failed) == (35, 120, 2)
    assert summary.open_orders >= 300
    with system_unit_of_work(factory) as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 35
        assert session.scalar(select(func.count()).select_from(Contract)) == 35
        channels = Counter(session.scalars(select(Order.channel).where(Order.status == "open")))
        assert set(channels) == {"ui", "api", "csv", "edifact", "x12"}
        assert sum(channels.values()) == summary.open_orders
        # demand against a month of output: the scarce products are over-ordered
        open_units = dict(
            session.execute(
                select(OrderLine.gtin, func.sum(OrderLine.quantity))
                .where(OrderLine.status == "open")
                .group_by(OrderLine.gtin)
            ).all()
        )
        monthly = {p.product_key: (p.units[0] + p.units[1]) // 2 for p in PRODUCTIONS}
        for key in ("vela-3018", "aortis-23", "glide-3015"):
            assert open_units[network.products[key].gtin] > 1.5 * 2 * monthly[key]
        assert open_units[network.products["vela-2515"].gtin] >= 40  # not made at all
        tender = session.execute(
            select(TenderLine.called_off_quantity, TenderLine.committed_quantity)
        ).all()
        assert sum(used for used, _ in tender) > 0
        assert all(used <= committed for used, committed in tender)
        inbox = Counter(session.scalars(select(InboundMessage.status)))
        assert inbox == {"accepted": 5, "failed": 2}
        assert session.scalar(select(func.count()).select_from(Acknowledgement)) == 5
        rows = otif.otif(
            session, tenant_admin(session, network.tenant_id), group_by=["month"], as_of=date_2026()
        )
        assert [r.key["month"] for r in rows][:12] == [f"2025-{m:02d}" for m in range(1, 13)]
        # ten delivered orders a month; December also holds backlog lines already overdue
        assert [r.lines_due for r in rows[:11]] == [10] * 11
        assert rows[11].lines_due > 10
        assert 0.5 < sum(r.on_time_in_full for r in rows[:11]) / 110 < 0.95
        # every open line is scored and planned: with no stock seeded here, all of it is short
        from medledger.orders.planning_models import LineScore, LineShortfall

        open_lines = session.scalar(
            select(func.count())
            .select_from(OrderLine)
            .where(OrderLine.status.in_(("open", "partially_delivered")))
        )
        assert session.scalar(select(func.count()).select_from(LineScore)) == open_lines
        assert session.scalar(select(func.count()).select_from(LineShortfall)) == open_lines
        columns = Counter(session.scalars(select(Order.board_state).where(Order.status == "open")))
        assert set(columns) <= {"backorder", "compliance", "qc_hold"}
        delivered = Counter(
            session.scalars(select(Order.board_state).where(Order.status == "delivered"))
        )
        assert set(delivered) == {"delivered"}
    with engine.connect() as conn:
        assert verify_chain(conn, network.tenant_id).ok


def date_2026():  # type: ignore[no-untyped-def]
    from medledger.seed.demo_orders import DEMO_TODAY

    return DEMO_TODAY
