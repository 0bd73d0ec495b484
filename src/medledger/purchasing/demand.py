"""Demand that purchasing must cover besides its reorder levels: customer order lines' units
reserved on hand and those no stock could be reserved for (registered by orders, see
orders/planning.py ``committed_demand``).

A source returns units per GTIN for a tenant. The replenishment position of a product counts
them at the first site (lowest id) that replenishes the product, so they are counted once.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medledger.inventory.models import ReplenishmentSetting

DemandSource = Callable[[Session, int], dict[str, int]]
_sources: dict[str, DemandSource] = {}


def register_demand_source(name: str, source: DemandSource) -> None:
    _sources[name] = source


def backlog(session: Session, tenant_id: int, site_id: int, gtin: str) -> int:
    """Units of ``gtin`` the registered sources say are short, if ``site_id`` replenishes it
    first; 0 otherwise."""
    first = session.scalar(
        select(func.min(ReplenishmentSetting.site_id)).where(
            ReplenishmentSetting.tenant_id == tenant_id, ReplenishmentSetting.gtin == gtin
        )
    )
    if first != site_id:
        return 0
    return sum(source(session, tenant_id).get(gtin, 0) for source in _sources.values())
