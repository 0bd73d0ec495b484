"""Events as the EPCIS 2.0 REST binding answers them (query, event by ID, top-level
resources, named queries and subscriptions).

* every event carries ``recordTime`` (when the ledger stored it; not in the stored document,
  which stays as sent so its hash verifies);
* ``GS1-EPC-Format`` is honoured over every identifier (EPCs, classes, parent, read point,
  business location, sources, destinations, business transactions, sensor device IDs):
  ``Always_GS1_Digital_Link`` (the default, and ``No_Preference``) answers every EPC URN as
  its canonical GS1 Digital Link URI; ``Never_Translates`` answers them as the capturer sent
  them; ``Always_EPC_URN`` answers a URN as sent and a Digital Link as its EPC URN
  (``medledger.identifiers.epc_urn``: the GS1 company prefix length from GS1's prefix
  table; a key whose prefix length the table does not know, or without a URN scheme, stays
  a Digital Link — see docs/epcis.md);
* the partner redaction of ``repository.event_documents`` is applied first, so nothing hidden
  is ever translated into view.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from medledger.core.errors import DomainError
from medledger.core.principal import Principal
from medledger.identifiers.epc import canonical_identifier_or_none, digital_link_or_none
from medledger.identifiers.epc_urn import digital_link_to_epc_urn
from medledger.trace.errors import Code
from medledger.trace.models import EpcisEvent
from medledger.trace.repository import event_documents

EPC_FORMATS: Final = (
    "No_Preference",
    "Always_GS1_Digital_Link",
    "Always_EPC_URN",
    "Never_Translates",
)
CBV_FORMATS: Final = ("No_Preference", "Always_Web_URI", "Always_URN", "Never_Translates")
STANDARD_CONTEXT: Final = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

_LISTS: Final = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_QUANTITY_LISTS: Final = (
    "quantityList",
    "childQuantityList",
    "inputQuantityList",
    "outputQuantityList",
)


def iso(moment: datetime) -> str:
    """An aware time as the binding writes it (UTC, milliseconds, ``Z``)."""
    text = moment.isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def header_choice(value: str | None, allowed: Sequence[str], header: str) -> str:
    """The value of a GS1 format header (default: the first), or a 400 naming it."""
    if value is None or not value.strip():
        return allowed[0]
    chosen = value.strip()
    if chosen not in allowed:
        raise DomainError(
            "{header} must be one of {allowed}, not {value}.",
            code=Code.INVALID_QUERY_PARAMETER,
            params={"header": header, "allowed": ", ".join(allowed), "value": chosen[:60]},
            status=400,
        )
    return chosen


def _translated(value: Any, epc_format: str) -> Any:
    if not isinstance(value, str) or epc_format == "Never_Translates":
        return value
    if epc_format == "Always_EPC_URN":
        if value.startswith("urn:"):
            return value
        link = canonical_identifier_or_none(value) if value.startswith("http") else None
        urn = digital_link_to_epc_urn(link) if link is not None else None
        return urn if urn is not None else value
    if value.startswith("urn:epc:"):
        link = digital_link_or_none(value)
        return link if link is not None else value
    return value


def translate_identifiers(document: dict[str, Any], epc_format: str) -> dict[str, Any]:
    """``document`` with its identifiers in ``epc_format`` (see the module doc)."""
    if epc_format == "Never_Translates":
        return document
    answer = dict(document)
    if "parentID" in answer:
        answer["parentID"] = _translated(answer["parentID"], epc_format)
    for name in _LISTS:
        if isinstance(answer.get(name), list):
            answer[name] = [_translated(v, epc_format) for v in answer[name]]
    for name in _QUANTITY_LISTS:
        if isinstance(answer.get(name), list):
            answer[name] = [
                {**q, "epcClass": _translated(q.get("epcClass"), epc_format)}
                if isinstance(q, dict) and "epcClass" in q
                else q
                for q in answer[name]
            ]
    for place in ("readPoint", "bizLocation"):
        if isinstance(answer.get(place), dict) and "id" in answer[place]:
            answer[place] = {**answer[place], "id": _translated(answer[place]["id"], epc_format)}
    for name, key in (
        ("sourceList", "source"),
        ("destinationList", "destination"),
        ("bizTransactionList", "bizTransaction"),
    ):
        if isinstance(answer.get(name), list):
            answer[name] = [
                {**entry, key: _translated(entry.get(key), epc_format)}
                if isinstance(entry, dict) and key in entry
                else entry
                for entry in answer[name]
            ]
    if isinstance(answer.get("sensorElementList"), list):
        answer["sensorElementList"] = [
            _sensor_element(element, epc_format) for element in answer["sensorElementList"]
        ]
    return answer


def _sensor_element(element: Any, epc_format: str) -> Any:
    """A sensor element with the ``deviceID`` of its metadata and reports translated."""
    if not isinstance(element, dict):
        return element
    answer = dict(element)
    metadata = answer.get("sensorMetadata")
    if isinstance(metadata, dict) and "deviceID" in metadata:
        answer["sensorMetadata"] = {
            **metadata,
            "deviceID": _translated(metadata["deviceID"], epc_format),
        }
    if isinstance(answer.get("sensorReport"), list):
        answer["sensorReport"] = [
            {**report, "deviceID": _translated(report["deviceID"], epc_format)}
            if isinstance(report, dict) and "deviceID" in report
            else report
            for report in answer["sensorReport"]
        ]
    return answer


def answered_events(
    session: Session,
    principal: Principal,
    rows: Sequence[EpcisEvent],
    epc_format: str = "Always_GS1_Digital_Link",
) -> list[dict[str, Any]]:
    """The JSON of ``rows`` as ``principal`` may read them, with ``recordTime``, in
    ``epc_format``."""
    documents = event_documents(session, principal, rows)
    answers = []
    for row, document in zip(rows, documents, strict=True):
        shown = translate_identifiers(document, epc_format)
        shown = {**shown, "recordTime": iso(row.record_time)}
        answers.append(shown)
    return answers


def query_document(
    events: list[dict[str, Any]],
    created: datetime,
    *,
    query_name: str = "SimpleEventQuery",
    subscription_id: str | None = None,
    contexts: Sequence[Any] = (),
) -> dict[str, Any]:
    """The EPCISQueryDocument answering a query (or a subscription's report)."""
    results: dict[str, Any] = {"queryName": query_name}
    if subscription_id is not None:
        results["subscriptionID"] = subscription_id
    results["resultsBody"] = {"eventList": events}
    return {
        "@context": [STANDARD_CONTEXT, *contexts],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": iso(created),
        "epcisBody": {"queryResults": results},
    }
