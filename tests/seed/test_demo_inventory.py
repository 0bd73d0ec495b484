"""The inventory demo: stock at three managed sites (quarantined and near-expiry lots among
it), demand history, open purchase orders and ASNs — and stock that agrees with the ledger."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.inventory import service
from medledger.inventory.models import InventorySite, StockMovement
from medledger.inventory.verify import verify
from medledger.purchasing.models import AdvanceShipNotice, PurchaseOrder, ReceiptDiscrepancy
from medledger.seed.demo import build_demo_network
from medledger.seed.demo_inventory import (
    AMBIENT_GOODS,
    CHILLED_GOODS,
    COMPONENTS,
    seed_demo_inventory,
)


def test_demo_inventory(factory: sessionmaker[Session]) -> None:
    network = build_demo_network(factory)
    summary = seed_demo_inventory(factory, network)
    products = len(AMBIENT_GOODS) + len(CHILLED_GOODS) + len(COMPONENTS)
    assert (summary.sites, summary.lots, summary.purchase_orders, summary.asns) == (
        3,
        3 * products,
        3,
        2,
    )
    with system_unit_of_work(factory) as session:
        admin = tenant_admin(session, network.tenant_id)
        rows = service.stock(session, admin)
        assert len(session.scalars(select(InventorySite)).all()) == 3
        report = verify(session, network.tenant_id)
        kinds = Counter(session.scalars(select(StockMovement.kind)))
        orders = Counter(session.scalars(select(PurchaseOrder.status)))
        asns = Counter(session.scalars(select(AdvanceShipNotice.status)))
        short = session.scalars(select(ReceiptDiscrepancy)).all()
    assert report.ok and report.events_replayed > 0
    # One quarantined lot per product still at the dock (+ the partly received component lot)
    quarantined = {r.lot for r in rows if r.status == "quarantine"}
    assert len(quarantined) == products + 1
    # Near-expiry lots (30 days) for every other product, none expired
    near = {r.lot for r in rows if r.near_expiry}
    assert (
        len(near)
        == (len(AMBIENT_GOODS) + 1) // 2
        + (len(CHILLED_GOODS) + 1) // 2
        + (len(COMPONENTS) + 1) // 2
    )
    assert not any(r.expired for r in rows)
    assert all(
        r.expiry and r.expiry <= date.today() + timedelta(days=31) for r in rows if r.near_expiry
    )
    assert kinds["receipt"] == 3 * products + 1 and kinds["ship"] > 50
    assert orders == Counter({"sent": 1, "confirmed": 1, "partially_received": 1})
    assert asns == Counter({"open": 2}) and short == []
