"""HTML pages: order list, order page (lines, versions, acknowledgements, deliveries), order
entry form, CSV upload, and the EDI/CSV inbox with its fix-and-replay form.

Forms parse into the API's schemas and call the same services (same rules, same messages).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy import case, or_
from starlette.datastructures import UploadFile

from medledger.core.errors import DomainError, ValidationFailed
from medledger.core.principal import Permission
from medledger.core.work import work_of
from medledger.orders import customers, intake, service
from medledger.orders.errors import Code, problem
from medledger.orders.models import (
    Channel,
    ClinicalUrgency,
    InboundMessage,
    InboxStatus,
    Order,
    OrderStatus,
)
from medledger.orders.schemas import OrderIn
from medledger.parties.views import submit, who
from medledger.web.forms import FormState, empty_form, parse_form
from medledger.web.lists import (
    NP_,
    Column,
    Empty,
    Filter,
    ListQuery,
    ListSpec,
    list_page,
    visible_page,
)
from medledger.web.nav import N_, NavEntry, register_nav
from medledger.web.pages import options
from medledger.web.ui import Ui, UiPage, UiRoute

router = APIRouter(include_in_schema=False, route_class=UiRoute)

register_nav(NavEntry("orders", N_("Orders"), "/orders", Permission.ORDERS_READ, order=96))
register_nav(
    NavEntry("order-inbox", N_("Order inbox"), "/orders/inbox", Permission.ORDERS_INBOX, order=97)
)

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


def _customer_names(ui: Ui) -> dict[int, str]:
    if "customer_names" not in ui.extra:
        ui.extra["customer_names"] = customers.customer_names(ui.session, who(ui))
    names: dict[int, str] = ui.extra["customer_names"]
    return names


def _label(table: dict[str, str]) -> Any:
    return lambda ui, row: ui._(table.get(row.status, row.status))


def _fetch_orders(ui: Ui, query: ListQuery) -> tuple[list[Any], int]:
    """One page of the orders the reader may see (a partner: its own), filtered and sorted in
    SQL; the search finds a purchase order number or our order number (``SO-0000042``)."""
    who(ui).require(Permission.ORDERS_READ)
    filters: list[Any] = []
    for key, column in (("status", Order.status), ("channel", Order.channel)):
        if query.get(key):
            filters.append(column == query.get(key))
    if query.get("customer_id").isdigit():
        filters.append(Order.customer_id == int(query.get("customer_id")))
    if query.q:
        digits = query.q.upper().removeprefix("SO-")
        match = Order.customer_reference.ilike(f"%{query.q}%")
        filters.append(
            or_(match, Order.id == int(digits)) if digits.isdigit() and len(digits) < 16 else match
        )
    return visible_page(
        ui,
        Order,
        query,
        sorts={
            "number": Order.id,
            "reference": Order.customer_reference,
            "channel": Order.channel,
            "order_date": Order.order_date,
            "requested": Order.requested_delivery_date,
            "status": Order.status,
            "version": Order.version,
        },
        filters=filters,
    )


def _order_status(ui: Ui, order: Any) -> str:
    return ui._(STATUS_LABELS.get(order.status, order.status))


def _channel(ui: Ui, row: Any) -> str:
    return ui._(CHANNEL_LABELS.get(row.channel, row.channel))


def _customer_options(ui: Ui) -> list[tuple[str, str]]:
    if not who(ui).sees_all_parties:
        return []
    return [(str(i), n) for i, n in _customer_names(ui).items()]


ORDER_LIST = ListSpec(
    key="orders",
    title=N_("Orders"),
    path="/orders",
    columns=(
        Column(
            "number",
            N_("Order"),
            lambda o: o.number,
            href=lambda o: f"/orders/{o.id}",
            css="mono nowrap",
        ),
        Column(
            "customer",
            N_("Customer"),
            lambda o: o.customer_id,
            text=lambda ui, o: _customer_names(ui).get(o.customer_id, ""),
            sortable=False,
        ),
        Column("reference", N_("Purchase order"), lambda o: o.customer_reference, css="mono"),
        Column("channel", N_("Channel"), lambda o: o.channel, text=_channel),
        Column("order_date", N_("Order date"), lambda o: o.order_date, css="nowrap"),
        Column(
            "requested", N_("Requested delivery"), lambda o: o.requested_delivery_date, css="nowrap"
        ),
        Column(
            "status",
            N_("Status"),
            lambda o: o.status,
            text=_order_status,
            html=lambda ui, o: Markup('<span class="badge badge-{}">{}</span>').format(
                o.status, _order_status(ui, o)
            ),
        ),
        Column("version", N_("Version"), lambda o: o.version, css="num"),
    ),
    fetch=_fetch_orders,
    paged=True,
    count=NP_("{n} order", "{n} orders"),
    filters=(
        Filter(
            "status", N_("Status"), options=lambda ui: options(ui, STATUS_LABELS, STATUS_LABELS)
        ),
        Filter(
            "channel",
            N_("Channel"),
            options=lambda ui: [(k, ui._(v)) for k, v in CHANNEL_LABELS.items() if k != "unknown"],
        ),
        Filter("customer_id", N_("Customer"), options=_customer_options),
    ),
    search=N_("Purchase order or order number"),
    default_sort="-number",
    row_attrs=lambda o: {"data-status": o.status},
    head="orders/_order_list_head.html",
    empty=Empty(
        N_("No orders yet. Enter one, upload a CSV, or let customers send EDI or use the API."),
        N_("New order"),
        "/orders/new",
        Permission.ORDERS_WRITE,
    ),
    permission=Permission.ORDERS_READ,
)


@router.get("/orders")
def order_list(ui: UiPage) -> Response:
    """Orders, newest first: search by purchase order or order number, filter by status,
    channel and customer; sort by any column but the customer; export CSV/XLSX."""
    return list_page(ui, ORDER_LIST, can_write=who(ui).can(Permission.ORDERS_WRITE))


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


def _fetch_inbox(ui: Ui, query: ListQuery) -> tuple[list[Any], int]:
    """One page of the inbox (partner users: their own recognised messages)."""
    who(ui).require(Permission.ORDERS_INBOX)
    filters: list[Any] = []
    for key, column in (("status", InboundMessage.status), ("channel", InboundMessage.channel)):
        if query.get(key):
            filters.append(column == query.get(key))
    if query.q:
        needle = f"%{query.q}%"
        filters.append(
            or_(
                InboundMessage.document_reference.ilike(needle),
                InboundMessage.filename.ilike(needle),
            )
        )
    return visible_page(
        ui,
        InboundMessage,
        query,
        sorts={
            # Failed messages first (they wait for someone), then accepted, then discarded.
            "status": case(
                (InboundMessage.status == InboxStatus.FAILED.value, 0),
                (InboundMessage.status == InboxStatus.ACCEPTED.value, 1),
                else_=2,
            ),
            "id": InboundMessage.id,
            "channel": InboundMessage.channel,
            "filename": InboundMessage.filename,
            "reference": InboundMessage.document_reference,
            "received_at": InboundMessage.received_at,
        },
        filters=filters,
    )


def _inbox_status(ui: Ui, row: Any) -> str:
    return ui._(INBOX_LABELS.get(row.status, row.status))


INBOX_LIST = ListSpec(
    key="order_inbox",
    title=N_("Order inbox"),
    path="/orders/inbox",
    columns=(
        Column("id", N_("Message"), lambda r: r.id, href=lambda r: f"/orders/inbox/{r.id}"),
        Column("channel", N_("Channel"), lambda r: r.channel, text=_channel),
        Column("filename", N_("File"), lambda r: r.filename),
        Column("reference", N_("Purchase order"), lambda r: r.document_reference, css="mono"),
        Column("received_at", N_("Received"), lambda r: r.received_at, css="nowrap"),
        Column(
            "status",
            N_("Status"),
            lambda r: r.status,
            text=_inbox_status,
            html=lambda ui, r: Markup('<span class="badge badge-{}">{}</span>').format(
                r.status, _inbox_status(ui, r)
            ),
        ),
        Column("errors", N_("Errors"), lambda r: len(r.errors or []), css="num", sortable=False),
    ),
    fetch=_fetch_inbox,
    paged=True,
    count=NP_("{n} message", "{n} messages"),
    filters=(
        Filter("status", N_("Status"), options=lambda ui: options(ui, INBOX_LABELS, INBOX_LABELS)),
        Filter(
            "channel",
            N_("Channel"),
            options=lambda ui: [
                (k, ui._(v)) for k, v in CHANNEL_LABELS.items() if k not in ("ui", "api")
            ],
        ),
    ),
    search=N_("Purchase order or file name"),
    # Failed messages first, newest first within each status.
    default_sort="status",
    row_attrs=lambda r: {"data-status": r.status},
    below="orders/_inbox_receive.html",
    empty=Empty(
        N_(
            "No messages yet. EDI orders (EDIFACT ORDERS, X12 850) and CSV uploads land here "
            "with their errors."
        )
    ),
    permission=Permission.ORDERS_INBOX,
)


@router.get("/orders/inbox")
def inbox_list(ui: UiPage) -> Response:
    """Messages and CSV orders received, with their errors; failed ones first."""
    return list_page(ui, INBOX_LIST, receive_error=None)


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
        return list_page(ui, INBOX_LIST, status=422, receive_error=error)
    rows = intake.import_edi(ui.session, principal, content, filename=filename)
    failed = any(row.status == InboxStatus.FAILED.value for row in rows)
    target = f"/orders/inbox/{rows[0].id}" if len(rows) == 1 and failed else "/orders/inbox"
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
