"""The codes raised by the purchasing context (purchase orders, ASNs, scan receiving)."""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Stable codes of the purchasing context (never translated, never renamed)."""

    SUPPLIER_IS_HUB = "purchasing.supplier_is_hub"
    NOT_A_HUB_SITE = "purchasing.not_a_hub_site"
    NOT_A_DRAFT = "purchasing.not_a_draft"
    NOT_CONFIRMABLE = "purchasing.not_confirmable"
    UNKNOWN_LINE = "purchasing.unknown_line"
    ORDER_NOT_CONFIRMED = "purchasing.order_not_confirmed"
    ASN_NUMBER_TAKEN = "purchasing.asn_number_taken"
    ASN_CLOSED = "purchasing.asn_closed"
    SSCC_NOT_EXPECTED = "purchasing.sscc_not_expected"
    UNEXPECTED_ITEM = "purchasing.unexpected_item"
    WRONG_LOT = "purchasing.wrong_lot"
    OVER_RECEIPT = "purchasing.over_receipt"
    SCAN_NOT_RECEIVABLE = "purchasing.scan_not_receivable"
