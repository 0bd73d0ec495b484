"""The query parameters of EPCIS 2.0 §8.2.7.1 that look inside the stored event document.

They are applied to each candidate event after the SQL conditions of ``trace.query`` (the
indexed fields), by :func:`document_filter`. Several values of one parameter are OR-ed;
different parameters are AND-ed.

* error declarations: ``EXISTS_errorDeclaration``, ``GE_/LT_errorDeclarationTime``,
  ``EQ_errorReason`` (CBV term, bare or URI), ``EQ_correctiveEventID``;
* ``EQ_persistentDisposition_set`` / ``_unset`` (CBV dispositions);
* ``EQ_/GT_/GE_/LT_/LE_quantity``: some quantity element of the event (any of its quantity
  lists) compares so;
* sensor data: ``GE_/LT_startTime``, ``GE_/LT_endTime`` (sensor metadata or report),
  ``EQ_type`` (measurement type: ``Temperature``, ``gs1:Temperature`` and the gs1.org/voc URI
  are one), ``EQ_deviceID``, ``EQ_dataProcessingMethod``, ``EQ_microorganism``,
  ``EQ_chemicalSubstance``, ``EQ_bizRules``, ``EQ_stringValue``, ``EQ_hexBinaryValue`` (case
  ignored), ``EQ_uriValue``, ``EQ_booleanValue``;
* ILMD and user extension fields: ``EQ_ILMD_<field>``, ``EXISTS_ILMD_<field>``,
  ``GT_/GE_/LT_/LE_ILMD_<field>``, ``EQ_INNER_ILMD_<field>`` / ``EXISTS_INNER_ILMD_<field>``
  (at any depth), and the same without ``ILMD_`` for top-level extension fields of the event.
  ``<field>`` is namespaced: a CURIE whose prefix the event's ``@context`` declares
  (``example:lotSize``), or the full IRI (``https://ns.example.com/epcis/lotSize``); either
  matches the field however the event wrote it. Comparisons are numeric when both sides are
  numbers, by instant when both are date-times, else a 400 ``QueryParameterException``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, Final

from medledger.trace.epcis.namespaces import collect_namespaces, expand_curie
from medledger.trace.epcis.normalise import stored_identifier
from medledger.trace.epcis.timestamps import to_utc
from medledger.trace.epcis.vocabulary import (
    DISPOSITION,
    ERROR_REASON,
    UnknownVocabularyTerm,
    normalise_term,
)

Matcher = Callable[[dict[str, Any]], bool]

CONTROL_PARAMETERS: Final = frozenset(
    {"perPage", "nextPageToken", "orderBy", "orderDirection", "eventCountLimit", "maxEventCount"}
)
_SENSOR_EQUALS: Final = {
    "EQ_deviceID": ("deviceID", True),
    "EQ_dataProcessingMethod": ("dataProcessingMethod", True),
    "EQ_microorganism": ("microorganism", False),
    "EQ_chemicalSubstance": ("chemicalSubstance", False),
    "EQ_bizRules": ("bizRules", True),
    "EQ_stringValue": ("stringValue", False),
    "EQ_uriValue": ("uriValue", False),
}
DOCUMENT_PARAMETERS: Final = frozenset(
    {
        "EXISTS_errorDeclaration",
        "GE_errorDeclarationTime",
        "LT_errorDeclarationTime",
        "EQ_errorReason",
        "EQ_correctiveEventID",
        "EQ_persistentDisposition_set",
        "EQ_persistentDisposition_unset",
        "EQ_quantity",
        "GT_quantity",
        "GE_quantity",
        "LT_quantity",
        "LE_quantity",
        "GE_startTime",
        "LT_startTime",
        "GE_endTime",
        "LT_endTime",
        "EQ_type",
        "EQ_hexBinaryValue",
        "EQ_booleanValue",
        *_SENSOR_EQUALS,
    }
)
_FIELD_OPERATORS: Final = (
    "EQ_INNER_",
    "EXISTS_INNER_",
    "EXISTS_",
    "EQ_",
    "GT_",
    "GE_",
    "LT_",
    "LE_",
)
_UNSUPPORTED_FIELD_KINDS: Final = ("SENSORELEMENT_", "SENSORMETADATA_", "SENSORREPORT_", "ATTR_")
_GS1_VOC: Final = "https://gs1.org/voc/"


def field_parameter(name: str) -> tuple[str, bool, str] | None:
    """(operator, ILMD?, field) of an ILMD or extension-field parameter, else None."""
    for operator in _FIELD_OPERATORS:
        if name.startswith(operator):
            rest = name[len(operator) :]
            ilmd = rest.startswith("ILMD_")
            field = rest[len("ILMD_") :] if ilmd else rest
            if any(field.startswith(k) for k in _UNSUPPORTED_FIELD_KINDS):
                return None
            if ":" in field:
                return operator.rstrip("_"), ilmd, field
            return None
    return None


def is_document_parameter(name: str) -> bool:
    return name in DOCUMENT_PARAMETERS or field_parameter(name) is not None


def _error(name: str, message: str, **params: Any) -> Exception:
    from medledger.trace.query import invalid_parameter

    return invalid_parameter(name, message, **params)


def _number(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise _error(name, "{value} is not a number", value=value) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise _error(name, "{value} is not a number", value=value)
    return number


def _moment(name: str, value: str) -> datetime:
    try:
        return to_utc(value)
    except (ValueError, TypeError):
        raise _error(name, "{value} is not a date-time with a time zone", value=value) from None


def _as_moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return to_utc(value)
    except (ValueError, TypeError):
        return None


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _quantities(event: dict[str, Any]) -> Iterator[float]:
    for name in ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"):
        for element in event.get(name) or []:
            if isinstance(element, dict):
                number = _as_number(element.get("quantity"))
                if number is not None:
                    yield number


def _sensor_parts(event: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """("metadata" | "report", the object) of every sensor element of the event."""
    for element in event.get("sensorElementList") or []:
        if not isinstance(element, dict):
            continue
        if isinstance(element.get("sensorMetadata"), dict):
            yield "metadata", element["sensorMetadata"]
        for report in element.get("sensorReport") or []:
            if isinstance(report, dict):
                yield "report", report


def _measurement(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    for prefix in ("gs1:", _GS1_VOC):
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def _compare(operator: str, have: Any, want: str, name: str) -> bool:
    """``have`` (a value of the event) compared with the parameter value ``want``."""
    if operator == "EQ":
        if isinstance(have, bool):
            return want.lower() == ("true" if have else "false")
        if isinstance(have, (int, float)):
            number = _as_number(want)
            return number is not None and float(have) == number
        if isinstance(have, str):
            if have == want:
                return True
            return stored_identifier(have) == stored_identifier(want)
        return False
    wanted_number = _as_number(want)
    if wanted_number is not None:
        have_number = _as_number(have)
        if have_number is None:
            return False
        return _ordered(operator, have_number, wanted_number)
    wanted_moment = _as_moment(want)
    if wanted_moment is None:
        raise _error(name, "{value} is neither a number nor a date-time", value=want)
    have_moment = _as_moment(have)
    return have_moment is not None and _ordered(operator, have_moment, wanted_moment)


def _ordered(operator: str, have: Any, want: Any) -> bool:
    if operator == "GT":
        return bool(have > want)
    if operator == "GE":
        return bool(have >= want)
    if operator == "LT":
        return bool(have < want)
    return bool(have <= want)


def _field_values(
    container: Any, field: str, namespaces: dict[str, str], inner: bool
) -> Iterator[Any]:
    """Values of ``field`` (expanded) in ``container`` (top level, or any depth if inner)."""
    target = expand_curie(field, namespaces)
    if isinstance(container, dict):
        for key, value in container.items():
            if key == field or expand_curie(key, namespaces) == target:
                yield value
            if inner and isinstance(value, (dict, list)):
                yield from _field_values(value, field, namespaces, inner)
    elif isinstance(container, list) and inner:
        for item in container:
            yield from _field_values(item, field, namespaces, inner)


def _field_matcher(name: str, values: list[str]) -> Matcher:
    parsed = field_parameter(name)
    assert parsed is not None
    operator, ilmd, field = parsed
    inner = operator.endswith("INNER")
    comparison = operator.removesuffix("_INNER")
    if comparison in ("GT", "GE", "LT", "LE"):
        if len(values) != 1:
            raise _error(name, "give exactly one value")
        _compare(comparison, 0, values[0], name)  # a bad value is a 400 before any event

    def matches(event: dict[str, Any]) -> bool:
        namespaces = collect_namespaces(event.get("@context"))
        container = event.get("ilmd") if ilmd else event
        if ilmd and container is None:
            container = (event.get("extension") or {}).get("ilmd")
        found = list(_field_values(container, field, namespaces, inner or False))
        if not inner and not ilmd:
            found = [v for v in found if v is not None]
        if comparison == "EXISTS":
            return bool(found)
        flat: list[Any] = []
        for value in found:
            flat.extend(value if isinstance(value, list) else [value])
        return any(_compare(comparison, have, want, name) for have in flat for want in values)

    return matches


def _term_values(name: str, values: list[str], vocabulary: Any) -> set[str]:
    try:
        return {normalise_term(v, vocabulary) for v in values}
    except UnknownVocabularyTerm:
        raise _error(name, "not a standard CBV {label}", label=vocabulary.label) from None


def _terms_of(items: Any, vocabulary: Any) -> set[str]:
    result = set()
    for item in items if isinstance(items, list) else []:
        if isinstance(item, str):
            try:
                result.add(normalise_term(item, vocabulary))
            except UnknownVocabularyTerm:
                result.add(item)
    return result


def _matcher(name: str, values: list[str]) -> Matcher:
    if field_parameter(name) is not None:
        return _field_matcher(name, values)
    if name == "EXISTS_errorDeclaration":
        return lambda event: isinstance(event.get("errorDeclaration"), dict)
    if name in ("GE_errorDeclarationTime", "LT_errorDeclarationTime"):
        if len(values) != 1:
            raise _error(name, "give exactly one time")
        bound = _moment(name, values[0])

        def declared(event: dict[str, Any]) -> bool:
            declaration = event.get("errorDeclaration")
            moment = _as_moment(declaration.get("declarationTime")) if declaration else None
            if moment is None:
                return False
            return moment >= bound if name.startswith("GE_") else moment < bound

        return declared
    if name == "EQ_errorReason":
        reasons = _term_values(name, values, ERROR_REASON)
        return lambda event: bool(
            _terms_of([(event.get("errorDeclaration") or {}).get("reason")], ERROR_REASON) & reasons
        )
    if name == "EQ_correctiveEventID":
        wanted = set(values)
        return lambda event: bool(
            set((event.get("errorDeclaration") or {}).get("correctiveEventIDs") or []) & wanted
        )
    if name.startswith("EQ_persistentDisposition_"):
        part = name.rsplit("_", 1)[1]
        dispositions = _term_values(name, values, DISPOSITION)
        return lambda event: bool(
            _terms_of((event.get("persistentDisposition") or {}).get(part), DISPOSITION)
            & dispositions
        )
    if name.endswith("_quantity"):
        operator = name.split("_", 1)[0]
        if operator != "EQ" and len(values) != 1:
            raise _error(name, "give exactly one number")
        numbers = [_number(name, v) for v in values]
        return lambda event: any(
            _ordered(operator, have, want) if operator != "EQ" else have == want
            for have in _quantities(event)
            for want in numbers
        )
    if name in ("GE_startTime", "LT_startTime", "GE_endTime", "LT_endTime"):
        if len(values) != 1:
            raise _error(name, "give exactly one time")
        bound = _moment(name, values[0])
        key = "startTime" if "start" in name else "endTime"

        def timed(event: dict[str, Any]) -> bool:
            for _, part in _sensor_parts(event):
                moment = _as_moment(part.get(key))
                if moment is not None and (moment >= bound if name[:2] == "GE" else moment < bound):
                    return True
            return False

        return timed
    if name == "EQ_type":
        kinds = {_measurement(v) for v in values}
        return lambda event: any(
            kind == "report" and _measurement(part.get("type")) in kinds
            for kind, part in _sensor_parts(event)
        )
    if name == "EQ_hexBinaryValue":
        hexes = {v.lower() for v in values}
        return lambda event: any(
            kind == "report"
            and isinstance(part.get("hexBinaryValue"), str)
            and part["hexBinaryValue"].lower() in hexes
            for kind, part in _sensor_parts(event)
        )
    if name == "EQ_booleanValue":
        if any(v not in ("true", "false") for v in values):
            raise _error(name, "give true or false")
        booleans = {v == "true" for v in values}
        return lambda event: any(
            kind == "report" and part.get("booleanValue") in booleans
            for kind, part in _sensor_parts(event)
        )
    key, in_metadata = _SENSOR_EQUALS[name]
    identifiers = {stored_identifier(v) for v in values}

    def sensor_equal(event: dict[str, Any]) -> bool:
        for _, part in _sensor_parts(event):
            value = part.get(key)
            if isinstance(value, str) and stored_identifier(value) in identifiers:
                return True
        return False

    del in_metadata
    return sensor_equal


def document_filter(
    grouped: Sequence[tuple[str, list[str]]],
) -> Matcher | None:
    """The matcher of the document parameters among ``grouped`` (name, values), or None."""
    matchers = [_matcher(name, values) for name, values in grouped if is_document_parameter(name)]
    if not matchers:
        return None
    return lambda event: all(matcher(event) for matcher in matchers)
