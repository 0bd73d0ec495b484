"""JSON-LD ``@context`` handling for EPCIS 2.0 documents: namespace prefixes and field keys.

EPCIS 2.0 JSON names user extension fields and ILMD fields with CURIEs (``example:myField``)
whose prefix is declared in the document's (or the event's) ``@context``. The engine does not
run a JSON-LD processor: the only things it needs from a context are its prefix
declarations, plus the prefixes of the standard EPCIS context, which every document
references and which cannot be fetched at run time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from enum import Enum
from functools import lru_cache
from typing import Any, Final

EPCIS_CONTEXT_URLS: Final = frozenset(
    {
        "https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
        "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
        "https://ref.gs1.org/standards/epcis/2.0.1/epcis-context.jsonld",
        "https://gs1.github.io/EPCIS/epcis-context.jsonld",
    }
)

# Prefixes declared by the standard EPCIS 2.0 JSON-LD context.
STANDARD_PREFIXES: Final[Mapping[str, str]] = {
    "epcis": "https://ref.gs1.org/epcis/",
    "cbv": "https://ref.gs1.org/cbv/",
    "cbvmda": "urn:epcglobal:cbv:mda:",
    "gs1": "https://gs1.org/voc/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
}

_PREFIX = re.compile(r"[A-Za-z_][\w.-]*")
_CURIE_KEY = re.compile(r"([A-Za-z_][\w.-]*):(?!//)(.+)", re.DOTALL)
_ABSOLUTE_URI = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*://\S+|urn:[A-Za-z0-9][\w-]*:\S+)", re.I)


class KeyForm(Enum):
    """How an extension field name is namespaced."""

    CURIE = "curie"
    """``prefix:local`` with the prefix declared in the ``@context``."""
    ABSOLUTE_URI = "absolute_uri"
    """A full URI (``https://ns.example.com/epcis/field``, ``urn:…``)."""
    UNDECLARED_PREFIX = "undeclared_prefix"
    """``prefix:local`` with a prefix that no ``@context`` declares."""
    BARE = "bare"
    """A plain name without any namespace."""


def collect_namespaces(*contexts: Any) -> dict[str, str]:
    """Return the prefix → namespace map declared by one or more JSON-LD contexts.

    Each argument is an ``@context`` value (a URL string, an object, or a list of those).
    The standard EPCIS prefixes are always present; later declarations win, as in JSON-LD.
    Remote context URLs other than the EPCIS one are not fetched.
    """
    namespaces = dict(STANDARD_PREFIXES)
    for context in contexts:
        _collect(context, namespaces)
    return namespaces


def _collect(context: Any, namespaces: dict[str, str]) -> None:
    if isinstance(context, Mapping):
        for term, definition in context.items():
            if not isinstance(term, str) or term.startswith("@") or ":" in term:
                continue
            iri = definition.get("@id") if isinstance(definition, Mapping) else definition
            if isinstance(iri, str) and _PREFIX.fullmatch(term) and _looks_like_namespace(iri):
                namespaces[term] = iri
    elif isinstance(context, Sequence) and not isinstance(context, str):
        for item in context:
            _collect(item, namespaces)


def _looks_like_namespace(iri: str) -> bool:
    return ":" in iri and not iri.startswith("@")


def merge_contexts(outer: Any, inner: Any) -> Any:
    """Combine a document's ``@context`` with an event's own, inner declarations last."""
    if outer is None:
        return inner
    if inner is None:
        return outer
    outer_list = list(outer) if isinstance(outer, list) else [outer]
    inner_list = list(inner) if isinstance(inner, list) else [inner]
    return outer_list + [item for item in inner_list if item not in outer_list]


def classify_key(key: str, namespaces: Mapping[str, str]) -> KeyForm:
    """Tell whether an extension field name is properly namespaced."""
    match = _CURIE_KEY.fullmatch(key)
    if match is not None and match.group(1) in namespaces:
        return KeyForm.CURIE
    if _ABSOLUTE_URI.fullmatch(key):
        return KeyForm.ABSOLUTE_URI
    if match is not None:
        return KeyForm.UNDECLARED_PREFIX
    return KeyForm.BARE


def expand_curie(value: str, namespaces: Mapping[str, str] | None) -> str:
    """Expand ``prefix:local`` to ``<namespace>local`` when ``prefix`` is declared.

    Anything else (a full URI, an undeclared prefix, a bare word) is returned unchanged.
    """
    if not namespaces:
        return value
    parts = _curie_parts(value)
    if parts is None:
        return value
    namespace = namespaces.get(parts[0])
    return value if namespace is None else namespace + parts[1]


def expand_key(key: str, namespaces: Mapping[str, str]) -> tuple[str, str] | None:
    """Split a namespaced field name into ``(namespace, local name)``.

    ``example:myField`` with ``example`` → ``https://ns.example.com/epcis/`` gives
    ``("https://ns.example.com/epcis/", "myField")``. Names that are not CURIEs with a
    declared prefix give ``None``.
    """
    parts = _curie_parts(key)
    if parts is None:
        return None
    namespace = namespaces.get(parts[0])
    if namespace is None:
        return None
    return namespace, parts[1]


@lru_cache(maxsize=1 << 14)
def _curie_parts(key: str) -> tuple[str, str] | None:
    # Field names and values repeat in every event; the regex runs once per distinct text.
    match = _CURIE_KEY.fullmatch(key)
    return None if match is None else (match.group(1), match.group(2))
