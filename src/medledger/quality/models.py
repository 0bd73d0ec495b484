"""Quality records: nonconformance (NCR), CAPA with its actions, change requests with the
partner notices they send, deviations. Every record has a ``state`` driven only by its workflow
(``quality/workflows.py``) and an author (``created_by_user_id``), who may not approve it."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from medledger.core.db import Base, BigId, UTCDateTime, utcnow


class NcrSource(StrEnum):
    MANUAL = "manual"
    PARTNER_REPORT = "partner_report"
    COMPLAINT = "complaint"
    INSPECTION = "inspection"


class Severity(StrEnum):
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


class Disposition(StrEnum):
    USE_AS_IS = "use_as_is"
    REWORK = "rework"
    SCRAP = "scrap"
    RETURN_TO_SUPPLIER = "return_to_supplier"


class _Record:
    """Columns every quality record has."""

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    number: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(32))
    owner_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), nullable=True)
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_by_user_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id"), nullable=True
    )
    created_by_party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"))
    # Bumped by every edit and workflow step (optimistic concurrency for forms).
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Ncr(_Record, Base):
    """A nonconformance: what is wrong, with which lots, whose material, and its disposition.
    ``affected_lots`` is a list of ``{"gtin", "lot"}``; they are put on hold through
    ``quality.hooks`` when the NCR is raised. The supplier concerned answers it (SCAR)."""

    __tablename__ = "quality_ncrs"
    __audit_entity__ = "ncr"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        Index("ix_quality_ncrs_state", "tenant_id", "state"),
        Index("ix_quality_ncrs_supplier", "tenant_id", "supplier_party_id"),
    )
    __audit__ = True

    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(8))
    product_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("products.id"), nullable=True)
    supplier_party_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("parties.id"), nullable=True
    )
    # A complaint's device identification (QMSR / 21 CFR 820.198): the UDI as given, and its
    # parts (UDI-DI = GTIN, UDI-PI = lot, serial, expiry).
    complaint_udi: Mapped[str | None] = mapped_column(String(200), nullable=True)
    udi_gtin: Mapped[str | None] = mapped_column(String(14), nullable=True)
    udi_lot: Mapped[str | None] = mapped_column(String(20), nullable=True)
    udi_serial: Mapped[str | None] = mapped_column(String(20), nullable=True)
    udi_expiry: Mapped[str | None] = mapped_column(String(10), nullable=True)
    affected_lots: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    investigation: Mapped[str] = mapped_column(Text, default="")
    disposition: Mapped[str | None] = mapped_column(String(24), nullable=True)
    disposition_rationale: Mapped[str] = mapped_column(Text, default="")
    # The supplier's answer (SCAR): containment, root cause and correction on its side.
    supplier_response: Mapped[str] = mapped_column(Text, default="")
    supplier_responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    capa_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("quality_capas.id"), nullable=True
    )


class Capa(_Record, Base):
    """A corrective and preventive action: investigation, root cause, actions, effectiveness."""

    __tablename__ = "quality_capas"
    __audit_entity__ = "capa"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        Index("ix_quality_capas_state", "tenant_id", "state"),
    )
    __audit__ = True

    problem: Mapped[str] = mapped_column(Text, default="")
    source_ncr_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    # A CAPA about a supplier's material is shared with that supplier.
    supplier_party_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("parties.id"), nullable=True
    )
    investigation: Mapped[str] = mapped_column(Text, default="")
    root_cause: Mapped[str] = mapped_column(Text, default="")
    effectiveness_criteria: Mapped[str] = mapped_column(Text, default="")
    effectiveness_result: Mapped[str] = mapped_column(Text, default="")
    # None: not checked yet; True/False: the effectiveness check's verdict.
    effective: Mapped[bool | None] = mapped_column(nullable=True)


class CapaAction(Base):
    """One action of a CAPA plan, with its owner and due date."""

    __tablename__ = "quality_capa_actions"
    __audit_entity__ = "capa_action"
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    capa_id: Mapped[int] = mapped_column(BigId, ForeignKey("quality_capas.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # corrective | preventive | containment
    description: Mapped[str] = mapped_column(Text)
    owner_user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"))
    due_date: Mapped[date] = mapped_column(Date)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    done_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChangeRequest(_Record, Base):
    """A change under control: what it touches (products, BOMs, documents), its impact
    assessment, approvals and effective date. Partners whose items it touches get a notice."""

    __tablename__ = "quality_changes"
    __audit_entity__ = "change"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        Index("ix_quality_changes_state", "tenant_id", "state"),
    )
    __audit__ = True

    description: Mapped[str] = mapped_column(Text, default="")
    reason_for_change: Mapped[str] = mapped_column(Text, default="")
    impact_assessment: Mapped[str] = mapped_column(Text, default="")
    affected_product_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    affected_bom_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    affected_documents: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Parties named by hand, beyond those derived from the affected items.
    extra_party_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    effective_date: Mapped[date | None] = mapped_column(Date, nullable=True)


class ChangeNotice(Base):
    """A change request notified to a partner whose items it touches: visible in the partner's
    portal, acknowledged by its users."""

    __tablename__ = "quality_change_notices"
    __audit_entity__ = "change_notice"
    __table_args__ = (UniqueConstraint("change_id", "party_id"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    change_id: Mapped[int] = mapped_column(BigId, ForeignKey("quality_changes.id"), index=True)
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    why: Mapped[str] = mapped_column(String(200), default="")
    notified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_by_user_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")


class Deviation(_Record, Base):
    """A deviation from an approved process or specification: planned (approved beforehand, for a
    window of time) or unplanned (found afterwards), with its risk assessment and the lots and
    product it touches; shared with the supplier it concerns."""

    __tablename__ = "quality_deviations"
    __audit_entity__ = "deviation"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        Index("ix_quality_deviations_state", "tenant_id", "state"),
    )
    __audit__ = True

    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(10))  # planned | unplanned
    product_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("products.id"), nullable=True)
    supplier_party_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("parties.id"), nullable=True
    )
    affected_lots: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    risk_assessment: Mapped[str] = mapped_column(Text, default="")
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    closure_summary: Mapped[str] = mapped_column(Text, default="")


class Harm(StrEnum):
    """What happened to the patient or user, as the complaint reports it (it sets the clock)."""

    NONE = "none"
    MALFUNCTION = "malfunction"
    INJURY = "injury"
    SERIOUS_INJURY = "serious_injury"
    DEATH = "death"


class Complaint(_Record, Base):
    """A complaint or adverse-event report about a device named by its UDI (21 CFR 820.198,
    QMSR; EU MDR Art. 87; NMPA adverse events): who reported it, what happened, the device
    (UDI parsed into GTIN, lot, serial, expiry and so into the trace), the investigation and the
    reportability decision per regulator, signed; it may open an NCR or a CAPA."""

    __tablename__ = "quality_complaints"
    __audit_entity__ = "complaint"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        Index("ix_quality_complaints_state", "tenant_id", "state"),
        Index("ix_quality_complaints_product", "tenant_id", "udi_gtin", "udi_lot"),
    )
    __audit__ = True

    description: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    event_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    reporter_contact: Mapped[str] = mapped_column(String(200), default="")
    harm: Mapped[str] = mapped_column(String(16), default=Harm.NONE.value)
    patient_involved: Mapped[bool] = mapped_column(default=False)
    udi: Mapped[str] = mapped_column(String(200))
    udi_gtin: Mapped[str] = mapped_column(String(14))
    udi_lot: Mapped[str | None] = mapped_column(String(20), nullable=True)
    udi_serial: Mapped[str | None] = mapped_column(String(20), nullable=True)
    udi_expiry: Mapped[str | None] = mapped_column(String(10), nullable=True)
    product_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("products.id"), nullable=True)
    investigation: Mapped[str] = mapped_column(Text, default="")
    # Reportability per regulator: None = not decided yet.
    fda_mdr_reportable: Mapped[bool | None] = mapped_column(nullable=True)
    eu_vigilance_reportable: Mapped[bool | None] = mapped_column(nullable=True)
    nmpa_reportable: Mapped[bool | None] = mapped_column(nullable=True)
    reportability_rationale: Mapped[str] = mapped_column(Text, default="")
    report_references: Mapped[str] = mapped_column(String(500), default="")
    conclusion: Mapped[str] = mapped_column(Text, default="")
    ncr_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("quality_ncrs.id"), nullable=True)
    capa_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("quality_capas.id"), nullable=True
    )


class ServiceKind(StrEnum):
    INSTALLATION = "installation"
    PREVENTIVE_MAINTENANCE = "preventive_maintenance"
    REPAIR = "repair"
    CALIBRATION = "calibration"
    INSPECTION = "inspection"


class ServiceOutcome(StrEnum):
    IN_SERVICE = "in_service"
    FOLLOW_UP = "follow_up"
    OUT_OF_SERVICE = "out_of_service"


class ServiceRecord(Base):
    """One servicing of one device (by serial): installation, maintenance, repair, calibration,
    inspection — who did it, when, what was done and replaced, and the device's state after.
    Kept by the hub or by the service partner that did the work (21 CFR 820.200)."""

    __tablename__ = "quality_service_records"
    __audit_entity__ = "service_record"
    __table_args__ = (Index("ix_quality_service_records_serial", "tenant_id", "gtin", "serial"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    gtin: Mapped[str] = mapped_column(String(14))
    serial: Mapped[str] = mapped_column(String(20))
    lot: Mapped[str | None] = mapped_column(String(20), nullable=True)
    product_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("products.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(24))
    performed_on: Mapped[date] = mapped_column(Date)
    performed_by_party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"))
    performed_by_user_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id"), nullable=True
    )
    description: Mapped[str] = mapped_column(Text, default="")
    parts_replaced: Mapped[list[str]] = mapped_column(JSON, default=list)
    outcome: Mapped[str] = mapped_column(String(16))
    complaint_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("quality_complaints.id"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InspectionKind(StrEnum):
    INCOMING = "incoming"
    IN_PROCESS = "in_process"
    FINAL = "final"


class InspectionPlan(Base):
    """What to inspect on lots of a product (optionally only a supplier's): characteristics with
    their acceptance criteria. Every edit bumps ``version`` and is audited with old and new
    values; an inspection keeps a copy of the characteristics and the version it was made with."""

    __tablename__ = "quality_inspection_plans"
    __audit_entity__ = "inspection_plan"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        Index("ix_quality_inspection_plans_product", "tenant_id", "product_id"),
    )
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    number: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"))
    supplier_party_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("parties.id"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(12))  # incoming | in_process | final
    # [{name, kind: numeric|attribute, unit, lower, upper, expected, sample_size}]
    characteristics: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_user_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id"), nullable=True
    )
    created_by_party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Inspection(_Record, Base):
    """An inspection of one lot against a plan version: results per characteristic (entered by
    the hub or by the test lab it is assigned to), a verdict per characteristic and overall.
    A failed inspection opens an NCR."""

    __tablename__ = "quality_inspections"
    __audit_entity__ = "inspection"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        Index("ix_quality_inspections_lot", "tenant_id", "gtin", "lot"),
        Index("ix_quality_inspections_lab", "tenant_id", "lab_party_id"),
    )
    __audit__ = True

    kind: Mapped[str] = mapped_column(String(12))
    plan_id: Mapped[int] = mapped_column(BigId, ForeignKey("quality_inspection_plans.id"))
    plan_version: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"))
    gtin: Mapped[str] = mapped_column(String(14))
    lot: Mapped[str] = mapped_column(String(20))
    supplier_party_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("parties.id"), nullable=True
    )
    # The test lab the lot was sent to: its users see this inspection and enter its results.
    lab_party_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("parties.id"), nullable=True)
    characteristics: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # {name: {"values": [...], "verdict": "pass"|"fail", "by": label, "at": iso}}
    results: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    verdict: Mapped[str | None] = mapped_column(String(8), nullable=True)  # pass | fail
    # When the lot was first received into own stock (the start of the compliance time).
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ncr_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("quality_ncrs.id"), nullable=True)


class LotRelease(_Record, Base):
    """The decision on a lot: released or rejected, signed (21 CFR Part 11) by someone other
    than the requester. Releasing moves the lot's quarantine stock to released; rejecting moves
    its quarantine and on-hold stock to rejected (through inventory's service)."""

    __tablename__ = "quality_lot_releases"
    __audit_entity__ = "lot_release"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        Index("ix_quality_lot_releases_lot", "tenant_id", "gtin", "lot"),
        Index("ix_quality_lot_releases_state", "tenant_id", "state"),
    )
    __audit__ = True

    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"))
    gtin: Mapped[str] = mapped_column(String(14))
    lot: Mapped[str] = mapped_column(String(20))
    supplier_party_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("parties.id"), nullable=True
    )
    note: Mapped[str] = mapped_column(Text, default="")
    # The inspection the decision rests on (the lot's latest decided inspection, if any).
    inspection_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("quality_inspections.id"), nullable=True
    )
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Units moved by the decision (out of quarantine to released, or to rejected).
    quantity: Mapped[int] = mapped_column(Integer, default=0)
