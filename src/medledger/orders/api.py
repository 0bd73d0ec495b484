"""REST routes: customers and contracts, orders (idempotent POST), EDI/CSV import, the inbox,
acknowledgements, deliveries and OTIF."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Header, Query, Request, Response, status
from sqlalchemy.orm import Session

from medledger.core.db import claim_writer
from medledger.core.deps import CurrentPrincipal, DbSession
from medledger.core.errors import ValidationFailed
from medledger.core.principal import Principal
from medledger.core.schemas import Page, ReasonIn
from medledger.core.types import RecordId
from medledger.core.work import work_of
from medledger.orders import customers, intake, otif, planning_queue, service
from medledger.orders.errors import Code, problem
from medledger.orders.models import Channel, InboundMessage, Order, Tender
from medledger.orders.planning_queue import background_planner
from medledger.orders.schemas import (
    AcknowledgementOut,
    CancelIn,
    ContractIn,
    ContractOut,
    CustomerIn,
    CustomerOut,
    CustomerUpdate,
    DeliveryIn,
    DeliveryOut,
    ImportResult,
    InboxMessageDetail,
    InboxMessageOut,
    ItemReferenceIn,
    ItemReferenceOut,
    OrderAmendmentIn,
    OrderIn,
    OrderLineOut,
    OrderOut,
    OrderVersionOut,
    OtifRow,
    ReplayIn,
    ShipToIn,
    ShipToOut,
    TenderIn,
    TenderLineOut,
    TenderOut,
)

router = APIRouter(prefix="/api/v1")
MAX_UPLOAD = 5_000_000


async def _raw_text(request: Request) -> str:
    body = await request.body()
    if len(body) > MAX_UPLOAD:
        raise ValidationFailed(
            "The file is larger than {limit} bytes.",
            code=Code.UPLOAD_TOO_LARGE,
            params={"limit": MAX_UPLOAD},
        )
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        # EDIFACT UNOA-UNOC and X12 basic character sets are Latin-1 compatible.
        return body.decode("latin-1")


RawText = Annotated[str, Depends(_raw_text)]


def order_out(session: Session, principal: Principal, order: Order) -> OrderOut:
    """An order with its lines. Prices are shown only to the hub and to the buying party."""
    out = OrderOut.model_validate(order)
    show_prices = principal.sees_all_parties or principal.party_id == order.party_id
    lines = []
    for line in service.order_lines(session, order):
        item = OrderLineOut.model_validate(line)
        if not show_prices:
            item.unit_price = None
        lines.append(item)
    out.lines = lines
    return out


# --- customers and contracts -----------------------------------------------------------------


@router.get("/customers", response_model=Page[CustomerOut], tags=["customers"])
def list_customers(
    session: DbSession,
    principal: CurrentPrincipal,
    page: Annotated[int, Query(ge=1, le=1_000_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[CustomerOut]:
    """Customers with their tier (a partner user sees its own record)."""
    items, total = customers.list_customers(session, principal, page=page, page_size=page_size)
    return Page(
        items=[CustomerOut.model_validate(i) for i in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.post(
    "/customers",
    response_model=CustomerOut,
    status_code=status.HTTP_201_CREATED,
    tags=["customers"],
)
def create_customer(
    session: DbSession, principal: CurrentPrincipal, data: CustomerIn
) -> CustomerOut:
    return CustomerOut.model_validate(customers.create_customer(session, principal, data))


@router.get("/customers/{customer_id}", response_model=CustomerOut, tags=["customers"])
def read_customer(
    session: DbSession, principal: CurrentPrincipal, customer_id: RecordId
) -> CustomerOut:
    return CustomerOut.model_validate(customers.get_customer(session, principal, customer_id))


@router.patch("/customers/{customer_id}", response_model=CustomerOut, tags=["customers"])
def update_customer(
    session: DbSession, principal: CurrentPrincipal, customer_id: RecordId, data: CustomerUpdate
) -> CustomerOut:
    return CustomerOut.model_validate(
        customers.update_customer(session, principal, customer_id, data)
    )


@router.get("/customers/{customer_id}/ship-tos", response_model=list[ShipToOut], tags=["customers"])
def list_ship_tos(
    session: DbSession, principal: CurrentPrincipal, customer_id: RecordId
) -> list[ShipToOut]:
    return [
        ShipToOut.model_validate(s)
        for s in customers.list_ship_tos(session, principal, customer_id)
    ]


@router.post(
    "/customers/{customer_id}/ship-tos",
    response_model=ShipToOut,
    status_code=status.HTTP_201_CREATED,
    tags=["customers"],
)
def add_ship_to(
    session: DbSession, principal: CurrentPrincipal, customer_id: RecordId, data: ShipToIn
) -> ShipToOut:
    return ShipToOut.model_validate(customers.add_ship_to(session, principal, customer_id, data))


@router.get(
    "/customers/{customer_id}/contracts", response_model=list[ContractOut], tags=["customers"]
)
def list_contracts(
    session: DbSession, principal: CurrentPrincipal, customer_id: RecordId
) -> list[ContractOut]:
    return [
        ContractOut.model_validate(c)
        for c in customers.list_contracts(session, principal, customer_id)
    ]


@router.post(
    "/customers/{customer_id}/contracts",
    response_model=ContractOut,
    status_code=status.HTTP_201_CREATED,
    tags=["customers"],
)
def add_contract(
    session: DbSession, principal: CurrentPrincipal, customer_id: RecordId, data: ContractIn
) -> ContractOut:
    return ContractOut.model_validate(customers.add_contract(session, principal, customer_id, data))


def _tender_out(session: Session, tender: Tender) -> TenderOut:
    out = TenderOut.model_validate(tender)
    out.lines = [
        TenderLineOut.model_validate(line) for line in customers.tender_lines(session, tender)
    ]
    return out


@router.get("/customers/{customer_id}/tenders", response_model=list[TenderOut], tags=["customers"])
def list_tenders(
    session: DbSession, principal: CurrentPrincipal, customer_id: RecordId
) -> list[TenderOut]:
    """Tender awards with committed and called-off quantities per product."""
    return [
        _tender_out(session, t) for t in customers.list_tenders(session, principal, customer_id)
    ]


@router.post(
    "/customers/{customer_id}/tenders",
    response_model=TenderOut,
    status_code=status.HTTP_201_CREATED,
    tags=["customers"],
)
def create_tender(
    session: DbSession, principal: CurrentPrincipal, customer_id: RecordId, data: TenderIn
) -> TenderOut:
    return _tender_out(session, customers.create_tender(session, principal, customer_id, data))


@router.get("/tenders/{tender_id}", response_model=TenderOut, tags=["customers"])
def read_tender(session: DbSession, principal: CurrentPrincipal, tender_id: RecordId) -> TenderOut:
    return _tender_out(session, customers.get_tender(session, principal, tender_id))


@router.post(
    "/customers/{customer_id}/item-references",
    response_model=ItemReferenceOut,
    status_code=status.HTTP_201_CREATED,
    tags=["customers"],
)
def add_item_reference(
    session: DbSession, principal: CurrentPrincipal, customer_id: RecordId, data: ItemReferenceIn
) -> ItemReferenceOut:
    """Map a trading partner's item number to one of our GTINs (for EDI without GTINs)."""
    return ItemReferenceOut.model_validate(
        customers.add_item_reference(session, principal, customer_id, data)
    )


# --- orders ----------------------------------------------------------------------------------


@router.get("/orders/otif", response_model=list[OtifRow], tags=["orders"])
def read_otif(
    session: DbSession,
    principal: CurrentPrincipal,
    group_by: Annotated[
        str, Query(description="comma-separated: customer, channel, product, month")
    ] = "month",
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[OtifRow]:
    """On time, in full by customer, channel, product and/or month of the promised date."""
    dimensions = [part.strip() for part in group_by.split(",") if part.strip()]
    return otif.otif(session, principal, group_by=dimensions, date_from=date_from, date_to=date_to)


@router.get("/orders", response_model=Page[OrderOut], tags=["orders"])
def list_orders(
    session: DbSession,
    principal: CurrentPrincipal,
    status_: Annotated[str | None, Query(alias="status")] = None,
    channel: str | None = None,
    customer_id: RecordId | None = None,
    q: str | None = None,
    page: Annotated[int, Query(ge=1, le=1_000_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[OrderOut]:
    """Orders, newest first (partner users: their own)."""
    items, total = service.list_orders(
        session,
        principal,
        status=status_,
        channel=channel,
        customer_id=customer_id,
        q=q,
        page=page,
        page_size=page_size,
    )
    return Page(
        items=[order_out(session, principal, o) for o in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.post(
    "/orders", response_model=OrderOut, status_code=status.HTTP_201_CREATED, tags=["orders"]
)
def create_order(
    session: DbSession,
    principal: CurrentPrincipal,
    data: OrderIn,
    response: Response,
    request: Request,
    background: BackgroundTasks,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
) -> OrderOut:
    """Place an order. Send an ``Idempotency-Key`` so that a retry never duplicates it: the
    same key with the same body returns the original order (200, ``Idempotent-Replayed:
    true``); the same key with another body is a 409.

    The order is validated, stored and scored in this request (board column ``scored``); its
    stock is reserved after the response, by the server's background planner
    (``orders/planning_queue.py``)."""
    planner = background_planner(request.app.state)
    planning_queue.defer_to(session, lambda tenants: background.add_task(planner.run, tenants))
    claim_writer(session)
    if not idempotency_key:
        order = service.place_order(session, principal, data.to_draft(), channel=Channel.API)
        replayed = False
    else:
        body = json.dumps(data.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        order, replayed = service.place_order_once(
            session,
            principal,
            data.to_draft(),
            key=idempotency_key,
            request_hash=hashlib.sha256(body.encode()).hexdigest(),
        )
    # Commit now rather than in the request's exit: the audit chain's head row is locked from
    # the flush to the commit and serialises every audited write of the tenant, so it must not
    # wait for the response to be built and the dependency's exit to get a thread.
    session.commit()
    if replayed:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    return order_out(session, principal, order)


@router.get("/orders/{order_id}", response_model=OrderOut, tags=["orders"])
def read_order(session: DbSession, principal: CurrentPrincipal, order_id: RecordId) -> OrderOut:
    return order_out(session, principal, service.get_order(session, principal, order_id))


@router.post("/orders/{order_id}/amend", response_model=OrderOut, tags=["orders"])
def amend_order(
    session: DbSession, principal: CurrentPrincipal, order_id: RecordId, data: OrderAmendmentIn
) -> OrderOut:
    """Change an open order (complete new set of lines, matched by line number); the previous
    version and the reason are kept."""
    work_of(session).give_reason(data.reason)
    order = service.get_order(session, principal, order_id)
    amended = service.amend_order(
        session, principal, order.id, data.to_draft(order.customer_reference), channel=Channel.API
    )
    return order_out(session, principal, amended)


@router.post("/orders/{order_id}/cancel", response_model=OrderOut, tags=["orders"])
def cancel_order(
    session: DbSession, principal: CurrentPrincipal, order_id: RecordId, data: CancelIn
) -> OrderOut:
    work_of(session).give_reason(data.reason)
    order = service.cancel_order(session, principal, order_id, data.reason, channel=Channel.API)
    return order_out(session, principal, order)


@router.get("/orders/{order_id}/versions", response_model=list[OrderVersionOut], tags=["orders"])
def list_versions(
    session: DbSession, principal: CurrentPrincipal, order_id: RecordId
) -> list[OrderVersionOut]:
    order = service.get_order(session, principal, order_id)
    return [OrderVersionOut.model_validate(v) for v in service.order_versions(session, order)]


@router.get(
    "/orders/{order_id}/acknowledgements",
    response_model=list[AcknowledgementOut],
    tags=["orders"],
)
def list_acknowledgements(
    session: DbSession, principal: CurrentPrincipal, order_id: RecordId
) -> list[AcknowledgementOut]:
    """ORDRSP / 855 documents generated for the order's EDI messages."""
    order = service.get_order(session, principal, order_id)
    return [
        AcknowledgementOut.model_validate(a)
        for a in intake.acknowledgements(session, principal, order)
    ]


@router.get("/order-acknowledgements/{ack_id}", response_model=AcknowledgementOut, tags=["orders"])
def read_acknowledgement(
    session: DbSession, principal: CurrentPrincipal, ack_id: RecordId
) -> AcknowledgementOut:
    return AcknowledgementOut.model_validate(intake.get_acknowledgement(session, principal, ack_id))


@router.post(
    "/order-lines/{line_id}/deliveries",
    response_model=DeliveryOut,
    status_code=status.HTTP_201_CREATED,
    tags=["orders"],
)
def record_delivery(
    session: DbSession, principal: CurrentPrincipal, line_id: RecordId, data: DeliveryIn
) -> DeliveryOut:
    """Record a delivered quantity (until proof of delivery feeds it automatically)."""
    delivery = service.record_delivery(
        session,
        principal,
        line_id,
        delivered_on=data.delivered_on,
        quantity=data.quantity,
        reference=data.reference,
    )
    return DeliveryOut.model_validate(delivery)


# --- import and inbox ------------------------------------------------------------------------


def _import_result(rows: list[InboundMessage]) -> ImportResult:
    messages = [InboxMessageOut.model_validate(r) for r in rows]
    accepted = sum(1 for m in messages if m.status == "accepted")
    return ImportResult(messages=messages, accepted=accepted, failed=len(messages) - accepted)


@router.post("/orders/import/edi", response_model=ImportResult, tags=["orders"])
def import_edi(
    session: DbSession,
    principal: CurrentPrincipal,
    content: RawText,
    filename: Annotated[str, Query(max_length=255)] = "",
) -> ImportResult:
    """Receive an EDIFACT ORDERS or X12 850 interchange (raw body). Each message is kept in
    the inbox; accepted ones are acknowledged (ORDRSP / 855), failed ones keep their errors."""
    return _import_result(intake.import_edi(session, principal, content, filename=filename))


@router.post("/orders/import/csv", response_model=ImportResult, tags=["orders"])
def import_csv(
    session: DbSession,
    principal: CurrentPrincipal,
    content: RawText,
    filename: Annotated[str, Query(max_length=255)] = "",
) -> ImportResult:
    """Receive a CSV of order lines (raw body, header row first; see docs/orders.md)."""
    return _import_result(intake.import_csv(session, principal, content, filename=filename))


@router.get("/order-inbox", response_model=Page[InboxMessageOut], tags=["orders"])
def list_inbox(
    session: DbSession,
    principal: CurrentPrincipal,
    status_: Annotated[str | None, Query(alias="status")] = None,
    channel: str | None = None,
    page: Annotated[int, Query(ge=1, le=1_000_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[InboxMessageOut]:
    items, total = intake.list_inbox(
        session, principal, status=status_, channel=channel, page=page, page_size=page_size
    )
    return Page(
        items=[InboxMessageOut.model_validate(i) for i in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.get("/order-inbox/{message_id}", response_model=InboxMessageDetail, tags=["orders"])
def read_inbox_message(
    session: DbSession, principal: CurrentPrincipal, message_id: RecordId
) -> InboxMessageDetail:
    return InboxMessageDetail.model_validate(intake.get_message(session, principal, message_id))


@router.post("/order-inbox/{message_id}/replay", response_model=InboxMessageDetail, tags=["orders"])
def replay_message(
    session: DbSession, principal: CurrentPrincipal, message_id: RecordId, data: ReplayIn
) -> InboxMessageDetail:
    """Process a failed message again, with corrected content if given."""
    row = intake.replay(session, principal, message_id, content=data.content, reason=data.reason)
    return InboxMessageDetail.model_validate(row)


@router.post(
    "/order-inbox/{message_id}/discard", response_model=InboxMessageDetail, tags=["orders"]
)
def discard_message(
    session: DbSession, principal: CurrentPrincipal, message_id: RecordId, data: ReasonIn
) -> InboxMessageDetail:
    if not data.reason:
        raise ValidationFailed(
            errors=[problem("reason", Code.REASON_REQUIRED, "Say why the message is discarded.")]
        )
    return InboxMessageDetail.model_validate(
        intake.discard(session, principal, message_id, data.reason)
    )
