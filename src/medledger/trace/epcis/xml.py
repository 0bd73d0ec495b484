"""EPCIS XML: reading EPCIS 2.0 and 1.2 XML documents as EPCIS 2.0 JSON-LD, and writing
answers (EPCISQueryDocument) as EPCIS 2.0 XML.

**Reading** (:func:`xml_to_document`) turns an ``EPCISDocument`` or ``EPCISQueryDocument`` in
the EPCIS 2.0 XML binding (``urn:epcglobal:epcis:xsd:2``) or EPCIS 1.2
(``urn:epcglobal:epcis:xsd:1``: the ``extension``/``baseExtension`` wrappers and
``EventList/extension/TransformationEvent`` are unwrapped) into the EPCIS 2.0 JSON-LD document
the capture path takes, following the standard's XML ↔ JSON mapping (as OpenEPCIS does):

* list elements become arrays (``epcList/epc``, ``quantityList/quantityElement``,
  ``bizTransactionList/bizTransaction[@type]`` → ``{"type", "bizTransaction"}`` …),
  ``sensorMetadata``/``sensorReport`` attributes become object members;
* standard CBV values (bizStep, disposition, persistent dispositions, transaction and
  source/destination types, error reasons) in their URN or Web URI form become the bare
  JSON-LD words (``urn:epcglobal:cbv:bizstep:shipping`` → ``shipping``); ``gs1:`` sensor
  types and exceptions become bare names; other values are kept as written;
* quantities and numeric sensor values become JSON numbers, ``booleanValue`` a boolean;
  ILMD and user extension elements keep their text (strings), nested elements become objects
  and repeated elements arrays;
* every namespace the document declares becomes a ``@context`` prefix with the **exact**
  namespace IRI declared (the CBV 2.0 event hash of an extension field is computed over that
  IRI: ``xmlns:cbvmda="urn:epcglobal:cbv:mda"`` hashes differently from the JSON-LD
  context's ``urn:epcglobal:cbv:mda:``, as in the reference generator). A prefix the standard
  JSON-LD context protects with another IRI is renamed (``cbvmda`` → ``cbvmda1``);
* an EPCIS 1.2 document becomes ``schemaVersion: "2.0"`` (it is now an EPCIS 2.0 document).

The parser is the standard library's, behind ``defusedxml``: a DTD, an entity declaration or
an external reference is refused (no XXE, no billion laughs).

**Writing** (:func:`query_document_xml`) is the inverse: reading what it writes gives back
the same JSON (``tests/trace/test_epcis_xml.py``). ``GS1-CBV-XML-Format`` chooses how
standard CBV values are written: ``Always_Web_URI`` (the default, and ``No_Preference``) and
``Never_Translates`` (a bare JSON-LD word stands for its Web URI; values stored as URIs are
written as stored), or ``Always_URN`` (the EPCIS 1.x URN form).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from io import BytesIO
from typing import Any, Final
from xml.etree.ElementTree import Element, SubElement, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import iterparse as safe_iterparse

from medledger.trace.epcis.namespaces import STANDARD_PREFIXES, collect_namespaces
from medledger.trace.epcis.vocabulary import (
    BIZ_STEP,
    BIZ_TRANSACTION_TYPE,
    DISPOSITION,
    ERROR_REASON,
    GS1_VOC_BASE,
    MEASUREMENT_TYPES,
    SENSOR_ALERT_TYPES,
    SENSOR_METADATA_FIELDS,
    SENSOR_REPORT_FIELDS,
    SOURCE_DESTINATION_TYPE,
    CbvVocabulary,
)

EPCIS_2: Final = "urn:epcglobal:epcis:xsd:2"
EPCIS_1: Final = "urn:epcglobal:epcis:xsd:1"
EPCIS_QUERY_2: Final = "urn:epcglobal:epcis-query:xsd:2"
EPCIS_QUERY_1: Final = "urn:epcglobal:epcis-query:xsd:1"
EPCIS_MASTERDATA_1: Final = "urn:epcglobal:epcis-masterdata:xsd:1"
SBDH: Final = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"
XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
XML_NS: Final = "http://www.w3.org/XML/1998/namespace"
STANDARD_CONTEXT: Final = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
XML_TYPES: Final = ("application/xml", "text/xml")

# Namespaces of the binding itself: never a @context prefix.
_BINDING_NAMESPACES: Final = frozenset(
    {EPCIS_2, EPCIS_1, EPCIS_QUERY_2, EPCIS_QUERY_1, EPCIS_MASTERDATA_1, SBDH, XSI, XML_NS}
)
_EPCIS_NAMESPACES: Final = frozenset({EPCIS_2, EPCIS_1, EPCIS_QUERY_2, EPCIS_QUERY_1})
_DOCUMENT_TYPES: Final = ("EPCISDocument", "EPCISQueryDocument")
_EVENT_TYPES: Final = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)
_WRAPPERS: Final = frozenset({"extension", "baseExtension"})
_EPC_LISTS: Final = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_QUANTITY_LISTS: Final = (
    "quantityList",
    "childQuantityList",
    "inputQuantityList",
    "outputQuantityList",
)
_PARTY_LISTS: Final[Mapping[str, tuple[str, CbvVocabulary]]] = {
    "bizTransactionList": ("bizTransaction", BIZ_TRANSACTION_TYPE),
    "sourceList": ("source", SOURCE_DESTINATION_TYPE),
    "destinationList": ("destination", SOURCE_DESTINATION_TYPE),
}
_SENSOR_NUMBERS: Final = frozenset(
    {"value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue"}
)
_SENSOR_TERMS: Final = frozenset({"type", "exception"})
_NUMBER: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NCNAME: Final = re.compile(r"[A-Za-z_][\w.-]*")

# The element order of each event type in the EPCIS 2.0 XML schema (extensions follow).
_HEAD: Final = (
    "eventTime",
    "recordTime",
    "eventTimeZoneOffset",
    "eventID",
    "errorDeclaration",
    "certificationInfo",
)
_TAIL: Final = (
    "readPoint",
    "bizLocation",
)
EVENT_ORDER: Final[Mapping[str, tuple[str, ...]]] = {
    "ObjectEvent": (
        *_HEAD,
        "epcList",
        "action",
        "bizStep",
        "disposition",
        *_TAIL,
        "bizTransactionList",
        "quantityList",
        "sourceList",
        "destinationList",
        "sensorElementList",
        "persistentDisposition",
        "ilmd",
    ),
    "AggregationEvent": (
        *_HEAD,
        "parentID",
        "childEPCs",
        "action",
        "bizStep",
        "disposition",
        *_TAIL,
        "bizTransactionList",
        "childQuantityList",
        "sourceList",
        "destinationList",
        "sensorElementList",
        "persistentDisposition",
    ),
    "TransactionEvent": (
        *_HEAD,
        "bizTransactionList",
        "parentID",
        "epcList",
        "action",
        "bizStep",
        "disposition",
        *_TAIL,
        "quantityList",
        "sourceList",
        "destinationList",
        "sensorElementList",
        "persistentDisposition",
    ),
    "TransformationEvent": (
        *_HEAD,
        "inputEPCList",
        "inputQuantityList",
        "outputEPCList",
        "outputQuantityList",
        "transformationID",
        "bizStep",
        "disposition",
        *_TAIL,
        "bizTransactionList",
        "sourceList",
        "destinationList",
        "sensorElementList",
        "persistentDisposition",
        "ilmd",
    ),
    "AssociationEvent": (
        *_HEAD,
        "parentID",
        "childEPCs",
        "childQuantityList",
        "action",
        "bizStep",
        "disposition",
        *_TAIL,
        "bizTransactionList",
        "sourceList",
        "destinationList",
        "sensorElementList",
        "persistentDisposition",
    ),
}


class XmlDocumentError(ValueError):
    """The body is not a readable EPCIS XML document; ``pointer`` says where (XPath-like)."""

    def __init__(self, message: str, pointer: str = "/") -> None:
        super().__init__(message)
        self.pointer = pointer


# --- reading ------------------------------------------------------------------------------


class _Prefixes:
    """Namespace IRI ↔ JSON-LD prefix, from the document's own declarations."""

    def __init__(self, declared: Iterable[tuple[str, str]]) -> None:
        self.prefix_of: dict[str, str] = {}
        self.context: dict[str, str] = {}
        for prefix, uri in declared:
            if uri in _BINDING_NAMESPACES or uri in self.prefix_of:
                continue
            self.prefix_of[uri] = self._name(prefix, uri)

    def _name(self, prefix: str, uri: str) -> str:
        if STANDARD_PREFIXES.get(prefix) == uri:
            return prefix  # the standard context declares it already
        # a JSON-LD prefix is also a URI scheme (the schema checks ``prefix:name`` as a URI)
        base = re.sub(r"[^A-Za-z0-9+.-]", "-", prefix or "")
        if not base[:1].isalpha() or base.lower() in ("http", "https", "urn"):
            base = "ns"
        name, counter = base, 0
        while name in STANDARD_PREFIXES or name in self.context:
            counter += 1
            name = f"{base}{counter}"
        self.context[name] = uri
        return name

    def key(self, tag: str) -> str:
        """``prefix:local`` for a namespaced tag, the local name otherwise."""
        if not tag.startswith("{"):
            return tag
        uri, local = tag[1:].split("}", 1)
        prefix = self.prefix_of.get(uri)
        if prefix is None:
            prefix = self.prefix_of[uri] = self._name("ns", uri)
        return f"{prefix}:{local}"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _namespace(tag: str) -> str | None:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else None


def _parse(data: bytes) -> tuple[Element, list[tuple[str, str]]]:
    declared: list[tuple[str, str]] = []
    root: Element | None = None
    try:
        for event, item in safe_iterparse(
            BytesIO(data),
            events=("start-ns", "start"),
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
        ):
            if event == "start-ns":
                declared.append(item)
            elif root is None:
                root = item
    except DefusedXmlException as error:
        raise XmlDocumentError(
            f"The XML document declares a DTD or entities, which are refused ({error})."
        ) from error
    except ParseError as error:
        raise XmlDocumentError(f"The body is not well-formed XML: {error}.") from error
    except (LookupError, ValueError) as error:  # an unknown encoding, and the like
        raise XmlDocumentError(f"The body cannot be read as XML: {error}.") from error
    if root is None:  # pragma: no cover - iterparse raises on an empty body
        raise XmlDocumentError("The body holds no XML element.")
    for element in root.iter():
        # <epcis:ObjectEvent>, <epcis:eventTime>: the binding's own names, written prefixed
        if isinstance(element.tag, str) and _namespace(element.tag) in _EPCIS_NAMESPACES:
            element.tag = _local(element.tag)
    return root, declared


def _children(element: Element) -> Iterator[Element]:
    """The child elements, with EPCIS 1.x ``extension``/``baseExtension`` unwrapped."""
    for child in element:
        if not isinstance(child.tag, str):
            continue  # comments, processing instructions
        if child.tag in _WRAPPERS:
            yield from _children(child)
        else:
            yield child


def _text(element: Element) -> str:
    return (element.text or "").strip()


def _number(text: str) -> Any:
    """An XML number as JSON: integral values as ints, others as floats, else the text."""
    if not _NUMBER.fullmatch(text):
        return text
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits numbers only
        return text
    if value == value.to_integral_value() and abs(value) < 10**15:
        return int(value)
    number = float(text)
    # beyond a double (1e999): kept as text, which validation then refuses as not a number
    return number if math.isfinite(number) else text


def _cbv_word(value: str, vocabulary: CbvVocabulary) -> str:
    """The bare JSON-LD word of a standard CBV value in URN or Web URI form, else as is."""
    name = vocabulary.cbv_name(value)
    if name is not None and name in vocabulary.terms and name != value:
        return name
    return value


def _gs1_term(value: str) -> str:
    """``gs1:Temperature`` / ``https://gs1.org/voc/Temperature`` → ``Temperature``."""
    for prefix in ("gs1:", GS1_VOC_BASE):
        if value.startswith(prefix):
            name = value[len(prefix) :]
            if name in MEASUREMENT_TYPES or name in SENSOR_ALERT_TYPES:
                return name
    return value


class _Reader:
    def __init__(self, prefixes: _Prefixes) -> None:
        self.prefixes = prefixes

    # generic (ILMD, user extensions) -----------------------------------------------------

    def generic(self, element: Element) -> Any:
        children = list(_children(element))
        attributes = {
            name: text
            for name, text in element.attrib.items()
            if _namespace(name) not in (XSI, XML_NS)  # xsi:type and the like are schema notes
        }
        if not children and not attributes:
            return _text(element)
        value: dict[str, Any] = {}
        for name, text in attributes.items():
            # an attribute without a namespace takes its element's (JSON keys need one)
            key = name if name.startswith("{") else f"{{{_namespace(element.tag)}}}{name}"
            value[self.prefixes.key(key) if _namespace(key) else name] = text
        if not children and _text(element):
            value["#text"] = _text(element)  # the text beside the attributes
        self.members(children, value, self.generic)
        return value

    def members(
        self, children: Iterable[Element], into: dict[str, Any], read: Callable[[Element], Any]
    ) -> None:
        """Add each child to ``into`` under its key; repeated keys make an array."""
        for child in children:
            key = self.prefixes.key(child.tag)
            value = read(child)
            if key in into:
                # generic values are strings or objects: a list is a repeated element
                if not isinstance(into[key], list):
                    into[key] = [into[key]]
                into[key].append(value)
            else:
                into[key] = value

    # events -------------------------------------------------------------------------------

    def event(self, element: Element) -> dict[str, Any]:
        kind = self.prefixes.key(element.tag)
        event: dict[str, Any] = {"type": kind}
        extensions: list[Element] = []
        for child in _children(element):
            name = child.tag
            if name.startswith("{"):
                extensions.append(child)
            elif name in _EPC_LISTS:
                event[name] = [_text(epc) for epc in _children(child)]
            elif name in _QUANTITY_LISTS:
                event[name] = [self.quantity(item) for item in _children(child)]
            elif name in _PARTY_LISTS:
                event[name] = [self.party(item, name) for item in _children(child)]
            elif name in ("readPoint", "bizLocation"):
                event[name] = self.place(child)
            elif name == "bizStep":
                event[name] = _cbv_word(_text(child), BIZ_STEP)
            elif name == "disposition":
                event[name] = _cbv_word(_text(child), DISPOSITION)
            elif name == "persistentDisposition":
                event[name] = self.persistent_disposition(child)
            elif name == "errorDeclaration":
                event[name] = self.error_declaration(child)
            elif name == "sensorElementList":
                event[name] = [self.sensor_element(item) for item in _children(child)]
            elif name == "ilmd":
                ilmd: dict[str, Any] = {}
                self.members(_children(child), ilmd, self.generic)
                event[name] = ilmd
            elif name == "certificationInfo" and "certificationInfo" in event:
                previous = event[name]
                event[name] = [*(previous if isinstance(previous, list) else [previous])]
                event[name].append(_text(child))
            else:
                event[name] = _text(child)
        self.members(extensions, event, self.generic)
        return event

    def quantity(self, element: Element) -> dict[str, Any]:
        item: dict[str, Any] = {}
        for child in _children(element):
            if child.tag == "quantity":
                if _text(child):  # an empty <quantity/> says nothing
                    item["quantity"] = _number(_text(child))
            else:
                item[self.prefixes.key(child.tag)] = _text(child)
        return item

    def party(self, element: Element, list_name: str) -> dict[str, Any]:
        key, vocabulary = _PARTY_LISTS[list_name]
        item: dict[str, Any] = {}
        if "type" in element.attrib:
            item["type"] = _cbv_word(element.attrib["type"].strip(), vocabulary)
        item[key] = _text(element)
        return item

    def place(self, element: Element) -> dict[str, Any]:
        place: dict[str, Any] = {}
        for child in _children(element):
            if child.tag == "id":
                place["id"] = _text(child)
            else:
                self.members([child], place, self.generic)
        return place

    def persistent_disposition(self, element: Element) -> dict[str, Any]:
        value: dict[str, list[str]] = {}
        for child in _children(element):
            value.setdefault(_local(child.tag), []).append(_cbv_word(_text(child), DISPOSITION))
        return value

    def error_declaration(self, element: Element) -> dict[str, Any]:
        declaration: dict[str, Any] = {}
        for child in _children(element):
            if child.tag == "reason":
                declaration["reason"] = _cbv_word(_text(child), ERROR_REASON)
            elif child.tag == "correctiveEventIDs":
                declaration["correctiveEventIDs"] = [_text(item) for item in _children(child)]
            elif child.tag == "declarationTime":
                declaration["declarationTime"] = _text(child)
            else:
                self.members([child], declaration, self.generic)
        return declaration

    def sensor_element(self, element: Element) -> dict[str, Any]:
        sensor: dict[str, Any] = {}
        extensions: list[Element] = []
        for child in _children(element):
            if child.tag == "sensorMetadata":
                sensor["sensorMetadata"] = self.sensor_attributes(child)
            elif child.tag == "sensorReport":
                sensor.setdefault("sensorReport", []).append(self.sensor_attributes(child))
            else:
                extensions.append(child)
        self.members(extensions, sensor, self.generic)
        return sensor

    def sensor_attributes(self, element: Element) -> dict[str, Any]:
        value: dict[str, Any] = {}
        for name, text in element.attrib.items():
            if _namespace(name) in (XSI, XML_NS):
                continue
            text = text.strip()
            if name in _SENSOR_NUMBERS:
                value[name] = _number(text)
            elif name == "booleanValue" and text in ("true", "false", "1", "0"):
                value[name] = text in ("true", "1")
            elif name in _SENSOR_TERMS:
                value[name] = _gs1_term(text)
            else:
                value[self.prefixes.key(name)] = text
        extra: dict[str, Any] = {}
        self.members(_children(element), extra, self.generic)
        value.update(extra)
        return value

    # documents ----------------------------------------------------------------------------

    def event_list(self, element: Element) -> list[dict[str, Any]]:
        # every element is an event: one of an unknown type is converted too, so that
        # validation names it rather than the event silently missing
        return [self.event(child) for child in _children(element)]

    def header(self, element: Element, document: dict[str, Any]) -> None:
        for child in _children(element):
            if _local(child.tag) == "StandardBusinessDocumentHeader":
                self.sbdh(child, document)
            elif _local(child.tag) == "EPCISMasterData":
                document.setdefault("epcisHeader", {})["epcisMasterData"] = self.master_data(child)

    @staticmethod
    def sbdh(element: Element, document: dict[str, Any]) -> None:
        for child in element:
            local = _local(child.tag)
            if local in ("Sender", "Receiver"):
                identifier = next((c for c in child if _local(c.tag) == "Identifier"), None)
                if identifier is not None and _text(identifier):
                    document[local.lower()] = _text(identifier)
            elif local == "DocumentIdentification":
                instance = next((c for c in child if _local(c.tag) == "InstanceIdentifier"), None)
                if instance is not None and _text(instance):
                    document["instanceIdentifier"] = _text(instance)

    def master_data(self, element: Element) -> dict[str, Any]:
        vocabularies = []
        for listing in _children(element):
            for vocabulary in _children(listing):
                elements = [
                    self.vocabulary_element(item)
                    for holder in _children(vocabulary)
                    for item in _children(holder)
                ]
                vocabularies.append(
                    {"type": vocabulary.attrib.get("type", ""), "vocabularyElementList": elements}
                )
        return {"vocabularyList": vocabularies}

    def vocabulary_element(self, item: Element) -> dict[str, Any]:
        entry: dict[str, Any] = {"id": item.attrib.get("id", "")}
        attributes = []
        children: list[str] = []
        for part in _children(item):
            if _local(part.tag) == "attribute":
                value = self.generic(part) if len(part) else _text(part)
                if isinstance(value, dict):
                    value.pop("id", None)
                attributes.append({"id": part.attrib.get("id", ""), "attribute": value})
            elif _local(part.tag) == "children":
                children.extend(_text(child) for child in _children(part))
        if attributes:
            entry["attributes"] = attributes
        if children:
            entry["children"] = children
        return entry


def xml_to_document(data: bytes) -> dict[str, Any]:
    """The EPCIS 2.0 JSON-LD document of an EPCIS 2.0 or 1.2 XML document (module doc).

    Raises :class:`XmlDocumentError` for anything that is not an EPCIS XML document.
    """
    root, declared = _parse(data)
    kind = root.tag
    prefixes = _Prefixes(declared)
    reader = _Reader(prefixes)
    if kind in _EVENT_TYPES:
        # one event, as POST /epcis/events takes it
        event = reader.event(root)
        return {"@context": _context(prefixes), **event}
    if kind not in _DOCUMENT_TYPES:
        raise XmlDocumentError(
            "The root element must be an EPCIS 2.0 or 1.2 EPCISDocument or "
            f"EPCISQueryDocument, or one event, not {root.tag}."
        )
    document: dict[str, Any] = {"type": kind, "schemaVersion": "2.0"}
    if root.attrib.get("creationDate"):
        document["creationDate"] = root.attrib["creationDate"].strip()
    body: dict[str, Any] = {}
    for child in _children(root):
        local = _local(child.tag)
        if child.tag == "EPCISHeader":
            reader.header(child, document)
        elif child.tag == "EPCISBody":
            for part in _children(child):
                if part.tag == "EventList":
                    body["eventList"] = reader.event_list(part)
                elif _local(part.tag) == "QueryResults":
                    body["queryResults"] = _query_results(reader, part)
        elif child.tag == "resultsBody" and kind == "EPCISQueryDocument":
            # a query document without EPCISBody/QueryResults around its results (seen in
            # the reference generator's examples): read the root as the QueryResults
            body["queryResults"] = _query_results(reader, root)
        elif child.tag == "queryName":
            continue
        elif _namespace(child.tag) not in _BINDING_NAMESPACES:
            key = prefixes.key(child.tag)
            if local == "ignoreFields":
                document[key] = [prefixes.key(item.tag) for item in _children(child)]
            else:
                reader.members([child], document, reader.generic)
    if not body:
        raise XmlDocumentError("The document has no EPCISBody with an EventList.", "/EPCISBody")
    document["epcisBody"] = body
    return {"@context": _context(prefixes), **document}


def _context(prefixes: _Prefixes) -> list[Any]:
    context: list[Any] = [STANDARD_CONTEXT]
    context.extend({prefix: uri} for prefix, uri in prefixes.context.items())
    return context


def _query_results(reader: _Reader, element: Element) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for child in _children(element):
        if child.tag == "resultsBody":
            for part in _children(child):
                if part.tag == "EventList":
                    results["resultsBody"] = {"eventList": reader.event_list(part)}
        elif child.tag in ("queryName", "subscriptionID"):
            results[child.tag] = _text(child)
        elif child.tag.startswith("{"):
            key = reader.prefixes.key(child.tag)
            if _local(child.tag) == "ignoreFields":
                results[key] = [reader.prefixes.key(item.tag) for item in _children(child)]
            else:
                reader.members([child], results, reader.generic)
    results.setdefault("resultsBody", {"eventList": []})
    return results


# --- writing ------------------------------------------------------------------------------

CBV_XML_FORMATS: Final = ("No_Preference", "Always_Web_URI", "Always_URN", "Never_Translates")


class _Writer:
    def __init__(self, namespaces: Mapping[str, str], cbv_format: str) -> None:
        # prefix -> IRI for every prefix the JSON uses (standard ones included)
        self.namespaces = dict(namespaces)
        self.used: dict[str, str] = {}
        self.cbv_format = cbv_format

    def tag(self, key: str) -> str:
        """The XML name of a JSON key (a CURIE keeps its prefix, declared on the root)."""
        if ":" in key and not key.startswith(("http:", "https:", "urn:")):
            prefix, local = key.split(":", 1)
            uri = self.namespaces.get(prefix)
            if uri is not None and _NCNAME.fullmatch(local):
                self.used[prefix] = uri
                return key
        if "://" in key or key.startswith("urn:"):
            cut = max(key.rfind("/"), key.rfind("#"), key.rfind(":"))
            uri, local = key[: cut + 1], key[cut + 1 :]
            if _NCNAME.fullmatch(local):
                known = next((p for p, u in self.used.items() if u == uri), None)
                prefix = known or f"ns{len(self.used) + 1}"
                if known is None:
                    while prefix in self.namespaces:
                        prefix += "x"
                    self.used[prefix] = uri
                    self.namespaces[prefix] = uri
                return f"{prefix}:{local}"
        return key

    def cbv(self, value: Any, vocabulary: CbvVocabulary) -> str:
        text = _scalar(value)
        name = vocabulary.cbv_name(text)
        if name is None or name not in vocabulary.terms:
            return text
        if self.cbv_format == "Always_URN" and vocabulary.urn_prefix is not None:
            return vocabulary.urn_prefix + name
        if self.cbv_format == "Never_Translates" and text != name:
            return text
        return vocabulary.web_uri(name)

    def generic(self, parent: Element, key: str, value: Any) -> None:
        values = value if isinstance(value, list) else [value]
        for item in values:
            child = SubElement(parent, self.tag(key))
            if isinstance(item, Mapping) and "#text" in item:
                # an element with attributes and text (how the reader writes one)
                child.text = _scalar(item["#text"])
                for name, inner in item.items():
                    if name != "#text" and not isinstance(inner, Mapping | list):
                        child.set(self.tag(name), _scalar(inner))
            elif isinstance(item, Mapping):
                for name, inner in item.items():
                    if name == "@context":
                        continue
                    self.generic(child, name, inner)
            else:
                child.text = _scalar(item)

    def event(self, parent: Element, event: Mapping[str, Any]) -> None:
        kind = str(event.get("type", "ObjectEvent"))
        element = SubElement(parent, kind)
        order = EVENT_ORDER.get(kind, EVENT_ORDER["ObjectEvent"])
        standard = [key for key in order if key in event]
        others = [key for key in event if key not in order and key not in ("type", "@context")]
        for key in standard + others:
            self.field(element, key, event[key])

    def field(self, element: Element, key: str, value: Any) -> None:
        if key in _EPC_LISTS:
            holder = SubElement(element, key)
            for epc in value or ():
                SubElement(holder, "epc").text = _scalar(epc)
        elif key in _QUANTITY_LISTS:
            holder = SubElement(element, key)
            for item in value or ():
                quantity = SubElement(holder, "quantityElement")
                for name in ("epcClass", "quantity", "uom"):
                    if name in item:
                        SubElement(quantity, name).text = _scalar(item[name])
                for name, inner in item.items():
                    if name not in ("epcClass", "quantity", "uom"):
                        self.generic(quantity, name, inner)
        elif key in _PARTY_LISTS:
            holder = SubElement(element, key)
            child_name, vocabulary = _PARTY_LISTS[key]
            for item in value or ():
                party = SubElement(holder, child_name)
                if "type" in item:
                    party.set("type", self.cbv(item["type"], vocabulary))
                party.text = _scalar(item.get(child_name, ""))
        elif key in ("readPoint", "bizLocation") and isinstance(value, Mapping):
            place = SubElement(element, key)
            if "id" in value:
                SubElement(place, "id").text = _scalar(value["id"])
            for name, inner in value.items():
                if name != "id":
                    self.generic(place, name, inner)
        elif key == "bizStep":
            SubElement(element, key).text = self.cbv(value, BIZ_STEP)
        elif key == "disposition":
            SubElement(element, key).text = self.cbv(value, DISPOSITION)
        elif key == "persistentDisposition" and isinstance(value, Mapping):
            holder = SubElement(element, key)
            for name in ("set", "unset"):
                for item in value.get(name) or ():
                    SubElement(holder, name).text = self.cbv(item, DISPOSITION)
        elif key == "errorDeclaration" and isinstance(value, Mapping):
            holder = SubElement(element, key)
            if "declarationTime" in value:
                SubElement(holder, "declarationTime").text = _scalar(value["declarationTime"])
            if "reason" in value:
                SubElement(holder, "reason").text = self.cbv(value["reason"], ERROR_REASON)
            if "correctiveEventIDs" in value:
                ids = SubElement(holder, "correctiveEventIDs")
                for item in value["correctiveEventIDs"] or ():
                    SubElement(ids, "correctiveEventID").text = _scalar(item)
            for name, inner in value.items():
                if name not in ("declarationTime", "reason", "correctiveEventIDs"):
                    self.generic(holder, name, inner)
        elif key == "sensorElementList":
            holder = SubElement(element, key)
            for item in value or ():
                self.sensor_element(holder, item)
        elif key == "ilmd" and isinstance(value, Mapping):
            holder = SubElement(element, key)
            for name, inner in value.items():
                self.generic(holder, name, inner)
        elif key == "certificationInfo" and isinstance(value, list):
            for item in value:
                SubElement(element, key).text = _scalar(item)
        else:
            self.generic(element, key, value)

    def sensor_element(self, parent: Element, item: Mapping[str, Any]) -> None:
        sensor = SubElement(parent, "sensorElement")
        if isinstance(item.get("sensorMetadata"), Mapping):
            self.attributes(
                SubElement(sensor, "sensorMetadata"),
                item["sensorMetadata"],
                SENSOR_METADATA_FIELDS,
            )
        for report in item.get("sensorReport") or ():
            self.attributes(SubElement(sensor, "sensorReport"), report, SENSOR_REPORT_FIELDS)
        for name, inner in item.items():
            if name not in ("sensorMetadata", "sensorReport"):
                self.generic(sensor, name, inner)

    def attributes(self, element: Element, value: Mapping[str, Any], order: Sequence[str]) -> None:
        keys = [k for k in order if k in value] + [k for k in value if k not in order]
        for key in keys:
            inner = value[key]
            if isinstance(inner, Mapping | list):
                self.generic(element, key, inner)
            elif key in _SENSOR_TERMS and (
                inner in MEASUREMENT_TYPES or inner in SENSOR_ALERT_TYPES
            ):
                element.set(key, "gs1:" + str(inner))
                self.used["gs1"] = GS1_VOC_BASE
            else:
                element.set(self.tag(key), _scalar(inner))


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def query_document_xml(document: Mapping[str, Any], cbv_format: str = "Always_Web_URI") -> bytes:
    """An ``EPCISQueryDocument`` (as :func:`medledger.trace.answers.query_document` makes it)
    in the EPCIS 2.0 XML binding, CBV values written as ``cbv_format`` says (module doc)."""
    body = document.get("epcisBody") or {}
    results = body.get("queryResults") or {}
    events = (results.get("resultsBody") or {}).get("eventList") or []
    contexts: list[Any] = [document.get("@context")]
    contexts.extend(event.get("@context") for event in events if isinstance(event, Mapping))
    writer = _Writer(collect_namespaces(*[c for c in contexts if c is not None]), cbv_format)
    root = Element("epcisq:EPCISQueryDocument")
    root.set("schemaVersion", str(document.get("schemaVersion", "2.0")))
    if document.get("creationDate"):
        root.set("creationDate", str(document["creationDate"]))
    epcis_body = SubElement(root, "EPCISBody")
    query_results = SubElement(epcis_body, "epcisq:QueryResults")
    SubElement(query_results, "queryName").text = str(results.get("queryName", ""))
    if results.get("subscriptionID"):
        SubElement(query_results, "subscriptionID").text = str(results["subscriptionID"])
    event_list = SubElement(SubElement(query_results, "resultsBody"), "EventList")
    for event in events:
        writer.event(event_list, event)
    root.set("xmlns:epcisq", EPCIS_QUERY_2)
    root.set("xmlns:epcis", EPCIS_2)
    for prefix, uri in sorted(writer.used.items()):
        root.set(f"xmlns:{prefix}", uri)
    text = tostring(root, encoding="unicode")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + text.encode("utf-8")
