"""Named queries and their subscriptions (``/epcis/queries`` of the EPCIS 2.0 REST binding).

* A named query is ``{"name", "query"}``; ``query`` holds SimpleEventQuery parameters
  (``{"EQ_bizStep": ["shipping"], "GE_eventTime": "…"}``: a list is OR-ed, numbers and
  booleans are written as in a query string). It is checked when created (a bad parameter is a
  ``QueryParameterException``). Names belong to the caller's party: another party's names do
  not exist for it (404), and the same name may be used by two parties.
* ``GET /epcis/queries/{name}/events`` runs it for the caller (only what the caller may see).
* A subscription (``POST /epcis/queries/{name}/subscriptions``, ``{"dest", "stream": true,
  "signatureToken"?, "reportIfEmpty"?, "initialRecordTime"?}``) is fed as events are captured:
  in the capture transaction, the events of the capture that match the query *and that the
  subscriber may see* are written, as an ``EPCISQueryDocument`` carrying the
  ``subscriptionID``, to the integration outbox for the subscription's webhook (signed and
  retried by ``medledger worker``; see docs/integration.md). ``initialRecordTime`` first
  reports the matching events already recorded since then. Scheduled (cron-like)
  subscriptions are refused with ``SubscriptionControlsException``: see docs/epcis.md.
* The delivery goes through a sink registered by the integration gateway
  (:func:`register_webhook_sink`), so trace does not reach into integration's tables.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from medledger.core.db import utcnow
from medledger.core.errors import DomainError, FieldError, NotFound
from medledger.core.principal import Permission, Principal, make_principal
from medledger.trace.answers import EPC_FORMATS, answered_events, query_document
from medledger.trace.epcis.timestamps import to_utc
from medledger.trace.errors import Code
from medledger.trace.ledger.registry import LedgerChange, register_projection
from medledger.trace.models import EpcisEvent, NamedQuery, QuerySubscription
from medledger.trace.query import build_conditions, query_events
from medledger.trace.query_fields import CONTROL_PARAMETERS, document_filter
from medledger.trace.repository import visible_events

NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.~-]{0,199}$")
EVENT_TYPE: Final = "epcis.query_result"


class WebhookSink(Protocol):
    """Where subscription reports go (the integration gateway registers one)."""

    def open(
        self, session: Session, principal: Principal, *, name: str, url: str, secret: str
    ) -> int:
        """A webhook for ``url`` signed with ``secret``; its id."""

    def deliver(
        self,
        session: Session,
        *,
        tenant_id: int,
        party_id: int,
        webhook_id: int,
        subject: str,
        document: dict[str, Any],
    ) -> None:
        """Queue ``document`` for the webhook (in the caller's transaction)."""

    def close(self, session: Session, webhook_id: int) -> None:
        """Switch the webhook off."""

    def check_url(self, url: str, *, allow_private_networks: bool) -> str:
        """``url`` if webhooks may be sent there, else a clear error on the field."""


_sink: list[WebhookSink] = []


def register_webhook_sink(sink: WebhookSink) -> None:
    _sink[:] = [sink]


def _webhooks() -> WebhookSink:
    if not _sink:
        raise DomainError(
            "Query subscriptions by webhook are not available on this server.",
            code=Code.SUBSCRIPTION_INVALID,
            status=501,
        )
    return _sink[0]


def _definition_error(message: str, field: str = "query", **params: Any) -> DomainError:
    return DomainError(
        message,
        code=Code.INVALID_QUERY_DEFINITION,
        params=params,
        errors=[FieldError(field, Code.INVALID_QUERY_DEFINITION, message, params)],
        status=400,
    )


def parameter_pairs(query: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The query-string pairs of a stored query definition."""
    pairs: list[tuple[str, str]] = []
    for name, value in query.items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, bool):
                pairs.append((name, "true" if item else "false"))
            elif isinstance(item, (str, int, float)):
                pairs.append((name, str(item)))
            else:
                raise _definition_error(
                    "Parameter {parameter} must be a string, number, boolean or a list of them.",
                    field=f"query.{name}",
                    parameter=name,
                )
    return pairs


def _definition(body: Any) -> tuple[str, dict[str, Any]]:
    if not isinstance(body, Mapping):
        raise _definition_error('The body must be {{"name": …, "query": {{…}}}}.', "body")
    name = body.get("name")
    query = body.get("query")
    if not isinstance(name, str) or not NAME.match(name):
        raise _definition_error(
            "name must be 1 to 200 letters, digits or _.~- (starting with a letter or digit).",
            "name",
        )
    if not isinstance(query, Mapping):
        raise _definition_error("query must be an object of query parameters.")
    if any(
        not isinstance(k, str)
        or k
        in CONTROL_PARAMETERS - {"orderBy", "orderDirection", "eventCountLimit", "maxEventCount"}
        for k in query
    ):
        raise _definition_error("query holds no paging parameters (perPage, nextPageToken).")
    return name, dict(query)


def _check(principal: Principal, query: Mapping[str, Any]) -> None:
    """Raises the 400 problem of the first bad parameter of ``query``."""
    pairs = parameter_pairs(query)
    build_conditions(pairs, principal)
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    document_filter(list(grouped.items()))


def create_query(session: Session, principal: Principal, body: Any) -> NamedQuery:
    principal.require(Permission.TRACE_READ)
    name, query = _definition(body)
    _check(principal, query)
    if _find(session, principal, name) is not None:
        raise DomainError(
            "A query named {name} already exists.",
            code=Code.QUERY_EXISTS,
            params={"name": name},
            errors=[FieldError("name", Code.QUERY_EXISTS, "already used")],
            status=409,
        )
    named = NamedQuery(
        tenant_id=principal.tenant_id,
        party_id=principal.party_id,
        name=name,
        query=query,
        created_by=principal.label[:200],
        created_at=utcnow(),
    )
    session.add(named)
    session.flush()
    return named


def _find(session: Session, principal: Principal, name: str) -> NamedQuery | None:
    return session.scalar(
        select(NamedQuery).where(
            NamedQuery.tenant_id == principal.tenant_id,
            NamedQuery.party_id == principal.party_id,
            NamedQuery.name == name,
        )
    )


def get_query(session: Session, principal: Principal, name: str) -> NamedQuery:
    principal.require(Permission.TRACE_READ)
    found = _find(session, principal, name)
    if found is None:
        raise NotFound(
            "No query is named {name}.", code=Code.QUERY_NOT_FOUND, params={"name": name[:200]}
        )
    return found


def list_queries(
    session: Session, principal: Principal, per_page: int, after: str | None
) -> tuple[list[NamedQuery], str | None]:
    principal.require(Permission.TRACE_READ)
    stmt = select(NamedQuery).where(
        NamedQuery.tenant_id == principal.tenant_id, NamedQuery.party_id == principal.party_id
    )
    if after is not None:
        stmt = stmt.where(NamedQuery.name > after)
    rows = list(session.scalars(stmt.order_by(NamedQuery.name).limit(per_page + 1)))
    more = len(rows) > per_page
    rows = rows[:per_page]
    return rows, (rows[-1].name if more and rows else None)


def delete_query(session: Session, principal: Principal, name: str) -> None:
    named = get_query(session, principal, name)
    for subscription in _subscriptions_of(session, named):
        _close(session, subscription)
    session.flush()  # the subscriptions first (no ORM relationship orders the deletes)
    session.delete(named)
    session.flush()


def query_json(named: NamedQuery) -> dict[str, Any]:
    return {"name": named.name, "query": named.query}


def run_query(
    session: Session, principal: Principal, name: str, paging: Sequence[tuple[str, str]]
) -> Any:
    named = get_query(session, principal, name)
    kept = [(k, v) for k, v in paging if k in ("perPage", "nextPageToken")]
    return query_events(session, principal, [*parameter_pairs(named.query), *kept])


# --- subscriptions ---------------------------------------------------------------------------


def _subscriptions_of(session: Session, named: NamedQuery) -> list[QuerySubscription]:
    return list(
        session.scalars(
            select(QuerySubscription)
            .where(QuerySubscription.query_id == named.id)
            .order_by(QuerySubscription.id)
        )
    )


def _controls_error(message: str, field: str, **params: Any) -> DomainError:
    return DomainError(
        message,
        code=Code.SUBSCRIPTION_INVALID,
        params=params,
        errors=[FieldError(field, Code.SUBSCRIPTION_INVALID, message, params)],
        status=400,
    )


def subscribe(
    session: Session,
    principal: Principal,
    name: str,
    body: Any,
    *,
    epc_format: str,
    allow_private_networks: bool,
) -> tuple[QuerySubscription, str]:
    """Subscribe the caller to the query; the subscription and the signing secret."""
    named = get_query(session, principal, name)
    if not isinstance(body, Mapping):
        raise _controls_error("The body must be a subscription object.", "body")
    dest = body.get("dest")
    if not isinstance(dest, str) or not dest:
        raise _controls_error("dest must be the webhook URL.", "dest")
    if body.get("schedule") is not None:
        raise _controls_error(
            "Scheduled subscriptions are not supported; subscribe with stream: true.", "schedule"
        )
    if body.get("stream") is not True:
        raise _controls_error("Set stream to true (only streamed subscriptions exist).", "stream")
    report_if_empty = body.get("reportIfEmpty", False)
    if not isinstance(report_if_empty, bool):
        raise _controls_error("reportIfEmpty must be true or false.", "reportIfEmpty")
    token = body.get("signatureToken")
    if token is not None and (not isinstance(token, str) or not 16 <= len(token) <= 100):
        raise _controls_error("signatureToken must be 16 to 100 characters.", "signatureToken")
    initial: datetime | None = None
    if body.get("initialRecordTime") is not None:
        try:
            initial = to_utc(str(body["initialRecordTime"]))
        except (ValueError, TypeError):
            raise _controls_error(
                "initialRecordTime must be a date-time with a time zone.", "initialRecordTime"
            ) from None
    _webhooks().check_url(dest, allow_private_networks=allow_private_networks)
    secret = token or secrets.token_hex(20)
    webhook_id = _webhooks().open(
        session, principal, name=f"EPCIS query {named.name}"[:100], url=dest, secret=secret
    )
    subscription = QuerySubscription(
        tenant_id=principal.tenant_id,
        party_id=principal.party_id,
        query_id=named.id,
        subscription_id=str(uuid.uuid4()),
        dest=dest,
        webhook_subscription_id=webhook_id,
        user_id=principal.user_id,
        api_key_id=principal.api_key_id,
        role=principal.role.value,
        username=principal.username[:200],
        epc_format=epc_format if epc_format in EPC_FORMATS else EPC_FORMATS[1],
        report_if_empty=report_if_empty,
        initial_record_time=initial,
        created_at=utcnow(),
    )
    session.add(subscription)
    session.flush()
    if initial is not None:
        rows = _matching(session, _principal_of(session, subscription), named, after=initial)
        if rows or report_if_empty:
            _report(session, subscription, named, rows)
    return subscription, secret


def list_subscriptions(
    session: Session, principal: Principal, name: str
) -> list[QuerySubscription]:
    return _subscriptions_of(session, get_query(session, principal, name))


def get_subscription(
    session: Session, principal: Principal, name: str, subscription_id: str
) -> QuerySubscription:
    named = get_query(session, principal, name)
    found = next(
        (s for s in _subscriptions_of(session, named) if s.subscription_id == subscription_id),
        None,
    )
    if found is None:
        raise NotFound(
            "No subscription {id} of query {name}.",
            code=Code.SUBSCRIPTION_NOT_FOUND,
            params={"id": subscription_id[:64], "name": name[:200]},
        )
    return found


def unsubscribe(session: Session, principal: Principal, name: str, subscription_id: str) -> None:
    _close(session, get_subscription(session, principal, name, subscription_id))
    session.flush()


def _close(session: Session, subscription: QuerySubscription) -> None:
    if subscription.webhook_subscription_id is not None and _sink:
        _sink[0].close(session, subscription.webhook_subscription_id)
    session.delete(subscription)


def subscription_json(subscription: QuerySubscription) -> dict[str, Any]:
    return {
        "subscriptionID": subscription.subscription_id,
        "dest": subscription.dest,
        "stream": True,
        "reportIfEmpty": subscription.report_if_empty,
        "createdAt": subscription.created_at.isoformat().replace("+00:00", "Z"),
    }


def _principal_of(session: Session, subscription: QuerySubscription) -> Principal | None:
    """The subscriber as it is now (None when its user was deactivated)."""
    from medledger.parties.models import Party, Tenant, User

    hub = session.scalar(select(Tenant.owner_party_id).where(Tenant.id == subscription.tenant_id))
    role = subscription.role
    display = subscription.username
    if subscription.user_id is not None:
        user = session.get(User, subscription.user_id)
        if user is None or not user.active or user.party_id != subscription.party_id:
            return None
        role, display = user.role, user.display_name
    party = session.get(Party, subscription.party_id)
    if party is None:
        return None
    return make_principal(
        user_id=subscription.user_id,
        tenant_id=subscription.tenant_id,
        party_id=subscription.party_id,
        role=role,
        username=subscription.username,
        display_name=display,
        hub_party_id=hub,
        api_key_id=subscription.api_key_id,
    )


def _matching(
    session: Session,
    principal: Principal | None,
    named: NamedQuery,
    *,
    row_ids: Sequence[int] | None = None,
    after: datetime | None = None,
) -> list[EpcisEvent]:
    """The events (of ``row_ids``, or recorded since ``after``) the query selects and the
    subscriber may see."""
    if principal is None or not principal.can(Permission.TRACE_READ):
        return []
    pairs = parameter_pairs(named.query)
    stmt = visible_events(principal).where(*build_conditions(pairs, principal))
    if row_ids is not None:
        stmt = stmt.where(EpcisEvent.id.in_(list(row_ids)))
    if after is not None:
        stmt = stmt.where(EpcisEvent.record_time >= after)
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        if name not in CONTROL_PARAMETERS:
            grouped.setdefault(name, []).append(value)
    matches = document_filter(list(grouped.items()))
    rows = list(session.scalars(stmt.order_by(EpcisEvent.record_time, EpcisEvent.id)))
    return [row for row in rows if matches is None or matches(row.document)]


def matching_after(
    session: Session, principal: Principal, named: NamedQuery, after_id: int, upto_id: int
) -> list[EpcisEvent]:
    """The events with row ids in (after_id, upto_id] the query selects and the principal
    may see (the WebSocket stream)."""
    pairs = parameter_pairs(named.query)
    stmt = visible_events(principal).where(
        *build_conditions(pairs, principal), EpcisEvent.id > after_id, EpcisEvent.id <= upto_id
    )
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        if name not in CONTROL_PARAMETERS:
            grouped.setdefault(name, []).append(value)
    matches = document_filter(list(grouped.items()))
    rows = list(session.scalars(stmt.order_by(EpcisEvent.id)))
    return [row for row in rows if matches is None or matches(row.document)]


def _report(
    session: Session,
    subscription: QuerySubscription,
    named: NamedQuery,
    rows: list[EpcisEvent],
) -> None:
    principal = _principal_of(session, subscription)
    if principal is None or subscription.webhook_subscription_id is None:
        return
    events = answered_events(session, principal, rows, subscription.epc_format)
    document = query_document(
        events, utcnow(), query_name=named.name, subscription_id=subscription.subscription_id
    )
    _webhooks().deliver(
        session,
        tenant_id=subscription.tenant_id,
        party_id=subscription.party_id,
        webhook_id=subscription.webhook_subscription_id,
        subject=subscription.subscription_id,
        document=document,
    )


class SubscriptionFeed:
    """The ledger projection that reports each capture's matching events to subscribers."""

    name = "trace.query_subscriptions"

    def apply(self, change: LedgerChange) -> None:
        if not _sink or not change.events:
            return
        session = change.session
        subscriptions = list(
            session.scalars(
                select(QuerySubscription).where(QuerySubscription.tenant_id == change.tenant_id)
            )
        )
        if not subscriptions:
            return
        row_ids = [stored.row_id for stored in change.events]
        for subscription in subscriptions:
            named = session.get(NamedQuery, subscription.query_id)
            if named is None:
                continue
            principal = _principal_of(session, subscription)
            rows = _matching(session, principal, named, row_ids=row_ids)
            if rows:
                _report(session, subscription, named, rows)


register_projection(SubscriptionFeed())
