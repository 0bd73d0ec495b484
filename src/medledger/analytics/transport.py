"""Use cases of transport choice (analytics sits above orders and transport): keep lanes
(master data, ``transport.models``), compare the lanes of an order line against its promised
date, and choose one (allocation then ships the line on it)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from medledger.core.db import utcnow
from medledger.core.errors import NotFound
from medledger.core.principal import Permission, Principal
from medledger.core.repository import get_visible
from medledger.core.scoping import visibility
from medledger.orders import planning
from medledger.orders.models import OrderLine, ShipTo
from medledger.orders.planning_models import Reservation
from medledger.orders.planning_supply import REMOTE_TRANSIT_DAYS, route_of, transit_to
from medledger.orders.repository import OrderLineFacts, open_line_facts
from medledger.parties.models import Site
from medledger.transport.errors import Code, conflict, invalid
from medledger.transport.lanes import (
    CHEAPEST_ON_TIME,
    FASTEST_LATE,
    NO_CARRIAGE,
    NO_LANE,
    NO_STOCK,
    LaneComparison,
    compare_lanes,
    load_lane_book,
)
from medledger.transport.models import LaneChoice, TransportLane
from medledger.transport.schemas import (
    ChoiceIn,
    ComparisonOut,
    LaneIn,
    LaneOptionOut,
    LaneUpdate,
)


def N_(message: str) -> str:
    return message


# Why the recommendation (msgids; the page translates them, the API gives them in English).
EXPLANATIONS = {
    CHEAPEST_ON_TIME: N_(
        "{code} is the cheapest lane that can carry the product from a site holding the line's "
        "quantity and arrives by the promised date ({promised}), {spare} day(s) to spare."
    ),
    FASTEST_LATE: N_(
        "No lane arrives by the promised date ({promised}); {code} is the fastest that can carry "
        "the product from a site holding the line's quantity, {late} day(s) late."
    ),
    NO_STOCK: N_(
        "No site served by a lane holds the line's open quantity; nothing is recommended until "
        "stock arrives."
    ),
    NO_CARRIAGE: N_(
        "No lane can carry this cold-chain product to the ship-to (a cold-chain lane and a "
        "ship-to that takes cold chain are needed)."
    ),
    NO_LANE: N_("No active lane serves this ship-to."),
}


# --- lanes -----------------------------------------------------------------------------------


def list_lanes(session: Session, principal: Principal) -> list[TransportLane]:
    """Every lane (active or not) by origin and code."""
    principal.require(Permission.KPI_READ)
    stmt = select(TransportLane).where(visibility(TransportLane, principal))
    return list(session.scalars(stmt.order_by(TransportLane.origin_site_id, TransportLane.code)))


def get_lane(session: Session, principal: Principal, lane_id: int) -> TransportLane:
    principal.require(Permission.KPI_READ)
    return get_visible(session, TransportLane, lane_id, principal)


def create_lane(session: Session, principal: Principal, data: LaneIn) -> TransportLane:
    """Add a lane from a hub site to a region (or to one ship-to of that region)."""
    principal.require(Permission.PRIORITY_WRITE)
    site = get_visible(session, Site, data.origin_site_id, principal)
    if site.party_id != principal.hub_party_id:
        raise invalid(
            Code.NOT_A_HUB_SITE,
            "Lanes start at a site of the hub; site {site_id} is not one.",
            "origin_site_id",
            site_id=site.id,
        )
    region = data.destination_region.value
    if data.ship_to_id is not None:
        ship_to = get_visible(session, ShipTo, data.ship_to_id, principal)
        if ship_to.region != region:
            raise invalid(
                Code.SHIP_TO_REGION,
                "The ship-to is in region {region}, not in {destination}.",
                "ship_to_id",
                region=ship_to.region,
                destination=region,
            )
    taken = session.scalar(
        select(TransportLane.id).where(
            TransportLane.tenant_id == principal.tenant_id, TransportLane.code == data.code
        )
    )
    if taken is not None:
        raise conflict(Code.CODE_TAKEN, "Lane {code} exists already.", "code", code=data.code)
    lane = TransportLane(
        tenant_id=principal.tenant_id,
        code=data.code,
        origin_site_id=site.id,
        destination_region=region,
        ship_to_id=data.ship_to_id,
        carrier=data.carrier,
        mode=data.mode.value,
        cost=data.cost,
        currency=data.currency,
        transit_days=data.transit_days,
        cold_chain=data.cold_chain,
        active=data.active,
        note=data.note.strip(),
    )
    session.add(lane)
    session.flush()
    planning.plan(session, principal.tenant_id)
    return lane


def update_lane(
    session: Session, principal: Principal, lane_id: int, data: LaneUpdate
) -> TransportLane:
    """Change a lane's carrier, cost, transit days, cold chain or activity; open demand is
    planned again with it."""
    principal.require(Permission.PRIORITY_WRITE)
    lane = get_visible(session, TransportLane, lane_id, principal)
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is None:
            continue
        setattr(lane, name, value.value if name == "mode" else value)
    session.flush()
    planning.plan(session, principal.tenant_id)
    return lane


# --- the comparison --------------------------------------------------------------------------


def _open_line(session: Session, principal: Principal, line_id: int) -> OrderLineFacts:
    principal.require(Permission.KPI_READ)
    line = get_visible(session, OrderLine, line_id, principal)
    found = [
        facts
        for facts in open_line_facts(session, principal, order_ids={line.order_id})
        if facts.order_line_id == line.id
    ]
    if not found:
        raise conflict(
            Code.LINE_NOT_OPEN,
            "Order line {line_id} is not open: nothing is left to ship.",
            "order_line_id",
            line_id=line.id,
        )
    return found[0]


def _units_at_sites(
    session: Session, tenant_id: int, network: planning.Network, line: OrderLineFacts
) -> dict[int, int]:
    """Released units of the line's product per site, less what other lines hold there."""
    units: dict[int, int] = defaultdict(int)
    site_of: dict[int, int] = {}
    for lot in network.lots:
        if lot.gtin == line.gtin:
            units[lot.site_id] += lot.quantity
            site_of[lot.location_id] = lot.site_id
    for location_id, quantity, owner in session.execute(
        select(Reservation.location_id, Reservation.quantity, Reservation.order_line_id).where(
            Reservation.tenant_id == tenant_id,
            Reservation.gtin == line.gtin,
            Reservation.status.in_(planning.ACTIVE_RESERVATION),
        )
    ):
        if owner != line.order_line_id and location_id in site_of:
            units[site_of[location_id]] -= int(quantity)
    return {site: max(n, 0) for site, n in units.items()}


def explain(comparison: LaneComparison, translate: Any = None) -> str:
    """The recommendation's reason in words (``translate(msgid, **params)``, default English)."""
    params: dict[str, Any] = {"promised": comparison.promised.isoformat()}
    chosen = comparison.recommended
    if chosen is not None:
        params.update(
            code=chosen.lane.code,
            spare=max(chosen.days_to_spare, 0),
            late=max(-chosen.days_to_spare, 0),
        )
    message = EXPLANATIONS[comparison.basis]
    if translate is not None:
        return str(translate(message, **params))
    return message.format(**params)


def compare_for_line(
    session: Session, principal: Principal, line_id: int, translate: Any = None
) -> ComparisonOut:
    """Every lane serving the line's ship-to, from every hub site, compared by cost, transit
    time and cold chain against the promised date, with the recommended lane explained."""
    line = _open_line(session, principal, line_id)
    network = planning.load_network(session, principal.tenant_id, {line.gtin})
    book = load_lane_book(session, principal.tenant_id, [line.order_line_id])
    storage = network.storage.get(line.gtin, "ambient")
    serving = [
        lane
        for lane in book.lanes
        if (lane.ship_to_id == line.ship_to_id)
        or (lane.ship_to_id is None and lane.destination_region == line.ship_to_region)
    ]
    comparison = compare_lanes(
        serving,
        as_of=network.as_of,
        promised=line.promised_date,
        quantity=line.quantity_open,
        cold_product=storage != "ambient",
        ship_to_cold_chain=line.ship_to_cold_chain_capable,
        units_at_site=_units_at_sites(session, principal.tenant_id, network, line),
    )
    names = dict(
        session.execute(
            select(Site.id, Site.name).where(
                Site.id.in_(sorted({o.lane.origin_site_id for o in comparison.options}))
            )
        ).all()
    )
    chosen_id = book.choices.get(line.order_line_id)
    route = route_of(
        book,
        order_line_id=line.order_line_id,
        ship_to_id=line.ship_to_id,
        region=line.ship_to_region,
        cold_ok=line.ship_to_cold_chain_capable,
        storage=storage,
    )
    sites = {(lot.site_id, lot.site_region) for lot in network.lots if lot.gtin == line.gtin}
    days = [transit_to(book, route, *site) for site in sorted(sites)]
    usable = [d for d in days if d is not None]
    planned = min(usable) if usable else (None if book.has_lanes else REMOTE_TRANSIT_DAYS)
    return ComparisonOut(
        order_line_id=line.order_line_id,
        order_id=line.order_id,
        gtin=line.gtin,
        quantity_open=line.quantity_open,
        ship_to_id=line.ship_to_id,
        ship_to_region=line.ship_to_region,
        ship_to_cold_chain_capable=line.ship_to_cold_chain_capable,
        cold_product=comparison.cold,
        as_of=network.as_of,
        promised_date=line.promised_date,
        options=[
            LaneOptionOut(
                lane_id=o.lane.id,
                code=o.lane.code,
                origin_site_id=o.lane.origin_site_id,
                origin_site=names.get(o.lane.origin_site_id, ""),
                carrier=o.lane.carrier,
                mode=o.lane.mode,
                cost=o.lane.cost,
                currency=o.lane.currency,
                transit_days=o.lane.transit_days,
                cold_chain=o.lane.cold_chain,
                origin_units=o.origin_units,
                arrival=o.arrival,
                days_to_spare=o.days_to_spare,
                problems=list(o.problems),
                recommended=o.recommended,
                chosen=o.lane.id == chosen_id,
            )
            for o in comparison.options
        ],
        recommended_lane_id=comparison.recommended.lane.id if comparison.recommended else None,
        basis=comparison.basis,
        explanation=explain(comparison, translate),
        chosen_lane_id=chosen_id,
        planned_transit_days=planned,
    )


def _replan_line(session: Session, tenant_id: int, line: OrderLineFacts) -> None:
    """Give back what the line reserved (not picked), score and plan its order again (the
    score's transit and slack facts follow the lane)."""
    planning.release_reservations(session, [line.order_line_id])
    planning.rescore(session, tenant_id, order_ids={line.order_id})
    planning.plan(session, tenant_id, order_ids={line.order_id})


def choose_lane(session: Session, principal: Principal, line_id: int, data: ChoiceIn) -> LaneChoice:
    """Ship an open order line on ``data.lane_id``: allocation serves it only from the lane's
    origin site, with the lane's transit days (re-planned now)."""
    principal.require(Permission.PRIORITY_WRITE)
    line = _open_line(session, principal, line_id)
    lane = get_visible(session, TransportLane, data.lane_id, principal)
    if not lane.active:
        raise conflict(Code.LANE_INACTIVE, "Lane {code} is not active.", "lane_id", code=lane.code)
    serves = (
        lane.ship_to_id == line.ship_to_id
        if lane.ship_to_id is not None
        else lane.destination_region == line.ship_to_region
    )
    if not serves:
        raise invalid(
            Code.LANE_NOT_SERVING,
            "Lane {code} does not serve the line's ship-to.",
            "lane_id",
            code=lane.code,
        )
    choice = session.scalar(
        select(LaneChoice).where(LaneChoice.order_line_id == line.order_line_id)
    )
    if choice is None:
        choice = LaneChoice(tenant_id=principal.tenant_id, order_line_id=line.order_line_id)
        session.add(choice)
    choice.lane_id = lane.id
    choice.reason = data.reason.strip()
    choice.chosen_by = principal.label
    choice.chosen_at = utcnow()
    session.flush()
    _replan_line(session, principal.tenant_id, line)
    return choice


def clear_choice(session: Session, principal: Principal, line_id: int) -> None:
    """Back to the best lane for the line (re-planned now)."""
    principal.require(Permission.PRIORITY_WRITE)
    line = _open_line(session, principal, line_id)
    choice = session.scalar(
        select(LaneChoice).where(LaneChoice.order_line_id == line.order_line_id)
    )
    if choice is None:
        raise NotFound("No lane was chosen for order line {line_id}.", params={"line_id": line_id})
    session.delete(choice)
    session.flush()
    _replan_line(session, principal.tenant_id, line)
