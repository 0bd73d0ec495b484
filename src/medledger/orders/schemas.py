"""API and form shapes for customers, contracts, tenders, orders, deliveries, inbox and OTIF."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from medledger.catalog.models import Region
from medledger.core.types import CountryCode, RecordId, Text
from medledger.identifiers.fields import GLN, GTIN
from medledger.orders.draft import LineDraft, OrderDraft
from medledger.orders.models import ClinicalUrgency, CustomerTier

_CURRENCY = r"^[A-Z]{3}$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- customers and contracts -----------------------------------------------------------------


class CustomerIn(_In):
    party_id: RecordId
    tier: CustomerTier = CustomerTier.STANDARD
    currency: str = Field("EUR", pattern=_CURRENCY)
    # {"x12": "01:000123456", "edifact": "14:8711576000012"}: interchange sender ids
    edi_sender_ids: dict[str, str] = Field(default_factory=dict)


class CustomerUpdate(_In):
    tier: CustomerTier | None = None
    currency: str | None = Field(None, pattern=_CURRENCY)
    edi_sender_ids: dict[str, str] | None = None
    active: bool | None = None


class CustomerOut(_Out):
    id: int
    party_id: RecordId
    tier: str
    currency: str
    edi_sender_ids: dict[str, str]
    active: bool


class ShipToIn(_In):
    code: Text = Field(min_length=1, max_length=35)
    name: Text = Field(min_length=1, max_length=200)
    gln: GLN | None = None
    country: CountryCode
    region: Region
    cold_chain_capable: bool = False
    is_default: bool = False


class ShipToOut(_Out):
    id: int
    customer_id: RecordId
    code: str
    name: str
    gln: str | None
    country: str
    region: str
    cold_chain_capable: bool
    is_default: bool
    active: bool


class ContractIn(_In):
    number: Text = Field(min_length=1, max_length=35)
    valid_from: date
    valid_until: date | None = None
    service_level_days: int = Field(ge=0, le=365)
    penalty_per_day_late: Decimal = Field(Decimal(0), ge=0, max_digits=14, decimal_places=2)
    currency: str = Field("EUR", pattern=_CURRENCY)
    min_remaining_shelf_life_days: int = Field(0, ge=0, le=3650)


class ContractOut(_Out):
    id: int
    customer_id: RecordId
    number: str
    valid_from: date
    valid_until: date | None
    service_level_days: int
    penalty_per_day_late: Decimal
    currency: str
    min_remaining_shelf_life_days: int
    active: bool


class TenderLineIn(_In):
    gtin: GTIN
    committed_quantity: int = Field(gt=0, le=10_000_000)
    unit_price: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=4)


class TenderIn(_In):
    reference: Text = Field(min_length=1, max_length=35)
    contract_id: RecordId | None = None
    valid_from: date
    valid_until: date
    lines: list[TenderLineIn] = Field(min_length=1, max_length=500)


class TenderLineOut(_Out):
    id: int
    gtin: str
    committed_quantity: int
    called_off_quantity: int
    unit_price: Decimal | None = None


class TenderOut(_Out):
    id: int
    customer_id: RecordId
    contract_id: RecordId | None
    reference: str
    valid_from: date
    valid_until: date
    lines: list[TenderLineOut] = []


class ItemReferenceIn(_In):
    qualifier: str = Field(pattern=r"^(VN|BP|SA|IN)$")
    code: Text = Field(min_length=1, max_length=48)
    gtin: GTIN


class ItemReferenceOut(_Out):
    id: int
    customer_id: RecordId
    qualifier: str
    code: str
    product_id: RecordId


# --- orders ----------------------------------------------------------------------------------


class OrderLineIn(_In):
    gtin: GTIN
    quantity: int = Field(gt=0, le=1_000_000)
    unit_price: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=4)
    requested_delivery_date: date | None = None
    # left out: scheduled_surgery when a surgery date is given, routine otherwise
    clinical_urgency: ClinicalUrgency | None = None
    surgery_date: date | None = None
    buyer_item_code: str | None = Field(None, max_length=48)


class OrderIn(_In):
    """A new order. Partner users may leave ``customer_id`` out (their own is used)."""

    customer_id: RecordId | None = None
    customer_reference: Text = Field(min_length=1, max_length=35)
    ship_to_id: RecordId | None = None
    ship_to_code: str | None = Field(None, max_length=35)
    contract_number: str | None = Field(None, max_length=35)
    tender_reference: str | None = Field(None, max_length=35)
    order_date: date | None = None
    requested_delivery_date: date | None = None
    note: str = Field("", max_length=2000)
    lines: list[OrderLineIn] = Field(min_length=1, max_length=500)

    def to_draft(self) -> OrderDraft:
        return OrderDraft(
            customer_reference=self.customer_reference,
            customer_id=self.customer_id,
            ship_to_id=self.ship_to_id,
            ship_to_code=self.ship_to_code,
            contract_number=self.contract_number,
            tender_reference=self.tender_reference,
            order_date=self.order_date,
            requested_delivery_date=self.requested_delivery_date,
            note=self.note,
            lines=[_line_draft(i, line) for i, line in enumerate(self.lines)],
        )


def _line_draft(index: int, line: OrderLineIn) -> LineDraft:
    return LineDraft(
        line_number=index + 1,
        path=f"lines.{index}",
        gtin=line.gtin,
        quantity=line.quantity,
        unit_price=line.unit_price,
        requested_delivery_date=line.requested_delivery_date,
        clinical_urgency=line.clinical_urgency.value if line.clinical_urgency else None,
        surgery_date=line.surgery_date,
        buyer_item_code=line.buyer_item_code,
    )


class AmendmentLineIn(OrderLineIn):
    line_number: int | None = Field(None, ge=1, le=9999)


class OrderAmendmentIn(_In):
    """A change to an open order: the complete new set of lines (matched by ``line_number``;
    a line left out is cancelled) and header fields; ``reason`` is required."""

    reason: Text = Field(min_length=1, max_length=500)
    ship_to_id: RecordId | None = None
    ship_to_code: str | None = Field(None, max_length=35)
    requested_delivery_date: date | None = None
    note: str | None = Field(None, max_length=2000)
    lines: list[AmendmentLineIn] = Field(min_length=1, max_length=500)

    def to_draft(self, customer_reference: str) -> OrderDraft:
        lines = []
        for index, line in enumerate(self.lines):
            draft = _line_draft(index, line)
            draft.line_number = line.line_number or 0
            lines.append(draft)
        return OrderDraft(
            customer_reference=customer_reference,
            ship_to_id=self.ship_to_id,
            ship_to_code=self.ship_to_code,
            requested_delivery_date=self.requested_delivery_date,
            note=self.note if self.note is not None else "",
            reason=self.reason,
            lines=lines,
        )


class CancelIn(_In):
    reason: Text = Field(min_length=1, max_length=500)


class OrderLineOut(_Out):
    id: int
    line_number: int
    product_id: RecordId
    gtin: str
    buyer_item_code: str | None
    quantity: int
    unit_of_measure: str
    unit_price: Decimal | None
    requested_delivery_date: date
    promised_date: date
    clinical_urgency: str
    surgery_date: date | None
    min_remaining_shelf_life_days: int
    tender_line_id: RecordId | None
    status: str
    delivered_quantity: int
    delivered_date: date | None
    completed_date: date | None


class OrderOut(_Out):
    id: int
    number: str
    customer_id: RecordId
    party_id: RecordId
    customer_reference: str
    channel: str
    kind: str
    ship_to_id: RecordId
    contract_id: RecordId | None
    tender_id: RecordId | None
    order_date: date
    requested_delivery_date: date
    currency: str
    status: str
    version: int
    note: str
    source_message_id: RecordId | None
    created_at: datetime
    lines: list[OrderLineOut] = []


class OrderVersionOut(_Out):
    version: int
    kind: str
    reason: str
    channel: str
    source_message_id: RecordId | None
    actor: str
    created_at: datetime
    snapshot: dict[str, Any]


class DeliveryIn(_In):
    delivered_on: date
    quantity: int = Field(gt=0, le=1_000_000)
    reference: str = Field("", max_length=64)


class DeliveryOut(_Out):
    id: int
    order_line_id: RecordId
    delivered_on: date
    quantity: int
    source: str
    reference: str


# --- inbox and acknowledgements --------------------------------------------------------------


class InboxMessageOut(_Out):
    id: int
    party_id: RecordId | None
    channel: str
    filename: str
    interchange_reference: str
    message_reference: str
    document_reference: str
    status: str
    errors: list[dict[str, Any]]
    attempts: int
    order_id: RecordId | None
    received_at: datetime
    updated_at: datetime


class InboxMessageDetail(InboxMessageOut):
    content: str


class ReplayIn(_In):
    """Replay an inbox message, optionally with corrected content."""

    content: str | None = Field(None, min_length=1, max_length=2_000_000)
    reason: str = Field("", max_length=500)


class ImportResult(BaseModel):
    messages: list[InboxMessageOut]
    accepted: int
    failed: int


class AcknowledgementOut(_Out):
    id: int
    order_id: RecordId
    message_id: RecordId
    order_version: int
    standard: str
    control_reference: str
    status: str
    created_at: datetime
    content: str


class OtifRow(BaseModel):
    key: dict[str, str]
    lines_due: int
    on_time: int
    in_full: int
    on_time_in_full: int
    otif_rate: float | None
