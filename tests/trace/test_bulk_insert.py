"""``bulk.bulk_insert``: the ids it answers are the stored ones, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.builders import build_network

from medledger.core.db import is_postgres
from medledger.core.system import system_unit_of_work
from medledger.trace.ledger.bulk import bulk_insert, table_of
from medledger.trace.models import TraceItem

_COLUMNS = ("tenant_id", "uri", "kind", "commissioned", "last_event_time")
_NOON = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)


def _stored(session: Session, tenant_id: int) -> list[tuple[str, int, datetime | None]]:
    rows = session.execute(
        select(TraceItem.uri, TraceItem.id, TraceItem.last_event_time)
        .where(TraceItem.tenant_id == tenant_id)
        .order_by(TraceItem.id)
    )
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_the_answered_ids_are_the_stored_ids(factory: sessionmaker[Session]) -> None:
    tenant = build_network(factory, "bulk").tenant_id
    rows = [(tenant, f"urn:x:{n}", "other", False, _NOON + timedelta(minutes=n)) for n in range(5)]
    with system_unit_of_work(factory) as session:
        answered = bulk_insert(
            session, table_of(TraceItem), _COLUMNS, rows, returning=("uri", "id")
        )
        stored = _stored(session, tenant)

    assert answered == [(uri, row_id) for uri, row_id, _ in stored]
    assert [uri for uri, _, _ in stored] == [f"urn:x:{n}" for n in range(5)]
    assert [at for _, _, at in stored] == [_NOON + timedelta(minutes=n) for n in range(5)]


def test_skipped_conflicts_leave_no_wrong_id(factory: sessionmaker[Session]) -> None:
    tenant = build_network(factory, "bulkc").tenant_id
    with system_unit_of_work(factory) as session:
        table = table_of(TraceItem)
        bulk_insert(session, table, _COLUMNS, [(tenant, "urn:x:1", "other", False, None)])
        rows = [(tenant, uri, "other", False, None) for uri in ("urn:x:1", "urn:x:2")]
        answered = bulk_insert(
            session, table, _COLUMNS, rows, ignore_conflicts=True, returning=("uri", "id")
        )
        stored = _stored(session, tenant)
        postgres = is_postgres(session)

    assert [uri for uri, _, _ in stored] == ["urn:x:1", "urn:x:2"]
    # PostgreSQL returns the rows it inserted; SQLite cannot tell which row was skipped and
    # answers None (the caller reads the ids back by key).
    assert answered == ([("urn:x:2", stored[1][1])] if postgres else None)


def test_equal_instants_in_other_zones_are_stored_alike(factory: sessionmaker[Session]) -> None:
    # the per-batch memo of converted datetimes is keyed by equality, i.e. by instant
    tenant = build_network(factory, "bulkt").tenant_id
    plus_one = timezone(timedelta(hours=1))
    times = [_NOON, _NOON.astimezone(plus_one), _NOON + timedelta(microseconds=1), _NOON]
    rows = [(tenant, f"urn:t:{n}", "other", False, at) for n, at in enumerate(times)]
    with system_unit_of_work(factory) as session:
        bulk_insert(session, table_of(TraceItem), _COLUMNS, rows)
        stored = _stored(session, tenant)

    assert [at for _, _, at in stored] == [
        _NOON,
        _NOON,
        _NOON + timedelta(microseconds=1),
        _NOON,
    ]
    assert all(at is not None and at.tzinfo is not None for _, _, at in stored)
