"""REST routes: purchase orders, supplier confirmations, ASNs, scan receiving."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile, status

from medledger.core.deps import CurrentPrincipal, DbSession
from medledger.core.schemas import Page, ReasonIn
from medledger.core.types import RecordId
from medledger.inventory.schemas import ExcursionOut
from medledger.purchasing import service, suggestions
from medledger.purchasing.schemas import (
    AsnIn,
    AsnOut,
    ConfirmIn,
    DiscrepancyOut,
    OrderIn,
    OrderOut,
    ReplenishmentIn,
    ScanIn,
    ScanOut,
    SuggestIn,
    SuggestionOut,
)

router = APIRouter(prefix="/api/v1", tags=["purchasing"])


@router.get("/purchase-orders", response_model=Page[OrderOut])
def list_orders(
    session: DbSession,
    principal: CurrentPrincipal,
    status: str | None = None,
    page: Annotated[int, Query(ge=1, le=1_000_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[OrderOut]:
    """Purchase orders (a supplier sees those addressed to it, without prices)."""
    items, total = service.list_orders(
        session, principal, status=status, page=page, page_size=page_size
    )
    return Page(
        items=[service.order_out(session, principal, o) for o in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.post("/purchase-orders", response_model=OrderOut, status_code=status.HTTP_201_CREATED)
def create_order(session: DbSession, principal: CurrentPrincipal, data: OrderIn) -> OrderOut:
    """Order from a supplier party (sent at once)."""
    return service.order_out(session, principal, service.create_order(session, principal, data))


@router.get("/purchase-orders/{order_id}", response_model=OrderOut)
def read_order(session: DbSession, principal: CurrentPrincipal, order_id: RecordId) -> OrderOut:
    return service.order_out(session, principal, service.get_order(session, principal, order_id))


@router.post("/purchase-orders/{order_id}/approval", response_model=OrderOut)
def approve_order(session: DbSession, principal: CurrentPrincipal, order_id: RecordId) -> OrderOut:
    """A buyer approves a suggested order; it is sent to the supplier."""
    return service.order_out(
        session, principal, service.approve_order(session, principal, order_id)
    )


@router.post("/purchase-orders/{order_id}/confirmation", response_model=OrderOut)
def confirm_order(
    session: DbSession, principal: CurrentPrincipal, order_id: RecordId, data: ConfirmIn
) -> OrderOut:
    """The supplier confirms quantities and dates."""
    return service.order_out(
        session, principal, service.confirm_order(session, principal, order_id, data)
    )


@router.get("/asns", response_model=list[AsnOut])
def list_asns(
    session: DbSession, principal: CurrentPrincipal, status: str | None = None
) -> list[AsnOut]:
    return [
        service.asn_out(session, a) for a in service.list_asns(session, principal, status=status)
    ]


@router.post("/asns", response_model=AsnOut, status_code=status.HTTP_201_CREATED)
def create_asn(session: DbSession, principal: CurrentPrincipal, data: AsnIn) -> AsnOut:
    """The supplier's advance ship notice: lots, expiry, SSCCs."""
    return service.asn_out(session, service.create_asn(session, principal, data))


@router.get("/asns/{asn_id}", response_model=AsnOut)
def read_asn(session: DbSession, principal: CurrentPrincipal, asn_id: RecordId) -> AsnOut:
    return service.asn_out(session, service.get_asn(session, principal, asn_id))


@router.post("/asns/{asn_id}/scans", response_model=ScanOut, status_code=status.HTTP_201_CREATED)
def receive_scan(
    session: DbSession, principal: CurrentPrincipal, asn_id: RecordId, data: ScanIn
) -> ScanOut:
    """Receive what a scanned GS1 barcode names against the ASN, into quarantine."""
    return service.receive_scan(session, principal, asn_id, data)


@router.post("/asns/{asn_id}/close", response_model=list[DiscrepancyOut])
def close_asn(
    session: DbSession, principal: CurrentPrincipal, asn_id: RecordId, body: ReasonIn | None = None
) -> list[DiscrepancyOut]:
    """Close the ASN; short lines are recorded as under-receipts."""
    flagged = service.close_asn(session, principal, asn_id, body.reason if body else "")
    return [DiscrepancyOut.model_validate(d) for d in flagged]


@router.get("/asns/{asn_id}/discrepancies", response_model=list[DiscrepancyOut])
def list_discrepancies(
    session: DbSession, principal: CurrentPrincipal, asn_id: RecordId
) -> list[DiscrepancyOut]:
    return [
        DiscrepancyOut.model_validate(d) for d in service.discrepancies(session, principal, asn_id)
    ]


@router.put("/replenishment-settings", response_model=SuggestionOut)
def set_replenishment(
    session: DbSession, principal: CurrentPrincipal, data: ReplenishmentIn
) -> SuggestionOut:
    """Supplier, lead time, service factor and minimum order of a product at a hub site."""
    setting = suggestions.set_replenishment(session, principal, data)
    return SuggestionOut(
        site_id=setting.site_id,
        gtin=setting.gtin,
        supplier_party_id=setting.supplier_party_id,
        lead_time_days=setting.lead_time_days,
        mean_daily_demand=0.0,
        sigma_daily_demand=0.0,
        safety_stock=setting.safety_stock,
        reorder_point=setting.reorder_point,
        position=0,
        quantity=0,
        purchase_order_id=None,
    )


@router.post("/replenishment/suggestions", response_model=list[SuggestionOut])
def suggest_orders(
    session: DbSession, principal: CurrentPrincipal, data: SuggestIn
) -> list[SuggestionOut]:
    """Recompute reorder levels at a site and draft purchase orders for what is due."""
    return [
        SuggestionOut(
            site_id=s.setting.site_id,
            gtin=s.setting.gtin,
            supplier_party_id=s.setting.supplier_party_id,
            lead_time_days=s.setting.lead_time_days,
            mean_daily_demand=round(s.levels.mean_daily_demand, 4),
            sigma_daily_demand=round(s.levels.sigma_daily_demand, 4),
            safety_stock=s.levels.safety_stock,
            reorder_point=s.levels.reorder_point,
            position=s.position,
            quantity=s.quantity,
            purchase_order_id=s.purchase_order_id,
        )
        for s in suggestions.suggest_orders(
            session, principal, data.site_id, history_days=data.history_days
        )
    ]


@router.post("/asns/{asn_id}/temperature-log", response_model=list[ExcursionOut])
def upload_temperature_log(
    session: DbSession,
    principal: CurrentPrincipal,
    asn_id: RecordId,
    file: Annotated[UploadFile, File(description="Data logger CSV: time,celsius")],
) -> list[ExcursionOut]:
    """Check the shipment's logger readings; excursions put its lots on hold."""
    text = file.file.read().decode("utf-8", errors="replace")
    return [
        ExcursionOut.model_validate(e)
        for e in service.upload_temperature_log(session, principal, asn_id, text)
    ]
