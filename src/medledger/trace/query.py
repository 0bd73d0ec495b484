"""EPCIS 2.0 SimpleEventQuery over the ledger (``GET /epcis/events``).

Parameters (query string, EPCIS 2.0 names): ``eventType``, ``GE_/LT_eventTime``,
``GE_/LT_recordTime``, ``EQ_action``, ``EQ_bizStep``, ``EQ_disposition``, ``EQ_readPoint``,
``EQ_bizLocation``, ``EQ_transformationID``, ``MATCH_epc`` (epcList/childEPCs),
``MATCH_parentID``, ``MATCH_inputEPC``, ``MATCH_outputEPC``, ``MATCH_anyEPC``,
``MATCH_epcClass`` (quantity/childQuantity lists), ``MATCH_anyEPCClass`` (all quantity lists),
``EQ_bizTransaction_<type>``, ``EQ_source_<type>``, ``EQ_destination_<type>``, plus ``perPage``
and ``nextPageToken``.

Values are canonicalised as at capture (EPC URNs and Digital Links → ``https://id.gs1.org/…``,
CBV terms bare or as URIs). Several values of one parameter (comma- or ``|``-separated, or the
parameter repeated) are OR-ed; different parameters are AND-ed. ``MATCH_*`` accepts EPC pattern
URNs (``urn:epc:idpat:sgtin:0614141.107346.*``): every item of that GTIN matches.

Pages are ordered by (record time, row id); ``nextPageToken`` is an opaque keyset cursor, so
pages stay stable while new events arrive (they sort after).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, Select, String, and_, cast, or_, select
from sqlalchemy.orm import Session

from medledger.core.errors import DomainError, FieldError, ValidationFailed
from medledger.core.principal import Permission, Principal
from medledger.core.types import DB_INT_MAX
from medledger.identifiers.epc import canonical_identifier, epc_urn_to_digital_link
from medledger.trace.epcis.timestamps import to_utc
from medledger.trace.epcis.vocabulary import (
    BIZ_STEP,
    BIZ_TRANSACTION_TYPE,
    DISPOSITION,
    EVENT_TYPES,
    SOURCE_DESTINATION_TYPE,
    CbvVocabulary,
    UnknownVocabularyTerm,
    normalise_term,
)
from medledger.trace.errors import Code
from medledger.trace.ledger.item_keys import parse_item_uri
from medledger.trace.models import EpcisEvent, EventItem, TraceItem
from medledger.trace.query_fields import (
    CONTROL_PARAMETERS,
    document_filter,
    is_document_parameter,
)
from medledger.trace.repository import ERROR_DECLARATION_SUFFIX, item_access, visible_events

DEFAULT_PER_PAGE: Final = 30
MAX_PER_PAGE: Final = 1000

_MATCH_ROLES: Final[dict[str, tuple[str, ...]]] = {
    "MATCH_epc": ("epc", "child"),
    "MATCH_parentID": ("parent",),
    "MATCH_inputEPC": ("input",),
    "MATCH_outputEPC": ("output",),
    "MATCH_anyEPC": ("epc", "parent", "child", "input", "output"),
    "MATCH_epcClass": ("quantity", "child_quantity"),
    "MATCH_inputEPCClass": ("input_quantity",),
    "MATCH_outputEPCClass": ("output_quantity",),
    "MATCH_anyEPCClass": ("quantity", "child_quantity", "input_quantity", "output_quantity"),
}
_LIST_PARAMETERS: Final[dict[str, tuple[str, CbvVocabulary]]] = {
    "EQ_bizTransaction_": ("biz_transactions", BIZ_TRANSACTION_TYPE),
    "EQ_source_": ("sources", SOURCE_DESTINATION_TYPE),
    "EQ_destination_": ("destinations", SOURCE_DESTINATION_TYPE),
}
_ACTIONS: Final = ("ADD", "OBSERVE", "DELETE")


def invalid_parameter(name: str, message: str, **params: Any) -> DomainError:
    """The 400 problem for a bad query parameter (``errors[0].field`` names it)."""
    return DomainError(
        "Query parameter {parameter} is invalid: " + message,
        code=Code.INVALID_QUERY_PARAMETER,
        params={"parameter": name, **params},
        errors=[FieldError(name, Code.INVALID_QUERY_PARAMETER, message, params)],
        status=400,
    )


def split_values(raw: Sequence[str]) -> list[str]:
    """The OR-ed values of one parameter (repeated, comma- or ``|``-separated)."""
    values: list[str] = []
    for item in raw:
        for part in item.replace("|", ",").split(","):
            if part.strip():
                values.append(part.strip())
    return values


def canonical_query_identifier(value: str) -> str:
    """A query value in the storage form of identifiers (unknown URIs stay as they are)."""
    try:
        return canonical_identifier(value, field="query")
    except ValidationFailed:
        pass
    try:
        return epc_urn_to_digital_link(value, field="query")
    except ValidationFailed:
        return value


def _term(name: str, value: str, vocabulary: CbvVocabulary) -> str:
    try:
        return normalise_term(value, vocabulary)
    except UnknownVocabularyTerm:
        raise invalid_parameter(
            name, "{value} is not a standard CBV {label}", value=value, label=vocabulary.label
        ) from None


def _time(name: str, values: list[str]) -> datetime:
    if len(values) != 1:
        raise invalid_parameter(name, "give exactly one time")
    try:
        return to_utc(values[0])
    except (ValueError, TypeError):
        raise invalid_parameter(
            name, "{value} is not a date-time with a time zone", value=values[0]
        ) from None


def _match(name: str, values: list[str], principal: Principal | None) -> ColumnElement[bool]:
    roles = _MATCH_ROLES[name]
    exact: list[str] = []
    gtins: list[str] = []
    for value in values:
        if "*" in value:
            gtin = _pattern_gtin(value)
            if gtin is None:
                raise invalid_parameter(name, "{value} is not a supported EPC pattern", value=value)
            gtins.append(gtin)
        else:
            exact.append(canonical_query_identifier(value))
    item_condition: list[ColumnElement[bool]] = []
    if exact:
        item_condition.append(TraceItem.uri.in_(exact))
    if gtins:
        item_condition.append(TraceItem.gtin.in_(gtins))
    matching = (
        select(EventItem.event_row_id)
        .join(TraceItem, TraceItem.id == EventItem.item_id)
        .where(EventItem.role.in_(roles), or_(*item_condition))
    )
    if principal is None or principal.sees_all_parties:
        return EpcisEvent.id.in_(matching)
    # A partner matches an event by an identifier it may read, or by any in an event it
    # captured itself: never by one the answer would withhold.
    readable = matching.where(item_access(EventItem.item_id, principal))
    return EpcisEvent.id.in_(readable) | (
        (EpcisEvent.capturing_party_id == principal.party_id) & EpcisEvent.id.in_(matching)
    )


def _pattern_gtin(value: str) -> str | None:
    """The GTIN of an sgtin/lgtin pattern URN whose serial or lot is ``*``."""
    head, _, last = value.rpartition(".")
    if last != "*" or not head:
        return None
    for kind in ("sgtin", "lgtin"):
        prefix = f"urn:epc:idpat:{kind}:"
        if value.startswith(prefix):
            class_urn = "urn:epc:idpat:sgtin:" + head[len(prefix) :] + ".*"
            keys = parse_item_uri(canonical_query_identifier(class_urn))
            gtin = keys.get("gtin")
            return gtin if isinstance(gtin, str) else None
    return None


def _list_condition(
    name: str, column_name: str, vocabulary: CbvVocabulary, values: list[str]
) -> ColumnElement[bool]:
    kind = name.split("_", 2)[2] if name.count("_") >= 2 else ""
    if not kind:
        raise invalid_parameter(name, "name the type after the parameter")
    type_value = _term(name, kind, vocabulary)
    column = getattr(EpcisEvent, column_name)
    # The lists are JSON arrays of {"type", "value"} written by one serialiser on both
    # databases, so an exact fragment match is portable (and exact: keys and quotes included).
    fragments = []
    for value in values:
        fragment = json.dumps({"type": type_value, "value": canonical_query_identifier(value)})
        escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        fragments.append(cast(column, String).like(f"%{escaped}%", escape="\\"))
    return or_(*fragments)


def _grouped(parameters: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in parameters:
        if name not in CONTROL_PARAMETERS:
            grouped.setdefault(name, []).append(value)
    return {name: split_values(raw) for name, raw in grouped.items()}


def _within(place: Any, value: str) -> ColumnElement[bool]:
    """``place`` is the location ``value`` or within it: a GLN location holds the sub-locations
    written as the same GLN with a GLN extension (``…/414/<gln>/254/<ext>``)."""
    location = canonical_query_identifier(value)
    escaped = location.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(place == location, place.like(escaped + "/254/%", escape="\\"))


def build_conditions(
    parameters: Iterable[tuple[str, str]], principal: Principal | None = None
) -> list[ColumnElement[bool]]:
    """SQL conditions of the query parameters (raises a 400 problem naming a bad one);
    with a partner ``principal``, identifiers match only items it may read."""
    grouped: dict[str, list[str]] = {}
    for name, value in parameters:
        if name in CONTROL_PARAMETERS or is_document_parameter(name):
            continue
        grouped.setdefault(name, []).append(value)
    conditions: list[ColumnElement[bool]] = []
    for name, raw in grouped.items():
        values = split_values(raw)
        if not values:
            raise invalid_parameter(name, "give a value")
        if name == "eventType":
            unknown = [v for v in values if v not in EVENT_TYPES]
            if unknown:
                raise invalid_parameter(
                    name, "{value} is not an EPCIS event type", value=unknown[0]
                )
            conditions.append(EpcisEvent.event_type.in_(values))
        elif name in ("GE_eventTime", "LT_eventTime", "GE_recordTime", "LT_recordTime"):
            moment = _time(name, values)
            column = EpcisEvent.event_time if name.endswith("eventTime") else EpcisEvent.record_time
            conditions.append(column >= moment if name.startswith("GE_") else column < moment)
        elif name == "EQ_action":
            unknown = [v for v in values if v not in _ACTIONS]
            if unknown:
                raise invalid_parameter(
                    name, "{value} is not ADD, OBSERVE or DELETE", value=unknown[0]
                )
            conditions.append(EpcisEvent.action.in_(values))
        elif name == "EQ_bizStep":
            conditions.append(EpcisEvent.biz_step.in_([_term(name, v, BIZ_STEP) for v in values]))
        elif name == "EQ_disposition":
            conditions.append(
                EpcisEvent.disposition.in_([_term(name, v, DISPOSITION) for v in values])
            )
        elif name in ("EQ_readPoint", "EQ_bizLocation"):
            place = EpcisEvent.read_point if name == "EQ_readPoint" else EpcisEvent.biz_location
            conditions.append(place.in_([canonical_query_identifier(v) for v in values]))
        elif name in ("WD_readPoint", "WD_bizLocation"):
            place = EpcisEvent.read_point if name == "WD_readPoint" else EpcisEvent.biz_location
            conditions.append(or_(*[_within(place, v) for v in values]))
        elif name == "EQ_eventID":
            keys = [*values, *(v + ERROR_DECLARATION_SUFFIX for v in values)]
            conditions.append(EpcisEvent.event_id.in_(keys))
        elif name == "EQ_transformationID":
            identifiers = [canonical_query_identifier(v) for v in values]
            conditions.append(EpcisEvent.transformation_id.in_(identifiers))
        elif name in _MATCH_ROLES:
            conditions.append(_match(name, values, principal))
        else:
            prefix = next((p for p in _LIST_PARAMETERS if name.startswith(p)), None)
            if prefix is None:
                raise invalid_parameter(name, "unknown query parameter")
            column_name, vocabulary = _LIST_PARAMETERS[prefix]
            conditions.append(_list_condition(name, column_name, vocabulary, values))
    return conditions


def encode_page_token(moment: datetime, row_id: int, served: int = 0) -> str:
    """The opaque cursor after the row (moment, row_id), ``served`` events already answered."""
    raw = json.dumps([moment.isoformat(), row_id, served]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token: str) -> tuple[datetime, int, int]:
    """Inverse of :func:`encode_page_token` (400 naming ``nextPageToken`` if it is not one)."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        moment, row_id, served = json.loads(raw)
        after = datetime.fromisoformat(moment)
        # Only what encode_page_token writes: an aware time and a row id the database holds.
        if after.tzinfo is None or type(row_id) is not int or not 0 < row_id <= DB_INT_MAX:
            raise ValueError(token)
        if type(served) is not int or not 0 <= served <= DB_INT_MAX:
            raise ValueError(token)
        return after, row_id, served
    except (ValueError, TypeError, RecursionError):
        raise invalid_parameter("nextPageToken", "not a token this server gave") from None


def encode_job_token(job_id: int) -> str:
    """The opaque cursor of the capture jobs older than ``job_id``."""
    return base64.urlsafe_b64encode(json.dumps(["job", job_id]).encode()).decode().rstrip("=")


def decode_job_token(token: str) -> int:
    """Inverse of :func:`encode_job_token` (400 naming ``nextPageToken``)."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        kind, job_id = json.loads(raw)
        if kind != "job" or type(job_id) is not int or not 0 < job_id <= DB_INT_MAX:
            raise ValueError(token)
        return job_id
    except (ValueError, TypeError, RecursionError):
        raise invalid_parameter("nextPageToken", "not a token this server gave") from None


def _per_page(values: list[str]) -> int:
    if not values:
        return DEFAULT_PER_PAGE
    try:
        number = int(values[-1])
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_PER_PAGE:
        raise invalid_parameter(
            "perPage", "give a whole number from 1 to {maximum}", maximum=MAX_PER_PAGE
        )
    return number


def _count_parameter(name: str, values: list[str]) -> int | None:
    if not values:
        return None
    try:
        number = int(values[-1])
    except ValueError:
        number = 0
    if not 1 <= number <= DB_INT_MAX:
        raise invalid_parameter(name, "give a positive whole number")
    return number


def _order(parameters: Sequence[tuple[str, str]]) -> tuple[str, bool]:
    """(``eventTime`` | ``recordTime``, descending?) of ``orderBy``/``orderDirection``."""
    by = [v for k, v in parameters if k == "orderBy"]
    direction = [v for k, v in parameters if k == "orderDirection"]
    order_by = by[-1] if by else "recordTime"
    if order_by not in ("eventTime", "recordTime"):
        raise invalid_parameter("orderBy", "order by eventTime or recordTime")
    descending = False
    if direction:
        if direction[-1] not in ("ASC", "DESC"):
            raise invalid_parameter("orderDirection", "give ASC or DESC")
        descending = direction[-1] == "DESC"
    elif by:
        descending = True  # the standard's default once orderBy is given
    return order_by, descending


@dataclass(frozen=True)
class RowPage:
    """One page of query results: the event rows and the next page's token."""

    rows: list[EpcisEvent]
    next_page_token: str | None


_SCAN: Final = 500


def query_events(
    session: Session, principal: Principal, parameters: Sequence[tuple[str, str]]
) -> RowPage:
    """One page of the events the principal may see that match ``parameters`` (the raw
    query-string pairs). Raises a 400 problem (``epcis.invalid_query_parameter``) naming the
    first bad parameter, a 413 (``epcis.query_too_large``) when more than ``maxEventCount``
    events match."""
    principal.require(Permission.TRACE_READ)
    per_page = _per_page([v for k, v in parameters if k == "perPage"])
    limit = _count_parameter(
        "eventCountLimit", [v for k, v in parameters if k == "eventCountLimit"]
    )
    most = _count_parameter("maxEventCount", [v for k, v in parameters if k == "maxEventCount"])
    if limit is not None and most is not None:
        raise invalid_parameter("maxEventCount", "give eventCountLimit or maxEventCount, not both")
    order_by, descending = _order(parameters)
    tokens = [v for k, v in parameters if k == "nextPageToken"]
    matches = document_filter(list(_grouped(parameters).items()))
    stmt: Select[Any] = visible_events(principal).where(*build_conditions(parameters, principal))
    if most is not None:
        seen = _count_matching(session, stmt, matches, most + 1)
        if seen > most:
            raise DomainError(
                "More than {most} events match the query (maxEventCount).",
                code=Code.QUERY_TOO_LARGE,
                params={"most": most},
                status=413,
            )
    column = EpcisEvent.event_time if order_by == "eventTime" else EpcisEvent.record_time
    served = 0
    if tokens:
        after_time, after_id, served = decode_page_token(tokens[-1])
        if descending:
            stmt = stmt.where(
                or_(column < after_time, and_(column == after_time, EpcisEvent.id < after_id))
            )
        else:
            stmt = stmt.where(
                or_(column > after_time, and_(column == after_time, EpcisEvent.id > after_id))
            )
    if descending:
        stmt = stmt.order_by(column.desc(), EpcisEvent.id.desc())
    else:
        stmt = stmt.order_by(column, EpcisEvent.id)
    wanted = per_page
    if limit is not None:
        wanted = max(0, min(per_page, limit - served))
    rows: list[EpcisEvent] = []
    more = False
    if wanted:
        rows, more = _collect(session, stmt, matches, wanted, descending, column)
    if limit is not None and served + len(rows) >= limit:
        more = False
    token = None
    if more and rows:
        last = rows[-1]
        moment = last.event_time if order_by == "eventTime" else last.record_time
        token = encode_page_token(moment, last.id, served + len(rows))
    return RowPage(rows, token)


def _collect(
    session: Session,
    stmt: Select[Any],
    matches: Callable[[dict[str, Any]], bool] | None,
    wanted: int,
    descending: bool,
    column: Any,
) -> tuple[list[EpcisEvent], bool]:
    """Up to ``wanted`` matching rows of ``stmt`` and whether there are more."""
    if matches is None:
        rows = list(session.scalars(stmt.limit(wanted + 1)))
        return rows[:wanted], len(rows) > wanted
    found: list[EpcisEvent] = []
    scan = stmt
    while True:
        batch = list(session.scalars(scan.limit(_SCAN)))
        for row in batch:
            if matches(row.document):
                if len(found) == wanted:
                    return found, True
                found.append(row)
        if len(batch) < _SCAN:
            return found, False
        last = batch[-1]
        moment = getattr(last, column.key)
        if descending:
            scan = stmt.where(or_(column < moment, and_(column == moment, EpcisEvent.id < last.id)))
        else:
            scan = stmt.where(or_(column > moment, and_(column == moment, EpcisEvent.id > last.id)))


def _count_matching(
    session: Session,
    stmt: Select[Any],
    matches: Callable[[dict[str, Any]], bool] | None,
    cap: int,
) -> int:
    if matches is None:
        return len(list(session.scalars(stmt.with_only_columns(EpcisEvent.id).limit(cap))))
    rows, more = _collect(session, stmt.order_by(EpcisEvent.id), matches, cap, False, EpcisEvent.id)
    return len(rows) + (1 if more else 0)
