"""Recall use cases: initiate (scope, hold, notify, record — one step, signed), acknowledge,
close (signed), read with effectiveness and response times, and the KPI over time.

Initiation, in the caller's one transaction:

1. the trace computes the scope (``recall.scope``): downstream units, logistic units,
   shipments, consignees and what each holds, upstream root-cause context, completeness;
2. every affected unit in the hub's own stock is recalled through inventory's
   ``change_status`` (so inventory's stock-change hook tells orders to drop reservations);
3. one notice per consignee party (its portal shows it) and an outbox ``recall.notice`` for
   its integration;
4. an EPCIS ObjectEvent (``OBSERVE``, ``bizStep`` ``holding``, ``disposition`` ``recalled``)
   naming every lot, serial and logistic unit in scope, captured through the ledger, so every
   trace shows them recalled;
5. the initiator's signature (meaning ``authored``) over the case and the scope's hash.
"""

from __future__ import annotations

import statistics
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from medledger.compliance import workflow as wf
from medledger.compliance.models import WorkflowTransition
from medledger.compliance.signables import Meaning
from medledger.compliance.signing import (
    Credentials,
    RecordSignatures,
    SigningPolicy,
    sign,
    signatures_of,
)
from medledger.core.db import utcnow
from medledger.core.errors import Code as CoreCode
from medledger.core.errors import (
    Conflict,
    DomainError,
    FieldError,
    NotFound,
    ValidationFailed,
    field_error,
)
from medledger.core.principal import Permission, Principal
from medledger.core.repository import get_visible, list_visible
from medledger.core.work import work_of
from medledger.identifiers.digital_link import encode_value
from medledger.recall import repository as repo
from medledger.recall.errors import Code
from medledger.recall.events import RECALL_NOTICE
from medledger.recall.models import Recall, RecallNotice, RecallScope
from medledger.recall.schemas import AcknowledgementIn, RecallIn, SignatureIn, TransitionIn
from medledger.recall.scope import Scope, compute_scope, scope_hash
from medledger.recall.workflows import RECALL_WORKFLOW

DL = "https://id.gs1.org"
# EPCs per recall event: a 20 000-unit recall is recorded in a few events.
EVENT_CHUNK = 1000
RECALLABLE = ("released", "quarantine", "on_hold")


def credentials_of(signature: SignatureIn | None) -> Credentials | None:
    if signature is None:
        return None
    return Credentials(signature.password, signature.comment, signature.second_factor)


def not_found(recall_id: int) -> NotFound:
    return NotFound(
        "{entity} {id} was not found.",
        code=CoreCode.NOT_FOUND,
        params={"entity": "recall", "id": recall_id},
    )


# --- initiation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Initiated:
    recall: Recall
    scope: Scope


def _check_ncr(session: Session, principal: Principal, ncr_id: int | None) -> None:
    if ncr_id is None:
        return
    from medledger.quality.models import Ncr

    found = session.scalar(
        select(Ncr.id).where(Ncr.id == ncr_id, Ncr.tenant_id == principal.tenant_id)
    )
    if found is None:
        raise field_error("ncr_id", Code.NCR_UNKNOWN, "NCR {id} does not exist.", id=ncr_id)


def _trace_errors_on_field(index: int, error: DomainError) -> DomainError:
    """A trace error about ``id`` becomes one about ``identifiers.N`` (the form's field)."""
    error.errors = [
        FieldError(f"identifiers.{index}", e.code, e.message, e.params) for e in error.errors
    ] or [FieldError(f"identifiers.{index}", error.code, error.message, error.params)]
    return error


def initiate_recall(
    session: Session,
    principal: Principal,
    data: RecallIn,
    *,
    policy: SigningPolicy | None = None,
    drill: bool = False,
    at: datetime | None = None,
) -> Initiated:
    """Start a recall (see the module docstring). Needs ``quality:write`` and
    ``inventory:release``, and the initiator's signature (password again). ``drill``: a mock
    recall on a copy of the data (``medledger recall drill``), unsigned. ``at``: when it was
    initiated, for a recall entered after the fact (the demo's past recalls). Wrap the call in
    ``signing.failed_attempts_kept`` so refused signatures are kept."""
    principal.require(Permission.QUALITY_WRITE)
    principal.require(Permission.INVENTORY_RELEASE)
    principal.require(Permission.TRACE_CAPTURE)
    identifiers = [i.strip() for i in data.identifiers if i.strip()]
    if not identifiers:
        raise field_error(
            "identifiers", Code.IDENTIFIERS_REQUIRED, "Name at least one lot, serial or unit."
        )
    _check_ncr(session, principal, data.ncr_id)
    started = utcnow()
    scope = _scope(session, principal, identifiers)
    now = at or started
    recall = Recall(
        tenant_id=principal.tenant_id,
        number=repo.next_number(session, principal.tenant_id, now.year),
        title=data.title.strip(),
        state=RECALL_WORKFLOW.initial,
        hazard_class=data.hazard_class.value,
        depth=data.depth.value,
        action=data.action.value,
        reason=data.reason.strip(),
        health_hazard=data.health_hazard.strip(),
        instructions=data.instructions.strip(),
        identifiers=scope.identifiers,
        ncr_id=data.ncr_id,
        lots_in_scope=len(scope.of_kind("lot")),
        serials_in_scope=len(scope.of_kind("serial")),
        logistic_units_in_scope=len(scope.of_kind("sscc")),
        shipments_in_scope=len(scope.shipments),
        consignees=len(scope.consignees),
        trace_completeness=float(scope.completeness["score"]),
        initiated_at=now,
        created_by_user_id=principal.user_id,
        created_by_party_id=principal.party_id,
    )
    session.add(recall)
    session.flush()
    work_of(session).give_reason(f"{recall.number}: {recall.reason}"[:500])
    held = _recall_own_stock(session, principal, recall, scope)
    recall.units_held = int(sum(h["quantity"] for h in held))
    snapshot = {**scope.snapshot(), "own_stock_recalled": held}
    recall.scope_hash = scope_hash(snapshot)
    session.add(
        RecallScope(
            recall_id=recall.id,
            tenant_id=principal.tenant_id,
            snapshot=snapshot,
            seconds_to_scope=round(scope.seconds, 6),
        )
    )
    _notify(session, principal, recall, scope, now)
    recall.all_notified_at = now + (utcnow() - started)
    if not scope.consignees:
        recall.all_acknowledged_at = recall.all_notified_at
    _record_events(session, principal, recall, scope, now)
    session.flush()
    signature = None
    if not drill:
        signature = sign(
            session,
            principal,
            "recall",
            recall,
            Meaning.AUTHORED,
            credentials_of(data.signature),
            policy=policy,
            workflow_action="initiate",
        )
    session.add(
        WorkflowTransition(
            tenant_id=principal.tenant_id,
            record_kind="recall",
            record_id=recall.id,
            action="initiate",
            from_state="",
            to_state=recall.state,
            actor_user_id=principal.user_id,
            actor_party_id=principal.party_id,
            actor_label=principal.label,
            reason=recall.reason[:500],
            signature_id=signature.id if signature is not None else None,
            at=now,
        )
    )
    session.flush()
    return Initiated(recall, scope)


def _scope(session: Session, principal: Principal, identifiers: list[str]) -> Scope:
    for index, identifier in enumerate(identifiers):
        if len(identifier) > 500:
            raise field_error(
                f"identifiers.{index}",
                CoreCode.VALIDATION_FAILED,
                "At most {limit} characters.",
                limit=500,
            )
    from medledger.trace.service import item_uri

    for index, identifier in enumerate(identifiers):
        try:
            item_uri(identifier)
        except ValidationFailed as error:
            raise _trace_errors_on_field(index, error) from None
    try:
        return compute_scope(session, principal, identifiers)
    except (ValidationFailed, NotFound) as error:
        bad = next(
            (
                i
                for i, identifier in enumerate(identifiers)
                if str(error.params.get("identifier", error.params.get("value", ""))) == identifier
            ),
            0,
        )
        raise _trace_errors_on_field(bad, error) from None


def _recall_own_stock(
    session: Session, principal: Principal, recall: Recall, scope: Scope
) -> list[dict[str, Any]]:
    """Put every affected unit in the hub's own stock in status ``recalled`` through
    inventory's use case (its stock-change hook fires); what was recalled, per item."""
    from medledger.inventory.models import StockBalance
    from medledger.inventory.schemas import StatusChangeIn
    from medledger.inventory.service import change_status

    lots = {(i["gtin"], i["lot"]) for i in scope.of_kind("lot") if i["gtin"] and i["lot"]}
    serials = {(i["gtin"], i["serial"]) for i in scope.of_kind("serial") if i["gtin"]}
    if not lots and not serials:
        return []
    gtins = sorted({g for g, _ in lots} | {g for g, _ in serials})
    rows = session.execute(
        select(StockBalance.gtin, StockBalance.lot, StockBalance.serial, StockBalance.quantity)
        .where(
            StockBalance.tenant_id == principal.tenant_id,
            StockBalance.gtin.in_(gtins),
            StockBalance.status.in_(RECALLABLE),
            StockBalance.quantity > 0,
        )
        .order_by(StockBalance.gtin, StockBalance.lot, StockBalance.serial)
    ).all()
    quantities: dict[tuple[str, str, str], int] = defaultdict(int)
    for gtin, lot, serial, quantity in rows:
        if (gtin, lot) in lots or (serial and (gtin, serial) in serials):
            quantities[(gtin, lot or "", serial or "")] += int(quantity)
    held = []
    for (gtin, lot, serial), quantity in sorted(quantities.items()):
        change_status(
            session,
            principal,
            StatusChangeIn(
                action="recall",
                gtin=gtin,
                lot=lot,
                serial=serial,
                reason=f"{recall.number}: {recall.title}"[:500],
            ),
        )
        held.append({"gtin": gtin, "lot": lot, "serial": serial, "quantity": quantity})
    return held


def _notify(
    session: Session, principal: Principal, recall: Recall, scope: Scope, now: datetime
) -> None:
    from medledger.integration.outbox import publish

    for consignee in sorted(scope.consignees.values(), key=lambda c: (c.name, c.key)):
        notice = RecallNotice(
            tenant_id=principal.tenant_id,
            recall_id=recall.id,
            party_id=consignee.party_id,
            party_key=consignee.key[:300],
            gln=consignee.gln,
            name=(consignee.name or consignee.gln or consignee.key)[:200],
            items=consignee.items(),
            units=consignee.units,
            notified_at=now,
        )
        session.add(notice)
        session.flush()
        if consignee.party_id is not None:
            message = publish(
                session,
                tenant_id=principal.tenant_id,
                event_type=RECALL_NOTICE.name,
                subject=f"{recall.number} {consignee.name}",
                payload=notice_payload(recall, notice),
                audience=[consignee.party_id],
            )
            if message is not None:
                notice.outbox_message_id = message.message_id


def notice_payload(recall: Recall, notice: RecallNotice) -> dict[str, Any]:
    """What a consignee's integration receives: the recall and what it holds."""
    return {
        "recall": recall.number,
        "title": recall.title,
        "hazard_class": recall.hazard_class,
        "depth": recall.depth,
        "action": recall.action,
        "reason": recall.reason,
        "instructions": recall.instructions,
        "initiated_at": recall.initiated_at.isoformat(),
        "consignee": {"party_id": notice.party_id, "gln": notice.gln, "name": notice.name},
        "notice_id": notice.id,
        "items": notice.items,
        "units": notice.units,
        "acknowledge": f"/api/v1/recalls/{recall.id}/notices/{notice.id}/acknowledgement",
    }


def _record_events(
    session: Session, principal: Principal, recall: Recall, scope: Scope, at: datetime
) -> None:
    """The recall as EPCIS events (disposition ``recalled``) through the ledger's capture."""
    from medledger.trace.ledger.capture import STANDARD_CONTEXT, capture_document

    epcs = [i["uri"] for i in scope.items.values() if i["kind"] in ("serial", "sscc")]
    classes = [
        f"{DL}/01/{i['gtin']}/10/{encode_value(i['lot'])}"
        for i in scope.items.values()
        if i["kind"] == "lot" and i["gtin"] and i["lot"] is not None
    ]
    now = at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    events = []
    for start in range(0, max(len(epcs), len(classes), 1), EVENT_CHUNK):
        part_epcs, part_classes = (
            epcs[start : start + EVENT_CHUNK],
            classes[start : start + EVENT_CHUNK],
        )
        if not part_epcs and not part_classes:
            break
        events.append(
            {
                "type": "ObjectEvent",
                "eventID": f"urn:uuid:{uuid.uuid4()}",
                "eventTime": now,
                "eventTimeZoneOffset": "+00:00",
                "epcList": part_epcs,
                "quantityList": [{"epcClass": c} for c in part_classes],
                "action": "OBSERVE",
                "bizStep": "holding",
                "disposition": "recalled",
                "bizTransactionList": [
                    {"type": "prodorder", "bizTransaction": f"urn:medledger:recall:{recall.number}"}
                ],
            }
        )
    if not events:
        return
    document = {
        "@context": [STANDARD_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": now,
        "epcisBody": {"eventList": events},
    }
    job = capture_document(session, principal, document)
    if job.state != "succeeded":
        # Built here from items the ledger already knows; a refusal is a bug worth its detail.
        raise ValidationFailed(
            "The recall's EPCIS events could not be captured.",
            code=Code.EVENTS_NOT_CAPTURED,
            params={"errors": job.errors},
        )


# --- acknowledgement and closure -------------------------------------------------------------


def acknowledge(
    session: Session,
    principal: Principal,
    recall_id: int,
    notice_id: int,
    data: AcknowledgementIn,
    *,
    at: datetime | None = None,
) -> RecallNotice:
    """A consignee's user acknowledges its notice with what it has on hand, returned and
    destroyed (again later to update the figures); the hub may record the answer on the
    consignee's behalf, with a reason. 404 for a notice the caller may not see."""
    principal.require(Permission.QUALITY_REPORT)
    on_behalf = principal.sees_all_parties
    if on_behalf:
        # The hub answers only on a consignee's behalf: that is quality staff's to do.
        principal.require(Permission.QUALITY_WRITE)
    recall = repo.lock_recall(session, recall_id, principal)
    if recall is None:
        raise not_found(recall_id)
    notice = session.scalars(
        select(RecallNotice).where(
            RecallNotice.id == notice_id,
            RecallNotice.recall_id == recall.id,
            RecallNotice.tenant_id == principal.tenant_id,
        )
    ).first()
    if notice is None or (not on_behalf and notice.party_id != principal.party_id):
        raise NotFound(
            "{entity} {id} was not found.",
            code=Code.NOTICE_NOT_FOUND,
            params={"entity": "recall notice", "id": notice_id},
        )
    if recall.state != "open":
        raise Conflict(
            "{number} is closed; it takes no more answers.",
            code=Code.NOT_OPEN,
            params={"number": recall.number},
        )
    reason = data.reason.strip()
    if on_behalf and not reason:
        raise field_error(
            "reason",
            Code.REASON_REQUIRED,
            "Say why you record the answer on the consignee's behalf.",
        )
    accounted = data.quantity_on_hand + data.quantity_returned + data.quantity_destroyed
    if notice.units and accounted > notice.units:
        raise field_error(
            "quantity_on_hand",
            Code.QUANTITIES_EXCEED,
            "On hand, returned and destroyed add up to {accounted}; the notice names {units}.",
            accounted=accounted,
            units=notice.units,
        )
    now = at or utcnow()
    if notice.acknowledged_at is None:
        notice.acknowledged_at = now
    notice.acknowledged_by_user_id = principal.user_id
    notice.acknowledged_by = principal.label[:200]
    notice.on_behalf = on_behalf
    notice.on_behalf_reason = reason if on_behalf else ""
    notice.quantity_on_hand = data.quantity_on_hand
    notice.quantity_returned = data.quantity_returned
    notice.quantity_destroyed = data.quantity_destroyed
    notice.comment = data.comment.strip()
    work_of(session).give_reason(reason or f"{recall.number} acknowledged")
    session.flush()
    if recall.all_acknowledged_at is None and all(
        n.acknowledged_at is not None for n in repo.notices_of(session, [recall.id])[recall.id]
    ):
        recall.all_acknowledged_at = now
    session.flush()
    return notice


def transition(
    session: Session,
    principal: Principal,
    recall_id: int,
    data: TransitionIn,
    *,
    policy: SigningPolicy | None = None,
) -> Recall:
    """Take a workflow step (``close``: every consignee answered, signed by someone other than
    the initiator)."""
    principal.require(Permission.QUALITY_READ)
    step = next((t for t in RECALL_WORKFLOW.transitions if t.action == data.action), None)
    if step is not None:
        # The role is checked before the record is looked up (403 before 404).
        principal.require(step.permission)
    recall = repo.lock_recall(session, recall_id, principal)
    if recall is None:
        raise not_found(recall_id)
    wf.perform(
        session,
        principal,
        RECALL_WORKFLOW,
        recall,
        data.action,
        reason=data.reason,
        credentials=credentials_of(data.signature),
        policy=policy,
    )
    return recall


# --- reading ---------------------------------------------------------------------------------


def get_recall(session: Session, principal: Principal, recall_id: int) -> Recall:
    """A recall the caller may see (a partner: one it was notified of), or 404."""
    principal.require(Permission.QUALITY_READ)
    return get_visible(session, Recall, recall_id, principal)


def get_scope(session: Session, principal: Principal, recall: Recall) -> RecallScope:
    """The scope snapshot: the hub's only (a partner gets 404)."""
    scope = session.get(RecallScope, recall.id) if principal.sees_all_parties else None
    if scope is None or scope.tenant_id != principal.tenant_id:
        raise NotFound(
            "{entity} {id} was not found.",
            code=CoreCode.NOT_FOUND,
            params={"entity": "recall scope", "id": recall.id},
        )
    return scope


def list_recalls(
    session: Session,
    principal: Principal,
    *,
    state: str | None = None,
    q: str | None = None,
    page: int = 1,
    page_size: int = 50,
) -> tuple[list[Recall], int]:
    """Recalls the caller may see, newest first."""
    principal.require(Permission.QUALITY_READ)
    filters = []
    if state:
        filters.append(Recall.state == state)
    if q:
        filters.append(Recall.title.ilike(f"%{q}%") | (Recall.number == q))
    return list_visible(
        session,
        Recall,
        principal,
        filters=filters,
        order_by=Recall.id.desc(),
        page=page,
        page_size=page_size,
    )


def _hours(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds() / 3600, 2)


@dataclass(frozen=True)
class Effectiveness:
    """How far the recall has got: consignees that answered, units accounted for, and the
    response times (initiation → all notified → all acknowledged)."""

    consignees: int
    consignees_acknowledged: int
    units: int
    units_accounted: int
    hours_to_all_notified: float | None
    hours_to_all_acknowledged: float | None

    @property
    def consignee_share(self) -> float:
        return round(self.consignees_acknowledged / self.consignees, 4) if self.consignees else 1.0

    @property
    def unit_share(self) -> float:
        return round(self.units_accounted / self.units, 4) if self.units else 1.0

    def to_json(self) -> dict[str, Any]:
        return {
            "consignees": self.consignees,
            "consignees_acknowledged": self.consignees_acknowledged,
            "consignee_share": self.consignee_share,
            "units": self.units,
            "units_accounted": self.units_accounted,
            "unit_share": self.unit_share,
            "hours_to_all_notified": self.hours_to_all_notified,
            "hours_to_all_acknowledged": self.hours_to_all_acknowledged,
        }


def effectiveness(recall: Recall, notices: list[RecallNotice]) -> Effectiveness:
    """Effectiveness over ``notices`` (all of them for the hub; a partner's own)."""
    return Effectiveness(
        len(notices),
        sum(1 for n in notices if n.acknowledged_at is not None),
        sum(n.units for n in notices),
        sum(
            min(n.units, n.quantity_on_hand + n.quantity_returned + n.quantity_destroyed)
            if n.units
            else 0
            for n in notices
        ),
        _hours(recall.initiated_at, recall.all_notified_at),
        _hours(recall.initiated_at, recall.all_acknowledged_at),
    )


@dataclass(frozen=True)
class RecallView:
    """A recall with what every display of it shows."""

    recall: Recall
    notices: list[RecallNotice]
    effectiveness: Effectiveness
    signatures: RecordSignatures
    history: list[WorkflowTransition]
    offers: list[wf.Offer]


def view(session: Session, principal: Principal, recall: Recall) -> RecallView:
    notices = repo.visible_notices(session, principal, recall.id)
    return RecallView(
        recall,
        notices,
        effectiveness(recall, notices),
        signatures_of(session, principal, "recall", recall),
        wf.history(session, principal, "recall", [recall.id]),
        wf.offers(session, principal, RECALL_WORKFLOW, recall),
    )


# --- KPI -------------------------------------------------------------------------------------


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 2) if values else None


def kpi(session: Session, principal: Principal) -> dict[str, Any]:
    """Recall response time per recall and per month of initiation (the caller's recalls:
    a partner's figures are about its own notices)."""
    principal.require(Permission.QUALITY_READ)
    recalls, _ = list_visible(
        session, Recall, principal, order_by=Recall.initiated_at, page_size=10_000
    )
    notices: dict[int, list[RecallNotice]] = defaultdict(list)
    if recalls:
        for notice in session.scalars(
            select(RecallNotice).where(
                RecallNotice.recall_id.in_([r.id for r in recalls]),
                RecallNotice.tenant_id == principal.tenant_id,
            )
        ):
            if principal.sees_all_parties or notice.party_id == principal.party_id:
                notices[notice.recall_id].append(notice)
    per_recall = []
    months: dict[str, list[Effectiveness]] = defaultdict(list)
    for recall in recalls:
        result = effectiveness(recall, notices[recall.id])
        months[recall.initiated_at.strftime("%Y-%m")].append(result)
        per_recall.append(
            {"id": recall.id, "number": recall.number, "state": recall.state, **result.to_json()}
        )
    every = [e for values in months.values() for e in values]
    total_consignees = sum(e.consignees for e in every)
    return {
        "recalls": len(recalls),
        "open": sum(1 for r in recalls if r.state == "open"),
        "hours_to_all_notified": _mean(
            [e.hours_to_all_notified for e in every if e.hours_to_all_notified is not None]
        ),
        "hours_to_all_acknowledged": _mean(
            [e.hours_to_all_acknowledged for e in every if e.hours_to_all_acknowledged is not None]
        ),
        "consignee_share": round(
            sum(e.consignees_acknowledged for e in every) / total_consignees, 4
        )
        if total_consignees
        else 1.0,
        "by_month": [
            {
                "month": month,
                "recalls": len(values),
                "acknowledged": sum(1 for e in values if e.hours_to_all_acknowledged is not None),
                "hours_to_all_notified": _mean(
                    [e.hours_to_all_notified for e in values if e.hours_to_all_notified is not None]
                ),
                "hours_to_all_acknowledged": _mean(
                    [
                        e.hours_to_all_acknowledged
                        for e in values
                        if e.hours_to_all_acknowledged is not None
                    ]
                ),
            }
            for month, values in sorted(months.items())
        ],
        "per_recall": per_recall,
    }
