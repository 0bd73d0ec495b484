"""The trace engine: walks over the genealogy and the assembly of their report (no ORM, no web).

* :mod:`medledger.trace.engine.graph` — the genealogy as CSR arrays, walks, incremental updates;
* :mod:`medledger.trace.engine.facts` — item, hop, event and party facts (items as columns);
* :mod:`medledger.trace.engine.report` — the report: rows as columns, JSON, CSV listing;
* here, :func:`assemble_report` turns the reached items plus their facts into a
  :class:`TraceReport`, applying partner scoping when asked; it is the single place where
  "what a partner may see of a trace" is decided (see ``docs/trace.md``).

The names of those modules are re-exported here: callers import from ``engine``.
"""

from __future__ import annotations

from medledger.trace.engine.assemble import PartnerScope, assemble_report, hops_of
from medledger.trace.engine.facts import (
    CLASS,
    KINDS,
    LOT,
    NONE,
    OTHER,
    SERIAL,
    SSCC,
    EventFacts,
    HopFacts,
    ItemFacts,
    ItemTable,
    PartyFacts,
    Vocabulary,
    canonical_uri,
)
from medledger.trace.engine.graph import (
    NO_EDGE,
    NO_EVENT,
    Adjacency,
    ArcKind,
    Direction,
    GraphChanges,
    Reach,
    TraceGraph,
    build_graph,
    lots_of_known_units,
    produced_items,
    reached_ids,
    update_graph,
    walk,
)
from medledger.trace.engine.report import (
    LISTING_COLUMNS,
    EventLookup,
    Gap,
    ItemRows,
    PartyRef,
    ReportFrame,
    TracedItem,
    TracedParty,
    TraceReport,
)

__all__ = [
    "CLASS",
    "KINDS",
    "LISTING_COLUMNS",
    "LOT",
    "NONE",
    "NO_EDGE",
    "NO_EVENT",
    "OTHER",
    "SERIAL",
    "SSCC",
    "Adjacency",
    "ArcKind",
    "Direction",
    "EventFacts",
    "EventLookup",
    "Gap",
    "GraphChanges",
    "HopFacts",
    "ItemFacts",
    "ItemRows",
    "ItemTable",
    "PartnerScope",
    "PartyFacts",
    "PartyRef",
    "Reach",
    "ReportFrame",
    "TraceGraph",
    "TraceReport",
    "TracedItem",
    "TracedParty",
    "Vocabulary",
    "assemble_report",
    "build_graph",
    "canonical_uri",
    "hops_of",
    "lots_of_known_units",
    "produced_items",
    "reached_ids",
    "update_graph",
    "walk",
]
