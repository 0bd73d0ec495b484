"""Trace custody: unpacking as a time interval, unregistered holders by GLN; projections rebuilt

* ``genealogy_edges.ended_by_event_id`` / ``ended_at``: an aggregation DELETE (unpacking) ends
  a containment instead of retracting it (recall scope keeps walking it);
* ``trace_items.holder_gln``: the holder of an item when it is a party that is not registered;
* the projections of every tenant's ledger (items' state, event items, edges, hops, item
  parties) are rebuilt from the stored events with the custody rules of this revision
  (``medledger.trace.ledger.rebuild``): holders change only at receipts and commissionings,
  parties outside master data are kept by GLN, contents follow their containers, and read
  access comes from the custody chain only.

Both tables already have row-level security (0002); new columns are covered by their
policies. The rebuild reads every tenant, so it bypasses RLS for this transaction.

Revision ID: 0009
Revises: 0014
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision: str = "0009"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("genealogy_edges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ended_by_event_id", _ID, nullable=True))
        batch_op.add_column(sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("trace_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holder_gln", sa.String(length=13), nullable=True))
    _rebuild_ledgers()


def _rebuild_ledgers() -> None:
    """Replay every tenant's stored events through the current projection code."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.execute(sa.text("SELECT set_config('app.rls_bypass', 'on', true)"))
    tenants = [
        int(row[0])
        for row in bind.execute(sa.text("SELECT DISTINCT tenant_id FROM epcis_events")).all()
    ]
    if not tenants:
        return
    # Imported here: only a ledger with events needs the application's projection code (the
    # migration environment, migrations/env.py, has loaded every model).
    from medledger.trace.ledger.rebuild import rebuild_projections

    session = Session(bind=bind)
    for tenant_id in tenants:
        rebuild_projections(session, tenant_id)
    session.flush()


def downgrade() -> None:
    with op.batch_alter_table("trace_items", schema=None) as batch_op:
        batch_op.drop_column("holder_gln")
    with op.batch_alter_table("genealogy_edges", schema=None) as batch_op:
        batch_op.drop_column("ended_at")
        batch_op.drop_column("ended_by_event_id")
