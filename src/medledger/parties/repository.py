"""Queries for parties, sites, locations and users, and their partner-visibility rules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from medledger.core.principal import Principal
from medledger.core.scoping import party_rule
from medledger.parties.models import ApiKey, Location, Party, Site, Tenant, User


@party_rule(Party)
def _party_visible(principal: Principal) -> ColumnElement[bool]:
    return Party.id == principal.party_id


@party_rule(Site)
def _site_visible(principal: Principal) -> ColumnElement[bool]:
    return Site.party_id == principal.party_id


@party_rule(Location)
def _location_visible(principal: Principal) -> ColumnElement[bool]:
    return Location.party_id == principal.party_id


@party_rule(User)
def _user_visible(principal: Principal) -> ColumnElement[bool]:
    return User.party_id == principal.party_id


@party_rule(ApiKey)
def _api_key_visible(principal: Principal) -> ColumnElement[bool]:
    return ApiKey.party_id == principal.party_id


def party_filters(
    *,
    role: str | None = None,
    country: str | None = None,
    region: str | None = None,
    q: str | None = None,
    active: bool | None = None,
    gln: str | None = None,
) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = []
    if role:
        # roles is a JSON list; its text form contains each role quoted.
        filters.append(cast(Party.roles, String).like(f'%"{role}"%'))
    if country:
        filters.append(Party.country == country.upper())
    if region:
        filters.append(Party.region == region.upper())
    if gln:
        filters.append(Party.gln == gln)
    if q:
        filters.append(Party.name.ilike(f"%{q}%") | (Party.gln == q))
    if active is not None:
        filters.append(Party.active.is_(active))
    return filters


def gln_in_use(
    session: Session, tenant_id: int, model: Any, gln: str, exclude_id: int | None
) -> bool:
    """True when another row of ``model`` in the tenant already has ``gln``."""
    stmt = select(model.id).where(model.tenant_id == tenant_id, model.gln == gln)
    if exclude_id is not None:
        stmt = stmt.where(model.id != exclude_id)
    return session.scalar(stmt.limit(1)) is not None


def tenant_of(session: Session, tenant_id: int) -> Tenant:
    tenant = session.get(Tenant, tenant_id)
    assert tenant is not None
    return tenant
