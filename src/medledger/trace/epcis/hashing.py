"""The CBV 2.0 event hash: a syntax-independent ``eventID`` for an EPCIS event.

Two parties who capture the same event, in XML or JSON, with URNs or Digital Link URIs,
with or without time-zone shifts, compute the same ``ni:///sha-256;<hex>?ver=CBV2.0`` for it.
The algorithm (GS1 CBV 2.0 §8.9, reference implementation RalphTro/epcis-event-hash-generator)
builds a *pre-hash string* and hashes its UTF-8 bytes with SHA-256:

1. ``eventType=<type>``, then the standard fields in the canonical order: eventTime,
   eventTimeZoneOffset, certificationInfo, epcList, parentID, inputEPCList, childEPCs,
   quantityList, childQuantityList, inputQuantityList, outputEPCList, outputQuantityList,
   action, transformationID, bizStep, disposition, persistentDisposition, readPoint,
   bizLocation, sensorElementList (each with its own child order);
2. then every other field, each rendered as a string and the strings sorted: bizTransaction,
   source and destination lists (``type=…`` before the value), ILMD and user extensions, with
   namespaced names written ``{namespace}localName``;
3. ``recordTime``, ``eventID``, ``errorDeclaration`` and comments are left out.

Values are normalised first: timestamps to UTC with exactly three decimals (a fourth digit of
5-9 rounds up), CBV values to their Web URI (``https://ref.gs1.org/cbv/BizStep-shipping``),
sensor types to the GS1 Web Vocabulary, GS1 keys (EPC URNs, Digital Link URIs on any host) to
canonical Digital Link ``https://id.gs1.org/…``, numbers without redundant zeros. Repeated
elements (EPCs, quantity elements, sensor reports …) are sorted.

Where the reference implementation's behaviour is a quirk rather than a rule, this module
follows it so that hashes agree: numeric-looking text is reformatted as a number anywhere,
and GS1 keys are recognised in any value, including user extensions.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final

from medledger.identifiers.epc import digital_link_or_none
from medledger.trace.epcis.namespaces import collect_namespaces, expand_key
from medledger.trace.epcis.timestamps import hash_timestamp
from medledger.trace.epcis.vocabulary import (
    BIZ_STEP,
    BIZ_TRANSACTION_TYPE,
    DISPOSITION,
    ERROR_REASON,
    SENSOR_COMPONENT,
    SENSOR_METADATA_FIELDS,
    SENSOR_REPORT_FIELDS,
    SOURCE_DESTINATION_TYPE,
    CbvVocabulary,
    cbv_web_uri,
    measurement_type_uri,
)

HASH_VERSION: Final = "CBV2.0"

_Order = tuple[tuple[str, "_Order | None"], ...]

_QUANTITY_ELEMENT: Final[_Order] = (
    ("quantityElement", (("epcClass", None), ("quantity", None), ("uom", None))),
)
_EPCS: Final[_Order] = (("epc", None),)
_SENSOR_METADATA: Final[_Order] = tuple((name, None) for name in SENSOR_METADATA_FIELDS)
_SENSOR_REPORT: Final[_Order] = tuple((name, None) for name in SENSOR_REPORT_FIELDS)
CANONICAL_ORDER: Final[_Order] = (
    ("eventTime", None),
    ("eventTimeZoneOffset", None),
    ("certificationInfo", None),
    ("epcList", _EPCS),
    ("parentID", None),
    ("inputEPCList", _EPCS),
    ("childEPCs", _EPCS),
    ("quantityList", _QUANTITY_ELEMENT),
    ("childQuantityList", _QUANTITY_ELEMENT),
    ("inputQuantityList", _QUANTITY_ELEMENT),
    ("outputEPCList", _EPCS),
    ("outputQuantityList", _QUANTITY_ELEMENT),
    ("action", None),
    ("transformationID", None),
    ("bizStep", None),
    ("disposition", None),
    ("persistentDisposition", (("set", None), ("unset", None))),
    ("readPoint", (("id", None),)),
    ("bizLocation", (("id", None),)),
    (
        "sensorElementList",
        (
            (
                "sensorElement",
                (("sensorMetadata", _SENSOR_METADATA), ("sensorReport", _SENSOR_REPORT)),
            ),
        ),
    ),
)
"""The canonical property order of CBV 2.0 §8.9 as the reference implementation applies it."""

_EXCLUDED: Final = frozenset({"type", "@context", "recordTime", "eventID", "errorDeclaration"})
_COMMENT_KEYS: Final = frozenset({"comment", "rdfs:comment", "#text"})
_COMMENT_NAMES: Final = frozenset({"{http://www.w3.org/2000/01/rdf-schema#}comment"})
_EPC_LISTS: Final = frozenset({"epcList", "childEPCs", "inputEPCList", "outputEPCList"})
_QUANTITY_LISTS: Final = frozenset(
    {"quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"}
)
_PARTY_LISTS: Final[Mapping[str, str]] = {
    "bizTransactionList": "bizTransaction",
    "sourceList": "source",
    "destinationList": "destination",
}
_SENSOR_TIMES: Final = frozenset({"time", "startTime", "endTime"})
_CBV_URNS: Final[tuple[tuple[str, CbvVocabulary], ...]] = tuple(
    (vocabulary.urn_prefix, vocabulary)
    for vocabulary in (
        BIZ_STEP,
        DISPOSITION,
        BIZ_TRANSACTION_TYPE,
        SOURCE_DESTINATION_TYPE,
        ERROR_REASON,
    )
    if vocabulary.urn_prefix is not None
)
_CANONICAL_NAMES: Final = tuple(name for name, _ in CANONICAL_ORDER)
# How the fast path renders each field it knows; an event with any other field takes the
# general path. "scalar" fields are generic leaves (eventTime a timestamp), "skip" ones are
# left out of the hash.
_KIND_SKIP: Final = "skip"
_KIND_SCALAR: Final = "scalar"
_KIND_TERM: Final = "term"
_KIND_LOCATION: Final = "location"
_KIND_EPCS: Final = "epcs"
_KIND_QUANTITIES: Final = "quantities"
_KIND_PARTIES: Final = "parties"
_KIND_LEAF_KINDS: Final = frozenset({_KIND_SCALAR, _KIND_TERM, _KIND_LOCATION})
_FAST_FIELDS: Final[Mapping[str, str]] = {
    **{key: _KIND_SKIP for key in _EXCLUDED},
    "eventTime": _KIND_SCALAR,
    "eventTimeZoneOffset": _KIND_SCALAR,
    "action": _KIND_SCALAR,
    "parentID": _KIND_SCALAR,
    "transformationID": _KIND_SCALAR,
    "bizStep": _KIND_TERM,
    "disposition": _KIND_TERM,
    **{key: _KIND_EPCS for key in _EPC_LISTS},
    **{key: _KIND_QUANTITIES for key in _QUANTITY_LISTS},
    "readPoint": _KIND_LOCATION,
    "bizLocation": _KIND_LOCATION,
    **{key: _KIND_PARTIES for key in _PARTY_LISTS},
    "ilmd": "flat_object",
}
_CANONICAL_RANK: Final[Mapping[str, int]] = {
    name: rank for rank, name in enumerate(_CANONICAL_NAMES)
}
_VALUE_CACHE_SIZE: Final = 1 << 16
_BUILDER_CACHE_SIZE: Final = 64
_NUMBER: Final = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_GS1_NAMESPACES: Final = ("https://ref.gs1.org", "https://gs1.org")


@dataclass
class _Node:
    """One element of the event as the hash sees it (the XML-like data model)."""

    name: str
    value: str = ""
    children: list[_Node] = field(default_factory=list)
    keep_child_order: bool = False


class _Builder:
    """Turns an EPCIS JSON event into :class:`_Node` trees with normalised values."""

    def __init__(self, namespaces: Mapping[str, str], ignore_fields: Collection[str]) -> None:
        self.namespaces = namespaces
        self.names: dict[str, str] = {}
        self.values: dict[str, str] = {}
        self.terms: dict[tuple[str, str], str] = {}
        self.times: dict[str, str] = {}
        self.parts: dict[tuple[str, str], str] = {}
        self.object_parts: dict[tuple[str, str], str] = {}
        self.foreign: dict[str, bool] = {}
        self.ignored = {self.name(key) for key in ignore_fields} | set(ignore_fields)

    def name(self, key: str) -> str:
        name = self.names.get(key)
        if name is None:
            expanded = expand_key(key, self.namespaces)
            name = key if expanded is None else "{" + expanded[0] + "}" + expanded[1]
            self.names[key] = name
        return name

    def is_comment(self, key: str) -> bool:
        return key in _COMMENT_KEYS or self.name(key) in _COMMENT_NAMES

    # values -------------------------------------------------------------------------------

    def value(self, raw: Any) -> str:
        """The reference normalisation of any leaf value."""
        if isinstance(raw, str):
            # Builders are shared by events with the same namespaces (see _builder), and
            # streams repeat their values (classes, locations, parties): cached per builder.
            cached = self.values.get(raw)
            if cached is None:
                if len(self.values) >= _VALUE_CACHE_SIZE:
                    self.values.clear()
                cached = self.values[raw] = _normalised_text(self.expand_gs1_curie(raw.strip()))
            return cached
        if isinstance(raw, bool):
            return "true" if raw else "false"
        if raw is None:
            return ""
        return _normalised_text(self.expand_gs1_curie(str(raw).strip()))

    def timestamp(self, raw: str) -> str:
        """:func:`_timestamp`, cached (events of a batch share their times)."""
        cached = self.times.get(raw)
        if cached is None:
            if len(self.times) >= _VALUE_CACHE_SIZE:
                self.times.clear()
            cached = self.times[raw] = _timestamp(raw)
        return cached

    def foreign_curie(self, text: str) -> bool:
        """A CURIE whose prefix is declared for a namespace that is not GS1's: CBV 2.0 §8.9
        expands the ``gs1:`` and ``cbv:`` CURIEs of values only (``example:x`` stays)."""
        cached = self.foreign.get(text)
        if cached is None:
            if len(self.foreign) >= _VALUE_CACHE_SIZE:
                self.foreign.clear()
            expanded = expand_key(text.strip(), self.namespaces)
            cached = expanded is not None and not expanded[0].startswith(_GS1_NAMESPACES)
            self.foreign[text] = cached
        return cached

    def expand_gs1_curie(self, text: str) -> str:
        expanded = expand_key(text, self.namespaces)
        if expanded is not None and expanded[0].startswith(_GS1_NAMESPACES):
            return expanded[0] + expanded[1]
        return text

    def vocabulary_value(self, raw: Any, vocabulary: CbvVocabulary) -> str:
        if not isinstance(raw, str):
            return self.value(raw)
        key = (raw, vocabulary.label)
        cached = self.terms.get(key)
        if cached is None:
            if len(self.terms) >= _VALUE_CACHE_SIZE:
                self.terms.clear()
            cached = self.value(cbv_web_uri(raw.strip(), vocabulary, self.namespaces))
            self.terms[key] = cached
        return cached

    # the common shapes, rendered directly ------------------------------------------------

    def fast_prehash(self, event: Mapping[str, Any]) -> str | None:
        """The pre-hash string of an event made only of common fields in their plain shapes,
        built straight from the JSON; ``None`` for anything else (the general path decides).

        Produces exactly what :func:`_render_in_order` produces over the node tree (the
        property test in ``test_epcis_hashing`` compares both on every example event): the
        canonical fields in order, empty leaves dropped, then the other fields sorted. Only
        exact ``str``/``list``/``dict`` values are handled here; anything else (subclasses,
        other mappings) goes the general way.
        """
        event_type = event.get("type")
        if not isinstance(event_type, str) or self.ignored:
            return None
        ordered: dict[str, str] = {}
        rest: list[str] = []
        parts = self.parts
        values = self.values
        for key, raw in event.items():
            kind = _FAST_FIELDS.get(key)
            if kind is None:
                return None
            if kind == _KIND_SKIP:
                continue
            if kind == _KIND_LOCATION:
                if type(raw) is not dict or len(raw) != 1 or "id" not in raw:
                    return None
                raw = raw["id"]
            if kind in _KIND_LEAF_KINDS:
                if type(raw) is not str:
                    return None
                part = parts.get((key, raw))
                if part is None:
                    part = self.leaf_part(key, raw, kind)
                if part:
                    ordered[key] = part
            elif kind == _KIND_EPCS:
                if type(raw) is not list:
                    return None
                if raw:
                    rendered = []
                    for epc in raw:
                        if type(epc) is not str:
                            return None
                        text = values.get(epc)
                        if text is None:
                            text = self.value(epc)
                        if text:
                            rendered.append("epc=" + text)
                    rendered.sort()
                    ordered[key] = key + "".join(rendered)
            elif kind == _KIND_QUANTITIES:
                text = self.fast_quantities(raw)
                if text is None:
                    return None
                if text:
                    ordered[key] = key + text
            elif kind == _KIND_PARTIES:
                text = self.fast_parties(raw, _PARTY_LISTS[key])
                if text is None:
                    return None
                rest.append(key + text)
            else:  # ilmd
                text = self.fast_flat_object(raw)
                if text is None:
                    return None
                rest.append(self.name(key) + text)
        text = (
            "eventType="
            + event_type
            + "".join([ordered[name] for name in sorted(ordered, key=_CANONICAL_RANK.__getitem__)])
        )
        if rest:
            rest.sort()
            text += "".join(rest)
        return text

    def leaf_part(self, key: str, raw: str, kind: str) -> str:
        """``key=value`` of a scalar, CBV term or location id field as the fast path renders
        it ("" when it renders to nothing), cached: a document repeats its times and places."""
        if kind == _KIND_TERM:
            text = self.vocabulary_value(raw, BIZ_STEP if key == "bizStep" else DISPOSITION)
        elif key == "eventTime":
            text = self.timestamp(raw)
        else:
            text = self.value(raw)
        if kind == _KIND_LOCATION:
            part = key + ("id=" + text if text else "")
        else:
            part = key + "=" + text if text else ""
        if len(self.parts) >= _VALUE_CACHE_SIZE:
            self.parts.clear()
        self.parts[(key, raw)] = part
        return part

    def fast_quantities(self, raw: Any) -> str | None:
        if type(raw) is not list:
            return None
        elements = []
        for item in raw:
            if type(item) is not dict or "epcClass" not in item:
                return None
            text = "quantityElement"
            for key in ("epcClass", "quantity", "uom"):
                if key in item:
                    leaf = item[key]
                    if not isinstance(leaf, str | int | float) or isinstance(leaf, bool):
                        return None
                    normalised = self.value(leaf)
                    if normalised:
                        text += key + "=" + normalised
            if len(item) != sum(1 for key in ("epcClass", "quantity", "uom") if key in item):
                return None
            elements.append(text)
        elements.sort()
        return "".join(elements)

    def fast_parties(self, raw: Any, value_key: str) -> str | None:
        if type(raw) is not list:
            return None
        vocabulary = (
            BIZ_TRANSACTION_TYPE if value_key == "bizTransaction" else SOURCE_DESTINATION_TYPE
        )
        parties = []
        for item in raw:
            if type(item) is not dict or value_key not in item:
                return None
            if len(item) != (2 if "type" in item else 1):
                return None
            text = ""
            if "type" in item:
                kind = item["type"]
                if not isinstance(kind, str):
                    return None
                normalised = self.vocabulary_value(kind, vocabulary)
                text = "type=" + normalised if normalised else "type"
            leaf = item[value_key]
            if not isinstance(leaf, str):
                return None
            normalised = self.value(leaf)
            text += value_key + "=" + normalised if normalised else value_key
            parties.append(text)
        parties.sort()
        return "".join(parties)

    def fast_flat_object(self, raw: Any) -> str | None:
        """An object of scalar fields (ILMD as commonly sent), children sorted."""
        if type(raw) is not dict:
            return None
        cache = self.object_parts
        rendered = []
        for key, leaf in raw.items():
            if not isinstance(key, str) or not isinstance(leaf, str | int | float):
                return None
            if type(leaf) is str:
                # Only exact strings are cached: 1, 1.0 and True are equal dict keys.
                part = cache.get((key, leaf))
                if part is None:
                    if len(cache) >= _VALUE_CACHE_SIZE:
                        cache.clear()
                    part = cache[(key, leaf)] = self.flat_part(key, leaf)
            else:
                part = self.flat_part(key, leaf)
            rendered.append(part)
        rendered.sort()
        return "".join(rendered)

    def flat_part(self, key: str, leaf: str | float) -> str:
        """One field of a flat object as ``{namespace}name=value`` ("" for a comment)."""
        if self.is_comment(key):
            return ""
        normalised = self.value(leaf)
        name = self.name(key)
        return name + "=" + normalised if normalised else name

    # structure ----------------------------------------------------------------------------

    def event(self, event: Mapping[str, Any]) -> list[_Node]:
        nodes: list[_Node] = []
        for key, raw in event.items():
            if key in _EXCLUDED or self.is_comment(key) or key in self.ignored:
                continue
            if self.name(key) in self.ignored:
                continue
            nodes.extend(self.field(key, raw))
        return nodes

    def field(self, key: str, raw: Any) -> list[_Node]:
        if key == "eventTime":
            return [_Node(key, _timestamp(raw))]
        if key in _EPC_LISTS:
            return [_Node(key, children=[_Node("epc", self.value(epc)) for epc in _items(raw)])]
        if key in _QUANTITY_LISTS:
            elements = [
                _Node("quantityElement", children=self.generic_children(item))
                for item in _items(raw)
            ]
            return [_Node(key, children=elements)]
        if key == "bizStep":
            return [_Node(key, self.vocabulary_value(raw, BIZ_STEP))]
        if key == "disposition":
            return [_Node(key, self.vocabulary_value(raw, DISPOSITION))]
        if key == "persistentDisposition" and isinstance(raw, Mapping):
            children = [
                _Node(part, self.vocabulary_value(value, DISPOSITION))
                for part in ("set", "unset")
                for value in _items(raw.get(part))
            ]
            return [_Node(key, children=children)]
        if key in ("readPoint", "bizLocation") and isinstance(raw, Mapping):
            return [_Node(key, children=self.generic_children(raw))]
        if key in _PARTY_LISTS:
            parties = [self.party(item, _PARTY_LISTS[key]) for item in _items(raw)]
            return [_Node(key, children=parties)]
        if key == "sensorElementList":
            return [_Node(key, children=[self.sensor_element(item) for item in _items(raw)])]
        return self.generic(key, raw)

    def party(self, item: Any, value_key: str) -> _Node:
        if not isinstance(item, Mapping):
            return _Node("", keep_child_order=True, children=[_Node(value_key, self.value(item))])
        vocabulary = (
            BIZ_TRANSACTION_TYPE if value_key == "bizTransaction" else SOURCE_DESTINATION_TYPE
        )
        children: list[_Node] = []
        if "type" in item:
            children.append(_Node("type", self.vocabulary_value(item["type"], vocabulary)))
        if value_key in item:
            children.append(_Node(value_key, self.value(item[value_key])))
        extra = {k: v for k, v in item.items() if k not in ("type", value_key)}
        children.extend(self.generic_children(extra))
        return _Node("", children=children, keep_child_order=True)

    def sensor_element(self, element: Any) -> _Node:
        if not isinstance(element, Mapping):
            return _Node("sensorElement", self.value(element))
        children: list[_Node] = []
        for key, raw in element.items():
            if self.is_comment(key):
                continue
            if key == "sensorMetadata" and isinstance(raw, Mapping):
                children.append(_Node(key, children=self.sensor_fields(raw)))
            elif key == "sensorReport":
                children.extend(
                    _Node(key, children=self.sensor_fields(report)) for report in _items(raw)
                )
            else:
                children.extend(self.generic(key, raw))
        return _Node("sensorElement", children=children)

    def sensor_fields(self, fields: Any) -> list[_Node]:
        if not isinstance(fields, Mapping):
            return []
        nodes: list[_Node] = []
        for key, raw in fields.items():
            if self.is_comment(key):
                continue
            if key in _SENSOR_TIMES:
                nodes.append(_Node(key, _timestamp(raw)))
            elif key in ("type", "exception") and isinstance(raw, str):
                foreign = self.foreign_curie(raw)
                term = raw if foreign else measurement_type_uri(raw, self.namespaces)
                nodes.append(_Node(key, self.value(term)))
            elif key == "component":
                if isinstance(raw, str) and self.foreign_curie(raw):
                    nodes.append(_Node(key, self.value(raw)))
                else:
                    nodes.append(_Node(key, self.vocabulary_value(raw, SENSOR_COMPONENT)))
            else:
                nodes.extend(self.generic(key, raw))
        return nodes

    def generic_children(self, raw: Any) -> list[_Node]:
        if not isinstance(raw, Mapping):
            return []
        nodes: list[_Node] = []
        for key, value in raw.items():
            if not self.is_comment(key):
                nodes.extend(self.generic(key, value))
        return nodes

    def generic(self, key: str, raw: Any) -> list[_Node]:
        """A field without special meaning: lists repeat the element, objects nest."""
        name = self.name(key)
        if isinstance(raw, list):
            return [node for item in raw for node in self.generic(key, item)]
        if isinstance(raw, Mapping):
            # {"#text": …} is the text of an XML element that also has attributes
            text = raw.get("#text")
            value = self.value(text) if isinstance(text, str | int | float) else ""
            return [_Node(name, value, children=self.generic_children(raw))]
        return [_Node(name, self.value(raw))]


def _items(raw: Any) -> list[Any]:
    if raw is None:
        return []
    return list(raw) if isinstance(raw, list) else [raw]


def _timestamp(raw: Any) -> str:
    if not isinstance(raw, str):
        return str(raw)
    try:
        return hash_timestamp(raw.strip())
    except ValueError:
        return raw.strip()  # the reference hashes an unparseable time as given


@lru_cache(maxsize=1 << 16)
def _normalised_text(text: str) -> str:
    # A pure function of the text, and documents repeat their values (classes, locations,
    # steps): computed once per distinct value.
    return _digital_link(_canonical_number(_cbv_urn_to_web_uri(text)))


def _cbv_urn_to_web_uri(text: str) -> str:
    lowered = text.lower()
    for prefix, vocabulary in _CBV_URNS:
        if lowered.startswith(prefix):
            return vocabulary.web_uri(text[len(prefix) :])
    return text


def _canonical_number(text: str) -> str:
    """Numbers without leading ``+``, leading zeros or trailing ``.0`` (reference rule)."""
    if not _NUMBER.fullmatch(text):
        return text
    number = float(text)
    if number != number or number in (float("inf"), float("-inf")):
        return text
    if number == int(number):
        return str(int(number))
    return str(number)


def _digital_link(text: str) -> str:
    if ":" not in text:
        return text
    converted = digital_link_or_none(text)
    return text if converted is None else converted


def _render(node: _Node, order: _Order | None, leftovers: list[_Node] | None = None) -> str:
    head = node.name + "=" + node.value if node.value else node.name
    if order is not None:
        remnant: list[_Node] = []
        text = head + _render_in_order(node.children, order, remnant)
        if remnant and leftovers is not None:
            leftovers.append(_Node(node.name, children=remnant))
        return text
    if not node.children:
        return head
    parts = [_render(child, None) for child in node.children]
    if not node.keep_child_order:
        parts.sort()
    return head + "".join(parts)


def _inline_extension(node: _Node) -> bool:
    """An extension the reference renders inside its enclosing standard element: a
    namespaced name whose namespace ends with ``/`` (``{https://ns.example.com/epcis/}x``)."""
    return node.name.startswith("{") and "/}" in node.name


def _render_in_order(
    children: list[_Node], order: _Order, leftovers: list[_Node] | None = None
) -> str:
    """Ordered children first, then the rest (extensions) sorted.

    At the top (``leftovers is None``) the rest is every other field. Inside a standard
    element (``sensorReport``, ``readPoint`` …) only extensions whose namespace ends with
    ``/`` stay there; any other field that element's order does not name (an unknown plain
    field such as ``bizRules`` on a ``sensorReport``, or an extension in a namespace without
    a trailing ``/``) is moved, with the names of the elements around it, to the end of the
    event, among its other fields (the reference generator's rule, see docs/epcis.md)."""
    top = leftovers is None
    remnants: list[_Node] = [] if leftovers is None else leftovers
    by_name: dict[str, list[_Node]] = {}
    for child in children:
        by_name.setdefault(child.name, []).append(child)
    text = ""
    for name, child_order in order:
        matching = by_name.pop(name, None)
        if not matching:
            continue
        rendered = sorted(
            part
            for child in matching
            if (part := _render(child, child_order, remnants)) != child.name or child.children
        )
        text += "".join(rendered)
    if top:
        remaining = [child for group in by_name.values() for child in group] + remnants
    elif by_name:
        # (the reference keeps nothing inline in an element with a single child)
        inline = len(children) > 1
        remaining = []
        for group in by_name.values():
            for child in group:
                if inline and _inline_extension(child):
                    remaining.append(child)
                else:
                    remnants.append(child)
    else:
        return text
    return text + "".join(sorted(_render(child, None) for child in remaining))


_BUILDERS: dict[tuple[Any, ...], _Builder] = {}
_last_plain_builder: _Builder | None = None


def _builder(namespaces: Mapping[str, str], ignore_fields: Collection[str]) -> _Builder:
    """A builder for these namespaces and ignored fields, shared by the events that have them
    (a document's events all do), so its name and value caches carry over between events.

    Consecutive events nearly always share their namespaces and ignore no field: the last
    such builder is taken back on equal namespaces without building the sorted key."""
    global _last_plain_builder
    last = _last_plain_builder
    if not ignore_fields and last is not None and last.namespaces == namespaces:
        return last
    key = (tuple(sorted(namespaces.items())), tuple(sorted(ignore_fields)))
    builder = _BUILDERS.get(key)
    if builder is None:
        if len(_BUILDERS) >= _BUILDER_CACHE_SIZE:
            _BUILDERS.clear()
        # A private copy: the caller's mapping may change after this call.
        builder = _BUILDERS[key] = _Builder(dict(namespaces), ignore_fields)
    if not ignore_fields:
        _last_plain_builder = builder
    return builder


# --- public API ---------------------------------------------------------------------------


def prehash_string(
    event: Mapping[str, Any],
    context: Any = None,
    *,
    ignore_fields: Collection[str] = (),
    namespaces: Mapping[str, str] | None = None,
) -> str:
    """The CBV 2.0 pre-hash string of one EPCIS JSON event.

    ``context`` is the JSON-LD ``@context`` that declares the event's namespace prefixes
    (the document's); by default the event's own ``@context`` is used, which events from
    ``iter_document_events`` carry. ``ignore_fields`` names repository-specific fields
    (CURIEs) to leave out, as listed by a document's ``ignoreFields``. ``namespaces`` is the
    prefix map of those contexts when the caller has already collected it.
    """
    if namespaces is None:
        namespaces = collect_namespaces(context, event.get("@context"))
    builder = _builder(namespaces, ignore_fields)
    fast = builder.fast_prehash(event)
    return fast if fast is not None else _general_prehash(builder, event)


def _general_prehash(builder: _Builder, event: Mapping[str, Any]) -> str:
    """The pre-hash string through the node tree: any event, any shape."""
    event_type = event.get("type")
    head = "eventType=" + (event_type if isinstance(event_type, str) else "")
    return head + _render_in_order(builder.event(event), CANONICAL_ORDER)


def event_hash(
    event: Mapping[str, Any],
    context: Any = None,
    *,
    ignore_fields: Collection[str] = (),
    namespaces: Mapping[str, str] | None = None,
) -> str:
    """The CBV 2.0 event hash ``ni:///sha-256;<hex>?ver=CBV2.0`` of one EPCIS JSON event.

    See :func:`prehash_string` for the arguments. The hash is the one EPCIS 2.0 recommends
    as ``eventID`` when the capturing application does not assign one.
    """
    prehash = prehash_string(event, context, ignore_fields=ignore_fields, namespaces=namespaces)
    digest = hashlib.sha256(prehash.encode())
    return f"ni:///sha-256;{digest.hexdigest()}?ver={HASH_VERSION}"


def document_ignore_fields(doc: Mapping[str, Any]) -> frozenset[str]:
    """The fields a document asks hash calculators to ignore (``<prefix>:ignoreFields``).

    Repositories add bookkeeping fields (their own hash, a capture id) to events they hand
    out; such a document lists them in an ``ignoreFields`` entry, at the top level or in
    ``epcisBody.queryResults``, so that the event hash is not disturbed by them.
    """
    found: set[str] = set()
    holders: list[Any] = [doc]
    body = doc.get("epcisBody")
    if isinstance(body, Mapping):
        holders.extend([body, body.get("queryResults")])
    for holder in holders:
        if not isinstance(holder, Mapping):
            continue
        for key, value in holder.items():
            if isinstance(key, str) and (key == "ignoreFields" or key.endswith(":ignoreFields")):
                found.update(item for item in _items(value) if isinstance(item, str))
    return frozenset(found)
