"""Analytics demo data, so the KPI board, the scorecards and the plans show real figures at
first login: delivered orders of the last six months (relative to the day the demo is seeded,
like the stock and purchase orders of :mod:`medledger.seed.demo_inventory`), QA's decision on
the supplier lots waiting in quarantine (accepted, one rejected), and an improvement plan for
the supplier whose NCRs are open, with an action already overdue on each side.

Everything goes through the real services, as the acting users, so it is audited and passes
the same validation as an API call."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from medledger.analytics import plans
from medledger.analytics.schemas import ActionIn, PlanIn
from medledger.core.db import utcnow
from medledger.core.principal import Principal
from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.core.work import work_of
from medledger.inventory import service as inventory
from medledger.inventory.models import StockBalance, StockStatus
from medledger.inventory.schemas import StatusChangeIn
from medledger.orders import service as orders
from medledger.orders.draft import LineDraft, OrderDraft
from medledger.orders.models import Channel, Customer
from medledger.purchasing.models import AdvanceShipNotice, AsnLine
from medledger.quality.models import Capa, Ncr
from medledger.seed.demo import DemoNetwork
from medledger.seed.demo_history import PRODUCTIONS


def seed_demo_analytics(factory: sessionmaker[Session], network: DemoNetwork) -> dict[str, int]:
    """Recent deliveries, inspection decisions and one improvement plan (one transaction)."""
    rng = random.Random(19)
    today = utcnow().date()
    with system_unit_of_work(factory, label="seed") as session:
        admin = tenant_admin(session, network.tenant_id, label="seed")
        work_of(session).act_as(admin)
        delivered = _recent_deliveries(session, admin, network, today, rng)
        decided = _inspection_decisions(session, admin, network)
        plan = _improvement_plan(session, admin, network, today)
    return {"recent_orders": delivered, "inspection_decisions": decided, "plan": plan}


def _recent_deliveries(
    session: Session, admin: Principal, network: DemoNetwork, today: date, rng: random.Random
) -> int:
    """Eight orders due in each of the last six months, most delivered on time and in full."""
    customer_ids: Sequence[int] = session.scalars(
        select(Customer.id).where(Customer.tenant_id == network.tenant_id).order_by(Customer.id)
    ).all()
    if not customer_ids:
        return 0
    count = 0
    for back in range(6, 0, -1):
        month_start = (today.replace(day=1) - timedelta(days=28 * back)).replace(day=1)
        for k in range(8):
            product = network.products[PRODUCTIONS[(back + k) % len(PRODUCTIONS)].product_key]
            order_date = month_start + timedelta(days=k)
            requested = order_date + timedelta(days=10)
            quantity = rng.randint(2, 10)
            order = orders.place_order(
                session,
                admin,
                OrderDraft(
                    customer_reference=f"R-{month_start:%y%m}-{k:02d}",
                    customer_id=customer_ids[(back * 3 + k) % len(customer_ids)],
                    order_date=order_date,
                    lines=[
                        LineDraft(
                            line_number=1,
                            path="lines.0",
                            gtin=product.gtin,
                            quantity=quantity,
                            requested_delivery_date=requested,
                        )
                    ],
                ),
                channel=Channel.UI,
            )
            [line] = orders.order_lines(session, order)
            roll = rng.random()
            late = 0 if roll < 0.8 else rng.randint(1, 5)
            orders.record_delivery(
                session,
                admin,
                line.id,
                delivered_on=min(line.promised_date + timedelta(days=late), today),
                quantity=quantity if roll < 0.92 else quantity - 1,
                reference=f"POD-R-{order.id}",
            )
            count += 1
    return count


def _inspection_decisions(session: Session, admin: Principal, network: DemoNetwork) -> int:
    """QA decides the supplier lots in quarantine: all accepted but the last one."""
    announced = {
        (gtin, lot)
        for gtin, lot in session.execute(
            select(AsnLine.gtin, AsnLine.lot)
            .join(AdvanceShipNotice, AdvanceShipNotice.id == AsnLine.asn_id)
            .where(AdvanceShipNotice.tenant_id == network.tenant_id)
        )
    }
    waiting = sorted(
        {
            (gtin, lot)
            for gtin, lot in session.execute(
                select(StockBalance.gtin, StockBalance.lot)
                .where(StockBalance.tenant_id == network.tenant_id)
                .where(StockBalance.status == StockStatus.QUARANTINE.value)
                .where(StockBalance.quantity > 0)
            )
            if (gtin, lot) in announced
        }
    )
    from medledger.seed.demo_inspections import signed_release

    for n, (gtin, lot) in enumerate(waiting):
        if n == len(waiting) - 1 and len(waiting) > 1:
            inventory.change_status(
                session,
                admin,
                StatusChangeIn(
                    action="reject",
                    gtin=gtin,
                    lot=lot,
                    reason="Incoming inspection: dimensions out of tolerance",
                ),
            )
        else:  # the one way out of quarantine: a signed lot release
            signed_release(
                session,
                network,
                gtin,
                lot,
                "Incoming inspection passed, certificate of analysis reviewed",
            )
            work_of(session).act_as(admin)
    return len(waiting)


def _improvement_plan(session: Session, admin: Principal, network: DemoNetwork, today: date) -> int:
    supplier = network.parties["supplier-alloys"].id
    ncrs = session.scalars(
        select(Ncr.id).where(Ncr.supplier_party_id == supplier).order_by(Ncr.id)
    ).all()
    capas = session.scalars(
        select(Capa.id).where(Capa.supplier_party_id == supplier).order_by(Capa.id)
    ).all()
    plan = plans.create_plan(
        session,
        admin,
        PlanIn(
            supplier_party_id=supplier,
            title="Heat-treatment capability",
            goal="No critical NCR and incoming acceptance at 98 % or better for three months.",
            due_date=today + timedelta(days=90),
            ncr_ids=list(ncrs),
            capa_ids=list(capas),
            actions=[
                ActionIn(
                    description="Furnace temperature uniformity survey with the report",
                    side="supplier",
                    owner_name="Wang Lei",
                    due_date=today - timedelta(days=3),
                ),
                ActionIn(
                    description="Tightened incoming inspection on hardness for 10 lots",
                    side="hub",
                    owner_name="Siobhan Murphy",
                    due_date=today - timedelta(days=1),
                ),
                ActionIn(
                    description="Joint process audit at the supplier",
                    side="hub",
                    owner_name="Siobhan Murphy",
                    due_date=today + timedelta(days=30),
                ),
            ],
        ),
    )
    return plan.id
