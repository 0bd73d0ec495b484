"""HTML pages of recall cases: the recall list (with the response-time trend), the signed
initiation form, the recall console (scope summary, per-consignee status, KPIs, workflow
buttons and signature dialog, audit history), acknowledgement from the consignee's portal or on
its behalf by the hub, and the printable correction-and-removal report.

The pages call the same services as the API; a refused signature is kept exactly as over it.
"""

from __future__ import annotations

from typing import Any

from babel.dates import format_skeleton
from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import Select, func, select

from medledger.compliance.signing import SigningPolicy, failed_attempts_kept, second_factor_required
from medledger.core.db import utcnow
from medledger.core.errors import DomainError
from medledger.core.i18n import babel_locale
from medledger.core.principal import Permission
from medledger.core.scoping import scoped
from medledger.recall import documents, service
from medledger.recall import report as report_service
from medledger.recall.models import Recall, RecallNotice
from medledger.recall.schemas import AcknowledgementIn, RecallIn, SignatureIn, TransitionIn
from medledger.recall.workflows import RECALL_WORKFLOW
from medledger.web.forms import FormState, empty_form, parse_form
from medledger.web.home import HomeChart, HomeTile, register_chart, register_tile
from medledger.web.lists import NP_, Column, Empty, Filter, ListQuery, ListSpec, list_page
from medledger.web.nav import N_, NavEntry, register_nav
from medledger.web.pages import options, submit, who
from medledger.web.record import record_history
from medledger.web.ui import Ui, UiPage, UiRoute

router = APIRouter(include_in_schema=False, route_class=UiRoute)

register_nav(NavEntry("recalls", N_("Recalls"), "/recalls", Permission.QUALITY_READ, order=97))

HAZARD_LABELS = {"I": N_("Class I"), "II": N_("Class II"), "III": N_("Class III")}
DEPTH_LABELS = {"consumer": N_("consumer"), "retail": N_("retail"), "wholesale": N_("wholesale")}
ACTION_LABELS = {"removal": N_("removal"), "correction": N_("correction")}
MEANING_LABELS = {"authored": N_("authored"), "closed": N_("closed"), "reviewed": N_("reviewed")}
MEANING_STATEMENTS = {
    "authored": N_("I am the author of this record version."),
    "closed": N_("I close this record version."),
    "reviewed": N_("I have reviewed this record version."),
}
ROLE_LABELS = {"consignee": N_("consignee"), "holder": N_("holder")}


def _labels() -> dict[str, Any]:
    return {
        "hazard_labels": HAZARD_LABELS,
        "depth_labels": DEPTH_LABELS,
        "action_labels": ACTION_LABELS,
        "meaning_labels": MEANING_LABELS,
        "meaning_statements": MEANING_STATEMENTS,
        "states": {"recall": RECALL_WORKFLOW.states},
        "kind": "recall",
    }


def _policy(ui: Ui) -> SigningPolicy:
    return SigningPolicy.from_settings(ui.request.app.state.settings)


# --- the list --------------------------------------------------------------------------------


def _any(stmt: Any) -> Select[Any]:
    """A statement typed for ``core.scoping.scoped``."""
    return stmt


def _fetch(ui: Ui, query: ListQuery) -> list[Any]:
    principal = who(ui)
    recalls, _ = service.list_recalls(
        ui.session, principal, state=query.get("state") or None, page_size=5000
    )
    ids = [r.id for r in recalls]
    answered: dict[int, tuple[int, int]] = {}
    if ids:
        stmt: Select[Any] = scoped(
            _any(
                select(
                    RecallNotice.recall_id,
                    func.count(),
                    func.count(RecallNotice.acknowledged_at),
                )
                .where(RecallNotice.recall_id.in_(ids))
                .group_by(RecallNotice.recall_id)
            ),
            RecallNotice,
            principal,
        )
        answered = {rid: (int(total), int(done)) for rid, total, done in ui.session.execute(stmt)}
    ui.extra["answered"] = answered
    return recalls


def _answered(ui: Ui, recall: Recall) -> str:
    total, done = ui.extra.get("answered", {}).get(recall.id, (0, 0))
    return f"{done} / {total}"


RECALL_LIST = ListSpec(
    key="recalls",
    title=N_("Recalls"),
    path="/recalls",
    columns=(
        Column(
            "number",
            N_("Recall"),
            lambda r: r.number,
            href=lambda r: f"/recalls/{r.id}",
            css="mono nowrap",
            searchable=True,
        ),
        Column("title", N_("Title"), lambda r: r.title, searchable=True),
        Column(
            "hazard_class",
            N_("Health hazard"),
            lambda r: r.hazard_class,
            text=lambda ui, r: ui._(HAZARD_LABELS.get(r.hazard_class, r.hazard_class)),
        ),
        Column(
            "depth",
            N_("Depth"),
            lambda r: r.depth,
            text=lambda ui, r: ui._(DEPTH_LABELS.get(r.depth, r.depth)),
        ),
        Column(
            "state",
            N_("State"),
            lambda r: r.state,
            text=lambda ui, r: ui._(RECALL_WORKFLOW.states.get(r.state, r.state)),
        ),
        Column("answered", N_("Acknowledged"), lambda r: r.id, text=_answered, sortable=False),
        Column("initiated_at", N_("Initiated"), lambda r: r.initiated_at, css="nowrap"),
    ),
    fetch=_fetch,
    count=NP_("{n} recall", "{n} recalls"),
    filters=(
        Filter(
            "state",
            N_("State"),
            options=lambda ui: options(ui, RECALL_WORKFLOW.states, list(RECALL_WORKFLOW.states)),
        ),
    ),
    search=N_("Number or title"),
    default_sort="-initiated_at",
    create=Empty("", N_("New recall"), "/recalls/new", Permission.QUALITY_WRITE),
    empty=Empty(
        N_("No recall yet. Start one from a lot, a serial or a supplier's component lot."),
        N_("New recall"),
        "/recalls/new",
        Permission.QUALITY_WRITE,
    ),
    permission=Permission.QUALITY_READ,
    below="recall/_kpi.html",
)


@router.get("/recalls")
@router.post("/recalls")
def recall_list(ui: UiPage) -> Response:
    """Recalls the user may see (a partner: those it was notified of), with the response-time
    trend above the list."""
    ui.extra["kpi_chart"] = kpi_chart(ui)
    return list_page(ui, RECALL_LIST)


def _month_label(ui: Ui, month: str) -> str:
    from datetime import date

    return format_skeleton(
        "yMMM", date.fromisoformat(month + "-01"), locale=babel_locale(ui.locale)
    )


def kpi_series(ui: Ui) -> tuple[list[str], list[int]]:
    """Hours from initiation to the last acknowledgement, by month of initiation (recalls
    fully acknowledged only)."""
    figures = service.kpi(ui.session, who(ui))
    months = [m for m in figures["by_month"] if m["hours_to_all_acknowledged"] is not None]
    return (
        [_month_label(ui, m["month"]) for m in months],
        [round(m["hours_to_all_acknowledged"]) for m in months],
    )


def kpi_chart(ui: Ui) -> dict[str, Any]:
    labels, values = kpi_series(ui)
    return {
        "key": "recall_response",
        "title": ui._("Recall response time (hours to all acknowledged)"),
        "labels": labels,
        "values": values,
        "link": "/recalls",
        "figures": service.kpi(ui.session, who(ui)),
    }


register_chart(
    HomeChart(
        "recall_response",
        N_("Recall response time (hours to all acknowledged)"),
        kpi_series,
        "/recalls",
        Permission.QUALITY_READ,
        order=40,
    )
)


def _unacknowledged(ui: Ui) -> int:
    principal = who(ui)
    stmt: Select[Any] = scoped(
        _any(
            select(func.count())
            .select_from(RecallNotice)
            .join(Recall, Recall.id == RecallNotice.recall_id)
            .where(RecallNotice.acknowledged_at.is_(None), Recall.state == "open")
        ),
        RecallNotice,
        principal,
    )
    return int(ui.session.scalar(stmt) or 0)


register_tile(
    HomeTile(
        "recall_notices_open",
        N_("Recall notices not acknowledged"),
        N_("Consignees that have not answered an open recall"),
        _unacknowledged,
        "/recalls?state=open",
        Permission.QUALITY_READ,
        alert_when_positive=True,
        order=35,
    )
)


# --- initiation ------------------------------------------------------------------------------


def _new_page(ui: Ui, form: FormState[Any]) -> Response:
    from medledger.quality.models import Ncr

    principal = who(ui)
    ncrs = [
        (str(n.id), f"{n.number} · {n.title}")
        for n in ui.session.scalars(
            select(Ncr)
            .where(Ncr.tenant_id == principal.tenant_id)
            .order_by(Ncr.id.desc())
            .limit(200)
        )
    ]
    return ui.render(
        "recall/new.html",
        status=form.status,
        form=form,
        ncrs=ncrs,
        hazard_options=options(ui, HAZARD_LABELS, list(HAZARD_LABELS)),
        depth_options=options(ui, DEPTH_LABELS, list(DEPTH_LABELS)),
        action_options=options(ui, ACTION_LABELS, list(ACTION_LABELS)),
        second_factor=second_factor_required(ui.session, principal.user_id),
        **_labels(),
    )


@router.get("/recalls/new")
def recall_new(ui: UiPage) -> Response:
    principal = who(ui)
    principal.require(Permission.QUALITY_WRITE)
    values = {"hazard_class": "II", "depth": "retail", "action": "removal"}
    identifier = ui.request.query_params.get("id")
    if identifier:
        values["identifiers_text"] = identifier[:500]
    ncr = ui.request.query_params.get("ncr_id")
    if ncr and ncr.isdigit():
        values["ncr_id"] = ncr
    return _new_page(ui, empty_form(ui.locale, values))


@router.post("/recalls/new")
def recall_create(ui: UiPage) -> Response:
    """Start the recall (signed): the same use case as ``POST /api/v1/recalls``."""
    form = ui.form
    text = str(form.get("identifiers_text", "")) if form is not None else ""
    password = str(form.get("password", "")) if form is not None else ""
    extra: dict[str, Any] = {
        "identifiers": [line.strip() for line in text.splitlines() if line.strip()][:50],
        "signature": {
            "password": password[:200],
            "comment": str(form.get("comment", ""))[:1000] if form is not None else "",
            "second_factor": (str(form.get("second_factor", "")) or None)
            if form is not None
            else None,
        }
        if password
        else None,
    }
    state: FormState[Any] = parse_form(
        RecallIn,
        form,
        ui.locale,
        nullable=frozenset({"ncr_id"}),
        skip=frozenset({"identifiers_text", "password", "comment", "second_factor"}),
        extra=extra,
    )
    state.values["identifiers_text"] = text
    principal = who(ui)
    policy = _policy(ui)
    initiated = None
    if state.data is not None:
        try:
            with failed_attempts_kept(ui.session, principal, policy):
                initiated = service.initiate_recall(
                    ui.session, principal, state.data, policy=policy
                )
        except DomainError as exc:
            ui.discard_changes()
            state.reject(exc)
    if initiated is not None:
        return ui.redirect(f"/recalls/{initiated.recall.id}?saved=1")
    return _new_page(ui, state)


# --- the console -----------------------------------------------------------------------------


def _console(
    ui: Ui,
    recall_id: int,
    *,
    step_form: FormState[Any] | None = None,
    ack_form: FormState[Any] | None = None,
    ack_notice: int | None = None,
    step: str | None = None,
) -> Response:
    principal = who(ui)
    recall = service.get_recall(ui.session, principal, recall_id)
    view = service.view(ui.session, principal, recall)
    offers = {o.transition.action: o for o in view.offers}
    step = step or ui.request.query_params.get("step") or None
    dialog = offers.get(step) if step else None
    scope = None
    if principal.sees_all_parties:
        scope = service.get_scope(ui.session, principal, recall)
    status = next(
        (f.status for f in (step_form, ack_form) if f is not None and f.status != 200), 200
    )
    return ui.render(
        "recall/console.html",
        status=status,
        record=recall,
        view=view,
        scope=scope.snapshot if scope is not None else None,
        seconds_to_scope=scope.seconds_to_scope if scope is not None else None,
        dialog=dialog,
        second_factor=dialog is not None and second_factor_required(ui.session, principal.user_id),
        step_form=step_form or empty_form(ui.locale),
        ack_form=ack_form or empty_form(ui.locale),
        blank_form=empty_form(ui.locale),
        ack_notice=ack_notice,
        path=f"/recalls/{recall.id}",
        history=record_history(ui, "recall", recall.id),
        can_write=principal.can(Permission.QUALITY_WRITE),
        can_report=principal.can(Permission.QUALITY_REPORT),
        role_labels=ROLE_LABELS,
        **_labels(),
    )


@router.get("/recalls/{recall_id}")
def recall_console(ui: UiPage, recall_id: int) -> Response:
    """The recall console (hub) or the recall notice (a consignee's portal)."""
    return _console(ui, recall_id)


@router.post("/recalls/{recall_id}/transitions")
def recall_step(ui: UiPage, recall_id: int) -> Response:
    """Close the recall from the console (with the signature dialog's password)."""
    form = ui.form
    action = str(form.get("action", "")) if form is not None else ""
    password = str(form.get("password", "")) if form is not None else ""
    state: FormState[Any] = FormState(locale=ui.locale, values={"reason": ""})
    if form is not None:
        state.values = {k: str(v) for k, v in form.items() if k not in ("password", "csrf_token")}
    data = TransitionIn(
        action=action[:32] or "-",
        reason=str(form.get("reason", ""))[:500] if form is not None else "",
        signature=SignatureIn(
            password=password[:200],
            comment=str(form.get("comment", ""))[:1000] if form is not None else "",
            second_factor=(str(form.get("second_factor", "")) or None)
            if form is not None
            else None,
        )
        if password
        else None,
    )
    principal = who(ui)
    policy = _policy(ui)
    try:
        with failed_attempts_kept(ui.session, principal, policy):
            service.transition(ui.session, principal, recall_id, data, policy=policy)
    except DomainError as exc:
        ui.discard_changes()
        state.reject(exc)
        return _console(ui, recall_id, step_form=state, step=action)
    return ui.redirect(f"/recalls/{recall_id}?saved=1")


@router.post("/recalls/{recall_id}/notices/{notice_id}/acknowledge")
def notice_acknowledge(ui: UiPage, recall_id: int, notice_id: int) -> Response:
    """A consignee acknowledges from its portal; the hub records an answer on its behalf."""
    state = parse_form(AcknowledgementIn, ui.form, ui.locale)
    saved = submit(
        ui,
        state,
        lambda data: service.acknowledge(ui.session, who(ui), recall_id, notice_id, data),
    )
    if saved is not None:
        return ui.redirect(f"/recalls/{recall_id}?saved=1#notice-{notice_id}")
    return _console(ui, recall_id, ack_form=state, ack_notice=notice_id)


@router.get("/recalls/{recall_id}/report")
def recall_report(ui: UiPage, recall_id: int) -> Response:
    """The printable correction-and-removal report (21 CFR 806)."""
    principal = who(ui)
    recall = service.get_recall(ui.session, principal, recall_id)
    data = report_service.build(ui.session, principal, recall)
    view = service.view(ui.session, principal, recall)
    return ui.render(
        "recall/report.html",
        record=recall,
        report=data,
        view=view,
        now=utcnow(),
        path=f"/recalls/{recall.id}",
        **_labels(),
    )


def _pdf(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@router.get("/recalls/{recall_id}/report/pdf")
def recall_report_pdf(ui: UiPage, recall_id: int) -> Response:
    """The correction-and-removal report as a PDF file, in the user's language."""
    principal = who(ui)
    recall = service.get_recall(ui.session, principal, recall_id)
    data = report_service.build(ui.session, principal, recall)
    signatures = documents.signature_rows(ui.session, principal, recall)
    return _pdf(documents.report_pdf(recall, data, signatures, ui._), f"{recall.number}-806.pdf")


@router.get("/recalls/{recall_id}/notices/{notice_id}")
def notice_page(ui: UiPage, recall_id: int, notice_id: int) -> Response:
    """One consignee's recall notice (the hub: any; a consignee: its own, else 404)."""
    doc = documents.notice_document(ui.session, who(ui), recall_id, notice_id)
    return ui.render(
        "recall/notice.html",
        doc=doc,
        record=doc.recall,
        notice=doc.notice,
        path=f"/recalls/{recall_id}",
        **_labels(),
    )


@router.get("/recalls/{recall_id}/notices/{notice_id}/pdf")
def notice_pdf(ui: UiPage, recall_id: int, notice_id: int) -> Response:
    """One consignee's recall notice as a PDF file, in the user's language."""
    doc = documents.notice_document(ui.session, who(ui), recall_id, notice_id)
    return _pdf(documents.notice_pdf(doc, ui._), f"{doc.recall.number}-notice-{doc.notice.id}.pdf")
