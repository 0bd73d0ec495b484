"""The trace ledger: EPCIS events as captured, and the projections maintained at capture.

Physical truth lives in ``epcis_events`` (one row per event, the original JSON kept). At
capture, in the same transaction, the projections below are written so that a trace is an
indexed walk, never a scan of history:

* ``trace_items``: every identifier seen, interned once per tenant in canonical GS1 Digital Link
  form (a lot is ``…/01/<gtin>/10/<lot>``, a serial ``…/01/<gtin>/21/<serial>``, an SSCC
  ``…/00/<sscc>``), with its parsed GTIN/lot/serial/SSCC;
* ``event_items``: which items each event names and in what role (``epc``, ``parent``, ``child``,
  ``input``, ``output``, ``quantity``, ``child_quantity``, ``input_quantity``,
  ``output_quantity``), for EPCIS query ``MATCH_*`` parameters and partner visibility;
* ``genealogy_edges``: what went into what. ``kind`` is ``transformation`` (input → output,
  also across the TransformationEvents sharing a ``transformationID``) or ``aggregation``
  (child → parent container). An error declaration sets ``retracted_by_event_id`` (retracted
  edges are ignored by traces); an aggregation DELETE sets ``ended_by_event_id`` (the
  containment ended; traces still walk it);
* ``custody_hops``: an item leaving a party (shipping with a destination) and, when it comes,
  its receipt; open hops (shipped, never received) are the gaps a trace reports;
* ``item_parties``: which parties may read an item, from the custody chain only (partner
  visibility of events and traces is decided by this table, see ``trace.repository``).
  ``relation`` is how the party *first* got access: ``holder`` (commissioned, made or received
  it, or held its container), ``shipper``/``consignee`` (sender/receiver of a shipment the hub
  or the item's holder recorded).

``epcis_events.event_id`` is the storage key: the eventID (sender's, else the CBV 2.0 hash),
except for an error declaration, which repeats the eventID of the event it corrects and is
stored under ``<eventID>#errorDeclaration`` (its ``document`` keeps the real eventID). The
corrected event keeps its row with ``retracted_by_event_id`` = the declaration's row id, as do
its genealogy edges and custody hops. ``trace.ledger.projection`` is the one writer of these tables.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from medledger.core.db import Base, BigId, UTCDateTime, utcnow


class CaptureJob(Base):
    """One ``POST /epcis/capture``: its state and, on failure, every error with its event."""

    __tablename__ = "epcis_capture_jobs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    capturing_party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    submitted_by: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))  # accepted | running | succeeded | failed
    error_behaviour: Mapped[str] = mapped_column(String(16), default="rollback")
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    captured_count: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    document: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class EpcisEvent(Base):
    """One captured EPCIS 2.0 event."""

    __tablename__ = "epcis_events"
    __table_args__ = (
        UniqueConstraint("tenant_id", "event_id"),
        Index("ix_epcis_events_time", "tenant_id", "event_time"),
        Index("ix_epcis_events_record_time", "tenant_id", "record_time"),
        Index("ix_epcis_events_biz_step", "tenant_id", "biz_step"),
        # Partial: most events have no transformationID, so captures pay nothing for them.
        Index(
            "ix_epcis_events_transformation",
            "tenant_id",
            "transformation_id",
            sqlite_where=text("transformation_id IS NOT NULL"),
            postgresql_where=text("transformation_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"))
    event_id: Mapped[str] = mapped_column(String(300))
    event_type: Mapped[str] = mapped_column(String(32))
    action: Mapped[str | None] = mapped_column(String(8), nullable=True)
    event_time: Mapped[datetime] = mapped_column(UTCDateTime)
    event_time_zone_offset: Mapped[str] = mapped_column(String(6))
    record_time: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    biz_step: Mapped[str | None] = mapped_column(String(200), nullable=True)
    disposition: Mapped[str | None] = mapped_column(String(200), nullable=True)
    read_point: Mapped[str | None] = mapped_column(String(300), nullable=True)
    biz_location: Mapped[str | None] = mapped_column(String(300), nullable=True, index=True)
    # TransformationEvent ``transformationID`` (canonical): events sharing one are joined.
    transformation_id: Mapped[str | None] = mapped_column(String(300), nullable=True)
    capturing_party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"), index=True)
    capture_job_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("epcis_capture_jobs.id"), nullable=True
    )
    # Set when a later error declaration retracts this event (the event itself is kept).
    retracted_by_event_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    # Lists of {"type": ..., "value": ...} as normalised at capture, for EQ_bizTransaction_…,
    # EQ_source_…, EQ_destination_… queries.
    biz_transactions: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    sources: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    destinations: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    # The event as the sender wrote it (plus eventID if it was computed), for query answers.
    document: Mapped[dict[str, Any]] = mapped_column(JSON)


class TraceItem(Base):
    """An identifier seen in the ledger, interned once per tenant."""

    __tablename__ = "trace_items"
    __table_args__ = (
        UniqueConstraint("tenant_id", "uri"),
        # The serials of a lot: the recursive SQL trace's lot → serials step.
        Index("ix_trace_items_lot", "tenant_id", "lot_item_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    uri: Mapped[str] = mapped_column(String(400))
    kind: Mapped[str] = mapped_column(String(8))  # lot | serial | sscc | class | other
    gtin: Mapped[str | None] = mapped_column(String(14), nullable=True, index=True)
    lot: Mapped[str | None] = mapped_column(String(20), nullable=True)
    serial: Mapped[str | None] = mapped_column(String(20), nullable=True)
    sscc: Mapped[str | None] = mapped_column(String(18), nullable=True)
    # Lot of a serial when commissioning ILMD or the identifier says so (serial → its lot).
    lot_item_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    first_event_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    commissioned: Mapped[bool] = mapped_column(Boolean, default=False)
    # Last known state, updated as events arrive in event-time order.
    last_event_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_biz_step: Mapped[str | None] = mapped_column(String(200), nullable=True)
    last_disposition: Mapped[str | None] = mapped_column(String(200), nullable=True)
    last_biz_location: Mapped[str | None] = mapped_column(String(300), nullable=True)
    holder_party_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    # The holder's GLN when the holder is not a registered party (``holder_party_id`` null).
    holder_gln: Mapped[str | None] = mapped_column(String(13), nullable=True)
    expiry: Mapped[str | None] = mapped_column(String(10), nullable=True)


class EventItem(Base):
    """An item named by an event, with its role in the event."""

    __tablename__ = "event_items"
    __table_args__ = (
        Index("ix_event_items_item", "tenant_id", "item_id", "role"),
        Index("ix_event_items_event", "event_row_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"))
    event_row_id: Mapped[int] = mapped_column(BigId, ForeignKey("epcis_events.id"))
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("trace_items.id"))
    role: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(18, 6), nullable=True)
    uom: Mapped[str | None] = mapped_column(String(8), nullable=True)


class GenealogyEdge(Base):
    """``from_item`` went into ``to_item``: an input into an output (transformation), or a child
    into its container (aggregation)."""

    __tablename__ = "genealogy_edges"
    __table_args__ = (
        Index("ix_genealogy_down", "tenant_id", "from_item_id"),
        Index("ix_genealogy_up", "tenant_id", "to_item_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"))
    from_item_id: Mapped[int] = mapped_column(BigId, ForeignKey("trace_items.id"))
    to_item_id: Mapped[int] = mapped_column(BigId, ForeignKey("trace_items.id"))
    kind: Mapped[str] = mapped_column(String(16))  # transformation | aggregation
    event_row_id: Mapped[int] = mapped_column(BigId, ForeignKey("epcis_events.id"))
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(18, 6), nullable=True)
    retracted_by_event_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    # An aggregation that was unpacked (aggregation DELETE): the containment ended then. The
    # edge stays in the genealogy (recall scope walks it); only the present tense changes.
    ended_by_event_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # A transformation edge joining two events with the same transformationID: the earlier
    # one (``event_row_id`` is the later one). Retracting either event retracts the edge.
    joined_event_row_id: Mapped[int | None] = mapped_column(BigId, nullable=True)


class CustodyHop(Base):
    """An item shipped from one party to another, and its receipt when it comes."""

    __tablename__ = "custody_hops"
    __table_args__ = (
        Index("ix_custody_item", "tenant_id", "item_id"),
        Index("ix_custody_to_party", "tenant_id", "to_party_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"))
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("trace_items.id"))
    from_party_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    to_party_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    # Raw GLN-based identifiers when the party is not (yet) registered.
    from_ref: Mapped[str | None] = mapped_column(String(300), nullable=True)
    to_ref: Mapped[str | None] = mapped_column(String(300), nullable=True)
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(18, 6), nullable=True)
    ship_event_row_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    receive_event_row_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    retracted_by_event_id: Mapped[int | None] = mapped_column(BigId, nullable=True)


class ItemParty(Base):
    """A party that held, shipped, received or captured an item (decides partner visibility)."""

    __tablename__ = "item_parties"
    __table_args__ = (
        UniqueConstraint("tenant_id", "item_id", "party_id"),
        Index("ix_item_parties_party", "tenant_id", "party_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"))
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("trace_items.id"))
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"))
    relation: Mapped[str] = mapped_column(String(16))  # holder | shipper | consignee
    note: Mapped[str] = mapped_column(Text, default="")


class NamedQuery(Base):
    """A named EPCIS query (``POST /epcis/queries``) of one party: its name and parameters.

    Names are per party (the hub's staff share the hub's): a partner never sees, runs or
    deletes another party's queries, and its query answers only what it may see."""

    __tablename__ = "epcis_named_queries"
    __table_args__ = (UniqueConstraint("tenant_id", "party_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"))
    name: Mapped[str] = mapped_column(String(200))
    # The EPCISEventsQuery: {parameter: [values]} (values as strings, lists OR-ed).
    query: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuerySubscription(Base):
    """A subscription to a named query: a webhook (``dest``, delivered through the integration
    outbox and worker, signed) fed as events are captured (``stream``).

    The subscriber is a user (or API key) of ``party_id``; what it receives is evaluated with
    its principal at capture time, so it only ever gets events it may see (redacted as a query
    would). ``last_row_id`` is the last event row reported."""

    __tablename__ = "epcis_query_subscriptions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenants.id"), index=True)
    party_id: Mapped[int] = mapped_column(BigId, ForeignKey("parties.id"))
    query_id: Mapped[int] = mapped_column(BigId, ForeignKey("epcis_named_queries.id"), index=True)
    subscription_id: Mapped[str] = mapped_column(String(64), unique=True)
    dest: Mapped[str] = mapped_column(String(2000))
    webhook_subscription_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    user_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    api_key_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    role: Mapped[str] = mapped_column(String(32))
    username: Mapped[str] = mapped_column(String(200))
    epc_format: Mapped[str] = mapped_column(String(32), default="Always_GS1_Digital_Link")
    report_if_empty: Mapped[bool] = mapped_column(Boolean, default=False)
    initial_record_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
