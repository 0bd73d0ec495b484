"""The recall transition table. A recall is born ``open`` (initiation is its own signed use
case, ``service.initiate_recall``); closure needs every consignee's answer and a signature by
someone other than the initiator."""

from __future__ import annotations

from sqlalchemy.orm import Session

from medledger.compliance.signables import Meaning
from medledger.compliance.workflow import GuardFailure, Transition, Workflow
from medledger.core.db import utcnow
from medledger.core.principal import Permission, Principal
from medledger.recall.errors import Code
from medledger.recall.models import Recall


def N_(message: str) -> str:
    """Mark a state or button label for extraction (translated when shown)."""
    return message


def _all_acknowledged(
    session: Session, principal: Principal, recall: Recall
) -> GuardFailure | None:
    from medledger.recall.repository import notices_of

    waiting = [n for n in notices_of(session, [recall.id])[recall.id] if n.acknowledged_at is None]
    if waiting:
        return GuardFailure(
            Code.NOT_ALL_ACKNOWLEDGED,
            "{count} consignees have not acknowledged the recall yet.",
            "",
            {"count": len(waiting)},
        )
    return None


def _closed(session: Session, principal: Principal, recall: Recall) -> None:
    recall.closed_at = utcnow()


RECALL_WORKFLOW = Workflow(
    kind="recall",
    states={"open": N_("open"), "closed": N_("closed")},
    initial="open",
    closed_states=frozenset({"closed"}),
    transitions=(
        Transition(
            "open",
            "close",
            "closed",
            Permission.QUALITY_APPROVE,
            N_("Close the recall"),
            signature=Meaning.CLOSED,
            guard=_all_acknowledged,
            effect=_closed,
            author_may_not=True,
        ),
    ),
)
