"""The KPI board: six figures the whole network runs on, each computed from recorded rows.

Every KPI is a list of :class:`KpiRow` — one per order line, lot, inspection decision, recall
case, or (site, product, month) stock position — with a numerator and a denominator. A figure
over any selection of rows (a month, a site, a customer …) is ``scale × Σ numerator /
Σ denominator``, so the value, the trend, every breakdown and the drill-down list come from the
same rows and always agree.

* ``on_time`` — order lines due in the period (promised date in it, not cancelled, promised
  date passed or fully delivered) delivered in full by the promised date: the ``on time in
  full`` count of the orders OTIF report (``orders.otif``) over its ``lines due``.
* ``traceability`` — lots first seen in the ledger in the period whose record is complete:
  origin recorded (commissioned, or the output of a transformation) and every shipment of it
  received (no open custody hop). The same two checks as a trace's completeness.
* ``recall_response`` — hours from opening a recall case to every consignee's
  acknowledgement (``analytics.facts.recall_cases``, from the recall context's cases).
* ``inspection_time`` — days from a supplier lot's receipt to its accept/reject decision
  (``analytics.facts.inspection_decisions``).
* ``inventory_turns`` — per site, product and month: units shipped over the average on-hand
  units ((start + end) / 2, every status); annualised: ``12 × Σ shipped / Σ average on-hand``.
* ``stock_out`` — per site and product with replenishment settings, and month: whether no
  released stock was left at the site at the end of the month (now, for the current month);
  months that ended before inventory began keeping the site's stock are not counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medledger.analytics import facts as source
from medledger.analytics.errors import Code, invalid
from medledger.analytics.periods import (
    Period,
    check_month,
    month_end,
    month_of,
    month_start,
    period,
)
from medledger.analytics.schemas import BoardOut, BreakdownRowOut, KpiOut, RecordOut
from medledger.core.db import utcnow
from medledger.core.principal import Permission, Principal
from medledger.inventory.models import (
    InventorySite,
    MovementKind,
    ReplenishmentSetting,
    StockMovement,
)
from medledger.orders.models import Customer, Delivery, Order, OrderLine, OrderStatus, ShipTo
from medledger.parties.models import Location, Party
from medledger.trace.models import CustodyHop, EpcisEvent, GenealogyEdge, TraceItem

DIMENSIONS = ("site", "family", "partner", "market")


def N_(message: str) -> str:
    """Mark an English message for extraction; the page translates it."""
    return message


@dataclass(frozen=True)
class KpiDef:
    key: str
    unit: str  # rate | days | hours | turns
    higher_is_better: bool
    target: float
    dimensions: tuple[str, ...]
    scale: float = 1.0


KPIS = (
    KpiDef("on_time", "rate", True, 0.95, ("family", "partner", "market")),
    KpiDef("traceability", "rate", True, 0.98, ("family",)),
    KpiDef("recall_response", "hours", False, 24.0, ("family", "market")),
    KpiDef("inspection_time", "days", False, 5.0, ("site", "family", "partner")),
    KpiDef("inventory_turns", "turns", True, 6.0, ("site", "family"), scale=12.0),
    KpiDef("stock_out", "rate", False, 0.05, ("site", "family")),
)
KPI_KEYS = tuple(k.key for k in KPIS)
_BY_KEY = {k.key: k for k in KPIS}


@dataclass(frozen=True)
class KpiRow:
    """One counted record: its month, its place in each breakdown, its share of the figure."""

    month: str
    numerator: float
    denominator: float
    dims: dict[str, tuple[str, str]]
    kind: str
    ident: int | str
    label: str
    link: str | None
    values: dict[str, Any] = field(default_factory=dict)


def figure(rows: Iterable[KpiRow], scale: float = 1.0) -> float | None:
    """``scale × Σ numerator / Σ denominator`` (None when nothing was counted)."""
    numerator = denominator = 0.0
    for row in rows:
        numerator += row.numerator
        denominator += row.denominator
    return round(scale * numerator / denominator, 4) if denominator else None


def kpi_targets(session: Session, tenant_id: int) -> dict[str, float]:
    from medledger.analytics.service import stored_settings

    stored = stored_settings(session, tenant_id)
    targets = {k.key: k.target for k in KPIS}
    targets.update({k: float(v) for k, v in ((stored.kpi_targets or {}) if stored else {}).items()})
    return targets


# --- the rows of each KPI -------------------------------------------------------------------


def _on_time_rows(session: Session, tenant_id: int, chosen: Period, today: date) -> list[KpiRow]:
    products = source.products_by_gtin(session, tenant_id)
    first_delivery = (
        select(Delivery.order_line_id, func.min(Delivery.delivered_on).label("first"))
        .group_by(Delivery.order_line_id)
        .subquery()
    )
    stmt = (
        select(OrderLine, Order.customer_reference, Customer.id, Party.name, ShipTo.region)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Customer, Customer.id == Order.customer_id)
        .join(Party, Party.id == Customer.party_id)
        .join(ShipTo, ShipTo.id == Order.ship_to_id)
        .outerjoin(first_delivery, first_delivery.c.order_line_id == OrderLine.id)
        .where(OrderLine.tenant_id == tenant_id)
        .where(OrderLine.status != OrderStatus.CANCELLED.value)
        .where((OrderLine.promised_date < today) | (OrderLine.completed_date.is_not(None)))
        .where(OrderLine.promised_date >= chosen.start)
        .where(OrderLine.promised_date <= chosen.end)
        .order_by(OrderLine.promised_date, OrderLine.id)
    )
    rows = []
    for line, reference, customer_id, customer_name, region in session.execute(stmt):
        name, family = products.get(line.gtin, (line.gtin, line.gtin))
        on_time = line.completed_date is not None and line.completed_date <= line.promised_date
        rows.append(
            KpiRow(
                month=month_of(line.promised_date),
                numerator=float(on_time),
                denominator=1.0,
                dims={
                    "family": (family, family),
                    "partner": (str(customer_id), customer_name),
                    "market": (region, region),
                },
                kind="order_line",
                ident=line.id,
                label=f"{reference} / {line.line_number} · {name}",
                link=f"/orders/{line.order_id}",
                values={
                    "promised_date": line.promised_date.isoformat(),
                    "completed_date": line.completed_date.isoformat()
                    if line.completed_date
                    else None,
                    "quantity": line.quantity,
                    "delivered_quantity": line.delivered_quantity,
                    "on_time_in_full": on_time,
                },
            )
        )
    return rows


def _traceability_rows(session: Session, tenant_id: int, chosen: Period) -> list[KpiRow]:
    products = source.products_by_gtin(session, tenant_id)
    lots = session.execute(
        select(
            TraceItem.id,
            TraceItem.gtin,
            TraceItem.lot,
            TraceItem.commissioned,
            EpcisEvent.event_time,
        )
        .join(EpcisEvent, EpcisEvent.id == TraceItem.first_event_id)
        .where(TraceItem.tenant_id == tenant_id)
        .where(TraceItem.kind == "lot")
        .where(EpcisEvent.event_time >= chosen.start_time)
        .where(EpcisEvent.event_time < chosen.end_time)
        .order_by(EpcisEvent.event_time, TraceItem.id)
    ).all()
    if not lots:
        return []
    ids = [row[0] for row in lots]
    produced: set[int] = set()
    open_shipments: dict[int, int] = defaultdict(int)
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        produced |= set(
            session.scalars(
                select(GenealogyEdge.to_item_id)
                .where(GenealogyEdge.tenant_id == tenant_id)
                .where(GenealogyEdge.kind == "transformation")
                .where(GenealogyEdge.retracted_by_event_id.is_(None))
                .where(GenealogyEdge.to_item_id.in_(part))
            )
        )
        for item_id, count in session.execute(
            select(CustodyHop.item_id, func.count())
            .where(CustodyHop.tenant_id == tenant_id)
            .where(CustodyHop.item_id.in_(part))
            .where(CustodyHop.retracted_by_event_id.is_(None))
            .where(CustodyHop.receive_event_row_id.is_(None))
            .where(CustodyHop.to_party_id.is_not(None) | CustodyHop.to_ref.is_not(None))
            .group_by(CustodyHop.item_id)
        ):
            open_shipments[item_id] = count
    rows = []
    for item_id, gtin, lot, commissioned, first_seen in lots:
        name, family = products.get(gtin or "", (gtin or "", gtin or ""))
        origin = bool(commissioned) or item_id in produced
        complete = origin and open_shipments.get(item_id, 0) == 0
        rows.append(
            KpiRow(
                month=month_of(first_seen),
                numerator=float(complete),
                denominator=1.0,
                dims={"family": (family, family)},
                kind="lot",
                ident=item_id,
                label=f"{name} · {lot}",
                link=f"/lots/{item_id}",
                values={
                    "origin_recorded": origin,
                    "unreceived_shipments": open_shipments.get(item_id, 0),
                    "complete": complete,
                },
            )
        )
    return rows


def _recall_rows(session: Session, tenant_id: int, chosen: Period) -> list[KpiRow]:
    products = source.products_by_gtin(session, tenant_id)
    rows = []
    for case in source.recall_cases(session, tenant_id):
        if not chosen.contains(case.opened_at) or case.responded_at is None:
            continue
        _, family = products.get(case.product_gtin, (case.product_gtin, case.product_gtin))
        hours = (case.responded_at - case.opened_at).total_seconds() / 3600
        rows.append(
            KpiRow(
                month=month_of(case.opened_at),
                numerator=hours,
                denominator=1.0,
                dims={"family": (family, family), "market": (case.market, case.market)},
                kind="recall",
                ident=case.case_id,
                label=case.number,
                link=None,
                values={"hours": round(hours, 2)},
            )
        )
    return rows


def _inspection_rows(session: Session, tenant_id: int, chosen: Period) -> list[KpiRow]:
    products = source.products_by_gtin(session, tenant_id)
    sites = source.site_names(session, tenant_id)
    parties = dict(
        session.execute(select(Party.id, Party.name).where(Party.tenant_id == tenant_id)).all()
    )
    rows = []
    for decision in source.inspection_decisions(session, tenant_id, None):
        if not chosen.contains(decision.decided_at) or decision.received_at is None:
            continue
        days = (decision.decided_at - decision.received_at).total_seconds() / 86400
        name, family = products.get(decision.gtin, (decision.gtin, decision.gtin))
        site = decision.site_id
        rows.append(
            KpiRow(
                month=month_of(decision.decided_at),
                numerator=days,
                denominator=1.0,
                dims={
                    "site": (str(site or ""), sites.get(site or 0, "")),
                    "family": (family, family),
                    "partner": (
                        str(decision.supplier_party_id),
                        parties.get(decision.supplier_party_id, ""),
                    ),
                },
                kind="inspection_decision",
                ident=decision.reference,
                label=f"{name} · {decision.lot}",
                link=f"/lots?q={decision.lot}",
                values={
                    "received_at": decision.received_at.isoformat(),
                    "decided_at": decision.decided_at.isoformat(),
                    "days": round(days, 2),
                    "accepted": decision.accepted,
                },
            )
        )
    return rows


@dataclass
class _StockLedger:
    """Units per (site, GTIN) over time, replayed from the append-only stock movements."""

    moves: list[tuple[datetime, int, str, int, str | None, str | None]]  # time, site, gtin, Δ, …

    def on_hand(self, at: datetime, status: str | None = None) -> dict[tuple[int, str], int]:
        totals: dict[tuple[int, str], int] = defaultdict(int)
        for time, site, gtin, delta, from_status, to_status in self.moves:
            if time >= at:
                break
            if status is None:
                totals[(site, gtin)] += delta
            else:
                if to_status == status and delta > 0:
                    totals[(site, gtin)] += delta
                if from_status == status and delta < 0:
                    totals[(site, gtin)] += delta
        return totals


def _stock_ledger(session: Session, tenant_id: int) -> tuple[_StockLedger, list[tuple[Any, ...]]]:
    site_of = dict(
        session.execute(
            select(Location.id, Location.site_id).where(Location.tenant_id == tenant_id)
        ).all()
    )
    moves: list[tuple[datetime, int, str, int, str | None, str | None]] = []
    shipments = []
    for (
        kind,
        gtin,
        quantity,
        from_loc,
        from_status,
        to_loc,
        to_status,
        at,
        movement_id,
    ) in session.execute(
        select(
            StockMovement.kind,
            StockMovement.gtin,
            StockMovement.quantity,
            StockMovement.from_location_id,
            StockMovement.from_status,
            StockMovement.to_location_id,
            StockMovement.to_status,
            StockMovement.occurred_at,
            StockMovement.id,
        )
        .where(StockMovement.tenant_id == tenant_id)
        .order_by(StockMovement.occurred_at, StockMovement.id)
    ):
        if from_loc is not None:
            moves.append((at, site_of.get(from_loc, 0), gtin, -quantity, from_status, None))
        if to_loc is not None:
            moves.append((at, site_of.get(to_loc, 0), gtin, quantity, None, to_status))
        if kind == MovementKind.SHIP.value and from_loc is not None:
            shipments.append((at, site_of.get(from_loc, 0), gtin, quantity, movement_id))
    return _StockLedger(moves), shipments


def _stock_rows(
    session: Session, tenant_id: int, chosen: Period, now: datetime
) -> tuple[list[KpiRow], list[KpiRow]]:
    products = source.products_by_gtin(session, tenant_id)
    sites = source.site_names(session, tenant_id)
    ledger, shipments = _stock_ledger(session, tenant_id)
    shipped: dict[tuple[str, int, str], int] = defaultdict(int)
    for at, site, gtin, quantity, _ in shipments:
        shipped[(month_of(at), site, gtin)] += quantity
    managed = sorted(
        session.execute(
            select(ReplenishmentSetting.site_id, ReplenishmentSetting.gtin).where(
                ReplenishmentSetting.tenant_id == tenant_id
            )
        ).all()
    )
    # A site's stock is known from the day inventory began to keep it there.
    enabled = dict(
        session.execute(
            select(InventorySite.site_id, InventorySite.enabled_at).where(
                InventorySite.tenant_id == tenant_id
            )
        ).all()
    )
    turns: list[KpiRow] = []
    outs: list[KpiRow] = []
    for month in chosen.months:
        start = max(month_start(month), chosen.start_time)
        end = min(month_end(month), now)
        if start >= end:
            continue
        at_start = ledger.on_hand(start)
        at_end = ledger.on_hand(end)
        released = ledger.on_hand(end, "released")
        keys = sorted(
            {k for k, v in at_start.items() if v}
            | {k for k, v in at_end.items() if v}
            | {(s, g) for (m, s, g) in shipped if m == month}
        )
        for site, gtin in keys:
            average = (at_start.get((site, gtin), 0) + at_end.get((site, gtin), 0)) / 2
            units = shipped.get((month, site, gtin), 0)
            if average <= 0:
                continue
            name, family = products.get(gtin, (gtin, gtin))
            turns.append(
                KpiRow(
                    month=month,
                    numerator=float(units),
                    denominator=average,
                    dims={"site": (str(site), sites.get(site, "")), "family": (family, family)},
                    kind="stock_position",
                    ident=f"{month}:{site}:{gtin}",
                    label=f"{sites.get(site, '')} · {name} · {month}",
                    link=f"/inventory/movements?gtin={gtin}",
                    values={
                        "on_hand_start": at_start.get((site, gtin), 0),
                        "on_hand_end": at_end.get((site, gtin), 0),
                        "shipped": units,
                    },
                )
            )
        for site, gtin in managed:
            if site not in enabled or enabled[site] >= end:
                continue  # stock not kept here yet: unknown, not out
            left = released.get((site, gtin), 0)
            name, family = products.get(gtin, (gtin, gtin))
            outs.append(
                KpiRow(
                    month=month,
                    numerator=float(left <= 0),
                    denominator=1.0,
                    dims={"site": (str(site), sites.get(site, "")), "family": (family, family)},
                    kind="stock_position",
                    ident=f"{month}:{site}:{gtin}",
                    label=f"{sites.get(site, '')} · {name} · {month}",
                    link=f"/inventory/stock?gtin={gtin}",
                    values={"released_at_end": left, "stock_out": left <= 0},
                )
            )
    return turns, outs


def kpi_rows(
    session: Session, tenant_id: int, chosen: Period, now: datetime
) -> dict[str, list[KpiRow]]:
    """Every KPI's rows in the period."""
    turns, outs = _stock_rows(session, tenant_id, chosen, now)
    return {
        "on_time": _on_time_rows(session, tenant_id, chosen, now.date()),
        "traceability": _traceability_rows(session, tenant_id, chosen),
        "recall_response": _recall_rows(session, tenant_id, chosen),
        "inspection_time": _inspection_rows(session, tenant_id, chosen),
        "inventory_turns": turns,
        "stock_out": outs,
    }


def _breakdown(rows: list[KpiRow], dimension: str, scale: float) -> list[BreakdownRowOut]:
    groups: dict[tuple[str, str], list[KpiRow]] = defaultdict(list)
    for row in rows:
        if dimension in row.dims:
            groups[row.dims[dimension]].append(row)
    return [
        BreakdownRowOut(key=key, label=label or key, value=figure(group, scale), count=len(group))
        for (key, label), group in sorted(groups.items(), key=lambda item: item[0][1].casefold())
    ]


def _check(principal: Principal) -> None:
    principal.require(Permission.KPI_READ)


def _chosen(date_from: date | None, date_to: date | None, now: datetime) -> Period:
    return period(date_from, date_to, now.date(), months=6)


def board(
    session: Session,
    principal: Principal,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    now: datetime | None = None,
) -> BoardOut:
    """The KPI board for the period (default: the last 6 calendar months)."""
    _check(principal)
    now = now or utcnow()
    chosen = _chosen(date_from, date_to, now)
    targets = kpi_targets(session, principal.tenant_id)
    all_rows = kpi_rows(session, principal.tenant_id, chosen, now)
    kpis = []
    for definition in KPIS:
        rows = all_rows[definition.key]
        by_month: dict[str, list[KpiRow]] = defaultdict(list)
        for row in rows:
            by_month[row.month].append(row)
        note = None
        if definition.key == "recall_response" and not rows:
            note = N_("No recalls recorded.")
        kpis.append(
            KpiOut(
                key=definition.key,
                unit=definition.unit,
                value=figure(rows, definition.scale),
                target=targets.get(definition.key),
                higher_is_better=definition.higher_is_better,
                count=len(rows),
                note=note,
                trend=[
                    {
                        "month": month,
                        "value": figure(by_month.get(month, []), definition.scale),
                        "count": len(by_month.get(month, [])),
                    }
                    for month in chosen.months
                ],
                breakdowns={
                    dimension: _breakdown(rows, dimension, definition.scale)
                    for dimension in definition.dimensions
                },
            )
        )
    return BoardOut(date_from=chosen.start, date_to=chosen.end, kpis=kpis)


def kpi_records(
    session: Session,
    principal: Principal,
    key: str,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    month: str | None = None,
    dimension: str | None = None,
    value: str | None = None,
    now: datetime | None = None,
) -> tuple[list[RecordOut], float | None]:
    """The rows behind a KPI (of one month, of one breakdown group), and their figure."""
    _check(principal)
    definition = _BY_KEY.get(key)
    if definition is None:
        raise invalid(
            Code.KPI_UNKNOWN, "Choose one of: {expected}.", "kpi", expected=", ".join(KPI_KEYS)
        )
    if dimension and dimension not in definition.dimensions:
        raise invalid(
            Code.DIMENSION_UNKNOWN,
            "Choose one of: {expected}.",
            "dimension",
            expected=", ".join(definition.dimensions),
        )
    now = now or utcnow()
    chosen = _chosen(date_from, date_to, now)
    rows = kpi_rows(session, principal.tenant_id, chosen, now)[key]
    if month:
        check_month(month)
        rows = [row for row in rows if row.month == month]
    if dimension and value is not None:
        rows = [row for row in rows if row.dims.get(dimension, ("", ""))[0] == value]
    return (
        [
            RecordOut(
                kind=row.kind,
                id=row.ident,
                label=row.label,
                link=row.link,
                values={"numerator": row.numerator, "denominator": row.denominator, **row.values},
            )
            for row in rows
        ],
        figure(rows, definition.scale),
    )
