"""Error declarations: the corrected event's projections retracted and its items' state
recomputed from the events left (see ``projection``'s module docstring)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, exists, or_, select, update
from sqlalchemy.orm import Session

from medledger.parties.models import Tenant
from medledger.trace.ledger.bulk import chunks, table_of
from medledger.trace.ledger.item_keys import gln_of, lot_uri
from medledger.trace.ledger.rules import (
    CREATED_ROLES,
    Entry,
    PartyKey,
    commissions,
    ilmd_value,
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

if TYPE_CHECKING:
    from medledger.trace.ledger.projection import ProjectionCounts


class Corrections:
    """Applies a capture's error declarations in its transaction. ``intern`` and ``item_ids``
    are the projection's (item ids by URI); ``counts`` its ``ProjectionCounts``."""

    def __init__(
        self,
        session: Session,
        tenant_id: int,
        counts: ProjectionCounts,
        intern: Callable[..., None],
        item_ids: dict[str, int],
    ) -> None:
        self.session = session
        self.connection = session.connection()
        self.tenant_id = tenant_id
        self.counts = counts
        self.intern = intern
        self.item_ids = item_ids

    def apply(self, declarations: Sequence[tuple[int, str]]) -> list[int]:
        """Apply error declarations (declaration row id, eventID of the event it corrects),
        once everything the capture writes is written; the row ids of the events retracted."""
        retracted = [
            original
            for row_id, event_id in declarations
            if (original := self.retract_original(row_id, event_id)) is not None
        ]
        if retracted:
            self.restore_item_states(retracted)
            self.revoke_access(retracted)
        return retracted

    def revoke_access(self, retracted_rows: Sequence[int]) -> None:
        """Read access to the items of retracted events stays only with the parties the
        remaining record still connects to them: the holder now, and the senders and
        receivers of their unretracted hops (contents that followed a container are not
        revisited)."""
        item_ids: set[int] = set()
        for chunk in chunks(list(retracted_rows)):
            item_ids.update(
                self.session.scalars(
                    select(EventItem.item_id).where(EventItem.event_row_id.in_(chunk))
                )
            )
        holds = exists().where(
            TraceItem.id == ItemParty.item_id, TraceItem.holder_party_id == ItemParty.party_id
        )
        on_a_hop = exists().where(
            CustodyHop.tenant_id == ItemParty.tenant_id,
            CustodyHop.item_id == ItemParty.item_id,
            CustodyHop.retracted_by_event_id.is_(None),
            or_(
                CustodyHop.from_party_id == ItemParty.party_id,
                CustodyHop.to_party_id == ItemParty.party_id,
            ),
        )
        for chunk in chunks(sorted(item_ids)):
            self.session.execute(
                delete(ItemParty)
                .where(
                    ItemParty.tenant_id == self.tenant_id,
                    ItemParty.item_id.in_(chunk),
                    ~holds,
                    ~on_a_hop,
                )
                .execution_options(synchronize_session=False)
            )

    def restore_item_states(self, retracted_rows: Sequence[int]) -> None:
        """Recompute the state of the items of retracted events from the events left.

        The last state is folded over the item's remaining events in event-time order (ties
        by capture order), with the same rules as at capture; error declarations and
        retracted events do not count. An item with no event left gets an empty state. What
        the creating events set is recomputed too (:meth:`restored_origins`).
        """
        item_ids: set[int] = set()
        for chunk in chunks(list(retracted_rows)):
            item_ids.update(
                self.session.scalars(
                    select(EventItem.item_id).where(EventItem.event_row_id.in_(chunk))
                )
            )
        if not item_ids:
            return
        states: dict[int, dict[str, Any]] = {
            item_id: {
                "last_event_time": None,
                "last_biz_step": None,
                "last_disposition": None,
                "last_biz_location": None,
                "holder_party_id": None,
                "holder_gln": None,
            }
            for item_id in item_ids
        }
        holders: dict[int, PartyKey | None] = dict.fromkeys(item_ids)
        rows: list[Any] = []
        items: dict[int, Any] = {}
        for chunk in chunks(sorted(item_ids)):
            rows.extend(
                self.session.execute(
                    select(
                        EventItem.item_id,
                        EventItem.role,
                        EpcisEvent.id,
                        EpcisEvent.event_type,
                        EpcisEvent.action,
                        EpcisEvent.event_time,
                        EpcisEvent.biz_step,
                        EpcisEvent.disposition,
                        EpcisEvent.biz_location,
                        EpcisEvent.capturing_party_id,
                        EpcisEvent.destinations,
                        EpcisEvent.document["ilmd"].label("ilmd"),
                    )
                    .join(EpcisEvent, EpcisEvent.id == EventItem.event_row_id)
                    .where(
                        EventItem.tenant_id == self.tenant_id,
                        EventItem.item_id.in_(chunk),
                        EpcisEvent.retracted_by_event_id.is_(None),
                        EpcisEvent.event_id.not_like("%" + ERROR_DECLARATION_SUFFIX),
                    )
                )
            )
            items.update(
                (row.id, row)
                for row in self.session.execute(
                    select(
                        TraceItem.id,
                        TraceItem.kind,
                        TraceItem.gtin,
                        TraceItem.first_event_id,
                        TraceItem.lot_item_id,
                    ).where(TraceItem.id.in_(chunk))
                )
            )
        rows.sort(key=lambda row: (row.event_time, row.id))
        glns = {
            gln
            for row in rows
            if row.biz_step == "receiving" or row.role in CREATED_ROLES or row.role == "parent"
            for value in (
                *(str(entry.get("value", "")) for entry in row.destinations or ()),
                row.biz_location or "",
            )
            if (gln := gln_of(value))
        }
        parties = resolve_parties(self.session, self.tenant_id, glns)
        hub = self.session.execute(
            select(Tenant.owner_party_id).where(Tenant.id == self.tenant_id)
        ).scalar_one_or_none()
        # Receipts that closed a shipment (they count whoever recorded them).
        closing: set[tuple[int, int]] = set()
        for chunk in chunks(sorted(item_ids)):
            closing.update(
                (int(item), int(row or 0))
                for item, row in self.session.execute(
                    select(CustodyHop.item_id, CustodyHop.receive_event_row_id).where(
                        CustodyHop.tenant_id == self.tenant_id,
                        CustodyHop.item_id.in_(chunk),
                        CustodyHop.receive_event_row_id.is_not(None),
                        CustodyHop.retracted_by_event_id.is_(None),
                    )
                )
            )
        for row in rows:
            state = states[row.item_id]
            state["last_event_time"] = row.event_time
            for column, value in (
                ("last_biz_step", row.biz_step),
                ("last_disposition", row.disposition),
                ("last_biz_location", row.biz_location),
            ):
                if value is not None:
                    state[column] = value
            # Custody moves only at a receipt (that closed a shipment, or the hub recorded)
            # and at a commissioning of the item, as at capture; contents that followed a
            # container are not replayed here.
            if row.biz_step == "receiving":
                entries = [
                    Entry(str(e.get("type")), str(e.get("value"))) for e in row.destinations or ()
                ]
                receiver = party_key(entries, parties)[0]
                if receiver is None:
                    receiver = location_party(row.biz_location, parties)
                if receiver is not None and (
                    row.capturing_party_id == hub or (row.item_id, row.id) in closing
                ):
                    holders[row.item_id] = receiver
            elif _creates(row) or (
                row.role == "parent"
                and row.event_type == "AggregationEvent"
                and row.action == "ADD"
                and holders[row.item_id] is None
            ):
                # made or commissioned here, or a container nobody held packed here
                party = location_party(row.biz_location, parties)
                holders[row.item_id] = row.capturing_party_id if party is None else party
        for item_id, holder in holders.items():
            states[item_id]["holder_party_id"], states[item_id]["holder_gln"] = split_key(holder)
        origins = self.restored_origins(items, rows, set(retracted_rows))
        for item_id, origin in origins.items():
            states[item_id].update(origin)
        table = table_of(TraceItem)
        self.connection.execute(
            table.update()
            .where(table.c.id == bindparam("_id"))
            .values({column: bindparam(column) for column in states[next(iter(states))]}),
            [{"_id": item_id, **state} for item_id, state in states.items()],
        )

    def restored_origins(
        self, items: dict[int, Any], rows: Sequence[Any], retracted: set[int]
    ) -> dict[int, dict[str, Any]]:
        """``commissioned``, ``expiry``, ``lot_item_id`` and ``first_event_id`` of ``items``
        from the events left (``rows``), by the rules of :meth:`update_states`.

        Commissioned: some commissioning event left creates the item. Expiry: the ILMD of the
        last event left (capture order) that creates the item and gives one, else none. Lot
        (serials): the current one if an event left still names it in its ILMD, else the
        first such event's, else none. First event: only if it was a retracted one, the
        first event left that names the item, else none.
        """
        origins = {
            item_id: {
                "commissioned": False,
                "expiry": None,
                "lot_item_id": None,
                "first_event_id": item.first_event_id,
            }
            for item_id, item in items.items()
        }
        lots: dict[int, list[str]] = {}
        for row in sorted(rows, key=lambda row: row.id):
            origin, item = origins[row.item_id], items[row.item_id]
            if origin["first_event_id"] in retracted:
                origin["first_event_id"] = row.id
            if row.role not in CREATED_ROLES:
                continue
            if commissions(row.event_type, row.action, row.biz_step):
                origin["commissioned"] = True
            expiry = ilmd_value(row.ilmd, "itemExpirationDate")
            if expiry:
                origin["expiry"] = expiry[:10]
            ilmd_lot = ilmd_value(row.ilmd, "lotNumber")
            if ilmd_lot and item.kind == "serial" and len(ilmd_lot) <= 20:
                lots.setdefault(row.item_id, []).append(lot_uri(item.gtin, ilmd_lot))
        self.intern(sorted({uri for named in lots.values() for uri in named}), create=False)
        for item_id, origin in origins.items():
            if origin["first_event_id"] in retracted:
                origin["first_event_id"] = None
            named = [self.item_ids[uri] for uri in lots.get(item_id, ()) if uri in self.item_ids]
            current = items[item_id].lot_item_id
            origin["lot_item_id"] = current if current in named else next(iter(named), None)
        return origins

    def retract_original(self, declaration_row: int, event_id: str) -> int | None:
        """Mark the event ``event_id`` corrected by the declaration and retract its edges
        (with the transformationID joins it took part in) and hops; its row id, if any."""
        original = self.session.execute(
            select(EpcisEvent.id).where(
                EpcisEvent.tenant_id == self.tenant_id,
                EpcisEvent.event_id == event_id,
                EpcisEvent.retracted_by_event_id.is_(None),
                EpcisEvent.id != declaration_row,
            )
        ).scalar_one_or_none()
        if original is None:
            return None
        self.counts.events_retracted += 1
        self.session.execute(
            update(EpcisEvent)
            .where(EpcisEvent.id == original)
            .values(retracted_by_event_id=declaration_row)
        )
        # Every edge and hop of the event touches one of its items (an edge's source or
        # target, a hop's item; also the transformationID joins it took part in: their
        # inputs or outputs are its own), so the items' indexes find them, not a scan of
        # the tenant's ledger.
        items = sorted(
            set(
                self.session.scalars(
                    select(EventItem.item_id).where(EventItem.event_row_id == original)
                )
            )
        )
        edge_of_event = or_(
            GenealogyEdge.event_row_id == original, GenealogyEdge.joined_event_row_id == original
        )
        for chunk in chunks(items):
            for end in (GenealogyEdge.from_item_id, GenealogyEdge.to_item_id):
                self.session.execute(
                    update(GenealogyEdge)
                    .where(
                        GenealogyEdge.tenant_id == self.tenant_id,
                        end.in_(chunk),
                        edge_of_event,
                        GenealogyEdge.retracted_by_event_id.is_(None),
                    )
                    .values(retracted_by_event_id=declaration_row)
                )
            self.session.execute(
                update(CustodyHop)
                .where(
                    CustodyHop.tenant_id == self.tenant_id,
                    CustodyHop.item_id.in_(chunk),
                    CustodyHop.ship_event_row_id == original,
                    CustodyHop.retracted_by_event_id.is_(None),
                )
                .values(retracted_by_event_id=declaration_row)
            )
            # A retracted unpacking: the containment goes on.
            self.session.execute(
                update(GenealogyEdge)
                .where(
                    GenealogyEdge.tenant_id == self.tenant_id,
                    GenealogyEdge.to_item_id.in_(chunk),
                    GenealogyEdge.ended_by_event_id == original,
                )
                .values(ended_by_event_id=None, ended_at=None)
            )
            # A retracted receipt reopens the hop it closed.
            self.session.execute(
                update(CustodyHop)
                .where(
                    CustodyHop.tenant_id == self.tenant_id,
                    CustodyHop.item_id.in_(chunk),
                    CustodyHop.receive_event_row_id == original,
                )
                .values(receive_event_row_id=None, received_at=None)
            )
        return int(original)


def _creates(row: Any) -> bool:
    """Whether an event row creates its item: a transformation's output, or the item a
    commissioning names."""
    if row.event_type == "TransformationEvent":
        return bool(row.role.startswith("output"))
    return row.role in ("epc", "quantity") and commissions(row.event_type, row.action, row.biz_step)
