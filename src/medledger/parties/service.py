"""Use cases for parties, sites, locations, users and API keys.

Every mutating function takes the acting principal, checks its permission, validates against
the rules of the field, and flushes; the audit listener writes the trail in the same
transaction. The caller commits.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from medledger.core.db import utcnow
from medledger.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from medledger.core.principal import INTERNAL_ROLES, Permission, Principal, Role
from medledger.core.record_checks import refuse_invalid
from medledger.core.repository import apply_changes, get_visible, list_visible
from medledger.core.security import hash_password, new_token, token_digest
from medledger.core.work import work_of
from medledger.parties import repository as repo
from medledger.parties.errors import Code
from medledger.parties.models import ApiKey, Location, Party, Site, Tenant, User
from medledger.parties.schemas import (
    ApiKeyIn,
    LocationIn,
    LocationUpdate,
    PartyIn,
    PartyUpdate,
    PreferencesIn,
    SiteIn,
    SiteUpdate,
    UserIn,
    UserUpdate,
)


def _conflict(field: str, code: str, message: str, **params: Any) -> Conflict:
    return Conflict(
        message,
        code=code,
        params=params,
        errors=[FieldError(field=field, code=code, message=message, params=params)],
    )


def _invalid(field: str, code: str, message: str, **params: Any) -> ValidationFailed:
    return ValidationFailed(
        message,
        code=code,
        params=params,
        errors=[FieldError(field=field, code=code, message=message, params=params)],
    )


# --- parties ---------------------------------------------------------------------------------


def list_parties(
    session: Session, principal: Principal, *, page: int = 1, page_size: int = 50, **filters: Any
) -> tuple[list[Party], int]:
    """Parties the principal may see, filtered by role, country, region, text and state."""
    principal.require(Permission.PARTIES_READ)
    return list_visible(
        session,
        Party,
        principal,
        filters=repo.party_filters(**filters),
        order_by=Party.name,
        page=page,
        page_size=page_size,
    )


def get_party(session: Session, principal: Principal, party_id: int) -> Party:
    """One party, or 404 if the principal may not see it."""
    principal.require(Permission.PARTIES_READ)
    return get_visible(session, Party, party_id, principal)


def create_party(session: Session, principal: Principal, data: PartyIn) -> Party:
    """Register an organisation of the network under its GLN."""
    principal.require(Permission.PARTIES_WRITE)
    refuse_invalid(session, principal, "party", data.model_dump(mode="json"))
    if repo.gln_in_use(session, principal.tenant_id, Party, data.gln, None):
        raise _conflict(
            "gln", Code.PARTY_GLN_TAKEN, "GLN {gln} is already used by another party.", gln=data.gln
        )
    party = Party(
        tenant_id=principal.tenant_id,
        name=data.name,
        gln=data.gln,
        roles=sorted({r.value for r in data.roles}),
        country=data.country,
        region=data.region,
        time_zone=data.time_zone,
        contacts=[c.model_dump() for c in data.contacts],
        active=True,
    )
    session.add(party)
    session.flush()
    return party


def update_party(session: Session, principal: Principal, party_id: int, data: PartyUpdate) -> Party:
    """Change a party's master data."""
    principal.require(Permission.PARTIES_WRITE)
    party = get_visible(session, Party, party_id, principal)
    changes = data.model_dump(exclude_unset=True)
    refuse_invalid(session, principal, "party", data.model_dump(exclude_unset=True, mode="json"))
    if "gln" in changes and repo.gln_in_use(
        session, principal.tenant_id, Party, changes["gln"], party.id
    ):
        raise _conflict(
            "gln",
            Code.PARTY_GLN_TAKEN,
            "GLN {gln} is already used by another party.",
            gln=changes["gln"],
        )
    if "roles" in changes:
        changes["roles"] = sorted({str(r) for r in changes["roles"]})
    if "region" in changes:
        changes["region"] = changes["region"].upper()
    if data.contacts is not None:
        changes["contacts"] = [c.model_dump() for c in data.contacts]
    apply_changes(party, changes)
    session.flush()
    return party


def set_party_active(session: Session, principal: Principal, party_id: int, active: bool) -> Party:
    """Deactivate (or reactivate) a party; the hub's own party cannot be deactivated."""
    principal.require(Permission.PARTIES_WRITE)
    party = get_visible(session, Party, party_id, principal)
    if not active and party.id == principal.hub_party_id:
        raise Conflict("The hub's own party cannot be deactivated.", code=Code.PARTY_IS_HUB)
    apply_changes(party, {"active": active})
    session.flush()
    return party


# --- sites -----------------------------------------------------------------------------------


def list_sites(
    session: Session,
    principal: Principal,
    *,
    party_id: int | None = None,
    q: str | None = None,
    active: bool | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[Site], int]:
    """Sites the principal may see."""
    principal.require(Permission.SITES_READ)
    filters: list[ColumnElement[bool]] = []
    if party_id is not None:
        filters.append(Site.party_id == party_id)
    if q:
        filters.append(Site.name.ilike(f"%{q}%") | (Site.gln == q))
    if active is not None:
        filters.append(Site.active.is_(active))
    return list_visible(
        session,
        Site,
        principal,
        filters=filters,
        order_by=Site.name,
        page=page,
        page_size=page_size,
    )


def get_site(session: Session, principal: Principal, site_id: int) -> Site:
    """One site, or 404."""
    principal.require(Permission.SITES_READ)
    return get_visible(session, Site, site_id, principal)


def create_site(session: Session, principal: Principal, data: SiteIn) -> Site:
    """Add a site to a party the principal can see."""
    principal.require(Permission.SITES_WRITE)
    refuse_invalid(session, principal, "site", data.model_dump(mode="json"))
    try:
        get_visible(session, Party, data.party_id, principal)
    except NotFound:
        raise _invalid(
            "party_id", Code.PARTY_UNKNOWN, "Party {id} does not exist.", id=data.party_id
        ) from None
    if repo.gln_in_use(session, principal.tenant_id, Site, data.gln, None):
        raise _conflict(
            "gln", Code.SITE_GLN_TAKEN, "GLN {gln} is already used by another site.", gln=data.gln
        )
    site = Site(tenant_id=principal.tenant_id, active=True, **data.model_dump())
    session.add(site)
    session.flush()
    return site


def update_site(session: Session, principal: Principal, site_id: int, data: SiteUpdate) -> Site:
    """Change a site's master data."""
    principal.require(Permission.SITES_WRITE)
    site = get_visible(session, Site, site_id, principal)
    changes = data.model_dump(exclude_unset=True)
    refuse_invalid(session, principal, "site", data.model_dump(exclude_unset=True, mode="json"))
    if "gln" in changes and repo.gln_in_use(
        session, principal.tenant_id, Site, changes["gln"], site.id
    ):
        raise _conflict(
            "gln",
            Code.SITE_GLN_TAKEN,
            "GLN {gln} is already used by another site.",
            gln=changes["gln"],
        )
    apply_changes(site, changes)
    session.flush()
    return site


def set_site_active(session: Session, principal: Principal, site_id: int, active: bool) -> Site:
    """Deactivate or reactivate a site."""
    principal.require(Permission.SITES_WRITE)
    site = get_visible(session, Site, site_id, principal)
    apply_changes(site, {"active": active})
    session.flush()
    return site


# --- locations -------------------------------------------------------------------------------


def list_locations(
    session: Session,
    principal: Principal,
    *,
    site_id: int | None = None,
    storage_class: str | None = None,
    zone_purpose: str | None = None,
    active: bool | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[Location], int]:
    """Locations the principal may see."""
    principal.require(Permission.SITES_READ)
    filters: list[ColumnElement[bool]] = []
    if site_id is not None:
        filters.append(Location.site_id == site_id)
    if storage_class:
        filters.append(Location.storage_class == storage_class)
    if zone_purpose:
        filters.append(Location.zone_purpose == zone_purpose)
    if active is not None:
        filters.append(Location.active.is_(active))
    return list_visible(
        session,
        Location,
        principal,
        filters=filters,
        order_by=(Location.site_id, Location.code),
        page=page,
        page_size=page_size,
    )


def get_location(session: Session, principal: Principal, location_id: int) -> Location:
    """One location, or 404."""
    principal.require(Permission.SITES_READ)
    return get_visible(session, Location, location_id, principal)


def _location_code_taken(session: Session, site_id: int, code: str, exclude_id: int | None) -> bool:
    stmt = select(Location.id).where(Location.site_id == site_id, Location.code == code)
    if exclude_id is not None:
        stmt = stmt.where(Location.id != exclude_id)
    return session.scalar(stmt.limit(1)) is not None


def create_location(session: Session, principal: Principal, data: LocationIn) -> Location:
    """Add a storage location to a site."""
    principal.require(Permission.SITES_WRITE)
    refuse_invalid(session, principal, "location", data.model_dump(mode="json"))
    try:
        site = get_visible(session, Site, data.site_id, principal)
    except NotFound:
        raise _invalid(
            "site_id", Code.SITE_UNKNOWN, "Site {id} does not exist.", id=data.site_id
        ) from None
    if _location_code_taken(session, site.id, data.code, None):
        raise _conflict(
            "code",
            Code.LOCATION_CODE_TAKEN,
            "Location {value} already exists at this site.",
            value=data.code,
        )
    if data.gln and repo.gln_in_use(session, principal.tenant_id, Location, data.gln, None):
        raise _conflict(
            "gln",
            Code.LOCATION_GLN_TAKEN,
            "GLN {gln} is already used by another location.",
            gln=data.gln,
        )
    location = Location(
        tenant_id=principal.tenant_id,
        party_id=site.party_id,
        active=True,
        site_id=site.id,
        code=data.code,
        gln=data.gln,
        name=data.name,
        storage_class=data.storage_class.value,
        zone_purpose=data.zone_purpose.value,
    )
    session.add(location)
    session.flush()
    return location


def update_location(
    session: Session, principal: Principal, location_id: int, data: LocationUpdate
) -> Location:
    """Change a location."""
    principal.require(Permission.SITES_WRITE)
    location = get_visible(session, Location, location_id, principal)
    changes = data.model_dump(exclude_unset=True, mode="json")
    refuse_invalid(session, principal, "location", changes)
    if "code" in changes and _location_code_taken(
        session, location.site_id, changes["code"], location.id
    ):
        raise _conflict(
            "code",
            Code.LOCATION_CODE_TAKEN,
            "Location {value} already exists at this site.",
            value=changes["code"],
        )
    if changes.get("gln") and repo.gln_in_use(
        session, principal.tenant_id, Location, changes["gln"], location.id
    ):
        raise _conflict(
            "gln",
            Code.LOCATION_GLN_TAKEN,
            "GLN {gln} is already used by another location.",
            gln=changes["gln"],
        )
    apply_changes(location, changes)
    session.flush()
    return location


def set_location_active(
    session: Session, principal: Principal, location_id: int, active: bool
) -> Location:
    """Deactivate or reactivate a location."""
    principal.require(Permission.SITES_WRITE)
    location = get_visible(session, Location, location_id, principal)
    apply_changes(location, {"active": active})
    session.flush()
    return location


# --- users -----------------------------------------------------------------------------------


def list_users(
    session: Session,
    principal: Principal,
    *,
    party_id: int | None = None,
    role: str | None = None,
    active: bool | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[User], int]:
    """Users the principal may see (partner users: their own party's)."""
    principal.require(Permission.USERS_READ)
    filters: list[ColumnElement[bool]] = []
    if party_id is not None:
        filters.append(User.party_id == party_id)
    if role:
        filters.append(User.role == role)
    if active is not None:
        filters.append(User.active.is_(active))
    return list_visible(
        session,
        User,
        principal,
        filters=filters,
        order_by=User.username,
        page=page,
        page_size=page_size,
    )


def get_user(session: Session, principal: Principal, user_id: int) -> User:
    """One user, or 404."""
    principal.require(Permission.USERS_READ)
    return get_visible(session, User, user_id, principal)


def check_role_fits_party(
    role: Role, party_id: int, hub_party_id: int | None, field: str = "role"
) -> None:
    """Internal roles belong to the hub's people; partners get the partner or auditor role."""
    is_hub = party_id == hub_party_id
    if is_hub and role == Role.PARTNER_USER:
        raise _invalid(
            field, Code.ROLE_NOT_FOR_HUB, "The partner-user role is for partner parties."
        )
    if not is_hub and role in INTERNAL_ROLES:
        raise _invalid(
            field,
            Code.ROLE_INTERNAL_ONLY,
            "Role {role} is only for the hub's own staff.",
            role=role.value,
        )


def create_user(session: Session, principal: Principal, data: UserIn) -> User:
    """Create a user; without ``party_id`` it belongs to the hub's own party."""
    principal.require(Permission.USERS_MANAGE)
    party_id = data.party_id if data.party_id is not None else principal.hub_party_id
    if party_id is None:
        raise _invalid("party_id", Code.PARTY_REQUIRED, "Choose the party the user belongs to.")
    try:
        get_visible(session, Party, party_id, principal)
    except NotFound:
        raise _invalid(
            "party_id", Code.PARTY_UNKNOWN, "Party {id} does not exist.", id=party_id
        ) from None
    check_role_fits_party(data.role, party_id, principal.hub_party_id)
    if session.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise _conflict(
            "username", Code.USERNAME_TAKEN, "Username {username} is taken.", username=data.username
        )
    user = User(
        tenant_id=principal.tenant_id,
        party_id=party_id,
        username=data.username,
        display_name=data.display_name,
        email=data.email,
        password_hash=hash_password(data.password),
        role=data.role.value,
        locale=data.locale,
        time_zone=data.time_zone,
        active=True,
        expires_at=_future("expires_at", data.expires_at),
    )
    session.add(user)
    session.flush()
    return user


def update_user(session: Session, principal: Principal, user_id: int, data: UserUpdate) -> User:
    """Change a user's profile, role or password (administrators)."""
    principal.require(Permission.USERS_MANAGE)
    user = get_visible(session, User, user_id, principal)
    changes = data.model_dump(exclude_unset=True)
    if "role" in changes and changes["role"] is not None:
        check_role_fits_party(Role(changes["role"]), user.party_id, principal.hub_party_id)
        changes["role"] = Role(changes["role"]).value
    password = changes.pop("password", None)
    if password:
        changes["password_hash"] = hash_password(password)
    if changes.get("expires_at") is not None:
        _future("expires_at", changes["expires_at"])
    apply_changes(user, changes)
    session.flush()
    return user


def set_user_active(session: Session, principal: Principal, user_id: int, active: bool) -> User:
    """Deactivate or reactivate a user; nobody can deactivate itself."""
    principal.require(Permission.USERS_MANAGE)
    user = get_visible(session, User, user_id, principal)
    if not active and user.id == principal.user_id:
        raise Conflict("You cannot deactivate your own account.", code=Code.USER_SELF_DEACTIVATION)
    apply_changes(user, {"active": active})
    session.flush()
    return user


def update_preferences(session: Session, principal: Principal, data: PreferencesIn) -> User:
    """A user's own language and time zone."""
    if principal.user_id is None:
        raise Conflict("Machine clients have no preferences.", code=Code.PREFERENCES_NOT_A_USER)
    user = session.get(User, principal.user_id)
    assert user is not None
    apply_changes(user, data.model_dump(exclude_unset=True))
    session.flush()
    return user


# --- API keys --------------------------------------------------------------------------------


def list_api_keys(session: Session, principal: Principal) -> list[ApiKey]:
    """API keys (administrators)."""
    principal.require(Permission.API_KEYS_MANAGE)
    items, _ = list_visible(session, ApiKey, principal, page_size=500)
    return items


def create_api_key(session: Session, principal: Principal, data: ApiKeyIn) -> tuple[ApiKey, str]:
    """Issue a key for a party's machine client; returns the secret once."""
    principal.require(Permission.API_KEYS_MANAGE)
    try:
        get_visible(session, Party, data.party_id, principal)
    except NotFound:
        raise _invalid(
            "party_id", Code.PARTY_UNKNOWN, "Party {id} does not exist.", id=data.party_id
        ) from None
    check_role_fits_party(data.role, data.party_id, principal.hub_party_id)
    # Hex, so the prefix never contains the "_" that separates the key's parts.
    prefix = secrets.token_hex(4)
    secret = new_token(32)
    key = f"mlk_{prefix}_{secret}"
    api_key = ApiKey(
        tenant_id=principal.tenant_id,
        party_id=data.party_id,
        name=data.name,
        role=data.role.value,
        prefix=prefix,
        key_hash=token_digest(key),
        expires_at=_future("expires_at", data.expires_at),
        rate_limit_requests=data.rate_limit_requests,
    )
    session.add(api_key)
    session.flush()
    return api_key, key


def _future(field: str, when: datetime | None) -> datetime | None:
    if when is not None and when <= utcnow():
        raise _invalid(field, Code.EXPIRY_IN_PAST, "Give a time in the future.")
    return when


def api_key_active(api_key: ApiKey, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return api_key.revoked_at is None and (api_key.expires_at is None or api_key.expires_at > now)


def party_api_keys(session: Session, principal: Principal) -> list[ApiKey]:
    """The keys of the principal's own party (what a partner sees of its machine clients;
    never a secret)."""
    principal.require(Permission.INTEGRATION_MANAGE)
    return list(
        session.scalars(
            select(ApiKey)
            .where(ApiKey.tenant_id == principal.tenant_id, ApiKey.party_id == principal.party_id)
            .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
        )
    )


def rotate_api_key(
    session: Session,
    principal: Principal,
    key_id: int,
    *,
    overlap_hours: int,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Issue the successor of an active key (same party, name, role and limit); the old key
    keeps working for ``overlap_hours`` (at most until its own expiry), so clients can switch
    without a gap. Returns the new key and its secret (shown once)."""
    principal.require(Permission.API_KEYS_MANAGE)
    old = get_visible(session, ApiKey, key_id, principal)
    now = utcnow()
    if not api_key_active(old, now) or old.replaced_by_id is not None:
        raise _conflict(
            "key_id",
            Code.API_KEY_NOT_ACTIVE,
            "Key {prefix} is revoked, expired or already rotated.",
            prefix=old.prefix,
        )
    new_expiry = _future("expires_at", expires_at) if expires_at is not None else old.expires_at
    successor, secret = create_api_key(
        session,
        principal,
        ApiKeyIn(
            party_id=old.party_id,
            name=old.name,
            role=Role(old.role),
            rate_limit_requests=old.rate_limit_requests,
        ),
    )
    successor.expires_at = new_expiry
    end = now + timedelta(hours=overlap_hours)
    old.expires_at = min(end, old.expires_at) if old.expires_at else end
    old.replaced_by_id = successor.id
    session.flush()
    return successor, secret


def expiring(
    session: Session, principal: Principal, *, within_days: int
) -> tuple[list[User], list[ApiKey]]:
    """Active users and API keys that expire within ``within_days`` (soonest first)."""
    now = utcnow()
    until = now + timedelta(days=within_days)
    users: list[User] = []
    keys: list[ApiKey] = []
    if principal.can(Permission.USERS_READ):
        users, _ = list_visible(
            session,
            User,
            principal,
            filters=[User.active.is_(True), User.expires_at > now, User.expires_at <= until],
            order_by=User.expires_at,
            page_size=100,
        )
    if principal.can(Permission.API_KEYS_MANAGE):
        keys, _ = list_visible(
            session,
            ApiKey,
            principal,
            filters=[
                ApiKey.revoked_at.is_(None),
                ApiKey.expires_at > now,
                ApiKey.expires_at <= until,
            ],
            order_by=ApiKey.expires_at,
            page_size=100,
        )
    return users, keys


def revoke_api_key(session: Session, principal: Principal, key_id: int) -> ApiKey:
    """Revoke a key; its clients are refused from the next request on."""
    principal.require(Permission.API_KEYS_MANAGE)
    api_key = get_visible(session, ApiKey, key_id, principal)
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
    session.flush()
    return api_key


def hub_party_id(session: Session, tenant_id: int) -> int | None:
    tenant = session.get(Tenant, tenant_id)
    return tenant.owner_party_id if tenant else None


# --- tenants ---------------------------------------------------------------------------------


def create_tenant(session: Session, *, name: str, slug: str, hub: PartyIn) -> Tenant:
    """Open a new network with its hub (the device maker). Acts as the platform itself: the
    caller attributes the unit of work to a system actor (``core.work``)."""
    if session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise _conflict("slug", Code.TENANT_SLUG_TAKEN, "Tenant {slug} already exists.", slug=slug)
    tenant = Tenant(name=name, slug=slug)
    session.add(tenant)
    session.flush()
    party = Party(
        tenant_id=tenant.id,
        name=hub.name,
        gln=hub.gln,
        roles=sorted({r.value for r in hub.roles}),
        country=hub.country,
        region=hub.region,
        time_zone=hub.time_zone,
        contacts=[c.model_dump() for c in hub.contacts],
        active=True,
    )
    session.add(party)
    session.flush()
    tenant.owner_party_id = party.id
    session.flush()
    return tenant


def initialise_installation(
    session: Session, *, name: str, slug: str, hub: PartyIn, admin: UserIn
) -> tuple[Tenant, User]:
    """Start a real installation: the first tenant, its hub party and the hub's first admin.

    Refuses when the database already holds a tenant (an installation is initialised once;
    further networks and users are created by their admins). Acts as the platform itself: the
    caller attributes the unit of work to a system actor (``core.work``); the admin user is then
    created by the tenant's own administration principal, so both are audited."""
    from medledger.core.system import tenant_admin

    if session.scalar(select(Tenant.id).limit(1)) is not None:
        raise Conflict(
            "This installation is already initialised; create users with `medledger user "
            "create` or in the web UI.",
            code=Code.INSTALLATION_ALREADY_INITIALISED,
        )
    if admin.role is not Role.ADMIN:
        raise _invalid("role", Code.INSTALLATION_ADMIN_ROLE, "The first user must be an admin.")
    tenant = create_tenant(session, name=name, slug=slug, hub=hub)
    principal = tenant_admin(session, tenant.id, label="init")
    work_of(session).act_as(principal)
    user = create_user(session, principal, admin)
    return tenant, user
