"""The business facts quality announces (``core.facts``) for partners' systems: an NCR shared
with the supplier it concerns (a supplier corrective action request), and a change notified to
a partner whose items it touches."""

from __future__ import annotations

from sqlalchemy.orm import Session

from medledger.core.facts import announce, declare_fact
from medledger.quality.models import ChangeNotice, ChangeRequest, Ncr

NCR_SHARED = declare_fact(
    "ncr.shared",
    "A nonconformance about the supplier's material was shared with it (number, title, "
    "severity, state, affected lots, due date) for its response.",
)
CHANGE_NOTIFIED = declare_fact(
    "change.notified",
    "An approved change touches the partner's items (number, title, effective date, why).",
)


def ncr_shared(session: Session, ncr: Ncr) -> None:
    if ncr.supplier_party_id is None:
        return
    announce(
        session,
        tenant_id=ncr.tenant_id,
        fact=NCR_SHARED,
        subject=ncr.number,
        payload={
            "ncr_id": ncr.id,
            "number": ncr.number,
            "title": ncr.title,
            "severity": ncr.severity,
            "state": ncr.state,
            "affected_lots": list(ncr.affected_lots or []),
            "due_date": ncr.due_date.isoformat() if ncr.due_date else None,
        },
        audience=[ncr.supplier_party_id],
    )


def change_notified(session: Session, change: ChangeRequest, notice: ChangeNotice) -> None:
    announce(
        session,
        tenant_id=change.tenant_id,
        fact=CHANGE_NOTIFIED,
        subject=change.number,
        payload={
            "change_id": change.id,
            "number": change.number,
            "title": change.title,
            "effective_date": change.effective_date.isoformat() if change.effective_date else None,
            "why": notice.why,
        },
        audience=[notice.party_id],
    )
