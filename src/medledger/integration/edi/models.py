"""Per-partner EDI settings and the despatch advices generated for partners."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from medledger.core.db import Base, BigId, TenantScoped, UTCDateTime, utcnow


class Syntax(StrEnum):
    EDIFACT = "edifact"
    X12 = "x12"


class EdiPartnerSetting(TenantScoped, Base):
    """How one partner exchanges EDI with the hub: the syntax, both interchange identifiers
    (``qualifier:id``), the separators of X12 (EDIFACT always announces its own in UNA), and
    where outbound documents go: a folder on the hub's side (a mailbox an AS2/SFTP gateway
    picks up) and/or the outbox (signed webhooks to the partner's subscriptions)."""

    __tablename__ = "edi_partner_settings"
    __table_args__ = (UniqueConstraint("tenant_id", "party_id"),)
    __audit__ = True

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    syntax: Mapped[str] = mapped_column(String(8))
    our_id: Mapped[str] = mapped_column(String(40))
    partner_id: Mapped[str] = mapped_column(String(40))
    element_separator: Mapped[str] = mapped_column(String(1), default="*")
    component_separator: Mapped[str] = mapped_column(String(1), default=">")
    segment_terminator: Mapped[str] = mapped_column(String(1), default="~")
    outbound_folder: Mapped[str] = mapped_column(String(500), default="")
    deliver_via_outbox: Mapped[bool] = mapped_column(Boolean, default=True)
    test_indicator: Mapped[bool] = mapped_column(Boolean, default=False)
    # Send a despatch advice by itself at every shipping event to this partner (otherwise only
    # when asked for, by API or CLI).
    despatch_advice_auto: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class DespatchAdvice(TenantScoped, Base):
    """A despatch advice generated for one shipping event (all its SSCCs), kept as sent."""

    __tablename__ = "edi_despatch_advices"
    __table_args__ = (
        Index("ix_edi_despatch_advices_tenant_event", "tenant_id", "ship_event_row_id"),
    )
    __audit__ = True
    __audit_redact__ = frozenset({"content"})

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    ship_event_row_id: Mapped[int] = mapped_column(BigId)
    number: Mapped[str] = mapped_column(String(35))
    syntax: Mapped[str] = mapped_column(String(8))
    standard: Mapped[str] = mapped_column(String(8))  # "DESADV" | "856"
    control_reference: Mapped[str] = mapped_column(String(14))
    ssccs: Mapped[list[str]] = mapped_column(JSON)
    filename: Mapped[str] = mapped_column(String(255))
    # Where it was written ("" when the partner has no folder), and the outbox message id.
    written_path: Mapped[str] = mapped_column(String(800), default="")
    outbox_message_id: Mapped[str] = mapped_column(String(36), default="")
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200), default="")


class OutboundFile(TenantScoped, Base):
    """An EDI document for a partner's outbound folder other than a despatch advice (an order
    response, ORDRSP or 855), kept so that a file a crash left unwritten is written again
    (``medledger edi write-outbound``)."""

    __tablename__ = "edi_outbound_files"
    __audit__ = True
    __audit_redact__ = frozenset({"content"})

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    written_path: Mapped[str] = mapped_column(String(800))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
