"""Demo stock, purchase orders and ASNs, on top of the demo network and its history.

Inventory manages three hub sites from the end of the demo history on: the Suzhou plant
(components), the Shanghai DC (ambient finished goods) and the Venlo cold-chain DC (2–8 °C IVD
reagents). Every stock movement goes through the same services as the API — EPCIS events into
the ledger, stock by the ledger projection — so ``medledger inventory verify`` holds on the demo.

What it leaves: released stock in storage (some lots near expiry), lots still in quarantine at
the docks, 60 days of shipments from the DCs (demand history for replenishment), replenishment
settings, temperature ranges for the reagents, and purchase orders to suppliers in every state
(sent, confirmed with an open ASN, partially received), all deterministic except that dates are
relative to the day it runs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from medledger.core.principal import Principal
from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.core.work import work_of
from medledger.identifiers.checkdigit import gs1_check_digit
from medledger.inventory import coldchain
from medledger.inventory import service as inventory
from medledger.inventory.plan import DL
from medledger.inventory.schemas import MoveIn, ReceiptIn, StockLineIn
from medledger.purchasing import service as purchasing
from medledger.purchasing import suggestions
from medledger.purchasing.schemas import (
    AsnIn,
    AsnLineIn,
    ConfirmIn,
    ConfirmLineIn,
    OrderIn,
    OrderLineIn,
    ReplenishmentIn,
    ScanIn,
)
from medledger.seed.demo import DemoNetwork

MANAGED_SITES = ("plant-suzhou", "dc-shanghai", "dc-venlo")
AMBIENT_GOODS = ("glide-2515", "glide-3015", "access-6f", "guide-014", "kit-angio", "kit-iv")
CHILLED_GOODS = ("ctni-reagent", "bnp-reagent", "crp-reagent")
COMPONENTS = ("c-pebax-tube", "c-pouch", "c-tray", "c-syringe")
SEED = 20261207


@dataclass(frozen=True)
class InventorySummary:
    """What the inventory demo created."""

    sites: int
    lots: int
    purchase_orders: int
    asns: int


def _location(network: DemoNetwork, site: str, code: str) -> int:
    return network.locations[f"{site}/{code}"].id


def _expiry(today: date, days: int) -> date:
    return today + timedelta(days=days)


def _receive_lots(
    session: Session,
    principal: Principal,
    network: DemoNetwork,
    site: str,
    suffix: str,
    product_keys: tuple[str, ...],
    rng: random.Random,
    today: date,
) -> int:
    """Three lots per product received at the site's dock: two released and put away (one
    of them near expiry for some products), one left in quarantine."""
    dock = _location(network, site, f"RCV{suffix}")
    store = _location(network, site, f"REL{suffix}")
    lots = 0
    for index, key in enumerate(product_keys):
        gtin = network.products[key].gtin
        near = index % 2 == 0
        plan = [
            (
                f"{key[:4].upper()}{today:%y}{index:02d}A",
                30 if near else 240,
                400 + rng.randrange(200),
            ),
            (f"{key[:4].upper()}{today:%y}{index:02d}B", 520, 300 + rng.randrange(300)),
            (f"{key[:4].upper()}{today:%y}{index:02d}Q", 700, 100 + rng.randrange(100)),
        ]
        lines = [
            StockLineIn(gtin=gtin, lot=lot, quantity=quantity, expiry=_expiry(today, days))
            for lot, days, quantity in plan
        ]
        inventory.receive(session, principal, ReceiptIn(location_id=dock, lines=lines))
        for line in lines[:2]:
            # The one way out of quarantine: QA requests, the QA approver signs the release.
            from medledger.seed.demo_inspections import signed_release

            signed_release(session, network, gtin, line.lot)
        work_of(session).act_as(principal)
        inventory.move(
            session,
            principal,
            MoveIn(from_location_id=dock, to_location_id=store, lines=lines[:2]),
        )
        lots += len(lines)
    return lots


def _demand_history(
    session: Session,
    principal: Principal,
    network: DemoNetwork,
    site: str,
    suffix: str,
    product_keys: tuple[str, ...],
    consignee_gln: str,
    rng: random.Random,
    now: datetime,
) -> None:
    """60 days of shipments from released storage (EPCIS shipping events, back-dated)."""
    store = network.locations[f"{site}/REL{suffix}"]
    site_gln = network.sites[site].gln
    where = f"{DL}/414/{site_gln}/254/{store.code}"
    events: list[dict[str, Any]] = []
    for key in product_keys:
        gtin = network.products[key].gtin
        lot = f"{key[:4].upper()}{now:%y}{product_keys.index(key):02d}B"
        for day in range(60, 0, -1):
            if rng.random() < 0.55:
                continue
            when = now - timedelta(days=day, hours=rng.randrange(8))
            events.append(
                {
                    "type": "ObjectEvent",
                    "eventID": f"urn:uuid:{_uuid(rng)}",
                    "eventTime": when.isoformat(timespec="seconds").replace("+00:00", "Z"),
                    "eventTimeZoneOffset": "+00:00",
                    "action": "OBSERVE",
                    "bizStep": "shipping",
                    "disposition": "in_transit",
                    "quantityList": [
                        {"epcClass": f"{DL}/01/{gtin}/10/{lot}", "quantity": 1 + rng.randrange(6)}
                    ],
                    "readPoint": {"id": where},
                    "bizLocation": {"id": where},
                    "destinationList": [
                        {"type": "owning_party", "destination": f"{DL}/417/{consignee_gln}"}
                    ],
                }
            )
    inventory.capture(session, principal, *events)


def _uuid(rng: random.Random) -> str:
    value = f"{rng.getrandbits(128):032x}"
    return f"{value[:8]}-{value[8:12]}-4{value[13:16]}-8{value[17:20]}-{value[20:32]}"


def _sscc(company_prefix: str, serial: int) -> str:
    body = f"0{company_prefix}{serial:0{16 - len(company_prefix)}d}"
    return body + gs1_check_digit(body)


def _purchase_orders(
    session: Session, principal: Principal, network: DemoNetwork, today: date
) -> tuple[int, int]:
    """Orders for components to the Suzhou plant: one sent, one confirmed with an open ASN
    (one lot in an SSCC), one partially received (a short delivery waiting at the dock)."""
    suppliers = network.parties_with_role("supplier")
    plant = network.sites["plant-suzhou"].id
    dock = _location(network, "plant-suzhou", "RCV")
    orders = asns = 0
    for number, key in enumerate(COMPONENTS[:3]):
        supplier = suppliers[number % len(suppliers)]
        product = network.products[key]
        order = purchasing.create_order(
            session,
            principal,
            OrderIn(
                supplier_party_id=supplier.id,
                ship_to_site_id=plant,
                currency="CNY",
                lines=[
                    OrderLineIn(
                        gtin=product.gtin,
                        quantity=500,
                        unit_price=Decimal("12.80") + number,
                        requested_date=today + timedelta(days=14 + 7 * number),
                    )
                ],
            ),
        )
        orders += 1
        if number == 0:
            continue  # sent, waiting for the supplier
        supplier_user = _supplier_principal(principal, supplier.id)
        purchasing.confirm_order(
            session,
            supplier_user,
            order.id,
            ConfirmIn(
                lines=[
                    ConfirmLineIn(
                        line_number=1,
                        confirmed_quantity=500,
                        confirmed_date=today + timedelta(days=10 + 7 * number),
                    )
                ]
            ),
        )
        lot = f"{key[2:6].upper()}{today:%y%m}{number}"
        asn = purchasing.create_asn(
            session,
            supplier_user,
            AsnIn(
                purchase_order_id=order.id,
                number=f"DESADV-{today:%y%m}-{number:02d}",
                ship_date=today,
                lines=[
                    AsnLineIn(
                        line_number=1,
                        lot=lot,
                        expiry=today + timedelta(days=720),
                        quantity=300,
                        sscc=_sscc(network.hub.gln[:7], 9000 + number),
                    ),
                    AsnLineIn(
                        line_number=1,
                        lot=lot + "B",
                        expiry=today + timedelta(days=720),
                        quantity=200,
                    ),
                ],
            ),
        )
        asns += 1
        if number == 2:
            purchasing.receive_scan(
                session,
                principal,
                asn.id,
                ScanIn(scan=f"(01){product.gtin}(10){lot}B", quantity=150, location_id=dock),
            )
    return orders, asns


def _supplier_principal(hub: Principal, party_id: int) -> Principal:
    from medledger.core.principal import make_principal

    return make_principal(
        user_id=None,
        tenant_id=hub.tenant_id,
        party_id=party_id,
        role="partner_user",
        username="seed",
        display_name="demo supplier",
        hub_party_id=hub.hub_party_id,
    )


def seed_demo_inventory(factory: sessionmaker[Session], network: DemoNetwork) -> InventorySummary:
    """Load the inventory demo (one unit of work)."""
    rng = random.Random(SEED)
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.date()
    with system_unit_of_work(factory, label="seed") as session:
        principal = tenant_admin(session, network.tenant_id, label="seed")
        work_of(session).act_as(principal)
        for site in MANAGED_SITES:
            inventory.enable_site(session, principal, network.sites[site].id)
        for key in CHILLED_GOODS:
            coldchain.set_range(session, principal, network.products[key].gtin, 2.0, 8.0)
        lots = _receive_lots(
            session, principal, network, "dc-shanghai", "", AMBIENT_GOODS, rng, today
        )
        lots += _receive_lots(
            session, principal, network, "dc-venlo", "-C", CHILLED_GOODS, rng, today
        )
        lots += _receive_lots(
            session, principal, network, "plant-suzhou", "", COMPONENTS, rng, today
        )
        distributors = network.parties_with_role("distributor")
        _demand_history(
            session,
            principal,
            network,
            "dc-shanghai",
            "",
            AMBIENT_GOODS,
            distributors[0].gln,
            rng,
            now,
        )
        _demand_history(
            session,
            principal,
            network,
            "dc-venlo",
            "-C",
            CHILLED_GOODS,
            distributors[-1].gln,
            rng,
            now,
        )
        cmo = network.parties_with_role("contract_manufacturer")
        for key in AMBIENT_GOODS:
            suggestions.set_replenishment(
                session,
                principal,
                ReplenishmentIn(
                    site_id=network.sites["dc-shanghai"].id,
                    gtin=network.products[key].gtin,
                    supplier_party_id=cmo[0].id if cmo else None,
                    lead_time_days=21,
                    service_z=1.645,
                    order_quantity=100,
                ),
            )
        orders, asns = _purchase_orders(session, principal, network, today)
    return InventorySummary(len(MANAGED_SITES), lots, orders, asns)
