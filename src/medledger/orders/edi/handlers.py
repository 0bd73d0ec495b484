"""Other message types through the order inbox: a hook registry.

The order inbox keeps and replays every EDI message it receives. Messages that are not orders
(EANCOM RECADV, X12 861 receiving advices, …) belong to other contexts: such a context
registers a handler for its message type here, and the inbox hands it the parsed message
inside the same savepoint. A handler raises a ``DomainError`` (with field problems naming
segments) to keep the message failed with its reasons, or returns what it did.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from medledger.core.principal import Principal


@dataclass(frozen=True)
class Handled:
    """What a handler did: the partner it came from (if known) and the document's number."""

    party_id: int | None
    reference: str


# handler(session, principal, message, sender) -> Handled; ``message`` is an
# ``orders.edi.edifact.Message`` or an ``orders.edi.x12.TransactionSet``.
Handler = Callable[[Session, Principal, Any, str], Handled]

_EDIFACT: dict[str, Handler] = {}
_X12: dict[str, Handler] = {}


def register_edifact(message_type: str, handler: Handler) -> None:
    _EDIFACT[message_type] = handler


def register_x12(code: str, handler: Handler) -> None:
    _X12[code] = handler


def edifact_handler(message_type: str) -> Handler | None:
    return _EDIFACT.get(message_type)


def x12_handler(code: str) -> Handler | None:
    return _X12.get(code)
