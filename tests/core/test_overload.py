"""Under load the server queues, answers 503 with Retry-After when it must, and never freezes
(issue 11.6). A real uvicorn server, real HTTP clients in threads, a real database.

Time bounds here only define "not a hang" (client timeouts far above the configured waits);
throughput and latency are measured in bench/bench_api.py.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from medledger.catalog.models import Product
from medledger.core.config import Settings
from medledger.core.db import make_engine
from medledger.core.system import system_unit_of_work
from medledger.web.app import create_app
from tests.builders import PASSWORD, build_network, gtin
from tests.conftest import BACKEND
from tests.core.live_server import live_server

#: A client waiting this long means the server hung (every server-side wait is far shorter).
NOT_A_HANG = 60.0


def _product(n: int) -> dict[str, object]:
    return {
        "gtin": gtin(n),
        "name": f"Catheter {n}",
        "tracking_level": "lot",
        "storage_class": "ambient",
        "unit_of_measure": "ea",
    }


def _token(base: str, username: str = "acme-admin") -> dict[str, str]:
    response = httpx.post(
        f"{base}/api/v1/auth/token",
        data={"username": username, "password": PASSWORD},
        timeout=NOT_A_HANG,
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _tiny_pool_engine(engine: Engine, *, pool_timeout: float) -> Iterator[Engine]:
    own = make_engine(
        engine.url.render_as_string(hide_password=False),
        pool_size=1,
        max_overflow=0,
        pool_timeout=pool_timeout,
    )
    yield own
    own.dispose()


@pytest.fixture
def patient_pool(engine: Engine) -> Iterator[Engine]:
    """One pooled connection; a request waits up to 30 s for it."""
    yield from _tiny_pool_engine(engine, pool_timeout=30)


@pytest.fixture
def impatient_pool(engine: Engine) -> Iterator[Engine]:
    """One pooled connection; a request waits 1 s for it, then is told to come back."""
    yield from _tiny_pool_engine(engine, pool_timeout=1)


def test_the_event_loop_answers_while_the_pool_is_exhausted(
    settings: Settings, patient_pool: Engine, factory: sessionmaker[Session]
) -> None:
    build_network(factory)
    app = create_app(settings, patient_pool)
    with live_server(app) as base, ThreadPoolExecutor(8) as clients:
        headers = _token(base)
        held = patient_pool.connect()  # the pool's only connection: every request must wait
        try:
            waiting: list[Future[httpx.Response]] = [
                clients.submit(
                    httpx.get, f"{base}/api/v1/parties", headers=headers, timeout=NOT_A_HANG
                )
                for _ in range(6)
            ]
            time.sleep(0.5)  # let them reach the empty pool
            health = httpx.get(f"{base}/healthz", timeout=NOT_A_HANG)
            stylesheet = httpx.get(f"{base}/static/app.css", timeout=NOT_A_HANG)
            still_waiting = [not future.done() for future in waiting]
        finally:
            held.close()
        answers = [future.result(timeout=NOT_A_HANG) for future in waiting]
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert stylesheet.status_code == 200  # static files are served by the loop too
    assert still_waiting == [True] * 6, [(a.status_code, a.text[:300]) for a in answers]
    assert [a.status_code for a in answers] == [200] * 6


def test_overload_is_answered_503_with_retry_after_and_changes_nothing(
    settings: Settings, impatient_pool: Engine, factory: sessionmaker[Session]
) -> None:
    build_network(factory)
    app = create_app(settings, impatient_pool)
    with live_server(app) as base:
        headers = _token(base)
        held = impatient_pool.connect()
        try:
            read = httpx.get(f"{base}/api/v1/parties", headers=headers, timeout=NOT_A_HANG)
            write = httpx.post(
                f"{base}/api/v1/products", json=_product(1), headers=headers, timeout=NOT_A_HANG
            )
        finally:
            held.close()
        after = httpx.get(f"{base}/api/v1/parties", headers=headers, timeout=NOT_A_HANG)
    for response in (read, write):
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"] == "2"
        assert response.json()["code"] == "service.overloaded"
    assert after.status_code == 200
    with system_unit_of_work(factory) as session:
        assert session.scalar(select(func.count()).select_from(Product)) == 0


def test_concurrent_writes_queue_and_all_succeed(
    settings: Settings, engine: Engine, factory: sessionmaker[Session]
) -> None:
    build_network(factory)
    own = make_engine(engine.url.render_as_string(hide_password=False))
    clients = 24
    try:
        app = create_app(settings, own)
        with live_server(app) as base, ThreadPoolExecutor(clients) as pool:
            headers = _token(base)
            answers = list(
                pool.map(
                    lambda n: httpx.post(
                        f"{base}/api/v1/products",
                        json=_product(n),
                        headers=headers,
                        timeout=NOT_A_HANG,
                    ),
                    range(1, clients + 1),
                )
            )
    finally:
        own.dispose()
    assert [a.status_code for a in answers] == [201] * clients, [
        a.text for a in answers if a.status_code != 201
    ][:3]
    with system_unit_of_work(factory) as session:
        stored = session.scalars(select(Product.gtin).order_by(Product.gtin)).all()
    assert stored == [gtin(n) for n in range(1, clients + 1)]


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's single writer; PostgreSQL has row locks")
def test_a_sqlite_write_that_cannot_get_the_writer_in_time_is_503_and_changes_nothing(
    settings: Settings, engine: Engine, factory: sessionmaker[Session]
) -> None:
    build_network(factory)
    own = make_engine(engine.url.render_as_string(hide_password=False), sqlite_write_wait=0.5)
    try:
        app = create_app(settings, own)
        with live_server(app) as base:
            headers = _token(base)
            with own.connect() as writer:
                writer.exec_driver_sql("UPDATE tenants SET name = name")  # holds the writer
                refused = httpx.post(
                    f"{base}/api/v1/products", json=_product(1), headers=headers, timeout=60
                )
                reads_go_on = httpx.get(f"{base}/api/v1/parties", headers=headers, timeout=60)
                writer.rollback()
            accepted = httpx.post(
                f"{base}/api/v1/products", json=_product(2), headers=headers, timeout=60
            )
    finally:
        own.dispose()
    assert (refused.status_code, refused.headers["retry-after"]) == (503, "2")
    assert refused.json()["code"] == "service.overloaded"
    assert reads_go_on.status_code == 200
    assert accepted.status_code == 201
    with system_unit_of_work(factory) as session:
        assert session.scalars(select(Product.gtin)).all() == [gtin(2)]


def test_more_clients_than_connections_are_all_served(
    settings: Settings, engine: Engine, factory: sessionmaker[Session]
) -> None:
    """Two connections, 48 concurrent clients (more than the 40 threads of FastAPI's pool)
    reading and writing: requests queue for admission on the event loop instead of holding
    threads that wait for connections held by requests waiting for threads (a stall until the
    pool timed out, issue 11.6)."""
    build_network(factory)
    own = make_engine(
        engine.url.render_as_string(hide_password=False),
        pool_size=2,
        max_overflow=0,
        pool_timeout=30,
    )
    patient = settings.model_copy(update={"db_pool_timeout_seconds": 30.0})
    clients = 48
    try:
        app = create_app(patient, own)
        with live_server(app) as base, ThreadPoolExecutor(clients) as pool:
            headers = _token(base)

            def call(n: int) -> httpx.Response:
                if n % 2:
                    return httpx.get(f"{base}/api/v1/parties", headers=headers, timeout=NOT_A_HANG)
                return httpx.post(
                    f"{base}/api/v1/products",
                    json=_product(n),
                    headers=headers,
                    timeout=NOT_A_HANG,
                )

            answers = list(pool.map(call, range(clients)))
    finally:
        own.dispose()
    assert [a.status_code for a in answers] == [200 if n % 2 else 201 for n in range(clients)]
