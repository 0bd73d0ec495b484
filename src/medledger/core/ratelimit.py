"""Per-key request rate limits for machine clients (API keys), shared by every route.

A fixed window per key: requests are counted in ``api_rate_windows`` rows keyed by (key,
window start); the count is incremented with one ``INSERT … ON CONFLICT DO UPDATE …
RETURNING`` in its own short transaction (SQLite and PostgreSQL alike), so that every
process serving the API shares the counts and a request that later fails still counts. A
request over the limit is answered ``429`` with ``Retry-After`` = the seconds left in the
window. The clock is injected (``app.state.rate_clock``), so tests move time instead of
sleeping.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import BigInteger, Integer, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from medledger.core.db import Base, BigId
from medledger.core.errors import Code, RateLimited

Clock = Callable[[], float]


class ApiRateWindow(Base):
    """How many requests one API key made in one window (a counter, not a business record)."""

    __tablename__ = "api_rate_windows"

    key_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    window_start: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    count: Mapped[int] = mapped_column(Integer, default=0)


@dataclass(frozen=True)
class Limit:
    requests: int  # per window; 0 = no limit
    window_seconds: int


def hit(engine: Engine, key_id: int, limit: Limit, clock: Clock = time.time) -> None:
    """Count one request of ``key_id``; raise ``RateLimited`` (429, ``retry_after``) when it
    is over ``limit``."""
    if limit.requests <= 0 or limit.window_seconds <= 0:
        return
    now = clock()
    start = int(now // limit.window_seconds) * limit.window_seconds
    table = ApiRateWindow.__table__
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(table)
        .values(key_id=key_id, window_start=start, count=1)
        .on_conflict_do_update(
            index_elements=["key_id", "window_start"], set_={"count": table.c.count + 1}
        )
        .returning(table.c.count)
    )
    with engine.begin() as connection:
        count = int(connection.execute(statement).scalar_one())
        if count == 1:
            # A new window: forget the key's earlier ones (keeps the table at one row per key).
            connection.execute(
                delete(ApiRateWindow).where(
                    ApiRateWindow.key_id == key_id, ApiRateWindow.window_start < start
                )
            )
    if count > limit.requests:
        retry_after = max(1, math.ceil(start + limit.window_seconds - now))
        error = RateLimited(
            "This API key made more than {limit} requests in {window} seconds; "
            "try again in {retry_after} seconds.",
            code=Code.API_KEY_RATE_LIMITED,
            params={
                "limit": limit.requests,
                "window": limit.window_seconds,
                "retry_after": retry_after,
            },
        )
        error.retry_after = retry_after
        raise error
