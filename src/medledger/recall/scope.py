"""The scope of a recall, computed with the trace: every unit, lot and logistic unit downstream
of the identifiers (the roots included), the shipments of them, the consignees with what each
was shipped and holds, the upstream root-cause context (components, suppliers), and the
completeness of the record. Reads only; ``service.initiate_recall`` acts on it."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from medledger.core.principal import Principal
from medledger.parties.models import Party
from medledger.trace import service as trace_service
from medledger.trace.engine import Direction
from medledger.trace.models import CustodyHop, GenealogyEdge, TraceItem

_GLN = re.compile(r"/(?:417|414)/(\d{13})")
_CHUNK = 500
UNIT_KINDS = frozenset({"lot", "serial", "sscc"})


@dataclass
class Consignee:
    """A party the recall must reach, with what it was shipped (or holds now)."""

    key: str
    party_id: int | None
    gln: str | None
    name: str
    roles: set[str] = field(default_factory=set)
    lines: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    @property
    def units(self) -> int:
        return int(sum(line["quantity"] for line in self.lines.values()))

    def items(self) -> list[dict[str, Any]]:
        return sorted(
            self.lines.values(),
            key=lambda x: (x["gtin"] or "", x["lot"] or "", x["serial"] or "", x["sscc"] or ""),
        )


@dataclass
class Scope:
    """What the trace found (see module docstring), ready to store and act on."""

    identifiers: list[str]
    items: dict[str, dict[str, Any]]
    upstream: list[dict[str, Any]]
    suppliers: list[dict[str, Any]]
    shipments: list[dict[str, Any]]
    consignees: dict[str, Consignee]
    completeness: dict[str, Any]
    gaps: list[dict[str, Any]]
    seconds: float

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [item for item in self.items.values() if item["kind"] == kind]

    def snapshot(self) -> dict[str, Any]:
        """The JSON kept with the recall (and hashed into the initiator's signature)."""
        return {
            "identifiers": self.identifiers,
            "items": sorted(self.items.values(), key=lambda i: i["uri"]),
            "upstream": self.upstream,
            "suppliers": self.suppliers,
            "shipments": self.shipments,
            "consignees": [
                {
                    "key": c.key,
                    "party_id": c.party_id,
                    "gln": c.gln,
                    "name": c.name,
                    "roles": sorted(c.roles),
                    "units": c.units,
                    "items": c.items(),
                }
                for c in sorted(self.consignees.values(), key=lambda c: (c.name, c.key))
            ],
            "completeness": self.completeness,
            "gaps": self.gaps,
        }


def scope_hash(snapshot: dict[str, Any]) -> str:
    text = json.dumps(
        snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _holder_json(holder: Any) -> dict[str, Any] | None:
    return holder.to_json() if holder is not None else None


def _gln_of(ref: str | None) -> str | None:
    match = _GLN.search(ref or "")
    return match.group(1) if match else None


def _chunks(values: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def compute_scope(session: Session, principal: Principal, identifiers: list[str]) -> Scope:
    """Trace every identifier downstream (scope) and upstream (root-cause context).

    Raises the trace's own errors (422 on field ``id``, 404 ``trace.item_not_found``) for an
    identifier it cannot read or does not know."""
    started = time.perf_counter()
    items: dict[str, dict[str, Any]] = {}
    ids: dict[int, str] = {}
    upstream: dict[str, dict[str, Any]] = {}
    suppliers: dict[str, dict[str, Any]] = {}
    totals = {"shipments": 0, "shipments_received": 0, "lots": 0, "lots_with_origin": 0}
    gaps: list[dict[str, Any]] = []
    for identifier in dict.fromkeys(identifiers):
        down = trace_service.trace(
            session, principal, trace_service.TraceRequest(identifier, Direction.DOWNSTREAM)
        )
        rows = down.rows
        for k in range(len(rows)):
            if rows.kind[k] not in UNIT_KINDS:
                continue
            uri = rows.uri[k]
            ids[rows.ids[k]] = uri
            items.setdefault(
                uri,
                {
                    "uri": uri,
                    "kind": rows.kind[k],
                    "gtin": rows.gtin[k],
                    "lot": rows.lot[k],
                    "serial": rows.serial[k],
                    "sscc": rows.sscc[k],
                    "depth": rows.depth[k],
                    "holder": _holder_json(rows.holder[k]),
                    "disposition": rows.disposition[k],
                    "root": k == 0,
                },
            )
        completeness = down.completeness
        totals["shipments"] += completeness.shipments
        totals["shipments_received"] += completeness.shipments_received
        totals["lots"] += completeness.lots or 0
        totals["lots_with_origin"] += completeness.lots_with_origin or 0
        gaps.extend(gap.to_json() for gap in down.gaps)
        up = trace_service.trace(
            session, principal, trace_service.TraceRequest(identifier, Direction.UPSTREAM)
        )
        for item in up.items:
            if item.kind in UNIT_KINDS:
                upstream.setdefault(
                    item.uri,
                    {
                        "uri": item.uri,
                        "kind": item.kind,
                        "gtin": item.gtin,
                        "lot": item.lot,
                        "serial": item.serial,
                        "depth": item.depth,
                        "holder": item.holder.to_json() if item.holder else None,
                    },
                )
        for party in up.parties:
            if "supplier" in party.roles:
                suppliers.setdefault(str(party.party_id or party.gln or party.ref), party.to_json())
    done = totals["shipments_received"] + totals["lots_with_origin"]
    total = totals["shipments"] + totals["lots"]
    completeness_json = {**totals, "score": round(done / total, 4) if total else 1.0}
    shipments, consignees = _shipments(session, principal, items, ids)
    return Scope(
        identifiers=list(dict.fromkeys(identifiers)),
        items=items,
        upstream=sorted(upstream.values(), key=lambda i: (i["depth"], i["uri"])),
        suppliers=sorted(
            suppliers.values(), key=lambda p: (p.get("name") or "", p.get("gln") or "")
        ),
        shipments=shipments,
        consignees=consignees,
        completeness=completeness_json,
        gaps=gaps,
        seconds=time.perf_counter() - started,
    )


def _line(item: dict[str, Any], quantity: float, via_sscc: str | None) -> dict[str, Any]:
    return {
        "kind": item["kind"],
        "uri": item["uri"],
        "gtin": item["gtin"],
        "lot": item["lot"],
        "serial": item["serial"],
        "sscc": via_sscc,
        "quantity": int(quantity),
    }


def _shipments(
    session: Session, principal: Principal, items: dict[str, dict[str, Any]], ids: dict[int, str]
) -> tuple[list[dict[str, Any]], dict[str, Consignee]]:
    """Custody hops of the items in scope, and per consignee what reached it."""
    tenant = principal.tenant_id
    hub = principal.hub_party_id
    item_ids = sorted(ids)
    hops: list[CustodyHop] = []
    contents: dict[int, list[tuple[int, float]]] = {}
    holders: list[tuple[int, int | None, str | None]] = []
    for chunk in _chunks(item_ids):
        hops += session.scalars(
            select(CustodyHop).where(
                CustodyHop.tenant_id == tenant,
                CustodyHop.item_id.in_(chunk),
                CustodyHop.retracted_by_event_id.is_(None),
            )
        )
        for child, parent, quantity in session.execute(
            select(
                GenealogyEdge.from_item_id, GenealogyEdge.to_item_id, GenealogyEdge.quantity
            ).where(
                GenealogyEdge.tenant_id == tenant,
                GenealogyEdge.kind == "aggregation",
                GenealogyEdge.to_item_id.in_(chunk),
                GenealogyEdge.retracted_by_event_id.is_(None),
            )
        ):
            if child in ids:
                contents.setdefault(parent, []).append((child, float(quantity or 1)))
        holders += session.execute(
            select(TraceItem.id, TraceItem.holder_party_id, TraceItem.holder_gln).where(
                TraceItem.tenant_id == tenant, TraceItem.id.in_(chunk)
            )
        ).all()
    party_ids = {h.to_party_id for h in hops if h.to_party_id} | {
        h.from_party_id for h in hops if h.from_party_id
    }
    party_ids |= {p for _, p, _ in holders if p}
    parties = {
        p.id: p
        for p in session.scalars(
            select(Party).where(Party.tenant_id == tenant, Party.id.in_(party_ids or {0}))
        )
    }
    by_gln = {p.gln: p for p in parties.values()}
    consignees: dict[str, Consignee] = {}

    def consignee(
        party_id: int | None, ref: str | None, gln: str | None = None
    ) -> Consignee | None:
        if party_id is None:
            gln = gln or _gln_of(ref)
            known = by_gln.get(gln) if gln else None
            party_id = known.id if known is not None else None
        if party_id is not None and party_id == hub:
            return None
        if party_id is None and not (gln or ref):
            return None
        key = str(party_id) if party_id is not None else (gln or str(ref))
        entry = consignees.get(key)
        if entry is None:
            party = parties.get(party_id) if party_id is not None else None
            entry = Consignee(
                key,
                party_id,
                party.gln if party is not None else gln,
                party.name if party is not None else "",
            )
            consignees[key] = entry
        return entry

    def reached(entry: Consignee, item_id: int, quantity: float) -> None:
        item = items[ids[item_id]]
        if item["kind"] == "sscc":
            for child, child_quantity in contents.get(item_id, []):
                child_item = items[ids[child]]
                line = entry.lines.setdefault(
                    (child_item["uri"], item["sscc"]), _line(child_item, 0, item["sscc"])
                )
                line["quantity"] = max(line["quantity"], int(child_quantity))
            if not contents.get(item_id):
                entry.lines.setdefault((item["uri"], ""), _line(item, 1, item["sscc"]))
            return
        line = entry.lines.setdefault((item["uri"], ""), _line(item, 0, None))
        line["quantity"] += int(quantity if item["kind"] == "lot" else 1)

    shipments = []
    for hop in sorted(hops, key=lambda h: h.id):
        item = items[ids[hop.item_id]]
        hop_quantity = float(hop.quantity) if hop.quantity is not None else 1.0
        target = consignee(hop.to_party_id, hop.to_ref)
        sender = parties.get(hop.from_party_id) if hop.from_party_id else None
        shipments.append(
            {
                "item": item["uri"],
                "kind": item["kind"],
                "gtin": item["gtin"],
                "lot": item["lot"],
                "serial": item["serial"],
                "sscc": item["sscc"],
                "quantity": hop_quantity,
                "from": sender.name
                if sender is not None
                else (_gln_of(hop.from_ref) or hop.from_ref),
                "to": target.name or target.gln if target is not None else "",
                "to_key": target.key if target is not None else None,
                "shipped_at": _iso(hop.shipped_at),
                "received_at": _iso(hop.received_at),
            }
        )
        if target is not None:
            target.roles.add("consignee")
            reached(target, hop.item_id, hop_quantity)
    for item_id, party_id, gln in holders:
        if party_id is None and gln is None:
            continue
        holder = consignee(party_id, None, gln)
        if holder is None:
            continue
        holder.roles.add("holder")
        item = items[ids[item_id]]
        known = any(
            key[0] == item["uri"] or (item["kind"] == "sscc" and line["sscc"] == item["sscc"])
            for key, line in holder.lines.items()
        )
        if not known:
            reached(holder, item_id, 0.0)
    return shipments, consignees
