"""Engine, session factory, declarative base and the unit of work.

The caller owns the transaction: a request, CLI command or job opens one unit of work, services
flush but never commit, and the unit of work commits on success or rolls back on error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from medledger.core.errors import ServiceUnavailable
from medledger.core.work import Actor, work_of

if TYPE_CHECKING:
    from medledger.core.config import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite so autoincrement works.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both databases (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; MedLedger stores aware UTC times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """Now, aware, in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TenantScoped:
    """Mixin: every business row belongs to one tenant (the distribution key for Citus)."""

    tenant_id: Mapped[int] = mapped_column(BigId, index=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


#: Connections a pool may open beyond its 10 kept ones, unless configured. Admission
#: (``core/admission.py``) lets no more units of work run than the pool has connections, so a
#: pool smaller than the server's thread pool queues requests instead of deadlocking them.
POOL_HEADROOM = 30
#: How long a request waits for a pooled connection before it is answered 503 (seconds).
DEFAULT_POOL_TIMEOUT = 5.0
#: SQLite: how long a transaction waits for the one writer before it is answered 503 (seconds).
DEFAULT_SQLITE_WRITE_WAIT = 5.0


def make_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int | None = None,
    max_overflow: int | None = None,
    pool_timeout: float = DEFAULT_POOL_TIMEOUT,
    sqlite_write_wait: float = DEFAULT_SQLITE_WRITE_WAIT,
) -> Engine:
    """An engine for ``url``; SQLite gets WAL mode, foreign keys, a busy timeout and one writer
    at a time per process (:func:`_serialise_sqlite_writes`).

    A checkout that finds the pool empty waits at most ``pool_timeout`` seconds and then raises
    ``sqlalchemy.exc.TimeoutError``, which the web layer answers with 503 and ``Retry-After``.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        pool_args: dict[str, Any] = {}
        if path and path != ":memory:" and "mode=memory" not in url:
            pool_args = {
                "pool_size": 10 if pool_size is None else pool_size,
                "max_overflow": POOL_HEADROOM if max_overflow is None else max_overflow,
                "pool_timeout": pool_timeout,
            }
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False}, **pool_args
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        _serialise_sqlite_writes(engine, sqlite_write_wait)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(
        url,
        echo=echo,
        pool_size=10 if pool_size is None else pool_size,
        max_overflow=POOL_HEADROOM if max_overflow is None else max_overflow,
        pool_timeout=pool_timeout,
    )
    _ping_idle_connections(engine)
    return engine


def engine_from_settings(settings: Settings) -> Engine:
    """The engine the settings describe (server, worker and CLI processes)."""
    return make_engine(
        settings.database_url,
        echo=settings.sql_echo,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        sqlite_write_wait=settings.sqlite_write_wait_seconds,
    )


# ``BEGIN IMMEDIATE`` is :func:`claim_writer`: a transaction that will write after reading.
_WRITE_STATEMENTS = (
    "INSERT",
    "UPDATE",
    "DELETE",
    "REPLACE",
    "CREATE",
    "DROP",
    "ALTER",
    "BEGIN IMMEDIATE",
)
_HOLDS_WRITER = "medledger.sqlite_writer"


def _serialise_sqlite_writes(engine: Engine, wait: float) -> None:
    """One writing transaction at a time per process; the others queue for at most ``wait``.

    SQLite has one writer per database. Left to itself, a second writer spins in SQLite's busy
    handler and, when a transaction that read first tries to write, fails at once with
    "database is locked". Here a transaction takes the process's writer lock before its first
    write statement (reads never take it, so readers stay concurrent under WAL) and gives it
    back when its connection returns to the pool, which a session does right after its commit
    or rollback. A transaction that cannot get the lock within ``wait`` seconds raises
    :class:`ServiceUnavailable` (503) having changed nothing. Other processes writing the same
    file still meet SQLite's own busy timeout (``PRAGMA busy_timeout``).
    """
    lock = threading.Lock()

    @event.listens_for(engine, "before_cursor_execute")
    def _take_writer_lock(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        info = conn.info
        if info.get(_HOLDS_WRITER) or not statement.lstrip()[:15].upper().startswith(
            _WRITE_STATEMENTS
        ):
            return
        if not lock.acquire(timeout=wait):
            raise ServiceUnavailable("The server is busy. Try again in a few seconds.")
        info[_HOLDS_WRITER] = True

    def _give_back(record: Any) -> None:
        if record.info.pop(_HOLDS_WRITER, False):
            lock.release()

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        _give_back(record)

    @event.listens_for(engine, "invalidate")
    def _invalidated(_dbapi_connection: Any, record: Any, _exception: Any) -> None:
        _give_back(record)


#: A pooled server connection that sat unused for longer than this is pinged before it is
#: handed out again (and replaced if the server dropped it). See :func:`_ping_idle_connections`.
PING_AFTER_IDLE_SECONDS = 10.0


def _ping_idle_connections(engine: Engine) -> None:
    """Ping a pooled connection before reuse only when it has been idle for a while.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: one more round trip per request,
    a fifth of a typical trace on PostgreSQL. Connections that served a request seconds ago
    are almost never dead, so only those idle for more than :data:`PING_AFTER_IDLE_SECONDS`
    (server restarts, idle timeouts, failovers while the process was quiet) are pinged; a
    dead one raises ``DisconnectionError`` and the pool connects afresh. A connection dropped
    within that window fails the one statement that meets it; SQLAlchemy then recognises the
    disconnect and discards every pooled connection older than the failure (docs/operations.md).
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get("checked_in_at")
        if last is None or time.monotonic() - last <= PING_AFTER_IDLE_SECONDS:
            return  # freshly connected, or used moments ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):  # type: ignore[arg-type]
                raise DisconnectionError(str(error)) from error
            raise
        if not alive:
            raise DisconnectionError("the pooled connection did not answer a ping")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that never expire loaded objects on commit (views render after commit)."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def unit_of_work(
    factory: sessionmaker[Session], *, principal: Actor | None = None, reason: str | None = None
) -> Iterator[Session]:
    """One transaction: commit when the block succeeds, roll back when it raises.

    ``principal`` and ``reason`` attribute the unit of work (``core.work.work_of``) so that the
    audit listener can attribute every change; a caller may also set them later.
    """
    session = factory()
    work = work_of(session)
    if principal is not None:
        work.act_as(principal)
    work.give_reason(reason)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def claim_writer(session: Session) -> None:
    """On SQLite, make the unit of work a write transaction now (``BEGIN IMMEDIATE``).

    A deferred transaction that has read and then writes fails at once with "database is
    locked" when another writer committed in between (WAL snapshot conflict; the busy timeout
    does not apply). Claiming the write lock first makes it wait its turn instead (in the
    process's writer queue first, :func:`_serialise_sqlite_writes`). Call it before the first
    read of a unit of work that will write; PostgreSQL needs nothing.
    """
    if session.get_bind().dialect.name != "sqlite":
        return
    connection = session.connection()
    if not connection.connection.driver_connection.in_transaction:  # type: ignore[union-attr]
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def is_postgres(session_or_engine: Session | Engine) -> bool:
    bind = (
        session_or_engine.get_bind()
        if isinstance(session_or_engine, Session)
        else session_or_engine
    )
    return bind.dialect.name == "postgresql"


# Where a pooled PostgreSQL connection remembers the session-level ``app.tenant_id`` it holds
# (``Connection.info`` lives as long as the DB-API connection), and where a session keeps the
# value it set in its open transaction until that commits.
_TENANT_GUC = "medledger.app_tenant_id"
_PENDING_GUC = "medledger.pending_app_tenant_id"
_UNKNOWN = object()


def set_tenant_guc(session: Session, tenant_id: int | None) -> None:
    """On PostgreSQL, tell row-level security which tenant the session's transaction serves
    (``None``: no tenant, so tenant rows stay invisible unless the platform bypasses RLS).

    Every request runs it, so it costs nothing when it can: the value is set for the
    connection (``set_config(…, false)``), and the pooled connection remembers it once the
    transaction that set it has **committed**; a later request of the same tenant on that
    connection then sends nothing (a round trip less per request, a sixth of a typical
    trace). The remembered value is only ever what the server holds: a transaction that rolls
    back reverts the server's setting and is never remembered; a value set inside a savepoint
    (which may be rolled back on its own) makes the connection's value unknown, so the next
    request sets it again. Every request path calls this, with ``None`` when nobody is signed
    in, so no transaction runs with a tenant it did not ask for (docs/security.md).
    """
    if not is_postgres(session):
        return
    value = "" if tenant_id is None else str(tenant_id)
    connection = session.connection()
    info = connection.info
    pending = session.info.get(_PENDING_GUC)
    if pending is not None and pending[0] is info:
        current = pending[1]
    else:
        current = info.get(_TENANT_GUC, _UNKNOWN)
    if current == value:
        return
    cursor = connection.connection.cursor()
    try:
        cursor.execute("SELECT set_config('app.tenant_id', %(t)s, false)", {"t": value})
    finally:
        cursor.close()
    session.info[_PENDING_GUC] = (
        info,
        _UNKNOWN if session.in_nested_transaction() else value,
    )


@event.listens_for(Session, "after_commit")
def _remember_tenant_guc(session: Session) -> None:
    pending = session.info.pop(_PENDING_GUC, None)
    if pending is not None:
        info, value = pending
        if value is _UNKNOWN:
            info.pop(_TENANT_GUC, None)
        else:
            info[_TENANT_GUC] = value


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted_tenant_guc(session: Session, transaction: Any) -> None:
    # A rolled-back or closed transaction: the server reverted the setting, so the remembered
    # (committed) value still holds. (After a commit the pending value was taken already.)
    if transaction.parent is None:
        session.info.pop(_PENDING_GUC, None)


__all__ = [
    "Base",
    "BigId",
    "TenantScoped",
    "UTCDateTime",
    "claim_writer",
    "engine_from_settings",
    "is_postgres",
    "make_engine",
    "make_session_factory",
    "set_tenant_guc",
    "unit_of_work",
    "utcnow",
]
