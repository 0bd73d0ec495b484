"""Canonical item identifiers of the ledger: their GS1 keys, lot URIs, GLNs.

Every identifier a capture stores is canonical (``https://id.gs1.org/…``, see
``medledger.identifiers.epc``); the projection and the queries read their kind and keys here.
"""

from __future__ import annotations

import re
from typing import Any

from medledger.identifiers.digital_link import encode_value
from medledger.identifiers.epc import CANONICAL_ORIGIN

__all__ = ["gln_of", "lot_uri", "parse_item_uri", "pgln_uri"]

_DL_PREFIX = CANONICAL_ORIGIN + "/"

# The canonical serial and lot forms, which nearly every identifier a capture writes takes:
# answered without splitting and decoding (values with ``%`` escapes take the general path).
_SIMPLE_SERIAL_OR_LOT = re.compile(re.escape(_DL_PREFIX) + r"01/(\d{14})/(21|10)/([^/%]{1,20})")


def parse_item_uri(uri: str) -> dict[str, Any]:
    """Kind and GS1 keys of a canonical identifier (``kind`` lot|serial|sscc|class|other)."""
    simple = _SIMPLE_SERIAL_OR_LOT.fullmatch(uri)
    if simple is not None:
        gtin, ai, value = simple.groups()
        if ai == "21":
            return {"kind": "serial", "gtin": gtin, "lot": None, "serial": value, "sscc": None}
        return {"kind": "lot", "gtin": gtin, "lot": value, "serial": None, "sscc": None}
    return _parse_item_uri_parts(uri)


def _parse_item_uri_parts(uri: str) -> dict[str, Any]:
    """:func:`parse_item_uri` for any identifier: split into AI/value pairs and decoded."""
    result: dict[str, Any] = {
        "kind": "other",
        "gtin": None,
        "lot": None,
        "serial": None,
        "sscc": None,
    }
    if not uri.startswith(_DL_PREFIX):
        return result
    from urllib.parse import unquote

    parts = uri[len(_DL_PREFIX) :].split("/")
    if len(parts) % 2:
        return result
    pairs = {parts[i]: unquote(parts[i + 1]) for i in range(0, len(parts), 2)}
    if "00" in pairs and len(pairs["00"]) <= 18:
        result.update(kind="sscc", sscc=pairs["00"])
    elif "01" in pairs and len(pairs["01"]) == 14:
        result["gtin"] = pairs["01"]
        serial, lot = pairs.get("21"), pairs.get("10")
        if serial is not None and len(serial) <= 20:
            result.update(kind="serial", serial=serial)
        elif lot is not None and len(lot) <= 20:
            result.update(kind="lot", lot=lot)
        elif serial is None and lot is None and len(pairs) == 1:
            result["kind"] = "class"
        else:
            result["gtin"] = None
    return result


def lot_uri(gtin: str, lot: str) -> str:
    """The canonical identifier of a lot of ``gtin``."""
    return f"{_DL_PREFIX}01/{gtin}/10/{encode_value(lot)}"


def gln_of(identifier: str) -> str | None:
    """The GLN inside a canonical ``pgln`` (AI 417) or ``sgln`` (AI 414) identifier."""
    for ai in ("417", "414"):
        prefix = f"{_DL_PREFIX}{ai}/"
        if identifier.startswith(prefix):
            gln = identifier[len(prefix) :].split("/", 1)[0]
            return gln if len(gln) == 13 and gln.isdigit() else None
    return None


def pgln_uri(gln: str) -> str:
    """The canonical party identifier (AI 417) of a GLN."""
    return f"{_DL_PREFIX}417/{gln}"
