"""Planning after intake: an order is scored in its intake's transaction, planned after commit.

Allocating stock to a new order reads the open demand and the stock of its products, solves,
and writes reservations and shortfalls; inside the intake's transaction that work held the
tenant's audit-chain lock (every audited writer of the tenant waited for it) and made order
intake ~10× slower than the write itself. So intake (``service.place_order``, every channel)
only validates, stores and **scores** the order, which lands in the board's ``scored``
column: the column *is* the queue of orders waiting to be planned. After the intake commits:

* the order API hands planning to a background task of its server process, which runs after
  the response is sent (:class:`BackgroundPlanner`: one run at a time per process; orders
  placed while it runs are planned by its next round, together, by one solver call);
* every other caller (UI forms, EDI/CSV imports, the CLI, seeds) plans right after its commit,
  in a transaction of its own (the session's ``after_commit`` hook);
* ``medledger plan`` plans whatever is still waiting (after a crash between commit and
  planning, say), and ``medledger score --plan`` re-plans all open demand.

Planning a tenant takes its audit-chain head lock first (PostgreSQL; SQLite's single writer
does the same), so two planners never hand out the same free stock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from medledger.compliance.models import AuditHead
from medledger.core.db import claim_writer, is_postgres, make_session_factory
from medledger.core.system import system_unit_of_work
from medledger.orders.models import Order
from medledger.orders.repository import OPEN_STATUSES

log = logging.getLogger("medledger.orders.planning")

#: Orders planned per transaction (a larger backlog takes several rounds).
BATCH = 500
#: The board column of orders that are scored and wait for planning.
WAITING_COLUMN = "scored"

_WAITING = "medledger.planning.waiting"  # session.info: tenants with orders waiting
_COMMITTED = "medledger.planning.committed"  # session.info: ... once their intake committed
_RUNNER = "medledger.planning.runner"  # session.info: who plans them after commit

Runner = Callable[[set[int]], None]


def queue(session: Session, tenant_id: int) -> None:
    """Plan the tenant's waiting orders once this unit of work has committed."""
    session.info.setdefault(_WAITING, set()).add(tenant_id)


def defer_to(session: Session, runner: Runner) -> None:
    """After commit, give the waiting tenants to ``runner`` instead of planning at once."""
    session.info[_RUNNER] = runner


def serialise_planning(session: Session, tenant_id: int) -> None:
    """One planner per tenant at a time, and none while another audited write of the tenant
    is in flight: reservations are only ever written under the audit chain's head lock."""
    claim_writer(session)
    if is_postgres(session):
        session.execute(
            select(AuditHead.tenant_id).where(AuditHead.tenant_id == tenant_id).with_for_update()
        )


def plan_waiting(session: Session, tenant_id: int, *, limit: int = BATCH) -> int:
    """Plan up to ``limit`` orders of the tenant waiting in the ``scored`` column (oldest
    first): reservations, shortfalls and their board column. Returns how many were planned."""
    from medledger.orders import planning

    serialise_planning(session, tenant_id)
    ids = set(
        session.scalars(
            select(Order.id)
            .where(
                Order.tenant_id == tenant_id,
                Order.status.in_(OPEN_STATUSES),
                Order.board_state == WAITING_COLUMN,
            )
            .order_by(Order.id)
            .limit(limit)
        )
    )
    if not ids:
        return 0
    planning.plan(session, tenant_id, order_ids=ids)
    # An order none of whose lines is open any more has nothing to plan: it leaves the queue.
    planning.settle_board(session, tenant_id, ids)
    return len(ids)


def drain(factory: sessionmaker[Session], tenant_ids: set[int]) -> int:
    """Plan every waiting order of ``tenant_ids``, one transaction per batch; how many."""
    planned = 0
    for tenant_id in sorted(tenant_ids):
        while True:
            with system_unit_of_work(factory, label="planning") as session:
                done = plan_waiting(session, tenant_id)
            planned += done
            if done < BATCH:
                break
    return planned


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    tenants = session.info.pop(_WAITING, None)
    if tenants:
        session.info[_COMMITTED] = tenants


@event.listens_for(Session, "after_rollback")
def _forget_waiting(session: Session) -> None:
    session.info.pop(_WAITING, None)


@event.listens_for(Session, "after_transaction_end")
def _plan_after_commit(session: Session, transaction: Any) -> None:
    # Here rather than in after_commit: the committed transaction's connection is back in the
    # pool (with SQLite's writer lock, which planning needs again).
    if transaction.parent is not None:
        return
    tenants: set[int] | None = session.info.pop(_COMMITTED, None)
    runner: Runner | None = session.info.pop(_RUNNER, None)
    if not tenants:
        return
    if runner is not None:
        runner(tenants)
        return
    try:
        drain(make_session_factory(session.get_bind()), tenants)  # type: ignore[arg-type]
    except Exception:
        # The orders are committed and stay in "scored"; the next planning round takes them.
        log.exception("planning after commit failed for tenants %s", sorted(tenants))


class BackgroundPlanner:
    """Plans a server process's waiting orders after responses are sent, one run at a time.

    A request that placed an order asks for a run (:meth:`run`, a background task); if one is
    going on, the request only adds its tenant and returns, and the running one does another
    round for everything that arrived meanwhile: under load, many orders are planned by one
    solver call instead of one each. A run is admitted like a request (it needs a pooled
    connection), so it never starves the requests of connections.
    """

    def __init__(self, app_state: Any) -> None:
        self._state = app_state
        self._waiting: set[int] = set()
        self._running = False

    async def run(self, tenant_ids: set[int]) -> None:
        self._waiting |= tenant_ids
        if self._running:
            return
        self._running = True
        try:
            while self._waiting:
                tenants, self._waiting = self._waiting, set()
                admission = self._state.admission
                await admission.enter()
                try:
                    await anyio.to_thread.run_sync(drain, self._state.session_factory, tenants)
                finally:
                    admission.leave()
        except Exception:
            # Still waiting in "scored": the next run (any process) or `medledger plan` takes them.
            log.exception("background planning failed")
        finally:
            self._running = False


def background_planner(app_state: Any) -> BackgroundPlanner:
    """The application's planner (created on first use)."""
    planner: BackgroundPlanner | None = getattr(app_state, "order_planner", None)
    if planner is None:
        planner = app_state.order_planner = BackgroundPlanner(app_state)
    return planner
