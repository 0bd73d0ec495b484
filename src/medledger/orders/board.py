"""The order board: columns, and the one transition table that decides every move.

A card is an order. Planning (orders/planning.py) puts orders in ``scored``, ``allocated`` or
a blocked column (``backorder``, ``qc_hold``, ``compliance``) as scores and reservations
change; people move them with a button or by drag and drop, and both end in :func:`move`,
which finds the row of :data:`BOARD` from the order's column to the target and takes it with
``compliance.workflow.perform`` (permission, guard, reason, audit and a logged step). A move
the table has no row for is refused with 409 ``board.move_not_allowed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medledger.compliance import workflow as wf
from medledger.compliance.workflow import GuardFailure, Transition, Workflow
from medledger.core.db import utcnow
from medledger.core.principal import Permission, Principal
from medledger.core.repository import get_visible
from medledger.orders import planning
from medledger.orders.errors import Code, planning_conflict
from medledger.orders.models import Order, OrderLine
from medledger.orders.planning_models import LineShortfall, Reservation, ReservationStatus
from medledger.orders.repository import OPEN_STATUSES

KIND = "order_board"
COLUMNS: dict[str, str] = {
    "new": "New",
    "scored": "Scored",
    "allocated": "Allocated",
    "picking": "Picking",
    "shipped": "Shipped",
    "delivered": "Delivered",
    "backorder": "Backorder",
    "qc_hold": "QC hold",
    "compliance": "Compliance",
}
BLOCKED = ("backorder", "qc_hold", "compliance")


class Card:
    """What the workflow engine moves: the order's board column as ``state``."""

    def __init__(self, order: Order) -> None:
        self.order = order
        self.id = order.id

    @property
    def state(self) -> str:
        return self.order.board_state

    @state.setter
    def state(self, value: str) -> None:
        self.order.board_state = value


def _open_lines(session: Session, order: Order) -> list[OrderLine]:
    return list(
        session.scalars(
            select(OrderLine)
            .where(OrderLine.order_id == order.id, OrderLine.status.in_(OPEN_STATUSES))
            .order_by(OrderLine.line_number)
        )
    )


def _reserved_by_line(session: Session, order: Order, statuses: tuple[str, ...]) -> dict[int, int]:
    return {
        line_id: int(units or 0)
        for line_id, units in session.execute(
            select(Reservation.order_line_id, func.sum(Reservation.quantity))
            .where(Reservation.order_id == order.id, Reservation.status.in_(statuses))
            .group_by(Reservation.order_line_id)
        )
    }


def _fully_reserved(session: Session, _principal: Principal, card: Card) -> GuardFailure | None:
    order = card.order
    reserved = _reserved_by_line(session, order, planning.ACTIVE_RESERVATION)
    short = [
        line.line_number
        for line in _open_lines(session, order)
        if reserved.get(line.id, 0) < line.quantity - line.delivered_quantity
    ]
    if short:
        return GuardFailure(
            Code.BOARD_NOT_READY,
            "Order {order} is not fully reserved (lines {lines}).",
            "to",
            {"order": order.number, "lines": ", ".join(map(str, short))},
        )
    return None


def _plan_and_check(session: Session, principal: Principal, card: Card) -> GuardFailure | None:
    planning.plan(session, principal.tenant_id, order_ids={card.order.id})
    return _fully_reserved(session, principal, card)


def _set_reservations(session: Session, order: Order, source: str, target: str) -> None:
    for r in session.scalars(
        select(Reservation).where(Reservation.order_id == order.id, Reservation.status == source)
    ):
        r.status = target
    session.flush()


def _rescore(session: Session, principal: Principal, card: Card) -> None:
    planning.rescore(session, principal.tenant_id, order_ids={card.order.id})


def _retry(session: Session, principal: Principal, card: Card) -> None:
    planning.rescore(session, principal.tenant_id, order_ids={card.order.id})
    planning.plan(session, principal.tenant_id, order_ids={card.order.id})


def _block(session: Session, _principal: Principal, card: Card) -> None:
    lines = [line.id for line in _open_lines(session, card.order)]
    planning.release_reservations(session, lines)
    session.execute(
        LineShortfall.__table__.delete().where(LineShortfall.order_line_id.in_(lines))  # type: ignore[attr-defined]
    )


def _pick(session: Session, _principal: Principal, card: Card) -> None:
    _set_reservations(
        session, card.order, ReservationStatus.RESERVED.value, ReservationStatus.PICKED.value
    )


def _unpick(session: Session, _principal: Principal, card: Card) -> None:
    _set_reservations(
        session, card.order, ReservationStatus.PICKED.value, ReservationStatus.RESERVED.value
    )


def _ship(session: Session, _principal: Principal, card: Card) -> None:
    _set_reservations(
        session, card.order, ReservationStatus.PICKED.value, ReservationStatus.SHIPPED.value
    )


def _deliver(session: Session, principal: Principal, card: Card) -> None:
    """Record the delivery of what was shipped (until proof of delivery feeds it)."""
    from medledger.orders.service import record_delivery

    shipped = _reserved_by_line(session, card.order, (ReservationStatus.SHIPPED.value,))
    today = max(utcnow().date(), card.order.order_date)
    for line in _open_lines(session, card.order):
        units = min(shipped.get(line.id, 0), line.quantity - line.delivered_quantity)
        if units > 0:
            record_delivery(
                session, principal, line.id, delivered_on=today, quantity=units, source="board"
            )


def _transitions() -> tuple[Transition, ...]:
    fulfil = Permission.ORDERS_FULFIL
    rows = [
        Transition("new", "score", "scored", fulfil, "Score", effect=_rescore),
        Transition("scored", "allocate", "allocated", fulfil, "Allocate", guard=_plan_and_check),
        Transition(
            "allocated",
            "pick",
            "picking",
            fulfil,
            "Start picking",
            guard=_fully_reserved,
            effect=_pick,
        ),
        Transition(
            "picking",
            "unpick",
            "allocated",
            fulfil,
            "Back to allocated",
            reason_required=True,
            effect=_unpick,
        ),
        Transition("picking", "ship", "shipped", fulfil, "Ship", effect=_ship),
        Transition(
            "shipped",
            "deliver",
            "delivered",
            Permission.ORDERS_DELIVER,
            "Delivered",
            effect=_deliver,
        ),
    ]
    for blocked in BLOCKED:
        rows.append(Transition(blocked, "retry", "scored", fulfil, "Re-plan", effect=_retry))
        for source in ("scored", "allocated"):
            rows.append(
                Transition(
                    source,
                    f"to_{blocked}",
                    blocked,
                    fulfil,
                    f"Move to {COLUMNS[blocked]}",
                    reason_required=True,
                    effect=_block,
                )
            )
    return tuple(rows)


BOARD = Workflow(
    kind=KIND,
    states=COLUMNS,
    initial="new",
    transitions=_transitions(),
    closed_states=frozenset({"delivered"}),
)


def allowed_targets(state: str) -> list[str]:
    return [t.target for t in BOARD.from_state(state)]


def transition_to(state: str, target: str) -> Transition | None:
    return next((t for t in BOARD.from_state(state) if t.target == target), None)


def move(
    session: Session, principal: Principal, order_id: int, target: str, reason: str = ""
) -> Order:
    """Move an order's card to ``target`` if the table allows it (same rule for UI and API)."""
    principal.require(Permission.ORDERS_FULFIL)
    order = get_visible(session, Order, order_id, principal)
    if target not in COLUMNS:
        raise planning_conflict(
            Code.BOARD_UNKNOWN_COLUMN,
            "{column} is not a column of the board.",
            "to",
            column=target,
        )
    transition = transition_to(order.board_state, target)
    if transition is None:
        raise planning_conflict(
            Code.BOARD_MOVE_NOT_ALLOWED,
            "An order cannot move from {source} to {target}.",
            "to",
            source=COLUMNS[order.board_state],
            target=COLUMNS[target],
        )
    wf.perform(session, principal, BOARD, Card(order), transition.action, reason=reason)
    session.flush()
    return order


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardCard:
    order_id: int
    number: str
    customer: str
    channel: str
    column: str
    score: float
    lines: int
    units: int
    reserved: int
    shortfall: int
    reasons: list[str]
    promised: str
    targets: list[str]


def cards(session: Session, principal: Principal, limit_per_column: int = 60) -> dict[str, Any]:
    """The board: per column its cards (highest score first) and its total count."""
    from medledger.orders.models import Customer
    from medledger.orders.planning_models import LineScore
    from medledger.parties.models import Party

    principal.require(Permission.ORDERS_READ)
    tenant = principal.tenant_id
    counts = dict(
        session.execute(
            select(Order.board_state, func.count())
            .where(Order.tenant_id == tenant)
            .group_by(Order.board_state)
        ).all()
    )
    top = (
        select(LineScore.order_id, func.max(LineScore.score).label("score"))
        .where(LineScore.tenant_id == tenant)
        .group_by(LineScore.order_id)
        .subquery()
    )
    columns: dict[str, Any] = {}
    for column in COLUMNS:
        rows = session.execute(
            select(Order, Party.name, top.c.score)
            .join(Customer, Customer.id == Order.customer_id)
            .join(Party, Party.id == Customer.party_id)
            .outerjoin(top, top.c.order_id == Order.id)
            .where(Order.tenant_id == tenant, Order.board_state == column)
            .order_by(top.c.score.desc().nulls_last(), Order.id)
            .limit(limit_per_column)
        ).all()
        ids = [order.id for order, _, _ in rows]
        units = _sum_by_order(session, OrderLine.quantity - OrderLine.delivered_quantity, ids)
        reserved = _reserved_units(session, ids)
        shortfalls: dict[int, tuple[int, set[str]]] = {}
        for order_id, quantity, reasons in session.execute(
            select(LineShortfall.order_id, LineShortfall.quantity, LineShortfall.reasons).where(
                LineShortfall.order_id.in_(ids)
            )
        ):
            total, seen = shortfalls.get(order_id, (0, set()))
            shortfalls[order_id] = (total + quantity, seen | set(reasons or []))
        line_counts = dict(
            session.execute(
                select(OrderLine.order_id, func.count())
                .where(OrderLine.order_id.in_(ids))
                .group_by(OrderLine.order_id)
            ).all()
        )
        targets = allowed_targets(column) if principal.can(Permission.ORDERS_FULFIL) else []
        columns[column] = {
            "label": COLUMNS[column],
            "count": int(counts.get(column, 0)),
            "cards": [
                BoardCard(
                    order.id,
                    order.number,
                    name,
                    order.channel,
                    column,
                    round(float(score), 2) if score is not None else 0.0,
                    int(line_counts.get(order.id, 0)),
                    units.get(order.id, 0),
                    reserved.get(order.id, 0),
                    shortfalls.get(order.id, (0, set()))[0],
                    sorted(shortfalls.get(order.id, (0, set()))[1]),
                    order.requested_delivery_date.isoformat(),
                    targets,
                )
                for order, name, score in rows
            ],
        }
    return columns


def _sum_by_order(session: Session, expression: Any, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    return {
        order_id: int(units or 0)
        for order_id, units in session.execute(
            select(OrderLine.order_id, func.sum(expression))
            .where(OrderLine.order_id.in_(ids), OrderLine.status.in_(OPEN_STATUSES))
            .group_by(OrderLine.order_id)
        )
    }


def _reserved_units(session: Session, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    return {
        order_id: int(units or 0)
        for order_id, units in session.execute(
            select(Reservation.order_id, func.sum(Reservation.quantity))
            .where(Reservation.order_id.in_(ids))
            .group_by(Reservation.order_id)
        )
    }
