"""Cold chain, measured: temperature readings (EPCIS ``sensorElementList`` or a data-logger
file) checked against the product's allowed range; an excursion puts the hub's stock of the
affected lots, serials or logistic units on hold, with the readings attached, for QA to
release (``unhold``) or reject. Units it took from quarantine are remembered (a lot hold of kind
``excursion``): lifting the hold gives them back to quarantine, so they still need the signed
lot release.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from medledger.core.db import utcnow
from medledger.core.principal import Permission, Principal
from medledger.inventory.errors import Code, invalid
from medledger.inventory.models import (
    LotHold,
    MovementKind,
    ProductTemperatureRange,
    StockBalance,
    StockStatus,
    TemperatureExcursion,
)
from medledger.inventory.plan import ItemKey, Place, PlannedMove, items_of
from medledger.trace.epcis.normalise import NormalisedEvent

# The kind of lot hold an excursion records for the quarantine units it put on hold.
EXCURSION_HOLD = "excursion"
# Statuses an excursion puts on hold (rejected or recalled stock stays as it is).
_HOLD_FROM = (StockStatus.RELEASED, StockStatus.QUARANTINE)


@dataclass(frozen=True)
class Reading:
    time: str
    celsius: float


def set_range(
    session: Session, principal: Principal, gtin: str, minimum: float, maximum: float
) -> ProductTemperatureRange:
    """The temperatures a product may see (°C, from its label)."""
    principal.require(Permission.CATALOG_WRITE)
    if minimum > maximum:
        raise invalid(
            Code.TEMPERATURE_RANGE,
            "The minimum ({minimum} °C) is above the maximum ({maximum} °C).",
            "min_celsius",
            minimum=minimum,
            maximum=maximum,
        )
    found = session.scalar(
        select(ProductTemperatureRange).where(
            ProductTemperatureRange.tenant_id == principal.tenant_id,
            ProductTemperatureRange.gtin == gtin,
        )
    )
    if found is None:
        found = ProductTemperatureRange(tenant_id=principal.tenant_id, gtin=gtin)
        session.add(found)
    found.min_celsius = Decimal(str(minimum))  # type: ignore[assignment]
    found.max_celsius = Decimal(str(maximum))  # type: ignore[assignment]
    session.flush()
    return found


def _celsius(value: Any, uom: str | None) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if uom == "FAH":
        return (number - 32) * 5 / 9
    if uom == "KEL":
        return number - 273.15
    return number


def temperature_readings(event: NormalisedEvent) -> list[Reading]:
    """Every temperature value of an event's sensor reports (value, min, max, mean), in °C."""
    readings: list[Reading] = []
    for element in event.sensor_element_list:
        metadata = element.get("sensorMetadata") or {}
        default_time = str(metadata.get("time") or metadata.get("startTime") or event.event_time)
        for report in element.get("sensorReport") or ():
            if not str(report.get("type", "")).endswith("Temperature"):
                continue
            when = str(report.get("time") or default_time)
            for key in ("value", "minValue", "maxValue", "meanValue"):
                if key in report:
                    celsius = _celsius(report[key], report.get("uom"))
                    if celsius is not None:
                        readings.append(Reading(when, round(celsius, 3)))
    return readings


def logger_readings(text: str) -> list[Reading]:
    """A data-logger export: CSV rows ``time,celsius`` (a header row is skipped)."""
    readings = []
    for number, row in enumerate(csv.reader(io.StringIO(text))):
        if not row or not row[0].strip():
            continue
        try:
            celsius = float(Decimal(row[1].strip()))
            datetime.fromisoformat(row[0].strip().replace("Z", "+00:00"))
        except (IndexError, ValueError, InvalidOperation):
            if number == 0:
                continue  # the header
            raise invalid(
                Code.LOGGER_ROW,
                "Row {row} of the logger file is not 'time,celsius'.",
                "file",
                row=number + 1,
            ) from None
        readings.append(Reading(row[0].strip(), celsius))
    return readings


def _ranges(
    session: Session, tenant_id: int, gtins: Iterable[str]
) -> dict[str, tuple[float, float]]:
    wanted = sorted(set(gtins))
    if not wanted:
        return {}
    return {
        r.gtin: (float(r.min_celsius), float(r.max_celsius))
        for r in session.scalars(
            select(ProductTemperatureRange).where(
                ProductTemperatureRange.tenant_id == tenant_id,
                ProductTemperatureRange.gtin.in_(wanted),
            )
        )
    }


def check_excursions(
    session: Session,
    tenant_id: int,
    items: Sequence[ItemKey],
    ssccs: Sequence[str],
    readings: Sequence[Reading],
    *,
    source: str,
    event_row_id: int | None = None,
    asn_id: int | None = None,
) -> list[TemperatureExcursion]:
    """Record an excursion for each affected item whose range the readings leave, and put the
    hub's stock of it (its lot or serial, or what is packed in the SSCCs) on hold."""
    if not readings:
        return []
    affected: dict[ItemKey, set[str]] = {item: {""} for item in items}
    if ssccs:
        for balance in session.scalars(
            select(StockBalance).where(
                StockBalance.tenant_id == tenant_id,
                StockBalance.container.in_(list(ssccs)),
                StockBalance.quantity > 0,
            )
        ):
            key = ItemKey(balance.gtin, balance.lot, balance.serial)
            affected.setdefault(key, set()).add(balance.container)
    ranges = _ranges(session, tenant_id, [item.gtin for item in affected])
    excursions: list[TemperatureExcursion] = []
    for item in sorted(affected, key=lambda i: (i.gtin, i.lot, i.serial)):
        limits = ranges.get(item.gtin)
        if limits is None:
            continue
        outside = [r for r in readings if not limits[0] <= r.celsius <= limits[1]]
        if not outside:
            continue
        excursion = TemperatureExcursion(
            tenant_id=tenant_id,
            gtin=item.gtin,
            lot=item.lot,
            serial=item.serial,
            source=source,
            epcis_event_row_id=event_row_id,
            asn_id=asn_id,
            min_celsius=Decimal(str(limits[0])),
            max_celsius=Decimal(str(limits[1])),
            readings=[{"time": r.time, "celsius": r.celsius} for r in outside],
        )
        session.add(excursion)
        session.flush()
        excursion.held_quantity = _hold(session, tenant_id, item, excursion.id)
        excursions.append(excursion)
    session.flush()
    return excursions


def _hold(session: Session, tenant_id: int, item: ItemKey, excursion_id: int) -> int:
    from medledger.inventory.projection import apply_moves

    balances = session.scalars(
        select(StockBalance)
        .where(
            StockBalance.tenant_id == tenant_id,
            StockBalance.gtin == item.gtin,
            StockBalance.lot == item.lot,
            StockBalance.serial == item.serial,
            StockBalance.status.in_([s.value for s in _HOLD_FROM]),
            StockBalance.quantity > 0,
        )
        .order_by(StockBalance.location_id, StockBalance.container, StockBalance.status)
    ).all()
    moves = tuple(
        PlannedMove(
            MovementKind.STATUS_CHANGE,
            item,
            b.quantity,
            Place(b.location_id, b.container),
            Place(b.location_id, b.container),
            (StockStatus(b.status),),
            StockStatus.ON_HOLD,
        )
        for b in balances
    )
    if moves:
        apply_moves(
            session,
            tenant_id,
            moves,
            None,
            utcnow().date(),
            reason=f"temperature excursion {excursion_id}",
        )
    from_quarantine = sum(b.quantity for b in balances if b.status == StockStatus.QUARANTINE.value)
    if from_quarantine:
        # Remembered, so that lifting the hold gives these units back to quarantine: only the
        # signed lot release takes stock out of quarantine.
        session.add(
            LotHold(
                tenant_id=tenant_id,
                gtin=item.gtin,
                lot=item.lot,
                source_kind=EXCURSION_HOLD,
                source_id=excursion_id,
                source_label=item.serial,
                quantity_held=from_quarantine,
            )
        )
        session.flush()
    return sum(m.quantity for m in moves)


def _open_quarantine_holds(session: Session, tenant_id: int, item: ItemKey) -> list[LotHold]:
    return list(
        session.scalars(
            select(LotHold)
            .where(
                LotHold.tenant_id == tenant_id,
                LotHold.gtin == item.gtin,
                LotHold.lot == item.lot,
                LotHold.source_label == item.serial,
                LotHold.source_kind == EXCURSION_HOLD,
                LotHold.released_at.is_(None),
            )
            .order_by(LotHold.id)
        )
    )


def quarantine_owed(session: Session, tenant_id: int, item: ItemKey) -> int:
    """Units of ``item`` on hold that an excursion took from quarantine and has not given back:
    lifting their hold returns them to quarantine, not to released."""
    return sum(
        h.quantity_held - h.quantity_released
        for h in _open_quarantine_holds(session, tenant_id, item)
    )


def settle_quarantine_holds(session: Session, tenant_id: int, item: ItemKey, quantity: int) -> None:
    """``quantity`` units an excursion took from quarantine left the hold (back to quarantine,
    or rejected): the oldest excursion holds are settled first, and end when settled."""
    left = quantity
    now = utcnow()
    for hold in _open_quarantine_holds(session, tenant_id, item):
        if left <= 0:
            break
        settled = min(left, hold.quantity_held - hold.quantity_released)
        hold.quantity_released += settled
        left -= settled
        if hold.quantity_released >= hold.quantity_held:
            hold.released_at = now
    session.flush()


def check_event(
    session: Session, tenant_id: int, event: NormalisedEvent, row_id: int
) -> list[TemperatureExcursion]:
    """The excursions an event's sensor reports show for the items it names."""
    if not event.sensor_element_list or event.error_declaration is not None:
        return []
    readings = temperature_readings(event)
    epcs = [*event.epc_list, *event.child_epcs, *([event.parent_id] if event.parent_id else [])]
    items, ssccs = items_of(epcs, [*event.quantity_list, *event.child_quantity_list], strict=False)
    return check_excursions(
        session,
        tenant_id,
        [item for item, _ in items],
        ssccs,
        readings,
        source="epcis",
        event_row_id=row_id,
    )


def excursion_json(excursion: TemperatureExcursion) -> Mapping[str, Any]:
    return {
        "id": excursion.id,
        "gtin": excursion.gtin,
        "lot": excursion.lot,
        "serial": excursion.serial,
        "source": excursion.source,
        "min_celsius": float(excursion.min_celsius),
        "max_celsius": float(excursion.max_celsius),
        "readings": excursion.readings,
        "held_quantity": excursion.held_quantity,
        "epcis_event_row_id": excursion.epcis_event_row_id,
        "asn_id": excursion.asn_id,
    }
