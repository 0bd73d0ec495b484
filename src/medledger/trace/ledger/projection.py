"""Projections of captured EPCIS events, maintained in the capture transaction.

:func:`project_events` (or :class:`Projection`, batch by batch) takes just-inserted events
(row id + normalised event, in document order) and writes, with a handful of bulk statements
whatever the batch size:

* ``trace_items``: every identifier interned once per tenant, with its GTIN/lot/serial/SSCC and
  its last known state (step, disposition, location, holder, commissioned, expiry, lot);
* ``event_items``: each identifier of each event in its role;
* ``genealogy_edges``: transformation inputs → outputs (instances and quantity classes, a full
  cross product within one event, and across the events sharing a ``transformationID``: the
  later event's edge names the earlier one in ``joined_event_row_id``) and aggregation child →
  parent (ADD, and OBSERVE of an aggregation not yet recorded); an aggregation DELETE ends
  the matching active containments (all children of the parent when it lists none): the edges
  stay, with ``ended_by_event_id``/``ended_at``;
* ``custody_hops``: a ``shipping`` event with an ``owning_party``/``possessing_party``
  destination opens a hop per item (sender: its source, else the item's holder), a later
  ``receiving`` event by the destination (a registered party or a GLN) closes it;
* the holder (``holder_party_id``, or ``holder_gln`` for a party that is not registered)
  changes only where custody changes: a receipt (its destination, else its bizLocation's
  party or GLN) that closes a shipment to the receiver or that the hub recorded — with
  everything packed in the received item —, a commissioning or transformation (the items it
  creates, to the party at its bizLocation, else the capturer; a partner not over another
  holder), the packing of a container nobody holds (the packer);
* ``item_parties``: read access from that custody chain only (``holder`` for the new holder,
  ``shipper``/``consignee`` for a shipment the hub or the item's holder recorded); never
  from merely naming an item;
* error declarations: the original event (same eventID) is marked and its edges (also the
  transformationID joins it took part in) and hops are retracted (a retracted receipt reopens
  its hop); its items' state is recomputed from the events left. The declaration itself only
  gets ``event_items`` (it is queryable and decides visibility) and changes no item state.

Rules worth knowing (they are choices, not EPCIS text): last state follows event time (an
older event arriving late does not overwrite a newer state, nor any column of it: an older
event's disposition does not replace the stored newer event's when the newer events of the
batch give none); a custody change older than one already known is history; an item
is ``commissioned`` by an ObjectEvent ADD with bizStep ``commissioning``; a serial's lot is
the first ILMD ``lotNumber`` it is created with (in capture order, then document order; a
later, different one is kept as a lot item but does not move the serial); GLN-based
``sgln``/``pgln`` source/destination identifiers map to the registered party with that GLN,
else the party of the site or location with that GLN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from medledger.parties.models import Tenant
from medledger.trace.epcis.normalise import NormalisedEvent, QuantityElement
from medledger.trace.ledger.bulk import bulk_insert, chunks, table_of
from medledger.trace.ledger.corrections import Corrections
from medledger.trace.ledger.item_keys import gln_of, lot_uri, parse_item_uri, pgln_uri
from medledger.trace.ledger.registry import LedgerChange, apply_registered
from medledger.trace.ledger.rules import (
    PartyKey,
    commissions,
    ilmd_value,
    key_of,
    location_party,
    party_key,
    resolve_parties,
    split_key,
)
from medledger.trace.models import (
    CustodyHop,
    EpcisEvent,
    EventItem,
    GenealogyEdge,
    ItemParty,
    TraceItem,
)
from medledger.trace.repository import ERROR_DECLARATION_SUFFIX


@dataclass(frozen=True)
class StoredEvent:
    """A captured event: its ``epcis_events.id`` and its normalised form."""

    row_id: int
    event: NormalisedEvent


@dataclass
class ProjectionCounts:
    """How many projection rows a batch wrote (for job summaries and the benchmark)."""

    items_created: int = 0
    event_items: int = 0
    edges: int = 0
    edges_retracted: int = 0
    hops: int = 0
    hops_received: int = 0
    events_retracted: int = 0


@dataclass
class _ItemState:
    time: datetime | None = None
    biz_step: str | None = None
    disposition: str | None = None
    biz_location: str | None = None
    holder: PartyKey | None = None
    # Event time of the custody change that set ``holder`` in this capture (None: unchanged).
    holder_time: datetime | None = None
    commissioned: bool = False
    expiry: str | None = None
    lot_uri: str | None = None
    first_row: int | None = None
    # trace_items columns the batch's events set: for the last-state columns the time of
    # the event that set them (a stored item takes only what is not older than its own last
    # event), None for the others.
    changed: dict[str, datetime | None] = field(default_factory=dict)


# trace_items column → _ItemState attribute, for the columns an event's last state sets.
_STATE_FIELDS = {
    "last_event_time": "time",
    "last_biz_step": "biz_step",
    "last_disposition": "disposition",
    "last_biz_location": "biz_location",
}


@dataclass
class _Edge:
    from_uri: str
    to_uri: str
    kind: str
    row_id: int
    quantity: Decimal | None
    retracted_by: int | None = None
    db_id: int | None = None
    joined: int | None = None  # the earlier event of a transformationID join
    ended_by: int | None = None  # the aggregation DELETE that unpacked it
    ended_at: datetime | None = None
    ended_now: bool = False  # ended by this capture (a stored edge then needs an UPDATE)


@dataclass(frozen=True)
class _Transformation:
    """A TransformationEvent's inputs (with quantity) and outputs, for transformationID joins."""

    row_id: int
    inputs: list[tuple[str, Decimal | None]]
    outputs: list[str]


@dataclass
class _Hop:
    item_uri: str
    from_party: int | None
    to_party: int | None
    from_ref: str | None
    to_ref: str | None
    quantity: Decimal | None
    ship_row: int
    shipped_at: datetime
    receive_row: int | None = None
    received_at: datetime | None = None
    db_id: int | None = None
    to_key: PartyKey | None = None  # the consignee as a receipt names it


# --- the projector --------------------------------------------------------------------------


def _quantity_roles(event: NormalisedEvent) -> list[tuple[str, tuple[QuantityElement, ...]]]:
    return [
        ("quantity", event.quantity_list),
        ("child_quantity", event.child_quantity_list),
        ("input_quantity", event.input_quantity_list),
        ("output_quantity", event.output_quantity_list),
    ]


def event_identifiers(event: NormalisedEvent) -> list[tuple[str, str, Decimal | None, str | None]]:
    """(uri, role, quantity, uom) of every identifier the event names."""
    named: list[tuple[str, str, Decimal | None, str | None]] = []
    if event.parent_id:
        named.append((event.parent_id, "parent", None, None))
    for role, values in (
        ("epc", event.epc_list),
        ("child", event.child_epcs),
        ("input", event.input_epc_list),
        ("output", event.output_epc_list),
    ):
        if values:
            named.extend([(uri, role, None, None) for uri in values])
    for role, elements in _quantity_roles(event):
        if elements:
            named.extend([(q.epc_class, role, q.quantity, q.uom) for q in elements])
    return named


_TRANSFORMATION_ROLES = ("input", "input_quantity", "output", "output_quantity")


def _latest(
    biz_step: str | None, disposition: str | None, biz_location: str | None
) -> tuple[list[tuple[str, Any]], list[str]]:
    """(``_ItemState`` attribute, value) pairs a newer event sets on its items, and the
    ``trace_items`` columns they change (the event time always). The holder is not among
    them: it changes only where custody changes (:meth:`_Projector.take_custody`)."""
    latest: list[tuple[str, Any]] = [("last_event_time", None)]
    for column, value in (
        ("last_biz_step", biz_step),
        ("last_disposition", disposition),
        ("last_biz_location", biz_location),
    ):
        if value is not None:
            latest.append((column, value))
    fields = [(_STATE_FIELDS[column], value) for column, value in latest[1:]]
    return fields, [column for column, _ in latest]


class _Projector:
    def __init__(
        self, session: Session, tenant_id: int, party_id: int, hub_party_id: int | None
    ) -> None:
        self.session = session
        self.connection = session.connection()
        self.tenant_id = tenant_id
        self.party_id = party_id
        # The hub records custody on its partners' behalf; a partner's own events change
        # custody only along the chain (see ``take_custody``).
        self.trusted = hub_party_id is not None and party_id == hub_party_id
        # Holders stored before this capture, of the items whose custody rules ask for it.
        self.stored_holders: dict[str, PartyKey | None] = {}
        self.counts = ProjectionCounts()
        self.states: dict[str, _ItemState] = {}
        self.item_ids: dict[str, int] = {}
        self.event_item_rows: list[tuple[int, str, str, Decimal | None, str | None]] = []
        self.edges: list[_Edge] = []
        self.hops: list[_Hop] = []
        # Indexes over the two lists above, so each event looks only at its own items.
        self.aggregated_into: dict[str, list[_Edge]] = {}
        self.hops_of: dict[str, list[_Hop]] = {}
        # transformationID → its events so far (database first, then the batch's), in order.
        self.transformations: dict[str, list[_Transformation]] = {}
        self.involvement: dict[tuple[str, int], str] = {}
        self.declarations: list[tuple[int, str]] = []
        self.existing_rows: dict[str, dict[str, Any]] = {}
        self.uri_keys: dict[str, dict[str, Any]] = {}
        # What earlier batches preloaded (aggregation parents, received items,
        # transformationIDs), the parties their GLNs name and the event rows they brought.
        self.preloaded_parents: set[str] = set()
        self.preloaded_received: set[str] = set()
        self.preloaded_transformations: set[str] = set()
        self.parties: dict[str, int] = {}
        self.glns: set[str] = set()
        self.batch_rows: set[int] = set()
        self.latest_of: dict[tuple[Any, ...], tuple[list[tuple[str, Any]], list[str]]] = {}

    # -- collection (pure, in document order) --

    def keys_of(self, uri: str) -> dict[str, Any]:
        """:func:`parse_item_uri`, once per identifier of the batch (read-only result)."""
        keys = self.uri_keys.get(uri)
        if keys is None:
            keys = self.uri_keys[uri] = parse_item_uri(uri)
        return keys

    def state(self, uri: str, row_id: int) -> _ItemState:
        state = self.states.get(uri)
        if state is None:
            state = self.states[uri] = _ItemState(first_row=row_id)
        return state

    def involve(self, uri: str, party: int | None, relation: str) -> None:
        if party is not None:
            self.involvement.setdefault((uri, party), relation)

    def collect(self, stored: StoredEvent, parties: dict[str, int]) -> None:
        event, row_id = stored.event, stored.row_id
        named = event_identifiers(event)
        states = self.states
        rows = self.event_item_rows
        for uri, role, quantity, uom in named:
            if uri not in states:
                states[uri] = _ItemState(first_row=row_id)
            rows.append((row_id, uri, role, quantity, uom))
        uris = list(dict.fromkeys([entry[0] for entry in named]))
        if event.error_declaration is not None:
            # A declaration changes no custody and gives access to nothing.
            self.declarations.append((row_id, event.event_id))
            return
        self.update_states(event, uris, row_id)
        biz_step = event.biz_step
        if biz_step == "shipping":
            self.ship(event, uris, row_id, parties)
        elif biz_step == "receiving":
            self.receive(event, uris, row_id, parties)
        elif event.event_type == "TransformationEvent" or commissions(
            event.event_type, event.action, biz_step
        ):
            self.commission(event, row_id, parties)
        if event.event_type == "TransformationEvent":
            self.transformation(event, row_id)
        elif event.event_type == "AggregationEvent" and event.parent_id:
            self.aggregation(event, row_id)

    # -- custody: who holds an item, and who may read it --

    def holder_of(self, uri: str) -> PartyKey | None:
        """The item's holder as of the events collected so far."""
        state = self.states.get(uri)
        if state is not None and state.holder_time is not None:
            return state.holder
        if uri in self.stored_holders:
            return self.stored_holders[uri]
        row = self.existing_rows.get(uri)
        return key_of(row["holder_party_id"], row["holder_gln"]) if row else None

    def take_custody(self, uri: str, holder: PartyKey, at: datetime, row_id: int) -> None:
        """``holder`` holds the item from ``at`` (a receipt or a commissioning), and may read
        it from then on. A custody change older than one already collected is history."""
        state = self.state(uri, row_id)
        if state.holder_time is None or at >= state.holder_time:
            state.holder, state.holder_time = holder, at
            state.changed["holder_party_id"] = at
        if isinstance(holder, int):
            self.involvement.setdefault((uri, holder), "holder")

    def ship(
        self, event: NormalisedEvent, uris: list[str], row_id: int, parties: dict[str, int]
    ) -> None:
        """A shipment opens a hop per item towards its destination; the holder stays until the
        receipt. The sender is the source the event names, else the item's holder (never the
        capturer for lack of a source). Only a shipment the hub recorded, or one by the
        item's holder, lets the sender and consignee read the item."""
        from_key, from_ref = party_key(event.source_list, parties)
        to_key, to_ref = party_key(event.destination_list, parties)
        quantities: dict[str, Decimal | None] = {}
        if to_ref is not None:
            quantities = {q.epc_class: q.quantity for q in event.quantity_list}
            quantities.update({q.epc_class: q.quantity for q in event.child_quantity_list})
        involvement = self.involvement
        for uri in uris:
            sender, sender_ref = from_key, from_ref
            if sender is None:
                sender = self.holder_of(uri)
                if isinstance(sender, str):
                    sender_ref = pgln_uri(sender)
            if self.trusted or self.holder_of(uri) == self.party_id:
                if isinstance(sender, int):
                    involvement.setdefault((uri, sender), "shipper")
                if isinstance(to_key, int):
                    involvement.setdefault((uri, to_key), "consignee")
            if to_ref is not None:
                from_id, _ = split_key(sender)
                to_id, _ = split_key(to_key)
                self.add_hop(
                    _Hop(
                        uri,
                        from_id,
                        to_id,
                        sender_ref,
                        to_ref,
                        quantities.get(uri),
                        row_id,
                        event.event_time,
                        to_key=to_key,
                    )
                )

    def receive(
        self, event: NormalisedEvent, uris: list[str], row_id: int, parties: dict[str, int]
    ) -> None:
        """A receipt closes the oldest open hop of each item towards the receiver (its
        destination, else the party owning its bizLocation, else that location's GLN) and
        makes the receiver the holder of the item and of everything packed in it — when it
        closes a shipment to the receiver, or the hub recorded it."""
        receiver, _ref = party_key(event.destination_list, parties)
        if receiver is None:
            receiver = location_party(event.biz_location, parties)
        if receiver is None:
            return  # nothing says who received it: custody does not move
        at = event.event_time
        for uri in uris:
            closed = False
            # The oldest open hop of the item towards the receiver.
            for hop in self.hops_of.get(uri, ()):
                if hop.receive_row is None and hop.to_key == receiver:
                    hop.receive_row, hop.received_at = row_id, at
                    closed = True
                    break
            if closed or self.trusted:
                self.take_custody(uri, receiver, at, row_id)
                for content in self.contents(uri):
                    self.take_custody(content, receiver, at, row_id)

    def commission(self, event: NormalisedEvent, row_id: int, parties: dict[str, int]) -> None:
        """A commissioning (or a transformation) gives the items it creates to the party at
        its bizLocation (else the capturer). A partner cannot create what another party
        holds."""
        party = location_party(event.biz_location, parties)
        if party is None:
            party = self.party_id
        if event.event_type == "TransformationEvent":
            created = [*event.output_epc_list, *(q.epc_class for q in event.output_quantity_list)]
        else:
            created = [*event.epc_list, *(q.epc_class for q in event.quantity_list)]
        for uri in dict.fromkeys(created):
            if not self.trusted and self.holder_of(uri) not in (None, party):
                continue
            self.take_custody(uri, party, event.event_time, row_id)

    def contents(self, container: str) -> list[str]:
        """What is packed in ``container`` now (recursively, active aggregations)."""
        found: list[str] = []
        seen = {container}
        frontier = [container]
        while frontier:
            next_level: list[str] = []
            for parent in frontier:
                for edge in self.aggregated_into.get(parent, ()):
                    if edge.retracted_by is None and edge.ended_by is None:
                        child = edge.from_uri
                        if child not in seen:
                            seen.add(child)
                            found.append(child)
                            next_level.append(child)
            frontier = next_level
        return found

    def update_states(self, event: NormalisedEvent, uris: list[str], row_id: int) -> None:
        commissioning = commissions(event.event_type, event.action, event.biz_step)
        expiry = ilmd_value(event.ilmd, "itemExpirationDate")
        ilmd_lot = ilmd_value(event.ilmd, "lotNumber")
        created: set[str] = set()
        if commissioning or expiry or ilmd_lot:  # otherwise nobody asks what was created
            created.update(event.epc_list, event.output_epc_list)
            created.update(q.epc_class for q in event.quantity_list)
            created.update(q.epc_class for q in event.output_quantity_list)
        # What a newer event sets on each of its items (besides its time), the same for all
        # of them; a stream repeats a few combinations, so each is worked out once.
        shape = (event.biz_step, event.disposition, event.biz_location)
        latest = self.latest_of.get(shape)
        if latest is None:
            latest = self.latest_of[shape] = _latest(*shape)
        latest_fields, latest_columns = latest
        stamp = dict.fromkeys(latest_columns, event.event_time)
        lots_of_gtin: dict[str, str] = {}  # the ILMD lot's URI per GTIN, once per event
        states = self.states
        event_time = event.event_time
        for uri in uris:
            state = states[uri]
            if uri in created:
                if commissioning:
                    state.commissioned = True
                    state.changed["commissioned"] = None
                if expiry:
                    state.expiry = expiry[:10]
                    state.changed["expiry"] = None
                if ilmd_lot and len(ilmd_lot) <= 20:
                    keys = self.keys_of(uri)
                    if keys["kind"] == "serial":
                        gtin = keys["gtin"]
                        named_lot = lots_of_gtin.get(gtin)
                        if named_lot is None:
                            named_lot = lots_of_gtin[gtin] = lot_uri(gtin, ilmd_lot)
                            self.state(named_lot, row_id)
                        # The first lot a serial is given stays, within a document as
                        # across documents (``write`` keeps a stored one).
                        if state.lot_uri is None:
                            state.lot_uri = named_lot
                            state.changed["lot_item_id"] = None
            if state.time is not None and event_time < state.time:
                continue
            state.time = event_time
            for name, value in latest_fields:
                setattr(state, name, value)
            state.changed.update(stamp)

    def transformation(self, event: NormalisedEvent, row_id: int) -> None:
        """Every input into every output; with a transformationID, also joined with the
        earlier events of that id (EPCIS 2.0 §7.4.6: together they are one transformation)."""
        inputs: list[tuple[str, Decimal | None]] = [(uri, None) for uri in event.input_epc_list]
        inputs += [(q.epc_class, q.quantity) for q in event.input_quantity_list]
        outputs = list(event.output_epc_list) + [q.epc_class for q in event.output_quantity_list]
        for source, quantity in inputs:
            for target in outputs:
                self.add_edge(_Edge(source, target, "transformation", row_id, quantity))
        if event.transformation_id is None:
            return
        current = _Transformation(row_id, inputs, outputs)
        group = self.transformations.setdefault(event.transformation_id, [])
        for earlier in group:
            self.join(earlier, current)
            self.join(current, earlier)
        group.append(current)

    def join(self, first: _Transformation, second: _Transformation) -> None:
        """Edges from ``first``'s inputs into ``second``'s outputs, attributed to the later
        event and naming the earlier one (``joined``), so retracting either retracts them.
        A pair one of the two events links by itself (the input is also ``second``'s, or the
        output also ``first``'s) already has that event's edge, which lives at least as long."""
        later = max(first.row_id, second.row_id)
        earlier = min(first.row_id, second.row_id)
        second_inputs = {uri for uri, _ in second.inputs}
        first_outputs = set(first.outputs)
        for source, quantity in first.inputs:
            if source in second_inputs:
                continue
            for target in second.outputs:
                if target not in first_outputs:
                    edge = _Edge(source, target, "transformation", later, quantity, joined=earlier)
                    self.add_edge(edge)

    def aggregation(self, event: NormalisedEvent, row_id: int) -> None:
        parent = event.parent_id
        assert parent is not None
        children: list[tuple[str, Decimal | None]] = [(uri, None) for uri in event.child_epcs]
        children += [(q.epc_class, q.quantity) for q in event.child_quantity_list]
        active = [
            edge
            for edge in self.aggregated_into.get(parent, ())
            if edge.retracted_by is None and edge.ended_by is None
        ]
        if event.action == "DELETE":
            # Unpacking ends the containment; it stays in history (recall scope walks it).
            wanted = {uri for uri, _ in children}
            for edge in active:
                if not wanted or edge.from_uri in wanted:
                    edge.ended_by, edge.ended_at, edge.ended_now = row_id, event.event_time, True
            return
        if event.action == "ADD" and self.holder_of(parent) is None:
            # A container nobody holds yet is held by the party that packs it.
            packer = location_party(event.biz_location, self.parties)
            self.take_custody(
                parent, self.party_id if packer is None else packer, event.event_time, row_id
            )
        present = {edge.from_uri for edge in active}
        for child, quantity in children:
            if child not in present:
                self.add_edge(_Edge(child, parent, "aggregation", row_id, quantity))

    def add_edge(self, edge: _Edge) -> None:
        self.edges.append(edge)
        if edge.kind == "aggregation":
            self.aggregated_into.setdefault(edge.to_uri, []).append(edge)

    def add_hop(self, hop: _Hop) -> None:
        self.hops.append(hop)
        self.hops_of.setdefault(hop.item_uri, []).append(hop)

    # -- preloading what already is in the database --

    def preload(self, events: Sequence[StoredEvent]) -> None:
        """Put active aggregation edges and open hops of the batch's items in front of the
        in-memory lists, so the collection pass sees them in order (one query per kind).

        Only what no earlier batch preloaded: an item's in-memory edges and hops can only
        come from an event that preloaded it first (an aggregation of that parent, a
        receipt of that item), except hops opened by shipments, in front of which the
        stored hops go."""
        parents = sorted(
            {
                s.event.parent_id
                for s in events
                if s.event.event_type == "AggregationEvent" and s.event.parent_id
            }
            - self.preloaded_parents
        )
        received = sorted(
            {
                uri
                for s in events
                if s.event.biz_step == "receiving"
                for uri, *_ in event_identifiers(s.event)
            }
            - self.preloaded_received
        )
        self.preload_holders(events)
        self.preloaded_received.update(received)
        # A received container hands its contents over too: what is packed in it (and in
        # what is packed in it) is preloaded like an aggregation parent.
        parents = sorted(set(parents) | (set(received) - self.preloaded_parents))
        self.preloaded_parents.update(parents)
        if not parents and not received:
            return
        self.intern(sorted(set(parents) | set(received)), create=False)
        by_id = {item_id: uri for uri, item_id in self.item_ids.items()}
        parent_ids = [self.item_ids[uri] for uri in parents if uri in self.item_ids]
        self.preload_containments(parent_ids, by_id, set(received))
        received_ids = [self.item_ids[uri] for uri in received if uri in self.item_ids]
        self.preload_open_hops(received_ids, by_id)

    def preload_containments(
        self, parent_ids: list[int], by_id: dict[int, str], containers: set[str]
    ) -> None:
        """Put the stored active aggregations into ``parent_ids`` in front of the in-memory
        ones; below received ``containers``, level by level down to the last content."""
        level = 0
        while parent_ids and level < 16:
            level += 1
            child_ids = self._preload_containment_level(parent_ids, by_id)
            # Only what a received container holds goes another level down.
            if not containers:
                break
            parent_ids = list(
                dict.fromkeys(
                    child for child in child_ids if by_id[child] not in self.preloaded_parents
                )
            )
            self.preloaded_parents.update(by_id[child] for child in parent_ids)

    def _preload_containment_level(self, parent_ids: list[int], by_id: dict[int, str]) -> list[int]:
        found: list[int] = []
        for chunk in chunks(parent_ids):
            rows = self.session.execute(
                select(
                    GenealogyEdge.id,
                    GenealogyEdge.from_item_id,
                    GenealogyEdge.to_item_id,
                    GenealogyEdge.event_row_id,
                )
                .where(
                    GenealogyEdge.tenant_id == self.tenant_id,
                    GenealogyEdge.kind == "aggregation",
                    GenealogyEdge.retracted_by_event_id.is_(None),
                    GenealogyEdge.ended_by_event_id.is_(None),
                    GenealogyEdge.to_item_id.in_(chunk),
                )
                .order_by(GenealogyEdge.id)
            ).all()
            child_ids = {row.from_item_id for row in rows} - set(by_id)
            if child_ids:
                for uri, item_id in self.session.execute(
                    select(TraceItem.uri, TraceItem.id).where(TraceItem.id.in_(child_ids))
                ):
                    by_id[item_id] = uri
            found.extend(row.from_item_id for row in rows)
            for row in rows:
                self.add_edge(
                    _Edge(
                        by_id[row.from_item_id],
                        by_id[row.to_item_id],
                        "aggregation",
                        row.event_row_id,
                        None,
                        db_id=row.id,
                    )
                )
        return found

    def preload_open_hops(self, received_ids: list[int], by_id: dict[int, str]) -> None:
        """Put the stored open hops of received items in front of the in-memory ones."""
        stored_hops: dict[str, list[_Hop]] = {}
        for chunk in chunks(received_ids):
            for hop_row in self.session.execute(
                select(
                    CustodyHop.id,
                    CustodyHop.item_id,
                    CustodyHop.to_party_id,
                    CustodyHop.to_ref,
                    CustodyHop.ship_event_row_id,
                    CustodyHop.shipped_at,
                )
                .where(
                    CustodyHop.tenant_id == self.tenant_id,
                    CustodyHop.received_at.is_(None),
                    CustodyHop.retracted_by_event_id.is_(None),
                    CustodyHop.item_id.in_(chunk),
                )
                .order_by(CustodyHop.shipped_at, CustodyHop.id)
            ):
                hop = _Hop(
                    by_id[hop_row.item_id],
                    None,
                    hop_row.to_party_id,
                    None,
                    None,
                    None,
                    hop_row.ship_event_row_id or 0,
                    hop_row.shipped_at,
                    db_id=hop_row.id,
                    to_key=key_of(hop_row.to_party_id, hop_row.to_ref),
                )
                self.hops.append(hop)
                stored_hops.setdefault(hop.item_uri, []).append(hop)
        for uri, hops in stored_hops.items():
            self.hops_of[uri] = hops + self.hops_of.get(uri, [])

    def preload_holders(self, events: Sequence[StoredEvent]) -> None:
        """Read the stored holders the custody rules ask for: of items shipped without a
        source (the holder is the sender), and — for a partner's capture — of items it ships
        or commissions (only its own may it). The hub's captures with sources ask nothing."""
        wanted: set[str] = set()
        for stored in events:
            event = stored.event
            if event.error_declaration is not None:
                continue
            if event.biz_step == "shipping":
                if self.trusted and event.source_list:
                    continue
                wanted.update(uri for uri, *_ in event_identifiers(event))
            elif not self.trusted and (
                event.event_type == "TransformationEvent"
                or commissions(event.event_type, event.action, event.biz_step)
            ):
                wanted.update(uri for uri, *_ in event_identifiers(event))
        missing = sorted(wanted - self.stored_holders.keys())
        if not missing:
            return
        self.stored_holders.update(dict.fromkeys(missing))
        for chunk in chunks(missing):
            for uri, party, gln in self.session.execute(
                select(TraceItem.uri, TraceItem.holder_party_id, TraceItem.holder_gln).where(
                    TraceItem.tenant_id == self.tenant_id, TraceItem.uri.in_(chunk)
                )
            ):
                self.stored_holders[uri] = key_of(party, gln)

    def preload_transformations(self, events: Sequence[StoredEvent]) -> None:
        """Start the transformationID groups of the batch with the earlier unretracted
        events of those ids (inputs and outputs from ``event_items``, in capture order)."""
        wanted = sorted(
            {
                s.event.transformation_id
                for s in events
                if s.event.event_type == "TransformationEvent" and s.event.transformation_id
            }
            - self.preloaded_transformations
        )
        self.preloaded_transformations.update(wanted)
        if not wanted:
            return
        batch = self.batch_rows
        members: dict[int, _Transformation] = {}
        for chunk in chunks(wanted):
            for row in self.session.execute(
                select(
                    EpcisEvent.id,
                    EpcisEvent.transformation_id,
                    EventItem.role,
                    EventItem.quantity,
                    TraceItem.uri,
                )
                .join(EventItem, EventItem.event_row_id == EpcisEvent.id)
                .join(TraceItem, TraceItem.id == EventItem.item_id)
                .where(
                    EpcisEvent.tenant_id == self.tenant_id,
                    EpcisEvent.transformation_id.in_(chunk),
                    EpcisEvent.event_type == "TransformationEvent",
                    EpcisEvent.retracted_by_event_id.is_(None),
                    EpcisEvent.event_id.not_like("%" + ERROR_DECLARATION_SUFFIX),
                    EventItem.role.in_(_TRANSFORMATION_ROLES),
                )
                .order_by(EpcisEvent.id, EventItem.id)
            ):
                if row.id in batch:
                    continue
                member = members.get(row.id)
                if member is None:
                    member = members[row.id] = _Transformation(row.id, [], [])
                    self.transformations.setdefault(row.transformation_id, []).append(member)
                if row.role.startswith("input"):
                    member.inputs.append((row.uri, row.quantity))
                else:
                    member.outputs.append(row.uri)
        uris = {uri for m in members.values() for uri in (*m.outputs, *(i for i, _ in m.inputs))}
        self.intern(sorted(uris), create=False)

    # -- writing --

    def intern(self, uris: Sequence[str], *, create: bool = True) -> None:
        """Ids of ``uris`` into ``item_ids``; new items are inserted with their state."""
        missing = [uri for uri in uris if uri not in self.item_ids]
        existing: dict[str, dict[str, Any]] = {}
        for chunk in chunks(missing):
            for row in self.session.execute(
                select(
                    TraceItem.id,
                    TraceItem.uri,
                    TraceItem.last_event_time,
                    TraceItem.commissioned,
                    TraceItem.expiry,
                    TraceItem.lot_item_id,
                    TraceItem.first_event_id,
                    TraceItem.holder_party_id,
                    TraceItem.holder_gln,
                ).where(TraceItem.tenant_id == self.tenant_id, TraceItem.uri.in_(chunk))
            ):
                self.item_ids[row.uri] = row.id
                existing[row.uri] = row._asdict()
        self.existing_rows.update(existing)
        if not create:
            return
        new = [uri for uri in missing if uri not in self.item_ids]
        if not new:
            return
        columns = (
            "tenant_id",
            "uri",
            "kind",
            "gtin",
            "lot",
            "serial",
            "sscc",
            "lot_item_id",
            "first_event_id",
            "commissioned",
            "last_event_time",
            "last_biz_step",
            "last_disposition",
            "last_biz_location",
            "holder_party_id",
            "holder_gln",
            "expiry",
        )
        rows = []
        empty = _ItemState()
        for uri in new:
            state = self.states.get(uri) or empty
            keys = self.keys_of(uri)
            rows.append(
                (
                    self.tenant_id,
                    uri,
                    keys["kind"],
                    keys["gtin"],
                    keys["lot"],
                    keys["serial"],
                    keys["sscc"],
                    self.item_ids.get(state.lot_uri) if state.lot_uri else None,
                    state.first_row,
                    state.commissioned,
                    state.time,
                    state.biz_step,
                    state.disposition,
                    state.biz_location,
                    *split_key(state.holder),
                    state.expiry,
                )
            )
        table = table_of(TraceItem)
        inserted = bulk_insert(
            self.session, table, columns, rows, ignore_conflicts=True, returning=("uri", "id")
        )
        if inserted is None:
            inserted = self.read_ids(new)
        for uri, item_id in inserted:
            self.item_ids[uri] = item_id
        self.counts.items_created += len([uri for uri in new if uri in self.item_ids])
        # Lost a race with a concurrent capture: those rows now exist; treat them as existing.
        lost = [uri for uri in new if uri not in self.item_ids]
        if lost:
            self.intern(lost, create=False)

    def read_ids(self, uris: Sequence[str]) -> list[tuple[str, int]]:
        """(uri, id) of the items among ``uris`` (one indexed ``SELECT … IN`` per chunk)."""
        found: list[tuple[str, int]] = []
        for chunk in chunks(uris):
            found.extend(
                (uri, item_id)
                for uri, item_id in self.connection.execute(
                    select(TraceItem.uri, TraceItem.id).where(
                        TraceItem.tenant_id == self.tenant_id, TraceItem.uri.in_(chunk)
                    )
                )
            )
        return found

    def write(self) -> None:
        """Write what the collected events did: new items (with their state), changed states
        of stored items, event items, edges, hops and involvements."""
        tenant = self.tenant_id
        states = self.states
        # Lots named by serials' ILMD first, so the serials can point at them when inserted.
        self.intern(sorted({state.lot_uri for state in states.values() if state.lot_uri}))
        self.intern(list(states))
        if self.event_item_rows:
            item_ids = self.item_ids
            bulk_insert(
                self.session,
                table_of(EventItem),
                ("tenant_id", "event_row_id", "item_id", "role", "quantity", "uom"),
                [
                    (tenant, row, item_ids[uri], role, quantity, uom)
                    for row, uri, role, quantity, uom in self.event_item_rows
                ],
            )
            self.counts.event_items = len(self.event_item_rows)
        self.write_item_states()
        self.write_edges()
        self.write_hops()
        if self.involvement:
            item_ids = self.item_ids
            bulk_insert(
                self.session,
                table_of(ItemParty),
                ("tenant_id", "item_id", "party_id", "relation", "note"),
                [
                    (tenant, item_ids[uri], party, relation, "")
                    for (uri, party), relation in self.involvement.items()
                ],
                ignore_conflicts=True,
            )

    def write_item_states(self) -> None:
        """Update the stored items whose state the events changed."""
        updates = []
        for uri, row in self.existing_rows.items():
            state = self.states.get(uri)
            if state is None or not state.changed:
                continue
            values: dict[str, Any] = {}
            if state.commissioned and not row["commissioned"]:
                values["commissioned"] = True
            if "expiry" in state.changed and state.expiry != row["expiry"]:
                values["expiry"] = state.expiry
            if state.lot_uri and row["lot_item_id"] is None:
                values["lot_item_id"] = self.item_ids.get(state.lot_uri)
            last = row["last_event_time"]
            if state.time is not None and (last is None or state.time >= last):
                values["last_event_time"] = state.time
            # A column only from an event not older than the item's stored last one.
            for column, value in (
                ("last_biz_step", state.biz_step),
                ("last_disposition", state.disposition),
                ("last_biz_location", state.biz_location),
            ):
                at = state.changed.get(column)
                if at is not None and (last is None or at >= last):
                    values[column] = value
            at = state.changed.get("holder_party_id")
            if at is not None and (last is None or at >= last or row["holder_party_id"] is None):
                values["holder_party_id"], values["holder_gln"] = split_key(state.holder)
            if row["first_event_id"] is None and state.first_row:
                values["first_event_id"] = state.first_row
            if values:
                updates.append({"_id": row["id"], **values})
        # One UPDATE per distinct set of changed columns, each an executemany. The id is
        # bound as "_id" only: a parameter named like a column would be SET too, and
        # rewriting the primary key (even to itself) makes SQLite check every table that
        # references the item, a scan of the tenant's ledger per statement.
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for values in updates:
            groups.setdefault(tuple(sorted(values)), []).append(values)
        table = table_of(TraceItem)
        for columns, rows in groups.items():
            stmt = (
                table.update()
                .where(table.c.id == bindparam("_id"))
                .values({c: bindparam(c) for c in columns if c != "_id"})
            )
            self.connection.execute(stmt, rows)

    def write_edges(self) -> None:
        """Insert the new edges and mark the stored ones a DELETE retracted."""
        new = [edge for edge in self.edges if edge.db_id is None]
        if new:
            item_ids = self.item_ids
            bulk_insert(
                self.session,
                table_of(GenealogyEdge),
                (
                    "tenant_id",
                    "from_item_id",
                    "to_item_id",
                    "kind",
                    "event_row_id",
                    "quantity",
                    "retracted_by_event_id",
                    "joined_event_row_id",
                    "ended_by_event_id",
                    "ended_at",
                ),
                [
                    (
                        self.tenant_id,
                        item_ids[e.from_uri],
                        item_ids[e.to_uri],
                        e.kind,
                        e.row_id,
                        e.quantity,
                        e.retracted_by,
                        e.joined,
                        e.ended_by,
                        e.ended_at,
                    )
                    for e in new
                ],
            )
            self.counts.edges = len(new)
            self.counts.edges_retracted += sum(1 for e in new if e.retracted_by is not None)
        retracted = [e for e in self.edges if e.db_id is not None and e.retracted_by is not None]
        if retracted:
            table = table_of(GenealogyEdge)
            self.connection.execute(
                table.update()
                .where(table.c.id == bindparam("_id"))
                .values(retracted_by_event_id=bindparam("_by")),
                [{"_id": edge.db_id, "_by": edge.retracted_by} for edge in retracted],
            )
            self.counts.edges_retracted += len(retracted)
        ended = [e for e in self.edges if e.db_id is not None and e.ended_now]
        if ended:
            table = table_of(GenealogyEdge)
            self.connection.execute(
                table.update()
                .where(table.c.id == bindparam("_id"))
                .values(ended_by_event_id=bindparam("_by"), ended_at=bindparam("_at")),
                [{"_id": e.db_id, "_by": e.ended_by, "_at": e.ended_at} for e in ended],
            )

    def write_hops(self) -> None:
        """Insert the new hops and close the stored ones a receipt closed."""
        new = [hop for hop in self.hops if hop.db_id is None]
        if new:
            item_ids = self.item_ids
            bulk_insert(
                self.session,
                table_of(CustodyHop),
                (
                    "tenant_id",
                    "item_id",
                    "from_party_id",
                    "to_party_id",
                    "from_ref",
                    "to_ref",
                    "quantity",
                    "ship_event_row_id",
                    "receive_event_row_id",
                    "shipped_at",
                    "received_at",
                    "retracted_by_event_id",
                ),
                [
                    (
                        self.tenant_id,
                        item_ids[h.item_uri],
                        h.from_party,
                        h.to_party,
                        h.from_ref,
                        h.to_ref,
                        h.quantity,
                        h.ship_row,
                        h.receive_row,
                        h.shipped_at,
                        h.received_at,
                        None,
                    )
                    for h in new
                ],
            )
            self.counts.hops = len(new)
            self.counts.hops_received += sum(1 for h in new if h.receive_row)
        closed = [h for h in self.hops if h.db_id is not None and h.receive_row is not None]
        if closed:
            table = table_of(CustodyHop)
            self.connection.execute(
                table.update()
                .where(table.c.id == bindparam("_id"))
                .values(receive_event_row_id=bindparam("_row"), received_at=bindparam("_at")),
                [{"_id": h.db_id, "_row": h.receive_row, "_at": h.received_at} for h in closed],
            )
            self.counts.hops_received += len(closed)


class Projection:
    """The projections of the events of one capture, added batch by batch (just inserted,
    in document order) and written at the end with a handful of bulk statements.

    Collecting a batch works out what it does to the items, edges and hops seen so far,
    so a capture can collect each batch as soon as its rows are in; :meth:`finish` then
    writes everything. The result is the same as collecting all the events at once: a
    batch preloads from the database only what no earlier batch did (see
    ``_Projector.preload``), and corrections are applied at the end."""

    def __init__(self, session: Session, *, tenant_id: int, capturing_party_id: int) -> None:
        hub = session.execute(
            select(Tenant.owner_party_id).where(Tenant.id == tenant_id)
        ).scalar_one_or_none()
        self._projector = _Projector(session, tenant_id, capturing_party_id, hub)
        self._capturing_party_id = capturing_party_id
        self._events: list[StoredEvent] = []

    def add(self, events: Sequence[StoredEvent]) -> None:
        """Collect ``events`` (after those of earlier calls in the document)."""
        if not events:
            return
        self._events.extend(events)
        projector = self._projector
        glns: set[str] = set()
        for stored in events:
            projector.batch_rows.add(stored.row_id)
            event = stored.event
            for value in (
                *(entry.value for entry in event.source_list),
                *(entry.value for entry in event.destination_list),
                # receipts and commissionings fall back on their bizLocation's party
                *((event.biz_location,) if event.biz_location else ()),
            ):
                gln = gln_of(value)
                if gln and gln not in projector.glns:
                    glns.add(gln)
        if glns:
            projector.glns.update(glns)
            projector.parties.update(resolve_parties(projector.session, projector.tenant_id, glns))
        projector.preload(events)
        projector.preload_transformations(events)
        parties = projector.parties
        for stored in events:
            projector.collect(stored, parties)

    def finish(self, *, run_registered: bool = True) -> ProjectionCounts:
        """Write the projections of every event added, then run the projections other
        contexts registered (:mod:`~medledger.trace.ledger.registry`; not when rebuilding
        the trace's own projections); the trace's row counts written."""
        projector = self._projector
        projector.write()
        retracted: list[int] = []
        if projector.declarations:
            retracted = Corrections(
                projector.session,
                projector.tenant_id,
                projector.counts,
                projector.intern,
                projector.item_ids,
            ).apply(projector.declarations)
        if run_registered:
            apply_registered(
                LedgerChange(
                    session=projector.session,
                    tenant_id=projector.tenant_id,
                    capturing_party_id=self._capturing_party_id,
                    events=self._events,
                    retracted_event_row_ids=retracted,
                )
            )
        return projector.counts


def project_events(
    session: Session, *, tenant_id: int, capturing_party_id: int, events: Sequence[StoredEvent]
) -> ProjectionCounts:
    """Write the projections of ``events`` (already inserted, in document order).

    Runs in the caller's transaction with bulk statements; see the module docstring for the
    rules. Returns the row counts written.
    """
    projection = Projection(session, tenant_id=tenant_id, capturing_party_id=capturing_party_id)
    projection.add(events)
    return projection.finish()
