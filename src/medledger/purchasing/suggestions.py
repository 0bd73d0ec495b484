"""Replenishment: reorder levels per product and site from demand history and lead time, and
suggested purchase orders (drafts) that a buyer reviews and approves.

The method is ``inventory.replenishment`` (documented in docs/inventory.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medledger.core.db import utcnow
from medledger.core.principal import Permission, Principal
from medledger.core.repository import get_visible
from medledger.inventory.errors import invalid
from medledger.inventory.models import (
    MovementKind,
    ReplenishmentSetting,
    StockBalance,
    StockMovement,
    StockStatus,
)
from medledger.inventory.replenishment import (
    ReorderLevels,
    levels_from_rate,
    reorder_levels,
    suggested_quantity,
)
from medledger.parties.models import Location, Party, Site
from medledger.purchasing.demand import backlog
from medledger.purchasing.errors import Code
from medledger.purchasing.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from medledger.purchasing.repository import next_order_number
from medledger.purchasing.schemas import ReplenishmentIn

OPEN_ORDER_STATES = (
    PurchaseOrderStatus.DRAFT.value,
    PurchaseOrderStatus.SENT.value,
    PurchaseOrderStatus.CONFIRMED.value,
    PurchaseOrderStatus.PARTIALLY_RECEIVED.value,
)


@dataclass(frozen=True)
class Suggestion:
    setting: ReplenishmentSetting
    levels: ReorderLevels
    position: int
    quantity: int
    purchase_order_id: int | None


def set_replenishment(
    session: Session, principal: Principal, data: ReplenishmentIn
) -> ReplenishmentSetting:
    """Create or change the replenishment setting of a product at a hub site."""
    principal.require(Permission.PURCHASING_WRITE)
    site = get_visible(session, Site, data.site_id, principal)
    if site.party_id != principal.hub_party_id:
        raise invalid(
            Code.NOT_A_HUB_SITE,
            "Goods are delivered to a site of the hub; site {site_id} is not one.",
            "site_id",
            site_id=site.id,
        )
    if data.supplier_party_id is not None:
        get_visible(session, Party, data.supplier_party_id, principal)
    setting = session.scalar(
        select(ReplenishmentSetting).where(
            ReplenishmentSetting.tenant_id == principal.tenant_id,
            ReplenishmentSetting.site_id == site.id,
            ReplenishmentSetting.gtin == data.gtin,
        )
    )
    if setting is None:
        setting = ReplenishmentSetting(
            tenant_id=principal.tenant_id, site_id=site.id, gtin=data.gtin
        )
        session.add(setting)
    setting.supplier_party_id = data.supplier_party_id
    setting.lead_time_days = data.lead_time_days
    setting.service_z = Decimal(str(data.service_z))  # type: ignore[assignment]
    setting.order_quantity = data.order_quantity
    session.flush()
    return setting


def _daily_shipped(
    session: Session, tenant_id: int, site_id: int, gtin: str, since: date
) -> dict[date, int]:
    start = datetime.combine(since, time.min).replace(tzinfo=utcnow().tzinfo)
    totals: dict[date, int] = defaultdict(int)
    for occurred, quantity in session.execute(
        select(StockMovement.occurred_at, StockMovement.quantity)
        .join(Location, Location.id == StockMovement.from_location_id)
        .where(
            StockMovement.tenant_id == tenant_id,
            StockMovement.kind == MovementKind.SHIP.value,
            StockMovement.gtin == gtin,
            Location.site_id == site_id,
            StockMovement.occurred_at >= start,
        )
    ):
        totals[occurred.date()] += int(quantity)
    return totals


def _position(session: Session, tenant_id: int, site_id: int, gtin: str) -> int:
    """On hand at the site (not rejected or recalled) plus what open orders still bring, less
    the customer demand no stock could be reserved for (purchasing/demand.py)."""
    on_hand = session.scalar(
        select(func.coalesce(func.sum(StockBalance.quantity), 0))
        .join(Location, Location.id == StockBalance.location_id)
        .where(
            StockBalance.tenant_id == tenant_id,
            StockBalance.gtin == gtin,
            Location.site_id == site_id,
            StockBalance.status.not_in([StockStatus.REJECTED.value, StockStatus.RECALLED.value]),
        )
    )
    open_lines = session.execute(
        select(
            PurchaseOrderLine.quantity,
            PurchaseOrderLine.confirmed_quantity,
            PurchaseOrderLine.received_quantity,
        )
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.purchase_order_id)
        .where(
            PurchaseOrder.tenant_id == tenant_id,
            PurchaseOrder.ship_to_site_id == site_id,
            PurchaseOrder.status.in_(OPEN_ORDER_STATES),
            PurchaseOrderLine.gtin == gtin,
        )
    ).all()
    incoming = sum(
        max((confirmed if confirmed is not None else ordered) - received, 0)
        for ordered, confirmed, received in open_lines
    )
    # Customer demand no stock could be reserved for (orders' shortfalls) is already owed.
    return int(on_hand or 0) + incoming - backlog(session, tenant_id, site_id, gtin)


# A demand forecast (mean, standard deviation of daily demand) a context above purchasing may
# provide — analytics registers its order-history forecast; None keeps shipment history.
DemandForecast = Callable[[Session, int, str, date], tuple[float, float] | None]
_DEMAND_FORECASTS: list[DemandForecast] = []


def register_demand_forecast(source: DemandForecast) -> None:
    """Let reorder levels use ``source``'s forecast where it has one."""
    if source not in _DEMAND_FORECASTS:
        _DEMAND_FORECASTS.append(source)


def _forecast_levels(
    session: Session, tenant_id: int, setting: ReplenishmentSetting, as_of: date
) -> ReorderLevels | None:
    for source in _DEMAND_FORECASTS:
        rate = source(session, tenant_id, setting.gtin, as_of)
        if rate is not None:
            return levels_from_rate(
                rate[0], rate[1], lead_time_days=setting.lead_time_days, z=float(setting.service_z)
            )
    return None


def suggest_orders(
    session: Session,
    principal: Principal,
    site_id: int,
    *,
    history_days: int = 90,
    as_of: date | None = None,
) -> list[Suggestion]:
    """Recompute the reorder levels of every product set up at ``site_id`` and draft a
    purchase order (status ``draft``) for each one at or below its reorder point that has a
    supplier. Open orders count in the position, so running it twice drafts nothing new."""
    principal.require(Permission.PURCHASING_WRITE)
    site = get_visible(session, Site, site_id, principal)
    as_of = as_of or utcnow().date()
    settings = session.scalars(
        select(ReplenishmentSetting)
        .where(
            ReplenishmentSetting.tenant_id == principal.tenant_id,
            ReplenishmentSetting.site_id == site.id,
        )
        .order_by(ReplenishmentSetting.gtin)
    ).all()
    result: list[Suggestion] = []
    for setting in settings:
        shipped = _daily_shipped(
            session,
            principal.tenant_id,
            site.id,
            setting.gtin,
            as_of - timedelta(days=history_days),
        )
        levels = reorder_levels(
            shipped,
            as_of=as_of,
            history_days=history_days,
            lead_time_days=setting.lead_time_days,
            z=float(setting.service_z),
        )
        levels = _forecast_levels(session, principal.tenant_id, setting, as_of) or levels
        setting.reorder_point = levels.reorder_point
        setting.safety_stock = levels.safety_stock
        position = _position(session, principal.tenant_id, site.id, setting.gtin)
        quantity = suggested_quantity(
            levels, position, setting.lead_time_days, setting.order_quantity
        )
        if position < 0:
            # Owed to customers beyond all stock and open orders: at least that much.
            quantity = max(quantity, -position, setting.order_quantity)
        order_id = None
        if quantity and setting.supplier_party_id is not None:
            order = PurchaseOrder(
                tenant_id=principal.tenant_id,
                number=next_order_number(session, principal.tenant_id),
                supplier_party_id=setting.supplier_party_id,
                ship_to_site_id=site.id,
                status=PurchaseOrderStatus.DRAFT.value,
                note="replenishment suggestion",
            )
            session.add(order)
            session.flush()
            session.add(
                PurchaseOrderLine(
                    tenant_id=principal.tenant_id,
                    purchase_order_id=order.id,
                    line_number=1,
                    gtin=setting.gtin,
                    quantity=quantity,
                    requested_date=as_of + timedelta(days=setting.lead_time_days),
                )
            )
            order_id = order.id
        result.append(Suggestion(setting, levels, position, quantity, order_id))
    session.flush()
    return result
