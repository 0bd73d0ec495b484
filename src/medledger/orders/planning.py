"""Priority scores and stock reservations of open order lines, kept true when facts change.

* **Rule sets** are versions of the engine's rule-set JSON (``priority.scoring``), stored in
  ``priority_rule_sets``: a planner saves a draft, a second person activates it with an
  e-signature through an approval (``orders/approvals.py``). One version is active.
* **Scores** (``order_line_scores``) are computed at intake (every channel goes through
  ``service.place_order``), on amendment, on activation of a rule set and on
  ``medledger score``; each is the sum of its factor contributions (plus an approved manual
  override's adjustment, shown as its own contribution).
* **Allocation** builds the engine's instance (``priority.instance``) from live stock —
  released balances of unexpired, unrecalled lots, per location — and the open demand not yet
  reserved, solves it, and writes reservations (``order_reservations``) and shortfalls with
  their reasons. Existing reservations are kept (no automatic pre-emption); a pre-emption is
  an explicit, approved step (``orders/approvals.py``).
* **Re-plan**: a stock-change handler (``inventory.hooks``) drops reservations that released
  stock no longer covers (a lot put on hold, recalled, rejected, scrapped) and re-plans the
  lines of the product in the same transaction.

Lanes and promise dates: ``orders/planning_supply.py``. A line's engine region is its route
(ship-to region, cold-chain capability, and with lane master data the ship-to a lane names,
the lane chosen for the line and a cold product); the lane from a stock location is the chosen
lane or the best serving lane of the location's site (``transport.lanes``), else the default
2 / 7 days while the tenant has no lanes. Shortfalls are promised from incoming supply:
confirmed purchase orders, work orders with a due date, else the supplier lead time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from medledger.catalog.models import MarketAuthorisation, Product
from medledger.core.db import utcnow
from medledger.core.principal import Permission, Principal
from medledger.core.system import tenant_admin
from medledger.core.work import work_of
from medledger.inventory.hooks import StockChange, register_stock_change_handler
from medledger.inventory.models import InventoryLot, StockBalance, StockStatus
from medledger.orders import planning_queue
from medledger.orders.errors import Code, planning_conflict, planning_invalid
from medledger.orders.models import Order, OrderLine
from medledger.orders.planning_models import (
    LineScore,
    LineShortfall,
    PriorityRuleSet,
    Reservation,
    ReservationStatus,
    RuleSetState,
)
from medledger.orders.planning_supply import (
    REMOTE_TRANSIT_DAYS,
    Route,
    Supply,
    engine_lane,
    incoming_supply,
    route_of,
    site_facts,
    transit_to,
)
from medledger.orders.repository import OPEN_STATUSES, OrderLineFacts, open_line_facts
from medledger.parties.models import Location, Party, Site
from medledger.priority import scoring
from medledger.priority.allocate import allocate_instance
from medledger.priority.errors import RuleSetError
from medledger.priority.instance import parse_instance
from medledger.purchasing.demand import register_demand_source
from medledger.transport.lanes import LaneBook, load_lane_book

EU_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)
ENGINE_STORAGE = {"ambient": "ambient", "chilled_2_8": "cold", "frozen": "frozen"}
NO_EXPIRY_DAYS = 3650
TIERS = ("strategic", "key", "standard", "occasional")
STOCK_STATES = ("available", "scarce", "short")
# Board columns set by planning (the others are set by people: picking, shipped, delivered).
PLANNED_COLUMNS = frozenset({"new", "scored", "allocated", "backorder", "qc_hold", "compliance"})
COMPLIANCE_REASONS = frozenset({"not_authorized_in_region", "no_cold_chain_lane", "no_lane"})
ACTIVE_RESERVATION = (ReservationStatus.RESERVED.value, ReservationStatus.PICKED.value)


def region_of(country: str, fallback: str = "") -> str:
    country = (country or "").upper()
    if country in ("US", "CN"):
        return country
    if country in EU_COUNTRIES:
        return "EU"
    return fallback or country


def _admin(session: Session, tenant_id: int) -> Principal:
    return tenant_admin(session, tenant_id, label="planning")


# --- rule sets -------------------------------------------------------------------------------


def active_rule_set(session: Session, tenant_id: int) -> PriorityRuleSet:
    """The active version; the default rules (``priority.scoring``) become version 1 the first
    time a tenant needs a score."""
    found = session.scalars(
        select(PriorityRuleSet).where(
            PriorityRuleSet.tenant_id == tenant_id,
            PriorityRuleSet.state == RuleSetState.ACTIVE.value,
        )
    ).first()
    if found is not None:
        return found
    rules = scoring.default_rule_set()
    hub = _admin(session, tenant_id).party_id
    row = PriorityRuleSet(
        tenant_id=tenant_id,
        party_id=hub,
        name=rules.name,
        version=_next_version(session, tenant_id),
        document=rules.to_json(),
        digest=rules.digest(),
        state=RuleSetState.ACTIVE.value,
        note="The default rules, installed with the first score.",
        activated_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def _next_version(session: Session, tenant_id: int) -> int:
    current = session.scalar(
        select(func.max(PriorityRuleSet.version)).where(PriorityRuleSet.tenant_id == tenant_id)
    )
    return int(current or 0) + 1


def save_draft(
    session: Session, principal: Principal, document: Any, note: str = ""
) -> PriorityRuleSet:
    """Store a new draft version (the next number) of the rule set; validated by the engine."""
    principal.require(Permission.PRIORITY_WRITE)
    if isinstance(document, dict):
        document = {**document, "version": _next_version(session, principal.tenant_id)}
    try:
        rules = scoring.rule_set_from_json(document)
        # Every fact column must exist: score one empty line set to find out.
        scoring.score_lines(rules, _empty_facts())
    except RuleSetError as error:
        raise planning_invalid(
            Code.RULE_SET_INVALID,
            "The rule set is not valid: {problem}",
            f"document.{error.field}",
            problem=str(error.message),
        ) from None
    row = PriorityRuleSet(
        tenant_id=principal.tenant_id,
        party_id=principal.hub_party_id or principal.party_id,
        name=rules.name,
        version=rules.version,
        document=rules.to_json(),
        digest=rules.digest(),
        state=RuleSetState.DRAFT.value,
        note=note.strip()[:2000],
        created_by_user_id=principal.user_id,
    )
    session.add(row)
    session.flush()
    return row


def activate(session: Session, tenant_id: int, rule_set: PriorityRuleSet) -> None:
    """Make ``rule_set`` the active version (the previous one retires), rescore and re-plan.
    Called by an approved activation (orders/approvals.py)."""
    if rule_set.state != RuleSetState.DRAFT.value:
        raise planning_conflict(
            Code.RULE_SET_NOT_DRAFT,
            "Rule set version {version} is {state}; only a draft can be activated.",
            "rule_set_id",
            version=rule_set.version,
            state=rule_set.state,
        )
    for other in session.scalars(
        select(PriorityRuleSet).where(
            PriorityRuleSet.tenant_id == tenant_id,
            PriorityRuleSet.state == RuleSetState.ACTIVE.value,
        )
    ):
        other.state = RuleSetState.RETIRED.value
    session.flush()
    rule_set.state = RuleSetState.ACTIVE.value
    rule_set.activated_at = utcnow()
    session.flush()
    rescore(session, tenant_id)
    plan(session, tenant_id)


# --- network snapshot ------------------------------------------------------------------------


@dataclass(frozen=True)
class StockLot:
    location_id: int
    site_region: str
    storage: str
    gtin: str
    lot: str
    expiry: date | None
    quantity: int  # units at the location in ``status``
    status: str = StockStatus.RELEASED.value
    site_id: int = 0


@dataclass
class Network:
    as_of: date
    storage: dict[str, str]  # gtin -> engine storage class
    authorised: dict[str, set[str]]  # gtin -> regions
    lots: list[StockLot]  # released, unexpired, unrecalled: what may be reserved
    held: dict[str, int]  # gtin -> units in quarantine / on hold
    # Unexpired stock in another status (quarantine, on hold, rejected, recalled): given to the
    # engine with its status so that shortfalls say ``not_released``.
    blocked_lots: list[StockLot] = field(default_factory=list)
    lanes: LaneBook = field(default_factory=LaneBook)


def load_network(
    session: Session, tenant_id: int, gtins: set[str], as_of: date | None = None
) -> Network:
    """Released, unexpired, unrecalled stock of ``gtins`` per location and lot, with the
    products' storage classes and market authorisations in force on ``as_of``."""
    as_of = as_of or utcnow().date()
    network = Network(as_of, {}, defaultdict(set), [], defaultdict(int))
    if not gtins:
        return network
    network.lanes = load_lane_book(session, tenant_id)
    products = session.execute(
        select(Product.id, Product.gtin, Product.storage_class).where(
            Product.tenant_id == tenant_id, Product.gtin.in_(sorted(gtins))
        )
    ).all()
    by_id = {pid: gtin for pid, gtin, _ in products}
    network.storage = {
        gtin: ENGINE_STORAGE.get(storage, "ambient") for _, gtin, storage in products
    }
    for product_id, region in session.execute(
        select(MarketAuthorisation.product_id, MarketAuthorisation.region).where(
            MarketAuthorisation.tenant_id == tenant_id,
            MarketAuthorisation.product_id.in_(list(by_id)),
            MarketAuthorisation.active.is_(True),
            MarketAuthorisation.valid_from <= as_of,
            (MarketAuthorisation.valid_until.is_(None))
            | (MarketAuthorisation.valid_until >= as_of),
        )
    ):
        network.authorised[by_id[product_id]].add(region)
    rows = session.execute(
        select(
            StockBalance.location_id,
            Location.site_id,
            Site.country,
            Party.region,
            Location.storage_class,
            StockBalance.gtin,
            StockBalance.lot,
            InventoryLot.expiry,
            InventoryLot.recalled,
            StockBalance.status,
            func.sum(StockBalance.quantity),
        )
        .join(Location, Location.id == StockBalance.location_id)
        .join(Site, Site.id == Location.site_id)
        .join(Party, Party.id == Site.party_id)
        .outerjoin(
            InventoryLot,
            (InventoryLot.tenant_id == StockBalance.tenant_id)
            & (InventoryLot.gtin == StockBalance.gtin)
            & (InventoryLot.lot == StockBalance.lot),
        )
        .where(
            StockBalance.tenant_id == tenant_id,
            StockBalance.gtin.in_(sorted(gtins)),
            StockBalance.quantity > 0,
        )
        .group_by(
            StockBalance.location_id,
            Location.site_id,
            Site.country,
            Party.region,
            Location.storage_class,
            StockBalance.gtin,
            StockBalance.lot,
            InventoryLot.expiry,
            InventoryLot.recalled,
            StockBalance.status,
        )
        .order_by(StockBalance.gtin, StockBalance.lot, StockBalance.location_id)
    ).all()
    for (
        location_id,
        site_id,
        country,
        party_region,
        storage,
        gtin,
        lot,
        expiry,
        recalled,
        status,
        qty,
    ) in rows:
        if status in (StockStatus.QUARANTINE.value, StockStatus.ON_HOLD.value):
            network.held[gtin] += int(qty)
        if expiry is not None and expiry <= as_of:
            continue
        found = StockLot(
            int(location_id),
            region_of(country, party_region or ""),
            ENGINE_STORAGE.get(storage, "ambient"),
            gtin,
            lot,
            expiry,
            int(qty),
            StockStatus.RECALLED.value if recalled else status,
            int(site_id),
        )
        if found.status == StockStatus.RELEASED.value:
            network.lots.append(found)
        else:
            network.blocked_lots.append(found)
    return network


def _route(line: OrderLineFacts, network: Network) -> Route:
    return route_of(
        network.lanes,
        order_line_id=line.order_line_id,
        ship_to_id=line.ship_to_id,
        region=line.ship_to_region,
        cold_ok=line.ship_to_cold_chain_capable,
        storage=network.storage.get(line.gtin, "ambient"),
    )


def lot_transit_days(
    network: Network, lot: StockLot, order_line_id: int, ship_to: Any
) -> int | None:
    """Transit days from ``lot``'s location to an order line's ship-to along the line's route
    (the chosen or best lane); None when no lane serves it."""
    route = route_of(
        network.lanes,
        order_line_id=order_line_id,
        ship_to_id=ship_to.id,
        region=ship_to.region,
        cold_ok=ship_to.cold_chain_capable,
        storage=network.storage.get(lot.gtin, "ambient"),
    )
    return transit_to(network.lanes, route, lot.site_id, lot.site_region)


# --- scoring ---------------------------------------------------------------------------------


def _empty_facts() -> scoring.OrderLineFacts:
    return _facts_of([], Network(date.today(), {}, {}, [], {}), {})


def _facts_of(
    lines: list[OrderLineFacts], network: Network, demand: dict[tuple[str, str], int]
) -> scoring.OrderLineFacts:
    """The fact columns of ``lines`` (see docs/orders.md, "Priority scores")."""
    as_of = network.as_of
    stock: dict[str, int] = defaultdict(int)
    stock_region: dict[tuple[str, str], int] = defaultdict(int)
    nearest: dict[tuple[str, str], int] = {}
    for lot in network.lots:
        stock[lot.gtin] += lot.quantity
        stock_region[(lot.gtin, lot.site_region)] += lot.quantity
    total_demand: dict[str, int] = defaultdict(int)
    for (gtin, _region), units in demand.items():
        total_demand[gtin] += units
    n = len(lines)
    cols: dict[str, np.ndarray] = {
        name: np.full(n, np.nan, dtype=np.float32)
        for name in (
            "penalty_per_day",
            "days_to_surgery",
            "slack_days",
            "line_value",
            "regional_cover_weeks",
            "transit_days",
            "age_days",
        )
    }
    tier = np.full(n, -1, dtype=np.int64)
    status = np.full(n, -1, dtype=np.int64)
    blocked = np.zeros(n, dtype=bool)
    for i, line in enumerate(lines):
        region = line.ship_to_region
        tier[i] = TIERS.index(line.customer_tier) if line.customer_tier in TIERS else -1
        if line.penalty_per_day_late is not None:
            cols["penalty_per_day"][i] = float(line.penalty_per_day_late)
        if line.surgery_date is not None:
            cols["days_to_surgery"][i] = (line.surgery_date - as_of).days
        elif line.clinical_urgency == "emergency":
            cols["days_to_surgery"][i] = 0
        elif line.clinical_urgency == "urgent":
            cols["days_to_surgery"][i] = 2
        key = (line.gtin, region)
        route = _route(line, network)
        route_key = (line.gtin, route.key)
        if route_key not in nearest:
            sites = {
                (lot.site_id, lot.site_region) for lot in network.lots if lot.gtin == line.gtin
            }
            days = [transit_to(network.lanes, route, *site) for site in sorted(sites)]
            nearest[route_key] = min(
                (d for d in days if d is not None), default=REMOTE_TRANSIT_DAYS
            )
        transit = nearest[route_key]
        cols["transit_days"][i] = transit
        cols["slack_days"][i] = (line.promised_date - as_of).days - transit
        if line.unit_price is not None:
            cols["line_value"][i] = float(line.unit_price) * line.quantity_open
        authorised = region in network.authorised.get(line.gtin, set())
        region_demand = demand.get(key, 0)
        cover_units = stock[line.gtin] if authorised else 0
        cols["regional_cover_weeks"][i] = (
            4.0 * cover_units / region_demand if region_demand else (4.0 if cover_units else 0.0)
        )
        ratio = stock[line.gtin] / total_demand[line.gtin] if total_demand[line.gtin] else 1.0
        status[i] = 0 if ratio >= 1 else (1 if ratio >= 0.5 else 2)
        cold = network.storage.get(line.gtin, "ambient") != "ambient"
        qc_only = stock[line.gtin] == 0 and network.held.get(line.gtin, 0) > 0
        blocked[i] = (not authorised) or (cold and not line.ship_to_cold_chain_capable) or qc_only
        cols["age_days"][i] = (as_of - line.order_date).days
    return scoring.OrderLineFacts(
        n=n,
        columns={**cols, "customer_tier": tier, "stock_status": status, "blocked": blocked},
        vocabularies={"customer_tier": TIERS, "stock_status": STOCK_STATES},
    )


def _open_lines(
    session: Session,
    tenant_id: int,
    *,
    order_ids: set[int] | None = None,
    gtins: set[str] | None = None,
) -> list[OrderLineFacts]:
    return open_line_facts(session, _admin(session, tenant_id), order_ids=order_ids, gtins=gtins)


def _demand(session: Session, tenant_id: int, gtins: set[str]) -> dict[tuple[str, str], int]:
    from medledger.orders.models import ShipTo

    demand: dict[tuple[str, str], int] = defaultdict(int)
    if not gtins:
        return demand
    for gtin, region, units in session.execute(
        select(
            OrderLine.gtin,
            ShipTo.region,
            func.sum(OrderLine.quantity - OrderLine.delivered_quantity),
        )
        .join(Order, Order.id == OrderLine.order_id)
        .join(ShipTo, ShipTo.id == Order.ship_to_id)
        .where(
            OrderLine.tenant_id == tenant_id,
            OrderLine.status.in_(OPEN_STATUSES),
            OrderLine.gtin.in_(sorted(gtins)),
        )
        .group_by(OrderLine.gtin, ShipTo.region)
    ):
        demand[(gtin, region)] = int(units or 0)
    return demand


@dataclass(frozen=True)
class RescoreResult:
    rule_set: PriorityRuleSet
    lines: int


def rescore(
    session: Session,
    tenant_id: int,
    *,
    order_ids: set[int] | None = None,
    loaded: tuple[list[OrderLineFacts], Network] | None = None,
    new_order: Order | None = None,
) -> RescoreResult:
    """Score the open lines (of ``order_ids``, or all) with the active rule set and store each
    score with its contributions. Orders still in the board's ``new`` column move to
    ``scored``. ``new_order``: the lines are those of this order, just placed (no score of
    theirs exists yet)."""
    row = active_rule_set(session, tenant_id)
    rules = scoring.rule_set_from_json(row.document)
    if loaded is None:
        lines = _open_lines(session, tenant_id, order_ids=order_ids)
        network = load_network(session, tenant_id, {line.gtin for line in lines})
    else:
        lines, network = loaded
    gtins = {line.gtin for line in lines}
    facts = _facts_of(lines, network, _demand(session, tenant_id, gtins))
    scores = scoring.score_lines(rules, facts, explain=True)
    existing = {
        s.order_line_id: s
        for s in (
            []
            if new_order is not None
            else session.scalars(
                select(LineScore).where(
                    LineScore.tenant_id == tenant_id,
                    LineScore.order_line_id.in_([line.order_line_id for line in lines]),
                )
            )
        )
    }
    now = utcnow()
    totals = scores.total.tolist()
    for i, line in enumerate(lines):
        contributions: list[list[Any]] = [[k, v] for k, v in scores.explain(i)]
        computed = float(totals[i])
        score = existing.get(line.order_line_id)
        if score is None:
            score = LineScore(
                tenant_id=tenant_id,
                party_id=line.customer_party_id,
                order_id=line.order_id,
                order_line_id=line.order_line_id,
            )
            session.add(score)
        total = computed
        if score.override_score is not None:
            contributions.append(["manual_override", float(score.override_score) - computed])
            total = float(score.override_score)
        score.rule_set_id = row.id
        score.score = total
        score.contributions = contributions
        score.computed_at = now
    order_set = {line.order_id for line in lines}
    if new_order is not None:
        if order_set and new_order.board_state == "new":
            new_order.board_state = "scored"
    elif order_set:
        for order in session.scalars(
            select(Order).where(Order.id.in_(sorted(order_set)), Order.board_state == "new")
        ):
            order.board_state = "scored"
    session.flush()
    return RescoreResult(row, len(lines))


def explained(score: LineScore, rule_set: PriorityRuleSet | None) -> list[dict[str, Any]]:
    """The contributions of a score with their labels (their sum is the score)."""
    labels = {}
    if rule_set is not None:
        labels = {f["key"]: f.get("label") or f["key"] for f in rule_set.document["factors"]}
    labels["manual_override"] = "Manual override (approved)"
    return [
        {"factor": key, "label": labels.get(key, key), "contribution": round(float(value), 4)}
        for key, value in score.contributions
    ]


# --- allocation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanResult:
    solver: str
    lines: int
    reserved_units: int
    shortfall_units: int


def _reserved(session: Session, tenant_id: int, gtins: set[str]) -> list[Reservation]:
    return list(
        session.scalars(
            select(Reservation)
            .where(
                Reservation.tenant_id == tenant_id,
                Reservation.gtin.in_(sorted(gtins)),
                Reservation.status.in_(ACTIVE_RESERVATION),
            )
            .order_by(Reservation.id)
        )
    )


def plan(
    session: Session,
    tenant_id: int,
    *,
    gtins: set[str] | None = None,
    order_ids: set[int] | None = None,
    solver: str = "auto",
    loaded: tuple[list[OrderLineFacts], Network] | None = None,
) -> PlanResult:
    """Reserve free released stock for the open demand not yet reserved (of ``order_ids`` or
    of ``gtins``, or all), highest priority first as the engine decides; record shortfalls
    with their reasons; move the orders on the board. Existing reservations stay."""
    if loaded is None:
        lines = _open_lines(session, tenant_id, order_ids=order_ids, gtins=gtins)
        network = load_network(session, tenant_id, {line.gtin for line in lines})
    else:
        lines, network = loaded
    all_gtins = {line.gtin for line in lines}
    reservations = _reserved(session, tenant_id, all_gtins)
    held_by_line: dict[int, int] = defaultdict(int)
    held_by_lot: dict[tuple[int, str, str], int] = defaultdict(int)
    for r in reservations:
        held_by_line[r.order_line_id] += r.quantity
        held_by_lot[(r.location_id, r.gtin, r.lot)] += r.quantity
    scores = dict(
        session.execute(
            select(LineScore.order_line_id, LineScore.score).where(
                LineScore.tenant_id == tenant_id,
                LineScore.order_line_id.in_([line.order_line_id for line in lines]),
            )
        ).all()
    )
    as_of = network.as_of
    routes: dict[str, Route] = {}
    instance_lines = []
    by_id: dict[str, OrderLineFacts] = {}
    for line in lines:
        remaining = line.quantity_open - held_by_line.get(line.order_line_id, 0)
        if remaining <= 0 or line.gtin not in network.storage:
            continue
        route = _route(line, network)
        region = route.key
        routes[region] = route
        score = float(scores.get(line.order_line_id, 0.0))
        instance_lines.append(
            {
                "id": str(line.order_line_id),
                "gtin": line.gtin,
                "quantity": remaining,
                "region": region,
                "min_shelf_life_days": line.min_remaining_shelf_life_days,
                # The engine takes non-negative priorities; blocked lines (negative scores)
                # share the lowest one, and none is 0 (a 0 line is never served).
                "priority": max(score, 0.0) + 1.0,
                "ship_complete": False,
            }
        )
        by_id[str(line.order_line_id)] = line
    lots = []
    locations: dict[int, tuple[int, str, set[str]]] = {}
    for lot in network.lots:
        free = lot.quantity - held_by_lot.get((lot.location_id, lot.gtin, lot.lot), 0)
        if free <= 0:
            continue
        locations.setdefault(lot.location_id, (lot.site_id, lot.site_region, set()))[2].add(
            lot.storage
        )
        expiry = lot.expiry or (as_of + timedelta(days=NO_EXPIRY_DAYS))
        lots.append(
            {
                "id": f"{lot.location_id}|{lot.gtin}|{lot.lot}",
                "gtin": lot.gtin,
                "lot": lot.lot,
                "site": str(lot.location_id),
                "quantity": free,
                "expiry": expiry.isoformat(),
                "status": "released",
            }
        )
    for number, lot in enumerate(network.blocked_lots):
        if lot.status not in ("quarantine", "on_hold", "rejected", "recalled"):
            continue
        locations.setdefault(lot.location_id, (lot.site_id, lot.site_region, set()))[2].add(
            lot.storage
        )
        expiry = lot.expiry or (as_of + timedelta(days=NO_EXPIRY_DAYS))
        lots.append(
            {
                "id": f"{lot.location_id}|{lot.gtin}|{lot.lot}|{lot.status}|{number}",
                "gtin": lot.gtin,
                "lot": lot.lot,
                "site": str(lot.location_id),
                "quantity": lot.quantity,
                "expiry": expiry.isoformat(),
                "status": lot.status,
            }
        )
    incoming = _incoming(
        session,
        tenant_id,
        network,
        {str(line["gtin"]) for line in instance_lines},
        {line.order_line_id for line in lines},
    )
    for location_id, site_id, site_region, storage in incoming[1]:
        locations.setdefault(location_id, (site_id, site_region, set()))[2].add(storage)
    lanes = []
    for location_id, (site_id, site_region, _) in sorted(locations.items()):
        for region in sorted(routes):
            lane = engine_lane(network.lanes, routes[region], site_id, site_region)
            if lane is not None:
                lanes.append({"site": str(location_id), "region": region, **lane})
    document = {
        "as_of": as_of.isoformat(),
        "products": [
            {
                "gtin": gtin,
                "storage": storage,
                "authorized_regions": sorted(
                    key
                    for key, route in routes.items()
                    if route.region in network.authorised.get(gtin, set())
                ),
            }
            for gtin, storage in sorted(network.storage.items())
        ],
        "sites": [
            {"id": str(location_id), "storage": sorted(storages)}
            for location_id, (_, _, storages) in sorted(locations.items())
        ],
        "lanes": lanes,
        "lots": lots,
        "lines": instance_lines,
        "incoming": incoming[0],
    }
    planned_lines = [line.order_line_id for line in lines]
    if planned_lines:
        session.execute(
            delete(LineShortfall).where(
                LineShortfall.tenant_id == tenant_id,
                LineShortfall.order_line_id.in_(planned_lines),
            )
        )
    solver_used, reserved_units, short_units = "none", 0, 0
    if instance_lines:
        result = allocate_instance(parse_instance(document), solver)  # type: ignore[arg-type]
        output = result.to_json()
        solver_used = output["solver"]
        expiry_of = {str(lot["id"]): str(lot["expiry"]) for lot in lots}
        mergeable = {
            (r.order_line_id, r.location_id, r.gtin, r.lot): r
            for r in reservations
            if r.status == ReservationStatus.RESERVED.value
        }
        for assignment in output["assignments"]:
            line = by_id[assignment["line"]]
            location_id, gtin, lot_code = assignment["lot"].split("|")[:3]
            key = (line.order_line_id, int(location_id), gtin, lot_code)
            if key in mergeable:
                # One reservation per line and lot: more units of a lot the line holds.
                mergeable[key].quantity += assignment["quantity"]
                reserved_units += assignment["quantity"]
                continue
            session.add(
                Reservation(
                    tenant_id=tenant_id,
                    party_id=line.customer_party_id,
                    order_id=line.order_id,
                    order_line_id=line.order_line_id,
                    location_id=int(location_id),
                    gtin=gtin,
                    lot=lot_code,
                    expiry=date.fromisoformat(expiry_of[assignment["lot"]]),
                    quantity=assignment["quantity"],
                )
            )
            reserved_units += assignment["quantity"]
        for entry in output["lines"]:
            if entry["shortfall"] <= 0:
                continue
            line = by_id[entry["id"]]
            short_units += entry["shortfall"]
            session.add(
                LineShortfall(
                    tenant_id=tenant_id,
                    party_id=line.customer_party_id,
                    order_id=line.order_id,
                    order_line_id=line.order_line_id,
                    gtin=line.gtin,
                    quantity=entry["shortfall"],
                    reasons=entry["reasons"],
                    promise_date=(
                        date.fromisoformat(entry["promise_date"])
                        if entry.get("promise_date")
                        else None
                    ),
                )
            )
    # Lines of products we do not know (no product row) cannot be planned at all.
    for line in lines:
        if line.gtin not in network.storage and line.quantity_open > held_by_line.get(
            line.order_line_id, 0
        ):
            session.add(
                LineShortfall(
                    tenant_id=tenant_id,
                    party_id=line.customer_party_id,
                    order_id=line.order_id,
                    order_line_id=line.order_line_id,
                    gtin=line.gtin,
                    quantity=line.quantity_open - held_by_line.get(line.order_line_id, 0),
                    reasons=["out_of_stock"],
                )
            )
    session.flush()
    settle_board(session, tenant_id, {line.order_id for line in lines})
    return PlanResult(solver_used, len(instance_lines), reserved_units, short_units)


def _incoming(
    session: Session, tenant_id: int, network: Network, gtins: set[str], planned: set[int]
) -> tuple[list[dict[str, Any]], list[tuple[int, int, str, str]]]:
    """The instance's ``incoming`` (planning_supply.incoming_supply) less what is promised to
    lines outside this plan, and the receiving locations it names: (location, site, site
    region, storage class)."""
    supplies = incoming_supply(session, tenant_id, gtins, network.as_of)
    supplies = _unclaimed(session, tenant_id, supplies, gtins, planned)
    sites = site_facts(session, tenant_id, {s.site_id for s in supplies})
    entries: list[dict[str, Any]] = []
    places: list[tuple[int, int, str, str]] = []
    for supply in supplies:
        storage = network.storage.get(supply.gtin, "ambient")
        site = sites.get(supply.site_id)
        location_id = site.locations.get(storage) if site is not None else None
        if site is None or location_id is None:
            continue  # no location of the product's storage class there: it cannot land
        site_region = region_of(site.region_country, site.party_region)
        places.append((location_id, supply.site_id, site_region, storage))
        entry: dict[str, Any] = {
            "id": supply.id,
            "gtin": supply.gtin,
            "site": str(location_id),
            "quantity": supply.quantity,
            "available": supply.available.isoformat(),
        }
        if supply.expiry is not None:
            entry["expiry"] = supply.expiry.isoformat()
        entries.append(entry)
    return entries, places


def _unclaimed(
    session: Session,
    tenant_id: int,
    supplies: list[Supply],
    gtins: set[str],
    planned: set[int],
) -> list[Supply]:
    """Supply less the units already promised to shortfalls of lines this plan leaves alone
    (they keep their claim: taken from the earliest supply first)."""
    if not gtins:
        return supplies
    claimed: dict[str, int] = defaultdict(int)
    for line_id, gtin, quantity in session.execute(
        select(LineShortfall.order_line_id, LineShortfall.gtin, LineShortfall.quantity).where(
            LineShortfall.tenant_id == tenant_id,
            LineShortfall.gtin.in_(sorted(gtins)),
            LineShortfall.promise_date.is_not(None),
        )
    ):
        if line_id not in planned:
            claimed[gtin] += int(quantity)
    if not claimed:
        return supplies
    left: list[Supply] = []
    for supply in sorted(supplies, key=lambda s: (s.available, s.id)):
        take = min(claimed[supply.gtin], supply.quantity)
        claimed[supply.gtin] -= take
        if supply.quantity > take:
            left.append(replace(supply, quantity=supply.quantity - take))
    return left


def settle_board(session: Session, tenant_id: int, order_ids: set[int]) -> None:
    """Put each order that planning decides about in its column: allocated when every open
    line is reserved in full; otherwise blocked by the strongest reason of its shortfalls."""
    if not order_ids:
        return
    ids = sorted(order_ids)
    reasons: dict[int, set[str]] = defaultdict(set)
    short: set[int] = set()
    for order_id, line_reasons in session.execute(
        select(LineShortfall.order_id, LineShortfall.reasons).where(
            LineShortfall.tenant_id == tenant_id, LineShortfall.order_id.in_(ids)
        )
    ):
        short.add(order_id)
        reasons[order_id].update(line_reasons or [])
    for order in session.scalars(select(Order).where(Order.id.in_(ids))):
        if order.board_state not in PLANNED_COLUMNS or order.status not in OPEN_STATUSES:
            continue
        if order.board_state == "new":
            continue
        if order.id not in short:
            order.board_state = "allocated"
        elif "not_released" in reasons[order.id]:
            order.board_state = "qc_hold"
        elif reasons[order.id] & COMPLIANCE_REASONS:
            order.board_state = "compliance"
        else:
            order.board_state = "backorder"
    session.flush()


def release_reservations(
    session: Session, order_line_ids: list[int], *, include_picked: bool = False
) -> int:
    """Drop the reservations of lines (amended, cancelled, blocked); returns the units."""
    if not order_line_ids:
        return 0
    statuses = ACTIVE_RESERVATION if include_picked else (ReservationStatus.RESERVED.value,)
    dropped = 0
    for r in session.scalars(
        select(Reservation).where(
            Reservation.order_line_id.in_(order_line_ids), Reservation.status.in_(statuses)
        )
    ):
        dropped += r.quantity
        session.delete(r)
    session.flush()
    return dropped


def order_changed(session: Session, order: Order, *, amended: bool = False) -> None:
    """After intake, amendment or cancellation: score the order's open lines and plan them
    (an amendment first gives back what its lines held, so they are planned afresh)."""
    line_ids = list(session.scalars(select(OrderLine.id).where(OrderLine.order_id == order.id)))
    if amended or order.status not in OPEN_STATUSES:
        release_reservations(session, line_ids, include_picked=order.status not in OPEN_STATUSES)
        session.execute(delete(LineShortfall).where(LineShortfall.order_line_id.in_(line_ids)))
        closed = list(
            session.scalars(
                select(OrderLine.id).where(
                    OrderLine.order_id == order.id, OrderLine.status.not_in(OPEN_STATUSES)
                )
            )
        )
        if closed:
            session.execute(delete(LineScore).where(LineScore.order_line_id.in_(closed)))
        if order.status not in OPEN_STATUSES:
            session.flush()
            return
        if order.board_state in PLANNED_COLUMNS and order.board_state != "new":
            order.board_state = "scored"
    # One read of the order's open lines and of the stock of its products serves both.
    lines = _open_lines(session, order.tenant_id, order_ids={order.id})
    loaded = (lines, load_network(session, order.tenant_id, {line.gtin for line in lines}))
    rescore(session, order.tenant_id, loaded=loaded)
    plan(session, order.tenant_id, loaded=loaded)


def order_placed(session: Session, order: Order) -> None:
    """At intake: score the new order's lines (it moves to ``scored``) and queue its planning
    for after the commit (``orders/planning_queue.py``): reservations are not made in the
    intake's transaction."""
    actor = work_of(session).actor
    # The acting principal sees the order it placed (no need to build the tenant's admin).
    if isinstance(actor, Principal) and actor.tenant_id == order.tenant_id:
        lines = open_line_facts(session, actor, order_ids={order.id})
    else:
        lines = _open_lines(session, order.tenant_id, order_ids={order.id})
    network = load_network(session, order.tenant_id, {line.gtin for line in lines})
    rescore(session, order.tenant_id, loaded=(lines, network), new_order=order)
    planning_queue.queue(session, order.tenant_id)


def delivered(session: Session, line: OrderLine, quantity: int) -> None:
    """A delivery of ``quantity`` consumes the line's reservations (shipped first, then picked,
    then reserved); a line no longer open keeps none, and its shortfall goes."""
    left = quantity
    rank = {ReservationStatus.SHIPPED.value: 0, ReservationStatus.PICKED.value: 1}
    held = sorted(
        session.scalars(select(Reservation).where(Reservation.order_line_id == line.id)),
        key=lambda r: (rank.get(r.status, 2), r.id),
    )
    for r in held:
        if left <= 0 and line.status in OPEN_STATUSES:
            break
        take = r.quantity if line.status not in OPEN_STATUSES else min(left, r.quantity)
        left -= take
        if take >= r.quantity:
            session.delete(r)
        else:
            r.quantity -= take
    if line.status not in OPEN_STATUSES:
        session.execute(delete(LineShortfall).where(LineShortfall.order_line_id == line.id))
        session.execute(delete(LineScore).where(LineScore.order_line_id == line.id))
    order = session.get(Order, line.order_id)
    if order is not None and order.status == "delivered":
        order.board_state = "delivered"  # the whole order reached the customer
    session.flush()


def replan_from_scratch(session: Session, tenant_id: int) -> PlanResult:
    """Drop every reservation not yet picked and plan all open demand again by priority (the
    demo seed does this once its backlog is in, so the book is allocated by score, not by
    arrival). Outside the seed, moving reserved stock is a pre-emption (orders/approvals.py)."""
    session.execute(
        delete(Reservation).where(
            Reservation.tenant_id == tenant_id,
            Reservation.status == ReservationStatus.RESERVED.value,
        )
    )
    session.execute(delete(LineShortfall).where(LineShortfall.tenant_id == tenant_id))
    for order in session.scalars(
        select(Order).where(
            Order.tenant_id == tenant_id,
            Order.board_state.in_(sorted(PLANNED_COLUMNS - {"new"})),
        )
    ):
        order.board_state = "scored"
    session.flush()
    rescore(session, tenant_id)
    return plan(session, tenant_id)


# --- the stock-change handler ----------------------------------------------------------------


def reconcile_lots(session: Session, tenant_id: int, lots: set[tuple[str, str]]) -> list[int]:
    """Drop reservations that released stock no longer covers (newest first, picked last);
    returns the order lines that lost units."""
    affected: list[int] = []
    if not lots:
        return affected
    gtins = {gtin for gtin, _ in lots}
    released: dict[tuple[int, str, str], int] = defaultdict(int)
    for location_id, gtin, lot, recalled, quantity in session.execute(
        select(
            StockBalance.location_id,
            StockBalance.gtin,
            StockBalance.lot,
            InventoryLot.recalled,
            func.sum(StockBalance.quantity),
        )
        .outerjoin(
            InventoryLot,
            (InventoryLot.tenant_id == StockBalance.tenant_id)
            & (InventoryLot.gtin == StockBalance.gtin)
            & (InventoryLot.lot == StockBalance.lot),
        )
        .where(
            StockBalance.tenant_id == tenant_id,
            StockBalance.gtin.in_(sorted(gtins)),
            StockBalance.status == StockStatus.RELEASED.value,
        )
        .group_by(
            StockBalance.location_id, StockBalance.gtin, StockBalance.lot, InventoryLot.recalled
        )
    ):
        if not recalled:
            released[(location_id, gtin, lot)] += int(quantity or 0)
    by_place: dict[tuple[int, str, str], list[Reservation]] = defaultdict(list)
    for r in _reserved(session, tenant_id, gtins):
        if (r.gtin, r.lot) in lots:
            by_place[(r.location_id, r.gtin, r.lot)].append(r)
    for place, held in by_place.items():
        excess = sum(r.quantity for r in held) - released.get(place, 0)
        # Reserved before picked, newest first.
        held.sort(key=lambda r: (r.status == ReservationStatus.PICKED.value, -r.id))
        for r in held:
            if excess <= 0:
                break
            take = min(excess, r.quantity)
            excess -= take
            affected.append(r.order_line_id)
            if take == r.quantity:
                session.delete(r)
            else:
                r.quantity -= take
    session.flush()
    return affected


class ReplanOnStockChange:
    """Keeps reservations true to released stock and re-plans the product's open lines."""

    name = "orders.replan"

    def apply(self, change: StockChange) -> None:
        session, tenant_id = change.session, change.tenant_id
        lots: set[tuple[str, str]] = set()
        for movement in change.movements:
            if StockStatus.RELEASED.value in (movement.from_status, movement.to_status):
                lots.add((movement.gtin, movement.lot))
        if not lots:
            return
        gtins = {gtin for gtin, _ in lots}
        has_demand = session.scalar(
            select(OrderLine.id)
            .where(
                OrderLine.tenant_id == tenant_id,
                OrderLine.gtin.in_(sorted(gtins)),
                OrderLine.status.in_(OPEN_STATUSES),
            )
            .limit(1)
        )
        if has_demand is None:
            return
        lost = reconcile_lots(session, tenant_id, lots)
        if lost:
            # Orders being picked that lost stock go back to planning.
            for order in session.scalars(
                select(Order)
                .join(OrderLine, OrderLine.order_id == Order.id)
                .where(OrderLine.id.in_(sorted(set(lost))), Order.board_state == "picking")
            ):
                order.board_state = "scored"
        plan(session, tenant_id, gtins=gtins)


register_stock_change_handler(ReplanOnStockChange())


def committed_demand(session: Session, tenant_id: int) -> dict[str, int]:
    """Open customer demand per GTIN that purchasing must cover: units reserved (still on hand,
    owed to a customer) plus units no stock could be reserved for (the shortfalls)."""
    demand: dict[str, int] = defaultdict(int)
    for gtin, units in session.execute(
        select(LineShortfall.gtin, func.sum(LineShortfall.quantity))
        .where(LineShortfall.tenant_id == tenant_id)
        .group_by(LineShortfall.gtin)
    ):
        demand[gtin] += int(units or 0)
    for gtin, units in session.execute(
        select(Reservation.gtin, func.sum(Reservation.quantity))
        .where(Reservation.tenant_id == tenant_id, Reservation.status.in_(ACTIVE_RESERVATION))
        .group_by(Reservation.gtin)
    ):
        demand[gtin] += int(units or 0)
    return dict(demand)


register_demand_source("orders.committed", committed_demand)


def require_reason(reason: str | None, field: str = "reason") -> str:
    text = (reason or "").strip()
    if not text:
        raise planning_invalid(Code.REASON_REQUIRED, "Give a reason.", field)
    return text[:500]
