"""HTML pages of transport choice: the lanes (master data, with a form to add one) and the
comparison of an order line's lanes against its promised date, with the choice."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select

from medledger.analytics import transport
from medledger.core.errors import DomainError
from medledger.core.principal import Permission, Principal
from medledger.orders.models import Customer, Order, OrderLine, ShipTo
from medledger.parties.models import Party, Site
from medledger.parties.views import who
from medledger.transport.lanes import PROBLEMS
from medledger.transport.models import TransportMode
from medledger.transport.schemas import ChoiceIn, LaneIn, LaneUpdate
from medledger.web.forms import FormState, empty_form, parse_form
from medledger.web.nav import N_, NavEntry, register_nav
from medledger.web.ui import Ui, UiPage, UiRoute

router = APIRouter(include_in_schema=False, route_class=UiRoute)

register_nav(
    NavEntry("lanes", N_("Transport lanes"), "/transport/lanes", Permission.KPI_READ, order=110)
)

MODE_LABELS = {
    "road": N_("road"),
    "air": N_("air"),
    "sea": N_("sea"),
    "rail": N_("rail"),
    "parcel": N_("parcel"),
}
PROBLEM_LABELS = {
    "no_cold_chain": N_("no cold chain"),
    "ship_to_no_cold_chain": N_("ship-to takes no cold chain"),
    "short_at_origin": N_("not enough stock at the origin"),
    "late": N_("arrives after the promised date"),
}
assert set(PROBLEM_LABELS) == set(PROBLEMS)
assert set(MODE_LABELS) == {m.value for m in TransportMode}


def _hub_sites(ui: Ui, principal: Principal) -> list[tuple[int, str]]:
    return [
        (int(i), str(n))
        for i, n in ui.session.execute(
            select(Site.id, Site.name)
            .where(Site.tenant_id == principal.tenant_id, Site.party_id == principal.hub_party_id)
            .order_by(Site.name)
        )
    ]


def _ship_tos(ui: Ui, principal: Principal) -> list[tuple[int, str, str]]:
    return [
        (int(i), f"{party} · {name}", str(region))
        for i, name, region, party in ui.session.execute(
            select(ShipTo.id, ShipTo.name, ShipTo.region, Party.name)
            .join(Customer, Customer.id == ShipTo.customer_id)
            .join(Party, Party.id == Customer.party_id)
            .where(ShipTo.tenant_id == principal.tenant_id, ShipTo.active.is_(True))
            .order_by(Party.name, ShipTo.name)
        )
    ]


def _lanes_page(ui: Ui, state: FormState[Any], status: int = 200) -> Response:
    principal = who(ui)
    lanes = transport.list_lanes(ui.session, principal)
    sites = _hub_sites(ui, principal)
    ship_tos = _ship_tos(ui, principal)
    return ui.render(
        "analytics/lanes.html",
        lanes=lanes,
        site_names=dict(sites),
        ship_to_names={i: n for i, n, _ in ship_tos},
        sites=sites,
        ship_tos=ship_tos,
        modes=MODE_LABELS,
        form=state,
        can_write=principal.can(Permission.PRIORITY_WRITE),
        saved=ui.request.query_params.get("saved") == "1",
        status=status,
    )


@router.get("/transport/lanes")
def lane_list(ui: UiPage) -> Response:
    """Every lane: origin, destination, carrier, mode, cost, transit days, cold chain."""
    return _lanes_page(ui, empty_form(ui.locale, {"currency": "EUR", "mode": "road"}))


@router.post("/transport/lanes")
def lane_create(ui: UiPage) -> Response:
    """Add a lane from the form; errors are shown next to their fields."""
    state = parse_form(LaneIn, ui.form, ui.locale, nullable=frozenset({"ship_to_id"}))
    if state.data is not None:
        try:
            transport.create_lane(ui.session, who(ui), state.data)
            return ui.redirect("/transport/lanes?saved=1")
        except DomainError as error:
            ui.discard_changes()
            state.reject(error)
    return _lanes_page(ui, state, status=state.status if state.status != 200 else 422)


@router.post("/transport/lanes/{lane_id}/active")
def lane_toggle(ui: UiPage, lane_id: int) -> Response:
    """Take a lane out of use, or back in."""
    form = ui.form
    active = form is not None and form.get("active") == "1"
    transport.update_lane(ui.session, who(ui), lane_id, LaneUpdate(active=active))
    return ui.redirect("/transport/lanes?saved=1")


def _comparison_page(ui: Ui, line_id: int, error: str = "", status: int = 200) -> Response:
    principal = who(ui)
    found = transport.compare_for_line(
        ui.session, principal, line_id, translate=lambda message, **params: ui._(message, **params)
    )
    order = ui.session.get(Order, found.order_id)
    line = ui.session.get(OrderLine, line_id)
    ship_to = ui.session.get(ShipTo, found.ship_to_id)
    return ui.render(
        "analytics/lane_choice.html",
        found=found,
        order=order,
        line=line,
        ship_to=ship_to,
        modes=MODE_LABELS,
        problem_labels=PROBLEM_LABELS,
        can_write=principal.can(Permission.PRIORITY_WRITE),
        saved=ui.request.query_params.get("saved") == "1",
        error=error,
        status=status,
    )


@router.get("/transport/order-lines/{line_id}")
def lane_choice(ui: UiPage, line_id: int) -> Response:
    """The lanes of an order line compared against its promised date, the recommendation
    explained, and the lane allocation uses."""
    return _comparison_page(ui, line_id)


@router.post("/transport/order-lines/{line_id}")
def lane_choose(ui: UiPage, line_id: int) -> Response:
    """Choose a lane (``lane_id``) or go back to the best one (``clear``)."""
    form = ui.form
    try:
        if form is not None and form.get("clear") == "1":
            transport.clear_choice(ui.session, who(ui), line_id)
        else:
            lane_id = str(form.get("lane_id", "")) if form is not None else ""
            reason = str(form.get("reason", "")) if form is not None else ""
            data = ChoiceIn(lane_id=int(lane_id or 0) or 1, reason=reason[:500])
            transport.choose_lane(ui.session, who(ui), line_id, data)
    except DomainError as error:
        ui.discard_changes()
        return _comparison_page(
            ui, line_id, error=ui._(error.message, **error.params), status=error.status
        )
    return ui.redirect(f"/transport/order-lines/{line_id}?saved=1")
