"""The demo's past recalls, made through the real recall use cases as the demo users.

* a class II recall started about five months ago from a finished lot the EU distributor
  received: every consignee answered (its own users where it has some, the hub on behalf of the
  others, with a reason), closed by the approver — the response-time trend has a point;
* a class I recall started three weeks ago from another such lot, still open with partial
  acknowledgements: the distributor answered, the others have not.

Lots are chosen from the demo history: finished lots shipped (in logistic units) to the
distributor, the ones whose trace reaches the most consignees. Run last (after orders), so the
recalled stock is what the other demo screens show as recalled.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.db import utcnow
from medledger.core.principal import Principal
from medledger.core.system import system_unit_of_work
from medledger.identifiers.digital_link import encode_value
from medledger.parties.models import User
from medledger.recall import service
from medledger.recall.models import Depth, HazardClass, RecallNotice
from medledger.recall.schemas import AcknowledgementIn, RecallIn, SignatureIn, TransitionIn
from medledger.recall.scope import compute_scope
from medledger.seed.demo import DEMO_PASSWORD, DemoNetwork
from medledger.seed.demo_quality import _as
from medledger.trace.models import CustodyHop, GenealogyEdge, TraceItem

CANDIDATES = 12


def _candidates(session: Session, network: DemoNetwork) -> list[str]:
    """Finished lots that reached the EU distributor inside a logistic unit, as identifiers."""
    distributor = network.parties["dist-eu-de"].id
    rows = session.execute(
        select(TraceItem.gtin, TraceItem.lot)
        .join(GenealogyEdge, GenealogyEdge.from_item_id == TraceItem.id)
        .join(CustodyHop, CustodyHop.item_id == GenealogyEdge.to_item_id)
        .where(
            TraceItem.tenant_id == network.tenant_id,
            TraceItem.kind == "lot",
            GenealogyEdge.kind == "aggregation",
            CustodyHop.to_party_id == distributor,
            CustodyHop.retracted_by_event_id.is_(None),
        )
        .distinct()
        .order_by(TraceItem.gtin, TraceItem.lot)
        .limit(CANDIDATES * 4)
    ).all()
    return [f"https://id.gs1.org/01/{gtin}/10/{encode_value(lot)}" for gtin, lot in rows if lot]


def _pick(session: Session, principal: Principal, network: DemoNetwork) -> list[str]:
    """The candidates whose scope reaches the most consignees, best first."""
    scored = []
    for identifier in _candidates(session, network)[:CANDIDATES]:
        scope = compute_scope(session, principal, [identifier])
        scored.append((-len(scope.consignees), identifier))
    return [identifier for _, identifier in sorted(scored)]


def _answer(
    session: Session,
    network: DemoNetwork,
    hub_user: Principal,
    recall_id: int,
    notice: RecallNotice,
    at: datetime,
    returned_share: float,
) -> None:
    """The consignee's own user answers where it has one; else the hub on its behalf."""
    user = (
        session.scalar(
            select(User)
            .where(User.party_id == notice.party_id, User.active.is_(True))
            .order_by(User.id)
            .limit(1)
        )
        if notice.party_id is not None
        else None
    )
    returned = int(notice.units * returned_share)
    answer: dict[str, Any] = {
        "quantity_on_hand": 0,
        "quantity_returned": returned,
        "quantity_destroyed": notice.units - returned,
        "comment": "Units quarantined and sent back.",
    }
    if user is not None:
        principal = _as(session, network, user.username)
        service.acknowledge(
            session, principal, recall_id, notice.id, AcknowledgementIn(**answer), at=at
        )
    else:
        from medledger.core.work import work_of

        work_of(session).act_as(hub_user)
        service.acknowledge(
            session,
            hub_user,
            recall_id,
            notice.id,
            AcknowledgementIn(**answer, reason="Confirmed by telephone; form received by e-mail"),
            at=at,
        )


def seed_demo_recalls(factory: sessionmaker[Session], network: DemoNetwork) -> dict[str, int]:
    """Load the two demo recalls (see the module docstring); their ids by key."""
    now = utcnow()
    ids: dict[str, int] = {}
    with system_unit_of_work(factory, label="seed") as session:
        quality = _as(session, network, "quality")
        picked = _pick(session, quality, network)
        if len(picked) < 2:
            return ids
        # --- the closed recall, five months ago ------------------------------------------------
        started = now - timedelta(days=150)
        closed = service.initiate_recall(
            session,
            quality,
            RecallIn(
                identifiers=[picked[1]],
                title="Catheter tip separation risk",
                hazard_class=HazardClass.II,
                depth=Depth.RETAIL,
                reason="Bond strength below specification in tip-bonding batch.",
                health_hazard="Tip separation may require retrieval; no injuries reported.",
                instructions="Stop distribution, quarantine the units and return them.",
                signature=SignatureIn(password=DEMO_PASSWORD, comment="Recall decision"),
            ),
            at=started,
        ).recall
        notices = sorted(
            session.scalars(select(RecallNotice).where(RecallNotice.recall_id == closed.id)),
            key=lambda n: n.id,
        )
        for index, notice in enumerate(notices):
            at = started + timedelta(hours=6 + 14 * index)
            _answer(session, network, quality, closed.id, notice, at, 0.75)
        approver = _as(session, network, "qa_approver")
        service.transition(
            session,
            approver,
            closed.id,
            TransitionIn(
                action="close",
                reason="Every consignee answered; all units returned or destroyed.",
                signature=SignatureIn(password=DEMO_PASSWORD, comment="Effectiveness verified"),
            ),
        )
        ids["closed"] = closed.id
        # --- the open recall, three weeks ago, partial acknowledgements -------------------------
        quality = _as(session, network, "quality")
        started = now - timedelta(days=21)
        recall = service.initiate_recall(
            session,
            quality,
            RecallIn(
                identifiers=[picked[0]],
                title="Hub crack under pressure",
                hazard_class=HazardClass.I,
                depth=Depth.CONSUMER,
                reason="Hub cracks at burst-pressure test; component supplier lot suspected.",
                health_hazard="Leak during infusion may cause serious harm.",
                instructions="Stop use immediately, quarantine, count and return all units.",
                signature=SignatureIn(password=DEMO_PASSWORD, comment="Recall decision"),
            ),
            at=started,
        ).recall
        distributor = network.parties["dist-eu-de"].id
        for notice in session.scalars(
            select(RecallNotice).where(
                RecallNotice.recall_id == recall.id, RecallNotice.party_id == distributor
            )
        ):
            _answer(session, network, quality, recall.id, notice, started + timedelta(hours=9), 0.5)
        ids["open"] = recall.id
    return ids
