"""REST routes: inspection plans, inspections (results from the hub or the assigned test lab),
lot releases with their signed decision, and the inspection-time KPI."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status

from medledger.compliance.signing import SigningPolicy, failed_attempts_kept
from medledger.core.deps import CurrentPrincipal, DbSession
from medledger.core.principal import Principal
from medledger.core.schemas import Page
from medledger.core.types import RecordId
from medledger.quality import documents, kpi, lot_release, service
from medledger.quality import inspection as inspections
from medledger.quality.document_pdf import coc_pdf, dhr_pdf
from medledger.quality.inspection_schemas import (
    InspectionIn,
    InspectionOut,
    InspectionTimeOut,
    KpiRow,
    LotReleaseIn,
    LotReleaseOut,
    PlanIn,
    PlanOut,
    PlanUpdate,
    ResultsIn,
)
from medledger.quality.models import Inspection, LotRelease
from medledger.quality.schemas import TransitionIn

router = APIRouter(prefix="/api/v1/quality", tags=["quality"])

PageNo = Annotated[int, Query(ge=1, le=1_000_000_000)]
PageSize = Annotated[int, Query(ge=1, le=500)]
Text = Annotated[str | None, Query(max_length=20)]


def _columns(record: Any) -> dict[str, Any]:
    return {c.key: getattr(record, c.key) for c in record.__mapper__.column_attrs}


def inspection_out(session: DbSession, principal: Principal, record: Inspection) -> InspectionOut:
    view = service.view(session, principal, "inspection", record)
    return InspectionOut.model_validate({**_columns(record), **service.out_payload(view)})


def release_out(session: DbSession, principal: Principal, record: LotRelease) -> LotReleaseOut:
    view = service.view(session, principal, "lot_release", record)
    return LotReleaseOut.model_validate({**_columns(record), **service.out_payload(view)})


def _step(
    request: Request,
    session: DbSession,
    principal: Principal,
    kind: str,
    record_id: RecordId,
    data: TransitionIn,
) -> Any:
    policy = SigningPolicy.from_settings(request.app.state.settings)
    with failed_attempts_kept(session, principal, policy):
        return service.transition(session, principal, kind, record_id, data, policy=policy)


# --- plans ----------------------------------------------------------------------------------


@router.get("/inspection-plans", response_model=Page[PlanOut])
def list_plans(
    session: DbSession,
    principal: CurrentPrincipal,
    product_id: RecordId | None = None,
    page: PageNo = 1,
    page_size: PageSize = 50,
) -> Page[PlanOut]:
    """Inspection plans (hub only), newest first."""
    items, total = inspections.list_plans(
        session, principal, product_id=product_id, page=page, page_size=page_size
    )
    return Page(
        items=[PlanOut.model_validate(p) for p in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.post("/inspection-plans", response_model=PlanOut, status_code=status.HTTP_201_CREATED)
def create_plan(session: DbSession, principal: CurrentPrincipal, data: PlanIn) -> PlanOut:
    return PlanOut.model_validate(inspections.create_plan(session, principal, data))


@router.get("/inspection-plans/{plan_id}", response_model=PlanOut)
def read_plan(session: DbSession, principal: CurrentPrincipal, plan_id: RecordId) -> PlanOut:
    return PlanOut.model_validate(inspections.get_plan(session, principal, plan_id))


@router.patch("/inspection-plans/{plan_id}", response_model=PlanOut)
def update_plan(
    session: DbSession, principal: CurrentPrincipal, plan_id: RecordId, data: PlanUpdate
) -> PlanOut:
    """Edit a plan (a new version; the audit trail keeps the old values)."""
    return PlanOut.model_validate(inspections.update_plan(session, principal, plan_id, data))


# --- inspections ----------------------------------------------------------------------------


@router.get("/inspections", response_model=Page[InspectionOut])
def list_inspections(
    session: DbSession,
    principal: CurrentPrincipal,
    gtin: Annotated[str | None, Query(max_length=14)] = None,
    lot: Text = None,
    state: Text = None,
    page: PageNo = 1,
    page_size: PageSize = 50,
) -> Page[InspectionOut]:
    """Inspections the caller may see (a test lab: those of the lots sent to it)."""
    items, total = inspections.list_inspections(
        session, principal, gtin=gtin, lot=lot, state=state, page=page, page_size=page_size
    )
    return Page(
        items=[inspection_out(session, principal, i) for i in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.post("/inspections", response_model=InspectionOut, status_code=status.HTTP_201_CREATED)
def create_inspection(
    session: DbSession, principal: CurrentPrincipal, data: InspectionIn
) -> InspectionOut:
    return inspection_out(
        session, principal, inspections.create_inspection(session, principal, data)
    )


@router.get("/inspections/{inspection_id}", response_model=InspectionOut)
def read_inspection(
    session: DbSession, principal: CurrentPrincipal, inspection_id: RecordId
) -> InspectionOut:
    record = service.get_record(session, principal, "inspection", inspection_id)
    return inspection_out(session, principal, record)


@router.post("/inspections/{inspection_id}/results", response_model=InspectionOut)
def post_results(
    session: DbSession, principal: CurrentPrincipal, inspection_id: RecordId, data: ResultsIn
) -> InspectionOut:
    """Readings per characteristic; the inspection is decided once all are in (a failure
    opens an NCR with the lot)."""
    record = inspections.record_results(session, principal, inspection_id, data)
    return inspection_out(session, principal, record)


@router.post("/inspections/{inspection_id}/transitions", response_model=InspectionOut)
def inspection_step(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    inspection_id: RecordId,
    data: TransitionIn,
) -> InspectionOut:
    """Cancel an open inspection (pass and fail follow from the results)."""
    record = _step(request, session, principal, "inspection", inspection_id, data)
    return inspection_out(session, principal, record)


# --- lot releases ---------------------------------------------------------------------------


@router.get("/lot-releases", response_model=Page[LotReleaseOut])
def list_releases(
    session: DbSession,
    principal: CurrentPrincipal,
    state: Text = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    open_only: bool = False,
    page: PageNo = 1,
    page_size: PageSize = 50,
) -> Page[LotReleaseOut]:
    items, total = service.list_records(
        session,
        principal,
        "lot_release",
        state=state,
        q=q,
        open_only=open_only,
        page=page,
        page_size=page_size,
    )
    return Page(
        items=[release_out(session, principal, i) for i in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.post("/lot-releases", response_model=LotReleaseOut, status_code=status.HTTP_201_CREATED)
def request_release(
    session: DbSession, principal: CurrentPrincipal, data: LotReleaseIn
) -> LotReleaseOut:
    """Ask for the decision on a lot; a QA approver other than the requester signs it."""
    return release_out(session, principal, lot_release.request_release(session, principal, data))


@router.get("/lot-releases/{release_id}", response_model=LotReleaseOut)
def read_release(
    session: DbSession, principal: CurrentPrincipal, release_id: RecordId
) -> LotReleaseOut:
    record = service.get_record(session, principal, "lot_release", release_id)
    return release_out(session, principal, record)


@router.post("/lot-releases/{release_id}/transitions", response_model=LotReleaseOut)
def release_step(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    release_id: RecordId,
    data: TransitionIn,
) -> LotReleaseOut:
    """``release`` (signed ``released``: quarantine → released), ``reject`` (signed
    ``rejected``: quarantine and on hold → rejected) or ``cancel``."""
    record = _step(request, session, principal, "lot_release", release_id, data)
    return release_out(session, principal, record)


# --- KPI ------------------------------------------------------------------------------------


@router.get("/kpis/inspection-time", response_model=InspectionTimeOut)
def inspection_time(
    session: DbSession,
    principal: CurrentPrincipal,
    group: Literal["product", "supplier", "month"] = "month",
) -> InspectionTimeOut:
    """Mean hours receipt → inspection decision → release per product, supplier or month."""
    rows = kpi.inspection_time(session, principal, group)
    return InspectionTimeOut(group=group, rows=[KpiRow.model_validate(r) for r in rows])


# --- compliance documents -------------------------------------------------------------------


def _pdf(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@router.get(
    "/documents/dhr",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The DHR as PDF"}},
)
def dhr_pdf_file(
    session: DbSession,
    principal: CurrentPrincipal,
    gtin: Annotated[str, Query(min_length=1, max_length=14)],
    lot: Annotated[str, Query(min_length=1, max_length=20)],
) -> Response:
    """The device history record of a finished lot, as PDF (English)."""
    record = documents.device_history_record(session, principal, gtin, lot)
    return _pdf(dhr_pdf(record, _english), f"DHR-{gtin}-{lot}.pdf")


@router.get(
    "/documents/coc/{shipment_id}",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The CoC as PDF"}},
)
def coc_pdf_file(
    session: DbSession, principal: CurrentPrincipal, shipment_id: RecordId
) -> Response:
    """The certificate of conformance of a shipment, as PDF (English)."""
    coc = documents.certificate_of_conformance(session, principal, shipment_id)
    return _pdf(coc_pdf(coc, _english), f"CoC-{coc.shipment.sscc}.pdf")


def _english(message: str) -> str:
    return message
