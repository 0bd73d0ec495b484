"""HTML pages: order list, order page (lines, versions, acknowledgements, deliveries), order
entry form, CSV upload, and the EDI/CSV inbox with its fix-and-replay form.

Forms parse into the API's schemas and call the same services (same rules, same messages).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from medledger.core.errors import DomainError, ValidationFailed
from medledger.core.principal import Permission
from medledger.core.work import work_of
from medledger.orders import customers, intake, service
from medledger.orders.errors import Code, problem
from medledger.orders.models import Channel, ClinicalUrgency, InboxStatus, OrderStatus
from medledger.orders.schemas import OrderIn
from medledger.parties.views import page_number, submit, who
from medledger.web.forms import FormState, empty_form, parse_form
from medledger.web.nav import N_, NavEntry, register_nav
from medledger.web.ui import Ui, UiPage, UiRoute

router = APIRouter(include_in_schema=False, route_class=UiRoute)

register_nav(NavEntry("orders", N_("Orders"), "/orders", Permission.ORDERS_READ, order=96))
register_nav(
    NavEntry("order-inbox", N_("Order inbox"), "/orders/inbox", Permission.ORDERS_INBOX, order=97)
)

PAGE_SIZE = 25
LINE_ROWS = 5

STATUS_LABELS = {
    OrderStatus.OPEN.value: N_("open"),
    OrderStatus.PARTIALLY_DELIVERED.value: N_("partially delivered"),
    OrderStatus.DELIVERED.value: N_("delivered"),
    OrderStatus.CANCELLED.value: N_("cancelled"),
}
CHANNEL_LABELS = {
    Channel.UI.value: N_("entry form"),
    Channel.API.value: N_("API"),
    Channel.CSV.value: N_("CSV upload"),
    Channel.EDIFACT.value: N_("EDIFACT"),
    Channel.X12.value: N_("X12"),
    "unknown": N_("unknown format"),
}
URGENCY_LABELS = {
    ClinicalUrgency.ROUTINE.value: N_("routine"),
    ClinicalUrgency.SCHEDULED_SURGERY.value: N_("scheduled surgery"),
    ClinicalUrgency.URGENT.value: N_("urgent"),
    ClinicalUrgency.EMERGENCY.value: N_("emergency"),
}
INBOX_LABELS = {
    InboxStatus.ACCEPTED.value: N_("accepted"),
    InboxStatus.FAILED.value: N_("failed"),
    InboxStatus.DISCARDED.value: N_("discarded"),
}
VERSION_LABELS = {"created": N_("created"), "amended": N_("amended"), "cancelled": N_("cancelled")}


def _labels() -> dict[str, Any]:
    return {
        "status": STATUS_LABELS,
        "channel": CHANNEL_LABELS,
        "urgency": URGENCY_LABELS,
        "inbox": INBOX_LABELS,
        "version": VERSION_LABELS,
    }


@router.get("/orders")
def order_list(ui: UiPage) -> Response:
    """Orders, newest first, filtered by status, channel and purchase order number."""
    principal = who(ui)
    params = {k: ui.request.query_params.get(k, "") for k in ("q", "status", "channel")}
    page = page_number(ui.request.query_params.get("page"))
    items, total = service.list_orders(
        ui.session,
        principal,
        status=params["status"] or None,
        channel=params["channel"] or None,
        q=params["q"] or None,
        page=page,
        page_size=PAGE_SIZE,
    )
    return ui.render(
        "orders/order_list.html",
        items=items,
        total=total,
        page=page,
        page_size=PAGE_SIZE,
        params=params,
        customer_names=customers.customer_names(ui.session, principal),
        can_write=principal.can(Permission.ORDERS_WRITE),
        labels=_labels(),
    )


def _entry_page(ui: Ui, form: FormState[Any], status: int = 200) -> Response:
    principal = who(ui)
    return ui.render(
        "orders/order_new.html",
        status=status,
        form=form,
        line_rows=LINE_ROWS,
        customer_options=(
            [(str(i), n) for i, n in customers.customer_names(ui.session, principal).items()]
            if principal.sees_all_parties
            else []
        ),
        urgency_options=[(k, ui._(v)) for k, v in URGENCY_LABELS.items()],
    )


@router.get("/orders/new")
def order_new(ui: UiPage) -> Response:
    who(ui).require(Permission.ORDERS_WRITE)
    return _entry_page(ui, empty_form(ui.locale))


@router.post("/orders/new")
def order_create(ui: UiPage) -> Response:
    """Place an order from the entry form, with the API's rules."""
    who(ui).require(Permission.ORDERS_WRITE)
    state = parse_form(OrderIn, ui.form, ui.locale, rows=frozenset({"lines"}))
    order = submit(
        ui,
        state,
        lambda data: service.place_order(ui.session, who(ui), data.to_draft(), channel=Channel.UI),
    )
    if order is not None:
        return ui.redirect(f"/orders/{order.id}?saved=1")
    return _entry_page(ui, state, state.status)


def _upload_text(ui: Ui, field: str = "file") -> str:
    upload = ui.form.get(field) if ui.form is not None else None
    if isinstance(upload, UploadFile):
        data = upload.file.read()
        if data:
            return data.decode("utf-8-sig", errors="replace")
    pasted = ui.form.get("content") if ui.form is not None else None
    return pasted if isinstance(pasted, str) else ""


def _upload_page(ui: Ui, **ctx: Any) -> Response:
    return ui.render(
        "orders/order_upload.html",
        columns=intake.CSV_COLUMNS,
        required=intake.REQUIRED_CSV_COLUMNS,
        labels=_labels(),
        **ctx,
    )


@router.get("/orders/upload")
def order_upload_page(ui: UiPage) -> Response:
    who(ui).require(Permission.ORDERS_WRITE)
    return _upload_page(ui, results=None, error=None)


@router.post("/orders/upload")
def order_upload(ui: UiPage) -> Response:
    """Take a CSV of order lines; show what was accepted and what waits in the inbox."""
    principal = who(ui)
    content = _upload_text(ui)
    filename = getattr(ui.form.get("file") if ui.form else None, "filename", "") or "upload.csv"
    try:
        rows = intake.import_csv(ui.session, principal, content, filename=filename)
    except DomainError as exc:
        ui.discard_changes()
        return _upload_page(ui, results=None, error=exc, status=exc.status)
    return _upload_page(ui, results=rows, error=None)


@router.get("/orders/inbox")
def inbox_list(ui: UiPage) -> Response:
    """Messages and CSV orders received, with their errors; failed ones first by default."""
    principal = who(ui)
    principal.require(Permission.ORDERS_INBOX)
    params = {k: ui.request.query_params.get(k, "") for k in ("status", "channel")}
    if "status" not in ui.request.query_params:
        params["status"] = InboxStatus.FAILED.value
    page = page_number(ui.request.query_params.get("page"))
    items, total = intake.list_inbox(
        ui.session,
        principal,
        status=params["status"] or None,
        channel=params["channel"] or None,
        page=page,
        page_size=PAGE_SIZE,
    )
    return ui.render(
        "orders/inbox_list.html",
        items=items,
        total=total,
        page=page,
        page_size=PAGE_SIZE,
        params=params,
        labels=_labels(),
        results=None,
        error=None,
    )


@router.post("/orders/inbox")
def inbox_receive(ui: UiPage) -> Response:
    """Receive an EDI file (EDIFACT ORDERS or X12 850) from the inbox page."""
    principal = who(ui)
    content = _upload_text(ui)
    filename = getattr(ui.form.get("file") if ui.form else None, "filename", "") or "upload.edi"
    if not content.strip():
        error = ValidationFailed(
            errors=[problem("file", Code.UPLOAD_EMPTY, "Choose a file or paste its content.")]
        )
        return ui.render(
            "orders/inbox_list.html",
            status=422,
            items=[],
            total=0,
            page=1,
            page_size=PAGE_SIZE,
            params={"status": "", "channel": ""},
            labels=_labels(),
            results=None,
            error=error,
        )
    rows = intake.import_edi(ui.session, principal, content, filename=filename)
    failed = any(row.status == InboxStatus.FAILED.value for row in rows)
    target = f"/orders/inbox/{rows[0].id}" if len(rows) == 1 and failed else "/orders/inbox?status="
    return ui.redirect(target)


def _message_page(ui: Ui, message_id: int, status: int = 200, **ctx: Any) -> Response:
    principal = who(ui)
    message = intake.get_message(ui.session, principal, message_id)
    return ui.render(
        "orders/inbox_detail.html",
        status=status,
        message=message,
        labels=_labels(),
        can_replay=principal.can(Permission.ORDERS_INBOX),
        error=ctx.pop("error", None),
        **ctx,
    )


@router.get("/orders/inbox/{message_id}")
def inbox_detail(ui: UiPage, message_id: int) -> Response:
    """One received message: its content, its errors and the fix-and-replay form."""
    return _message_page(ui, message_id)


@router.post("/orders/inbox/{message_id}/replay")
def inbox_replay(ui: UiPage, message_id: int) -> Response:
    """Replay with the corrected content from the form."""
    content = ui.form.get("content") if ui.form is not None else None
    reason = ui.form.get("reason") if ui.form is not None else None
    try:
        intake.replay(
            ui.session,
            who(ui),
            message_id,
            content=content.replace("\r\n", "\n") if isinstance(content, str) else None,
            reason=reason.strip()[:500] if isinstance(reason, str) else "",
        )
    except DomainError as exc:
        ui.discard_changes()
        return _message_page(ui, message_id, status=exc.status, error=exc)
    return ui.redirect(f"/orders/inbox/{message_id}?saved=1")


@router.post("/orders/inbox/{message_id}/discard")
def inbox_discard(ui: UiPage, message_id: int) -> Response:
    reason = ui.form.get("reason") if ui.form is not None else None
    try:
        intake.discard(
            ui.session, who(ui), message_id, reason.strip() if isinstance(reason, str) else ""
        )
    except DomainError as exc:
        ui.discard_changes()
        return _message_page(ui, message_id, status=exc.status, error=exc)
    return ui.redirect(f"/orders/inbox/{message_id}?saved=1")


def _order_page(ui: Ui, order_id: int, status: int = 200, **ctx: Any) -> Response:
    principal = who(ui)
    order = service.get_order(ui.session, principal, order_id)
    show_prices = principal.sees_all_parties or principal.party_id == order.party_id
    return ui.render(
        "orders/order_detail.html",
        status=status,
        order=order,
        lines=service.order_lines(ui.session, order),
        versions=service.order_versions(ui.session, order),
        acknowledgements=intake.acknowledgements(ui.session, principal, order),
        deliveries=service.line_deliveries(ui.session, order),
        customer_name=customers.customer_names(ui.session, principal).get(order.customer_id, ""),
        show_prices=show_prices,
        can_write=principal.can(Permission.ORDERS_WRITE)
        and order.status in (OrderStatus.OPEN.value, OrderStatus.PARTIALLY_DELIVERED.value),
        labels=_labels(),
        error=ctx.pop("error", None),
        **ctx,
    )


@router.get("/orders/{order_id}")
def order_detail(ui: UiPage, order_id: int) -> Response:
    """An order: lines with requested/promised/delivered, versions, acknowledgements."""
    return _order_page(ui, order_id)


@router.post("/orders/{order_id}/cancel")
def order_cancel(ui: UiPage, order_id: int) -> Response:
    reason = ui.form.get("reason") if ui.form is not None else None
    text = reason.strip()[:500] if isinstance(reason, str) else ""
    work_of(ui.session).give_reason(text)
    try:
        service.cancel_order(ui.session, who(ui), order_id, text, channel=Channel.UI)
    except DomainError as exc:
        ui.discard_changes()
        return _order_page(ui, order_id, status=exc.status, error=exc)
    return ui.redirect(f"/orders/{order_id}?saved=1")
