"""The production demo: three work orders at the Suzhou plant, one completed with its device
history record, and stock that still agrees with the ledger."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.system import system_unit_of_work
from medledger.inventory.verify import verify
from medledger.production.models import WorkOrder, WorkOrderComponent
from medledger.seed.demo import build_demo_network
from medledger.seed.demo_inventory import seed_demo_inventory
from medledger.seed.demo_production import seed_demo_production


def test_demo_production(factory: sessionmaker[Session]) -> None:
    network = build_demo_network(factory)
    seed_demo_inventory(factory, network)
    summary = seed_demo_production(factory, network)
    assert (summary.work_orders, summary.completed) == (3, 1)
    with system_unit_of_work(factory) as session:
        statuses = Counter(session.scalars(select(WorkOrder.status)))
        consumed = sorted(
            (c.lot[:3], c.quantity) for c in session.scalars(select(WorkOrderComponent))
        )
        report = verify(session, network.tenant_id)
    assert statuses == Counter({"completed": 1, "in_progress": 1, "planned": 1})
    # 150 catheters: 0.45 m of tubing each (67.5 → 68) and a pouch, first expiry first out
    # (the inventory demo's near-expiry pouch lot goes first)
    assert consumed == [("C-P", 150), ("SIL", 68)]
    assert report.ok, (report.balance_differences, report.ledger_differences)
