"""Partner visibility of analytics' records: a supplier's users see the improvement plans for
their own party, with their actions and reviews; settings are the hub's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.sql.elements import ColumnElement

from medledger.analytics.models import ImprovementAction, ImprovementPlan, ImprovementReview
from medledger.core.principal import Principal
from medledger.core.scoping import party_rule


@party_rule(ImprovementPlan)
def _plan_visible(principal: Principal) -> ColumnElement[bool]:
    return ImprovementPlan.supplier_party_id == principal.party_id


def _own_plans(principal: Principal) -> Select[Any]:
    return select(ImprovementPlan.id).where(ImprovementPlan.supplier_party_id == principal.party_id)


@party_rule(ImprovementAction)
def _action_visible(principal: Principal) -> ColumnElement[bool]:
    return ImprovementAction.plan_id.in_(_own_plans(principal))


@party_rule(ImprovementReview)
def _review_visible(principal: Principal) -> ColumnElement[bool]:
    return ImprovementReview.plan_id.in_(_own_plans(principal))
