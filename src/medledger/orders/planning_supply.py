"""What planning needs to know about transport and incoming supply.

* **Routes and lanes.** A line's engine *region* is its route: the ship-to's region, whether
  the ship-to takes cold chain, and — once the tenant has lane master data
  (``transport.lanes``) — the ship-to when a lane names it, the lane chosen for the line, and
  whether the product is cold. The engine lane from a stock location to a route is the chosen
  lane (only from its origin site), else the best serving lane of the location's site (the
  fastest that can carry the product, then the cheapest); none: the engine says ``no_lane``.
  Without any lane the defaults stay: 2 transit days within the location's region, 7 to
  another, cold chain everywhere the ship-to takes it.
* **Incoming supply** (the instance's ``incoming``, from which the engine promises shortfalls):
  open purchase order lines confirmed by the supplier (sent, confirmed or partially received;
  the confirmed quantity less what was received, at the confirmed date), planned or started
  work orders with a due date (their quantity and expiry, at the due date), and, failing
  those, the supplier lead time of every replenishment setting of the product (today + lead
  time, unlimited). Dates in the past count as today. Supply arrives at a site: the engine
  sees it at the site's lowest-id active location of the product's storage class.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from medledger.inventory.models import ReplenishmentSetting
from medledger.parties.models import Location, Party, Site
from medledger.production.models import WorkOrder, WorkOrderStatus
from medledger.purchasing.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from medledger.transport.lanes import LaneBook, best_lane

LOCAL_TRANSIT_DAYS = 2
REMOTE_TRANSIT_DAYS = 7
NO_COLD = "~"  # marks the route of a ship-to that cannot receive cold chain
UNLIMITED = 1_000_000_000  # what a supplier's lead time can bring
ENGINE_STORAGE = {"ambient": "ambient", "chilled_2_8": "cold", "frozen": "frozen"}
CONFIRMED_PO_STATES = (
    PurchaseOrderStatus.SENT.value,
    PurchaseOrderStatus.CONFIRMED.value,
    PurchaseOrderStatus.PARTIALLY_RECEIVED.value,
)
OPEN_WORK_ORDER_STATES = (WorkOrderStatus.PLANNED.value, WorkOrderStatus.IN_PROGRESS.value)


def default_transit_days(site_region: str, region: str) -> int:
    return LOCAL_TRANSIT_DAYS if site_region == region else REMOTE_TRANSIT_DAYS


@dataclass(frozen=True)
class Route:
    """Where a line goes, as the engine's region (see the module docstring)."""

    region: str
    cold_ok: bool
    ship_to_id: int | None = None
    lane_id: int | None = None
    cold_product: bool = False

    @property
    def key(self) -> str:
        key = self.region + ("" if self.cold_ok else NO_COLD)
        if self.lane_id is not None:
            key += f"@{self.lane_id}"
        elif self.ship_to_id is not None:
            key += f"#{self.ship_to_id}"
        return key + ("*" if self.cold_product else "")


def route_of(
    book: LaneBook,
    *,
    order_line_id: int,
    ship_to_id: int,
    region: str,
    cold_ok: bool,
    storage: str,
) -> Route:
    """The route of an order line (``storage``: the engine storage class of its product)."""
    if not book.has_lanes:
        return Route(region, cold_ok)
    lane_id = book.choices.get(order_line_id)
    named = lane_id is not None or book.names_ship_to(ship_to_id)
    return Route(region, cold_ok, ship_to_id if named else None, lane_id, storage != "ambient")


def engine_lane(
    book: LaneBook, route: Route, site_id: int, site_region: str
) -> dict[str, Any] | None:
    """The lane (transit days, cold chain, cost) from a location of ``site_id`` along
    ``route``; None when there is none."""
    if not book.has_lanes:
        days = default_transit_days(site_region, route.region)
        return {"transit_days": days, "cold_chain": route.cold_ok, "cost": days}
    if route.lane_id is not None:
        lane = book.lane(route.lane_id)
        if lane is None or lane.origin_site_id != site_id:
            return None
    else:
        lane = best_lane(
            book.serving(site_id, route.region, route.ship_to_id), cold=route.cold_product
        )
        if lane is None:
            return None
    return {
        "transit_days": lane.transit_days,
        "cold_chain": lane.cold_chain and route.cold_ok,
        # The engine takes integral costs; whole currency units keep its 64-bit levels small.
        "cost": int(lane.cost.to_integral_value()),
    }


def transit_to(book: LaneBook, route: Route, site_id: int, site_region: str) -> int | None:
    lane = engine_lane(book, route, site_id, site_region)
    return None if lane is None else int(lane["transit_days"])


@dataclass(frozen=True)
class Supply:
    id: str
    gtin: str
    site_id: int
    quantity: int
    available: date
    expiry: date | None


def incoming_supply(session: Session, tenant_id: int, gtins: set[str], as_of: date) -> list[Supply]:
    """Confirmed purchase order lines, work orders with a due date, and the supplier lead time
    of each replenishment setting, for ``gtins`` (see the module docstring)."""
    found: list[Supply] = []
    if not gtins:
        return found
    wanted = sorted(gtins)
    for number, line_number, gtin, site_id, confirmed, received, when in session.execute(
        select(
            PurchaseOrder.number,
            PurchaseOrderLine.line_number,
            PurchaseOrderLine.gtin,
            PurchaseOrder.ship_to_site_id,
            PurchaseOrderLine.confirmed_quantity,
            PurchaseOrderLine.received_quantity,
            PurchaseOrderLine.confirmed_date,
        )
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.purchase_order_id)
        .where(
            PurchaseOrder.tenant_id == tenant_id,
            PurchaseOrder.status.in_(CONFIRMED_PO_STATES),
            PurchaseOrderLine.gtin.in_(wanted),
            PurchaseOrderLine.confirmed_date.is_not(None),
            PurchaseOrderLine.confirmed_quantity.is_not(None),
        )
        .order_by(PurchaseOrder.id, PurchaseOrderLine.line_number)
    ):
        left = int(confirmed or 0) - int(received or 0)
        if left > 0 and when is not None:
            found.append(
                Supply(f"{number}/{line_number}", gtin, site_id, left, max(when, as_of), None)
            )
    for number, gtin, site_id, quantity, expiry, due in session.execute(
        select(
            WorkOrder.number,
            WorkOrder.gtin,
            Location.site_id,
            WorkOrder.quantity,
            WorkOrder.expiry,
            WorkOrder.due_date,
        )
        .join(Location, Location.id == WorkOrder.location_id)
        .where(
            WorkOrder.tenant_id == tenant_id,
            WorkOrder.status.in_(OPEN_WORK_ORDER_STATES),
            WorkOrder.gtin.in_(wanted),
            WorkOrder.due_date.is_not(None),
        )
        .order_by(WorkOrder.id)
    ):
        if due is not None:
            found.append(Supply(number, gtin, site_id, int(quantity), max(due, as_of), expiry))
    for gtin, site_id, lead_time in session.execute(
        select(
            ReplenishmentSetting.gtin,
            ReplenishmentSetting.site_id,
            ReplenishmentSetting.lead_time_days,
        )
        .where(ReplenishmentSetting.tenant_id == tenant_id, ReplenishmentSetting.gtin.in_(wanted))
        .order_by(ReplenishmentSetting.site_id, ReplenishmentSetting.gtin)
    ):
        found.append(
            Supply(
                f"lead-time/{site_id}/{gtin}",
                gtin,
                site_id,
                UNLIMITED,
                as_of + timedelta(days=int(lead_time)),
                None,
            )
        )
    return found


@dataclass(frozen=True)
class SiteFacts:
    region_country: str
    party_region: str
    locations: dict[str, int]  # engine storage class -> lowest-id active location


def site_facts(session: Session, tenant_id: int, site_ids: set[int]) -> dict[int, SiteFacts]:
    """Country, party region and a receiving location per storage class of ``site_ids``."""
    facts: dict[int, SiteFacts] = {}
    if not site_ids:
        return facts
    for site_id, country, region in session.execute(
        select(Site.id, Site.country, Party.region)
        .join(Party, Party.id == Site.party_id)
        .where(Site.tenant_id == tenant_id, Site.id.in_(sorted(site_ids)))
    ):
        facts[site_id] = SiteFacts(country, region or "", {})
    for location_id, site_id, storage in session.execute(
        select(Location.id, Location.site_id, Location.storage_class)
        .where(
            Location.tenant_id == tenant_id,
            Location.site_id.in_(sorted(site_ids)),
            Location.active.is_(True),
        )
        .order_by(Location.id)
    ):
        if site_id in facts:
            facts[site_id].locations.setdefault(ENGINE_STORAGE.get(storage, "ambient"), location_id)
    return facts
