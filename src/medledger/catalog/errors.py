"""The codes raised by the catalog context (products, market authorisations, BOMs)."""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Stable codes of the catalog context (never translated, never renamed)."""

    GTIN_TAKEN = "gtin.taken"
    PRODUCT_UNKNOWN = "product.unknown"
    DEVICE_CLASS_INVALID = "device_class.invalid"
    BASIC_UDI_DI_INVALID = "basic_udi_di.invalid"
    UNIT_OF_MEASURE_INVALID = "unit_of_measure.invalid"
    AUTHORISATION_REGION_MISMATCH = "authorisation.region_mismatch"
    AUTHORISATION_CERTIFICATE_FORMAT = "authorisation.certificate_format"
    AUTHORISATION_VALIDITY_ORDER = "authorisation.validity_order"
    AUTHORISATION_DUPLICATE = "authorisation.duplicate"
    BOM_INVALID = "bom.invalid"
    BOM_NOT_DRAFT = "bom.not_draft"
    BOM_DUPLICATE_COMPONENT = "bom.duplicate_component"
    BOM_SELF_REFERENCE = "bom.self_reference"
