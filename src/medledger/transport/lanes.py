"""Lanes as planning reads them, the best lane of a route and the comparison of lanes for an
order line (pure functions over plain data; ``load_lane_book`` is the one query).

* **Serving lanes** of a route (origin site → ship-to): the active lanes from the site that
  name the ship-to, or name no ship-to and the ship-to's region.
* **Best lane** (what allocation uses when no lane was chosen): among the serving lanes that
  can carry the product (a cold-chain lane for a chilled or frozen product), the fastest, then
  the cheapest, then the lowest id.
* **Comparison** for an order line: every serving lane from every origin, with its arrival
  (today + transit days) against the promised date; the recommendation is the cheapest lane
  that can carry the product from an origin holding the line's open quantity and arrives by
  the promised date; if none arrives in time, the fastest such lane (then the cheapest).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from medledger.transport.models import LaneChoice, TransportLane

# Problems of a lane for a line (stable codes, shown translated on the page).
NO_COLD_CHAIN = "no_cold_chain"  # a cold product on a lane without cold chain
SHIP_TO_NO_COLD_CHAIN = "ship_to_no_cold_chain"  # a cold product to a ship-to that cannot take it
SHORT_AT_ORIGIN = "short_at_origin"  # the origin site holds less than the line's open quantity
LATE = "late"  # arrives after the promised date
PROBLEMS = (NO_COLD_CHAIN, SHIP_TO_NO_COLD_CHAIN, SHORT_AT_ORIGIN, LATE)

# Why the recommended lane (or none) — stable codes.
CHEAPEST_ON_TIME = "cheapest_on_time"
FASTEST_LATE = "fastest_late"
NO_STOCK = "no_stock"
NO_CARRIAGE = "no_carriage"
NO_LANE = "no_lane"
CHOSEN = "chosen"


@dataclass(frozen=True)
class LaneFacts:
    id: int
    code: str
    origin_site_id: int
    destination_region: str
    ship_to_id: int | None
    carrier: str
    mode: str
    cost: Decimal
    currency: str
    transit_days: int
    cold_chain: bool


@dataclass
class LaneBook:
    """The tenant's active lanes and the lanes chosen for order lines."""

    lanes: list[LaneFacts] = field(default_factory=list)
    choices: dict[int, int] = field(default_factory=dict)  # order line id -> lane id

    @property
    def has_lanes(self) -> bool:
        """Lanes are master data once one exists; before that planning keeps its defaults."""
        return bool(self.lanes)

    def lane(self, lane_id: int) -> LaneFacts | None:
        return next((lane for lane in self.lanes if lane.id == lane_id), None)

    def serving(self, site_id: int, region: str, ship_to_id: int | None) -> list[LaneFacts]:
        return [
            lane
            for lane in self.lanes
            if lane.origin_site_id == site_id
            and (
                lane.ship_to_id == ship_to_id
                if lane.ship_to_id is not None
                else lane.destination_region == region
            )
        ]

    def names_ship_to(self, ship_to_id: int) -> bool:
        return any(lane.ship_to_id == ship_to_id for lane in self.lanes)


def best_lane(lanes: Iterable[LaneFacts], *, cold: bool) -> LaneFacts | None:
    """The fastest lane that can carry the product, then the cheapest, then the lowest id."""
    usable = [lane for lane in lanes if lane.cold_chain or not cold]
    return min(usable, key=lambda lane: (lane.transit_days, lane.cost, lane.id), default=None)


def _facts(row: TransportLane) -> LaneFacts:
    return LaneFacts(
        id=row.id,
        code=row.code,
        origin_site_id=row.origin_site_id,
        destination_region=row.destination_region,
        ship_to_id=row.ship_to_id,
        carrier=row.carrier,
        mode=row.mode,
        cost=Decimal(row.cost),
        currency=row.currency,
        transit_days=row.transit_days,
        cold_chain=row.cold_chain,
    )


def load_lane_book(
    session: Session, tenant_id: int, order_line_ids: Iterable[int] | None = None
) -> LaneBook:
    """The active lanes of the tenant (in id order) and the choices of ``order_line_ids``
    (all of them when None)."""
    lanes = [
        _facts(row)
        for row in session.scalars(
            select(TransportLane)
            .where(TransportLane.tenant_id == tenant_id, TransportLane.active.is_(True))
            .order_by(TransportLane.id)
        )
    ]
    stmt = select(LaneChoice.order_line_id, LaneChoice.lane_id).where(
        LaneChoice.tenant_id == tenant_id
    )
    if order_line_ids is not None:
        ids = sorted(set(order_line_ids))
        if not ids:
            return LaneBook(lanes, {})
        stmt = stmt.where(LaneChoice.order_line_id.in_(ids))
    active = {lane.id for lane in lanes}
    choices = {line: lane for line, lane in session.execute(stmt) if lane in active}
    return LaneBook(lanes, choices)


# --- the comparison --------------------------------------------------------------------------


@dataclass(frozen=True)
class LaneOption:
    lane: LaneFacts
    origin_units: int  # released units of the product at the origin site, free for the line
    arrival: date
    days_to_spare: int  # promised date − arrival (negative: late)
    problems: tuple[str, ...]
    recommended: bool = False


@dataclass(frozen=True)
class LaneComparison:
    promised: date
    cold: bool
    options: list[LaneOption]  # recommended first, then by arrival, cost, code
    recommended: LaneOption | None
    basis: str  # CHEAPEST_ON_TIME, FASTEST_LATE, NO_STOCK, NO_CARRIAGE, NO_LANE


def compare_lanes(
    lanes: Iterable[LaneFacts],
    *,
    as_of: date,
    promised: date,
    quantity: int,
    cold_product: bool,
    ship_to_cold_chain: bool,
    units_at_site: Mapping[int, int],
) -> LaneComparison:
    """Every lane with its arrival and problems, and the recommended one (module docstring)."""
    options: list[LaneOption] = []
    for lane in lanes:
        arrival = as_of + timedelta(days=lane.transit_days)
        units = int(units_at_site.get(lane.origin_site_id, 0))
        found = []
        if cold_product and not lane.cold_chain:
            found.append(NO_COLD_CHAIN)
        if cold_product and not ship_to_cold_chain:
            found.append(SHIP_TO_NO_COLD_CHAIN)
        if units < quantity:
            found.append(SHORT_AT_ORIGIN)
        if arrival > promised:
            found.append(LATE)
        options.append(LaneOption(lane, units, arrival, (promised - arrival).days, tuple(found)))
    carriable = [o for o in options if not {NO_COLD_CHAIN, SHIP_TO_NO_COLD_CHAIN} & set(o.problems)]
    stocked = [o for o in carriable if SHORT_AT_ORIGIN not in o.problems]
    on_time = [o for o in stocked if LATE not in o.problems]
    chosen: LaneOption | None = None
    if on_time:
        chosen = min(on_time, key=lambda o: (o.lane.cost, o.lane.transit_days, o.lane.code))
        basis = CHEAPEST_ON_TIME
    elif stocked:
        chosen = min(stocked, key=lambda o: (o.lane.transit_days, o.lane.cost, o.lane.code))
        basis = FASTEST_LATE
    elif carriable:
        basis = NO_STOCK
    elif options:
        basis = NO_CARRIAGE
    else:
        basis = NO_LANE
    ranked = sorted(options, key=lambda o: (o is not chosen, o.arrival, o.lane.cost, o.lane.code))
    if chosen is not None:
        ranked[0] = LaneOption(
            chosen.lane,
            chosen.origin_units,
            chosen.arrival,
            chosen.days_to_spare,
            chosen.problems,
            recommended=True,
        )
    return LaneComparison(
        promised, cold_product, ranked, ranked[0] if chosen is not None else None, basis
    )
