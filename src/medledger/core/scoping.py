"""The one tenant/party scoping choke point.

Every read of a business table goes through :func:`scoped`. It filters by the caller's tenant
and, for partner users, by the party-visibility rule the model declares with a
``__party_scope__`` classmethod. A model without a rule is invisible to partner users: new tables
are closed by default.
"""

from __future__ import annotations

from typing import Any, TypeVarTuple

from sqlalchemy import Select, false
from sqlalchemy.sql.elements import ColumnElement

from medledger.core.principal import Principal

# The selected columns: SQLAlchemy 2.1 types a Select by the tuple of what it selects.
Ts = TypeVarTuple("Ts")

# model class -> function(principal) -> SQL condition for partner users
_PARTY_RULES: dict[type, Any] = {}


def party_rule(model: type) -> Any:
    """Decorator registering the partner-visibility condition of ``model``."""

    def register(fn: Any) -> Any:
        _PARTY_RULES[model] = fn
        return fn

    return register


def visibility(model: type, principal: Principal) -> ColumnElement[bool]:
    """The condition that limits ``model`` rows to what ``principal`` may see."""
    condition: ColumnElement[bool] = model.tenant_id == principal.tenant_id  # type: ignore[attr-defined]
    if principal.sees_all_parties:
        return condition
    rule = _PARTY_RULES.get(model)
    if rule is None:
        return false()
    return condition & rule(principal)


def scoped(stmt: Select[*Ts], model: type, principal: Principal) -> Select[*Ts]:
    """``stmt`` limited to rows of ``model`` the principal may see."""
    return stmt.where(visibility(model, principal))


def has_party_rule(model: type) -> bool:
    return model in _PARTY_RULES
