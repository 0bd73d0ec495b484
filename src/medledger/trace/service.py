"""The trace use case: resolve an identifier, walk the genealogy, report what it reaches."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from medledger.core.errors import FieldError, NotFound, ValidationFailed
from medledger.core.principal import Permission, Principal
from medledger.identifiers.digital_link import encode_value
from medledger.identifiers.epc import CANONICAL_ORIGIN, canonical_identifier
from medledger.identifiers.gs1 import parse_gs1
from medledger.trace import snapshot as repo
from medledger.trace.engine import (
    LOT,
    Direction,
    PartnerScope,
    Reach,
    TraceReport,
    assemble_report,
    hops_of,
    lots_of_known_units,
    produced_items,
    reached_ids,
    walk,
)
from medledger.trace.errors import Code

FIELD = "id"


@dataclass(frozen=True)
class TraceRequest:
    """What to trace: an identifier as scanned or typed, and the direction."""

    identifier: str
    direction: Direction = Direction.DOWNSTREAM


def item_uri(identifier: str) -> str:
    """The canonical ``trace_items.uri`` of a scanned or typed identifier.

    Anything :func:`~medledger.identifiers.gs1.parse_gs1` accepts: a serial is GTIN + serial,
    a lot GTIN + lot, a logistic unit its SSCC, a bare GTIN the product class. Other AIs in the
    scan (expiry, production date) do not change which item is meant. Raises
    ``ValidationFailed`` (field ``id``) when the data is not a GS1 identifier of an item.
    """
    try:
        parsed = parse_gs1(identifier)
    except ValidationFailed as error:
        raise ValidationFailed(
            error.message,
            code=error.code,
            params=error.params,
            errors=[FieldError(FIELD, e.code, e.message, e.params) for e in error.errors],
        ) from None
    base = CANONICAL_ORIGIN
    if parsed.gtin and parsed.serial is not None:
        uri = f"{base}/01/{parsed.gtin}/21/{encode_value(parsed.serial)}"
    elif parsed.gtin and parsed.lot is not None:
        uri = f"{base}/01/{parsed.gtin}/10/{encode_value(parsed.lot)}"
    elif parsed.sscc:
        uri = f"{base}/00/{parsed.sscc}"
    elif parsed.gtin:
        uri = f"{base}/01/{parsed.gtin}"
    else:
        raise ValidationFailed(
            "{value} names no lot, serial, logistic unit or product.",
            code=Code.NOT_AN_ITEM,
            params={"value": identifier},
        )
    return canonical_identifier(uri, field=FIELD)


# The canonical Digital Link path of a bracketed ``(01)…(10|21)…`` or ``(00)…`` string.
_BRACKETED = re.compile(r"\(01\)(\d{14})\((10|21)\)([^()]{1,20})|\(00\)(\d{18})")


def _stored_form(identifier: str) -> str | None:
    """The stored URI the identifier names if it is written in the canonical forms traces
    are usually asked with (a canonical Digital Link URI, a bracketed GTIN + lot/serial or
    SSCC), else None. Only used to *find* an item: a match means the identifier equals a URI
    that capture validated and stored; anything else goes through :func:`item_uri`."""
    if identifier.startswith(CANONICAL_ORIGIN + "/"):
        return identifier
    match = _BRACKETED.fullmatch(identifier)
    if match is None:
        return None
    gtin, ai, value, sscc = match.groups()
    if sscc is not None:
        return f"{CANONICAL_ORIGIN}/00/{sscc}"
    return f"{CANONICAL_ORIGIN}/01/{gtin}/{ai}/{encode_value(value)}"


def trace(session: Session, principal: Principal, request: TraceRequest) -> TraceReport:
    """Trace an item upstream (components, suppliers), downstream (lots, serials, logistic
    units, consignees) or both.

    Raises ``NotFound`` (``trace.item_not_found``) when the ledger does not know the item or
    the principal may not see it, ``ValidationFailed`` when the identifier is malformed and
    ``PermissionDenied`` without ``trace:read``. A partner user's report is limited to what
    its party may see (see ``docs/trace.md``).
    """
    principal.require(Permission.TRACE_READ)
    tenant = principal.tenant_id
    stored = _stored_form(request.identifier)
    snapshot, root_id = repo.SNAPSHOTS.current(session, tenant, stored)
    if root_id is None:
        # Not in a canonical form (or unknown): the parser decides, with its exact errors.
        uri = item_uri(request.identifier)
        if uri != stored:
            root_id = repo.find_item_id(session, tenant, uri)
            if (
                root_id is not None
                and snapshot is not None
                and not snapshot.items.contains(root_id)
            ):
                snapshot, _ = repo.SNAPSHOTS.current(session, tenant, must_know=root_id)
    if root_id is None or (
        not principal.sees_all_parties and not repo.item_visible(session, principal, root_id)
    ):
        raise NotFound(
            "Nothing is recorded for {identifier}.",
            code=Code.ITEM_NOT_FOUND,
            params={"identifier": request.identifier},
        )
    sides = (
        [Direction.UPSTREAM, Direction.DOWNSTREAM]
        if request.direction is Direction.BOTH
        else [request.direction]
    )
    if snapshot is None:
        # The tenant's snapshot is still loading (in the background): recursive SQL reaches
        # the items, and the same engine reports on what it read (docs/trace.md).
        snapshot = repo.sql_snapshot(session.connection(), tenant, root_id, sides)
    graph, items = snapshot.graph, snapshot.items
    reaches: list[tuple[Direction, Reach]] = [(side, walk(graph, root_id, side)) for side in sides]
    reached = reached_ids(root_id, reaches)
    scope = None
    if not principal.sees_all_parties:
        scope = PartnerScope(
            principal.party_id,
            frozenset(repo.party_item_ids(session, principal, reached.tolist())),
        )

    def produced() -> frozenset[int]:
        # Only a report's gaps need it (the recall listing never asks).
        rows = items.rows_of(reached)
        uncommissioned = reached[(items.kind[rows] == LOT) & ~items.commissioned[rows]]
        made = produced_items(graph, uncommissioned.tolist())
        rest = [lot for lot in uncommissioned.tolist() if lot not in made]
        if not rest:
            return made

        def commissioned(item_id: int) -> bool:
            return bool(items.commissioned[items.rows_of(np.array([item_id]))[0]])

        return made | lots_of_known_units(graph, rest, commissioned)

    return assemble_report(
        root_id,
        request.direction,
        reaches,
        items,
        lambda: hops_of(snapshot.hops, reached.tolist()),
        snapshot.events.facts,
        snapshot.parties,
        scope,
        produced_item_ids=produced,
        ended_containments=snapshot.ended_containments,
        hub_party_id=principal.hub_party_id,
    )
