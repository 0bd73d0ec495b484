"""Forward-looking analytics over recorded history: demand forecasts per product and region
(from order lines), and control charts over measured values per lot.

Measured characteristics come from a small registry so that quality's numeric inspection
results register theirs after the merge (``register_characteristic``). Built in today: the
supplier lead time of a lot (ASN ship date → first receipt, days) and its inspection time
(receipt → accept/reject decision, days)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from medledger.analytics import facts as source
from medledger.analytics.errors import Code, invalid
from medledger.analytics.forecast import forecast
from medledger.analytics.periods import add_months, first_day, month_of, next_month
from medledger.analytics.spc import NELSON, WESTERN_ELECTRIC, individuals_chart, xbar_r_chart
from medledger.core.db import utcnow
from medledger.core.principal import Permission, Principal
from medledger.inventory.models import MovementKind, StockMovement
from medledger.orders.models import Order, OrderLine, OrderStatus, ShipTo
from medledger.parties.models import Party
from medledger.purchasing.models import AdvanceShipNotice, AsnLine
from medledger.quality.models import Ncr

MAX_HISTORY_MONTHS = 60


# --- demand forecast -------------------------------------------------------------------------


def demand_history(
    session: Session, tenant_id: int, as_of: date, gtin: str | None = None
) -> tuple[list[str], dict[tuple[str, str], list[float]]]:
    """Ordered units per month (of the requested delivery date) per (GTIN, region of the
    ship-to), cancelled lines left out, up to the last complete month before ``as_of``."""
    last = add_months(month_of(as_of), -1)
    earliest = first_day(add_months(last, -(MAX_HISTORY_MONTHS - 1)))
    stmt = (
        select(OrderLine.gtin, ShipTo.region, OrderLine.requested_delivery_date, OrderLine.quantity)
        .join(Order, Order.id == OrderLine.order_id)
        .join(ShipTo, ShipTo.id == Order.ship_to_id)
        .where(OrderLine.tenant_id == tenant_id)
        .where(OrderLine.status != OrderStatus.CANCELLED.value)
        .where(OrderLine.requested_delivery_date >= earliest)
        .where(OrderLine.requested_delivery_date < first_day(next_month(last)))
    )
    if gtin:
        stmt = stmt.where(OrderLine.gtin == gtin)
    totals: dict[tuple[str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    first = last
    for line_gtin, region, day, quantity in session.execute(stmt):
        month = month_of(day)
        totals[(line_gtin, region)][month] += quantity
        first = min(first, month)
    months = [first]
    while months[-1] != last:
        months.append(next_month(months[-1]))
    series = {}
    for key, by_month in totals.items():
        start = min(by_month)
        series[key] = [by_month.get(m, 0.0) for m in months if m >= start]
    return months, series


def forecasts(
    session: Session,
    principal: Principal,
    *,
    gtin: str | None = None,
    region: str | None = None,
    horizon: int = 3,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """A forecast with its backtest for each product and region with order history."""
    principal.require(Permission.KPI_READ)
    now = now or utcnow()
    months, series = demand_history(session, principal.tenant_id, now.date(), gtin)
    products = source.products_by_gtin(session, principal.tenant_id)
    result = []
    for (line_gtin, line_region), values in sorted(series.items()):
        if region and line_region != region:
            continue
        fit = forecast(values, horizon)
        start = months[len(months) - len(values)]
        history_months = [add_months(start, k) for k in range(len(values))]
        ahead = [add_months(months[-1], k + 1) for k in range(horizon)]
        result.append(
            {
                "gtin": line_gtin,
                "product_name": products.get(line_gtin, (line_gtin, ""))[0],
                "region": line_region,
                "method": fit.method,
                "history": [
                    {"month": m, "units": v} for m, v in zip(history_months, values, strict=True)
                ],
                "forecast": [
                    {"month": m, "units": v} for m, v in zip(ahead, fit.values, strict=True)
                ],
                "backtest": None
                if fit.backtest is None
                else {
                    "holdout_months": fit.backtest.holdout,
                    "mape": fit.backtest.mape,
                    "naive_mape": fit.backtest.naive_mape,
                    "rmse": fit.backtest.rmse,
                    "actual": fit.backtest.actual,
                    "predicted": fit.backtest.predicted,
                },
            }
        )
    return result


def _points(months: list[str], values: list[float]) -> list[dict[str, Any]]:
    return [{"month": m, "units": v} for m, v in zip(months, values, strict=True)]


MIN_MONTHS_FOR_REPLENISHMENT = 12


def daily_demand_forecast(
    session: Session, tenant_id: int, gtin: str, as_of: date
) -> tuple[float, float] | None:
    """Mean and standard deviation of daily demand for ``gtin`` next month, all regions
    together, from the forecast: ``Σ forecast / days`` and ``sqrt(Σ rmse²) / sqrt(days)`` (the
    backtest's monthly error spread over independent days). None without 12 months of order
    history (replenishment then keeps its shipment-history method)."""
    _, series = demand_history(session, tenant_id, as_of, gtin)
    usable = [values for values in series.values() if len(values) >= MIN_MONTHS_FOR_REPLENISHMENT]
    if not usable:
        return None
    days = (first_day(add_months(month_of(as_of), 1)) - first_day(month_of(as_of))).days
    total = 0.0
    variance = 0.0
    for values in usable:
        fit = forecast(values, 1)
        total += fit.values[0]
        rmse = fit.backtest.rmse if fit.backtest and fit.backtest.rmse is not None else 0.0
        variance += rmse**2
    return total / days, math.sqrt(variance) / math.sqrt(days)


# --- control charts --------------------------------------------------------------------------


@dataclass(frozen=True)
class Measurement:
    gtin: str
    lot: str
    supplier_party_id: int | None
    at: datetime
    value: float


Characteristic = Callable[[Session, int], list[Measurement]]
_CHARACTERISTICS: dict[str, tuple[str, str, Characteristic]] = {}


def register_characteristic(key: str, label: str, unit: str, read: Characteristic) -> None:
    """Add (or replace) a measured characteristic the control charts can plot."""
    _CHARACTERISTICS[key] = (label, unit, read)


def characteristics() -> dict[str, tuple[str, str]]:
    return {key: (label, unit) for key, (label, unit, _) in _CHARACTERISTICS.items()}


def _lead_times(session: Session, tenant_id: int) -> list[Measurement]:
    received: dict[tuple[str, str], datetime] = {}
    for gtin, lot, at in session.execute(
        select(StockMovement.gtin, StockMovement.lot, StockMovement.occurred_at)
        .where(StockMovement.tenant_id == tenant_id)
        .where(StockMovement.kind == MovementKind.RECEIPT.value)
    ):
        if (gtin, lot) not in received or at < received[(gtin, lot)]:
            received[(gtin, lot)] = at
    result = []
    seen: set[tuple[str, str]] = set()
    for gtin, lot, shipped, supplier in session.execute(
        select(
            AsnLine.gtin,
            AsnLine.lot,
            AdvanceShipNotice.ship_date,
            AdvanceShipNotice.supplier_party_id,
        )
        .join(AdvanceShipNotice, AdvanceShipNotice.id == AsnLine.asn_id)
        .where(AdvanceShipNotice.tenant_id == tenant_id)
        .order_by(AsnLine.id)
    ):
        first = received.get((gtin, lot))
        if first is None or (gtin, lot) in seen:
            continue
        seen.add((gtin, lot))
        result.append(Measurement(gtin, lot, supplier, first, float((first.date() - shipped).days)))
    return sorted(result, key=lambda m: (m.at, m.gtin, m.lot))


def _inspection_times(session: Session, tenant_id: int) -> list[Measurement]:
    return [
        Measurement(
            d.gtin,
            d.lot,
            d.supplier_party_id,
            d.decided_at,
            round((d.decided_at - d.received_at).total_seconds() / 86400, 3),
        )
        for d in source.inspection_decisions(session, tenant_id, None)
        if d.received_at is not None
    ]


def N_(message: str) -> str:
    """Mark a label for extraction; pages translate it when they show it."""
    return message


register_characteristic(
    "supplier_lead_time", N_("Supplier lead time (ASN ship date to receipt)"), "days", _lead_times
)
register_characteristic(
    "inspection_time", N_("Inspection time (receipt to decision)"), "days", _inspection_times
)


def control_chart(
    session: Session,
    principal: Principal,
    characteristic: str,
    *,
    supplier_party_id: int | None = None,
    gtin: str | None = None,
    nelson: bool = False,
) -> dict[str, Any]:
    """The control chart of a characteristic across lots (optionally one supplier's or one
    product's): limits, points with the rules they fire, and links to each point's lot, its
    NCRs and its trace."""
    principal.require(Permission.KPI_READ)
    entry = _CHARACTERISTICS.get(characteristic)
    if entry is None:
        raise invalid(
            Code.FACTOR_UNKNOWN,
            "Choose one of: {expected}.",
            "characteristic",
            expected=", ".join(sorted(_CHARACTERISTICS)),
        )
    label, unit, read = entry
    measurements = [
        m
        for m in read(session, principal.tenant_id)
        if (supplier_party_id is None or m.supplier_party_id == supplier_party_id)
        and (gtin is None or m.gtin == gtin)
    ]
    groups: dict[tuple[str, str], list[Measurement]] = {}
    for m in measurements:
        groups.setdefault((m.gtin, m.lot), []).append(m)
    lots = list(groups.items())
    if len(lots) < 2:
        raise invalid(
            Code.SERIES_TOO_SHORT,
            "A control chart needs measurements of at least two lots.",
            "characteristic",
        )
    rules = NELSON if nelson else WESTERN_ELECTRIC
    subgrouped = any(len(values) >= 2 for _, values in lots)
    if subgrouped:
        chart = xbar_r_chart([[m.value for m in values] for _, values in lots], rules)
    else:
        chart = individuals_chart([values[0].value for _, values in lots], rules)
    parties = dict(
        session.execute(
            select(Party.id, Party.name).where(Party.tenant_id == principal.tenant_id)
        ).all()
    )
    ncrs_by_lot: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for ncr in session.scalars(select(Ncr).where(Ncr.tenant_id == principal.tenant_id)):
        for affected in ncr.affected_lots or []:
            ncrs_by_lot[(affected.get("gtin", ""), affected.get("lot", ""))].append(
                {"id": ncr.id, "number": ncr.number, "link": f"/quality/ncrs/{ncr.id}"}
            )
    points = []
    for index, ((lot_gtin, lot), values) in enumerate(lots):
        supplier = values[0].supplier_party_id
        points.append(
            {
                "index": index,
                "gtin": lot_gtin,
                "lot": lot,
                "supplier_party_id": supplier,
                "supplier_name": parties.get(supplier or 0, ""),
                "at": values[0].at.isoformat(),
                "value": round(chart.values[index], 4),
                "range": round(chart.ranges[index - 1], 4)
                if not subgrouped and index > 0
                else (round(chart.ranges[index], 4) if subgrouped else None),
                "rules": chart.signals.get(index, []),
                "lot_link": f"/lots?q={lot}",
                "trace_link": f"/trace?id=(01){lot_gtin}(10){lot}",
                "ncrs": ncrs_by_lot.get((lot_gtin, lot), []),
            }
        )
    limits = chart.limits
    return {
        "characteristic": characteristic,
        "label": label,
        "unit": unit,
        "kind": chart.kind,
        "rules": list(rules),
        "centre": round(limits.centre, 4),
        "sigma": round(limits.sigma, 4),
        "lower": round(limits.lower, 4),
        "upper": round(limits.upper, 4),
        "signals": len(chart.signals),
        "points": points,
    }
