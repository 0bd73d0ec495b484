"""Generic read helpers shared by repositories; everything goes through the scoping helper."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from medledger.core.errors import Code, NotFound
from medledger.core.principal import Principal
from medledger.core.scoping import scoped

M = TypeVar("M")


def get_visible(session: Session, model: type[M], record_id: int, principal: Principal) -> M:
    """The record if the principal may see it; otherwise 404 (never 403)."""
    query: Select[Any] = select(model).where(model.id == record_id)  # type: ignore[attr-defined]
    stmt = scoped(query, model, principal)
    obj = session.scalars(stmt).first()
    if obj is None:
        raise NotFound(
            "{entity} {id} was not found.",
            code=Code.NOT_FOUND,
            params={"entity": getattr(model, "__tablename__", "record"), "id": record_id},
        )
    return obj


def list_visible(
    session: Session,
    model: type[M],
    principal: Principal,
    *,
    filters: list[ColumnElement[bool]] | None = None,
    order_by: Any = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[M], int]:
    """One page of the visible records matching ``filters`` and the total count.

    The total comes with the page (``COUNT(*) OVER ()``): one statement, one round trip. Only
    a page past the end, which has no row to carry it, counts separately.
    """
    base: Select[Any] = scoped(select(model), model, principal)
    for condition in filters or []:
        base = base.where(condition)
    if order_by is None:
        order_by = (model.id,)  # type: ignore[attr-defined]
    elif not isinstance(order_by, tuple):
        order_by = (order_by,)
    # The primary key last keeps pages stable when the sort key has ties.
    stmt = base.order_by(*order_by, model.id)  # type: ignore[attr-defined]
    return page_with_total(session, stmt, page, page_size)


def page_with_total(
    session: Session, stmt: Select[Any], page: int, page_size: int
) -> tuple[list[Any], int]:
    """One page of ``stmt`` (ordered, one entity or column per row) and the total count of its
    rows, in one statement (``COUNT(*) OVER ()``): for every paged list, API or page
    (``web/lists.py`` specs fetch through their repositories). Only a page past the end, which
    has no row to carry the total, counts separately."""
    paged = stmt.add_columns(func.count().over()).limit(page_size).offset((page - 1) * page_size)
    rows = session.execute(paged).all()
    if rows:
        return [row[0] for row in rows], int(rows[0][-1])
    if page == 1:
        return [], 0
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    return [], int(total)


def apply_changes(obj: Any, changes: dict[str, Any]) -> None:
    """Set attributes that actually change (so the audit trail records only real changes)."""
    for key, value in changes.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
