"""A channel-neutral order as received: what the API, UI form, CSV rows and EDI messages are
all turned into before one service validates and stores it.

Each field knows where it came from (``paths``), so an error points at the API field, the CSV
row and column or the EDI segment that carried it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from medledger.core.errors import FieldError


class Purpose(StrEnum):
    """What the sender wants done with the order it names (BGM 1225 / BEG01)."""

    ORIGINAL = "original"
    REPLACE = "replace"
    CANCEL = "cancel"


@dataclass
class LineDraft:
    line_number: int
    path: str  # where the line came from: "lines.0", "row 3", "segment 11 (LIN)"
    gtin: str | None = None
    item_qualifier: str | None = None  # VN / BP / SA / IN: a partner's item number
    item_code: str | None = None
    quantity: int | None = None
    unit_of_measure: str | None = None
    unit_price: Decimal | None = None
    requested_delivery_date: date | None = None
    clinical_urgency: str | None = None
    surgery_date: date | None = None
    buyer_item_code: str | None = None
    # field name -> path of that value (defaults to ``path.field``)
    paths: dict[str, str] = field(default_factory=dict)
    # fields given but unreadable (already reported): not reported again as missing
    unreadable: set[str] = field(default_factory=set)

    def where(self, name: str) -> str:
        return self.paths.get(name, f"{self.path}.{name}")


@dataclass
class OrderDraft:
    customer_reference: str | None
    purpose: Purpose = Purpose.ORIGINAL
    customer_id: int | None = None
    buyer_gln: str | None = None
    sender_id: str | None = None  # "x12:01:000123456" / "edifact:14:8711576000012"
    supplier_gln: str | None = None
    ship_to_id: int | None = None
    ship_to_code: str | None = None
    ship_to_gln: str | None = None
    contract_number: str | None = None
    tender_reference: str | None = None
    order_date: date | None = None
    requested_delivery_date: date | None = None
    currency: str | None = None
    note: str = ""
    reason: str = ""
    lines: list[LineDraft] = field(default_factory=list)
    # errors found while reading the input (bad numbers, bad dates), reported with the rest
    errors: list[FieldError] = field(default_factory=list)
    paths: dict[str, str] = field(default_factory=dict)

    def where(self, name: str) -> str:
        return self.paths.get(name, name)
