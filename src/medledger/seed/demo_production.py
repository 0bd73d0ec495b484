"""The production demo at the Suzhou plant: silicone tubing and pouches in released stock, and
three work orders for Urosoft Foley catheters by their BOM — one completed (its finished lot
in quarantine, its device history record, its TransformationEvent in the ledger), one in
progress and one planned. Everything through the production and inventory services, so
``medledger inventory verify`` holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from medledger.core.principal import Principal
from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.core.work import work_of
from medledger.inventory import service as inventory
from medledger.inventory.schemas import MoveIn, ReceiptIn, StockLineIn
from medledger.production import service as production
from medledger.production.schemas import CompleteIn, StartIn, WorkOrderIn
from medledger.seed.demo import DemoNetwork

SITE = "plant-suzhou"
FINISHED = "urosoft-14"
# (component key, lot, quantity, days to expiry)
COMPONENT_LOTS = (
    ("c-silicone-tube", "SIL{y}01", 200, 600),
    ("c-silicone-tube", "SIL{y}02", 200, 900),
    ("c-pouch", "PCH{y}W1", 600, 1200),
)


@dataclass(frozen=True)
class ProductionSummary:
    work_orders: int
    completed: int


def seed_demo_production(factory: sessionmaker[Session], network: DemoNetwork) -> ProductionSummary:
    """Load the production demo (one unit of work); the site must be managed already."""
    today = datetime.now(UTC).date()
    with system_unit_of_work(factory, label="seed") as session:
        admin = tenant_admin(session, network.tenant_id, label="seed")
        work_of(session).act_as(admin)
        dock = network.locations[f"{SITE}/RCV"].id
        line = network.locations[f"{SITE}/REL"].id
        _components(session, admin, network, dock, line, today)
        gtin = network.products[FINISHED].gtin
        orders = []
        for number, (quantity, lot) in enumerate(((150, "US14"), (120, "US14"), (80, "US14"))):
            orders.append(
                production.create_work_order(
                    session,
                    admin,
                    WorkOrderIn(
                        gtin=gtin,
                        location_id=line,
                        quantity=quantity,
                        lot=f"{lot}{today:%y%m}{number + 1}",
                        expiry=today + timedelta(days=1825),
                        note="demo",
                    ),
                )
            )
        production.start_work_order(
            session, admin, orders[0].id, StartIn(operators=["Zhang Min", "Wang Lei"])
        )
        production.complete_work_order(
            session, admin, orders[0].id, CompleteIn(operators=["Zhang Min"])
        )
        production.start_work_order(session, admin, orders[1].id, StartIn(operators=["Wang Lei"]))
    return ProductionSummary(len(orders), 1)


def _components(
    session: Session,
    admin: Principal,
    network: DemoNetwork,
    dock: int,
    line: int,
    today: date,
) -> None:
    lines = [
        StockLineIn(
            gtin=network.products[key].gtin,
            lot=lot.format(y=f"{today:%y}"),
            quantity=quantity,
            expiry=today + timedelta(days=days),
        )
        for key, lot, quantity, days in COMPONENT_LOTS
    ]
    inventory.receive(session, admin, ReceiptIn(location_id=dock, lines=lines))
    from medledger.seed.demo_inspections import signed_release

    for stock_line in lines:
        # The one way out of quarantine: QA requests the lot release, the approver signs it.
        signed_release(session, network, stock_line.gtin, str(stock_line.lot))
    work_of(session).act_as(admin)
    inventory.move(
        session,
        admin,
        MoveIn(from_location_id=dock, to_location_id=line, lines=lines),
    )
