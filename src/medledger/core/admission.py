"""Admission: a server process takes on no more database work than its pool can serve.

A request that uses the database holds a pooled connection from its first query until its
transaction ends, and in between it needs a thread of FastAPI's pool several times (principal,
endpoint, response validation). If more requests than connections get that far, threads wait
for connections that are held by requests waiting for threads: the process stalls until the
pool times out. So every request's unit of work is first admitted here, on the event loop
(no thread is held while waiting): at most as many at a time as the engine's pool has
connections. A request not admitted within the timeout is answered 503 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import weakref

from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool

from medledger.core.errors import ServiceUnavailable


def pool_capacity(engine: Engine) -> int | None:
    """How many connections the engine's pool hands out at most (None: no limit)."""
    pool = engine.pool
    if isinstance(pool, QueuePool):
        overflow = pool._max_overflow  # no public accessor
        return None if overflow < 0 else pool.size() + overflow
    return None


def pool_timeout(engine: Engine, default: float) -> float:
    """How long a checkout waits for a connection of the engine's pool (admission waits as
    long: a request is refused after the same bounded wait whichever queue it stood in)."""
    pool = engine.pool
    if isinstance(pool, QueuePool):
        return float(pool._timeout)  # no public accessor
    return default


class Admission:
    """At most ``capacity`` units of work at a time; others wait up to ``timeout`` seconds.

    One semaphore per event loop: a server process runs one loop; test clients may run several
    in turn, and an asyncio semaphore belongs to the loop it was first waited on.
    """

    def __init__(self, capacity: int | None, timeout: float) -> None:
        self.capacity = capacity
        self.timeout = timeout
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._by_loop = weakref.WeakKeyDictionary()

    def _slots(self) -> asyncio.Semaphore | None:
        if not self.capacity:
            return None
        loop = asyncio.get_running_loop()
        slots = self._by_loop.get(loop)
        if slots is None:
            slots = self._by_loop[loop] = asyncio.Semaphore(self.capacity)
        return slots

    async def enter(self) -> None:
        """Wait for a slot (on the event loop); 503 if none frees up in time."""
        slots = self._slots()
        if slots is None:
            return
        try:
            async with asyncio.timeout(self.timeout if self.timeout > 0 else None):
                await slots.acquire()
        except TimeoutError:
            raise ServiceUnavailable("The server is busy. Try again in a few seconds.") from None

    def leave(self) -> None:
        slots = self._slots()
        if slots is not None:
            slots.release()
