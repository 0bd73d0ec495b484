"""Order-intake test data built through the real services: a hospital and a distributor as
customers (with ship-tos, contracts and EDI sender ids), products whose GTINs match the EANCOM
sample, and an item reference for the X12 sample's vendor part number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from medledger.catalog.schemas import ProductIn
from medledger.catalog.service import create_product
from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.core.work import work_of
from medledger.orders import customers
from medledger.orders.models import CustomerTier
from medledger.orders.schemas import ContractIn, CustomerIn, ItemReferenceIn, ShipToIn
from medledger.parties.models import Party, PartyRole
from medledger.parties.schemas import PartyIn, UserIn
from medledger.parties.service import create_party, create_user
from tests.builders import PASSWORD, Network, build_network, gtin, token_headers

# The EANCOM sample (tests/vectors/edi/pydifact/order.edi) names these parties and items.
SAMPLE_SUPPLIER_GLN = "5020436000004"
SAMPLE_BUYER_GLN = "8711576000012"
SAMPLE_DELIVERY_GLN = "8711576100019"
STENT = "05020436373085"
CATHETER = "05020436373108"
SUTURE = gtin(50)
INACTIVE = gtin(51)


@dataclass
class OrderWorld:
    net: Network
    hospital_party_id: int
    hospital_customer_id: int
    distributor_customer_id: int
    hospital_ship_to_id: int
    distributor_ship_to_id: int


def build_order_world(
    factory: sessionmaker[Session], slug: str = "acme", offset: int = 0
) -> OrderWorld:
    net = build_network(factory, slug, offset=offset)
    with system_unit_of_work(factory) as session:
        admin = tenant_admin(session, net.tenant_id)
        work_of(session).act_as(admin)
        hub = session.get(Party, net.hub_id)
        assert hub is not None
        hub.gln = SAMPLE_SUPPLIER_GLN
        hospital = create_party(
            session,
            admin,
            PartyIn(
                name=f"{slug} St. Mary Hospital",
                gln=SAMPLE_BUYER_GLN,
                roles=[PartyRole.HOSPITAL],
                country="NL",
                region="EU",
            ),
        )
        hospital_id = hospital.id
        create_user(
            session,
            admin,
            UserIn(
                username=f"{slug}-hospital",
                display_name=f"{slug} materials manager",
                password=PASSWORD,
                role="partner_user",
                party_id=hospital_id,
                time_zone="Europe/Amsterdam",
            ),
        )
        for code, name, storage in (
            (STENT, "Drug-eluting stent 3.0 x 18 mm", "ambient"),
            (CATHETER, "Balloon catheter 2.5 mm", "chilled_2_8"),
            (SUTURE, "Suture kit", "ambient"),
        ):
            create_product(
                session,
                admin,
                ProductIn(gtin=code, name=name, tracking_level="lot", storage_class=storage),  # type: ignore[arg-type]
            )
        hospital_customer = customers.create_customer(
            session,
            admin,
            CustomerIn(
                party_id=hospital_id,
                tier=CustomerTier.STRATEGIC,
                edi_sender_ids={"edifact": "8:12345678"},
            ),
        )
        distributor_customer = customers.create_customer(
            session,
            admin,
            CustomerIn(
                party_id=net.distributor_id,
                tier=CustomerTier.KEY,
                currency="USD",
                edi_sender_ids={"x12": "01:000123456"},
            ),
        )
        hospital_ship_to = customers.add_ship_to(
            session,
            admin,
            hospital_customer.id,
            ShipToIn(
                code="DP1",
                name="Cath lab store",
                gln=SAMPLE_DELIVERY_GLN,
                country="NL",
                region="EU",  # type: ignore[arg-type]
                cold_chain_capable=True,
                is_default=True,
            ),
        )
        distributor_ship_to = customers.add_ship_to(
            session,
            admin,
            distributor_customer.id,
            ShipToIn(code="MAIN", name="Shanghai DC", country="CN", region="CN", is_default=True),  # type: ignore[arg-type]
        )
        customers.add_contract(
            session,
            admin,
            hospital_customer.id,
            ContractIn(
                number=f"{slug}-C-HOSP",
                valid_from=date(2015, 1, 1),
                service_level_days=2,
                penalty_per_day_late=Decimal("150.00"),
                min_remaining_shelf_life_days=180,
            ),
        )
        customers.add_contract(
            session,
            admin,
            distributor_customer.id,
            ContractIn(
                number=f"{slug}-C-DIST",
                valid_from=date(2009, 1, 1),
                service_level_days=5,
                penalty_per_day_late=Decimal("20.00"),
                currency="USD",
                min_remaining_shelf_life_days=90,
            ),
        )
        customers.add_item_reference(
            session,
            admin,
            distributor_customer.id,
            ItemReferenceIn(qualifier="VN", code="0054321", gtin=SUTURE),
        )
        return OrderWorld(
            net,
            hospital_id,
            hospital_customer.id,
            distributor_customer.id,
            hospital_ship_to.id,
            distributor_ship_to.id,
        )


def headers(client: TestClient, who: str, slug: str = "acme") -> dict[str, str]:
    return token_headers(client, f"{slug}-{who}")
