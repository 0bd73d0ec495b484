"""Demo order book: customers with contracts, a tender, a year of delivered orders (for OTIF)
and a backlog of several hundred open orders from every channel, with real scarcity.

The demo is set at the start of January 2026, right after the EPCIS history of 2025: the
backlog asks for delivery in January and February 2026. Demand is sized against what the
plants make in a month (:data:`medledger.seed.demo_history.PRODUCTIONS`): the Vela stent, the
Aortis valve and the Glide catheter are ordered at about twice what is made in the two months,
the others at about half, and three finished products that are not made at all (Vela 2.5 mm,
Aortis 26 mm, Strata size 5) are ordered anyway, so the allocation engine has shortages to
explain. A handful of EDIFACT and X12 messages go through the real intake (with
acknowledgements), two of them failing into the inbox. Everything is deterministic (a fixed
random seed, no dependence on today's date).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from medledger.core.principal import Principal
from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.core.work import work_of
from medledger.orders import customers, intake, planning, service
from medledger.orders.draft import LineDraft, OrderDraft
from medledger.orders.models import Channel, CustomerTier
from medledger.orders.schemas import ContractIn, CustomerIn, ShipToIn, TenderIn, TenderLineIn
from medledger.seed.demo import DemoNetwork
from medledger.seed.demo_history import PRODUCTIONS

DEMO_TODAY = date(2026, 1, 5)
_SEED = 20260105
# Units a backlog asks for, as a share of one month's production.
SCARCE = {"vela-3018": 2.2, "aortis-23": 1.9, "glide-3015": 2.0}
AMPLE_SHARE = 0.5
UNMADE = {"vela-2515": 40, "aortis-26": 25, "strata-5": 20}
# The backlog covers two months of deliveries (January and February 2026).
HORIZON_MONTHS = 2
_CHANNELS = (Channel.UI, Channel.API, Channel.CSV, Channel.EDIFACT, Channel.X12)
_STRATEGIC = {"hosp-us-01", "hosp-eu-04", "hosp-cn-05", "hosp-eu-01"}


@dataclass(frozen=True)
class DemoOrdersSummary:
    customers: int
    open_orders: int
    delivered_orders: int
    inbox_failed: int


def _monthly_output() -> dict[str, int]:
    return {p.product_key: (p.units[0] + p.units[1]) // 2 for p in PRODUCTIONS}


def seed_demo_orders(factory: sessionmaker[Session], network: DemoNetwork) -> DemoOrdersSummary:
    """Load the demo order book (one transaction for master data and history, one for the
    backlog, one for the EDI messages)."""
    rng = random.Random(_SEED)
    with system_unit_of_work(factory, label="seed") as session:
        admin = tenant_admin(session, network.tenant_id, label="seed")
        work_of(session).act_as(admin)
        customer_ids = _customers(session, admin, network)
        delivered = _delivered_history(session, admin, network, customer_ids, rng)
    with system_unit_of_work(factory, label="seed") as session:
        admin = tenant_admin(session, network.tenant_id, label="seed")
        work_of(session).act_as(admin)
        open_orders = _backlog(session, admin, network, customer_ids, rng)
    with system_unit_of_work(factory, label="seed") as session:
        admin = tenant_admin(session, network.tenant_id, label="seed")
        work_of(session).act_as(admin)
        accepted, failed = _edi_messages(session, admin, network)
    with system_unit_of_work(factory, label="seed") as session:
        admin = tenant_admin(session, network.tenant_id, label="seed")
        work_of(session).act_as(admin)
        work_of(session).give_reason("demo: allocate the backlog by priority")
        # Intake planned each order as it came (first come, first served); the demo book is
        # allocated once more by score, as a planner's first run would.
        planning.replan_from_scratch(session, network.tenant_id)
    return DemoOrdersSummary(len(customer_ids), open_orders + accepted, delivered, failed)


def _customers(session: Session, admin: Principal, network: DemoNetwork) -> dict[str, int]:
    ids: dict[str, int] = {}
    buyers = network.parties_with_role("distributor") + network.parties_with_role("hospital")
    for index, party in enumerate(buyers):
        distributor = "distributor" in party.roles
        tier = (
            CustomerTier.KEY
            if distributor
            else CustomerTier.STRATEGIC
            if party.key in _STRATEGIC
            else CustomerTier.STANDARD
        )
        currency = {"US": "USD", "CN": "CNY"}.get(party.region, "EUR")
        sender_ids = {"edifact": f"14:{party.gln}"}
        if party.region == "US":
            sender_ids["x12"] = f"01:{party.gln[:9]}"
        customer = customers.create_customer(
            session,
            admin,
            CustomerIn(party_id=party.id, tier=tier, currency=currency, edi_sender_ids=sender_ids),
        )
        ids[party.key] = customer.id
        for number, site in enumerate(network.sites_of(party.key), start=1):
            cold = bool(network.locations_of(site.key, storage_class="chilled_2_8"))
            customers.add_ship_to(
                session,
                admin,
                customer.id,
                ShipToIn(
                    code=f"S{number}",
                    name=site.name,
                    gln=site.gln,
                    country=site.country,
                    region=party.region,
                    cold_chain_capable=cold,
                    is_default=number == 1,
                ),
            )
        customers.add_contract(
            session,
            admin,
            customer.id,
            ContractIn(
                number=f"MSA-{party.region}-{index + 1:03d}",
                valid_from=date(2025, 1, 1),
                valid_until=date(2027, 12, 31),
                service_level_days=5
                if distributor
                else (2 if tier == CustomerTier.STRATEGIC else 3),
                penalty_per_day_late=Decimal("250.00")
                if tier == CustomerTier.STRATEGIC
                else Decimal("40.00"),
                currency=currency,
                min_remaining_shelf_life_days=270 if distributor else 180,
            ),
        )
    # A volume-based procurement award in China, called off month by month.
    cn = network.parties["dist-cn-east"]
    customers.create_tender(
        session,
        admin,
        ids[cn.key],
        TenderIn(
            reference="CN-VBP-2025-017",
            valid_from=date(2025, 7, 1),
            valid_until=date(2026, 6, 30),
            lines=[
                TenderLineIn(
                    gtin=network.products["glide-3015"].gtin,
                    committed_quantity=1800,
                    unit_price=Decimal("68.00"),
                ),
                TenderLineIn(
                    gtin=network.products["vela-3018"].gtin,
                    committed_quantity=90,
                    unit_price=Decimal("4200.00"),
                ),
            ],
        ),
    )
    return ids


def _price(product_key: str) -> Decimal:
    base = {"vela": 5200, "aortis": 21000, "strata": 3600, "glide": 95, "ctni": 640, "urosoft": 9}
    return Decimal(base.get(product_key.split("-")[0], 120))


def _draft(
    reference: str,
    customer_id: int,
    order_date: date,
    lines: list[tuple[str, int, date | None]],
    *,
    tender: str | None = None,
) -> OrderDraft:
    return OrderDraft(
        customer_reference=reference,
        customer_id=customer_id,
        order_date=order_date,
        tender_reference=tender,
        lines=[
            LineDraft(
                line_number=n,
                path=f"lines.{n - 1}",
                gtin=gtin,
                quantity=quantity,
                surgery_date=surgery,
                requested_delivery_date=(surgery - timedelta(days=2)) if surgery else None,
            )
            for n, (gtin, quantity, surgery) in enumerate(lines, start=1)
        ],
    )


def _delivered_history(
    session: Session,
    admin: Principal,
    network: DemoNetwork,
    customer_ids: dict[str, int],
    rng: random.Random,
) -> int:
    """Orders of 2025, delivered (mostly on time and in full), so OTIF has a trend."""
    keys = sorted(customer_ids)
    count = 0
    for month in range(1, 13):
        for k in range(10):
            party_key = keys[(month * 7 + k * 3) % len(keys)]
            product = network.products[PRODUCTIONS[(month + k) % len(PRODUCTIONS)].product_key]
            order_date = date(2025, month, 3 + k)
            quantity = rng.randint(2, 12)
            order = service.place_order(
                session,
                admin,
                _draft(
                    f"H25-{month:02d}-{k:02d}",
                    customer_ids[party_key],
                    order_date,
                    [(product.gtin, quantity, None)],
                ),
                channel=_CHANNELS[(month + k) % len(_CHANNELS)],
            )
            [line] = service.order_lines(session, order)
            roll = rng.random()
            late = 0 if roll < 0.78 else rng.randint(1, 6)
            delivered = quantity if roll < 0.9 else quantity - 1
            service.record_delivery(
                session,
                admin,
                line.id,
                delivered_on=line.promised_date + timedelta(days=late),
                quantity=delivered,
                reference=f"POD-{order.id}",
            )
            count += 1
    return count


def _backlog(
    session: Session,
    admin: Principal,
    network: DemoNetwork,
    customer_ids: dict[str, int],
    rng: random.Random,
) -> int:
    """Open orders for January and February 2026, demand sized against monthly output."""
    output = _monthly_output()
    demand: dict[str, int] = {}
    for key, units in output.items():
        share = SCARCE.get(key, AMPLE_SHARE)
        demand[key] = max(4, int(units * share * HORIZON_MONTHS))
    demand.update(UNMADE)
    buyers = sorted(customer_ids)
    hospitals = [k for k in buyers if k.startswith("hosp-")]
    orders = 0
    serial = 0
    for product_key, total in sorted(demand.items()):
        product = network.products[product_key]
        implant = product.tracking_level == "serial"
        remaining = total
        while remaining > 0:
            serial += 1
            buyer = buyers[rng.randrange(len(buyers))]
            if implant and rng.random() < 0.6:
                buyer = hospitals[rng.randrange(len(hospitals))]
            if product_key in ("glide-3015", "vela-3018") and serial % 5 == 0:
                buyer = "dist-cn-east"  # call-offs against the volume-based award
            ceiling = 3 if implant else max(6, total // 40)
            quantity = min(remaining, rng.randint(1, ceiling))
            remaining -= quantity
            order_date = DEMO_TODAY - timedelta(days=rng.randint(0, 20))
            surgery = (
                DEMO_TODAY + timedelta(days=rng.randint(3, 40))
                if implant and buyer.startswith("hosp-") and rng.random() < 0.7
                else None
            )
            tender = None
            if buyer == "dist-cn-east" and product_key in ("glide-3015", "vela-3018"):
                tender = "CN-VBP-2025-017"
            service.place_order(
                session,
                admin,
                _draft(
                    f"B26-{serial:04d}",
                    customer_ids[buyer],
                    order_date,
                    [(product.gtin, quantity, surgery)],
                    tender=tender,
                ),
                channel=_CHANNELS[serial % len(_CHANNELS)],
            )
            orders += 1
    return orders


def _edi_messages(session: Session, admin: Principal, network: DemoNetwork) -> tuple[int, int]:
    """A few orders received as EDI through the real intake (acknowledged), two of them bad."""
    hub = network.hub.gln
    accepted = failed = 0
    eu = [p for p in network.parties_with_role("hospital") if p.region == "EU"][:4]
    glide = network.products["glide-3015"].gtin
    ctni = network.products["ctni-reagent"].gtin
    for index, party in enumerate(eu):
        gtin = glide if index != 3 else glide[:-1] + str((int(glide[-1]) + 1) % 10)  # a typo
        site = network.sites_of(party.key)[0]
        content = (
            "UNA:+.? '\n"
            f"UNB+UNOC:3+{party.gln}:14+{hub}:14+260105:0900+EDI{index:04d}'\n"
            "UNH+1+ORDERS:D:96A:UN:EAN008'\n"
            f"BGM+220+E26-{index:04d}+9'\n"
            "DTM+137:20260105:102'\n"
            f"DTM+2:202601{12 + index:02d}:102'\n"
            f"NAD+BY+{party.gln}::9'\n"
            f"NAD+SU+{hub}::9'\n"
            f"NAD+DP+{site.gln}::9'\n"
            f"LIN+1++{gtin[1:]}:EN'\n"
            f"QTY+21:{10 + 5 * index}'\n"
            f"LIN+2++{ctni[1:]}:EN'\n"
            "QTY+21:4'\n"
            "UNS+S'\n"
            "UNT+14+1'\n"
            f"UNZ+1+EDI{index:04d}'\n"
        )
        for row in intake.import_edi(session, admin, content, filename=f"eancom-{index}.edi"):
            accepted += row.status == "accepted"
            failed += row.status == "failed"
    us = network.parties["dist-us"]
    vela = network.products["vela-3018"].gtin
    for index in range(3):
        item = vela if index != 2 else "00000000000000"  # an unknown item number
        qualifier = "UK" if index != 2 else "VN"
        content = (
            f"ISA*00*          *00*          *01*{us.gln[:9]}      *01*{hub[:9]}      "
            f"*260105*0900*U*00401*{index + 1:09d}*0*P*>~\n"
            f"GS*PO*{us.gln[:9]}*{hub[:9]}*20260105*0900*{index + 1}*X*004010~\n"
            "ST*850*0001~\n"
            f"BEG*00*SA*X26-{index:04d}**20260105~\n"
            f"DTM*002*202601{20 + index:02d}~\n"
            "N1*ST*Main DC~\n"
            f"PO1*1*{2 + index}*EA***{qualifier}*{item}~\n"
            "CTT*1~\n"
            "SE*7*0001~\n"
            f"GE*1*{index + 1}~\n"
            f"IEA*1*{index + 1:09d}~\n"
        )
        for row in intake.import_edi(session, admin, content, filename=f"x12-{index}.edi"):
            accepted += row.status == "accepted"
            failed += row.status == "failed"
    return accepted, failed
