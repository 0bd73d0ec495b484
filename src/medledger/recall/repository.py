"""Recall queries and partner-visibility rules.

A partner user sees a recall only when its party was notified of it (a ``RecallNotice`` for
its party), and only its own notice. The scope snapshot (every consignee, every shipment) has
no rule: partners never see it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from medledger.core.db import is_postgres
from medledger.core.principal import Principal
from medledger.core.scoping import party_rule, scoped
from medledger.recall.models import Recall, RecallNotice


@party_rule(Recall)
def _recall_visible(principal: Principal) -> ColumnElement[bool]:
    return Recall.id.in_(
        select(RecallNotice.recall_id).where(RecallNotice.party_id == principal.party_id)
    )


@party_rule(RecallNotice)
def _notice_visible(principal: Principal) -> ColumnElement[bool]:
    return RecallNotice.party_id == principal.party_id


def next_number(session: Session, tenant_id: int, year: int) -> str:
    """``RCL-YYYY-NNNN``: one more than the tenant's highest of that year."""
    stem = f"RCL-{year}-"
    highest = session.scalar(
        select(func.max(Recall.number)).where(
            Recall.tenant_id == tenant_id, Recall.number.like(f"{stem}%")
        )
    )
    last = int(str(highest).rsplit("-", 1)[1]) if highest else 0
    return f"{stem}{last + 1:04d}"


def lock_recall(session: Session, recall_id: int, principal: Principal) -> Recall | None:
    """The visible recall, locked for a change on PostgreSQL (None if not visible)."""
    stmt: Select[Any] = scoped(select(Recall).where(Recall.id == recall_id), Recall, principal)
    if is_postgres(session):
        stmt = stmt.with_for_update()
    return session.scalars(stmt.execution_options(populate_existing=True)).first()


def visible_notices(session: Session, principal: Principal, recall_id: int) -> list[RecallNotice]:
    """The notices of a recall the caller may see (a partner: its own), by name."""
    stmt: Select[Any] = scoped(
        select(RecallNotice).where(RecallNotice.recall_id == recall_id), RecallNotice, principal
    )
    return list(session.scalars(stmt.order_by(RecallNotice.name, RecallNotice.id)))


def notices_of(session: Session, recall_ids: list[int]) -> dict[int, list[RecallNotice]]:
    """Every notice of the given recalls (hub use: the caller checked visibility)."""
    result: dict[int, list[RecallNotice]] = {i: [] for i in recall_ids}
    if recall_ids:
        for notice in session.scalars(
            select(RecallNotice)
            .where(RecallNotice.recall_id.in_(recall_ids))
            .order_by(RecallNotice.name, RecallNotice.id)
        ):
            result[notice.recall_id].append(notice)
    return result
