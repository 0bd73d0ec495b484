"""HTML pages: parties, sites, locations, users and API keys.

Forms parse into the API's schemas and call the same services, so a page refuses exactly what
the API refuses, with the same (translated) messages. A refused form changes nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from medledger.core.errors import DomainError
from medledger.core.principal import Permission, Principal, Role
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
from medledger.web.labels import (
    PARTY_ROLE_LABELS,
    REGION_LABELS,
    ROLE_LABELS,
    STORAGE_CLASS_LABELS,
    ZONE_PURPOSE_LABELS,
    label,
)
from medledger.web.nav import N_, NavEntry, register_nav
from medledger.web.ui import Ui, UiPage, UiRoute

router = APIRouter(include_in_schema=False, route_class=UiRoute)

register_nav(NavEntry("parties", N_("Parties"), "/parties", Permission.PARTIES_READ, order=10))
register_nav(NavEntry("sites", N_("Sites"), "/sites", Permission.SITES_READ, order=20))
register_nav(NavEntry("locations", N_("Locations"), "/locations", Permission.SITES_READ, order=30))
register_nav(NavEntry("users", N_("Users"), "/users", Permission.USERS_READ, order=80))
register_nav(
    NavEntry("api_keys", N_("API keys"), "/api-keys", Permission.API_KEYS_MANAGE, order=85)
)

PAGE_SIZE = 25
CONTACT_ROWS = 3


def who(ui: Ui) -> Principal:
    """The logged-in principal of a page."""
    assert ui.principal is not None
    return ui.principal


def page_number(value: str | None) -> int:
    """A page number from the query string; anything odd is the first page."""
    return int(value) if value and value.isdigit() and int(value) > 0 else 1


def active_filter(value: str | None) -> bool | None:
    return {"true": True, "false": False}.get(value or "")


def options(ui: Ui, table: dict[str, str], codes: Any) -> list[tuple[str, str]]:
    """``(code, translated name)`` pairs for a select or checkboxes."""
    return [(str(code), ui._(label(table, str(code)))) for code in codes]


def set_reason(ui: Ui) -> None:
    """The reason typed next to a deactivate button goes into the audit entry."""
    reason = ui.form.get("reason") if ui.form is not None else None
    if isinstance(reason, str) and reason.strip():
        ui.session.info["reason"] = reason.strip()[:500]


def submit(ui: Ui, state: FormState[Any], action: Any) -> Any:
    """Run ``action(data)`` if the form parsed; a refusal is shown on the form and undone."""
    if state.data is None:
        return None
    try:
        return action(state.data)
    except DomainError as exc:
        ui.discard_changes()
        state.reject(exc)
        return None


# --- parties ---------------------------------------------------------------------------------

_PARTY_FILTERS = ("q", "role", "country", "region", "active")


def _party_choices(ui: Ui) -> dict[str, Any]:
    return {
        "role_options": options(ui, PARTY_ROLE_LABELS, [r.value for r in PartyRole]),
        "region_options": options(ui, REGION_LABELS, REGIONS),
        "labels": {"party_role": PARTY_ROLE_LABELS, "region": REGION_LABELS},
    }


@router.get("/parties")
def party_list(ui: UiPage) -> Response:
    """Parties the user may see, filtered and paged."""
    params = {k: ui.request.query_params.get(k, "") for k in _PARTY_FILTERS}
    page = page_number(ui.request.query_params.get("page"))
    items, total = service.list_parties(
        ui.session,
        who(ui),
        role=params["role"] or None,
        country=params["country"] or None,
        region=params["region"] or None,
        q=params["q"] or None,
        active=active_filter(params["active"]),
        page=page,
        page_size=PAGE_SIZE,
    )
    return ui.render(
        "parties/party_list.html",
        items=items,
        total=total,
        page=page,
        page_size=PAGE_SIZE,
        params=params,
        **_party_choices(ui),
    )


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


@router.get("/sites")
def site_list(ui: UiPage) -> Response:
    """Sites the user may see."""
    params = {k: ui.request.query_params.get(k, "") for k in ("q", "party_id", "active")}
    page = page_number(ui.request.query_params.get("page"))
    party_id = int(params["party_id"]) if params["party_id"].isdigit() else None
    items, total = service.list_sites(
        ui.session,
        who(ui),
        party_id=party_id,
        q=params["q"] or None,
        active=active_filter(params["active"]),
        page=page,
        page_size=PAGE_SIZE,
    )
    return ui.render(
        "parties/site_list.html",
        items=items,
        total=total,
        page=page,
        page_size=PAGE_SIZE,
        params=params,
        party_options=_party_options(ui),
        party_names=_party_names(ui, {s.party_id for s in items}),
        can_write=who(ui).can(Permission.SITES_WRITE),
    )


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


@router.get("/locations")
def location_list(ui: UiPage) -> Response:
    """Storage locations the user may see."""
    params = {
        k: ui.request.query_params.get(k, "")
        for k in ("site_id", "storage_class", "zone_purpose", "active")
    }
    page = page_number(ui.request.query_params.get("page"))
    site_id = int(params["site_id"]) if params["site_id"].isdigit() else None
    items, total = service.list_locations(
        ui.session,
        who(ui),
        site_id=site_id,
        storage_class=params["storage_class"] or None,
        zone_purpose=params["zone_purpose"] or None,
        active=active_filter(params["active"]),
        page=page,
        page_size=PAGE_SIZE,
    )
    site_options = _site_options(ui)
    return ui.render(
        "parties/location_list.html",
        items=items,
        total=total,
        page=page,
        page_size=PAGE_SIZE,
        params=params,
        site_options=site_options,
        site_names={int(k): v for k, v in site_options},
        can_write=who(ui).can(Permission.SITES_WRITE),
        **_location_choices(ui),
    )


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


@router.get("/users")
def user_list(ui: UiPage) -> Response:
    """Users the viewer may see (partner users: their own party's)."""
    params = {k: ui.request.query_params.get(k, "") for k in ("party_id", "role", "active")}
    page = page_number(ui.request.query_params.get("page"))
    party_id = int(params["party_id"]) if params["party_id"].isdigit() else None
    items, total = service.list_users(
        ui.session,
        who(ui),
        party_id=party_id,
        role=params["role"] or None,
        active=active_filter(params["active"]),
        page=page,
        page_size=PAGE_SIZE,
    )
    return ui.render(
        "parties/user_list.html",
        items=items,
        total=total,
        page=page,
        page_size=PAGE_SIZE,
        params=params,
        party_options=_party_options(ui),
        party_names=_party_names(ui, {u.party_id for u in items}),
        can_manage=who(ui).can(Permission.USERS_MANAGE),
        **_user_choices(ui),
    )


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


def _api_keys_page(
    ui: Ui, form: FormState[Any], created: tuple[Any, str] | None = None
) -> Response:
    principal = who(ui)
    keys = service.list_api_keys(ui.session, principal)
    party_options = _party_options(ui)
    return ui.render(
        "parties/api_keys.html",
        status=form.status,
        keys=keys,
        form=form,
        created=created,
        party_options=party_options,
        party_names={int(k): v for k, v in party_options},
        **_user_choices(ui),
    )


@router.get("/api-keys")
def api_key_list(ui: UiPage) -> Response:
    """Machine-client keys (administrators)."""
    who(ui).require(Permission.API_KEYS_MANAGE)
    return _api_keys_page(ui, empty_form(ui.locale, {"role": Role.PARTNER_USER.value}))


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
