"""HTML pages: a party's webhook subscriptions (with the form that adds one) and their
deliveries (state filter, bulk replay), on the list toolkit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from medledger.core.db import utcnow
from medledger.core.principal import Permission
from medledger.integration import service
from medledger.integration.dictionary.views import router as dictionary_router
from medledger.integration.edi.views import router as edi_router
from medledger.integration.event_types import event_types
from medledger.integration.models import DeliveryState
from medledger.integration.schemas import SubscriptionIn, SubscriptionUpdate
from medledger.parties.models import Party
from medledger.parties.service import party_api_keys
from medledger.web.forms import FormState, empty_form, parse_form
from medledger.web.lists import (
    NP_,
    BulkAction,
    Column,
    Empty,
    Filter,
    ListQuery,
    ListSpec,
    active_column,
    badge,
    list_page,
)
from medledger.web.nav import N_, NavEntry, register_nav
from medledger.web.pages import submit, who
from medledger.web.ui import Ui, UiPage, UiRoute

router = APIRouter(include_in_schema=False, route_class=UiRoute)
router.include_router(edi_router)
router.include_router(dictionary_router)

register_nav(
    NavEntry(
        "integration", N_("Integrations"), "/integration", Permission.INTEGRATION_MANAGE, order=95
    )
)

STATE_LABELS: dict[str, str] = {
    DeliveryState.PENDING.value: N_("pending"),
    DeliveryState.RETRYING.value: N_("retrying"),
    DeliveryState.DELIVERED.value: N_("delivered"),
    DeliveryState.DEAD.value: N_("dead"),
}
_STATE_TONE = {"delivered": "ok", "dead": "off", "retrying": "warn", "pending": ""}
EVENT_TYPE_LABELS: dict[str, str] = {
    "shipment.despatched": N_("Shipment despatched"),
    "receipt.confirmed": N_("Receipt confirmed"),
    "edi.despatch_advice": N_("Despatch advice (EDI)"),
    "order.acknowledged": N_("Order acknowledged (EDI)"),
    "ncr.shared": N_("Nonconformance shared"),
    "change.notified": N_("Change notified"),
    "recall.notice": N_("Recall notice"),
    "epcis.query_result": N_("EPCIS query result"),
}


def _event_type(ui: Ui, name: str) -> str:
    return ui._(EVENT_TYPE_LABELS.get(name, name))


# --- subscriptions ------------------------------------------------------------------------


def _fetch_subscriptions(ui: Ui, query: ListQuery) -> list[Any]:
    items, _ = service.list_subscriptions(ui.session, who(ui), page_size=500)
    return items


def _set_active(active: bool) -> Any:
    def run(ui: Ui, ids: list[int]) -> None:
        settings = ui.request.app.state.settings
        for subscription_id in ids:
            service.update_subscription(
                ui.session,
                who(ui),
                subscription_id,
                SubscriptionUpdate(active=active),
                allow_private_networks=settings.webhook_allow_private_networks,
            )

    return run


SUBSCRIPTION_LIST = ListSpec(
    key="subscriptions",
    title=N_("Webhook subscriptions"),
    path="/integration",
    columns=(
        Column("name", N_("Name"), lambda s: s.name, searchable=True),
        Column("url", N_("URL"), lambda s: s.url, css="mono", searchable=True),
        Column(
            "event_types",
            N_("Event types"),
            lambda s: s.event_types,
            text=lambda ui, s: ", ".join(_event_type(ui, t) for t in s.event_types),
            sortable=False,
        ),
        active_column(N_("Status")),
        Column("created_at", N_("Created"), lambda s: s.created_at, css="nowrap"),
    ),
    fetch=_fetch_subscriptions,
    count=NP_("{n} subscription", "{n} subscriptions"),
    empty=Empty(N_("No subscription yet: add one below to receive events in your own system.")),
    search=N_("Name or URL"),
    default_sort="name",
    actions=(
        BulkAction(
            "deactivate",
            N_("Switch off"),
            _set_active(False),
            Permission.INTEGRATION_MANAGE,
            danger=True,
        ),
        BulkAction("reactivate", N_("Switch on"), _set_active(True), Permission.INTEGRATION_MANAGE),
    ),
    permission=Permission.INTEGRATION_MANAGE,
    head="integration/_deliveries_link.html",
    below="integration/_subscription_form.html",
)


def _subscriptions_page(
    ui: Ui, form: FormState[Any], secret: str | None = None, status: int = 200
) -> Response:
    return list_page(
        ui,
        SUBSCRIPTION_LIST,
        status=status,
        form=form,
        secret=secret,
        event_type_options=[(t.name, _event_type(ui, t.name)) for t in event_types()],
    )


@router.get("/integration")
def integration_page(ui: UiPage) -> Response:
    """Subscriptions of the user's party (every party's for the hub)."""
    return _subscriptions_page(ui, empty_form(ui.locale))


@router.post("/integration")
def subscription_bulk(ui: UiPage) -> Response:
    """Switch the selected subscriptions off or on."""
    return _subscriptions_page(ui, empty_form(ui.locale))


@router.post("/integration/subscriptions")
def subscription_create(ui: UiPage) -> Response:
    """Create a subscription; the page then shows its secret, once."""
    state = parse_form(SubscriptionIn, ui.form, ui.locale, lists=frozenset({"event_types"}))
    settings = ui.request.app.state.settings
    created = submit(
        ui,
        state,
        lambda data: service.create_subscription(
            ui.session,
            who(ui),
            data,
            allow_private_networks=settings.webhook_allow_private_networks,
        ),
    )
    if created is None:
        return _subscriptions_page(ui, state, status=state.status)
    return _subscriptions_page(ui, empty_form(ui.locale), secret=created[1], status=201)


# --- deliveries ---------------------------------------------------------------------------


def _fetch_deliveries(ui: Ui, query: ListQuery) -> tuple[list[Any], int]:
    state = query.get("state")
    return service.list_deliveries(
        ui.session,
        who(ui),
        state=state if state in STATE_LABELS else None,
        page=query.page,
        page_size=query.size,
    )


def _replay(ui: Ui, ids: list[int]) -> None:
    for delivery_id in ids:
        service.replay_delivery(ui.session, who(ui), delivery_id)


def _state_text(ui: Ui, row: Any) -> str:
    return ui._(STATE_LABELS.get(row[0].state, row[0].state))


DELIVERY_LIST = ListSpec(
    key="deliveries",
    title=N_("Deliveries"),
    path="/integration/deliveries",
    columns=(
        Column("id", N_("#"), lambda r: r[0].id, css="mono num", sortable=False),
        Column(
            "event_type",
            N_("Event type"),
            lambda r: r[1].event_type,
            text=lambda ui, r: _event_type(ui, r[1].event_type),
            sortable=False,
        ),
        Column("subject", N_("Subject"), lambda r: r[1].subject, css="mono", sortable=False),
        Column(
            "state",
            N_("Status"),
            lambda r: r[0].state,
            text=_state_text,
            html=lambda ui, r: badge(_state_text(ui, r), _STATE_TONE.get(r[0].state, "")),
            sortable=False,
        ),
        Column("attempts", N_("Attempts"), lambda r: r[0].attempts, css="num", sortable=False),
        Column("last_error", N_("Last error"), lambda r: r[0].last_error, sortable=False),
        Column(
            "time",
            N_("Time"),
            lambda r: r[0].delivered_at or r[0].last_attempt_at or r[0].created_at,
            css="nowrap",
            sortable=False,
        ),
    ),
    fetch=_fetch_deliveries,
    paged=True,
    count=NP_("{n} delivery", "{n} deliveries"),
    filters=(
        Filter(
            "state",
            N_("Status"),
            options=lambda ui: [(k, ui._(v)) for k, v in STATE_LABELS.items()],
        ),
    ),
    actions=(BulkAction("replay", N_("Replay"), _replay, Permission.INTEGRATION_MANAGE),),
    empty=Empty(N_("Nothing delivered yet.")),
    permission=Permission.INTEGRATION_MANAGE,
    row_id=lambda r: r[0].id,
)


@router.get("/integration/deliveries")
def deliveries_page(ui: UiPage) -> Response:
    """Deliveries to the party's subscriptions, newest first; dead ones can be replayed."""
    return list_page(ui, DELIVERY_LIST)


@router.post("/integration/deliveries")
def deliveries_bulk(ui: UiPage) -> Response:
    """Replay the selected deliveries."""
    return list_page(ui, DELIVERY_LIST)


# --- the partner's own page -----------------------------------------------------------------


def key_state(ui: Ui, key: Any, soon_days: int) -> tuple[str, str]:
    """(label, badge tone) of an API key: revoked, replaced, expired, expiring soon, active."""
    now = utcnow()
    if key.revoked_at is not None:
        return ui._("revoked"), "off"
    if key.expires_at is not None and key.expires_at <= now:
        return ui._("expired"), "off"
    if key.replaced_by_id is not None:
        return ui._("replaced, works until {time}", time=ui.time(key.expires_at)), "warn"
    if key.expires_at is not None and key.expires_at <= now + timedelta(days=soon_days):
        return ui._("expires {time}", time=ui.time(key.expires_at)), "warn"
    return ui._("active"), "ok"


@router.get("/integration/partner")
def partner_page(ui: UiPage) -> Response:
    """The party's connection to the hub: its API keys, subscriptions and recent deliveries."""
    principal = who(ui)
    principal.require(Permission.INTEGRATION_MANAGE)
    soon = ui.request.app.state.settings.expiry_warning_days
    keys = [(k, *key_state(ui, k, soon)) for k in party_api_keys(ui.session, principal)]
    subscriptions, _ = service.list_subscriptions(ui.session, principal, page_size=100)
    own = [s for s in subscriptions if s.party_id == principal.party_id]
    rows, _ = service.list_deliveries(ui.session, principal, page=1, page_size=20)
    deliveries = [
        (
            d,
            m,
            _event_type(ui, m.event_type),
            ui._(STATE_LABELS.get(d.state, d.state)),
            _STATE_TONE.get(d.state, "") or "draft",
        )
        for d, m in rows
        if d.party_id == principal.party_id
    ]
    party = ui.session.get(Party, principal.party_id)
    return ui.render(
        "integration/partner.html",
        party_name=party.name if party else "",
        keys=keys,
        subscriptions=[(s, ", ".join(_event_type(ui, t) for t in s.event_types)) for s in own],
        deliveries=deliveries,
    )


@router.post("/integration/deliveries/{delivery_id}/replay")
def delivery_replay(ui: UiPage, delivery_id: int) -> Response:
    """Queue one dead delivery again."""
    service.replay_delivery(ui.session, who(ui), delivery_id)
    return ui.redirect("/integration/deliveries?saved=1")
