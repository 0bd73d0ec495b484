"""Which EPCIS events move stock, and how: a pure function from a normalised event to moves.

Both the stock projection (``inventory.projection``, in the capture transaction) and
``medledger inventory verify`` (a replay of the ledger in memory) plan events with
:func:`plan_event`, so what the ledger says and what stock says cannot drift apart by
construction. The rules are written out in ``docs/inventory.md``.

No ORM, no database: locations come in as a :class:`LocationIndex`, the contents of a logistic
unit through a callback.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Final
from urllib.parse import unquote

from medledger.inventory.errors import FRACTIONAL, conflict
from medledger.inventory.models import MovementKind, StockStatus
from medledger.trace.epcis.normalise import NormalisedEvent, QuantityElement

DL: Final = "https://id.gs1.org"
K = MovementKind
S = StockStatus

# Where stock may be sold from: only released, unexpired, unrecalled stock goes there.
SELLABLE_ZONES: Final = frozenset({"released", "shipping"})
# Statuses a move without a stated status takes from, in order (scrap, unpack, quarantine moves).
ANY_STATUS: Final = (S.QUARANTINE, S.ON_HOLD, S.RELEASED, S.REJECTED, S.RECALLED)
SCRAP_ORDER: Final = (S.REJECTED, S.RECALLED, S.ON_HOLD, S.QUARANTINE, S.RELEASED)
RELEASED_ONLY: Final = (S.RELEASED,)

# CBV dispositions that state which status the moved stock is in.
DISPOSITION_STATUS: Final[dict[str, StockStatus]] = {
    "sellable_accessible": S.RELEASED,
    "sellable_not_accessible": S.RELEASED,
    "available": S.RELEASED,
    "conformant": S.RELEASED,
    "non_conformant": S.REJECTED,
    "damaged": S.REJECTED,
    "recalled": S.RECALLED,
    "unavailable": S.ON_HOLD,
}

RECEIVING_STEPS: Final = frozenset({"receiving", "accepting", "arriving"})
MOVE_STEPS: Final = frozenset(
    {"storing", "stocking", "picking", "transporting", "staging_outbound", "loading", "unloading"}
)
SCRAP_STEPS: Final = frozenset({"decommissioning", "destroying"})

_LOT_CLASS = re.compile(r"https://id\.gs1\.org/01/(\d{14})(?:/10/([^/?#]+))?")
_SERIAL = re.compile(r"https://id\.gs1\.org/01/(\d{14})/21/([^/?#]+)")
_SSCC = re.compile(r"https://id\.gs1\.org/00/(\d{18})")
_PARTY = re.compile(r"https://id\.gs1\.org/(?:417|414)/(\d{13})(?:/254/.*)?")


@dataclass(frozen=True)
class ItemKey:
    """A product (GTIN) and its lot or serial ("" when not known)."""

    gtin: str
    lot: str = ""
    serial: str = ""


@dataclass(frozen=True)
class HubLocation:
    """A location of a site inventory manages."""

    id: int
    site_id: int
    zone_purpose: str
    storage_class: str
    # Only events with a larger ledger row id move stock here (see InventorySite).
    after_event_row_id: int = 0

    @property
    def sellable(self) -> bool:
        return self.zone_purpose in SELLABLE_ZONES


@dataclass
class LocationIndex:
    """Managed locations by the canonical URI an event names them with.

    A location is named by ``…/414/{site GLN}/254/{code}`` or by its own GLN; a bare site GLN
    names the site's receiving location (its first ``receiving_quarantine`` location).
    """

    by_uri: dict[str, HubLocation]

    def resolve(self, uri: str | None, event_row_id: int) -> HubLocation | None:
        if uri is None:
            return None
        location = self.by_uri.get(uri)
        if location is None or event_row_id <= location.after_event_row_id:
            return None
        return location


@dataclass(frozen=True)
class Place:
    """Where stock is: a location, and the logistic unit (SSCC) it is packed in, if any."""

    location_id: int
    container: str = ""


@dataclass(frozen=True)
class PlannedMove:
    """``quantity`` of ``item`` leaves ``source`` (taken from the first statuses of ``take``
    that have it) and enters ``target`` in ``target_status`` (None: the status it was taken
    in). No source: stock appears (receipt, production); no target: it leaves (ship, scrap)."""

    kind: MovementKind
    item: ItemKey
    quantity: int
    source: Place | None
    target: Place | None
    take: tuple[StockStatus, ...] = ()
    target_status: StockStatus | None = None
    # The locations named (for the rules: storage class, sellable zones).
    source_location: HubLocation | None = None
    target_location: HubLocation | None = None


@dataclass(frozen=True, slots=True)
class MovementRow:
    """A stock movement as written (the columns of ``stock_movements``): what the projection
    hands to stock-change handlers and to callers, without an ORM instance per row (building
    one costs more than inserting the row)."""

    id: int
    tenant_id: int
    kind: str
    gtin: str
    lot: str
    serial: str
    quantity: int
    from_location_id: int | None
    from_container: str
    from_status: str | None
    to_location_id: int | None
    to_container: str
    to_status: str | None
    epcis_event_row_id: int | None
    reversal_of_id: int | None
    reason: str
    occurred_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class EventPlan:
    """What one event does to stock, and the SSCCs it ships to a party (for proof of delivery)."""

    moves: tuple[PlannedMove, ...]
    shipped_ssccs: tuple[str, ...] = ()
    destination_gln: str | None = None
    received_elsewhere_ssccs: tuple[str, ...] = ()


Contents = Callable[[int, str], list[tuple[ItemKey, int]]]
NOTHING: Final = EventPlan(())


def sscc_of(uri: str) -> str | None:
    match = _SSCC.fullmatch(uri)
    return match.group(1) if match else None


def _whole(quantity: Decimal | None, epc_class: str) -> int:
    if quantity is None:
        return 1
    if quantity != quantity.to_integral_value() or quantity <= 0:
        raise conflict(
            FRACTIONAL,
            "Stock is counted in whole units; {epc_class} has quantity {quantity}.",
            "quantityList",
            epc_class=epc_class,
            quantity=str(quantity),
        )
    return int(quantity)


def items_of(
    epcs: Iterable[str], quantities: Iterable[QuantityElement], *, strict: bool = True
) -> tuple[list[tuple[ItemKey, int]], list[str]]:
    """The lots/serials an event names with their quantities (1 per serial), and its SSCCs.
    Other identifiers (GRAI, GIAI …) are not stock. ``strict``: a fractional quantity is
    refused (else counted as 0: only the items are wanted)."""
    items: dict[ItemKey, int] = {}
    ssccs: list[str] = []
    for epc in epcs:
        serial = _SERIAL.fullmatch(epc)
        if serial:
            key = ItemKey(serial.group(1), "", unquote(serial.group(2)))
            items[key] = items.get(key, 0) + 1
            continue
        sscc = sscc_of(epc)
        if sscc:
            ssccs.append(sscc)
    for element in quantities:
        match = _LOT_CLASS.fullmatch(element.epc_class)
        if match is None:
            continue
        key = ItemKey(match.group(1), unquote(match.group(2) or ""), "")
        whole = _whole(element.quantity, element.epc_class) if strict else 0
        items[key] = items.get(key, 0) + whole
    return list(items.items()), ssccs


def _first_location(
    entries: Iterable[tuple[str, str]], index: LocationIndex, row_id: int
) -> HubLocation | None:
    for kind, value in entries:
        if kind == "location":
            found = index.resolve(value, row_id)
            if found is not None:
                return found
    return None


def _party_gln(event: NormalisedEvent) -> str | None:
    """The GLN the goods go to: owning/possessing party, else the destination location."""
    by_type = {d.type: d.value for d in event.destination_list}
    for kind in ("owning_party", "possessing_party", "location"):
        value = by_type.get(kind)
        if value:
            match = _PARTY.fullmatch(value)
            if match:
                return match.group(1)
    return None


def plan_event(
    event: NormalisedEvent, row_id: int, index: LocationIndex, contents: Contents
) -> EventPlan:
    """The stock moves ``event`` (stored as ledger row ``row_id``) means; see docs/inventory.md."""
    if event.error_declaration is not None:
        return NOTHING
    here = index.resolve(event.biz_location, row_id)
    source = _first_location(((s.type, s.value) for s in event.source_list), index, row_id)
    target = _first_location(((d.type, d.value) for d in event.destination_list), index, row_id)
    step = event.biz_step or ""
    stated = DISPOSITION_STATUS.get(event.disposition or "")
    if event.event_type == "AggregationEvent":
        return _plan_aggregation(event, here, contents)
    if event.event_type == "TransformationEvent":
        if here is None:
            return NOTHING
        inputs, _ = items_of(event.input_epc_list, event.input_quantity_list)
        outputs, _ = items_of(event.output_epc_list, event.output_quantity_list)
        moves = [
            PlannedMove(K.CONSUME, item, n, Place(here.id), None, RELEASED_ONLY, None, here)
            for item, n in inputs
        ] + [
            PlannedMove(K.PRODUCE, item, n, None, Place(here.id), (), S.QUARANTINE, None, here)
            for item, n in outputs
        ]
        return EventPlan(tuple(moves))
    if event.event_type != "ObjectEvent":
        return NOTHING
    if here is None and source is None and target is None:
        if step in RECEIVING_STEPS:
            # Received somewhere else: proof of delivery for what the hub shipped.
            ssccs = [sscc for sscc in map(sscc_of, event.epc_list) if sscc]
            return EventPlan((), received_elsewhere_ssccs=tuple(ssccs))
        return NOTHING  # not at a managed place: no stock of ours (nor its quantities) concerned
    items, ssccs = items_of(event.epc_list, event.quantity_list)
    if step in RECEIVING_STEPS:
        into = target or here
        if into is None:
            return EventPlan((), received_elsewhere_ssccs=tuple(ssccs))
        if source is not None and source.id != into.id:
            return EventPlan(_moves(K.TRANSFER, items, ssccs, source, into, stated, contents))
        kind = K.RETURN if event.disposition == "returned" else K.RECEIPT
        return EventPlan(
            tuple(
                PlannedMove(kind, item, n, None, Place(into.id), (), S.QUARANTINE, None, into)
                for item, n in items
            )
        )
    if step == "commissioning" and event.action == "ADD" and here is not None:
        return EventPlan(
            tuple(
                PlannedMove(K.PRODUCE, item, n, None, Place(here.id), (), S.QUARANTINE, None, here)
                for item, n in items
            )
        )
    if step in SCRAP_STEPS or event.disposition == "destroyed":
        origin = source or here
        if origin is None:
            return NOTHING
        return EventPlan(_moves(K.SCRAP, items, ssccs, origin, None, None, contents, SCRAP_ORDER))
    if step == "shipping":
        origin = source or here
        if origin is None:
            return NOTHING
        if target is not None and target.id != origin.id:
            return EventPlan(_moves(K.TRANSFER, items, ssccs, origin, target, stated, contents))
        return EventPlan(
            _moves(K.SHIP, items, ssccs, origin, None, None, contents, RELEASED_ONLY),
            shipped_ssccs=tuple(ssccs),
            destination_gln=_party_gln(event),
        )
    if step in MOVE_STEPS:
        into = target or here
        if source is None or into is None or source.id == into.id:
            return NOTHING
        if step == "picking":
            kind = K.PICK
        elif source.zone_purpose == "receiving_quarantine":
            kind = K.PUT_AWAY
        else:
            kind = K.TRANSFER
        return EventPlan(_moves(kind, items, ssccs, source, into, stated, contents))
    return NOTHING


def _moves(
    kind: MovementKind,
    items: list[tuple[ItemKey, int]],
    ssccs: list[str],
    origin: HubLocation,
    into: HubLocation | None,
    stated: StockStatus | None,
    contents: Contents,
    take: tuple[StockStatus, ...] | None = None,
) -> tuple[PlannedMove, ...]:
    if take is None:
        if stated is not None:
            take = (stated,)
        elif kind is K.PICK or (into is not None and into.sellable):
            take = RELEASED_ONLY
        else:
            take = ANY_STATUS
    moves = [
        PlannedMove(
            kind,
            item,
            n,
            Place(origin.id),
            Place(into.id) if into else None,
            take,
            None,
            origin,
            into,
        )
        for item, n in items
    ]
    # A logistic unit moves with everything packed in it (and stays packed).
    for sscc in ssccs:
        for item, n in contents(origin.id, sscc):
            moves.append(
                PlannedMove(
                    kind,
                    item,
                    n,
                    Place(origin.id, sscc),
                    Place(into.id, sscc) if into else None,
                    take,
                    None,
                    origin,
                    into,
                )
            )
    return tuple(moves)


def _plan_aggregation(
    event: NormalisedEvent, here: HubLocation | None, contents: Contents
) -> EventPlan:
    if here is None or not event.parent_id:
        return NOTHING
    parent = sscc_of(event.parent_id)
    if parent is None:
        return NOTHING
    children, _ = items_of(event.child_epcs, event.child_quantity_list)
    if event.action == "ADD":
        return EventPlan(
            tuple(
                PlannedMove(
                    K.PACK,
                    item,
                    n,
                    Place(here.id),
                    Place(here.id, parent),
                    RELEASED_ONLY,
                    None,
                    here,
                    here,
                )
                for item, n in children
            )
        )
    if event.action == "DELETE":
        if not children:
            children = contents(here.id, parent)
        return EventPlan(
            tuple(
                PlannedMove(
                    K.UNPACK,
                    item,
                    n,
                    Place(here.id, parent),
                    Place(here.id),
                    ANY_STATUS,
                    None,
                    here,
                    here,
                )
                for item, n in children
            )
        )
    return NOTHING


def location_uris(site_gln: str, code: str, location_gln: str | None) -> list[str]:
    """The canonical URIs an event may name a location with."""
    from medledger.identifiers.digital_link import encode_value

    uris = [f"{DL}/414/{site_gln}/254/{encode_value(code)}"]
    if location_gln:
        uris.append(f"{DL}/414/{location_gln}")
    return uris


def site_uri(site_gln: str) -> str:
    return f"{DL}/414/{site_gln}"
