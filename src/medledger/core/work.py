"""The unit of work's attribution: who acts and why, set once by the caller.

A request dependency, a CLI command or a job opens the transaction (``core.db.unit_of_work``
or the request's ``DbSession``) and says who acts in it and, when a person gave one, the
reason. The audit trail reads both from here and from nowhere else, so a service never passes
them along: it receives the principal to check permissions and scope reads, and every change it
flushes is attributed to the unit of work's actor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

_KEY = "medledger.work"
REASON_MAX_LENGTH = 500


class Actor(Protocol):
    """What the audit trail needs to know about whoever acts."""

    @property
    def user_id(self) -> int | None: ...

    @property
    def label(self) -> str: ...


@dataclass(frozen=True)
class SystemActor:
    """The platform itself (migrations, demo seed, CLI administration)."""

    label: str = "system"
    user_id: int | None = None


@dataclass
class Work:
    """Attribution of one transaction: the acting principal (or system actor) and the reason."""

    actor: Actor | None = None
    reason: str = ""

    def act_as(self, actor: Actor) -> None:
        """From now on, changes are attributed to ``actor`` (a seed or job acting for a party)."""
        self.actor = actor

    def give_reason(self, reason: str | None) -> None:
        """The reason a person gave for the change (an empty one keeps the current reason)."""
        if reason and reason.strip():
            self.reason = reason.strip()[:REASON_MAX_LENGTH]


def work_of(session: Session) -> Work:
    """The attribution of ``session``'s unit of work (created empty on first use)."""
    work: Work | None = session.info.get(_KEY)
    if work is None:
        work = session.info[_KEY] = Work()
    return work
