"""Configuration from environment variables (prefix ``MEDLEDGER_``) and an optional ``.env``.

Every setting is documented in ``docs/configuration.md``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "medledger-development-secret-change-me"


class Settings(BaseSettings):
    """Runtime settings. Read once per process; tests build their own instances."""

    model_config = SettingsConfigDict(env_prefix="MEDLEDGER_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///var/medledger.db"
    secret_key: str = DEV_SECRET_KEY
    # Browser sessions and API bearer tokens.
    session_cookie_name: str = "medledger_session"
    session_ttl_minutes: int = 12 * 60
    token_ttl_minutes: int = 60
    cookie_secure: bool = False
    # Failed logins: at most this many failures per username (and per client address)
    # within the window before further attempts are refused with 429.
    login_max_failures: int = 5
    login_window_minutes: int = 15
    # Electronic signatures (21 CFR Part 11): this many failed signing attempts (wrong password
    # or second factor) within the window lock signing for that user for the rest of the window.
    signing_max_failures: int = 3
    signing_lockout_minutes: int = 30
    default_locale: str = "en"
    default_time_zone: str = "UTC"
    # Where `make install` put front-end libraries fetched from the npm registry.
    vendor_dir: Path = Path("node_modules")
    host: str = "127.0.0.1"
    port: int = 8000
    sql_echo: bool = False
    # Database connections per server process (None: 10 + 30 overflow), and how long a
    # request waits for one before it is answered 503 with Retry-After
    # (docs/operations.md, overload).
    db_pool_size: int | None = None
    db_max_overflow: int | None = None
    db_pool_timeout_seconds: float = 5.0
    # SQLite: transactions that write queue for the one writer; this long at most, then 503.
    sqlite_write_wait_seconds: float = 5.0
    # Worker processes that check and hash the events of large capture documents
    # (None: one fewer than the CPUs, at most 4; 0: none). See trace/epcis/parallel.py.
    capture_workers: int | None = None
    # Load every tenant's trace snapshot in a background thread at startup; until a tenant's is
    # ready its traces are answered by recursive SQL (docs/trace.md). Off: load on first trace.
    trace_preload: bool = True
    # Where trace snapshots are written as memory-mapped files, shared by the processes of the
    # machine (docs/trace.md); empty: not shared (each process keeps its own in memory).
    trace_snapshot_dir: Path | None = Path("var/trace-snapshots")
    # Webhooks to loopback, private or link-local addresses are refused unless this is on
    # (a partner must not make the hub call its internal services; tests and demos turn it on).
    webhook_allow_private_networks: bool = False
    # The delivery worker (`medledger worker`): see docs/integration.md.
    webhook_max_attempts: int = 8
    webhook_backoff_base_seconds: float = 5.0
    webhook_backoff_cap_seconds: float = 3600.0
    webhook_timeout_seconds: float = 10.0
    webhook_lease_seconds: float = 60.0
    # API keys: at most this many requests per key in each window (0: no limit); a key may
    # have its own limit (docs/api.md, "Rate limits").
    api_rate_limit_requests: int = 600
    api_rate_limit_window_seconds: int = 60
    # Rotating an API key keeps the old one working this long by default.
    api_key_rotation_overlap_hours: int = 24
    # Users and API keys expiring within this many days are listed on the home page.
    expiry_warning_days: int = 14
    # EDI: each partner's outbound folder is a folder inside this one.
    edi_outbound_root: Path = Path("var/edi/outbound")
    # Inventory: lots expiring within this many days are flagged near expiry.
    near_expiry_days: int = 90
    # Largest request body in bytes: EPCIS capture (`/epcis/capture`, `/epcis/events`), and
    # every other endpoint. Larger bodies are answered 413 (docs/api.md, "Limits").
    max_capture_body_bytes: int = 8 * 1024 * 1024
    max_body_bytes: int = 1024 * 1024
    # Who delivers the outbox: "worker" (`medledger worker`, from the database) or "nats"
    # (`medledger outbox relay` + `medledger outbox deliver-from-nats`, through NATS JetStream).
    outbox_delivery: Literal["worker", "nats"] = "worker"
    nats_url: str = "nats://127.0.0.1:4222"
    nats_stream: str = "MEDLEDGER_OUTBOX"
    nats_subject_prefix: str = "medledger.outbox"
    nats_consumer: str = "medledger-webhooks"
    nats_duplicate_window_seconds: float = 120.0
    nats_ack_wait_seconds: float = 60.0
    nats_handover_lease_seconds: float = 900.0


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings."""
    return Settings()
