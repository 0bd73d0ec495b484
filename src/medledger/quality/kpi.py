"""Inspection compliance time (issue 16, item 8): for every decided lot release, the hours from
the lot's first receipt into own stock to the inspection decision, and from that decision to
the signed release (or rejection); averaged per product, per supplier or per month (of the
release decision). A lot released without an inspection counts only in receipt → release."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from medledger.catalog.models import Product
from medledger.core.principal import Permission, Principal
from medledger.core.scoping import scoped
from medledger.parties.models import Party
from medledger.quality.models import Inspection, LotRelease

GROUPS = ("product", "supplier", "month")


def _any(stmt: Any) -> Select[Any]:
    return stmt


def _hours(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max((end - start).total_seconds(), 0.0) / 3600.0


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def inspection_time(session: Session, principal: Principal, group: str) -> list[dict[str, Any]]:
    """Rows ``{key, label, lots, receipt_to_decision_hours, decision_to_release_hours,
    receipt_to_release_hours}`` sorted by key (months ascending)."""
    principal.require(Permission.QUALITY_READ)
    stmt: Select[Any] = scoped(
        _any(select(LotRelease, Inspection.decided_at))
        .outerjoin(Inspection, Inspection.id == LotRelease.inspection_id)
        .where(LotRelease.state.in_(("released", "rejected")), LotRelease.decided_at.is_not(None)),
        LotRelease,
        principal,
    )
    buckets: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    counts: dict[str, int] = defaultdict(int)
    for release, inspected_at in session.execute(stmt):
        if group == "product":
            key = str(release.product_id)
        elif group == "supplier":
            key = str(release.supplier_party_id or "")
        else:
            key = release.decided_at.strftime("%Y-%m")
        counts[key] += 1
        for name, value in (
            ("receipt_to_decision_hours", _hours(release.received_at, inspected_at)),
            ("decision_to_release_hours", _hours(inspected_at, release.decided_at)),
            ("receipt_to_release_hours", _hours(release.received_at, release.decided_at)),
        ):
            if value is not None:
                buckets[key][name].append(value)
    labels: dict[str, str] = {}
    if group == "product":
        ids = [int(k) for k in counts]
        labels = {
            str(i): f"{name} ({gtin})"
            for i, name, gtin in session.execute(
                select(Product.id, Product.name, Product.gtin).where(Product.id.in_(ids))
            )
        }
    elif group == "supplier":
        ids = [int(k) for k in counts if k]
        labels = {
            str(i): name
            for i, name in session.execute(select(Party.id, Party.name).where(Party.id.in_(ids)))
        }
    rows = []
    for key in sorted(counts):
        rows.append(
            {
                "key": key,
                "label": labels.get(key, key),
                "lots": counts[key],
                **{
                    name: _mean(buckets[key][name])
                    for name in (
                        "receipt_to_decision_hours",
                        "decision_to_release_hours",
                        "receipt_to_release_hours",
                    )
                },
            }
        )
    return rows
