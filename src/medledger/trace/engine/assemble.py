"""Assembly of a trace report from the reached items and their facts (see the package
docstring); the single place where "what a partner may see of a trace" is decided."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from medledger.trace.engine.facts import (
    NONE,
    Gathered,
    HopFacts,
    ItemTable,
    PartyFacts,
    party_key,
    unregistered_gln,
)
from medledger.trace.engine.graph import (
    NO_EDGE,
    NO_EVENT,
    ArcKind,
    Direction,
    IntArray,
    Reach,
)
from medledger.trace.engine.report import (
    Completeness,
    EventLookup,
    EventSource,
    Gap,
    ItemRows,
    Links,
    PartyRef,
    ReportFrame,
    TracedParty,
    TraceReport,
)


@dataclass(frozen=True)
class PartnerScope:
    """Limits a report to what a partner party may see.

    ``visible_item_ids`` are the reached items the party held, shipped, received or captured
    (``item_parties``). The root is always visible (the service refuses to trace an item the
    partner may not see).
    """

    party_id: int
    visible_item_ids: frozenset[int]


def hops_of(
    hops_by_item: Mapping[int, Sequence[HopFacts]], item_ids: Iterable[int]
) -> list[HopFacts]:
    """The hops of the given items, oldest first."""
    found: list[HopFacts] = []
    get = hops_by_item.get
    for item_id in item_ids:
        item_hops = get(item_id)
        if item_hops:
            found.extend(item_hops)
    found.sort(key=lambda hop: hop.id)
    return found


def assemble_report(
    root_item_id: int,
    direction: Direction,
    reaches: Sequence[tuple[Direction, Reach]],
    items: ItemTable,
    hops: Sequence[HopFacts] | Callable[[], Sequence[HopFacts]],
    events: EventSource,
    parties: Mapping[int, PartyFacts],
    scope: PartnerScope | None = None,
    produced_item_ids: frozenset[int] | Callable[[], frozenset[int]] = frozenset(),
    ended_containments: frozenset[tuple[int, int, int]] = frozenset(),
    hub_party_id: int | None = None,
) -> TraceReport:
    """Assemble the report of a trace from the walks and the facts they touch.

    ``items`` must hold the root, every reached item and the lots of reached serials;
    ``hops`` the unretracted custody hops of those items (or a function giving them, called
    only when needed); ``events`` gives event summaries by row (a mapping, or a function of
    the rows wanted); ``parties`` the parties holding reached items, named by those hops, or
    having captured the commissioning of a reached lot.

    Parties' roles: *supplier* shipped an upstream item (or the root) or commissioned an
    upstream lot; *consignee* was shipped a downstream item (or the root); *holder* holds a
    reached item now. A lot neither commissioned nor in ``produced_item_ids`` (outputs of a
    recorded transformation; may be a function, called only when gaps are asked for) is a
    ``no_commissioning`` gap: nothing records where it came from. With ``scope``, the report
    keeps only the items the partner may see, the hops it is a party to, the counterparties
    of those hops and the events linking visible items (see ``docs/trace.md``).

    ``ended_containments``: ``(child, container, packing event row)`` of the aggregations an
    unpacking ended; the walk follows them all the same (recall scope), and each row reached
    through a packing arc says whether it holds now.

    Rows are kept as positions in ``items`` (:class:`ReportFrame`); Python columns, objects,
    parties, events and gaps are built on first use.
    """
    visible_items: frozenset[int] | None = None
    own_party: int | None = None
    allowed_parties: set[int] | None = None
    hop_source = hops
    if scope is not None:
        visible_items = scope.visible_item_ids | {root_item_id}
        own_party = scope.party_id
        hops = [
            hop
            for hop in (hop_source() if callable(hop_source) else hop_source)
            if hop.item_id in visible_items and own_party in (hop.from_party_id, hop.to_party_id)
        ]
        allowed_parties = {own_party}
        for hop in hops:
            for key in (
                party_key(hop.from_party_id, hop.from_ref),
                party_key(hop.to_party_id, hop.to_ref),
            ):
                if key is not None:
                    allowed_parties.add(key)
    lookup = EventLookup(events)
    refs: dict[tuple[int | None, str | None], PartyRef | None] = {}

    def party_ref(party_id: int | None, ref: str | None = None) -> PartyRef | None:
        key = (party_id, ref)
        if key not in refs:
            refs[key] = _party_ref(party_id, ref)
        return refs[key]

    def _party_ref(party_id: int | None, ref: str | None) -> PartyRef | None:
        key = party_key(party_id, ref)
        if key is None:
            return PartyRef(None, None, ref) if ref else None
        if allowed_parties is not None and key not in allowed_parties:
            return None
        gln = unregistered_gln(key)
        if gln is not None:
            return PartyRef(gln, None)  # known by its GLN, not registered
        facts = parties.get(key)
        return PartyRef(facts.gln, facts.name) if facts else PartyRef(None, None, ref)

    # The rows of the report, as columns: root, then each side in walk order.
    side_names = ["root"]
    ids_parts = [np.array([root_item_id], dtype=np.int64)]
    depth_parts = [np.zeros(1, dtype=np.int32)]
    parent_parts = [np.array([NO_EDGE], dtype=np.int64)]
    via_row_parts = [np.array([NO_EVENT], dtype=np.int64)]
    via_kind_parts = [np.array([NONE], dtype=np.int8)]
    for side, reach in reaches:
        keep: Any = slice(None)
        if visible_items is not None:
            keep = np.isin(reach.item_ids, np.fromiter(visible_items, dtype=np.int64))
        ids_parts.append(reach.item_ids[keep])
        depth_parts.append(reach.depth[keep])
        parent_parts.append(reach.parent_item_ids[keep])
        via_row_parts.append(reach.via_event_row_ids[keep])
        via_kind_parts.append(reach.via_kind[keep])
        side_names.append(side.value)
    counts = [part.size for part in ids_parts]
    table_rows = items.rows_of(np.concatenate(ids_parts))
    directions: list[str] = []
    for name, count in zip(side_names, counts, strict=True):
        directions.extend([name] * count)
    holder_ids = set(items.holder_party_id[table_rows].tolist())
    holder_refs: dict[int | None, PartyRef | None] = {
        (None if party == NONE else party): party_ref(None if party == NONE else party)
        for party in holder_ids
    }
    depth = np.concatenate(depth_parts)
    frame = ReportFrame(items, table_rows, directions, depth, holder_refs)

    def make_rows() -> tuple[ItemRows, Gathered]:
        facts = items.gather(table_rows)
        row_ids = facts.ids
        uri_of = dict(zip(row_ids, facts.uri, strict=True))
        parents = np.concatenate(parent_parts).tolist()
        if visible_items is None:
            parent_visible = [parent != NO_EDGE for parent in parents]
        else:
            parent_visible = [parent != NO_EDGE and parent in visible_items for parent in parents]
        parent_uris = [
            uri_of.get(parent) if shown else None
            for parent, shown in zip(parents, parent_visible, strict=True)
        ]
        via_rows = [
            row if shown and row != NO_EVENT else None
            for row, shown in zip(
                np.concatenate(via_row_parts).tolist(), parent_visible, strict=True
            )
        ]
        via_names = [
            ArcKind.NAMES[kind] if shown and kind != NONE else None
            for kind, shown in zip(
                np.concatenate(via_kind_parts).tolist(), parent_visible, strict=True
            )
        ]
        containment: list[str | None] = [None] * len(parents)
        if any(name == ArcKind.NAMES[ArcKind.AGGREGATION] for name in via_names):
            for k, (name, parent, row) in enumerate(zip(via_names, parents, via_rows, strict=True)):
                if name != ArcKind.NAMES[ArcKind.AGGREGATION] or row is None:
                    continue
                item = row_ids[k]
                # Downstream a child reaches its container, upstream a container its contents.
                pair = (parent, item) if directions[k] == "downstream" else (item, parent)
                ended = (*pair, row) in ended_containments
                containment[k] = "ended" if ended else "current"
        kinds = facts.kind
        keys = facts.key
        inspections = [
            kind == "lot" and where == "upstream"
            for kind, where in zip(kinds, directions, strict=True)
        ]
        inspections[0] = direction is not Direction.DOWNSTREAM and kinds[0] == "lot"
        rows = ItemRows(
            ids=row_ids,
            uri=facts.uri,
            kind=kinds,
            gtin=facts.gtin,
            lot=frame.lot_names(),
            serial=[
                key if kind == "serial" else None for kind, key in zip(kinds, keys, strict=True)
            ],
            sscc=[key if kind == "sscc" else None for kind, key in zip(kinds, keys, strict=True)],
            direction=directions,
            depth=depth.tolist(),
            parent_uri=parent_uris,
            via_event_row=via_rows,
            via=via_names,
            holder=[holder_refs[party] for party in facts.holder_party_id],
            location=facts.last_biz_location,
            disposition=facts.last_disposition,
            last_event_time=facts.last_event_time,
            commissioned=facts.commissioned,
            inspections=inspections,
            events=lookup,
            containment=containment,
        )
        return rows, facts

    built: list[tuple[ItemRows, Gathered]] = []

    def rows_and_facts() -> tuple[ItemRows, Gathered]:
        if not built:
            built.append(make_rows())
        return built[0]

    def links() -> Links:
        rows, facts = rows_and_facts()
        return _links(
            root_item_id,
            direction,
            reaches,
            rows,
            facts,
            ids_parts,
            hops() if callable(hops) else hops,
            lookup,
            party_ref,
            holder_refs,
            scope,
            produced_item_ids() if callable(produced_item_ids) else produced_item_ids,
            hub_party_id,
        )

    return TraceReport(
        frame=frame,
        build_rows=lambda: rows_and_facts()[0],
        direction=direction,
        links=links,
        scoped_to_party=scope is not None,
    )


def _links(
    root_item_id: int,
    direction: Direction,
    reaches: Sequence[tuple[Direction, Reach]],
    rows: ItemRows,
    facts: Gathered,
    ids_parts: list[IntArray],
    hops: Sequence[HopFacts],
    lookup: EventLookup,
    party_ref: Callable[..., PartyRef | None],
    holder_refs: Mapping[int | None, PartyRef | None],
    scope: PartnerScope | None,
    produced_item_ids: frozenset[int],
    hub_party_id: int | None = None,
) -> Links:
    """Parties, linking events and gaps of a report (see :func:`assemble_report`)."""
    own_party = scope.party_id if scope is not None else None
    upstream_ids: set[int] = {root_item_id}
    downstream_ids: set[int] = {root_item_id}
    for (side, _), part in zip(reaches, ids_parts[1:], strict=True):
        (upstream_ids if side is Direction.UPSTREAM else downstream_ids).update(part.tolist())
    traced_hops = sorted(
        (
            hop
            for hop in hops
            if (direction is not Direction.DOWNSTREAM and hop.item_id in upstream_ids)
            or (direction is not Direction.UPSTREAM and hop.item_id in downstream_ids)
        ),
        key=lambda h: h.id,
    )
    kinds = facts.kind
    commissioning_rows = [
        row
        for kind, done, row in zip(kinds, facts.commissioned, facts.first_event_row_id, strict=True)
        if kind == "lot" and done and row is not None
    ]
    hop_rows = {
        row
        for hop in traced_hops
        for row in (hop.ship_event_row_id, hop.receive_event_row_id)
        if row is not None
    }
    events = lookup.get_many(
        [
            *(row for row in rows.via_event_row if row is not None),
            *hop_rows,
            *commissioning_rows,
        ]
    )

    def event_id_of(row_id: int | None) -> str | None:
        event = events.get(row_id) if row_id is not None else None
        return event.event_id if event else None

    walked_events = {row for row in rows.via_event_row if row is not None and row in events}
    traced_parties: dict[tuple[int | None, str | None], TracedParty] = {}
    shipments = shipments_received = lots = lots_with_origin = 0

    def party_entry(party_id: int | None, ref: str | None) -> TracedParty | None:
        reference = party_ref(party_id, ref)
        if reference is None:
            return None
        # One entry per party, however it was named (pgln, sgln of its site, registered id).
        party = party_key(party_id, ref)
        key = (party, None if party is not None else ref)
        entry = traced_parties.get(key)
        if entry is None:
            registered = party if party is not None and party > NONE else None
            entry = TracedParty(registered, reference.gln, reference.name, reference.ref)
            traced_parties[key] = entry
        return entry

    gaps: list[Gap] = []
    uri_of = dict(zip(rows.ids, rows.uri, strict=True))
    for hop in traced_hops:
        quantity = hop.quantity if hop.quantity is not None else 1.0
        going_down = direction is not Direction.UPSTREAM and hop.item_id in downstream_ids
        going_up = direction is not Direction.DOWNSTREAM and hop.item_id in upstream_ids
        sender = party_entry(hop.from_party_id, hop.from_ref)
        if sender is not None:
            sender.quantity_shipped += quantity
            if going_up:
                sender.roles.add("supplier")
        receiver = party_entry(hop.to_party_id, hop.to_ref)
        if receiver is not None:
            if hop.receive_event_row_id is not None:
                receiver.quantity_received += quantity
            if going_down:
                receiver.roles.add("consignee")
        if hop.to_party_id or hop.to_ref:
            shipments += 1
            shipments_received += hop.receive_event_row_id is not None
        if hop.receive_event_row_id is None and (hop.to_party_id or hop.to_ref):
            gaps.append(
                Gap(
                    "unreceived_shipment",
                    uri_of[hop.item_id],
                    party_ref(hop.to_party_id, hop.to_ref),
                    event_id_of(hop.ship_event_row_id),
                    hop.shipped_at,
                )
            )
    for party, reference in holder_refs.items():
        if reference is not None and party is not None:
            holder = party_entry(party, None)
            if holder is not None:
                holder.roles.add("holder")
    commissioning_events: set[int] = set()
    shipped_items = {hop.item_id for hop in traced_hops if hop.from_party_id or hop.from_ref}
    for k, kind in enumerate(kinds):
        if kind != "lot":
            continue
        lots += 1
        if not facts.commissioned[k]:
            if facts.ids[k] in produced_item_ids:
                lots_with_origin += 1
            elif scope is None:
                gaps.append(Gap("no_commissioning", facts.uri[k]))
            continue
        lots_with_origin += 1
        row = facts.first_event_row_id[k]
        event = events.get(row) if row is not None else None
        if event is None:
            continue
        if scope is None or event.capturing_party_id == own_party:
            commissioning_events.add(event.row_id)
        # Whoever captured a lot's commissioning made it and supplied it — except that the
        # hub records commissionings on its partners' behalf: when the hub captured it and
        # the lot was shipped, its shipments name the supplier, not the hub.
        on_behalf = event.capturing_party_id == hub_party_id and facts.ids[k] in shipped_items
        if rows.direction[k] == "upstream" and not on_behalf:
            supplier = party_entry(event.capturing_party_id, None)
            if supplier is not None:
                supplier.roles.add("supplier")
    linked = walked_events | (hop_rows & events.keys()) | commissioning_events
    report_events = sorted(
        (events[row] for row in linked), key=lambda e: (e.event_time, e.event_id)
    )
    report_parties = sorted(
        (party for party in traced_parties.values() if party.roles),
        key=lambda p: (p.gln or p.ref or "", p.name or ""),
    )
    completeness = Completeness(
        shipments,
        shipments_received,
        lots if scope is None else None,
        lots_with_origin if scope is None else None,
    )
    return report_parties, report_events, gaps, completeness
