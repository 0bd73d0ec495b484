"""The recorded facts analytics reads from the other contexts, one small function per source.

Each function returns plain dataclasses; the scorecard and the KPI board compute only from
these, and their drill-downs list exactly these rows. Two sources are stand-ins until the
contexts that own them are merged, and keep their boundary here so that one function changes:

* :func:`inspection_decisions` reads quality's incoming-inspection records once they exist;
  until then an inspection decision is a quarantine → released / rejected stock status change
  (``inventory.stock_movements``) of a lot the supplier delivered against an ASN.
* :func:`recall_cases` reads the recall context's cases once it exists; until then there are
  none and the KPI board says "no recalls recorded".
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from medledger.catalog.models import Product
from medledger.compliance.models import WorkflowTransition
from medledger.inventory.models import MovementKind, StockMovement, StockStatus
from medledger.parties.models import Location, Site
from medledger.purchasing.models import (
    AdvanceShipNotice,
    AsnLine,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
)
from medledger.quality.models import Capa, Ncr
from medledger.quality.workflows import CAPA_CLOSED, NCR_CLOSED
from medledger.trace.models import EpcisEvent

DESADV = "urn:medledger:desadv:"


@dataclass(frozen=True)
class PoLineFact:
    """A purchase order line and what was received against it."""

    po_line_id: int
    po_id: int
    po_number: str
    line_number: int
    supplier_party_id: int
    gtin: str
    quantity: int  # the confirmed quantity, else the ordered one
    received_quantity: int
    promised_date: date  # the confirmed date, else the requested one
    last_receipt_on: date | None

    def due(self, today: date) -> bool:
        return self.promised_date < today or self.in_full

    @property
    def in_full(self) -> bool:
        return self.received_quantity >= self.quantity

    @property
    def on_time_in_full(self) -> bool:
        return (
            self.in_full
            and self.last_receipt_on is not None
            and self.last_receipt_on <= self.promised_date
        )


@dataclass(frozen=True)
class InspectionDecision:
    """An incoming lot accepted or rejected, with when it had been received."""

    supplier_party_id: int
    gtin: str
    lot: str
    quantity: int
    accepted: bool
    received_at: datetime | None
    decided_at: datetime
    site_id: int | None
    reference: str  # what the drill-down links to (a movement today, an inspection later)


@dataclass(frozen=True)
class NcrFact:
    ncr_id: int
    number: str
    title: str
    supplier_party_id: int
    severity: str
    state: str
    created_at: datetime
    scar_requested_at: datetime | None
    scar_responded_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True)
class CapaFact:
    capa_id: int
    number: str
    title: str
    supplier_party_id: int
    state: str
    created_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class RecallCase:
    """A recall case (the recall context's, once merged): opened, and when every consignee
    had acknowledged it."""

    case_id: int
    number: str
    opened_at: datetime
    responded_at: datetime | None
    product_gtin: str
    market: str


def _asn_receipts(session: Session, tenant_id: int) -> dict[tuple[str, str, str], datetime]:
    """(ASN number, GTIN, lot) → time of its last receipt movement (from the receiving event's
    ``desadv`` business transaction, which purchasing's scan receiving writes)."""
    rows = session.execute(
        select(StockMovement.gtin, StockMovement.lot, StockMovement.occurred_at, EpcisEvent.id)
        .join(EpcisEvent, EpcisEvent.id == StockMovement.epcis_event_row_id)
        .where(StockMovement.tenant_id == tenant_id)
        .where(StockMovement.kind == MovementKind.RECEIPT.value)
    ).all()
    if not rows:
        return {}
    event_ids = {row[3] for row in rows}
    numbers: dict[int, list[str]] = defaultdict(list)
    for event_id, transactions in session.execute(
        select(EpcisEvent.id, EpcisEvent.biz_transactions).where(EpcisEvent.id.in_(event_ids))
    ):
        for entry in transactions or []:
            value = str(entry.get("value") or entry.get("bizTransaction") or "")
            if value.startswith(DESADV):
                numbers[event_id].append(value.removeprefix(DESADV))
    result: dict[tuple[str, str, str], datetime] = {}
    for gtin, lot, occurred_at, event_id in rows:
        for number in numbers.get(event_id, []):
            key = (number, gtin, lot)
            if key not in result or occurred_at > result[key]:
                result[key] = occurred_at
    return result


def po_lines(session: Session, tenant_id: int, supplier_ids: set[int] | None) -> list[PoLineFact]:
    """Lines of the purchase orders sent to the suppliers (drafts and cancelled orders left
    out), with their last receipt date."""
    stmt = (
        select(PurchaseOrderLine, PurchaseOrder.number, PurchaseOrder.supplier_party_id)
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.purchase_order_id)
        .where(PurchaseOrder.tenant_id == tenant_id)
        .where(
            PurchaseOrder.status.not_in(
                [PurchaseOrderStatus.DRAFT.value, PurchaseOrderStatus.CANCELLED.value]
            )
        )
    )
    if supplier_ids is not None:
        stmt = stmt.where(PurchaseOrder.supplier_party_id.in_(supplier_ids))
    lines = session.execute(stmt).all()
    if not lines:
        return []
    receipts = _asn_receipts(session, tenant_id)
    last: dict[int, datetime] = {}
    for asn_line, asn_number in session.execute(
        select(AsnLine, AdvanceShipNotice.number)
        .join(AdvanceShipNotice, AdvanceShipNotice.id == AsnLine.asn_id)
        .where(AdvanceShipNotice.tenant_id == tenant_id)
        .where(AsnLine.received_quantity > 0)
    ):
        at = receipts.get((asn_number, asn_line.gtin, asn_line.lot))
        line_id = asn_line.purchase_order_line_id
        if at is not None and (line_id not in last or at > last[line_id]):
            last[line_id] = at
    facts = []
    for line, number, supplier_id in lines:
        received = last.get(line.id)
        facts.append(
            PoLineFact(
                po_line_id=line.id,
                po_id=line.purchase_order_id,
                po_number=number,
                line_number=line.line_number,
                supplier_party_id=supplier_id,
                gtin=line.gtin,
                quantity=line.confirmed_quantity
                if line.confirmed_quantity is not None
                else line.quantity,
                received_quantity=line.received_quantity,
                promised_date=line.confirmed_date or line.requested_date,
                last_receipt_on=received.date() if received is not None else None,
            )
        )
    return sorted(facts, key=lambda f: (f.promised_date, f.po_number, f.line_number))


def inspection_decisions(
    session: Session, tenant_id: int, supplier_ids: set[int] | None
) -> list[InspectionDecision]:
    """Incoming lots accepted or rejected, per supplier.

    A decision is a status change of a supplier's lot out of quarantine into released
    (accepted) or rejected — since quality's signed lot release is the only way out of
    quarantine, these are exactly its decisions; the supplier is the one whose ASN announced
    the lot, and the lot's receipt time is its first receipt movement."""
    supplier_of: dict[tuple[str, str], int] = {}
    stmt = (
        select(AsnLine.gtin, AsnLine.lot, AdvanceShipNotice.supplier_party_id)
        .join(AdvanceShipNotice, AdvanceShipNotice.id == AsnLine.asn_id)
        .where(AdvanceShipNotice.tenant_id == tenant_id)
        .order_by(AsnLine.id)
    )
    for gtin, lot, supplier_id in session.execute(stmt):
        if supplier_ids is None or supplier_id in supplier_ids:
            supplier_of.setdefault((gtin, lot), supplier_id)
    if not supplier_of:
        return []
    gtins = {gtin for gtin, _ in supplier_of}
    received: dict[tuple[str, str], datetime] = {}
    for gtin, lot, at in session.execute(
        select(StockMovement.gtin, StockMovement.lot, StockMovement.occurred_at)
        .where(StockMovement.tenant_id == tenant_id)
        .where(StockMovement.kind == MovementKind.RECEIPT.value)
        .where(StockMovement.gtin.in_(gtins))
    ):
        key = (gtin, lot)
        if key in supplier_of and (key not in received or at < received[key]):
            received[key] = at
    decisions = []
    for movement, site_id in session.execute(
        select(StockMovement, Location.site_id)
        .outerjoin(Location, Location.id == StockMovement.to_location_id)
        .where(StockMovement.tenant_id == tenant_id)
        .where(StockMovement.kind == MovementKind.STATUS_CHANGE.value)
        .where(StockMovement.from_status == StockStatus.QUARANTINE.value)
        .where(
            StockMovement.to_status.in_([StockStatus.RELEASED.value, StockStatus.REJECTED.value])
        )
        .where(StockMovement.gtin.in_(gtins))
        .order_by(StockMovement.occurred_at, StockMovement.id)
    ):
        key = (movement.gtin, movement.lot)
        if key not in supplier_of:
            continue
        decisions.append(
            InspectionDecision(
                supplier_party_id=supplier_of[key],
                gtin=movement.gtin,
                lot=movement.lot,
                quantity=movement.quantity,
                accepted=movement.to_status == StockStatus.RELEASED.value,
                received_at=received.get(key),
                decided_at=movement.occurred_at,
                site_id=site_id,
                reference=f"movement:{movement.id}",
            )
        )
    return decisions


def _transitions(
    session: Session, tenant_id: int, kind: str, ids: list[int]
) -> dict[int, list[WorkflowTransition]]:
    result: dict[int, list[WorkflowTransition]] = defaultdict(list)
    if ids:
        for step in session.scalars(
            select(WorkflowTransition)
            .where(WorkflowTransition.tenant_id == tenant_id)
            .where(WorkflowTransition.record_kind == kind)
            .where(WorkflowTransition.record_id.in_(ids))
            .order_by(WorkflowTransition.at, WorkflowTransition.id)
        ):
            result[step.record_id].append(step)
    return result


def _first(steps: list[WorkflowTransition], predicate: object) -> datetime | None:
    for step in steps:
        if predicate(step):  # type: ignore[operator]
            return step.at
    return None


def ncrs(session: Session, tenant_id: int, supplier_ids: set[int] | None) -> list[NcrFact]:
    """NCRs naming a supplier, with the times of their SCAR request, the supplier's response
    and their closure (from the workflow log)."""
    stmt = (
        select(Ncr)
        .where(Ncr.tenant_id == tenant_id)
        .where(Ncr.supplier_party_id.is_not(None))
        .order_by(Ncr.created_at, Ncr.id)
    )
    if supplier_ids is not None:
        stmt = stmt.where(Ncr.supplier_party_id.in_(supplier_ids))
    records = list(session.scalars(stmt))
    steps = _transitions(session, tenant_id, "ncr", [r.id for r in records])
    facts = []
    for record in records:
        log = steps.get(record.id, [])
        assert record.supplier_party_id is not None
        facts.append(
            NcrFact(
                ncr_id=record.id,
                number=record.number,
                title=record.title,
                supplier_party_id=record.supplier_party_id,
                severity=record.severity,
                state=record.state,
                created_at=record.created_at,
                scar_requested_at=_first(log, lambda s: s.action == "request_supplier_response"),
                scar_responded_at=_first(log, lambda s: s.action == "respond"),
                closed_at=_first(log, lambda s: s.to_state in NCR_CLOSED),
            )
        )
    return facts


def capas(session: Session, tenant_id: int, supplier_ids: set[int] | None) -> list[CapaFact]:
    """CAPAs about a supplier's material, with their closure time (from the workflow log)."""
    stmt = (
        select(Capa)
        .where(Capa.tenant_id == tenant_id)
        .where(Capa.supplier_party_id.is_not(None))
        .order_by(Capa.created_at, Capa.id)
    )
    if supplier_ids is not None:
        stmt = stmt.where(Capa.supplier_party_id.in_(supplier_ids))
    records = list(session.scalars(stmt))
    steps = _transitions(session, tenant_id, "capa", [r.id for r in records])
    facts = []
    for record in records:
        assert record.supplier_party_id is not None
        facts.append(
            CapaFact(
                capa_id=record.id,
                number=record.number,
                title=record.title,
                supplier_party_id=record.supplier_party_id,
                state=record.state,
                created_at=record.created_at,
                closed_at=_first(steps.get(record.id, []), lambda s: s.to_state in CAPA_CLOSED),
            )
        )
    return facts


_GTIN_IN_IDENTIFIER = re.compile(r"(?:\(01\)|/01/|^01)(\d{14})")


def recall_cases(session: Session, tenant_id: int) -> list[RecallCase]:
    """Recall cases with their response time: initiated at → every consignee acknowledged at
    (the recall context's own timestamps, ``recall.models.Recall``). The product is the GTIN of
    the recall's first identifier that names one (a lot, a serial, a Digital Link); the market
    is not recorded on a recall, so it is reported as ``all``."""
    from medledger.recall.models import Recall

    cases = []
    for recall in session.scalars(
        select(Recall).where(Recall.tenant_id == tenant_id).order_by(Recall.initiated_at, Recall.id)
    ):
        gtin = ""
        for identifier in recall.identifiers or []:
            match = _GTIN_IN_IDENTIFIER.search(str(identifier))
            if match:
                gtin = match.group(1)
                break
        cases.append(
            RecallCase(
                case_id=recall.id,
                number=recall.number,
                opened_at=recall.initiated_at,
                responded_at=recall.all_acknowledged_at,
                product_gtin=gtin,
                market="all",
            )
        )
    return cases


def products_by_gtin(session: Session, tenant_id: int) -> dict[str, tuple[str, str]]:
    """GTIN → (product name, product family). The family is the Basic UDI-DI (the UDI system's
    grouping of a device model's variants), else the product's own name."""
    return {
        gtin: (name, basic or name)
        for gtin, name, basic in session.execute(
            select(Product.gtin, Product.name, Product.basic_udi_di).where(
                Product.tenant_id == tenant_id
            )
        )
    }


def site_names(session: Session, tenant_id: int) -> dict[int, str]:
    return dict(
        session.execute(select(Site.id, Site.name).where(Site.tenant_id == tenant_id)).all()
    )
