"""REST routes: NCR, CAPA, change control, workflow steps, tasks; electronic signatures.

Every record comes with its signatures (each checked against the record's current version),
its workflow history and the steps the caller may take now. A workflow step is one POST to
``…/transitions`` with the action, a reason and, where the step needs it, the signature
(password again); a refused signature changes nothing but is kept (audit, signing lock).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status

from medledger.compliance import signing
from medledger.compliance.signing import SigningPolicy, failed_attempts_kept
from medledger.core.deps import CurrentPrincipal, DbSession
from medledger.core.principal import Permission, Principal
from medledger.core.schemas import Page
from medledger.core.types import RecordId
from medledger.identifiers.fields import GTIN
from medledger.quality import capa as capa_service
from medledger.quality import change_control, complaint, service
from medledger.quality import deviation as deviation_service
from medledger.quality import ncr as ncr_service
from medledger.quality import repository as repo
from medledger.quality.models import Capa, ChangeRequest, Complaint, Deviation, Ncr
from medledger.quality.records import WORKFLOWS
from medledger.quality.schemas import (
    AcknowledgeIn,
    CapaActionDoneIn,
    CapaActionIn,
    CapaActionOut,
    CapaIn,
    CapaOut,
    CapaUpdate,
    ChangeIn,
    ChangeNoticeOut,
    ChangeOut,
    ChangeUpdate,
    ComplaintIn,
    ComplaintNcrIn,
    ComplaintOut,
    ComplaintTrendOut,
    ComplaintUpdate,
    DeviationIn,
    DeviationOut,
    DeviationUpdate,
    NcrIn,
    NcrOut,
    NcrUpdate,
    RecordSignaturesOut,
    ServiceRecordIn,
    ServiceRecordOut,
    SignatureOut,
    SignIn,
    SupplierResponseIn,
    TaskOut,
    TransitionIn,
)

router = APIRouter(prefix="/api/v1/quality", tags=["quality"])
signatures_router = APIRouter(prefix="/api/v1/signatures", tags=["signatures"])

PageNo = Annotated[int, Query(ge=1, le=1_000_000_000)]
PageSize = Annotated[int, Query(ge=1, le=500)]


def _policy(request: Request) -> SigningPolicy:
    return SigningPolicy.from_settings(request.app.state.settings)


def ncr_out(session: DbSession, principal: Principal, ncr: Ncr) -> NcrOut:
    view = service.view(session, principal, "ncr", ncr)
    return NcrOut.model_validate({**_columns(ncr), **service.out_payload(view)})


def capa_out(session: DbSession, principal: Principal, capa: Capa) -> CapaOut:
    view = service.view(session, principal, "capa", capa)
    actions = repo.capa_actions(session, [capa.id])[capa.id]
    return CapaOut.model_validate(
        {
            **_columns(capa),
            **service.out_payload(view),
            "actions": [CapaActionOut.model_validate(a) for a in actions],
        }
    )


def change_out(session: DbSession, principal: Principal, change: ChangeRequest) -> ChangeOut:
    view = service.view(session, principal, "change", change)
    notices = change_control.notices(session, principal, change)
    return ChangeOut.model_validate(
        {
            **_columns(change),
            **service.out_payload(view),
            "notices": [ChangeNoticeOut.model_validate(n) for n in notices],
        }
    )


def _columns(record: Any) -> dict[str, Any]:
    return {c.key: getattr(record, c.key) for c in record.__mapper__.column_attrs}


@dataclass(frozen=True)
class RecordFilters:
    """The filters and page every list of quality records takes."""

    state: str | None
    q: str | None
    open_only: bool
    overdue: bool
    page: int
    page_size: int


def record_filters(
    state: str | None = None,
    q: str | None = None,
    open_only: bool = False,
    overdue: bool = False,
    page: PageNo = 1,
    page_size: PageSize = 50,
) -> RecordFilters:
    return RecordFilters(state, q, open_only, overdue, page, page_size)


Filters = Annotated[RecordFilters, Depends(record_filters)]


def _records_page(
    session: DbSession,
    principal: Principal,
    kind: str,
    filters: RecordFilters,
    out: Callable[[DbSession, Principal, Any], Any],
    **extra: Any,
) -> Page[Any]:
    """One page of a kind of record the caller may see, each in its API shape."""
    items, total = service.list_records(
        session,
        principal,
        kind,
        state=filters.state,
        q=filters.q,
        open_only=filters.open_only,
        overdue_only=filters.overdue,
        page=filters.page,
        page_size=filters.page_size,
        **extra,
    )
    return Page(
        items=[out(session, principal, i) for i in items],
        total=total,
        page=filters.page,
        page_size=filters.page_size,
    )


# --- NCR -------------------------------------------------------------------------------------


@router.get("/ncrs", response_model=Page[NcrOut])
def list_ncrs(
    session: DbSession,
    principal: CurrentPrincipal,
    filters: Filters,
    supplier_party_id: RecordId | None = None,
) -> Page[NcrOut]:
    """NCRs the caller may see (a supplier: those about its material or reported by it)."""
    return _records_page(
        session, principal, "ncr", filters, ncr_out, supplier_party_id=supplier_party_id
    )


@router.post("/ncrs", response_model=NcrOut, status_code=status.HTTP_201_CREATED)
def raise_ncr(session: DbSession, principal: CurrentPrincipal, data: NcrIn) -> NcrOut:
    """Raise an NCR (by hand, a partner's report, a complaint with the UDI); its affected lots
    are put on hold at once."""
    return ncr_out(session, principal, ncr_service.raise_ncr(session, principal, data))


@router.get("/ncrs/{ncr_id}", response_model=NcrOut)
def read_ncr(session: DbSession, principal: CurrentPrincipal, ncr_id: RecordId) -> NcrOut:
    return ncr_out(session, principal, service.get_record(session, principal, "ncr", ncr_id))


@router.patch("/ncrs/{ncr_id}", response_model=NcrOut)
def update_ncr(
    session: DbSession, principal: CurrentPrincipal, ncr_id: RecordId, data: NcrUpdate
) -> NcrOut:
    return ncr_out(session, principal, ncr_service.update_ncr(session, principal, ncr_id, data))


@router.post("/ncrs/{ncr_id}/supplier-response", response_model=NcrOut)
def answer_ncr(
    session: DbSession, principal: CurrentPrincipal, ncr_id: RecordId, data: SupplierResponseIn
) -> NcrOut:
    """The supplier concerned answers the NCR (SCAR)."""
    return ncr_out(
        session, principal, ncr_service.supplier_respond(session, principal, ncr_id, data)
    )


def _transition(
    request: Request,
    session: DbSession,
    principal: Principal,
    kind: str,
    record_id: RecordId,
    data: TransitionIn,
) -> Any:
    policy = _policy(request)
    with failed_attempts_kept(session, principal, policy):
        return service.transition(session, principal, kind, record_id, data, policy=policy)


@router.post("/ncrs/{ncr_id}/transitions", response_model=NcrOut)
def ncr_step(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    ncr_id: RecordId,
    data: TransitionIn,
) -> NcrOut:
    """Take a workflow step (see ``GET /api/v1/quality/workflows``)."""
    record = _transition(request, session, principal, "ncr", ncr_id, data)
    return ncr_out(session, principal, record)


# --- CAPA ------------------------------------------------------------------------------------


@router.get("/capas", response_model=Page[CapaOut])
def list_capas(
    session: DbSession,
    principal: CurrentPrincipal,
    filters: Filters,
) -> Page[CapaOut]:
    return _records_page(session, principal, "capa", filters, capa_out)


@router.post("/capas", response_model=CapaOut, status_code=status.HTTP_201_CREATED)
def create_capa(session: DbSession, principal: CurrentPrincipal, data: CapaIn) -> CapaOut:
    return capa_out(session, principal, capa_service.create_capa(session, principal, data))


@router.get("/capas/{capa_id}", response_model=CapaOut)
def read_capa(session: DbSession, principal: CurrentPrincipal, capa_id: RecordId) -> CapaOut:
    return capa_out(session, principal, service.get_record(session, principal, "capa", capa_id))


@router.patch("/capas/{capa_id}", response_model=CapaOut)
def update_capa(
    session: DbSession, principal: CurrentPrincipal, capa_id: RecordId, data: CapaUpdate
) -> CapaOut:
    return capa_out(session, principal, capa_service.update_capa(session, principal, capa_id, data))


@router.post(
    "/capas/{capa_id}/actions", response_model=CapaActionOut, status_code=status.HTTP_201_CREATED
)
def add_capa_action(
    session: DbSession, principal: CurrentPrincipal, capa_id: RecordId, data: CapaActionIn
) -> CapaActionOut:
    return CapaActionOut.model_validate(capa_service.add_action(session, principal, capa_id, data))


@router.post("/capas/{capa_id}/actions/{action_id}/done", response_model=CapaActionOut)
def complete_capa_action(
    session: DbSession,
    principal: CurrentPrincipal,
    capa_id: RecordId,
    action_id: RecordId,
    data: CapaActionDoneIn,
) -> CapaActionOut:
    return CapaActionOut.model_validate(
        capa_service.complete_action(session, principal, capa_id, action_id, data)
    )


@router.post("/capas/{capa_id}/transitions", response_model=CapaOut)
def capa_step(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    capa_id: RecordId,
    data: TransitionIn,
) -> CapaOut:
    record = _transition(request, session, principal, "capa", capa_id, data)
    return capa_out(session, principal, record)


# --- change control --------------------------------------------------------------------------


@router.get("/changes", response_model=Page[ChangeOut])
def list_changes(
    session: DbSession,
    principal: CurrentPrincipal,
    filters: Filters,
) -> Page[ChangeOut]:
    """Change requests the caller may see (a partner: those it was notified of)."""
    return _records_page(session, principal, "change", filters, change_out)


@router.post("/changes", response_model=ChangeOut, status_code=status.HTTP_201_CREATED)
def create_change(session: DbSession, principal: CurrentPrincipal, data: ChangeIn) -> ChangeOut:
    return change_out(session, principal, change_control.create_change(session, principal, data))


@router.get("/changes/{change_id}", response_model=ChangeOut)
def read_change(session: DbSession, principal: CurrentPrincipal, change_id: RecordId) -> ChangeOut:
    return change_out(
        session, principal, service.get_record(session, principal, "change", change_id)
    )


@router.patch("/changes/{change_id}", response_model=ChangeOut)
def update_change(
    session: DbSession, principal: CurrentPrincipal, change_id: RecordId, data: ChangeUpdate
) -> ChangeOut:
    return change_out(
        session, principal, change_control.update_change(session, principal, change_id, data)
    )


@router.post("/changes/{change_id}/transitions", response_model=ChangeOut)
def change_step(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    change_id: RecordId,
    data: TransitionIn,
) -> ChangeOut:
    record = _transition(request, session, principal, "change", change_id, data)
    return change_out(session, principal, record)


@router.post("/changes/{change_id}/acknowledge", response_model=ChangeNoticeOut)
def acknowledge_change(
    session: DbSession, principal: CurrentPrincipal, change_id: RecordId, data: AcknowledgeIn
) -> ChangeNoticeOut:
    """A notified partner acknowledges the change."""
    return ChangeNoticeOut.model_validate(
        change_control.acknowledge(session, principal, change_id, data)
    )


# --- deviations ------------------------------------------------------------------------------


def deviation_out(session: DbSession, principal: Principal, deviation: Deviation) -> DeviationOut:
    view = service.view(session, principal, "deviation", deviation)
    return DeviationOut.model_validate({**_columns(deviation), **service.out_payload(view)})


@router.get("/deviations", response_model=Page[DeviationOut])
def list_deviations(
    session: DbSession,
    principal: CurrentPrincipal,
    filters: Filters,
) -> Page[DeviationOut]:
    """Deviations the caller may see (a supplier: those that concern it)."""
    return _records_page(session, principal, "deviation", filters, deviation_out)


@router.post("/deviations", response_model=DeviationOut, status_code=status.HTTP_201_CREATED)
def create_deviation(
    session: DbSession, principal: CurrentPrincipal, data: DeviationIn
) -> DeviationOut:
    return deviation_out(
        session, principal, deviation_service.create_deviation(session, principal, data)
    )


@router.get("/deviations/{deviation_id}", response_model=DeviationOut)
def read_deviation(
    session: DbSession, principal: CurrentPrincipal, deviation_id: RecordId
) -> DeviationOut:
    return deviation_out(
        session, principal, service.get_record(session, principal, "deviation", deviation_id)
    )


@router.patch("/deviations/{deviation_id}", response_model=DeviationOut)
def update_deviation(
    session: DbSession, principal: CurrentPrincipal, deviation_id: RecordId, data: DeviationUpdate
) -> DeviationOut:
    return deviation_out(
        session,
        principal,
        deviation_service.update_deviation(session, principal, deviation_id, data),
    )


@router.post("/deviations/{deviation_id}/transitions", response_model=DeviationOut)
def deviation_step(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    deviation_id: RecordId,
    data: TransitionIn,
) -> DeviationOut:
    record = _transition(request, session, principal, "deviation", deviation_id, data)
    return deviation_out(session, principal, record)


# --- complaints and service records ------------------------------------------------------------


def complaint_out(session: DbSession, principal: Principal, record: Complaint) -> ComplaintOut:
    view = service.view(session, principal, "complaint", record)
    return ComplaintOut.model_validate({**_columns(record), **service.out_payload(view)})


@router.get("/complaints", response_model=Page[ComplaintOut])
def list_complaints(
    session: DbSession,
    principal: CurrentPrincipal,
    filters: Filters,
) -> Page[ComplaintOut]:
    """Complaints the caller may see (a partner: those its users reported)."""
    return _records_page(session, principal, "complaint", filters, complaint_out)


@router.post("/complaints", response_model=ComplaintOut, status_code=status.HTTP_201_CREATED)
def create_complaint(
    session: DbSession, principal: CurrentPrincipal, data: ComplaintIn
) -> ComplaintOut:
    """Report a complaint or adverse event against a device named by its UDI; the due date of
    the reportability decision follows the harm reported."""
    return complaint_out(session, principal, complaint.create_complaint(session, principal, data))


@router.get("/complaints/trend", response_model=list[ComplaintTrendOut])
def complaint_trend(
    session: DbSession, principal: CurrentPrincipal, gtin: GTIN | None = None
) -> list[ComplaintTrendOut]:
    """Complaints per month, GTIN and lot (and how many reported an injury or worse)."""
    return [
        ComplaintTrendOut.model_validate(row)
        for row in complaint.trend(session, principal, gtin=gtin)
    ]


@router.get("/complaints/{complaint_id}", response_model=ComplaintOut)
def read_complaint(
    session: DbSession, principal: CurrentPrincipal, complaint_id: RecordId
) -> ComplaintOut:
    return complaint_out(
        session, principal, service.get_record(session, principal, "complaint", complaint_id)
    )


@router.patch("/complaints/{complaint_id}", response_model=ComplaintOut)
def update_complaint(
    session: DbSession, principal: CurrentPrincipal, complaint_id: RecordId, data: ComplaintUpdate
) -> ComplaintOut:
    """Edit the reporter's facts, the investigation, the reportability decision (per
    regulator, with rationale) or the conclusion, as the state allows."""
    return complaint_out(
        session, principal, complaint.update_complaint(session, principal, complaint_id, data)
    )


@router.post("/complaints/{complaint_id}/transitions", response_model=ComplaintOut)
def complaint_step(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    complaint_id: RecordId,
    data: TransitionIn,
) -> ComplaintOut:
    record = _transition(request, session, principal, "complaint", complaint_id, data)
    return complaint_out(session, principal, record)


@router.post(
    "/complaints/{complaint_id}/ncr", response_model=NcrOut, status_code=status.HTTP_201_CREATED
)
def complaint_ncr(
    session: DbSession, principal: CurrentPrincipal, complaint_id: RecordId, data: ComplaintNcrIn
) -> NcrOut:
    """Open an NCR from the complaint (the UDI's lot goes on hold through it)."""
    return ncr_out(session, principal, complaint.open_ncr(session, principal, complaint_id, data))


@router.post(
    "/complaints/{complaint_id}/capa", response_model=CapaOut, status_code=status.HTTP_201_CREATED
)
def complaint_capa(
    session: DbSession, principal: CurrentPrincipal, complaint_id: RecordId
) -> CapaOut:
    """Open a CAPA from the complaint (linked to its NCR when it has one)."""
    return capa_out(session, principal, complaint.open_capa(session, principal, complaint_id))


@router.get("/service-records", response_model=Page[ServiceRecordOut])
def list_service_records(
    session: DbSession,
    principal: CurrentPrincipal,
    gtin: GTIN | None = None,
    serial: Annotated[str | None, Query(max_length=20)] = None,
    page: PageNo = 1,
    page_size: PageSize = 50,
) -> Page[ServiceRecordOut]:
    """Servicing records the caller may see (a partner: those it performed), newest first."""
    items, total = complaint.service_records(
        session, principal, gtin=gtin, serial=serial, page=page, page_size=page_size
    )
    return Page(
        items=[ServiceRecordOut.model_validate(i) for i in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.post(
    "/service-records", response_model=ServiceRecordOut, status_code=status.HTTP_201_CREATED
)
def create_service_record(
    session: DbSession, principal: CurrentPrincipal, data: ServiceRecordIn
) -> ServiceRecordOut:
    """Record a servicing of one device, named by a UDI that carries its serial."""
    return ServiceRecordOut.model_validate(complaint.record_service(session, principal, data))


# --- tasks and workflows ---------------------------------------------------------------------


@router.get("/tasks", response_model=list[TaskOut])
def my_tasks(session: DbSession, principal: CurrentPrincipal) -> list[TaskOut]:
    """What waits for the caller (owned, to approve, to answer, to acknowledge) and everything
    overdue it may see; overdue first."""
    principal.require(Permission.QUALITY_READ)
    return [
        TaskOut(
            kind=t.kind,
            id=t.id,
            number=t.number,
            title=t.title,
            state=t.state,
            due_date=t.due_date,
            overdue=t.overdue,
            path=t.path,
        )
        for t in service.my_tasks(session, principal)
    ]


@router.get("/summary")
def summary(session: DbSession, principal: CurrentPrincipal) -> dict[str, dict[str, int]]:
    """Open and overdue records per kind (ncr, capa, change, deviation)."""
    return service.open_counts(session, principal)


@router.get("/workflows")
def workflows(principal: CurrentPrincipal) -> dict[str, Any]:
    """The transition tables themselves: per kind, states and (state, action) → next state,
    permission, signature meaning, author rule, reason rule."""
    principal.require(Permission.QUALITY_READ)
    return {
        kind: {
            "states": list(w.states),
            "initial": w.initial,
            "closed_states": sorted(w.closed_states),
            "transitions": [
                {
                    "from": t.source,
                    "action": t.action,
                    "to": t.target,
                    "permission": t.permission.value,
                    "signature": t.signature.value if t.signature else None,
                    "author_may_not": t.author_may_not,
                    "reason_required": t.reason_required,
                    "guard": t.guard.__name__.lstrip("_") if t.guard else None,
                }
                for t in w.transitions
            ],
        }
        for kind, w in WORKFLOWS.items()
    }


# --- signatures ------------------------------------------------------------------------------


def _record_signatures_out(record_signatures: signing.RecordSignatures) -> RecordSignaturesOut:
    return RecordSignaturesOut(
        record_kind=record_signatures.kind,
        record_id=record_signatures.record_id,
        record_label=record_signatures.label,
        current_hash=record_signatures.current_hash,
        all_match=record_signatures.all_valid,
        signatures=[
            SignatureOut.model_validate(service.signature_out(c.signature, c.valid))
            for c in record_signatures.signatures
        ],
    )


@signatures_router.get("", response_model=RecordSignaturesOut)
def list_signatures(
    session: DbSession, principal: CurrentPrincipal, record_kind: str, record_id: RecordId
) -> RecordSignaturesOut:
    """A record's signatures, each verified: ``intact`` (the signature row still hashes to
    what was signed) and ``matches_current_version`` (the record still has that content)."""
    return _record_signatures_out(
        signing.record_signatures(session, principal, record_kind, record_id)
    )


@signatures_router.post("", response_model=SignatureOut, status_code=status.HTTP_201_CREATED)
def sign_record(
    request: Request, session: DbSession, principal: CurrentPrincipal, data: SignIn
) -> SignatureOut:
    """Sign the current version of any signable record directly (for example *reviewed*);
    approvals happen through the record's workflow steps."""
    policy = _policy(request)
    with failed_attempts_kept(session, principal, policy):
        signature = signing.sign_record(
            session,
            principal,
            data.record_kind,
            data.record_id,
            data.meaning,
            signing.Credentials(data.password, data.comment, data.second_factor),
            policy=policy,
        )
    return SignatureOut.model_validate(service.signature_out(signature, True))
