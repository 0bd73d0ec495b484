"""Bulk inserts of the capture transaction: one statement per table, whatever the batch size.

SQLite gets one ``executemany`` (ids assigned in the insert when they are wanted),
PostgreSQL a ``COPY`` into a scratch table and one ``INSERT … SELECT`` (``RETURNING`` the ids).
Values go through their columns' bind processing first (:func:`_bind_processed`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import JSON, Table
from sqlalchemy.orm import Session

from medledger.core.db import UTCDateTime

__all__ = ["CHUNK", "bulk_insert", "chunks", "table_of"]

# SQLite's default limit of bound parameters is 32766; PostgreSQL's is 65535.
CHUNK = 900


def table_of(model: type[Any]) -> Table:
    """The Core table of a mapped class (typed, for bulk statements)."""
    table: Table = model.__table__
    return table


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def bulk_insert(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]] | None:
    """Insert ``rows`` (tuples in ``columns`` order) in the session's transaction, fast.

    Values go through the columns' own SQLAlchemy bind processing (JSON, UTC datetimes), then
    straight to the driver: on PostgreSQL ``COPY`` into a temporary table and one
    ``INSERT … SELECT`` (``COPY FROM`` itself is refused on row-level-secured tables, and the
    ``INSERT`` applies the tenant policy and ``ON CONFLICT``); on SQLite one DB-API
    ``executemany``. Returns the ``returning`` columns of the inserted rows (which must
    include ``id``), or ``None`` when they could not be known: read them back by key then.
    """
    if not rows:
        return [] if returning else None
    connection = session.connection()
    dialect = connection.dialect
    driver = connection.connection.driver_connection
    assert driver is not None
    if dialect.name != "postgresql":
        return _sqlite_insert(driver, table, columns, rows, ignore_conflicts, returning, dialect)
    rows = _bind_processed(table, columns, rows, dialect)
    names = ", ".join(columns)
    conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    scratch = f"_bulk_{table.name}"
    with driver.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{scratch}")
        cursor.execute(
            f"CREATE TEMP TABLE {scratch} ON COMMIT DROP AS "
            f"SELECT {names} FROM {table.name} WITH NO DATA"
        )
        with cursor.copy(f"COPY {scratch} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        back = f" RETURNING {', '.join(returning)}" if returning else ""
        cursor.execute(
            f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {scratch}{conflict}{back}"
        )
        result = [tuple(row) for row in cursor.fetchall()] if returning else None
        cursor.execute(f"DROP TABLE {scratch}")
    return result


def _sqlite_insert(
    driver: Any,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    ignore_conflicts: bool,
    returning: Sequence[str],
    dialect: Any,
) -> list[tuple[Any, ...]] | None:
    """One ``executemany``. When ids are wanted they are given: the rows get the ids after
    the table's largest (what SQLite would pick itself) and the answer is built from them,
    instead of reading every row back by key. If any row was skipped (a conflict), the ids
    are not known for sure: ``None``."""
    conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    processed = _bind_processed(table, columns, rows, dialect)
    if not returning:
        names, marks = ", ".join(columns), ", ".join("?" for _ in columns)
        driver.executemany(
            f"INSERT INTO {table.name} ({names}) VALUES ({marks}){conflict}", processed
        )
        return None
    (last,) = driver.execute(f"SELECT coalesce(max(id), 0) FROM {table.name}").fetchone()
    first = last + 1
    names, marks = ", ".join(("id", *columns)), ", ".join("?" for _ in range(len(columns) + 1))
    before = driver.total_changes
    driver.executemany(
        f"INSERT INTO {table.name} ({names}) VALUES ({marks}){conflict}",
        [(first + index, *row) for index, row in enumerate(processed)],
    )
    if driver.total_changes - before != len(rows):
        return None
    positions = [None if name == "id" else columns.index(name) for name in returning]
    return [
        tuple(first + index if at is None else row[at] for at in positions)
        for index, row in enumerate(rows)
    ]


def _bind_processed(
    table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]], dialect: Any
) -> Sequence[Sequence[Any]]:
    """``rows`` with each value through its column's bind processing.

    Empty JSON lists are serialised once, and each distinct datetime once per column: a
    batch repeats its event times and has one record time (equal datetimes are the same
    instant, and the UTC conversion makes their stored text equal too).
    """
    processors = [
        (index, processor, isinstance(column_type, JSON), isinstance(column_type, UTCDateTime))
        for index, name in enumerate(columns)
        if (
            processor := (column_type := table.c[name].type)
            .dialect_impl(dialect)
            .bind_processor(dialect)
        )
        is not None
    ]
    if not processors:
        return rows
    empty = {index: processor([]) for index, processor, is_json, _ in processors if is_json}
    memos: dict[int, dict[Any, Any]] = {index: {} for index, *_, is_time in processors if is_time}
    converted: list[Sequence[Any]] = []
    for row in rows:
        values = list(row)
        for index, processor, is_json, is_time in processors:
            value = values[index]
            if value is None:
                continue
            if is_time:
                memo = memos[index]
                done = memo.get(value)
                if done is None:
                    done = memo[value] = processor(value)
                values[index] = done
            elif is_json and not value and isinstance(value, list):
                values[index] = empty[index]
            else:
                values[index] = processor(value)
        converted.append(values)
    return converted
