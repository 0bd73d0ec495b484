"""The storage-ready form of an EPCIS 2.0 event.

:func:`normalise_event` turns a (validated) EPCIS JSON event into a :class:`NormalisedEvent`:
plain typed values in the one canonical spelling MedLedger stores and indexes, so that the
same object, place or business step is always the same string whoever reported it:

* identifiers (EPCs, classes, parent IDs, read points, business locations, sources,
  destinations, transaction IDs) through ``medledger.identifiers.epc.canonical_identifier``:
  GS1 keys become ``https://id.gs1.org/…``, other URIs stay as they are;
* CBV values as bare names (``shipping``, ``in_transit``, ``po``, ``owning_party``) when
  standard, as full URIs when they are extensions;
* times as aware UTC datetimes, with the event's own ``eventTimeZoneOffset`` kept as given;
* ILMD and user extension field names expanded from CURIEs to full IRIs.

The original JSON is kept alongside. ``recordTime`` belongs to the capturing repository, so
any value in the payload is ignored and :attr:`NormalisedEvent.record_time` is left for the
caller to set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from medledger.core.errors import ValidationFailed, field_error
from medledger.identifiers.epc import (
    canonical_identifier,
    canonical_identifier_or_none,
    epc_urn_to_digital_link,
)
from medledger.trace.epcis.document import iter_document_events
from medledger.trace.epcis.hashing import event_hash
from medledger.trace.epcis.namespaces import expand_key
from medledger.trace.epcis.timestamps import to_utc
from medledger.trace.epcis.validation import (
    ALL_EVENT_FIELDS,
    EVENT_FIELDS,
    ErrorCode,
    namespaces_of,
)
from medledger.trace.epcis.vocabulary import (
    BIZ_STEP,
    BIZ_TRANSACTION_TYPE,
    DISPOSITION,
    ERROR_REASON,
    SOURCE_DESTINATION_TYPE,
    CbvVocabulary,
    UnknownVocabularyTerm,
    normalise_term,
)
from medledger.trace.errors import Code

__all__ = [
    "BizTransaction",
    "ErrorDeclaration",
    "NormalisedEvent",
    "PersistentDisposition",
    "QuantityElement",
    "SourceDestination",
    "iter_document_events",
    "normalise_event",
]


@dataclass(frozen=True)
class QuantityElement:
    """A quantity of a class of objects (``epc_class`` canonical, ``quantity`` exact)."""

    epc_class: str
    quantity: Decimal | None = None
    uom: str | None = None


@dataclass(frozen=True)
class BizTransaction:
    """A business transaction reference; ``type`` is a bare CBV name, a URI or ``None``."""

    type: str | None
    value: str


@dataclass(frozen=True)
class SourceDestination:
    """A source or destination of a transfer; ``type`` is a bare CBV name or a URI."""

    type: str
    value: str


@dataclass(frozen=True)
class PersistentDisposition:
    """Dispositions that stay with the objects until unset (bare CBV names or URIs)."""

    set: tuple[str, ...] = ()
    unset: tuple[str, ...] = ()


@dataclass(frozen=True)
class ErrorDeclaration:
    """The event retracts itself: when, why, and which events correct it."""

    declaration_time: datetime
    reason: str | None = None
    corrective_event_ids: tuple[str, ...] = ()
    extensions: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NormalisedEvent:
    """An EPCIS event in MedLedger's storage form; see the module docstring for the rules."""

    event_type: str
    action: str | None
    event_time: datetime
    event_time_zone_offset: str
    event_id: str
    event_id_is_hash: bool
    biz_step: str | None
    disposition: str | None
    read_point: str | None
    biz_location: str | None
    parent_id: str | None
    epc_list: tuple[str, ...]
    child_epcs: tuple[str, ...]
    input_epc_list: tuple[str, ...]
    output_epc_list: tuple[str, ...]
    quantity_list: tuple[QuantityElement, ...]
    child_quantity_list: tuple[QuantityElement, ...]
    input_quantity_list: tuple[QuantityElement, ...]
    output_quantity_list: tuple[QuantityElement, ...]
    transformation_id: str | None
    biz_transaction_list: tuple[BizTransaction, ...]
    source_list: tuple[SourceDestination, ...]
    destination_list: tuple[SourceDestination, ...]
    persistent_disposition: PersistentDisposition | None
    ilmd: Mapping[str, Any] | None
    sensor_element_list: tuple[Mapping[str, Any], ...]
    error_declaration: ErrorDeclaration | None
    certification_info: tuple[str, ...]
    extensions: Mapping[str, Any]
    original: Mapping[str, Any]
    record_time: datetime | None = None

    @property
    def all_epcs(self) -> tuple[str, ...]:
        """Every instance identifier the event names (parent first), without duplicates."""
        ordered = (
            ((self.parent_id,) if self.parent_id else ())
            + self.epc_list
            + self.child_epcs
            + self.input_epc_list
            + self.output_epc_list
        )
        return tuple(dict.fromkeys(ordered))


def stored_identifier(value: str) -> str:
    """An identifier as a capture stores it (lenient: what ``trace_items.uri`` holds)."""
    text = value.strip()
    canonical = canonical_identifier_or_none(text)
    if canonical is not None:
        return canonical
    for convert in (canonical_identifier, epc_urn_to_digital_link):
        try:
            return convert(text, field="")
        except ValidationFailed:
            continue
    return text


class _Normaliser:
    def __init__(self, event: Mapping[str, Any], context: Any, strict_identifiers: bool) -> None:
        self.event = event
        self.context = context
        self.strict_identifiers = strict_identifiers
        self.namespaces = (
            namespaces_of(event.get("@context"))  # the very map validation used for it
            if context is None
            else namespaces_of(context, event.get("@context"))
        )

    def identifier(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise field_error(path, ErrorCode.SCHEMA, "{path} must be a URI", path=path)
        if not value.isascii() and any(c.isdigit() for c in value if not c.isascii()):
            # "０６１４１４１" is digits to Python, not to GS1: refused whether or not the
            # rest of the value parses, so that no event stores a key nobody else can match.
            raise field_error(
                path,
                Code.NON_ASCII_DIGITS,
                "{value} has digits that are not ASCII 0-9.",
                value=value,
            )
        canonical = canonical_identifier_or_none(value.strip())
        if canonical is not None and canonical.isascii():
            return canonical
        try:
            return canonical_identifier(value.strip(), field=path)
        except ValidationFailed:
            if self.strict_identifiers:
                raise
        try:
            # Same spelling as the event hash uses; check digits carried through unverified.
            return epc_urn_to_digital_link(value.strip(), field=path)
        except ValidationFailed:
            return value.strip()

    def optional_identifier(self, path: str) -> str | None:
        value = self.event.get(path)
        return None if value is None else self.identifier(value, path)

    def identifiers(self, key: str) -> tuple[str, ...]:
        values = self.event.get(key)
        if not values:
            return ()
        result = []
        for index, value in enumerate(values):
            # The common case first, without building the path an error would need.
            canonical = (
                canonical_identifier_or_none(value.strip()) if isinstance(value, str) else None
            )
            if canonical is None or not canonical.isascii():
                canonical = self.identifier(value, f"{key}.{index}")
            result.append(canonical)
        return tuple(result)

    def location(self, key: str) -> str | None:
        location = self.event.get(key)
        if not isinstance(location, Mapping) or location.get("id") is None:
            return None
        return self.identifier(location["id"], f"{key}.id")

    def term(self, value: Any, vocabulary: CbvVocabulary, path: str, code: str) -> str:
        if not isinstance(value, str):
            raise field_error(path, ErrorCode.SCHEMA, "{path} must be a string", path=path)
        try:
            return normalise_term(value.strip(), vocabulary, self.namespaces)
        except UnknownVocabularyTerm:
            raise field_error(
                path,
                code,
                "{value} is not a standard CBV {label}",
                value=value,
                label=vocabulary.label,
            ) from None

    def optional_term(self, key: str, vocabulary: CbvVocabulary, code: str) -> str | None:
        value = self.event.get(key)
        return None if value is None else self.term(value, vocabulary, key, code)

    def quantities(self, key: str) -> tuple[QuantityElement, ...]:
        elements: list[QuantityElement] = []
        for index, item in enumerate(self.event.get(key) or []):
            path = f"{key}.{index}"
            _require_object(item, path)
            elements.append(
                QuantityElement(
                    epc_class=self.identifier(item.get("epcClass"), f"{path}.epcClass"),
                    quantity=_decimal(item.get("quantity"), f"{path}.quantity"),
                    uom=item.get("uom"),
                )
            )
        return tuple(elements)

    def biz_transactions(self) -> tuple[BizTransaction, ...]:
        result: list[BizTransaction] = []
        for index, item in enumerate(self.event.get("bizTransactionList") or []):
            path = f"bizTransactionList.{index}"
            _require_object(item, path)
            kind = item.get("type")
            result.append(
                BizTransaction(
                    type=None
                    if kind is None
                    else self.term(
                        kind,
                        BIZ_TRANSACTION_TYPE,
                        f"{path}.type",
                        ErrorCode.UNKNOWN_BIZ_TRANSACTION_TYPE,
                    ),
                    value=self.identifier(item.get("bizTransaction"), f"{path}.bizTransaction"),
                )
            )
        return tuple(result)

    def parties(self, key: str, value_key: str) -> tuple[SourceDestination, ...]:
        result: list[SourceDestination] = []
        for index, item in enumerate(self.event.get(key) or []):
            path = f"{key}.{index}"
            _require_object(item, path)
            result.append(
                SourceDestination(
                    type=self.term(
                        item.get("type"),
                        SOURCE_DESTINATION_TYPE,
                        f"{path}.type",
                        ErrorCode.UNKNOWN_SOURCE_DESTINATION_TYPE,
                    ),
                    value=self.identifier(item.get(value_key), f"{path}.{value_key}"),
                )
            )
        return tuple(result)

    def persistent_disposition(self) -> PersistentDisposition | None:
        raw = self.event.get("persistentDisposition")
        if not isinstance(raw, Mapping):
            return None
        parts: dict[str, tuple[str, ...]] = {}
        for part in ("set", "unset"):
            parts[part] = tuple(
                self.term(
                    value,
                    DISPOSITION,
                    f"persistentDisposition.{part}.{index}",
                    ErrorCode.UNKNOWN_DISPOSITION,
                )
                for index, value in enumerate(raw.get(part) or [])
            )
        return PersistentDisposition(set=parts["set"], unset=parts["unset"])

    def error_declaration(self) -> ErrorDeclaration | None:
        raw = self.event.get("errorDeclaration")
        if not isinstance(raw, Mapping):
            return None
        reason = raw.get("reason")
        return ErrorDeclaration(
            declaration_time=_utc(raw.get("declarationTime"), "errorDeclaration.declarationTime"),
            reason=None
            if reason is None
            else self.term(
                reason, ERROR_REASON, "errorDeclaration.reason", ErrorCode.UNKNOWN_ERROR_REASON
            ),
            corrective_event_ids=tuple(raw.get("correctiveEventIDs") or ()),
            extensions=self.expanded(
                {
                    key: value
                    for key, value in raw.items()
                    if key not in ("declarationTime", "reason", "correctiveEventIDs")
                }
            ),
        )

    def expanded(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Field names as full IRIs (``example:grading`` → ``https://…/grading``)."""
        result: dict[str, Any] = {}
        for key, value in fields.items():
            parts = expand_key(key, self.namespaces)
            result[key if parts is None else parts[0] + parts[1]] = value
        return result

    def extensions(self, event_type: str) -> dict[str, Any]:
        standard = EVENT_FIELDS.get(event_type, ALL_EVENT_FIELDS)
        extra = {key: value for key, value in self.event.items() if key not in standard}
        return self.expanded(extra) if extra else {}

    def normalise(self) -> NormalisedEvent:
        """The storage form. An event carries a handful of the ~25 optional fields: the
        absent ones take their empty value without a call (same values, same errors)."""
        event = self.event
        event_type = event.get("type")
        if not isinstance(event_type, str):
            raise field_error("type", ErrorCode.INVALID_EVENT_TYPE, "The event has no type")
        given_id = event.get("eventID")
        ilmd = event.get("ilmd")
        certification = event.get("certificationInfo")
        if certification is None:
            certification = []
        elif not isinstance(certification, list):
            certification = [certification]
        offset = event.get("eventTimeZoneOffset")
        return NormalisedEvent(
            event_type=event_type,
            action=event.get("action"),
            event_time=_utc(event.get("eventTime"), "eventTime"),
            event_time_zone_offset=offset if isinstance(offset, str) else "",
            event_id=given_id
            if isinstance(given_id, str)
            else event_hash(event, self.context, namespaces=self.namespaces),
            event_id_is_hash=not isinstance(given_id, str),
            biz_step=self.optional_term("bizStep", BIZ_STEP, ErrorCode.UNKNOWN_BIZ_STEP)
            if "bizStep" in event
            else None,
            disposition=self.optional_term(
                "disposition", DISPOSITION, ErrorCode.UNKNOWN_DISPOSITION
            )
            if "disposition" in event
            else None,
            read_point=self.location("readPoint") if "readPoint" in event else None,
            biz_location=self.location("bizLocation") if "bizLocation" in event else None,
            parent_id=self.optional_identifier("parentID") if "parentID" in event else None,
            epc_list=self.identifiers("epcList") if "epcList" in event else (),
            child_epcs=self.identifiers("childEPCs") if "childEPCs" in event else (),
            input_epc_list=self.identifiers("inputEPCList") if "inputEPCList" in event else (),
            output_epc_list=self.identifiers("outputEPCList") if "outputEPCList" in event else (),
            quantity_list=self.quantities("quantityList") if "quantityList" in event else (),
            child_quantity_list=self.quantities("childQuantityList")
            if "childQuantityList" in event
            else (),
            input_quantity_list=self.quantities("inputQuantityList")
            if "inputQuantityList" in event
            else (),
            output_quantity_list=self.quantities("outputQuantityList")
            if "outputQuantityList" in event
            else (),
            transformation_id=self.optional_identifier("transformationID")
            if "transformationID" in event
            else None,
            biz_transaction_list=self.biz_transactions() if "bizTransactionList" in event else (),
            source_list=self.parties("sourceList", "source") if "sourceList" in event else (),
            destination_list=self.parties("destinationList", "destination")
            if "destinationList" in event
            else (),
            persistent_disposition=self.persistent_disposition()
            if "persistentDisposition" in event
            else None,
            ilmd=self.expanded(ilmd) if isinstance(ilmd, Mapping) else None,
            sensor_element_list=tuple(event.get("sensorElementList") or ()),
            error_declaration=self.error_declaration() if "errorDeclaration" in event else None,
            certification_info=tuple(certification),
            extensions=self.extensions(event_type),
            original=event,
        )


def _require_object(item: Any, path: str) -> None:
    if not isinstance(item, Mapping):
        raise field_error(path, ErrorCode.SCHEMA, "{path} must be an object", path=path)


def _utc(value: Any, path: str) -> datetime:
    try:
        return to_utc(value)
    except (ValueError, TypeError):
        raise field_error(
            path, ErrorCode.SCHEMA, "{value} is not a date-time with a time zone", value=value
        ) from None


_QUANTITY_LIMIT = Decimal(10) ** 12


def _decimal(value: Any, path: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise field_error(path, ErrorCode.SCHEMA, "{path} must be a number", path=path)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise field_error(path, ErrorCode.SCHEMA, "{path} must be a number", path=path) from None
    if not number.is_finite():
        raise field_error(
            path, Code.NON_FINITE_QUANTITY, "{path} must be a finite number", path=path
        )
    if abs(number) >= _QUANTITY_LIMIT:
        # Quantities are stored as NUMERIC(18, 6) on both databases.
        raise field_error(
            path,
            Code.QUANTITY_OUT_OF_RANGE,
            "{path} must be less than {limit}",
            path=path,
            limit="10^12",
        )
    return number


def normalise_event(
    event: Mapping[str, Any], context: Any = None, *, strict_identifiers: bool = True
) -> NormalisedEvent:
    """Turn one EPCIS JSON event into its storage form (see :class:`NormalisedEvent`).

    The event should have passed :func:`~medledger.trace.epcis.validation.validate_event`.
    ``context`` is the document's ``@context`` if the event does not carry it (events from
    :func:`iter_document_events` do). The event ID is the given ``eventID`` or, if there is
    none, the CBV 2.0 event hash.

    Raises ``ValidationFailed`` (field = dotted path such as ``epcList.3``) when a value
    cannot be normalised: a malformed GS1 identifier (``gs1.invalid_epc_urn``,
    ``gs1.invalid_digital_link``), a bare non-standard CBV word, a bad timestamp.

    EPCIS conformance does not cover GS1 key syntax, so schema-valid events may name keys
    with a wrong check digit. With ``strict_identifiers=False`` such a key is stored in its
    Digital Link spelling as received (the form the event hash uses) instead of raising.
    """
    return _Normaliser(event, context, strict_identifiers).normalise()
