"""Demo transport lanes: from every hub site to every region, so allocation and the promise
dates run on lane master data and a planner can compare lanes for any order line.

Within a site's own region: road freight (2 days, cold chain where the site keeps chilled
stock) and an ambient parcel express (1 day, dearer). To another region: air freight (7 days
door to door, cold chain where the site keeps chilled stock) and sea freight (35 days, cheap,
ambient only). Created through the service, so they are audited like a planner's."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from medledger.analytics import transport
from medledger.catalog.models import Region
from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.core.work import work_of
from medledger.orders.planning import region_of
from medledger.parties.models import Location
from medledger.seed.demo import DemoNetwork
from medledger.transport.models import TransportMode
from medledger.transport.schemas import LaneIn

LOCAL = (
    ("ROAD", TransportMode.ROAD, "Lumen Logistics road freight", 2, "80.00", True),
    ("EXPRESS", TransportMode.PARCEL, "DHL Express", 1, "150.00", False),
)
REMOTE = (
    ("AIR", TransportMode.AIR, "Air freight (forwarder)", 7, "900.00", True),
    ("SEA", TransportMode.SEA, "Sea freight (forwarder)", 35, "250.00", False),
)


def seed_demo_lanes(factory: sessionmaker[Session], network: DemoNetwork) -> int:
    """The hub's lanes (one transaction); returns how many."""
    created = 0
    with system_unit_of_work(factory, label="seed") as session:
        admin = tenant_admin(session, network.tenant_id, label="seed")
        work_of(session).act_as(admin)
        for site in network.sites_of("hub"):
            cold = _keeps_cold(session, site.id)
            home = region_of(site.country, network.hub.region)
            for region in Region:
                lanes = LOCAL if region.value == home else REMOTE
                for suffix, mode, carrier, days, cost, cold_capable in lanes:
                    transport.create_lane(
                        session,
                        admin,
                        LaneIn(
                            code=f"{site.key.upper()}-{region.value}-{suffix}",
                            origin_site_id=site.id,
                            destination_region=region,
                            carrier=carrier,
                            mode=mode,
                            cost=Decimal(cost),
                            transit_days=days,
                            cold_chain=cold_capable and cold,
                        ),
                    )
                    created += 1
    return created


def _keeps_cold(session: Session, site_id: int) -> bool:
    return (
        session.scalar(
            select(Location.id)
            .where(Location.site_id == site_id, Location.storage_class != "ambient")
            .limit(1)
        )
        is not None
    )
