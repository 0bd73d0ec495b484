"""REST routes: authentication, parties, sites, locations, users, API keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from medledger.core.deps import CurrentPrincipal, DbSession, client_address
from medledger.core.errors import DomainError
from medledger.core.schemas import Page, ReasonIn
from medledger.core.types import PageNumber, PageSize, RecordId
from medledger.core.work import work_of
from medledger.parties import auth, service
from medledger.parties.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    ApiKeyRotateIn,
    LocationIn,
    LocationOut,
    LocationUpdate,
    MeOut,
    PartyIn,
    PartyOut,
    PartyUpdate,
    PreferencesIn,
    SiteIn,
    SiteOut,
    SiteUpdate,
    TokenOut,
    UserIn,
    UserOut,
    UserUpdate,
)

router = APIRouter(prefix="/api/v1")
PageNo = PageNumber


def _reason(session: DbSession, body: ReasonIn | None) -> None:
    if body is not None and body.reason:
        work_of(session).give_reason(body.reason)


# --- auth ------------------------------------------------------------------------------------


@router.post("/auth/token", response_model=TokenOut, tags=["auth"])
def issue_token(
    request: Request, session: DbSession, form: Annotated[OAuth2PasswordRequestForm, Depends()]
) -> TokenOut:
    """OAuth2 password flow: exchange a username and password for a bearer token."""
    settings = request.app.state.settings
    try:
        user = auth.authenticate(
            session,
            settings,
            username=form.username,
            password=form.password,
            client=client_address(request),
        )
    except DomainError:
        session.commit()  # keep the failed attempt for rate limiting and the security log
        raise
    issued = auth.issue_session(session, settings, user, kind="bearer")
    return TokenOut(access_token=issued.token, expires_in=issued.expires_in_seconds)


@router.get("/me", response_model=MeOut, tags=["auth"])
def me(principal: CurrentPrincipal) -> MeOut:
    """Who the credentials belong to, and what they allow."""
    return MeOut(
        user_id=principal.user_id,
        username=principal.username,
        display_name=principal.display_name,
        role=principal.role.value,
        party_id=principal.party_id,
        tenant_id=principal.tenant_id,
        locale=principal.locale,
        time_zone=principal.time_zone,
        permissions=sorted(p.value for p in principal.permissions),
    )


@router.patch("/me/preferences", response_model=UserOut, tags=["auth"])
def update_preferences(
    session: DbSession, principal: CurrentPrincipal, data: PreferencesIn
) -> UserOut:
    """Change your own language and time zone."""
    return UserOut.model_validate(service.update_preferences(session, principal, data))


# --- parties ---------------------------------------------------------------------------------


@router.get("/parties", response_model=Page[PartyOut], tags=["parties"])
def list_parties(
    session: DbSession,
    principal: CurrentPrincipal,
    role: str | None = None,
    country: str | None = None,
    region: str | None = None,
    q: str | None = None,
    gln: str | None = None,
    active: bool | None = None,
    page: PageNo = 1,
    page_size: PageSize = 50,
) -> Page[PartyOut]:
    """Parties of the network, paged and filtered."""
    items, total = service.list_parties(
        session,
        principal,
        role=role,
        country=country,
        region=region,
        q=q,
        gln=gln,
        active=active,
        page=page,
        page_size=page_size,
    )
    return Page(
        items=[PartyOut.model_validate(i) for i in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.post(
    "/parties", response_model=PartyOut, status_code=status.HTTP_201_CREATED, tags=["parties"]
)
def create_party(session: DbSession, principal: CurrentPrincipal, data: PartyIn) -> PartyOut:
    """Register a party under its GLN."""
    return PartyOut.model_validate(service.create_party(session, principal, data))


@router.get("/parties/{party_id}", response_model=PartyOut, tags=["parties"])
def read_party(session: DbSession, principal: CurrentPrincipal, party_id: RecordId) -> PartyOut:
    return PartyOut.model_validate(service.get_party(session, principal, party_id))


@router.patch("/parties/{party_id}", response_model=PartyOut, tags=["parties"])
def update_party(
    session: DbSession, principal: CurrentPrincipal, party_id: RecordId, data: PartyUpdate
) -> PartyOut:
    return PartyOut.model_validate(service.update_party(session, principal, party_id, data))


@router.post("/parties/{party_id}/deactivate", response_model=PartyOut, tags=["parties"])
def deactivate_party(
    session: DbSession,
    principal: CurrentPrincipal,
    party_id: RecordId,
    body: ReasonIn | None = None,
) -> PartyOut:
    _reason(session, body)
    return PartyOut.model_validate(service.set_party_active(session, principal, party_id, False))


@router.post("/parties/{party_id}/reactivate", response_model=PartyOut, tags=["parties"])
def reactivate_party(
    session: DbSession,
    principal: CurrentPrincipal,
    party_id: RecordId,
    body: ReasonIn | None = None,
) -> PartyOut:
    _reason(session, body)
    return PartyOut.model_validate(service.set_party_active(session, principal, party_id, True))


# --- sites -----------------------------------------------------------------------------------


@router.get("/sites", response_model=Page[SiteOut], tags=["sites"])
def list_sites(
    session: DbSession,
    principal: CurrentPrincipal,
    party_id: RecordId | None = None,
    q: str | None = None,
    active: bool | None = None,
    page: PageNo = 1,
    page_size: PageSize = 50,
) -> Page[SiteOut]:
    items, total = service.list_sites(
        session, principal, party_id=party_id, q=q, active=active, page=page, page_size=page_size
    )
    return Page(
        items=[SiteOut.model_validate(i) for i in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.post("/sites", response_model=SiteOut, status_code=status.HTTP_201_CREATED, tags=["sites"])
def create_site(session: DbSession, principal: CurrentPrincipal, data: SiteIn) -> SiteOut:
    return SiteOut.model_validate(service.create_site(session, principal, data))


@router.get("/sites/{site_id}", response_model=SiteOut, tags=["sites"])
def read_site(session: DbSession, principal: CurrentPrincipal, site_id: RecordId) -> SiteOut:
    return SiteOut.model_validate(service.get_site(session, principal, site_id))


@router.patch("/sites/{site_id}", response_model=SiteOut, tags=["sites"])
def update_site(
    session: DbSession, principal: CurrentPrincipal, site_id: RecordId, data: SiteUpdate
) -> SiteOut:
    return SiteOut.model_validate(service.update_site(session, principal, site_id, data))


@router.post("/sites/{site_id}/deactivate", response_model=SiteOut, tags=["sites"])
def deactivate_site(
    session: DbSession, principal: CurrentPrincipal, site_id: RecordId, body: ReasonIn | None = None
) -> SiteOut:
    _reason(session, body)
    return SiteOut.model_validate(service.set_site_active(session, principal, site_id, False))


@router.post("/sites/{site_id}/reactivate", response_model=SiteOut, tags=["sites"])
def reactivate_site(
    session: DbSession, principal: CurrentPrincipal, site_id: RecordId, body: ReasonIn | None = None
) -> SiteOut:
    _reason(session, body)
    return SiteOut.model_validate(service.set_site_active(session, principal, site_id, True))


# --- locations -------------------------------------------------------------------------------


@router.get("/locations", response_model=Page[LocationOut], tags=["locations"])
def list_locations(
    session: DbSession,
    principal: CurrentPrincipal,
    site_id: RecordId | None = None,
    storage_class: str | None = None,
    zone_purpose: str | None = None,
    active: bool | None = None,
    page: PageNo = 1,
    page_size: PageSize = 50,
) -> Page[LocationOut]:
    items, total = service.list_locations(
        session,
        principal,
        site_id=site_id,
        storage_class=storage_class,
        zone_purpose=zone_purpose,
        active=active,
        page=page,
        page_size=page_size,
    )
    return Page(
        items=[LocationOut.model_validate(i) for i in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.post(
    "/locations",
    response_model=LocationOut,
    status_code=status.HTTP_201_CREATED,
    tags=["locations"],
)
def create_location(
    session: DbSession, principal: CurrentPrincipal, data: LocationIn
) -> LocationOut:
    return LocationOut.model_validate(service.create_location(session, principal, data))


@router.get("/locations/{location_id}", response_model=LocationOut, tags=["locations"])
def read_location(
    session: DbSession, principal: CurrentPrincipal, location_id: RecordId
) -> LocationOut:
    return LocationOut.model_validate(service.get_location(session, principal, location_id))


@router.patch("/locations/{location_id}", response_model=LocationOut, tags=["locations"])
def update_location(
    session: DbSession, principal: CurrentPrincipal, location_id: RecordId, data: LocationUpdate
) -> LocationOut:
    return LocationOut.model_validate(
        service.update_location(session, principal, location_id, data)
    )


@router.post("/locations/{location_id}/deactivate", response_model=LocationOut, tags=["locations"])
def deactivate_location(
    session: DbSession,
    principal: CurrentPrincipal,
    location_id: RecordId,
    body: ReasonIn | None = None,
) -> LocationOut:
    _reason(session, body)
    return LocationOut.model_validate(
        service.set_location_active(session, principal, location_id, False)
    )


@router.post("/locations/{location_id}/reactivate", response_model=LocationOut, tags=["locations"])
def reactivate_location(
    session: DbSession,
    principal: CurrentPrincipal,
    location_id: RecordId,
    body: ReasonIn | None = None,
) -> LocationOut:
    _reason(session, body)
    return LocationOut.model_validate(
        service.set_location_active(session, principal, location_id, True)
    )


# --- users -----------------------------------------------------------------------------------


@router.get("/users", response_model=Page[UserOut], tags=["users"])
def list_users(
    session: DbSession,
    principal: CurrentPrincipal,
    party_id: RecordId | None = None,
    role: str | None = None,
    active: bool | None = None,
    page: PageNo = 1,
    page_size: PageSize = 50,
) -> Page[UserOut]:
    items, total = service.list_users(
        session,
        principal,
        party_id=party_id,
        role=role,
        active=active,
        page=page,
        page_size=page_size,
    )
    return Page(
        items=[UserOut.model_validate(i) for i in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED, tags=["users"])
def create_user(session: DbSession, principal: CurrentPrincipal, data: UserIn) -> UserOut:
    return UserOut.model_validate(service.create_user(session, principal, data))


@router.get("/users/{user_id}", response_model=UserOut, tags=["users"])
def read_user(session: DbSession, principal: CurrentPrincipal, user_id: RecordId) -> UserOut:
    return UserOut.model_validate(service.get_user(session, principal, user_id))


@router.patch("/users/{user_id}", response_model=UserOut, tags=["users"])
def update_user(
    session: DbSession, principal: CurrentPrincipal, user_id: RecordId, data: UserUpdate
) -> UserOut:
    return UserOut.model_validate(service.update_user(session, principal, user_id, data))


@router.post("/users/{user_id}/deactivate", response_model=UserOut, tags=["users"])
def deactivate_user(
    session: DbSession, principal: CurrentPrincipal, user_id: RecordId, body: ReasonIn | None = None
) -> UserOut:
    _reason(session, body)
    return UserOut.model_validate(service.set_user_active(session, principal, user_id, False))


@router.post("/users/{user_id}/reactivate", response_model=UserOut, tags=["users"])
def reactivate_user(
    session: DbSession, principal: CurrentPrincipal, user_id: RecordId, body: ReasonIn | None = None
) -> UserOut:
    _reason(session, body)
    return UserOut.model_validate(service.set_user_active(session, principal, user_id, True))


# --- API keys --------------------------------------------------------------------------------


@router.get("/api-keys", response_model=list[ApiKeyOut], tags=["api keys"])
def list_api_keys(session: DbSession, principal: CurrentPrincipal) -> list[ApiKeyOut]:
    return [ApiKeyOut.model_validate(k) for k in service.list_api_keys(session, principal)]


@router.post(
    "/api-keys",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    tags=["api keys"],
)
def create_api_key(
    session: DbSession, principal: CurrentPrincipal, data: ApiKeyIn
) -> ApiKeyCreated:
    """Issue a key for a party's machine client. The secret is in this response only."""
    api_key, secret = service.create_api_key(session, principal, data)
    return ApiKeyCreated(**ApiKeyOut.model_validate(api_key).model_dump(), key=secret)


@router.post(
    "/api-keys/{key_id}/rotate",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    tags=["api keys"],
)
def rotate_api_key(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    key_id: RecordId,
    data: ApiKeyRotateIn,
) -> ApiKeyCreated:
    """Issue the successor of a key (secret in this response only); the old key keeps
    working for the overlap window (``overlap_hours``, default the deployment's 24)."""
    overlap = data.overlap_hours
    if overlap is None:
        overlap = request.app.state.settings.api_key_rotation_overlap_hours
    api_key, secret = service.rotate_api_key(
        session, principal, key_id, overlap_hours=overlap, expires_at=data.expires_at
    )
    return ApiKeyCreated(**ApiKeyOut.model_validate(api_key).model_dump(), key=secret)


@router.post("/api-keys/{key_id}/revoke", response_model=ApiKeyOut, tags=["api keys"])
def revoke_api_key(session: DbSession, principal: CurrentPrincipal, key_id: RecordId) -> ApiKeyOut:
    return ApiKeyOut.model_validate(service.revoke_api_key(session, principal, key_id))


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, tags=["auth"])
def logout(session: DbSession, principal: CurrentPrincipal) -> Response:
    """End the bearer token or browser session this request came with (an API key is revoked
    by an administrator instead)."""
    if principal.auth_session_id is not None:
        auth.revoke_session(session, principal.auth_session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
