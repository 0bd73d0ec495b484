"""Partner visibility: work orders and their device history are the hub's own records."""

from __future__ import annotations

from sqlalchemy import false
from sqlalchemy.sql.elements import ColumnElement

from medledger.core.principal import Principal
from medledger.core.scoping import party_rule
from medledger.production.models import WorkOrder, WorkOrderComponent


@party_rule(WorkOrder)
def _work_order_visible(principal: Principal) -> ColumnElement[bool]:
    return false()


@party_rule(WorkOrderComponent)
def _component_visible(principal: Principal) -> ColumnElement[bool]:
    return false()
