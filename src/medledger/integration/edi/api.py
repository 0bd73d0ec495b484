"""REST routes of EDI with partners: settings per partner, despatch advices (mounted under
``/api/v1/integration/edi``). Receiving advices come in through the order inbox
(``POST /api/v1/orders/import/edi``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from medledger.core.config import Settings
from medledger.core.deps import CurrentPrincipal, DbSession, get_settings_dep
from medledger.core.schemas import Page
from medledger.core.types import RecordId
from medledger.integration.edi import service
from medledger.integration.edi.schemas import (
    DespatchAdviceDetail,
    DespatchAdviceIn,
    DespatchAdviceOut,
    EdiSettingsIn,
    EdiSettingsOut,
)

router = APIRouter(prefix="/edi", tags=["edi"])
AppSettings = Annotated[Settings, Depends(get_settings_dep)]


@router.get("/partners", response_model=Page[EdiSettingsOut])
def list_partner_settings(
    session: DbSession,
    principal: CurrentPrincipal,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[EdiSettingsOut]:
    """Every partner's EDI settings (a partner sees its own)."""
    items, total = service.list_settings(session, principal, page=page, page_size=page_size)
    return Page(
        items=[EdiSettingsOut.model_validate(i) for i in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.get("/partners/{party_id}", response_model=EdiSettingsOut)
def read_partner_settings(
    session: DbSession, principal: CurrentPrincipal, party_id: RecordId
) -> EdiSettingsOut:
    return EdiSettingsOut.model_validate(service.get_settings(session, principal, party_id))


@router.put("/partners/{party_id}", response_model=EdiSettingsOut)
def put_partner_settings(
    session: DbSession, principal: CurrentPrincipal, party_id: RecordId, data: EdiSettingsIn
) -> EdiSettingsOut:
    """Set how a partner exchanges EDI: syntax, identifiers, separators, outbound channels."""
    return EdiSettingsOut.model_validate(service.put_settings(session, principal, party_id, data))


@router.post(
    "/despatch-advices",
    response_model=DespatchAdviceDetail,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "The advice of this shipping event was already sent."}},
)
def send_despatch_advice(
    session: DbSession,
    principal: CurrentPrincipal,
    settings: AppSettings,
    data: DespatchAdviceIn,
    response: Response,
) -> DespatchAdviceDetail:
    """Generate the DESADV / 856 of the shipping event of a shipment and send it (partner's
    outbound folder and/or outbox); the same advice again (200) when it was already sent."""
    advice, created = service.send_despatch_advice(
        session, principal, data.shipment_id, outbound_root=settings.edi_outbound_root
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return DespatchAdviceDetail.model_validate(advice)


@router.get("/despatch-advices", response_model=Page[DespatchAdviceOut])
def list_despatch_advices(
    session: DbSession,
    principal: CurrentPrincipal,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[DespatchAdviceOut]:
    """Despatch advices sent, newest first (a partner sees those addressed to it)."""
    items, total = service.list_advices(session, principal, page=page, page_size=page_size)
    return Page(
        items=[DespatchAdviceOut.model_validate(i) for i in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.get("/despatch-advices/{advice_id}", response_model=DespatchAdviceDetail)
def read_despatch_advice(
    session: DbSession, principal: CurrentPrincipal, advice_id: RecordId
) -> DespatchAdviceDetail:
    return DespatchAdviceDetail.model_validate(service.get_advice(session, principal, advice_id))
