"""Who is acting: roles, permissions and the principal every service receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from medledger.core.errors import Code, PermissionDenied


class Role(StrEnum):
    ADMIN = "admin"
    PLANNER = "planner"
    SALES = "sales"
    WAREHOUSE = "warehouse"
    PURCHASING = "purchasing"
    QA = "qa"
    QA_APPROVER = "qa_approver"
    PARTNER_USER = "partner_user"
    AUDITOR = "auditor"


class Permission(StrEnum):
    PARTIES_READ = "parties:read"
    PARTIES_WRITE = "parties:write"
    SITES_READ = "sites:read"
    SITES_WRITE = "sites:write"
    CATALOG_READ = "catalog:read"
    CATALOG_WRITE = "catalog:write"
    BOM_READ = "bom:read"
    BOM_WRITE = "bom:write"
    USERS_READ = "users:read"
    USERS_MANAGE = "users:manage"
    API_KEYS_MANAGE = "api_keys:manage"
    AUDIT_READ = "audit:read"
    TRACE_READ = "trace:read"
    TRACE_CAPTURE = "trace:capture"
    INTEGRATION_MANAGE = "integration:manage"
    INVENTORY_READ = "inventory:read"
    INVENTORY_MOVE = "inventory:move"
    INVENTORY_RELEASE = "inventory:release"  # QA: release, reject, unhold, recall stock
    PURCHASING_READ = "purchasing:read"
    PURCHASING_WRITE = "purchasing:write"
    PURCHASING_SUPPLY = "purchasing:supply"  # a supplier confirms its POs and sends ASNs

    # Quality records (NCR, CAPA, change control): read; report or answer (partners, shop floor);
    # author and edit; approve, disposition and close (the signing approver).
    QUALITY_READ = "quality:read"
    QUALITY_REPORT = "quality:report"
    QUALITY_WRITE = "quality:write"
    QUALITY_APPROVE = "quality:approve"

    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"
    ORDERS_INBOX = "orders:inbox"
    ORDERS_DELIVER = "orders:deliver"
    CUSTOMERS_WRITE = "customers:write"
    # Priority and allocation: edit rule sets, ask for overrides and pre-emptions, re-plan;
    # approve them (a second person, with an e-signature); move orders on the board.
    PRIORITY_WRITE = "priority:write"
    PRIORITY_APPROVE = "priority:approve"
    ORDERS_FULFIL = "orders:fulfil"

    # Analytics: supplier scorecards and improvement plans (partners: their own party's), the
    # KPI board (the hub's people and auditors), settings and plans (purchasing and QA).
    ANALYTICS_READ = "analytics:read"
    ANALYTICS_WRITE = "analytics:write"
    KPI_READ = "kpi:read"


P = Permission
_READ_ALL = {
    P.PARTIES_READ,
    P.SITES_READ,
    P.CATALOG_READ,
    P.BOM_READ,
    P.TRACE_READ,
    P.QUALITY_READ,
    P.ORDERS_READ,
}
_STOCK_READ = {P.INVENTORY_READ, P.PURCHASING_READ}
_QA = {P.CATALOG_WRITE, P.BOM_WRITE, P.AUDIT_READ, P.TRACE_CAPTURE, P.QUALITY_REPORT}
# Sales ops run order intake: customers and contracts, orders from every channel, the EDI inbox.
_ORDER_DESK = {P.ORDERS_READ, P.ORDERS_WRITE, P.ORDERS_INBOX, P.ORDERS_DELIVER, P.CUSTOMERS_WRITE}
_ANALYTICS = {P.ANALYTICS_READ, P.KPI_READ}
_ANALYTICS_WRITE = {P.ANALYTICS_WRITE}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.PLANNER: frozenset(
        _READ_ALL
        | _STOCK_READ
        | _ANALYTICS
        | {P.PRIORITY_WRITE, P.PRIORITY_APPROVE, P.ORDERS_FULFIL}
    ),
    Role.SALES: frozenset(
        {P.PARTIES_READ, P.SITES_READ, P.CATALOG_READ, P.TRACE_READ, P.INVENTORY_READ}
        | _ORDER_DESK
        | _ANALYTICS
        | {P.PRIORITY_WRITE, P.ORDERS_FULFIL}
    ),
    Role.WAREHOUSE: frozenset(
        _READ_ALL
        | _STOCK_READ
        | _ANALYTICS
        | {P.SITES_WRITE, P.TRACE_CAPTURE, P.INVENTORY_MOVE, P.QUALITY_REPORT, P.ORDERS_DELIVER}
        | {P.ORDERS_FULFIL}
    ),
    Role.PURCHASING: frozenset(
        _READ_ALL
        | _STOCK_READ
        | _ANALYTICS
        | _ANALYTICS_WRITE
        | {P.PARTIES_WRITE, P.PURCHASING_WRITE}
    ),
    Role.QA: frozenset(
        _READ_ALL
        | _STOCK_READ
        | _QA
        | _ANALYTICS
        | _ANALYTICS_WRITE
        | {P.QUALITY_WRITE, P.INVENTORY_RELEASE}
    ),
    Role.QA_APPROVER: frozenset(
        _READ_ALL
        | _STOCK_READ
        | _QA
        | _ANALYTICS
        | _ANALYTICS_WRITE
        | {P.QUALITY_WRITE, P.QUALITY_APPROVE, P.INVENTORY_RELEASE}
    ),
    Role.PARTNER_USER: frozenset(
        {
            P.PARTIES_READ,
            P.SITES_READ,
            P.CATALOG_READ,
            P.USERS_READ,
            P.TRACE_READ,
            P.TRACE_CAPTURE,
            P.INTEGRATION_MANAGE,
            P.PURCHASING_READ,
            P.PURCHASING_SUPPLY,
            P.QUALITY_READ,
            P.QUALITY_REPORT,
            P.ORDERS_READ,
            P.ORDERS_WRITE,
            P.ANALYTICS_READ,
        }
    ),
    Role.AUDITOR: frozenset(_READ_ALL | _STOCK_READ | _ANALYTICS | {P.USERS_READ, P.AUDIT_READ}),
}

# Roles for people of the hub (the tenant's own manufacturer party).
INTERNAL_ROLES = frozenset(
    {
        Role.ADMIN,
        Role.PLANNER,
        Role.SALES,
        Role.WAREHOUSE,
        Role.PURCHASING,
        Role.QA,
        Role.QA_APPROVER,
    }
)


@dataclass(frozen=True)
class Principal:
    """An authenticated user or machine client, as services see it."""

    user_id: int | None
    tenant_id: int
    party_id: int
    role: Role
    username: str
    display_name: str
    hub_party_id: int | None
    locale: str | None = None
    time_zone: str = "UTC"
    api_key_id: int | None = None
    permissions: frozenset[Permission] = field(default_factory=frozenset)
    #: The name of the principal's party (shown in the user menu).
    party_name: str = ""
    #: The browser session or bearer token this request came with (None: API key, CLI, job).
    auth_session_id: int | None = None

    @property
    def label(self) -> str:
        """How the audit trail names this actor."""
        if self.api_key_id is not None:
            return f"api-key:{self.api_key_id} ({self.display_name})"
        return f"{self.username} ({self.display_name})"

    @property
    def sees_all_parties(self) -> bool:
        """Hub staff and auditors see the whole network; partner users only their own party."""
        return self.role in INTERNAL_ROLES or self.role == Role.AUDITOR

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission) -> None:
        """Raise 403 unless the role grants ``permission``."""
        if permission not in self.permissions:
            raise PermissionDenied(
                "Your role may not do this ({permission}).",
                code=Code.PERMISSION_DENIED,
                params={"permission": permission.value},
            )


def make_principal(
    *,
    user_id: int | None,
    tenant_id: int,
    party_id: int,
    role: str,
    username: str,
    display_name: str,
    hub_party_id: int | None,
    locale: str | None = None,
    time_zone: str = "UTC",
    api_key_id: int | None = None,
    party_name: str = "",
    auth_session_id: int | None = None,
) -> Principal:
    role_value = Role(role)
    return Principal(
        user_id=user_id,
        tenant_id=tenant_id,
        party_id=party_id,
        role=role_value,
        username=username,
        display_name=display_name,
        hub_party_id=hub_party_id,
        locale=locale,
        time_zone=time_zone,
        api_key_id=api_key_id,
        permissions=ROLE_PERMISSIONS[role_value],
        party_name=party_name,
        auth_session_id=auth_session_id,
    )
