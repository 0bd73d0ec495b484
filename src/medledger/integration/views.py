"""HTML pages: a party's webhook subscriptions and their recent deliveries, with replay."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from medledger.core.principal import Permission
from medledger.integration import service
from medledger.integration.event_types import event_types
from medledger.integration.models import DeliveryState
from medledger.integration.schemas import SubscriptionIn
from medledger.parties.views import page_number, submit, who
from medledger.web.forms import FormState, empty_form, parse_form
from medledger.web.nav import N_, NavEntry, register_nav
from medledger.web.ui import Ui, UiPage, UiRoute

router = APIRouter(include_in_schema=False, route_class=UiRoute)

register_nav(
    NavEntry(
        "integration", N_("Integrations"), "/integration", Permission.INTEGRATION_MANAGE, order=95
    )
)

PAGE_SIZE = 50
STATE_LABELS: dict[str, str] = {
    DeliveryState.PENDING.value: N_("pending"),
    DeliveryState.RETRYING.value: N_("retrying"),
    DeliveryState.DELIVERED.value: N_("delivered"),
    DeliveryState.DEAD.value: N_("dead"),
}
EVENT_TYPE_LABELS: dict[str, str] = {
    "shipment.despatched": N_("Shipment despatched"),
    "receipt.confirmed": N_("Receipt confirmed"),
}


def _page(
    ui: Ui, form: FormState[Any] | None = None, secret: str | None = None, status: int = 200
) -> Response:
    principal = who(ui)
    principal.require(Permission.INTEGRATION_MANAGE)
    state = ui.request.query_params.get("state", "")
    if state not in STATE_LABELS:
        state = ""
    page = page_number(ui.request.query_params.get("page"))
    subscriptions, _ = service.list_subscriptions(ui.session, principal, page_size=200)
    deliveries, total = service.list_deliveries(
        ui.session, principal, state=state or None, page=page, page_size=PAGE_SIZE
    )
    return ui.render(
        "integration/integration.html",
        status=status,
        subscriptions=subscriptions,
        deliveries=deliveries,
        total=total,
        page=page,
        page_size=PAGE_SIZE,
        params={"state": state} if state else {},
        state=state,
        state_labels=STATE_LABELS,
        event_type_labels=EVENT_TYPE_LABELS,
        event_type_options=[
            (t.name, ui._(EVENT_TYPE_LABELS.get(t.name, t.name))) for t in event_types()
        ],
        form=form or empty_form(ui.locale),
        secret=secret,
    )


@router.get("/integration")
def integration_page(ui: UiPage) -> Response:
    """Subscriptions of the user's party (all parties for the hub) and recent deliveries."""
    return _page(ui)


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
        return _page(ui, form=state, status=state.status)
    _, secret = created
    return _page(ui, secret=secret, status=201)


@router.post("/integration/deliveries/{delivery_id}/replay")
def delivery_replay(ui: UiPage, delivery_id: int) -> Response:
    """Queue a dead delivery again."""
    service.replay_delivery(ui.session, who(ui), delivery_id)
    return ui.redirect("/integration?saved=1")
