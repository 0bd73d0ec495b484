"""REST routes of recall cases: initiate (signed), list, read (with effectiveness and the
caller's notices), the hub's scope snapshot, acknowledgements, closure (signed), the KPI and
the correction-and-removal report (21 CFR 806) as JSON, CSV, XLSX or PDF.

A refused signature changes nothing but is kept (audit, signing lock), as for quality records.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse

from medledger.compliance.signing import SigningPolicy, failed_attempts_kept
from medledger.core.deps import CurrentPrincipal, DbSession
from medledger.core.principal import Principal
from medledger.core.schemas import Page
from medledger.core.types import RecordId
from medledger.recall import report as report_service
from medledger.recall import service
from medledger.recall.documents import report_pdf, signature_rows
from medledger.recall.models import Recall
from medledger.recall.schemas import (
    AcknowledgementIn,
    EffectivenessOut,
    KpiOut,
    NoticeOut,
    RecallIn,
    RecallOut,
    RecallSummaryOut,
    TransitionIn,
)

router = APIRouter(prefix="/api/v1/recalls", tags=["recalls"])

HUB_ONLY_FIGURES = (
    "lots_in_scope",
    "serials_in_scope",
    "logistic_units_in_scope",
    "shipments_in_scope",
    "consignees",
    "units_held",
    "trace_completeness",
)

PageNo = Annotated[int, Query(ge=1, le=1_000_000_000)]
PageSize = Annotated[int, Query(ge=1, le=500)]


def _policy(request: Request) -> SigningPolicy:
    return SigningPolicy.from_settings(request.app.state.settings)


def recall_out(session: DbSession, principal: Principal, recall: Recall) -> RecallOut:
    from medledger.quality.service import signature_out

    view = service.view(session, principal, recall)
    columns = {c.key: getattr(recall, c.key) for c in recall.__mapper__.column_attrs}
    if not principal.sees_all_parties:
        columns.update(dict.fromkeys(HUB_ONLY_FIGURES))
    return RecallOut.model_validate(
        {
            **columns,
            "effectiveness": EffectivenessOut.model_validate(view.effectiveness.to_json()),
            "notices": [NoticeOut.model_validate(n) for n in view.notices],
            "signatures": [signature_out(c.signature, c.valid) for c in view.signatures.signatures],
            "history": [
                {
                    "action": h.action,
                    "from_state": h.from_state,
                    "to_state": h.to_state,
                    "actor_label": h.actor_label,
                    "reason": h.reason,
                    "signature_id": h.signature_id,
                    "at": h.at,
                }
                for h in view.history
            ],
            "actions_available": [
                {
                    "action": o.transition.action,
                    "target": o.transition.target,
                    "signature": o.transition.signature.value if o.transition.signature else None,
                    "blocked_code": o.blocked.code if o.blocked else None,
                }
                for o in view.offers
            ],
        }
    )


@router.get("", response_model=Page[RecallSummaryOut])
def list_recalls(
    session: DbSession,
    principal: CurrentPrincipal,
    state: Annotated[str | None, Query(max_length=32)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    page: PageNo = 1,
    page_size: PageSize = 50,
) -> Page[RecallSummaryOut]:
    """Recalls the caller may see, newest first (a partner: those it was notified of)."""
    items, total = service.list_recalls(
        session, principal, state=state, q=q, page=page, page_size=page_size
    )
    return Page(
        items=[RecallSummaryOut.model_validate(i) for i in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.post("", response_model=RecallOut, status_code=status.HTTP_201_CREATED)
def initiate_recall(
    request: Request, session: DbSession, principal: CurrentPrincipal, data: RecallIn
) -> RecallOut:
    """Start a recall in one step: scope from the trace, own stock recalled, every consignee
    notified (portal and outbox ``recall.notice``), EPCIS events with disposition
    ``recalled``; signed by the initiator (``signature.password``)."""
    policy = _policy(request)
    with failed_attempts_kept(session, principal, policy):
        initiated = service.initiate_recall(session, principal, data, policy=policy)
    return recall_out(session, principal, initiated.recall)


@router.get("/kpi", response_model=KpiOut)
def recall_kpi(session: DbSession, principal: CurrentPrincipal) -> Any:
    """Recall response time (initiation → all notified → all acknowledged) per recall and per
    month, and the share of consignees that acknowledged."""
    return service.kpi(session, principal)


@router.get("/{recall_id}", response_model=RecallOut)
def read_recall(session: DbSession, principal: CurrentPrincipal, recall_id: RecordId) -> RecallOut:
    return recall_out(session, principal, service.get_recall(session, principal, recall_id))


@router.get("/{recall_id}/scope")
def read_scope(session: DbSession, principal: CurrentPrincipal, recall_id: RecordId) -> Any:
    """The scope as the trace computed it at initiation (the hub only)."""
    recall = service.get_recall(session, principal, recall_id)
    scope = service.get_scope(session, principal, recall)
    return {
        "recall_id": recall.id,
        "scope_hash": recall.scope_hash,
        "seconds_to_scope": scope.seconds_to_scope,
        **scope.snapshot,
    }


@router.post("/{recall_id}/notices/{notice_id}/acknowledgement", response_model=NoticeOut)
def acknowledge(
    session: DbSession,
    principal: CurrentPrincipal,
    recall_id: RecordId,
    notice_id: RecordId,
    data: AcknowledgementIn,
) -> NoticeOut:
    """A consignee's user acknowledges its notice (the hub: on its behalf, with a reason)."""
    notice = service.acknowledge(session, principal, recall_id, notice_id, data)
    return NoticeOut.model_validate(notice)


@router.post("/{recall_id}/transitions", response_model=RecallOut)
def recall_step(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    recall_id: RecordId,
    data: TransitionIn,
) -> RecallOut:
    """Take a workflow step (``close``, signed)."""
    policy = _policy(request)
    with failed_attempts_kept(session, principal, policy):
        recall = service.transition(session, principal, recall_id, data, policy=policy)
    return recall_out(session, principal, recall)


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"
    PDF = "pdf"


@router.get(
    "/{recall_id}/report",
    responses={
        200: {
            "content": {
                "application/json": {},
                "text/csv": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
                "application/pdf": {},
            }
        }
    },
)
def correction_removal_report(
    session: DbSession,
    principal: CurrentPrincipal,
    recall_id: RecordId,
    format: ReportFormat = ReportFormat.JSON,
) -> Any:
    """The correction-and-removal report with the data 21 CFR 806.10 asks for (the hub only)."""
    recall = service.get_recall(session, principal, recall_id)
    data = report_service.build(session, principal, recall)
    if format is ReportFormat.CSV:
        return Response(
            report_service.to_csv(data),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{recall.number}-806.csv"'},
        )
    if format is ReportFormat.XLSX:
        return Response(
            report_service.to_xlsx(data),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{recall.number}-806.xlsx"'},
        )
    if format is ReportFormat.PDF:
        return Response(
            report_pdf(recall, data, signature_rows(session, principal, recall), _english),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{recall.number}-806.pdf"'},
        )
    return JSONResponse(report_service.to_json(data))


def _english(message: str) -> str:
    return message
