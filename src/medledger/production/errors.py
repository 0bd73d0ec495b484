"""The codes raised by the production context (work orders)."""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Stable codes of the production context (never translated, never renamed)."""

    NO_ACTIVE_BOM = "production.no_active_bom"
    UNKNOWN_PRODUCT = "production.unknown_product"
    WRONG_STATE = "production.wrong_state"
    INSUFFICIENT_COMPONENTS = "production.insufficient_components"
    COMPONENT_NOT_IN_BOM = "production.component_not_in_bom"
    COMPONENT_QUANTITY = "production.component_quantity"
    OUTPUT_IDENTIFIER = "production.output_identifier"
    NUMBER_TAKEN = "production.number_taken"
