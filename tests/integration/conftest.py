"""Webhook tests: a real HTTP receiver on loopback, and an app that may call it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from medledger.core.config import Settings, get_settings


@pytest.fixture
def settings(engine: Engine) -> Settings:
    return Settings(
        database_url=str(engine.url.render_as_string(hide_password=False)),
        secret_key="test-secret",
        login_max_failures=5,
        webhook_allow_private_networks=True,
    )


@pytest.fixture
def process_outbound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The process's EDI outbound root (where documents generated outside a request, such as
    automatic despatch advices and order responses, are written), in a temporary folder."""
    root = tmp_path / "process-out"
    monkeypatch.setenv("MEDLEDGER_EDI_OUTBOUND_ROOT", str(root))
    get_settings.cache_clear()
    yield root
    get_settings.cache_clear()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, object]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers 500 to the first ``fail_first`` requests (or all while ``always_fail``), 204
    after; records every request. With ``hold_after`` set, requests after that many are
    recorded and then left unanswered until :meth:`release` (a sender stuck mid-batch)."""

    url: str = ""
    fail_first: int = 0
    always_fail: bool = False
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    hold_after: int | None = None
    released: threading.Event = field(default_factory=threading.Event)

    def release(self) -> None:
        self.released.set()

    def status_for_next(self) -> int:
        with self.lock:
            failing = self.always_fail or len(self.requests) < self.fail_first
        return 500 if failing else 204


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            status = state.status_for_next()
            with state.lock:
                state.requests.append(Received(dict(self.headers.items()), body))
                held = state.hold_after is not None and len(state.requests) > state.hold_after
            if held:
                state.released.wait(30)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    state.release()
    server.shutdown()
    server.server_close()
