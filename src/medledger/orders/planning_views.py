"""HTML pages of priority and allocation: the board (drag and drop or buttons; the server's
transition table decides), the priority queue with each score's breakdown, the approvals
inbox with its signature dialog (works at 390×844), and the rule-set editor."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import case, or_

from medledger.compliance.signing import Credentials, SigningPolicy, failed_attempts_kept
from medledger.core.errors import DomainError
from medledger.core.principal import Permission
from medledger.orders import approvals, board, planning
from medledger.orders.planning_api import queue_rows
from medledger.orders.planning_models import ApprovalState, PlanningApproval, PriorityRuleSet
from medledger.parties.views import page_number, who
from medledger.web.lists import (
    NP_,
    Column,
    Empty,
    Filter,
    ListQuery,
    ListSpec,
    badge,
    list_page,
    visible_page,
)
from medledger.web.nav import N_, NavEntry, register_nav
from medledger.web.pages import options
from medledger.web.ui import Ui, UiPage, UiRoute

router = APIRouter(include_in_schema=False, route_class=UiRoute)

register_nav(
    NavEntry("order-board", N_("Order board"), "/orders/board", Permission.ORDERS_FULFIL, order=95)
)
register_nav(
    NavEntry(
        "order-approvals",
        N_("Approvals"),
        "/orders/approvals",
        Permission.PRIORITY_APPROVE,
        order=98,
    )
)

COLUMN_LABELS = {
    "new": N_("New"),
    "scored": N_("Scored"),
    "allocated": N_("Allocated"),
    "picking": N_("Picking"),
    "shipped": N_("Shipped"),
    "delivered": N_("Delivered"),
    "backorder": N_("Backorder"),
    "qc_hold": N_("QC hold"),
    "compliance": N_("Compliance"),
}
# The labels of the default rule set's factors (shown in the queue's breakdown).
FACTOR_LABELS = (
    N_("Customer tier"),
    N_("Contract penalty per day late"),
    N_("Scheduled surgery"),
    N_("Days of slack to the due date"),
    N_("Line value"),
    N_("Other authorised stock in the region (weeks of demand)"),
    N_("Stock status of the product"),
    N_("Transit days to the ship-to"),
    N_("Blocked by a QC hold or missing authorisation"),
    N_("Days since the order was placed"),
)
KIND_LABELS = {
    "override": N_("Manual priority override"),
    "preemption": N_("Pre-emption of another customer's reservation"),
    "rule_set": N_("Rule-set activation"),
}
REASON_LABELS = {
    "out_of_stock": N_("out of stock"),
    "not_released": N_("QC hold: only held stock"),
    "short_dated": N_("only short-dated stock"),
    "no_cold_chain_lane": N_("no cold chain to the ship-to"),
    "not_authorized_in_region": N_("no market authorisation in the region"),
    "no_lane": N_("no lane"),
    "outranked": N_("outranked"),
    "ship_complete_unmet": N_("ship complete not possible"),
}
N_("Manual override (approved)")


def _policy(ui: Ui) -> SigningPolicy:
    return SigningPolicy.from_settings(ui.request.app.state.settings)


def _form(ui: Ui, name: str) -> str:
    value = ui.form.get(name) if ui.form is not None else None
    return value if isinstance(value, str) else ""


# --- the board -------------------------------------------------------------------------------


def _board_page(ui: Ui, error: DomainError | None = None, status: int = 200) -> Response:
    principal = who(ui)
    principal.require(Permission.ORDERS_FULFIL)
    columns = board.cards(ui.session, principal)
    return ui.render(
        "orders/board.html",
        status=status,
        columns=columns,
        main=[c for c in board.COLUMNS if c not in board.BLOCKED],
        blocked=list(board.BLOCKED),
        column_labels=COLUMN_LABELS,
        reason_labels=REASON_LABELS,
        error=error,
        moved=ui.request.query_params.get("moved", ""),
    )


@router.get("/orders/board")
def board_page(ui: UiPage) -> Response:
    """Orders as cards per column; drag a card or use its buttons."""
    return _board_page(ui)


@router.post("/orders/board/{order_id}/move")
def board_move(ui: UiPage, order_id: int) -> Response:
    """One move (drag and drop and buttons both post here): the transition table decides."""
    target = _form(ui, "to")[:16]
    try:
        order = board.move(ui.session, who(ui), order_id, target, _form(ui, "reason")[:500])
    except DomainError as exc:
        ui.discard_changes()
        return _board_page(ui, error=exc, status=exc.status)
    return ui.redirect(f"/orders/board?moved={order.id}#card-{order.id}")


# --- the queue -------------------------------------------------------------------------------


@router.get("/orders/queue")
def queue_page(ui: UiPage) -> Response:
    """Open lines by priority score, each with the factor contributions that add up to it."""
    principal = who(ui)
    page = page_number(ui.request.query_params.get("page"))
    gtin = ui.request.query_params.get("gtin", "")[:14]
    rows, total = queue_rows(ui.session, principal, gtin=gtin or None, page=page, page_size=50)
    return ui.render(
        "orders/queue.html",
        rows=rows,
        total=total,
        page=page,
        page_size=50,
        gtin=gtin,
        reason_labels=REASON_LABELS,
        can_override=principal.can(Permission.PRIORITY_WRITE),
        requested=ui.request.query_params.get("requested", ""),
    )


@router.post("/orders/queue/{line_id}/override")
def queue_override(ui: UiPage, line_id: int) -> Response:
    try:
        score = float(_form(ui, "score") or "nan")
    except ValueError:
        score = float("nan")
    try:
        if score != score:  # NaN: not a number
            from medledger.orders.errors import Code, planning_invalid

            raise planning_invalid(Code.RULE_SET_INVALID, "Enter the score as a number.", "score")
        approval = approvals.request_override(
            ui.session, who(ui), line_id, score, _form(ui, "reason")
        )
    except DomainError as exc:
        ui.discard_changes()
        return ui.render("orders/message.html", status=exc.status, error=exc)
    return ui.redirect(f"/orders/queue?requested={approval.id}")


# --- approvals -------------------------------------------------------------------------------


STATE_LABELS = {
    ApprovalState.PENDING.value: N_("Waiting"),
    ApprovalState.APPROVED.value: N_("Approved"),
    ApprovalState.REJECTED.value: N_("Rejected"),
}
_STATE_TONES = {"pending": "warn", "approved": "ok", "rejected": "off"}


def _fetch_approvals(ui: Ui, query: ListQuery) -> tuple[list[Any], int]:
    """One page of the approval requests (people who ask or sign for planning changes)."""
    principal = who(ui)
    if not principal.can(Permission.PRIORITY_WRITE):
        principal.require(Permission.PRIORITY_APPROVE)
    filters: list[Any] = []
    for key, column in (("state", PlanningApproval.state), ("kind", PlanningApproval.kind)):
        if query.get(key):
            filters.append(column == query.get(key))
    if query.q:
        needle = f"%{query.q}%"
        filters.append(
            or_(PlanningApproval.reason.ilike(needle), PlanningApproval.requested_by.ilike(needle))
        )
    items, total = visible_page(
        ui,
        PlanningApproval,
        query,
        sorts={
            # Waiting requests first (they wait for a signature), then the decided ones.
            "state": case((PlanningApproval.state == ApprovalState.PENDING.value, 0), else_=1),
            "number": PlanningApproval.id,
            "kind": PlanningApproval.kind,
            "requested_by": PlanningApproval.requested_by,
            "requested_at": PlanningApproval.requested_at,
            "decided_at": PlanningApproval.decided_at,
        },
        filters=filters,
    )
    ui.extra["approval_summaries"] = {a.id: approvals.summary(ui.session, a) for a in items}
    return items, total


def _approval_state(ui: Ui, a: Any) -> str:
    return ui._(STATE_LABELS.get(a.state, a.state))


def _approval_summary(ui: Ui, a: Any) -> str:
    facts = ui.extra.get("approval_summaries", {}).get(a.id, {})
    return "; ".join(f"{k}: {v}" for k, v in facts.items())


APPROVAL_LIST = ListSpec(
    key="approvals",
    title=N_("Approvals"),
    path="/orders/approvals",
    columns=(
        Column(
            "number",
            N_("Request"),
            lambda a: a.number,
            href=lambda a: f"/orders/approvals/{a.id}",
            css="mono nowrap",
        ),
        Column(
            "kind",
            N_("Kind"),
            lambda a: a.kind,
            text=lambda ui, a: ui._(KIND_LABELS.get(a.kind, a.kind)),
        ),
        Column(
            "state",
            N_("State"),
            lambda a: a.state,
            text=_approval_state,
            html=lambda ui, a: badge(_approval_state(ui, a), _STATE_TONES.get(a.state, "off")),
        ),
        Column("reason", N_("Reason"), lambda a: a.reason, sortable=False),
        Column("details", N_("Details"), lambda a: a.id, text=_approval_summary, sortable=False),
        Column("requested_by", N_("Asked by"), lambda a: a.requested_by),
        Column("requested_at", N_("Asked on"), lambda a: a.requested_at, css="nowrap"),
        Column("decided_at", N_("Decided on"), lambda a: a.decided_at, css="nowrap"),
    ),
    fetch=_fetch_approvals,
    paged=True,
    count=NP_("{n} request", "{n} requests"),
    filters=(
        Filter("state", N_("State"), options=lambda ui: options(ui, STATE_LABELS, STATE_LABELS)),
        Filter("kind", N_("Kind"), options=lambda ui: options(ui, KIND_LABELS, KIND_LABELS)),
    ),
    search=N_("Reason or person"),
    default_sort="state",
    row_attrs=lambda a: {"data-approval": str(a.id), "data-state": a.state},
    empty=Empty(
        N_(
            "Nothing is waiting. Manual priority overrides, pre-emptions and rule-set "
            "activations come here for a signature."
        )
    ),
)


@router.get("/orders/approvals")
def approvals_page(ui: UiPage) -> Response:
    """Requests waiting for a signed decision first, then the decided ones."""
    return list_page(ui, APPROVAL_LIST)


def _approval_page(
    ui: Ui, approval_id: int, error: DomainError | None = None, status: int = 200
) -> Response:
    principal = who(ui)
    approval = approvals.get_approval(ui.session, principal, approval_id)
    return ui.render(
        "orders/approval.html",
        status=status,
        approval=approval,
        summary=approvals.summary(ui.session, approval),
        kind_labels=KIND_LABELS,
        can_decide=principal.can(Permission.PRIORITY_APPROVE) and approval.state == "pending",
        error=error,
        field_errors={e.field: e for e in (error.errors if error else [])},
    )


@router.get("/orders/approvals/{approval_id}")
def approval_page(ui: UiPage, approval_id: int) -> Response:
    return _approval_page(ui, approval_id)


@router.post("/orders/approvals/{approval_id}")
def approval_decide(ui: UiPage, approval_id: int) -> Response:
    """Approve or reject with the signature dialog's password (nothing changes if refused)."""
    principal = who(ui)
    password = _form(ui, "password")[:200]
    credentials = Credentials(password, _form(ui, "comment")[:1000]) if password else None
    policy = _policy(ui)
    try:
        with failed_attempts_kept(ui.session, principal, policy):
            approvals.decide(
                ui.session,
                principal,
                approval_id,
                _form(ui, "decision") == "approve",
                credentials,
                _form(ui, "note")[:1000],
                policy=policy,
            )
    except DomainError as exc:
        ui.discard_changes()
        return _approval_page(ui, approval_id, error=exc, status=exc.status)
    return ui.redirect(f"/orders/approvals/{approval_id}?saved=1")


# --- rule sets -------------------------------------------------------------------------------


def _rule_sets_page(
    ui: Ui, error: DomainError | None = None, document: str = "", status: int = 200
) -> Response:
    principal = who(ui)
    principal.require(Permission.PRIORITY_WRITE)
    active = planning.active_rule_set(ui.session, principal.tenant_id)
    from sqlalchemy import select

    versions = ui.session.scalars(
        select(PriorityRuleSet)
        .where(PriorityRuleSet.tenant_id == principal.tenant_id)
        .order_by(PriorityRuleSet.version.desc())
    ).all()
    base = next((v for v in versions if v.state == "draft"), active)
    return ui.render(
        "orders/rule_sets.html",
        status=status,
        versions=versions,
        active=active,
        base=base,
        document=document or json.dumps(base.document, indent=2, ensure_ascii=False),
        error=error,
        requested=ui.request.query_params.get("requested", ""),
    )


@router.get("/orders/rule-sets")
def rule_sets_page(ui: UiPage) -> Response:
    """The versions of the priority rules; edit weights or definitions into a new draft."""
    return _rule_sets_page(ui)


@router.post("/orders/rule-sets")
def rule_set_save(ui: UiPage) -> Response:
    """Save a draft: the weights from the table applied to the JSON document."""
    text = _form(ui, "document")
    try:
        document: Any = json.loads(text)
    except ValueError:
        document = None
    if isinstance(document, dict) and isinstance(document.get("factors"), list):
        for factor in document["factors"]:
            if not isinstance(factor, dict):
                continue
            raw = _form(ui, f"weight-{factor.get('key')}")
            if raw:
                try:
                    factor["weight"] = float(raw)
                except ValueError:
                    factor["weight"] = raw
    try:
        planning.save_draft(ui.session, who(ui), document, _form(ui, "note"))
    except DomainError as exc:
        ui.discard_changes()
        return _rule_sets_page(ui, error=exc, document=text, status=exc.status)
    return ui.redirect("/orders/rule-sets?saved=1")


@router.post("/orders/rule-sets/{rule_set_id}/activation")
def rule_set_activation(ui: UiPage, rule_set_id: int) -> Response:
    try:
        approval = approvals.request_activation(
            ui.session, who(ui), rule_set_id, _form(ui, "reason")
        )
    except DomainError as exc:
        ui.discard_changes()
        return _rule_sets_page(ui, error=exc, status=exc.status)
    return ui.redirect(f"/orders/rule-sets?requested={approval.id}")
