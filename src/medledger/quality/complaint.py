"""Complaints and adverse-event reports, and servicing records per device.

A complaint names the device by its UDI (21 CFR 820.198 and QMSR ask for it; so do EU MDR
vigilance and NMPA adverse-event reports): the UDI-DI (GTIN) and UDI-PI (lot, serial, expiry)
are parsed with the same GS1 parser as everything else, so the complaint leads straight to the
lot or serial and its trace. Hospital and distributor users report (``quality:report``); hub
quality investigates and records the **reportability decision per regulator** (FDA MDR, EU MDR
vigilance, NMPA), which is proposed with a signature (reviewed) and approved by someone else
(approved). A complaint can open an NCR (its lot goes on hold through the NCR) or a CAPA.

The due date, unless given, is the earliest regulator clock the reported harm starts: 7 days
for a death (NMPA), 10 days for a serious injury (EU MDR Art. 87 for death or serious
deterioration), 30 days otherwise (FDA MDR); see docs/quality.md.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import String, case, cast, func, or_, select
from sqlalchemy.orm import Session

from medledger.catalog.models import Product
from medledger.core.db import utcnow
from medledger.core.errors import Conflict, ValidationFailed, field_error
from medledger.core.principal import Permission, Principal
from medledger.core.repository import apply_changes, list_visible
from medledger.core.scoping import scoped
from medledger.quality import repository as repo
from medledger.quality.capa import create_capa
from medledger.quality.errors import Code
from medledger.quality.models import Capa, Complaint, Harm, Ncr, NcrSource, ServiceRecord
from medledger.quality.ncr import raise_ncr
from medledger.quality.schemas import (
    CapaIn,
    ComplaintIn,
    ComplaintNcrIn,
    ComplaintUpdate,
    NcrIn,
    ServiceRecordIn,
)
from medledger.quality.service import check_hub_user, locked_record
from medledger.quality.workflows import COMPLAINT_WORKFLOW

# Days to the reportability decision, by the harm reported (the earliest regulator clock).
DECISION_DAYS = {
    Harm.DEATH.value: 7,
    Harm.SERIOUS_INJURY.value: 10,
    Harm.INJURY.value: 30,
    Harm.MALFUNCTION.value: 30,
    Harm.NONE.value: 30,
}
# Fields editable per state (None: every field). Reporter-side facts are fixed once
# investigation starts; the decision fields until the decision is proposed.
_FACTS = frozenset(
    {"title", "description", "event_date", "harm", "patient_involved", "reporter_contact"}
)
_INVESTIGATION = frozenset(
    {
        "investigation",
        "fda_mdr_reportable",
        "eu_vigilance_reportable",
        "nmpa_reportable",
        "reportability_rationale",
        "report_references",
        "owner_user_id",
        "due_date",
    }
)
EDITABLE: dict[str, frozenset[str]] = {
    "received": _FACTS | _INVESTIGATION,
    "investigating": _FACTS | _INVESTIGATION,
    "decided": frozenset({"report_references", "conclusion", "owner_user_id", "due_date"}),
}
_HUB_ONLY = _INVESTIGATION | {"conclusion"}


def parse_udi(udi: str, field: str = "udi") -> dict[str, Any]:
    """The UDI's parts (GTIN, lot, serial, expiry), or a clear error on ``field``."""
    from medledger.identifiers.gs1 import parse_gs1

    try:
        parsed = parse_gs1(udi)
    except ValidationFailed as exc:
        raise field_error(
            field, exc.code, "The UDI could not be read: {detail}", detail=exc.render_english()
        ) from None
    if parsed.gtin is None:
        raise field_error(
            field, Code.UDI_NO_DEVICE_IDENTIFIER, "The UDI has no device identifier (GTIN)."
        )
    return {
        "gtin": parsed.gtin,
        "lot": parsed.lot,
        "serial": parsed.serial,
        "expiry": parsed.expiry.isoformat() if parsed.expiry else None,
    }


def _product_id(session: Session, tenant_id: int, gtin: str) -> int | None:
    return session.scalar(
        select(Product.id).where(Product.tenant_id == tenant_id, Product.gtin == gtin)
    )


def create_complaint(session: Session, principal: Principal, data: ComplaintIn) -> Complaint:
    """Record a complaint (hub staff, or a partner's user reporting from its site)."""
    principal.require(Permission.QUALITY_REPORT)
    if not principal.sees_all_parties and (
        data.owner_user_id is not None or data.due_date is not None
    ):
        field = "owner_user_id" if data.owner_user_id is not None else "due_date"
        raise field_error(
            field,
            Code.COMPLAINT_HUB_ONLY_FIELD,
            "Only the hub sets a complaint's owner and due date.",
        )
    check_hub_user(session, principal, "owner_user_id", data.owner_user_id)
    udi = parse_udi(data.udi)
    now = utcnow()
    complaint = Complaint(
        tenant_id=principal.tenant_id,
        number=repo.next_number(session, Complaint, principal.tenant_id, "CMP", now.year),
        title=data.title.strip(),
        description=data.description,
        state=COMPLAINT_WORKFLOW.initial,
        received_at=now,
        event_date=data.event_date,
        reporter_contact=data.reporter_contact.strip(),
        harm=data.harm.value,
        patient_involved=data.patient_involved,
        udi=data.udi.strip(),
        udi_gtin=udi["gtin"],
        udi_lot=udi["lot"],
        udi_serial=udi["serial"],
        udi_expiry=udi["expiry"],
        product_id=_product_id(session, principal.tenant_id, udi["gtin"]),
        owner_user_id=data.owner_user_id,
        due_date=data.due_date or (now.date() + timedelta(days=DECISION_DAYS[data.harm.value])),
        created_by_user_id=principal.user_id,
        created_by_party_id=principal.party_id,
        version=1,
    )
    session.add(complaint)
    session.flush()
    return complaint


def update_complaint(
    session: Session, principal: Principal, complaint_id: int, data: ComplaintUpdate
) -> Complaint:
    """Edit what the complaint's state allows: the reporter's facts until the decision is
    proposed (the reporter's party or the hub), the investigation and decision (hub quality)."""
    principal.require(Permission.QUALITY_REPORT)
    complaint: Complaint = locked_record(session, principal, "complaint", complaint_id)
    changes = data.model_dump(exclude_unset=True)
    allowed = EDITABLE.get(complaint.state)
    if allowed is None:
        raise Conflict(
            "{record} cannot be edited while it is {state}.",
            code=Code.RECORD_LOCKED_BY_STATE,
            params={"record": complaint.number, "state": complaint.state},
        )
    for key, value in changes.items():
        if key not in allowed:
            raise Conflict(
                "{field} of {record} cannot be changed while it is {state}.",
                code=Code.RECORD_LOCKED_BY_STATE,
                params={"field": key, "record": complaint.number, "state": complaint.state},
            )
        if key in _HUB_ONLY:
            principal.require(Permission.QUALITY_WRITE)
            if not principal.sees_all_parties:
                raise field_error(
                    key, Code.COMPLAINT_HUB_ONLY_FIELD, "Only the hub's quality staff edit this."
                )
        if key in ("title", "harm", "patient_involved") and value is None:
            raise field_error(key, Code.VALUE_REQUIRED, "This field is required.")
    if "owner_user_id" in changes:
        check_hub_user(session, principal, "owner_user_id", data.owner_user_id)
    if "harm" in changes and changes["harm"] is not None:
        changes["harm"] = str(changes["harm"])
    apply_changes(complaint, changes)
    complaint.version = (complaint.version or 0) + 1
    session.flush()
    return complaint


def open_ncr(
    session: Session, principal: Principal, complaint_id: int, data: ComplaintNcrIn
) -> Ncr:
    """Open an NCR from the complaint: it carries the UDI (its lot goes on hold) and is linked."""
    principal.require(Permission.QUALITY_WRITE)
    complaint: Complaint = locked_record(session, principal, "complaint", complaint_id)
    if complaint.ncr_id is not None:
        raise Conflict(
            "{record} already has an NCR.",
            code=Code.COMPLAINT_NCR_EXISTS,
            params={"record": complaint.number},
        )
    if complaint.state in COMPLAINT_WORKFLOW.closed_states:
        raise Conflict(
            "{record} cannot be edited while it is {state}.",
            code=Code.RECORD_LOCKED_BY_STATE,
            params={"record": complaint.number, "state": complaint.state},
        )
    ncr = raise_ncr(
        session,
        principal,
        NcrIn(
            title=complaint.title,
            description=f"{complaint.number}: {complaint.description}".strip(),
            source=NcrSource.COMPLAINT,
            severity=data.severity,
            product_id=complaint.product_id,
            supplier_party_id=data.supplier_party_id,
            complaint_udi=complaint.udi,
        ),
    )
    complaint.ncr_id = ncr.id
    complaint.version = (complaint.version or 0) + 1
    session.flush()
    return ncr


def open_capa(session: Session, principal: Principal, complaint_id: int) -> Capa:
    """Open a CAPA from the complaint (from its NCR when it has one), linked to both."""
    principal.require(Permission.QUALITY_WRITE)
    complaint: Complaint = locked_record(session, principal, "complaint", complaint_id)
    if complaint.capa_id is not None:
        raise Conflict(
            "{record} already has a CAPA.",
            code=Code.COMPLAINT_CAPA_EXISTS,
            params={"record": complaint.number},
        )
    capa = create_capa(
        session,
        principal,
        CapaIn(
            title=complaint.title,
            problem=f"{complaint.number} ({complaint.udi}): {complaint.description}".strip(),
            source_ncr_id=complaint.ncr_id,
        ),
    )
    complaint.capa_id = capa.id
    complaint.version = (complaint.version or 0) + 1
    session.flush()
    return capa


def trend(
    session: Session,
    principal: Principal,
    *,
    gtin: str | None = None,
    since: date | None = None,
) -> list[dict[str, Any]]:
    """Complaints per month, GTIN and lot (with how many reported harm beyond a malfunction),
    oldest month first — the complaint trend per product and lot."""
    principal.require(Permission.QUALITY_READ)
    month = func.substr(cast(Complaint.received_at, String), 1, 7)
    harmful = [Harm.INJURY.value, Harm.SERIOUS_INJURY.value, Harm.DEATH.value]
    harmed = func.sum(case((Complaint.harm.in_(harmful), 1), else_=0))
    stmt = select(
        month.label("month"),
        Complaint.udi_gtin,
        Complaint.udi_lot,
        func.min(Complaint.product_id),
        func.count(),
        harmed,
    ).where(Complaint.state != "cancelled")
    if gtin:
        stmt = stmt.where(Complaint.udi_gtin == gtin)
    if since:
        stmt = stmt.where(Complaint.received_at >= since)
    stmt = scoped(stmt, Complaint, principal).group_by(month, Complaint.udi_gtin, Complaint.udi_lot)
    rows = session.execute(stmt.order_by(month, Complaint.udi_gtin, Complaint.udi_lot)).all()
    return [
        {
            "month": str(m),
            "gtin": g,
            "lot": lot,
            "product_id": product_id,
            "complaints": int(count),
            "with_harm": int(harm or 0),
        }
        for m, g, lot, product_id, count, harm in rows
    ]


# --- service records ---------------------------------------------------------------------------


def record_service(session: Session, principal: Principal, data: ServiceRecordIn) -> ServiceRecord:
    """Record one servicing of a serialised device (hub or the service partner that did it)."""
    principal.require(Permission.QUALITY_REPORT)
    udi = parse_udi(data.udi)
    if not udi["serial"]:
        raise field_error(
            "udi",
            Code.SERVICE_SERIAL_REQUIRED,
            "A service record names one device: the UDI must carry its serial number (AI 21).",
        )
    if data.complaint_id is not None:
        stmt: Any = select(Complaint.id).where(Complaint.id == data.complaint_id)
        found = session.scalar(scoped(stmt, Complaint, principal))
        if found is None:
            raise field_error(
                "complaint_id",
                Code.COMPLAINT_UNKNOWN,
                "Complaint {id} does not exist.",
                id=data.complaint_id,
            )
    record = ServiceRecord(
        tenant_id=principal.tenant_id,
        gtin=udi["gtin"],
        serial=udi["serial"],
        lot=udi["lot"],
        product_id=_product_id(session, principal.tenant_id, udi["gtin"]),
        kind=data.kind.value,
        performed_on=data.performed_on,
        performed_by_party_id=principal.party_id,
        performed_by_user_id=principal.user_id,
        description=data.description,
        parts_replaced=list(data.parts_replaced),
        outcome=data.outcome.value,
        complaint_id=data.complaint_id,
    )
    session.add(record)
    session.flush()
    return record


def service_records(
    session: Session,
    principal: Principal,
    *,
    gtin: str | None = None,
    serial: str | None = None,
    q: str | None = None,
    page: int = 1,
    page_size: int = 50,
    order_by: tuple[Any, ...] | None = None,
) -> tuple[list[ServiceRecord], int]:
    """Service records the caller may see (a partner: those it performed), newest first (or in
    ``order_by``); ``q`` is the GTIN or serial exactly, or a part of the description."""
    principal.require(Permission.QUALITY_READ)
    filters = []
    if gtin:
        filters.append(ServiceRecord.gtin == gtin)
    if serial:
        filters.append(ServiceRecord.serial == serial)
    if q:
        filters.append(
            or_(
                ServiceRecord.gtin == q,
                ServiceRecord.serial == q,
                ServiceRecord.description.ilike(f"%{q}%"),
            )
        )
    return list_visible(
        session,
        ServiceRecord,
        principal,
        filters=filters,
        order_by=order_by or (ServiceRecord.performed_on.desc(), ServiceRecord.id.desc()),
        page=page,
        page_size=page_size,
    )
