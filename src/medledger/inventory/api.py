"""REST routes: managed sites, stock, movements, warehouse operations, shipments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from medledger.core.config import Settings
from medledger.core.deps import CurrentPrincipal, DbSession, get_settings_dep
from medledger.core.principal import Permission
from medledger.core.repository import get_visible, list_visible
from medledger.core.schemas import Page
from medledger.core.types import RecordId
from medledger.inventory import coldchain, service
from medledger.inventory.models import Shipment, StockMovement, TemperatureExcursion
from medledger.inventory.plan import MovementRow
from medledger.inventory.schemas import (
    AdjustIn,
    ExcursionOut,
    InventorySiteOut,
    MoveIn,
    MovementOut,
    OperationOut,
    PackIn,
    PickListIn,
    PickListOut,
    ReceiptIn,
    ScrapIn,
    ShipIn,
    ShipmentOut,
    StatusChangeIn,
    StockRowOut,
    TemperatureRangeIn,
    TemperatureRangeOut,
)

router = APIRouter(prefix="/api/v1/inventory", tags=["inventory"])


def _operation(result: tuple[str, list[MovementRow]]) -> OperationOut:
    event_id, movements = result
    return OperationOut(
        event_id=event_id, movements=[MovementOut.model_validate(m) for m in movements]
    )


@router.post("/sites/{site_id}", response_model=InventorySiteOut)
def enable_site(
    session: DbSession, principal: CurrentPrincipal, site_id: RecordId
) -> InventorySiteOut:
    """Manage the stock of a hub site from now on."""
    return InventorySiteOut.model_validate(service.enable_site(session, principal, site_id))


@router.get("/stock", response_model=list[StockRowOut])
def read_stock(
    session: DbSession,
    principal: CurrentPrincipal,
    settings: Annotated[Settings, Depends(get_settings_dep)],
    site_id: RecordId | None = None,
    location_id: RecordId | None = None,
    gtin: str | None = None,
    lot: str | None = None,
    status: str | None = None,
) -> list[StockRowOut]:
    """Stock by location, lot/serial and status, with expiry flags."""
    return service.stock(
        session,
        principal,
        site_id=site_id,
        location_id=location_id,
        gtin=gtin,
        lot=lot,
        status=status,
        near_expiry_days=settings.near_expiry_days,
    )


@router.get("/movements", response_model=Page[MovementOut])
def list_movements(
    session: DbSession,
    principal: CurrentPrincipal,
    gtin: str | None = None,
    lot: str | None = None,
    page: Annotated[int, Query(ge=1, le=1_000_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[MovementOut]:
    """The append-only movement journal, newest first."""
    principal.require(Permission.INVENTORY_READ)
    filters = []
    if gtin:
        filters.append(StockMovement.gtin == gtin)
    if lot:
        filters.append(StockMovement.lot == lot)
    items, total = list_visible(
        session,
        StockMovement,
        principal,
        filters=filters,
        order_by=StockMovement.id.desc(),
        page=page,
        page_size=page_size,
    )
    return Page(
        items=[MovementOut.model_validate(m) for m in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.post("/receipts", response_model=OperationOut, status_code=status.HTTP_201_CREATED)
def receive(session: DbSession, principal: CurrentPrincipal, data: ReceiptIn) -> OperationOut:
    """Receive goods into quarantine (EPCIS ``receiving``)."""
    return _operation(service.receive(session, principal, data))


@router.post("/put-aways", response_model=OperationOut, status_code=status.HTTP_201_CREATED)
def put_away(session: DbSession, principal: CurrentPrincipal, data: MoveIn) -> OperationOut:
    """Put away or transfer stock between managed locations (EPCIS ``storing``)."""
    return _operation(service.move(session, principal, data))


@router.post("/transfers", response_model=OperationOut, status_code=status.HTTP_201_CREATED)
def transfer(session: DbSession, principal: CurrentPrincipal, data: MoveIn) -> OperationOut:
    """Transfer stock between managed locations (EPCIS ``storing``)."""
    return _operation(service.move(session, principal, data))


@router.post("/picks", response_model=OperationOut, status_code=status.HTTP_201_CREATED)
def pick(session: DbSession, principal: CurrentPrincipal, data: MoveIn) -> OperationOut:
    """Pick released stock to a staging location (EPCIS ``picking``)."""
    return _operation(service.move(session, principal, data, picking=True))


@router.post("/pick-lists", response_model=PickListOut)
def pick_list(session: DbSession, principal: CurrentPrincipal, data: PickListIn) -> PickListOut:
    """What to pick, first expiry first out (nothing is reserved or moved)."""
    return service.pick_list(session, principal, data)


@router.post("/packs", response_model=OperationOut, status_code=status.HTTP_201_CREATED)
def pack(session: DbSession, principal: CurrentPrincipal, data: PackIn) -> OperationOut:
    """Pack released stock into an SSCC (EPCIS AggregationEvent)."""
    return _operation(service.pack(session, principal, data))


@router.post("/shipments", response_model=OperationOut, status_code=status.HTTP_201_CREATED)
def ship(session: DbSession, principal: CurrentPrincipal, data: ShipIn) -> OperationOut:
    """Ship SSCCs to a party (EPCIS ``shipping``)."""
    return _operation(service.ship(session, principal, data))


@router.post("/scraps", response_model=OperationOut, status_code=status.HTTP_201_CREATED)
def scrap(session: DbSession, principal: CurrentPrincipal, data: ScrapIn) -> OperationOut:
    """Destroy stock (EPCIS ``destroying``)."""
    return _operation(service.scrap(session, principal, data))


@router.post("/status-changes", response_model=list[MovementOut])
def change_status(
    session: DbSession, principal: CurrentPrincipal, data: StatusChangeIn
) -> list[MovementOut]:
    """Release, hold, unhold, reject or recall stock, with a reason."""
    return [MovementOut.model_validate(m) for m in service.change_status(session, principal, data)]


@router.post("/adjustments", response_model=list[MovementOut])
def adjust(session: DbSession, principal: CurrentPrincipal, data: AdjustIn) -> list[MovementOut]:
    """Correct a balance after a count, with a reason."""
    return [MovementOut.model_validate(m) for m in service.adjust(session, principal, data)]


@router.get("/shipments", response_model=list[ShipmentOut])
def list_shipments(session: DbSession, principal: CurrentPrincipal) -> list[ShipmentOut]:
    """Shipments (a partner sees those addressed to it) and their delivery status."""
    items, _ = list_visible(
        session, Shipment, principal, order_by=Shipment.id.desc(), page_size=500
    )
    return [ShipmentOut.model_validate(s) for s in items]


@router.get("/shipments/{shipment_id}", response_model=ShipmentOut)
def read_shipment(
    session: DbSession, principal: CurrentPrincipal, shipment_id: RecordId
) -> ShipmentOut:
    return ShipmentOut.model_validate(get_visible(session, Shipment, shipment_id, principal))


@router.put("/temperature-ranges", response_model=TemperatureRangeOut)
def set_temperature_range(
    session: DbSession, principal: CurrentPrincipal, data: TemperatureRangeIn
) -> TemperatureRangeOut:
    """The temperatures a product may see (°C); readings outside put its stock on hold."""
    return TemperatureRangeOut.model_validate(
        coldchain.set_range(session, principal, data.gtin, data.min_celsius, data.max_celsius)
    )


@router.get("/temperature-excursions", response_model=list[ExcursionOut])
def list_excursions(session: DbSession, principal: CurrentPrincipal) -> list[ExcursionOut]:
    """Excursions found, newest first, with the readings outside the range."""
    principal.require(Permission.INVENTORY_READ)
    items, _ = list_visible(
        session,
        TemperatureExcursion,
        principal,
        order_by=TemperatureExcursion.id.desc(),
        page_size=500,
    )
    return [ExcursionOut.model_validate(e) for e in items]
