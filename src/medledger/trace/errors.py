"""The codes raised by the trace context (EPCIS capture, query and trace)."""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Stable codes of the trace context (never translated, never renamed)."""

    # Capture and query through the EPCIS binding.
    UNSUPPORTED_MEDIA_TYPE = "epcis.unsupported_media_type"
    INVALID_QUERY_PARAMETER = "epcis.invalid_query_parameter"
    EVENT_NOT_FOUND = "epcis.event_not_found"
    CAPTURE_JOB_NOT_FOUND = "epcis.capture_job_not_found"
    INVALID_CAPTURE_ERROR_BEHAVIOUR = "epcis.invalid_capture_error_behaviour"
    INVALID_EVENT = "epcis.invalid_event"
    INVALID_DOCUMENT = "epcis.invalid_document"
    DUPLICATE_EVENT_ID = "epcis.duplicate_event_id"
    NOT_EVENT_OWNER = "epcis.not_event_owner"
    # The REST binding (trace/binding.py, named queries and subscriptions).
    NOT_ACCEPTABLE = "epcis.not_acceptable"
    CAPTURE_LIMIT_EXCEEDED = "epcis.capture_limit_exceeded"
    EVENT_ID_EXISTS = "epcis.event_id_exists"
    RESOURCE_NOT_FOUND = "epcis.resource_not_found"
    QUERY_NOT_FOUND = "epcis.query_not_found"
    QUERY_EXISTS = "epcis.query_exists"
    QUERY_TOO_LARGE = "epcis.query_too_large"
    INVALID_QUERY_DEFINITION = "epcis.invalid_query_definition"
    SUBSCRIPTION_INVALID = "epcis.subscription_invalid"
    SUBSCRIPTION_NOT_FOUND = "epcis.subscription_not_found"
    INVALID_XML = "epcis.invalid_xml"
    # Validation of events (field-level codes, trace/epcis/validation.py).
    SCHEMA = "epcis.schema"
    INVALID_EVENT_TYPE = "epcis.invalid_event_type"
    UNKNOWN_BIZ_STEP = "epcis.unknown_biz_step"
    UNKNOWN_DISPOSITION = "epcis.unknown_disposition"
    UNKNOWN_BIZ_TRANSACTION_TYPE = "epcis.unknown_biz_transaction_type"
    UNKNOWN_SOURCE_DESTINATION_TYPE = "epcis.unknown_source_destination_type"
    UNKNOWN_ERROR_REASON = "epcis.unknown_error_reason"
    UNKNOWN_SENSOR_COMPONENT = "epcis.unknown_sensor_component"
    CBV_VALUE_NOT_BARE = "epcis.cbv_value_not_bare"
    UNDECLARED_NAMESPACE_PREFIX = "epcis.undeclared_namespace_prefix"
    ILMD_FIELD_WITHOUT_NAMESPACE = "epcis.ilmd_field_without_namespace"
    EXTENSION_WITHOUT_NAMESPACE = "epcis.extension_without_namespace"
    NON_FINITE_QUANTITY = "epcis.non_finite_quantity"
    QUANTITY_OUT_OF_RANGE = "epcis.quantity_out_of_range"
    NON_ASCII_DIGITS = "epcis.non_ascii_digits"
    # The trace.
    NOT_AN_ITEM = "trace.not_an_item"
    ITEM_NOT_FOUND = "trace.item_not_found"
