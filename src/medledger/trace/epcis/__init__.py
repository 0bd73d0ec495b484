"""EPCIS 2.0 engine: validation, CBV vocabulary, the CBV 2.0 event hash and normalisation.

Pure functions over JSON-like dicts; no database, web or ORM imports.
"""

from medledger.trace.epcis.document import iter_document_events
from medledger.trace.epcis.hashing import document_ignore_fields, event_hash, prehash_string
from medledger.trace.epcis.normalise import NormalisedEvent, normalise_event
from medledger.trace.epcis.validation import (
    ErrorCode,
    EventError,
    validate_document,
    validate_event,
    validate_query,
)

__all__ = [
    "ErrorCode",
    "EventError",
    "NormalisedEvent",
    "document_ignore_fields",
    "event_hash",
    "iter_document_events",
    "normalise_event",
    "prehash_string",
    "validate_document",
    "validate_event",
    "validate_query",
]
