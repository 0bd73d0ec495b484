"""Webhook signatures: HMAC-SHA256 over ``"<timestamp>.<body>"`` with the subscription's secret.

Pure (no ORM, no web). The headers every delivery carries:

* ``MedLedger-Message-Id`` — the message's idempotency id (the same on every retry);
* ``MedLedger-Event-Type`` — e.g. ``shipment.despatched``;
* ``MedLedger-Timestamp`` — Unix seconds when this attempt was signed;
* ``MedLedger-Signature`` — ``v1=<hex digest>``.

Signing the timestamp with the body lets a receiver refuse a captured request replayed later
(``docs/integration.md`` has the verification snippet receivers use; a test runs it).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SCHEME = "v1"
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    """A fresh subscription secret (shown once to the subscriber)."""
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``MedLedger-Signature`` header value for ``body`` signed at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"{SCHEME}={digest.hexdigest()}"


def signed_headers(
    *, secret: str, timestamp: int, body: bytes, message_id: str, event_type: str
) -> dict[str, str]:
    """Every header of one delivery attempt."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "MedLedger-Webhooks/1",
        "MedLedger-Message-Id": message_id,
        "MedLedger-Event-Type": event_type,
        "MedLedger-Timestamp": str(timestamp),
        "MedLedger-Signature": signature(secret, timestamp, body),
    }


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    header: str,
    now: int,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """True when ``header`` signs ``body`` at ``timestamp`` and the timestamp is recent."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, sent, body), header)
