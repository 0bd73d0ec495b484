"""The trace engine on small hand-built graphs: exact reached sets, trees, reports."""

from __future__ import annotations

import csv
import io
import random
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest

from medledger.trace.engine import (
    ArcKind,
    Direction,
    EventFacts,
    GraphChanges,
    HopFacts,
    ItemFacts,
    ItemTable,
    PartnerScope,
    PartyFacts,
    TraceGraph,
    assemble_report,
    build_graph,
    update_graph,
    walk,
)
from medledger.trace.engine import graph as graph_module
from medledger.trace.engine import report as report_module

T = ArcKind.TRANSFORMATION
A = ArcKind.AGGREGATION


@pytest.fixture(autouse=True, params=["python", "numpy"])
def walk_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test runs with small walks and reports done in plain Python (the default for
    these graphs) and again with every walk and report step vectorised."""
    if request.param == "numpy":
        monkeypatch.setattr(graph_module, "SMALL_WALK_ARCS", -1)
        monkeypatch.setattr(report_module, "SMALL_ROWS", -1)
    return str(request.param)


def graph(
    items: list[int], edges: list[tuple[int, int, int, int]], lots: list[tuple[int, int]] = ()
) -> TraceGraph:  # type: ignore[assignment]
    """Edges as (from, to, event row, kind); lots as (lot, serial)."""
    return build_graph(
        items,
        [e[0] for e in edges],
        [e[1] for e in edges],
        [e[2] for e in edges],
        [e[3] for e in edges],
        [pair[0] for pair in lots],
        [pair[1] for pair in lots],
    )


def reached(g: TraceGraph, root: int, direction: Direction) -> dict[int, int]:
    reach = walk(g, root, direction)
    return dict(zip(reach.item_ids.tolist(), reach.depth.tolist(), strict=True))


def test_diamond_reaches_each_item_once_at_its_smallest_depth() -> None:
    # given 1 → 2 → 4, 1 → 3 → 4, 4 → 5
    g = graph(
        [1, 2, 3, 4, 5], [(1, 2, 10, T), (1, 3, 11, T), (2, 4, 12, T), (3, 4, 13, T), (4, 5, 14, A)]
    )
    # when / then
    assert reached(g, 1, Direction.DOWNSTREAM) == {2: 1, 3: 1, 4: 2, 5: 3}
    assert reached(g, 5, Direction.UPSTREAM) == {4: 1, 2: 2, 3: 2, 1: 3}
    assert reached(g, 4, Direction.DOWNSTREAM) == {5: 1}
    assert reached(g, 4, Direction.UPSTREAM) == {2: 1, 3: 1, 1: 2}


def test_breadth_first_tree_records_parent_event_and_arc_kind() -> None:
    g = graph([1, 2, 3, 4], [(1, 2, 10, T), (2, 3, 11, T), (1, 4, 12, A)])
    reach = walk(g, 1, Direction.DOWNSTREAM)
    rows = list(
        zip(
            reach.item_ids.tolist(),
            reach.parent_item_ids.tolist(),
            reach.via_event_row_ids.tolist(),
            reach.via_kind.tolist(),
            strict=True,
        )
    )
    assert sorted(rows) == [(2, 1, 10, T), (3, 2, 11, T), (4, 1, 12, A)]


def test_cycles_terminate_and_never_revisit_the_root() -> None:
    g = graph([1, 2, 3], [(1, 2, 10, T), (2, 3, 11, T), (3, 1, 12, T), (2, 2, 13, T)])
    assert reached(g, 1, Direction.DOWNSTREAM) == {2: 1, 3: 2}
    assert reached(g, 1, Direction.UPSTREAM) == {3: 1, 2: 2}


def test_lot_membership_reaches_serials_downstream_and_the_lot_upstream() -> None:
    # given lot 1 with serials 2, 3; serial 2 packed in SSCC 4; component lot 5 went into lot 1
    g = graph([1, 2, 3, 4, 5], [(2, 4, 20, A), (5, 1, 21, T)], lots=[(1, 2), (1, 3)])
    assert reached(g, 1, Direction.DOWNSTREAM) == {2: 1, 3: 1, 4: 2}
    assert reached(g, 4, Direction.UPSTREAM) == {2: 1, 1: 2, 5: 3}
    assert reached(g, 5, Direction.DOWNSTREAM) == {1: 1, 2: 2, 3: 2, 4: 3}


def test_unknown_root_or_isolated_item_reaches_nothing() -> None:
    g = graph([1, 2], [(1, 2, 10, T)])
    assert reached(g, 99, Direction.DOWNSTREAM) == {}
    assert reached(g, 2, Direction.DOWNSTREAM) == {}
    assert reached(graph([], []), 1, Direction.UPSTREAM) == {}


def test_arcs_naming_unknown_items_are_dropped() -> None:
    g = graph([1, 2], [(1, 2, 10, T), (1, 77, 11, T)])
    assert g.arc_count == 1
    assert reached(g, 1, Direction.DOWNSTREAM) == {2: 1}


def test_walk_refuses_both_directions_at_once() -> None:
    with pytest.raises(ValueError):
        walk(graph([1], []), 1, Direction.BOTH)


# --- report assembly ---------------------------------------------------------------------

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
DL = "https://id.gs1.org"
GTIN_C, GTIN_F = "04098760000015", "04098760000022"
HUB, DIST, HOSP, SUPP = 100, 200, 300, 400
PARTIES = {
    HUB: PartyFacts(HUB, "4098760000018", "Hub"),
    DIST: PartyFacts(DIST, "4098760000025", "Distributor"),
    HOSP: PartyFacts(HOSP, "4098760000032", "Hospital"),
    SUPP: PartyFacts(SUPP, "4098760000049", "Supplier"),
}


def lot(
    item_id: int,
    gtin: str,
    number: str,
    *,
    commissioned: bool = True,
    event: int | None = None,
    holder: int | None = HUB,
) -> ItemFacts:
    return ItemFacts(
        item_id,
        f"{DL}/01/{gtin}/10/{number}",
        "lot",
        gtin=gtin,
        lot=number,
        commissioned=commissioned,
        first_event_row_id=event,
        holder_party_id=holder,
        last_biz_location="loc",
        last_disposition="in_progress",
    )


def serial(item_id: int, number: str, lot_id: int, holder: int | None) -> ItemFacts:
    return ItemFacts(
        item_id,
        f"{DL}/01/{GTIN_F}/21/{number}",
        "serial",
        gtin=GTIN_F,
        serial=number,
        lot_item_id=lot_id,
        holder_party_id=holder,
    )


def sscc(item_id: int, number: str, holder: int | None) -> ItemFacts:
    return ItemFacts(item_id, f"{DL}/00/{number}", "sscc", sscc=number, holder_party_id=holder)


def event(row: int, event_type: str, step: str, party: int, minute: int) -> EventFacts:
    return EventFacts(
        row, f"ev-{row}", event_type, "ADD", step, None, NOW.replace(minute=minute), party
    )


# Component lot 1 (supplier commissioned, shipped to hub) → finished lot 2 with serials 3, 4;
# serial 3 packed in SSCC 5 → shipped to distributor (received) → onward to hospital (open);
# serial 4 packed in SSCC 6 shipped to the hospital directly and received.
ITEMS = {
    1: lot(1, GTIN_C, "C1", event=50),
    2: lot(2, GTIN_F, "F1", event=51),
    3: serial(3, "S3", 2, DIST),
    4: serial(4, "S4", 2, HOSP),
    5: sscc(5, "340987600000000016", DIST),
    6: sscc(6, "340987600000000023", HOSP),
}
EVENTS = {
    50: event(50, "ObjectEvent", "commissioning", SUPP, 0),
    51: event(51, "ObjectEvent", "commissioning", HUB, 1),
    52: event(52, "TransformationEvent", "transforming", HUB, 2),
    53: event(53, "AggregationEvent", "packing", HUB, 3),
    54: event(54, "ObjectEvent", "shipping", HUB, 4),
    55: event(55, "ObjectEvent", "receiving", DIST, 5),
    56: event(56, "ObjectEvent", "shipping", DIST, 6),
    57: event(57, "ObjectEvent", "shipping", HUB, 7),
    58: event(58, "ObjectEvent", "receiving", HOSP, 8),
    59: event(59, "ObjectEvent", "shipping", SUPP, 0),
    60: event(60, "ObjectEvent", "receiving", HUB, 1),
}
HOPS = [
    HopFacts(1, 1, SUPP, HUB, quantity=500.0, ship_event_row_id=59, receive_event_row_id=60),
    HopFacts(2, 5, HUB, DIST, ship_event_row_id=54, receive_event_row_id=55),
    HopFacts(3, 5, DIST, HOSP, ship_event_row_id=56, shipped_at=NOW),
    HopFacts(4, 6, HUB, HOSP, ship_event_row_id=57, receive_event_row_id=58),
]
GRAPH = graph(
    [1, 2, 3, 4, 5, 6], [(1, 2, 52, T), (3, 5, 53, A), (4, 6, 53, A)], lots=[(2, 3), (2, 4)]
)


def report(root: int, direction: Direction, scope: PartnerScope | None = None):  # type: ignore[no-untyped-def]
    sides = (
        [Direction.UPSTREAM, Direction.DOWNSTREAM] if direction is Direction.BOTH else [direction]
    )
    reaches = [(side, walk(GRAPH, root, side)) for side in sides]
    return assemble_report(
        root, direction, reaches, ItemTable.from_facts(ITEMS.values()), HOPS, EVENTS, PARTIES, scope
    )


def test_downstream_report_of_a_component_lot() -> None:
    result = report(1, Direction.DOWNSTREAM)
    body = result.to_json()
    assert [lot["lot"] for lot in body["lots"]] == ["F1"]
    assert sorted(s["serial"] for s in body["serials"]) == ["S3", "S4"]
    assert {s["serial"]: s["lot"] for s in body["serials"]} == {"S3": "F1", "S4": "F1"}
    assert sorted(u["sscc"] for u in body["logistic_units"]) == [
        "340987600000000016",
        "340987600000000023",
    ]
    parties = {p["name"]: (p["roles"], p["quantity_received"]) for p in body["parties"]}
    assert parties == {
        "Hub": (["holder", "consignee"], 500),
        "Distributor": (["holder", "consignee"], 1),
        "Hospital": (["holder", "consignee"], 1),
    }
    assert [(g["kind"], g["uri"], g["party"]["name"]) for g in body["gaps"]] == [
        ("unreceived_shipment", f"{DL}/00/340987600000000016", "Hospital")
    ]
    assert [e["eventID"] for e in body["events"]] == [
        "ev-50",
        "ev-59",
        "ev-51",
        "ev-60",
        "ev-52",
        "ev-53",
        "ev-54",
        "ev-55",
        "ev-56",
        "ev-57",
        "ev-58",
    ]
    assert body["counts"] == {
        "lots": 1,
        "serials": 2,
        "logistic_units": 2,
        "upstream": 0,
        "downstream": 5,
        "parties": 3,
        "events": 11,
        "gaps": 1,
    }


def test_upstream_report_of_an_sscc_names_suppliers_and_empty_inspections() -> None:
    body = report(6, Direction.UPSTREAM).to_json()
    assert [(lot["lot"], lot["inspections"]) for lot in body["lots"]] == [("F1", []), ("C1", [])]
    assert [s["serial"] for s in body["serials"]] == ["S4"]
    roles = {p["name"]: p["roles"] for p in body["parties"]}
    assert roles == {
        "Supplier": ["supplier"],
        "Hub": ["supplier", "holder"],
        "Hospital": ["holder"],
    }
    assert body["gaps"] == []


def test_lot_without_commissioning_is_a_gap() -> None:
    items = {**ITEMS, 1: lot(1, GTIN_C, "C1", commissioned=False)}
    reaches = [(Direction.DOWNSTREAM, walk(GRAPH, 1, Direction.DOWNSTREAM))]
    table = ItemTable.from_facts(items.values())
    result = assemble_report(1, Direction.DOWNSTREAM, reaches, table, HOPS, EVENTS, PARTIES)
    assert [(g.kind, g.uri) for g in result.gaps if g.kind == "no_commissioning"] == [
        ("no_commissioning", f"{DL}/01/{GTIN_C}/10/C1")
    ]


def test_both_directions_split_items_by_side() -> None:
    result = report(2, Direction.BOTH)
    sides = {(item.direction, item.uri.rsplit("/", 1)[-1]) for item in result.items}
    assert sides == {
        ("upstream", "C1"),
        ("downstream", "S3"),
        ("downstream", "S4"),
        ("downstream", "340987600000000016"),
        ("downstream", "340987600000000023"),
    }
    assert result.root.inspections == []


def test_partner_scope_keeps_own_items_hops_and_counterparties_only() -> None:
    # given the distributor was involved with the finished lot's SSCC 5 and serial 3 only
    scope = PartnerScope(DIST, frozenset({5, 3, 2}))
    body = report(2, Direction.DOWNSTREAM, scope).to_json()
    assert [s["serial"] for s in body["serials"]] == ["S3"]
    assert [u["sscc"] for u in body["logistic_units"]] == ["340987600000000016"]
    # the hub is a counterparty (it shipped to the distributor); the supplier is not
    assert {p["name"]: p["roles"] for p in body["parties"]} == {
        "Hub": ["holder"],
        "Distributor": ["holder", "consignee"],
        "Hospital": ["consignee"],
    }
    assert [g["uri"] for g in body["gaps"]] == [f"{DL}/00/340987600000000016"]
    # the hub's direct shipment to the hospital and the lot's commissioning stay hidden
    assert [e["eventID"] for e in body["events"]] == ["ev-53", "ev-54", "ev-55", "ev-56"]
    assert body["item"]["holder"] == {"gln": "4098760000018", "name": "Hub"}
    assert body["scoped_to_party"] is True


def test_listing_has_one_row_per_item_with_last_holder() -> None:
    rows = report(2, Direction.DOWNSTREAM).listing()
    assert rows[0][:3] == ["direction", "depth", "kind"]
    by_uri = {row[7].rsplit("/", 1)[-1]: (row[0], row[2], row[8], row[9]) for row in rows[1:]}
    assert by_uri == {
        "F1": ("root", "lot", "4098760000018", "Hub"),
        "S3": ("downstream", "serial", "4098760000025", "Distributor"),
        "S4": ("downstream", "serial", "4098760000032", "Hospital"),
        "340987600000000016": ("downstream", "sscc", "4098760000025", "Distributor"),
        "340987600000000023": ("downstream", "sscc", "4098760000032", "Hospital"),
    }


def test_csv_listing_text_is_what_the_csv_module_writes() -> None:
    # given a holder whose name needs quoting
    parties = {**PARTIES, HUB: PartyFacts(HUB, "4098760000018", 'Hub, "North" site')}
    reaches = [(Direction.DOWNSTREAM, walk(GRAPH, 2, Direction.DOWNSTREAM))]
    table = ItemTable.from_facts(ITEMS.values())
    result = assemble_report(2, Direction.DOWNSTREAM, reaches, table, HOPS, EVENTS, parties)
    # when / then
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(result.listing())
    assert result.listing_csv() == buffer.getvalue()
    assert '"Hub, ""North"" site"' in result.listing_csv()


def test_csv_listing_after_a_merge_is_the_listing_of_a_fresh_table() -> None:
    # given a table (without serial 4; lot 2 then named "OLD") whose listing fragments were
    # cached by a first listing
    def listing(table: ItemTable, root: int, direction: Direction) -> str:
        reaches = [(direction, walk(GRAPH, root, direction))]
        return assemble_report(root, direction, reaches, table, HOPS, EVENTS, PARTIES).listing_csv()

    before = [replace(ITEMS[2], lot="OLD", uri=f"{DL}/01/{GTIN_F}/10/OLD")]
    before += [ITEMS[k] for k in (1, 3, 5, 6)]
    table = ItemTable.from_facts(before)
    assert "/10/OLD" in listing(table, 5, Direction.UPSTREAM)
    # when the lot is renamed (serial 3's row is unchanged but shows its lot), SSCC 5 changes
    # holder and serial 4 is added
    moved = sscc(5, "340987600000000016", HOSP)
    newer = ItemTable.from_facts([ITEMS[2], moved, ITEMS[4]], table.vocabulary)
    merged = table.merged(newer)
    # then every listing is what a table built from scratch gives
    fresh = ItemTable.from_facts({**ITEMS, 5: moved}.values())
    for root, direction in ((5, Direction.UPSTREAM), (1, Direction.DOWNSTREAM)):
        assert listing(merged, root, direction) == listing(fresh, root, direction)
    assert "OLD" not in listing(merged, 1, Direction.DOWNSTREAM)


def test_updated_graph_walks_like_a_graph_built_from_scratch() -> None:
    # given the graph of 1 → 2 (lot 2 with serials 3, 4), 3 → 5, 4 → 6
    before = graph(
        [1, 2, 3, 4, 5, 6],
        [(1, 2, 52, T), (3, 5, 53, A), (4, 6, 53, A)],
        lots=[(2, 3), (2, 4)],
    )
    # when edge 11 (3 → 5) is retracted, item 7 arrives packed with 4 into a new SSCC 8, and
    # item 9 (a lower id than 8, committed late) joins lot 2
    changes = GraphChanges(
        item_ids=np.array([7, 8, 9, 3], dtype=np.int64),
        edge_ids=np.array([11, 20], dtype=np.int64),
        edge_from=np.array([4], dtype=np.int64),
        edge_to=np.array([8], dtype=np.int64),
        edge_event_row_id=np.array([60], dtype=np.int64),
        edge_kind=np.array([A], dtype=np.int8),
        edge_row_id=np.array([20], dtype=np.int64),
        serial_ids=np.array([7, 8, 9, 3], dtype=np.int64),
        lot_ids=np.array([2, 2], dtype=np.int64),
        member_ids=np.array([9, 3], dtype=np.int64),
    )
    numbered = build_graph(
        [1, 2, 3, 4, 5, 6],
        [1, 3, 4],
        [2, 5, 6],
        [52, 53, 53],
        [T, A, A],
        [2, 2],
        [3, 4],
        edge_ids=[10, 11, 12],
    )
    after = update_graph(numbered, changes)
    spliced = update_graph(
        numbered,
        replace(
            changes,
            read_from=np.array([3, 4], dtype=np.int64),
            read_to=np.array([5, 8], dtype=np.int64),
        ),
    )
    # then it walks exactly like the same graph built from scratch
    scratch = graph(
        [1, 2, 3, 4, 5, 6, 7, 8, 9],
        [(1, 2, 52, T), (4, 6, 53, A), (4, 8, 60, A)],
        lots=[(2, 3), (2, 4), (2, 9)],
    )
    for root in range(1, 10):
        for direction in (Direction.DOWNSTREAM, Direction.UPSTREAM):
            expected = reached(scratch, root, direction)
            assert reached(after, root, direction) == expected
            assert reached(spliced, root, direction) == expected
    assert before.arc_count == 5 and after.arc_count == spliced.arc_count == scratch.arc_count == 6


def test_item_table_merge_replaces_and_adds_rows_in_id_order() -> None:
    table = ItemTable.from_facts([ITEMS[1], ITEMS[3], ITEMS[5]])
    newer = ItemTable.from_facts(
        [serial(3, "S3", 2, HOSP), sscc(4, "340987600000000030", DIST)], table.vocabulary
    )
    merged = table.merged(newer)
    assert merged.ids.tolist() == [1, 3, 4, 5]
    assert merged.facts(3).holder_party_id == HOSP
    assert merged.facts(4).sscc == "340987600000000030"
    assert merged.facts(4).uri == f"{DL}/00/340987600000000030"
    assert merged.facts(1) == ITEMS[1]


def _csr_arcs(g: TraceGraph) -> list[tuple[int, int, int, int, int, int]]:
    arcs = []
    for name, adjacency in (("down", g.down), ("up", g.up)):
        for row in range(g.node_count):
            for k in range(adjacency.indptr[row], adjacency.indptr[row + 1]):
                arcs.append(
                    (
                        0 if name == "down" else 1,
                        int(g.item_ids[row]),
                        int(g.item_ids[adjacency.neighbour[k]]),
                        int(adjacency.event_row_id[k]),
                        int(adjacency.kind[k]),
                        int(adjacency.edge_id[k]),
                    )
                )
    return sorted(arcs)


@pytest.mark.parametrize("seed", range(25))
def test_spliced_update_equals_a_rebuild_on_random_changes(seed: int) -> None:
    # given a random graph of 40 items, 60 edges and lot memberships
    rng = random.Random(seed)
    items = list(range(1, 41))
    edges = {
        100 + k: (rng.choice(items), rng.choice(items), rng.randrange(1, 9), rng.choice([T, A]))
        for k in range(60)
    }
    lots = {serial: rng.choice(items[:8]) for serial in rng.sample(items[8:], 15)}
    before = build_graph(
        items,
        [e[0] for e in edges.values()],
        [e[1] for e in edges.values()],
        [e[2] for e in edges.values()],
        [e[3] for e in edges.values()],
        list(lots.values()),
        list(lots),
        edge_ids=list(edges),
    )
    # when some edges are retracted or re-read, new items and edges arrive, lots change
    new_items = list(range(41, 41 + rng.randrange(0, 6)))
    all_items = items + new_items
    read = rng.sample(sorted(edges), 10)
    old_ends = [edges[e] for e in read]
    after_edges = dict(edges)
    for edge_id in read:
        if rng.random() < 0.5:
            del after_edges[edge_id]  # retracted
    for k in range(rng.randrange(0, 6)):
        after_edges[200 + k] = (rng.choice(all_items), rng.choice(all_items), 9, rng.choice([T, A]))
        read.append(200 + k)
        old_ends.append(after_edges[200 + k])
    relot = rng.sample(all_items[8:], 5)
    after_lots = dict(lots)
    for serial in relot:
        if rng.random() < 0.5:
            after_lots.pop(serial, None)
        else:
            after_lots[serial] = rng.choice(items[:8])
    active = [e for e in read if e in after_edges]
    members = [s for s in relot if s in after_lots]
    changes = GraphChanges(
        item_ids=np.array(new_items + relot, dtype=np.int64),
        edge_ids=np.array(read, dtype=np.int64),
        edge_from=np.array([after_edges[e][0] for e in active], dtype=np.int64),
        edge_to=np.array([after_edges[e][1] for e in active], dtype=np.int64),
        edge_event_row_id=np.array([after_edges[e][2] for e in active], dtype=np.int64),
        edge_kind=np.array([after_edges[e][3] for e in active], dtype=np.int8),
        edge_row_id=np.array(active, dtype=np.int64),
        serial_ids=np.array(relot, dtype=np.int64),
        lot_ids=np.array([after_lots[s] for s in members], dtype=np.int64),
        member_ids=np.array(members, dtype=np.int64),
        read_from=np.array([end[0] for end in old_ends], dtype=np.int64),
        read_to=np.array([end[1] for end in old_ends], dtype=np.int64),
    )
    rebuilt = build_graph(
        all_items,
        [e[0] for e in after_edges.values()],
        [e[1] for e in after_edges.values()],
        [e[2] for e in after_edges.values()],
        [e[3] for e in after_edges.values()],
        list(after_lots.values()),
        list(after_lots),
        edge_ids=list(after_edges),
    )
    # then both update paths give exactly the rebuilt graph's arcs
    assert _csr_arcs(update_graph(before, changes)) == _csr_arcs(rebuilt)
    assert _csr_arcs(update_graph(before, replace(changes, read_from=None))) == _csr_arcs(rebuilt)


def _reach_rows(g: TraceGraph, root: int, direction: Direction) -> list[tuple[int, ...]]:
    reach = walk(g, root, direction)
    return list(
        zip(
            reach.item_ids.tolist(),
            reach.depth.tolist(),
            reach.parent_item_ids.tolist(),
            reach.via_event_row_ids.tolist(),
            reach.via_kind.tolist(),
            strict=True,
        )
    )


@pytest.mark.parametrize("seed", range(40))
def test_python_and_vectorised_walks_give_the_same_reach_in_the_same_order(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a random graph with parallel arcs, self-loops, cycles and lot membership
    rng = random.Random(seed)
    items = list(range(1, 61))
    edges = [(rng.choice(items), rng.choice(items), 100 + k, rng.choice([T, A])) for k in range(90)]
    edges += edges[:5]  # parallel arcs
    lots = [(lot, serial) for lot, serial in zip(items[:6], items[50:], strict=False)]
    g = graph(items, edges, lots)
    for root in rng.sample(items, 8):
        for direction in (Direction.DOWNSTREAM, Direction.UPSTREAM):
            # when walked in plain Python and vectorised
            monkeypatch.setattr(graph_module, "SMALL_WALK_ARCS", 10_000)
            in_python = _reach_rows(g, root, direction)
            monkeypatch.setattr(graph_module, "SMALL_WALK_ARCS", -1)
            vectorised = _reach_rows(g, root, direction)
            # then every row (item, depth, parent, event, kind) and the order are the same
            assert in_python == vectorised


def test_a_walk_past_the_python_budget_hands_over_to_the_vectorised_walk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a fan-out of 30 arcs and a budget of 10
    g = graph(list(range(1, 32)), [(1, k, k, T) for k in range(2, 32)])
    monkeypatch.setattr(graph_module, "SMALL_WALK_ARCS", 10)
    calls: list[object] = []
    real = graph_module._small_walk

    def spy(*args: object) -> object:
        calls.append(result := real(*args))  # type: ignore[arg-type]
        return result

    monkeypatch.setattr(graph_module, "_small_walk", spy)
    # when / then: the Python walk gives up and the vectorised one answers
    assert reached(g, 1, Direction.DOWNSTREAM) == {k: 1 for k in range(2, 32)}
    assert calls == [None]


def test_listing_fragments_and_times_are_the_same_in_python_and_vectorised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given items whose values need CSV quoting, unknown and fractional times, a serial whose
    # lot is not in the table, a stored non-canonical URI and an "other" item
    odd = {
        1: replace(ITEMS[1], last_biz_location='urn:x:"q",1', last_disposition="a\nb"),
        2: replace(ITEMS[2], lot="F,1", uri=f"{DL}/01/{GTIN_F}/10/F%2C1"),
        3: replace(ITEMS[3], last_event_time=NOW.replace(microsecond=120000)),
        4: replace(ITEMS[4], lot_item_id=99, last_event_time=NOW),
        5: ITEMS[5],
        7: ItemFacts(7, "urn:epc:id:grai:4098760.00001.1", "other", last_event_time=NOW),
    }
    table = ItemTable.from_facts(odd.values())
    rows = np.arange(table.size, dtype=np.int64)
    # when built a line at a time and vectorised
    monkeypatch.setattr(report_module, "SMALL_ROWS", 10_000)
    small = [a.tolist() for a in report_module._item_fragments(table, rows)]
    small_times = report_module._iso_array(table.last_event_time)
    monkeypatch.setattr(report_module, "SMALL_ROWS", -1)
    vectorised = [a.tolist() for a in report_module._item_fragments(table, rows)]
    vectorised_times = report_module._iso_array(table.last_event_time)
    # then the text is the same, and what the csv module writes
    assert small == vectorised
    assert small_times == vectorised_times
    assert small == [
        [
            "lot,04098760000015,C1,,,https://id.gs1.org/01/04098760000015/10/C1,",
            'lot,04098760000022,"F,1",,,https://id.gs1.org/01/04098760000022/10/F%2C1,',
            'serial,04098760000022,"F,1",S3,,https://id.gs1.org/01/04098760000022/21/S3,',
            "serial,04098760000022,,S4,,https://id.gs1.org/01/04098760000022/21/S4,",
            "sscc,,,,340987600000000016,https://id.gs1.org/00/340987600000000016,",
            "other,,,,,urn:epc:id:grai:4098760.00001.1,",
        ],
        [
            ',"urn:x:""q"",1","a\nb",\r\n',
            ",loc,in_progress,\r\n",
            ",,,2026-03-01T12:00:00.120000Z\r\n",
            ",,,2026-03-01T12:00:00Z\r\n",
            ",,,\r\n",
            ",,,2026-03-01T12:00:00Z\r\n",
        ],
    ]
    assert small_times[0] is None
    assert small_times[2] == "2026-03-01T12:00:00.120000Z"
