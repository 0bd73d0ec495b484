"""Error codes of the integration gateway (documented in docs/api.md)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from medledger.core.errors import Conflict, FieldError, NotFound, ValidationFailed


class Code(StrEnum):
    """Stable codes of the integration context (never translated, never renamed)."""

    UNKNOWN_EVENT_TYPE = "integration.unknown_event_type"
    URL_NOT_ALLOWED = "integration.url_not_allowed"
    DELIVERY_NOT_REPLAYABLE = "integration.delivery_not_replayable"
    # Imports
    IMPORT_UNKNOWN_ENTITY = "import.unknown_entity"
    IMPORT_UNMAPPED_FIELD = "import.unmapped_field"
    IMPORT_UNKNOWN_FIELD = "import.unknown_field"
    IMPORT_DUPLICATE_IN_FILE = "import.duplicate_in_file"
    IMPORT_ROW_NOT_REPLAYABLE = "import.row_not_replayable"
    IMPORT_UNKNOWN_MAPPING = "import.unknown_mapping"
    IMPORT_UNKNOWN_REFERENCE = "import.unknown_reference"
    IMPORT_COLUMNS = "import.columns"
    IMPORT_ENCODING = "import.encoding"
    IMPORT_FILE_FORMAT = "import.file_format"
    # EDI settings and despatch advices
    EDI_SETTINGS_MISSING = "edi.partner_settings_missing"
    EDI_IDENTIFIER_INVALID = "edi.identifier_invalid"
    EDI_SEPARATORS_INVALID = "edi.separators_invalid"
    EDI_FOLDER_INVALID = "edi.outbound_folder_invalid"
    EDI_NO_CHANNEL = "edi.no_outbound_channel"
    EDI_SHIPMENT_NOT_DESPATCHED = "edi.shipment_not_despatched"
    # Receiving advices (RECADV, 861)
    RECEIPT_NO_UNITS = "receipt.no_units"
    RECEIPT_SSCC_INVALID = "receipt.sscc_invalid"
    RECEIPT_SSCC_UNKNOWN = "receipt.sscc_unknown"
    RECEIPT_WRONG_PARTY = "receipt.wrong_party"
    RECEIPT_ITEM_NOT_SHIPPED = "receipt.item_not_shipped"
    RECEIPT_QUANTITY_MISMATCH = "receipt.quantity_mismatch"
    RECEIPT_DATE_INVALID = "receipt.date_invalid"
    RECEIPT_SYNTAX = "receipt.syntax"
    # Data dictionary
    DICTIONARY_DEFINITION_INVALID = "dictionary.definition_invalid"
    DICTIONARY_NOT_DRAFT = "dictionary.not_draft"
    DICTIONARY_UNKNOWN_VERSION = "dictionary.unknown_version"
    DICTIONARY_REQUIRED = "dictionary.required"
    DICTIONARY_TYPE = "dictionary.type"
    DICTIONARY_MIN = "dictionary.min"
    DICTIONARY_MAX = "dictionary.max"
    DICTIONARY_MAX_LENGTH = "dictionary.max_length"
    DICTIONARY_PATTERN = "dictionary.pattern"
    DICTIONARY_VALUE = "dictionary.value"


# Kept for the callers written before the enum.
UNKNOWN_EVENT_TYPE = Code.UNKNOWN_EVENT_TYPE
URL_NOT_ALLOWED = Code.URL_NOT_ALLOWED
NOT_REPLAYABLE = Code.DELIVERY_NOT_REPLAYABLE


def field_invalid(field: str, code: str, message: str, **params: Any) -> ValidationFailed:
    return ValidationFailed(
        message,
        code=code,
        params=params,
        errors=[FieldError(field=field, code=code, message=message, params=params)],
    )


def field_problem(field: str, code: str, message: str, /, **params: Any) -> FieldError:
    return FieldError(field=field, code=code, message=message, params=params)


def not_found(entity: str, record_id: Any) -> NotFound:
    return NotFound(
        "{entity} {id} was not found.",
        params={"entity": entity, "id": record_id},
    )


def not_replayable(state: str) -> Conflict:
    return Conflict(
        "Only a dead or retrying delivery can be replayed; this one is {state}.",
        code=Code.DELIVERY_NOT_REPLAYABLE,
        params={"state": state},
    )
