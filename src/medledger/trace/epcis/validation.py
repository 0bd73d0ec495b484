"""Validation of EPCIS 2.0 JSON documents and events: the 2.0.1 JSON schema plus CBV rules.

Two layers, reported together as :class:`EventError` values with stable codes:

1. **Schema** (code ``epcis.schema``): the ratified EPCIS 2.0.1 JSON schema, checked with a
   Draft 7 validator compiled once. ``date-time`` formats are checked strictly (RFC 3339
   with a time zone). ``uri`` formats are *not* checked by the schema layer: every string
   with a colon would pass anyway, and the places where a URI matters are covered by the
   second layer with more precise codes.
2. **Vocabulary and namespaces** (the CBV rules the schema cannot express): a business step,
   disposition, business transaction type, source/destination type, error reason or sensor
   component must be a standard CBV term, written bare in JSON, or a URI in the sender's
   own namespace; ILMD fields and user extension fields must be namespaced (``prefix:name``
   with the prefix declared in ``@context``, or a full URI); the event type must be one of
   the five EPCIS event types or a namespaced extension type.

Where both layers flag the same location, only the more precise vocabulary error is kept.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final

import fastjsonschema
from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from medledger.core.errors import FieldError, ValidationFailed
from medledger.trace.epcis.document import LocatedEvent, locate_events
from medledger.trace.epcis.namespaces import KeyForm, classify_key, collect_namespaces, expand_curie
from medledger.trace.epcis.timestamps import is_timestamp
from medledger.trace.epcis.vocabulary import (
    BIZ_STEP,
    BIZ_TRANSACTION_TYPE,
    DISPOSITION,
    ERROR_REASON,
    EVENT_TYPES,
    SENSOR_COMPONENT,
    SOURCE_DESTINATION_TYPE,
    CbvVocabulary,
    is_bare_word,
)
from medledger.trace.errors import Code

SCHEMA_RESOURCE: Final = "schema/epcis-json-schema.json"
QUERY_SCHEMA_RESOURCE: Final = "schema/query-schema.json"


class ErrorCode:
    """Stable error codes of EPCIS validation (their home is ``trace/errors.py``)."""

    SCHEMA: Final = Code.SCHEMA
    INVALID_EVENT_TYPE: Final = Code.INVALID_EVENT_TYPE
    UNKNOWN_BIZ_STEP: Final = Code.UNKNOWN_BIZ_STEP
    UNKNOWN_DISPOSITION: Final = Code.UNKNOWN_DISPOSITION
    UNKNOWN_BIZ_TRANSACTION_TYPE: Final = Code.UNKNOWN_BIZ_TRANSACTION_TYPE
    UNKNOWN_SOURCE_DESTINATION_TYPE: Final = Code.UNKNOWN_SOURCE_DESTINATION_TYPE
    UNKNOWN_ERROR_REASON: Final = Code.UNKNOWN_ERROR_REASON
    UNKNOWN_SENSOR_COMPONENT: Final = Code.UNKNOWN_SENSOR_COMPONENT
    CBV_VALUE_NOT_BARE: Final = Code.CBV_VALUE_NOT_BARE
    UNDECLARED_NAMESPACE_PREFIX: Final = Code.UNDECLARED_NAMESPACE_PREFIX
    ILMD_FIELD_WITHOUT_NAMESPACE: Final = Code.ILMD_FIELD_WITHOUT_NAMESPACE
    EXTENSION_WITHOUT_NAMESPACE: Final = Code.EXTENSION_WITHOUT_NAMESPACE


@dataclass(frozen=True)
class EventError:
    """One validation problem.

    ``event_index`` is the position of the event in the document's event list (``None``
    for document-level problems), ``event_id`` its ``eventID`` if it has one, and
    ``pointer`` an RFC 6901 JSON pointer to the offending value in the validated payload
    (``/epcisBody/eventList/1/bizStep``; ``""`` is the whole payload).
    """

    event_index: int | None
    event_id: str | None
    pointer: str
    code: str
    message: str

    @property
    def field(self) -> str:
        """The pointer as a dotted path (``epcisBody.eventList.1.bizStep``) for FieldError."""
        return ".".join(
            part.replace("~1", "/").replace("~0", "~") for part in self.pointer.split("/")[1:]
        )


# --- schema layer -------------------------------------------------------------------------


def _load_schema(resource: str) -> dict[str, Any]:
    text = resources.files("medledger.trace.epcis").joinpath(resource).read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def epcis_json_schema() -> dict[str, Any]:
    """The EPCIS 2.0.1 JSON schema shipped with the package (a GS1 artefact)."""
    return _load_schema(SCHEMA_RESOURCE)


@cache
def epcis_query_schema() -> dict[str, Any]:
    """The EPCIS 2.0 query-language JSON schema shipped with the package (a GS1 artefact)."""
    return _load_schema(QUERY_SCHEMA_RESOURCE)


@cache
def _query_validator() -> Draft7Validator:
    schema = epcis_query_schema()
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema, format_checker=_format_checker())


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    checker.checks("date-time")(is_timestamp)
    return checker


@cache
def _document_validator() -> Draft7Validator:
    schema = epcis_json_schema()
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema, format_checker=_format_checker())


@cache
def _event_validator() -> Draft7Validator:
    # An event inside a document: the same definitions, without the root's demand for an
    # @context (the document carries it).
    root = epcis_json_schema()
    schema = {
        "$schema": root["$schema"],
        "$id": root["$id"].replace(".json", "-event.json"),
        "allOf": [{"$ref": "#/definitions/EPCIS-Document-Event"}],
        "definitions": root["definitions"],
    }
    return Draft7Validator(schema, format_checker=_format_checker())


# --- compiled fast path -------------------------------------------------------------------
#
# The jsonschema validator above explains *every* problem, but walks the schema generically:
# about 1 ms per event. Capture throughput needs a quick yes/no for the common case, a valid
# document. ``fastjsonschema`` compiles the same schema to Python code (fail-fast, no error
# list); when it says yes the document is schema-valid, and when it says no the full
# validator runs to produce the exact, complete error list. So the fast path may only ever
# be *stricter* than the full one, never more lenient; tests check it on every OpenEPCIS
# vector. Two equivalence-preserving rewrites make the compiled code cheaper:
#
# * ``format: uri`` is dropped: the full validator does not check it either (module doc);
# * a ``propertyNames`` that accepts every string is dropped: with ``uri`` unchecked,
#   ``vocab-uri`` is any string, so the "standard name or vocab-uri" rules are vacuous.
#
# Events are checked one by one against their own type's definition (the document is checked
# with its event list entries reduced to "an object"): for an object whose ``type`` is one of
# the five standard types, ``EPCIS-Document-Event`` is exactly that type's definition.

_FastCheck = Callable[[Any], Any]
_EVENT_DEFINITION: Final = "EPCIS-Document-Event"
_STANDARD_EVENT_TYPES: Final = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)


def _strip_uri_formats(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("format") == "uri":
            del node["format"]
        for value in node.values():
            _strip_uri_formats(value)
    elif isinstance(node, list):
        for value in node:
            _strip_uri_formats(value)


def _accepts_every_string(node: Any, definitions: Mapping[str, Any], seen: frozenset[str]) -> bool:
    if node is True or node == {}:
        return True
    if not isinstance(node, dict):
        return False
    if set(node) == {"$ref"} and node["$ref"].startswith("#/definitions/"):
        name = node["$ref"].removeprefix("#/definitions/")
        return name not in seen and _accepts_every_string(
            definitions.get(name), definitions, seen | {name}
        )
    if set(node) == {"anyOf"}:
        return any(_accepts_every_string(branch, definitions, seen) for branch in node["anyOf"])
    return node == {"type": "string"}


def _drop_vacuous_property_names(node: Any, definitions: Mapping[str, Any]) -> None:
    if isinstance(node, dict):
        if "propertyNames" in node and _accepts_every_string(
            node["propertyNames"], definitions, frozenset()
        ):
            del node["propertyNames"]
        for value in node.values():
            _drop_vacuous_property_names(value, definitions)
    elif isinstance(node, list):
        for value in node:
            _drop_vacuous_property_names(value, definitions)


def _no_remote_schemas(uri: str) -> Any:
    raise ValueError(f"remote schema {uri} is not loaded")


# The generated code passes every nested validator a readable name of the value it checks
# (``data.epcList[3]``), built eagerly with ``str.format(**locals())`` for each array item
# even when the data is valid: about half of the check's time. The name only appears in
# exception messages, which the fast path never reads, so every name expression is replaced
# by a constant at compile time. Only string expressions change, never a condition.
_NAME_EXPRESSION: Final = re.compile(
    r'\(name_prefix or "data"\) \+ "(?:[^"\\]|\\.)*"(?:\.format\(\*\*locals\(\)\))?'
)
_FORMATS: Final = {"date-time": is_timestamp}


def _without_value_names(source: str) -> str:
    """``source`` with every value-name expression replaced by ``"data"`` (see above)."""
    rewritten = _NAME_EXPRESSION.sub('"data"', source)
    if "locals()" in rewritten or "name_prefix or" in rewritten:
        # fastjsonschema changed how it writes names: fail loudly rather than half-rewrite.
        raise RuntimeError("unexpected value-name expression in the compiled schema check")
    return rewritten


def _compile(schema: dict[str, Any]) -> _FastCheck:
    source = fastjsonschema.compile_to_code(
        schema,
        handlers={"http": _no_remote_schemas, "https": _no_remote_schemas},
        formats=_FORMATS,
        use_default=False,
        # A yes/no is all the fast path needs: no schema excerpt built into each exception
        # (anyOf branches raise and catch them all the time).
        detailed_exceptions=False,
    )
    namespace: dict[str, Any] = {}
    exec(compile(_without_value_names(source), "<epcis fast schema check>", "exec"), namespace)
    # The entry point is the first function the generated module defines (the root scope).
    entry = source[source.index("\ndef ") + 5 :].split("(", 1)[0]
    check = namespace[entry]
    return lambda instance: check(instance, _FORMATS)


@cache
def _fast_schema() -> dict[str, Any]:
    schema = copy.deepcopy(epcis_json_schema())
    _strip_uri_formats(schema)
    definitions = copy.deepcopy(schema["definitions"])
    _drop_vacuous_property_names(schema, definitions)
    return schema


def _fast_definition(name: str) -> dict[str, Any]:
    root = _fast_schema()
    return {
        "$schema": root["$schema"],
        "$id": root["$id"],
        "allOf": [{"$ref": f"#/definitions/{name}"}],
        "definitions": root["definitions"],
    }


@cache
def _fast_checks() -> tuple[_FastCheck, _FastCheck, _FastCheck, dict[str, _FastCheck]]:
    """(whole payload, document skeleton, any event, event by standard type)."""
    root = _fast_schema()
    skeleton = {
        **root,
        "definitions": {**root["definitions"], _EVENT_DEFINITION: {"type": "object"}},
    }
    by_type = {name: _compile(_fast_definition(name)) for name in _STANDARD_EVENT_TYPES}
    return (
        _compile(root),
        _compile(skeleton),
        _compile(_fast_definition(_EVENT_DEFINITION)),
        by_type,
    )


def prepare_validators() -> None:
    """Compile the schema validators now (about a second) rather than on the first capture."""
    _fast_checks()
    _document_validator()
    _event_validator()


def fast_event_valid(event: Any) -> bool:
    _, _, any_event, by_type = _fast_checks()
    kind = event.get("type") if isinstance(event, dict) else None
    check = by_type.get(kind, any_event) if isinstance(kind, str) else any_event
    try:
        check(event)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def fast_skeleton_valid(doc: Any) -> bool:
    """True when a document apart from its events surely satisfies the schema (compiled
    check); :func:`schema_valid_fast` is this plus :func:`fast_event_valid` of each event."""
    _, skeleton, _, _ = _fast_checks()
    try:
        skeleton(doc)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def document_event_lists(doc: Mapping[str, Any]) -> list[Any]:
    body = doc.get("epcisBody")
    if not isinstance(body, Mapping):
        return []
    lists = [body.get("eventList")]
    results = body.get("queryResults")
    if isinstance(results, Mapping) and isinstance(results.get("resultsBody"), Mapping):
        lists.append(results["resultsBody"].get("eventList"))
    return [events for events in lists if isinstance(events, list)]


def schema_valid_fast(doc: Any) -> bool:
    """True when the payload surely satisfies the EPCIS 2.0.1 JSON schema (compiled check).

    False means "run the full validator": the compiled check is never more lenient than the
    full one, but may be stricter on exotic input (see the comment above).
    """
    whole, skeleton, _, _ = _fast_checks()
    try:
        if not isinstance(doc, dict) or doc.get("type") not in (
            "EPCISDocument",
            "EPCISQueryDocument",
        ):
            whole(doc)
            return True
        skeleton(doc)
    except fastjsonschema.JsonSchemaException:
        return False
    return all(fast_event_valid(event) for events in document_event_lists(doc) for event in events)


_REQUIRED_MESSAGE = re.compile(r"^'(.+)' is a required property$")
_UNEXPECTED_MESSAGE = re.compile(
    r"^(?:'(.+)' does not match any of the regexes|"
    r"Additional properties are not allowed \('(.+)' was unexpected\))"
)
_MAX_MESSAGE = 300


def _pointer(parts: Iterator[Any] | list[Any]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _schema_error_location(error: ValidationError) -> tuple[list[Any], str]:
    path = list(error.absolute_path)
    schema_path = list(error.relative_schema_path)
    if "propertyNames" in schema_path and isinstance(error.instance, str):
        # propertyNames errors are reported on the object; point at the offending key.
        path.append(error.instance)
        return path, f"{error.instance!r} is not an allowed field name here"
    if error.validator == "required":
        match = _REQUIRED_MESSAGE.match(error.message)
        if match:
            path.append(match.group(1))
            return path, f"{match.group(1)!r} is required"
    if error.validator == "additionalProperties":
        match = _UNEXPECTED_MESSAGE.match(error.message)
        if match:
            name = match.group(1) or match.group(2)
            path.append(name)
            return path, f"{name!r} is not an allowed field here"
    if error.validator in ("anyOf", "oneOf"):
        sub_errors = list(error.context or ())
        branches: dict[Any, list[str]] = {}
        for sub in sub_errors:
            match = _REQUIRED_MESSAGE.match(sub.message) if sub.validator == "required" else None
            if match is None:
                break
            branch = sub.relative_schema_path[0] if sub.relative_schema_path else None
            branches.setdefault(branch, []).append(repr(match.group(1)))
        else:
            if branches:
                alternatives = " or ".join(" with ".join(names) for names in branches.values())
                return path, f"{alternatives} is required"
        # The deepest failure usually names the offending value best.
        hint = max(sub_errors, key=lambda sub: len(sub.relative_path), default=None)
        detail = f" ({_brief(hint)})" if hint is not None else ""
        return path, f"{_short(error.instance)} does not match any of the allowed forms{detail}"
    return path, _truncate(error.message, _MAX_MESSAGE)


def _brief(error: ValidationError) -> str:
    where = _pointer(list(error.relative_path))
    prefix = f"at {where}: " if where else ""
    if error.validator == "type":
        return f"{prefix}{_short(error.instance)} is not of type {error.validator_value!r}"
    return prefix + _truncate(error.message, 120)


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _short(value: Any) -> str:
    if isinstance(value, Mapping):
        return "the object" if "type" not in value else f"the {value.get('type')!s} object"
    if isinstance(value, list):
        return "the list"
    text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"


def _event_index_of(path: list[Any]) -> int | None:
    for position, part in enumerate(path[:-1]):
        if part == "eventList" and isinstance(path[position + 1], int):
            return int(path[position + 1])
    return None


# --- vocabulary and namespace layer -------------------------------------------------------

_COMMON_FIELDS: Final = frozenset(
    {
        "@context",
        "type",
        "eventTime",
        "recordTime",
        "eventTimeZoneOffset",
        "eventID",
        "certificationInfo",
        "errorDeclaration",
    }
)
_WHAT_WHERE_WHY: Final = frozenset(
    {
        "bizStep",
        "disposition",
        "persistentDisposition",
        "readPoint",
        "bizLocation",
        "bizTransactionList",
        "sourceList",
        "destinationList",
        "sensorElementList",
    }
)
EVENT_FIELDS: Final[Mapping[str, frozenset[str]]] = {
    "ObjectEvent": _COMMON_FIELDS | _WHAT_WHERE_WHY | {"action", "epcList", "quantityList", "ilmd"},
    "AggregationEvent": _COMMON_FIELDS
    | _WHAT_WHERE_WHY
    | {"action", "parentID", "childEPCs", "childQuantityList"},
    "AssociationEvent": _COMMON_FIELDS
    | _WHAT_WHERE_WHY
    | {"action", "parentID", "childEPCs", "childQuantityList"},
    "TransactionEvent": _COMMON_FIELDS
    | _WHAT_WHERE_WHY
    | {"action", "parentID", "epcList", "quantityList"},
    "TransformationEvent": _COMMON_FIELDS
    | _WHAT_WHERE_WHY
    | {
        "inputEPCList",
        "inputQuantityList",
        "outputEPCList",
        "outputQuantityList",
        "transformationID",
        "ilmd",
    },
}
"""The standard fields of each event type; any other field is a user extension."""

ALL_EVENT_FIELDS: Final = frozenset().union(*EVENT_FIELDS.values())
"""Every field that is standard in some event type."""
_LOCATION_FIELDS: Final = frozenset({"id"})
_SENSOR_ELEMENT_FIELDS: Final = frozenset({"sensorMetadata", "sensorReport"})
_SENSOR_METADATA_FIELDS: Final = frozenset(
    {
        "time",
        "startTime",
        "endTime",
        "deviceID",
        "deviceMetadata",
        "rawData",
        "dataProcessingMethod",
        "bizRules",
    }
)
_SENSOR_REPORT_FIELDS: Final = frozenset(
    {
        "type",
        "exception",
        "deviceID",
        "deviceMetadata",
        "rawData",
        "dataProcessingMethod",
        "bizRules",
        "time",
        "microorganism",
        "chemicalSubstance",
        "coordinateReferenceSystem",
        "value",
        "component",
        "stringValue",
        "booleanValue",
        "hexBinaryValue",
        "uriValue",
        "minValue",
        "maxValue",
        "meanValue",
        "sDev",
        "percRank",
        "percValue",
        "uom",
    }
)
_ERROR_DECLARATION_FIELDS: Final = frozenset({"declarationTime", "reason", "correctiveEventIDs"})

_VOCABULARY_CODES: Final[Mapping[str, str]] = {
    BIZ_STEP.key: ErrorCode.UNKNOWN_BIZ_STEP,
    DISPOSITION.key: ErrorCode.UNKNOWN_DISPOSITION,
    BIZ_TRANSACTION_TYPE.key: ErrorCode.UNKNOWN_BIZ_TRANSACTION_TYPE,
    SOURCE_DESTINATION_TYPE.key: ErrorCode.UNKNOWN_SOURCE_DESTINATION_TYPE,
    ERROR_REASON.key: ErrorCode.UNKNOWN_ERROR_REASON,
    SENSOR_COMPONENT.key: ErrorCode.UNKNOWN_SENSOR_COMPONENT,
}
_NON_BARE_PREFIXES: Final = re.compile(r"^(urn:epcglobal:cbv:|https?://ns\.gs1\.org/cbv/)", re.I)


@dataclass(frozen=True)
class _Problem:
    pointer: str
    code: str
    message: str


class _EventChecker:
    """The CBV and namespace rules for one event."""

    def __init__(
        self, base: str, namespaces: Mapping[str, str], findings: dict[Any, _Findings]
    ) -> None:
        self.base = base
        self.namespaces = namespaces
        self.findings = findings
        self.problems: list[_Problem] = []

    def report(self, path: list[Any], code: str, message: str) -> None:
        self.problems.append(_Problem(self.base + _pointer(path), code, message))

    def check(self, event: Mapping[str, Any]) -> list[_Problem]:
        event_type = event.get("type")
        allowed = ALL_EVENT_FIELDS
        if isinstance(event_type, str):
            if event_type in EVENT_TYPES:
                allowed = EVENT_FIELDS[event_type]
            elif classify_key(event_type, self.namespaces) not in (
                KeyForm.CURIE,
                KeyForm.ABSOLUTE_URI,
            ):
                self.report(
                    ["type"],
                    ErrorCode.INVALID_EVENT_TYPE,
                    f"{event_type!r} is not an EPCIS event type (ObjectEvent, "
                    "AggregationEvent, TransactionEvent, TransformationEvent, "
                    "AssociationEvent) nor a namespaced extension event type",
                )
        self.extension_keys(event, [], allowed, ErrorCode.EXTENSION_WITHOUT_NAMESPACE)
        self.vocabulary(event, ["bizStep"], BIZ_STEP)
        self.vocabulary(event, ["disposition"], DISPOSITION)
        persistent = event.get("persistentDisposition")
        if isinstance(persistent, Mapping):
            for key in ("set", "unset"):
                values = persistent.get(key)
                if isinstance(values, list):
                    for position in range(len(values)):
                        path = ["persistentDisposition", key, position]
                        self.vocabulary(values, path, DISPOSITION)
        for list_key, vocabulary in (
            ("bizTransactionList", BIZ_TRANSACTION_TYPE),
            ("sourceList", SOURCE_DESTINATION_TYPE),
            ("destinationList", SOURCE_DESTINATION_TYPE),
        ):
            for position, item in _objects(event.get(list_key)):
                self.vocabulary(item, [list_key, position, "type"], vocabulary)
        for key in ("readPoint", "bizLocation"):
            location = event.get(key)
            if isinstance(location, Mapping):
                self.extension_keys(
                    location, [key], _LOCATION_FIELDS, ErrorCode.EXTENSION_WITHOUT_NAMESPACE
                )
        declaration = event.get("errorDeclaration")
        if isinstance(declaration, Mapping):
            self.vocabulary(declaration, ["errorDeclaration", "reason"], ERROR_REASON)
            self.extension_keys(
                declaration,
                ["errorDeclaration"],
                _ERROR_DECLARATION_FIELDS,
                ErrorCode.EXTENSION_WITHOUT_NAMESPACE,
            )
        self.sensor_elements(event.get("sensorElementList"))
        ilmd = event.get("ilmd")
        if isinstance(ilmd, Mapping):
            self.extension_keys(ilmd, ["ilmd"], frozenset(), ErrorCode.ILMD_FIELD_WITHOUT_NAMESPACE)
        return self.problems

    def sensor_elements(self, elements: Any) -> None:
        for position, element in _objects(elements):
            path: list[Any] = ["sensorElementList", position]
            self.extension_keys(
                element, path, _SENSOR_ELEMENT_FIELDS, ErrorCode.EXTENSION_WITHOUT_NAMESPACE
            )
            metadata = element.get("sensorMetadata")
            if isinstance(metadata, Mapping):
                self.extension_keys(
                    metadata,
                    [*path, "sensorMetadata"],
                    _SENSOR_METADATA_FIELDS,
                    ErrorCode.EXTENSION_WITHOUT_NAMESPACE,
                )
            for report_position, report in _objects(element.get("sensorReport")):
                report_path = [*path, "sensorReport", report_position]
                self.extension_keys(
                    report,
                    report_path,
                    _SENSOR_REPORT_FIELDS,
                    ErrorCode.EXTENSION_WITHOUT_NAMESPACE,
                )
                self.vocabulary(report, [*report_path, "component"], SENSOR_COMPONENT)

    def vocabulary(self, holder: Any, path: list[Any], vocabulary: CbvVocabulary) -> None:
        """Check the value at ``holder[path[-1]]`` against a CBV vocabulary."""
        key = path[-1]
        try:
            value = holder[key]
        except (KeyError, IndexError, TypeError):
            return
        if not isinstance(value, str):
            return  # the schema reports the wrong type
        self.report_findings(
            path,
            (vocabulary.key, value),
            lambda: _vocabulary_findings(value, vocabulary, self.namespaces),
        )

    def extension_keys(
        self, holder: Mapping[str, Any], path: list[Any], standard: frozenset[str], bare_code: str
    ) -> None:
        """Every key of ``holder`` that is not a standard field must be namespaced.

        Only the top level is checked: keys nested inside an extension value belong to the
        extension's own structure (the OpenEPCIS valid documents use bare nested keys).
        """
        for key in holder:
            if key not in standard:
                self.namespaced_key(key, [*path, key], bare_code)

    def namespaced_key(self, key: str, path: list[Any], bare_code: str) -> None:
        self.report_findings(
            path, (bare_code, key), lambda: _key_findings(key, bare_code, self.namespaces)
        )

    def report_findings(
        self, path: list[Any], memo_key: Any, compute: Callable[[], _Findings]
    ) -> None:
        """Report the findings remembered under ``memo_key`` (computed on first use)."""
        findings = self.findings.get(memo_key)
        if findings is None:
            findings = _remember(self.findings, memo_key, compute())
        for code, message in findings:
            self.report(path, code, message)


# A document repeats its business steps, dispositions, party types and extension field names
# in every event: what the rules say about a value or key depends only on it and on the
# namespace map, so the findings are memoised per namespace map (see _findings_for).
_Findings = tuple[tuple[str, str], ...]
_FINDINGS_LIMIT: Final = 4096


def _vocabulary_findings(
    value: str, vocabulary: CbvVocabulary, namespaces: Mapping[str, str]
) -> _Findings:
    """(code, message) of each problem with ``value`` as a term of ``vocabulary``."""
    code = _VOCABULARY_CODES[vocabulary.key]
    expanded = expand_curie(value, namespaces)
    name = vocabulary.cbv_name(expanded)
    if is_bare_word(value):
        if value not in vocabulary.terms:
            return (
                (
                    code,
                    f"{value!r} is not a standard CBV {vocabulary.label}; a non-standard "
                    "value must be a URI in the sender's own namespace",
                ),
            )
    elif name is not None:
        if name not in vocabulary.terms:
            return (
                (
                    code,
                    f"{value!r} is in the CBV namespace but {name!r} is not a standard CBV "
                    f"{vocabulary.label}",
                ),
            )
        if _NON_BARE_PREFIXES.match(value):
            return (
                (
                    ErrorCode.CBV_VALUE_NOT_BARE,
                    f"In EPCIS JSON the standard CBV {vocabulary.label} {value!r} is written "
                    f"as the bare name {name!r}",
                ),
            )
    return ()


def _key_findings(key: str, bare_code: str, namespaces: Mapping[str, str]) -> _Findings:
    """(code, message) of each problem with ``key`` as a non-standard field name."""
    form = classify_key(key, namespaces)
    if form is KeyForm.BARE:
        where = (
            "an ILMD field"
            if bare_code == ErrorCode.ILMD_FIELD_WITHOUT_NAMESPACE
            else ("a user extension field")
        )
        return (
            (
                bare_code,
                f"{key!r} is not a standard field; as {where} it needs a namespace "
                "(prefix:name with the prefix declared in @context, or a full URI)",
            ),
        )
    if form is KeyForm.UNDECLARED_PREFIX:
        return (
            (
                ErrorCode.UNDECLARED_NAMESPACE_PREFIX,
                f"The prefix of {key!r} is not declared in the @context",
            ),
        )
    return ()


def _remember(memo: dict[Any, _Findings], key: Any, findings: _Findings) -> _Findings:
    if len(memo) >= _FINDINGS_LIMIT:
        memo.clear()
    memo[key] = findings
    return findings


_last_findings: tuple[Mapping[str, str], dict[Any, _Findings]] | None = None


def _findings_for(namespaces: Mapping[str, str]) -> dict[Any, _Findings]:
    """The findings memo for one namespace map (object identity: ``namespaces_of`` hands out
    one map for a run of equal contexts, and the memo keeps it alive)."""
    global _last_findings
    last = _last_findings
    if last is not None and last[0] is namespaces:
        return last[1]
    memo: dict[Any, _Findings] = {}
    _last_findings = (namespaces, memo)
    return memo


def _objects(items: Any) -> Iterator[tuple[int, Mapping[str, Any]]]:
    if isinstance(items, list):
        for position, item in enumerate(items):
            if isinstance(item, Mapping):
                yield position, item


# The last few (contexts, namespace map) answers, newest first.
_recent_namespaces: list[tuple[tuple[Any, ...], Mapping[str, str]]] = []
_RECENT_NAMESPACES = 4


def namespaces_of(*contexts: Any) -> Mapping[str, str]:
    """``collect_namespaces(*contexts)``, computed once for a run of equal contexts.

    Every event of a document carries the same ``@context``, so the last few answers are
    kept, each with a private copy of its contexts (a caller changing its own afterwards does
    not matter); a few, because capture may check and normalise event by event. The map is
    shared: read it, never change it.
    """
    recent = _recent_namespaces
    for known, namespaces in recent:
        if known == contexts:
            return namespaces
    namespaces = collect_namespaces(*contexts)
    recent.insert(0, (copy.deepcopy(contexts), namespaces))
    del recent[_RECENT_NAMESPACES:]
    return namespaces


def event_problems(event: Mapping[str, Any], base: str) -> list[_Problem]:
    namespaces = namespaces_of(event.get("@context"))
    return _EventChecker(base, namespaces, _findings_for(namespaces)).check(event)


# --- public API ---------------------------------------------------------------------------


def validate_document(doc: Any, located: Sequence[LocatedEvent] | None = None) -> list[EventError]:
    """Validate an EPCIS 2.0 JSON payload: a capture or query document, or a single event.

    Returns every problem found (an empty list means the payload is valid), ordered by
    event and position. Schema errors are attributed to the event they occur in; errors
    outside any event (a missing ``@context``, a bad header) have ``event_index=None``.
    ``located`` is ``locate_events(doc)`` when the caller has it already (capture does).
    """
    if not isinstance(doc, Mapping):
        return [EventError(None, None, "", ErrorCode.SCHEMA, "An EPCIS payload is a JSON object")]
    if located is None:
        located = locate_events(doc)
    ids = {item.index: _event_id(item.event) for item in located}
    errors: list[EventError] = []
    semantic_pointers: set[str] = set()
    for item in located:
        for problem in event_problems(item.event, item.pointer):
            semantic_pointers.add(problem.pointer)
            error = EventError(
                item.index, ids[item.index], problem.pointer, problem.code, problem.message
            )
            errors.append(error)
    single = located[0].pointer == "" if located else False
    schema_errors = [] if schema_valid_fast(doc) else _schema_errors(_document_validator(), doc)
    for pointer, message, path in schema_errors:
        if pointer in semantic_pointers:
            continue
        index = 0 if single else _event_index_of(path)
        event_id = ids.get(index) if index is not None else None
        errors.append(EventError(index, event_id, pointer, ErrorCode.SCHEMA, message))
    return _sorted_unique(errors)


def validate_event(event: Any, index: int | None = None) -> list[EventError]:
    """Validate one event on its own, as it would appear in a document's event list.

    Namespace prefixes resolve against the event's own ``@context`` (events returned by
    ``iter_document_events`` carry the document's). Pointers are relative to the event;
    ``index`` is copied into every error so that callers can report positions.
    """
    if not isinstance(event, Mapping):
        return [EventError(index, None, "", ErrorCode.SCHEMA, "An EPCIS event is a JSON object")]
    event_id = _event_id(event)
    errors: list[EventError] = []
    semantic_pointers: set[str] = set()
    for problem in event_problems(event, ""):
        semantic_pointers.add(problem.pointer)
        errors.append(EventError(index, event_id, problem.pointer, problem.code, problem.message))
    schema_errors = [] if fast_event_valid(event) else _schema_errors(_event_validator(), event)
    for pointer, message, _path in schema_errors:
        if pointer not in semantic_pointers:
            errors.append(EventError(index, event_id, pointer, ErrorCode.SCHEMA, message))
    return _sorted_unique(errors)


def _schema_errors(validator: Draft7Validator, instance: Any) -> list[tuple[str, str, list[Any]]]:
    """Schema errors as (pointer, message, path), without redundant ``anyOf`` reports.

    When one branch of an ``anyOf`` fails only because of a value that is reported on its
    own (an invalid ``action`` also fails the ``action``/``ilmd`` combination rule), the
    ``anyOf`` error adds nothing and is dropped.
    """
    raw = list(validator.iter_errors(instance))
    located = [(error, *_schema_error_location(error)) for error in raw]
    reported = {
        _pointer(path) for error, path, _ in located if error.validator not in ("anyOf", "oneOf")
    }
    results: list[tuple[str, str, list[Any]]] = []
    for error, path, message in located:
        if error.validator in ("anyOf", "oneOf") and any(
            sub.relative_path and _pointer(list(sub.absolute_path)) in reported
            for sub in error.context or ()
        ):
            continue
        results.append((_pointer(path), message, path))
    return results


def _event_id(event: Mapping[str, Any]) -> str | None:
    value = event.get("eventID")
    return value if isinstance(value, str) else None


def _sorted_unique(errors: list[EventError]) -> list[EventError]:
    unique = list(dict.fromkeys(errors))
    return sorted(
        unique,
        key=lambda error: (
            -1 if error.event_index is None else error.event_index,
            error.pointer,
            error.code,
        ),
    )


def validate_query(query: Any) -> list[EventError]:
    """Validate an EPCIS 2.0 query definition (``SimpleEventQuery`` parameters) by its schema.

    Errors have ``event_index=None`` and code ``epcis.schema``; pointers are into the query.
    """
    errors = [
        EventError(None, None, pointer, ErrorCode.SCHEMA, message)
        for pointer, message, _path in _schema_errors(_query_validator(), query)
    ]
    return _sorted_unique(errors)


def validation_failed(errors: list[EventError]) -> ValidationFailed:
    """The domain error (HTTP 422, code ``epcis.invalid_document``) carrying ``errors``.

    Each :class:`EventError` becomes a field-level error whose field is its dotted path and
    whose params hold the event index and ID, for the RFC 9457 problem document.
    """
    return ValidationFailed(
        "The EPCIS document is not valid",
        code=Code.INVALID_DOCUMENT,
        errors=[
            FieldError(
                field=error.field,
                code=error.code,
                message=error.message,
                params={"event_index": error.event_index, "event_id": error.event_id},
            )
            for error in errors
        ],
    )
