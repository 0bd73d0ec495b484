"""A small typed builder of trace projection rows (events, items, edges, hops, item parties).

Service and API tests use it to set up exact genealogies without going through capture; the
end-to-end test goes through ``POST /epcis/capture`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker
from tests.builders import gtin

from medledger.core.system import system_unit_of_work
from medledger.trace.models import (
    CustodyHop,
    EpcisEvent,
    GenealogyEdge,
    ItemParty,
    TraceItem,
)

DL = "https://id.gs1.org"
T0 = datetime(2026, 1, 5, 8, tzinfo=UTC)


def sscc_number(n: int) -> str:
    from medledger.identifiers.checkdigit import gs1_check_digit

    body = f"3409876{n:010d}"
    return body + gs1_check_digit(body)


@dataclass
class Ledger:
    """Writes projection rows for one tenant; each call flushes and returns the row id."""

    session: Session
    tenant_id: int
    clock: datetime = T0
    ids: dict[str, int] = field(default_factory=dict)

    def event(
        self, name: str, event_type: str, biz_step: str, party_id: int, action: str = "ADD"
    ) -> int:
        self.clock += timedelta(hours=1)
        row = EpcisEvent(
            tenant_id=self.tenant_id,
            event_id=f"urn:uuid:{name}",
            event_type=event_type,
            action=action,
            event_time=self.clock,
            event_time_zone_offset="+00:00",
            biz_step=biz_step,
            capturing_party_id=party_id,
            document={"name": name},
        )
        self.session.add(row)
        self.session.flush()
        self.ids[name] = row.id
        return row.id

    def item(
        self,
        name: str,
        uri: str,
        kind: str,
        *,
        gtin_: str | None = None,
        lot: str | None = None,
        serial: str | None = None,
        sscc: str | None = None,
        lot_of: str | None = None,
        commissioned_by: int | None = None,
        holder: int | None = None,
        location: str | None = None,
        disposition: str | None = None,
        parties: tuple[int, ...] = (),
    ) -> int:
        row = TraceItem(
            tenant_id=self.tenant_id,
            uri=uri,
            kind=kind,
            gtin=gtin_,
            lot=lot,
            serial=serial,
            sscc=sscc,
            lot_item_id=self.ids[lot_of] if lot_of else None,
            first_event_id=commissioned_by,
            commissioned=commissioned_by is not None,
            last_event_time=self.clock,
            last_biz_location=location,
            last_disposition=disposition,
            holder_party_id=holder,
        )
        self.session.add(row)
        self.session.flush()
        self.ids[name] = row.id
        for party in parties:
            self.involve(name, party)
        return row.id

    def lot(self, name: str, product: int, number: str, **kwargs: object) -> int:
        code = gtin(product)
        return self.item(
            name, f"{DL}/01/{code}/10/{number}", "lot", gtin_=code, lot=number, **kwargs
        )  # type: ignore[arg-type]

    def serial(self, name: str, product: int, number: str, **kwargs: object) -> int:
        code = gtin(product)
        return self.item(
            name, f"{DL}/01/{code}/21/{number}", "serial", gtin_=code, serial=number, **kwargs
        )  # type: ignore[arg-type]

    def logistic_unit(self, name: str, n: int, **kwargs: object) -> int:
        number = sscc_number(n)
        return self.item(name, f"{DL}/00/{number}", "sscc", sscc=number, **kwargs)  # type: ignore[arg-type]

    def involve(self, item: str, party_id: int, relation: str = "holder") -> None:
        self.session.add(
            ItemParty(
                tenant_id=self.tenant_id,
                item_id=self.ids[item],
                party_id=party_id,
                relation=relation,
            )
        )
        self.session.flush()

    def edge(
        self,
        source: str,
        target: str,
        kind: str,
        event_row_id: int,
        retracted_by: int | None = None,
    ) -> int:
        row = GenealogyEdge(
            tenant_id=self.tenant_id,
            from_item_id=self.ids[source],
            to_item_id=self.ids[target],
            kind=kind,
            event_row_id=event_row_id,
            retracted_by_event_id=retracted_by,
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def hop(
        self,
        item: str,
        from_party: int,
        to_party: int,
        ship_row: int,
        receive_row: int | None = None,
        quantity: str | None = None,
        retracted_by: int | None = None,
    ) -> int:
        row = CustodyHop(
            tenant_id=self.tenant_id,
            item_id=self.ids[item],
            from_party_id=from_party,
            to_party_id=to_party,
            quantity=Decimal(quantity) if quantity else None,
            ship_event_row_id=ship_row,
            receive_event_row_id=receive_row,
            shipped_at=self.clock,
            received_at=self.clock if receive_row else None,
            retracted_by_event_id=retracted_by,
        )
        self.session.add(row)
        self.session.flush()
        return row.id


class ledger:
    """A unit of work (RLS bypassed) yielding a :class:`Ledger`; commits on exit."""

    def __init__(self, factory: sessionmaker[Session], tenant_id: int) -> None:
        self._context = system_unit_of_work(factory)
        self._tenant_id = tenant_id

    def __enter__(self) -> Ledger:
        session = self._context.__enter__()
        return Ledger(session, self._tenant_id)

    def __exit__(self, *exc: object) -> None:
        self._context.__exit__(*exc)  # type: ignore[arg-type]
