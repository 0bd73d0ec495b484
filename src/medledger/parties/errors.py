"""The codes raised by the parties context (tenants, parties, sites, locations, users, login)."""

from __future__ import annotations

from enum import StrEnum


class Code(StrEnum):
    """Stable codes of the parties context (never translated, never renamed)."""

    PARTY_GLN_TAKEN = "party.gln_taken"
    SITE_GLN_TAKEN = "site.gln_taken"
    LOCATION_GLN_TAKEN = "location.gln_taken"
    LOCATION_CODE_TAKEN = "location.code_taken"
    PARTY_IS_HUB = "party.is_hub"
    PARTY_REQUIRED = "party.required"
    PARTY_UNKNOWN = "party.unknown"
    SITE_UNKNOWN = "site.unknown"
    ROLE_INTERNAL_ONLY = "role.internal_only"
    ROLE_NOT_FOR_HUB = "role.not_for_hub"
    REGION_UNKNOWN = "region.unknown"
    USERNAME_TAKEN = "username.taken"
    USER_SELF_DEACTIVATION = "user.self_deactivation"
    PREFERENCES_NOT_A_USER = "preferences.not_a_user"
    TENANT_SLUG_TAKEN = "tenant.slug_taken"
    LOGIN_INVALID_CREDENTIALS = "login.invalid_credentials"
    LOGIN_RATE_LIMITED = "login.rate_limited"
    INSTALLATION_ALREADY_INITIALISED = "installation.already_initialised"
    INSTALLATION_ADMIN_ROLE = "installation.admin_role"
    EXPIRY_IN_PAST = "expiry.in_past"
    API_KEY_NOT_ACTIVE = "api_key.not_active"
