"""HTML pages: parties, sites, locations, users and API keys.

Forms parse into the API's schemas and call the same services, so a page refuses exactly what
the API refuses, with the same (translated) messages. A refused form changes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from medledger.core.db import utcnow
from medledger.core.principal import Permission, Role
from medledger.parties import service
from medledger.parties.models import PartyRole, StorageClass, ZonePurpose
from medledger.parties.schemas import (
    REGIONS,
    ApiKeyIn,
    LocationIn,
    LocationUpdate,
    PartyIn,
    PartyUpdate,
    SiteIn,
    SiteUpdate,
    UserIn,
    UserUpdate,
)
from medledger.web.forms import FormState, empty_form, parse_form
from medledger.web.home import HomeTile, register_tile
from medledger.web.labels import (
    PARTY_ROLE_LABELS,
    REGION_LABELS,
    ROLE_LABELS,
    STORAGE_CLASS_LABELS,
    ZONE_PURPOSE_LABELS,
    label,
)
from medledger.web.lists import (
    IN_MEMORY_LIMIT,
    NP_,
    BulkAction,
    Column,
    Empty,
    Filter,
    ListQuery,
    ListSpec,
    active_column,
    badge,
    int_or_none,
    link_cell,
    list_page,
)
from medledger.web.nav import N_, NavEntry, register_nav
from medledger.web.pages import active_filter, options, page_number, set_reason, submit, who
from medledger.web.record import record_history
from medledger.web.ui import Ui, UiPage, UiRoute

router = APIRouter(include_in_schema=False, route_class=UiRoute)

register_nav(NavEntry("parties", N_("Parties"), "/parties", Permission.PARTIES_READ, order=10))
register_nav(NavEntry("sites", N_("Sites"), "/sites", Permission.SITES_READ, order=20))
register_nav(NavEntry("locations", N_("Locations"), "/locations", Permission.SITES_READ, order=30))
register_nav(NavEntry("users", N_("Users"), "/users", Permission.USERS_READ, order=80))


def _count_expiring_users(ui: Ui) -> int:
    users, _ = service.expiring(ui.session, who(ui), within_days=_soon_days(ui))
    return len(users)


def _count_expiring_keys(ui: Ui) -> int:
    _, keys = service.expiring(ui.session, who(ui), within_days=_soon_days(ui))
    return len(keys)


register_tile(
    HomeTile(
        "users_expiring",
        N_("Users expiring soon"),
        N_("Extend or let them lapse"),
        _count_expiring_users,
        "/users?expiring=soon",
        Permission.USERS_READ,
        alert_when_positive=True,
        order=70,
    )
)
register_tile(
    HomeTile(
        "api_keys_expiring",
        N_("API keys expiring soon"),
        N_("Rotate them before their clients are refused"),
        _count_expiring_keys,
        "/api-keys?state=expiring",
        Permission.API_KEYS_MANAGE,
        alert_when_positive=True,
        order=71,
    )
)
register_nav(
    NavEntry("api_keys", N_("API keys"), "/api-keys", Permission.API_KEYS_MANAGE, order=85)
)

CONTACT_ROWS = 3

# Kept importable from here for code written before the helpers moved to ``web.pages``.
__all__ = ["active_filter", "options", "page_number", "router", "set_reason", "submit", "who"]


# --- parties ---------------------------------------------------------------------------------


def _party_choices(ui: Ui) -> dict[str, Any]:
    return {
        "role_options": options(ui, PARTY_ROLE_LABELS, [r.value for r in PartyRole]),
        "region_options": options(ui, REGION_LABELS, REGIONS),
        "labels": {"party_role": PARTY_ROLE_LABELS, "region": REGION_LABELS},
    }


def _set_active(setter: Any, active: bool) -> Any:
    """A bulk action: ``setter(session, principal, id, active)`` for every selected row."""

    def run(ui: Ui, ids: list[int]) -> None:
        for record_id in ids:
            setter(ui.session, who(ui), record_id, active)

    return run


def _state_actions(setter: Any, permission: Permission) -> tuple[BulkAction, ...]:
    return (
        BulkAction(
            "deactivate",
            N_("Deactivate"),
            _set_active(setter, False),
            permission,
            danger=True,
            reason=True,
        ),
        BulkAction(
            "reactivate", N_("Reactivate"), _set_active(setter, True), permission, reason=True
        ),
    )


def _fetch_parties(ui: Ui, query: ListQuery) -> list[Any]:
    items, _ = service.list_parties(
        ui.session,
        who(ui),
        role=query.get("role") or None,
        country=query.get("country") or None,
        region=query.get("region") or None,
        active=active_filter(query.get("active")),
        page_size=IN_MEMORY_LIMIT,
    )
    return items


def _party_roles(ui: Ui, party: Any) -> str:
    return ", ".join(ui._(label(PARTY_ROLE_LABELS, r)) for r in party.roles)


PARTY_LIST = ListSpec(
    key="parties",
    title=N_("Parties"),
    path="/parties",
    columns=(
        Column(
            "name", N_("Name"), lambda p: p.name, href=lambda p: f"/parties/{p.id}", searchable=True
        ),
        Column("gln", N_("GLN"), lambda p: p.gln, css="mono nowrap", searchable=True),
        Column("roles", N_("Roles"), lambda p: list(p.roles), text=_party_roles),
        Column("country", N_("Country"), lambda p: p.country, css="nowrap"),
        Column(
            "region",
            N_("Region"),
            lambda p: p.region,
            text=lambda ui, p: ui._(label(REGION_LABELS, p.region)),
        ),
        active_column(N_("State")),
    ),
    fetch=_fetch_parties,
    count=NP_("{n} party", "{n} parties"),
    filters=(
        Filter(
            "role",
            N_("Role"),
            options=lambda ui: options(ui, PARTY_ROLE_LABELS, [r.value for r in PartyRole]),
        ),
        Filter("country", N_("Country"), kind="text", size=3),
        Filter("region", N_("Region"), options=lambda ui: options(ui, REGION_LABELS, REGIONS)),
        Filter("active", N_("State"), kind="state"),
    ),
    search=N_("Name or GLN"),
    default_sort="name",
    actions=_state_actions(service.set_party_active, Permission.PARTIES_WRITE),
    create=Empty("", N_("New party"), "/parties/new", Permission.PARTIES_WRITE),
    empty=Empty(
        N_("No parties yet. Register your partners with their GLN to share records with them."),
        N_("New party"),
        "/parties/new",
        Permission.PARTIES_WRITE,
    ),
    permission=Permission.PARTIES_READ,
)


@router.get("/parties")
@router.post("/parties")
def party_list(ui: UiPage) -> Response:
    """Parties the user may see: search, filters, sort, export, bulk (de)activation."""
    return list_page(ui, PARTY_LIST)


def _party_form_values(party: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": party.name,
        "gln": party.gln,
        "roles": list(party.roles),
        "country": party.country,
        "region": party.region,
        "time_zone": party.time_zone,
    }
    for index, contact in enumerate(party.contacts):
        for key in ("name", "email", "phone", "function"):
            values[f"contacts.{index}.{key}"] = contact.get(key, "")
    return values


@router.get("/parties/new")
def party_new(ui: UiPage) -> Response:
    """The form for a new party."""
    who(ui).require(Permission.PARTIES_WRITE)
    return ui.render(
        "parties/party_new.html",
        form=empty_form(ui.locale, {"time_zone": "UTC"}),
        contact_rows=CONTACT_ROWS,
        **_party_choices(ui),
    )


@router.post("/parties/new")
def party_create(ui: UiPage) -> Response:
    """Create a party with the API's rules."""
    state = parse_form(
        PartyIn, ui.form, ui.locale, lists=frozenset({"roles"}), rows=frozenset({"contacts"})
    )
    party = submit(ui, state, lambda data: service.create_party(ui.session, who(ui), data))
    if party is not None:
        return ui.redirect(f"/parties/{party.id}?saved=1")
    return ui.render(
        "parties/party_new.html",
        status=state.status,
        form=state,
        contact_rows=CONTACT_ROWS,
        **_party_choices(ui),
    )


def _party_detail(ui: Ui, party_id: int, form: FormState[Any] | None = None) -> Response:
    principal = who(ui)
    party = service.get_party(ui.session, principal, party_id)
    sites, _ = service.list_sites(ui.session, principal, party_id=party.id, page_size=100)
    users: list[Any] = []
    if principal.can(Permission.USERS_READ):
        users, _ = service.list_users(ui.session, principal, party_id=party.id, page_size=100)
    return ui.render(
        "parties/party_detail.html",
        status=form.status if form else 200,
        history=record_history(ui, "parties", party.id),
        party=party,
        sites=sites,
        users=users,
        form=form or empty_form(ui.locale, _party_form_values(party)),
        # Every contact gets its row (plus an empty one), so saving the form never drops one.
        contact_rows=max(CONTACT_ROWS, len(party.contacts) + 1),
        can_write=principal.can(Permission.PARTIES_WRITE),
        role_labels=ROLE_LABELS,
        **_party_choices(ui),
    )


@router.get("/parties/{party_id}")
def party_detail(ui: UiPage, party_id: int) -> Response:
    """One party with its sites and users; the edit form for those who may change it."""
    return _party_detail(ui, party_id)


@router.post("/parties/{party_id}")
def party_update(ui: UiPage, party_id: int) -> Response:
    """Save the edit form."""
    state = parse_form(
        PartyUpdate,
        ui.form,
        ui.locale,
        mode="update",
        lists=frozenset({"roles"}),
        rows=frozenset({"contacts"}),
    )
    party = submit(
        ui, state, lambda data: service.update_party(ui.session, who(ui), party_id, data)
    )
    if party is not None:
        return ui.redirect(f"/parties/{party_id}?saved=1")
    return _party_detail(ui, party_id, state)


@router.post("/parties/{party_id}/deactivate")
def party_deactivate(ui: UiPage, party_id: int) -> Response:
    set_reason(ui)
    service.set_party_active(ui.session, who(ui), party_id, False)
    return ui.redirect(f"/parties/{party_id}?saved=1")


@router.post("/parties/{party_id}/reactivate")
def party_reactivate(ui: UiPage, party_id: int) -> Response:
    set_reason(ui)
    service.set_party_active(ui.session, who(ui), party_id, True)
    return ui.redirect(f"/parties/{party_id}?saved=1")


# --- sites -----------------------------------------------------------------------------------


def _party_options(ui: Ui) -> list[tuple[str, str]]:
    parties, _ = service.list_parties(ui.session, who(ui), active=True, page_size=500)
    return [(str(p.id), f"{p.name} ({p.gln})") for p in parties]


def _party_names(ui: Ui, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    parties, _ = service.list_parties(ui.session, who(ui), page_size=500)
    return {p.id: p.name for p in parties if p.id in ids}


def _fetch_sites(ui: Ui, query: ListQuery) -> list[Any]:
    items, _ = service.list_sites(
        ui.session,
        who(ui),
        party_id=int_or_none(query.get("party_id")),
        active=active_filter(query.get("active")),
        page_size=IN_MEMORY_LIMIT,
    )
    _remember_party_names(ui, {s.party_id for s in items})
    return items


def _remember_party_names(ui: Ui, ids: set[int]) -> None:
    ui.extra.setdefault("party_names", {}).update(_party_names(ui, ids))


def _party_name(ui: Ui, party_id: int) -> str:
    return str(ui.extra.get("party_names", {}).get(party_id, party_id))


def _party_name_of_row(ui: Ui, row: Any) -> str:
    return _party_name(ui, row.party_id)


def _party_cell(ui: Ui, row: Any) -> Any:
    return link_cell(f"/parties/{row.party_id}", _party_name(ui, row.party_id))


def _party_options_of(ui: Ui) -> list[tuple[str, str]]:
    return _party_options(ui)


SITE_LIST = ListSpec(
    key="sites",
    title=N_("Sites"),
    path="/sites",
    columns=(
        Column(
            "name", N_("Name"), lambda s: s.name, href=lambda s: f"/sites/{s.id}", searchable=True
        ),
        Column("gln", N_("GLN"), lambda s: s.gln, css="mono nowrap", searchable=True),
        Column(
            "party", N_("Party"), lambda s: s.party_id, text=_party_name_of_row, html=_party_cell
        ),
        Column("country", N_("Country"), lambda s: s.country, css="nowrap"),
        Column("time_zone", N_("Time zone"), lambda s: s.time_zone),
        active_column(N_("State")),
    ),
    fetch=_fetch_sites,
    count=NP_("{n} site", "{n} sites"),
    filters=(
        Filter("party_id", N_("Party"), options=_party_options_of),
        Filter("active", N_("State"), kind="state"),
    ),
    search=N_("Name or GLN"),
    default_sort="name",
    actions=_state_actions(service.set_site_active, Permission.SITES_WRITE),
    create=Empty("", N_("New site"), "/sites/new", Permission.SITES_WRITE),
    empty=Empty(
        N_("No sites yet. A site is a plant, warehouse or hospital with its own GLN."),
        N_("New site"),
        "/sites/new",
        Permission.SITES_WRITE,
    ),
    permission=Permission.SITES_READ,
)


@router.get("/sites")
@router.post("/sites")
def site_list(ui: UiPage) -> Response:
    """Sites the user may see."""
    return list_page(ui, SITE_LIST)


@router.get("/sites/new")
def site_new(ui: UiPage) -> Response:
    who(ui).require(Permission.SITES_WRITE)
    values = {"time_zone": "UTC", "party_id": ui.request.query_params.get("party_id", "")}
    return ui.render(
        "parties/site_new.html",
        form=empty_form(ui.locale, values),
        party_options=_party_options(ui),
    )


@router.post("/sites/new")
def site_create(ui: UiPage) -> Response:
    """Create a site with the API's rules."""
    state = parse_form(SiteIn, ui.form, ui.locale)
    site = submit(ui, state, lambda data: service.create_site(ui.session, who(ui), data))
    if site is not None:
        return ui.redirect(f"/sites/{site.id}?saved=1")
    return ui.render(
        "parties/site_new.html", status=state.status, form=state, party_options=_party_options(ui)
    )


def _site_detail(ui: Ui, site_id: int, form: FormState[Any] | None = None) -> Response:
    principal = who(ui)
    site = service.get_site(ui.session, principal, site_id)
    party = service.get_party(ui.session, principal, site.party_id)
    locations, _ = service.list_locations(ui.session, principal, site_id=site.id, page_size=200)
    values = {k: getattr(site, k) for k in ("name", "gln", "country", "address", "time_zone")}
    return ui.render(
        "parties/site_detail.html",
        status=form.status if form else 200,
        history=record_history(ui, "sites", site.id),
        site=site,
        party=party,
        locations=locations,
        form=form or empty_form(ui.locale, values),
        can_write=principal.can(Permission.SITES_WRITE),
        storage_labels=STORAGE_CLASS_LABELS,
        zone_labels=ZONE_PURPOSE_LABELS,
    )


@router.get("/sites/{site_id}")
def site_detail(ui: UiPage, site_id: int) -> Response:
    """One site with its locations."""
    return _site_detail(ui, site_id)


@router.post("/sites/{site_id}")
def site_update(ui: UiPage, site_id: int) -> Response:
    state = parse_form(SiteUpdate, ui.form, ui.locale, mode="update")
    site = submit(ui, state, lambda data: service.update_site(ui.session, who(ui), site_id, data))
    if site is not None:
        return ui.redirect(f"/sites/{site_id}?saved=1")
    return _site_detail(ui, site_id, state)


@router.post("/sites/{site_id}/deactivate")
def site_deactivate(ui: UiPage, site_id: int) -> Response:
    set_reason(ui)
    service.set_site_active(ui.session, who(ui), site_id, False)
    return ui.redirect(f"/sites/{site_id}?saved=1")


@router.post("/sites/{site_id}/reactivate")
def site_reactivate(ui: UiPage, site_id: int) -> Response:
    set_reason(ui)
    service.set_site_active(ui.session, who(ui), site_id, True)
    return ui.redirect(f"/sites/{site_id}?saved=1")


# --- locations -------------------------------------------------------------------------------


def _site_options(ui: Ui) -> list[tuple[str, str]]:
    sites, _ = service.list_sites(ui.session, who(ui), active=True, page_size=500)
    return [(str(s.id), f"{s.name} ({s.gln})") for s in sites]


def _location_choices(ui: Ui) -> dict[str, Any]:
    return {
        "storage_options": options(ui, STORAGE_CLASS_LABELS, [s.value for s in StorageClass]),
        "zone_options": options(ui, ZONE_PURPOSE_LABELS, [z.value for z in ZonePurpose]),
        "storage_labels": STORAGE_CLASS_LABELS,
        "zone_labels": ZONE_PURPOSE_LABELS,
    }


def _fetch_locations(ui: Ui, query: ListQuery) -> list[Any]:
    items, _ = service.list_locations(
        ui.session,
        who(ui),
        site_id=int_or_none(query.get("site_id")),
        storage_class=query.get("storage_class") or None,
        zone_purpose=query.get("zone_purpose") or None,
        active=active_filter(query.get("active")),
        page_size=IN_MEMORY_LIMIT,
    )
    ui.extra["site_names"] = {int(k): v.rsplit(" (", 1)[0] for k, v in _site_options(ui)}
    return items


def _site_name(ui: Ui, row: Any) -> str:
    return str(ui.extra.get("site_names", {}).get(row.site_id, row.site_id))


LOCATION_LIST = ListSpec(
    key="locations",
    title=N_("Locations"),
    path="/locations",
    columns=(
        Column(
            "code",
            N_("Code"),
            lambda x: x.code,
            href=lambda x: f"/locations/{x.id}",
            css="mono nowrap",
            searchable=True,
        ),
        Column("name", N_("Name"), lambda x: x.name, searchable=True),
        Column(
            "site",
            N_("Site"),
            lambda x: x.site_id,
            text=_site_name,
            html=lambda ui, x: link_cell(f"/sites/{x.site_id}", _site_name(ui, x)),
        ),
        Column(
            "storage_class",
            N_("Storage class"),
            lambda x: x.storage_class,
            text=lambda ui, x: ui._(label(STORAGE_CLASS_LABELS, x.storage_class)),
        ),
        Column(
            "zone_purpose",
            N_("Zone"),
            lambda x: x.zone_purpose,
            text=lambda ui, x: ui._(label(ZONE_PURPOSE_LABELS, x.zone_purpose)),
        ),
        Column("gln", N_("GLN"), lambda x: x.gln, css="mono nowrap", searchable=True),
        active_column(N_("State")),
    ),
    fetch=_fetch_locations,
    count=NP_("{n} location", "{n} locations"),
    filters=(
        Filter("site_id", N_("Site"), options=lambda ui: _site_options(ui)),
        Filter(
            "storage_class",
            N_("Storage class"),
            options=lambda ui: options(ui, STORAGE_CLASS_LABELS, [c.value for c in StorageClass]),
        ),
        Filter(
            "zone_purpose",
            N_("Zone"),
            options=lambda ui: options(ui, ZONE_PURPOSE_LABELS, [z.value for z in ZonePurpose]),
        ),
        Filter("active", N_("State"), kind="state"),
    ),
    search=N_("Code, name or GLN"),
    default_sort="code",
    actions=_state_actions(service.set_location_active, Permission.SITES_WRITE),
    create=Empty("", N_("New location"), "/locations/new", Permission.SITES_WRITE),
    empty=Empty(
        N_(
            "No locations yet. Add the storage locations of a site (quarantine, released "
            "stock, shipping …)."
        ),
        N_("New location"),
        "/locations/new",
        Permission.SITES_WRITE,
    ),
    permission=Permission.SITES_READ,
)


@router.get("/locations")
@router.post("/locations")
def location_list(ui: UiPage) -> Response:
    """Storage locations the user may see."""
    return list_page(ui, LOCATION_LIST)


@router.get("/locations/new")
def location_new(ui: UiPage) -> Response:
    who(ui).require(Permission.SITES_WRITE)
    values = {"site_id": ui.request.query_params.get("site_id", "")}
    return ui.render(
        "parties/location_new.html",
        form=empty_form(ui.locale, values),
        site_options=_site_options(ui),
        **_location_choices(ui),
    )


@router.post("/locations/new")
def location_create(ui: UiPage) -> Response:
    """Create a location with the API's rules."""
    state = parse_form(LocationIn, ui.form, ui.locale)
    location = submit(ui, state, lambda data: service.create_location(ui.session, who(ui), data))
    if location is not None:
        return ui.redirect(f"/locations/{location.id}?saved=1")
    return ui.render(
        "parties/location_new.html",
        status=state.status,
        form=state,
        site_options=_site_options(ui),
        **_location_choices(ui),
    )


def _location_detail(ui: Ui, location_id: int, form: FormState[Any] | None = None) -> Response:
    principal = who(ui)
    location = service.get_location(ui.session, principal, location_id)
    site = service.get_site(ui.session, principal, location.site_id)
    values = {
        k: getattr(location, k) or ""
        for k in ("code", "gln", "name", "storage_class", "zone_purpose")
    }
    return ui.render(
        "parties/location_detail.html",
        status=form.status if form else 200,
        history=record_history(ui, "locations", location.id),
        location=location,
        site=site,
        form=form or empty_form(ui.locale, values),
        can_write=principal.can(Permission.SITES_WRITE),
        **_location_choices(ui),
    )


@router.get("/locations/{location_id}")
def location_detail(ui: UiPage, location_id: int) -> Response:
    return _location_detail(ui, location_id)


@router.post("/locations/{location_id}")
def location_update(ui: UiPage, location_id: int) -> Response:
    state = parse_form(
        LocationUpdate, ui.form, ui.locale, mode="update", nullable=frozenset({"gln"})
    )
    location = submit(
        ui, state, lambda data: service.update_location(ui.session, who(ui), location_id, data)
    )
    if location is not None:
        return ui.redirect(f"/locations/{location_id}?saved=1")
    return _location_detail(ui, location_id, state)


@router.post("/locations/{location_id}/deactivate")
def location_deactivate(ui: UiPage, location_id: int) -> Response:
    set_reason(ui)
    service.set_location_active(ui.session, who(ui), location_id, False)
    return ui.redirect(f"/locations/{location_id}?saved=1")


@router.post("/locations/{location_id}/reactivate")
def location_reactivate(ui: UiPage, location_id: int) -> Response:
    set_reason(ui)
    service.set_location_active(ui.session, who(ui), location_id, True)
    return ui.redirect(f"/locations/{location_id}?saved=1")


# --- users -----------------------------------------------------------------------------------


def _user_choices(ui: Ui) -> dict[str, Any]:
    return {
        "role_options": options(ui, ROLE_LABELS, [r.value for r in Role]),
        "role_labels": ROLE_LABELS,
        "locale_options": [("en", "English"), ("zh_Hans", "简体中文")],
    }


def _soon_days(ui: Ui) -> int:
    return int(ui.request.app.state.settings.expiry_warning_days)


def _expiry_matches(ui: Ui, when: Any, wanted: str) -> bool:
    """``soon``: expires within the warning days; ``expired``: already expired."""
    now = utcnow()
    if when is None:
        return False
    if wanted == "expired":
        return bool(when <= now)
    return bool(now < when <= now + timedelta(days=_soon_days(ui)))


def _fetch_users(ui: Ui, query: ListQuery) -> list[Any]:
    items, _ = service.list_users(
        ui.session,
        who(ui),
        party_id=int_or_none(query.get("party_id")),
        role=query.get("role") or None,
        active=active_filter(query.get("active")),
        page_size=IN_MEMORY_LIMIT,
    )
    _remember_party_names(ui, {u.party_id for u in items})
    expiring = query.get("expiring")
    if expiring in ("soon", "expired"):
        items = [u for u in items if u.active and _expiry_matches(ui, u.expires_at, expiring)]
    return items


USER_LIST = ListSpec(
    key="users",
    title=N_("Users"),
    path="/users",
    columns=(
        Column(
            "username",
            N_("Username"),
            lambda u: u.username,
            href=lambda u: f"/users/{u.id}",
            css="mono",
            searchable=True,
        ),
        Column("display_name", N_("Name"), lambda u: u.display_name, searchable=True),
        Column("email", N_("E-mail"), lambda u: u.email, searchable=True),
        Column(
            "party", N_("Party"), lambda u: u.party_id, text=_party_name_of_row, html=_party_cell
        ),
        Column(
            "role",
            N_("Role"),
            lambda u: u.role,
            text=lambda ui, u: ui._(label(ROLE_LABELS, u.role)),
        ),
        active_column(N_("State")),
    ),
    fetch=_fetch_users,
    count=NP_("{n} user", "{n} users"),
    filters=(
        Filter("party_id", N_("Party"), options=_party_options_of),
        Filter(
            "role", N_("Role"), options=lambda ui: options(ui, ROLE_LABELS, [r.value for r in Role])
        ),
        Filter("active", N_("State"), kind="state"),
        Filter(
            "expiring",
            N_("Expires"),
            options=lambda ui: [
                ("soon", ui._("within {n} days", n=_soon_days(ui))),
                ("expired", ui._("expired")),
            ],
        ),
    ),
    search=N_("Username, name or e-mail"),
    default_sort="username",
    actions=_state_actions(service.set_user_active, Permission.USERS_MANAGE),
    create=Empty("", N_("New user"), "/users/new", Permission.USERS_MANAGE),
    empty=Empty(N_("No users yet."), N_("New user"), "/users/new", Permission.USERS_MANAGE),
    permission=Permission.USERS_READ,
)


@router.get("/users")
@router.post("/users")
def user_list(ui: UiPage) -> Response:
    """Users the viewer may see (partner users: their own party's)."""
    return list_page(ui, USER_LIST)


@router.get("/users/new")
def user_new(ui: UiPage) -> Response:
    who(ui).require(Permission.USERS_MANAGE)
    values = {"time_zone": "UTC", "party_id": ui.request.query_params.get("party_id", "")}
    return ui.render(
        "parties/user_new.html",
        form=empty_form(ui.locale, values),
        party_options=_party_options(ui),
        **_user_choices(ui),
    )


@router.post("/users/new")
def user_create(ui: UiPage) -> Response:
    """Create a user with the API's rules."""
    state = parse_form(UserIn, ui.form, ui.locale)
    user = submit(ui, state, lambda data: service.create_user(ui.session, who(ui), data))
    if user is not None:
        return ui.redirect(f"/users/{user.id}?saved=1")
    state.values.pop("password", None)  # never echo a password back into the page
    return ui.render(
        "parties/user_new.html",
        status=state.status,
        form=state,
        party_options=_party_options(ui),
        **_user_choices(ui),
    )


def _user_detail(ui: Ui, user_id: int, form: FormState[Any] | None = None) -> Response:
    principal = who(ui)
    user = service.get_user(ui.session, principal, user_id)
    party = service.get_party(ui.session, principal, user.party_id)
    values = {
        k: getattr(user, k) or "" for k in ("display_name", "email", "role", "locale", "time_zone")
    }
    if form is not None:
        form.values.pop("password", None)
    return ui.render(
        "parties/user_detail.html",
        status=form.status if form else 200,
        history=record_history(ui, "users", user.id),
        user=user,
        party=party,
        form=form or empty_form(ui.locale, values),
        can_manage=principal.can(Permission.USERS_MANAGE),
        **_user_choices(ui),
    )


@router.get("/users/{user_id}")
def user_detail(ui: UiPage, user_id: int) -> Response:
    return _user_detail(ui, user_id)


@router.post("/users/{user_id}")
def user_update(ui: UiPage, user_id: int) -> Response:
    state = parse_form(
        UserUpdate, ui.form, ui.locale, mode="update", nullable=frozenset({"locale", "password"})
    )
    if state.data is not None and state.data.password is None:
        # An empty password field keeps the current password.
        state.data = UserUpdate.model_validate(
            state.data.model_dump(exclude_unset=True, exclude={"password"})
        )
    user = submit(ui, state, lambda data: service.update_user(ui.session, who(ui), user_id, data))
    if user is not None:
        return ui.redirect(f"/users/{user_id}?saved=1")
    return _user_detail(ui, user_id, state)


@router.post("/users/{user_id}/deactivate")
def user_deactivate(ui: UiPage, user_id: int) -> Response:
    set_reason(ui)
    service.set_user_active(ui.session, who(ui), user_id, False)
    return ui.redirect(f"/users/{user_id}?saved=1")


@router.post("/users/{user_id}/reactivate")
def user_reactivate(ui: UiPage, user_id: int) -> Response:
    set_reason(ui)
    service.set_user_active(ui.session, who(ui), user_id, True)
    return ui.redirect(f"/users/{user_id}?saved=1")


# --- API keys --------------------------------------------------------------------------------


def _fetch_api_keys(ui: Ui, query: ListQuery) -> list[Any]:
    keys = service.list_api_keys(ui.session, who(ui))
    _remember_party_names(ui, {k.party_id for k in keys})
    state = query.get("state")
    live = [k for k in keys if k.revoked_at is None]
    if state == "active":
        keys = [k for k in live if not _expiry_matches(ui, k.expires_at, "expired")]
    elif state == "expiring":
        keys = [k for k in live if _expiry_matches(ui, k.expires_at, "soon")]
    elif state == "expired":
        keys = [k for k in live if _expiry_matches(ui, k.expires_at, "expired")]
    elif state == "revoked":
        keys = [k for k in keys if k.revoked_at is not None]
    return keys


def _key_state(ui: Ui, key: Any) -> str:
    if key.revoked_at is not None:
        return ui._("revoked {time}", time=ui.time(key.revoked_at))
    if _expiry_matches(ui, key.expires_at, "expired"):
        return ui._("expired {time}", time=ui.time(key.expires_at))
    if key.expires_at is not None:
        return ui._("expires {time}", time=ui.time(key.expires_at))
    return ui._("active")


def _key_tone(ui: Ui, key: Any) -> str:
    if key.revoked_at is not None or _expiry_matches(ui, key.expires_at, "expired"):
        return "off"
    return "warn" if _expiry_matches(ui, key.expires_at, "soon") else "ok"


def _revoke_keys(ui: Ui, ids: list[int]) -> None:
    for key_id in ids:
        service.revoke_api_key(ui.session, who(ui), key_id)


API_KEY_LIST = ListSpec(
    key="api-keys",
    title=N_("API keys"),
    path="/api-keys",
    columns=(
        Column("name", N_("Name"), lambda k: k.name, searchable=True),
        Column("prefix", N_("Prefix"), lambda k: k.prefix, css="mono nowrap", searchable=True),
        Column(
            "party",
            N_("Party"),
            lambda k: k.party_id,
            text=_party_name_of_row,
            html=_party_cell,
        ),
        Column(
            "role",
            N_("Role"),
            lambda k: k.role,
            text=lambda ui, k: ui._(label(ROLE_LABELS, k.role)),
        ),
        Column("created_at", N_("Created"), lambda k: k.created_at, css="nowrap"),
        Column("last_used_at", N_("Last used"), lambda k: k.last_used_at, css="nowrap"),
        Column(
            "state",
            N_("State"),
            lambda k: k.revoked_at is None,
            text=_key_state,
            html=lambda ui, k: badge(_key_state(ui, k), _key_tone(ui, k)),
        ),
    ),
    fetch=_fetch_api_keys,
    count=NP_("{n} API key", "{n} API keys"),
    filters=(
        Filter(
            "state",
            N_("State"),
            options=lambda ui: [
                ("active", ui._("active")),
                ("expiring", ui._("expiring soon")),
                ("expired", ui._("expired")),
                ("revoked", ui._("revoked")),
            ],
        ),
    ),
    search=N_("Name or prefix"),
    default_sort="name",
    actions=(
        BulkAction("revoke", N_("Revoke"), _revoke_keys, Permission.API_KEYS_MANAGE, danger=True),
    ),
    empty=Empty(N_("No API key yet. Issue one below for each partner system.")),
    permission=Permission.API_KEYS_MANAGE,
    below="parties/_api_key_form.html",
    bulk_path="/api-keys/bulk",
)


def _api_keys_page(
    ui: Ui, form: FormState[Any], created: tuple[Any, str] | None = None
) -> Response:
    return list_page(
        ui,
        API_KEY_LIST,
        status=form.status,
        form=form,
        created=created,
        party_options=_party_options(ui),
        **_user_choices(ui),
    )


@router.get("/api-keys")
def api_key_list(ui: UiPage) -> Response:
    """Machine-client keys (administrators): search, sort, export, bulk revocation."""
    who(ui).require(Permission.API_KEYS_MANAGE)
    return _api_keys_page(ui, empty_form(ui.locale, {"role": Role.PARTNER_USER.value}))


@router.post("/api-keys/bulk")
def api_key_bulk(ui: UiPage) -> Response:
    """Revoke the selected keys."""
    return list_page(ui, API_KEY_LIST)


@router.post("/api-keys")
def api_key_create(ui: UiPage) -> Response:
    """Issue a key; its secret is shown on this response only."""
    state = parse_form(ApiKeyIn, ui.form, ui.locale)
    created = submit(ui, state, lambda data: service.create_api_key(ui.session, who(ui), data))
    if created is not None:
        return _api_keys_page(ui, empty_form(ui.locale, {"role": Role.PARTNER_USER.value}), created)
    return _api_keys_page(ui, state)


@router.post("/api-keys/{key_id}/revoke")
def api_key_revoke(ui: UiPage, key_id: int) -> Response:
    service.revoke_api_key(ui.session, who(ui), key_id)
    return ui.redirect("/api-keys")
