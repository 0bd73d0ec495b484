"""A hand-built multi-tier genealogy shared by the service and API tests.

Supplier lot C1 (commissioned by the supplier, shipped to and received by the hub), C2 (its
edge into F1 retracted by an error declaration) and C3 (never commissioned) go into finished
lot F1 (transformation). F1's serials S1, S2 are packed in SSCC P1, S3 in SSCC P2. P1 goes hub
→ distributor (received) → hospital (never received). P2 goes hub → hospital (received); a
wrong hub → distributor shipment of P2 was retracted.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker
from tests.builders import Network, build_network, gln, party_in
from tests.trace.builders import Ledger, ledger, sscc_number

from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.core.work import work_of
from medledger.parties.models import PartyRole
from medledger.parties.service import create_party

COMPONENT, FINISHED = 10, 20


@dataclass
class TraceNetwork:
    network: Network
    hospital_id: int
    ids: dict[str, int]


def add_hospital(factory: sessionmaker[Session], network: Network) -> int:
    with system_unit_of_work(factory) as session:
        admin = tenant_admin(session, network.tenant_id)
        work_of(session).act_as(admin)
        party = create_party(session, admin, party_in("City Hospital", 4, [PartyRole.HOSPITAL]))
        return party.id


def build_trace_network(factory: sessionmaker[Session]) -> TraceNetwork:
    network = build_network(factory, "acme")
    hospital = add_hospital(factory, network)
    hub, dist, supp = network.hub_id, network.distributor_id, network.supplier_id
    with ledger(factory, network.tenant_id) as book:
        _write(book, hub, dist, supp, hospital)
        ids = dict(book.ids)
    return TraceNetwork(network, hospital, ids)


def _write(book: Ledger, hub: int, dist: int, supp: int, hospital: int) -> None:
    commission = book.event("c1-commission", "ObjectEvent", "commissioning", supp)
    book.lot("C1", COMPONENT, "C1", commissioned_by=commission, holder=hub, parties=(supp, hub))
    c2_commission = book.event("c2-commission", "ObjectEvent", "commissioning", supp)
    book.lot("C2", COMPONENT, "C2", commissioned_by=c2_commission, holder=hub, parties=(supp, hub))
    book.lot("C3", COMPONENT, "C3", holder=hub, parties=(hub,))
    ship = book.event("c1-ship", "ObjectEvent", "shipping", supp)
    receive = book.event("c1-receive", "ObjectEvent", "receiving", hub)
    book.hop("C1", supp, hub, ship, receive, quantity="100")
    transform = book.event("make-f1", "TransformationEvent", "transforming", hub)
    book.lot("F1", FINISHED, "F1", commissioned_by=transform, holder=hub, parties=(hub,))
    for number in ("S1", "S2", "S3"):
        book.serial(number, FINISHED, number, lot_of="F1", holder=hub, parties=(hub,))
    book.edge("C1", "F1", "transformation", transform)
    book.edge("C3", "F1", "transformation", transform)
    declaration = book.event("c2-error", "ObjectEvent", "transforming", hub)
    book.edge("C2", "F1", "transformation", transform, retracted_by=declaration)
    book.logistic_unit(
        "P1",
        1,
        holder=dist,
        location="urn:dist:wh",
        disposition="in_transit",
        parties=(hub, dist, hospital),
    )
    book.logistic_unit("P2", 2, holder=hospital, parties=(hub, hospital))
    pack1 = book.event("pack-p1", "AggregationEvent", "packing", hub)
    book.edge("S1", "P1", "aggregation", pack1)
    book.edge("S2", "P1", "aggregation", pack1)
    pack2 = book.event("pack-p2", "AggregationEvent", "packing", hub)
    book.edge("S3", "P2", "aggregation", pack2)
    p1_ship = book.event("p1-ship", "ObjectEvent", "shipping", hub)
    p1_receive = book.event("p1-receive", "ObjectEvent", "receiving", dist)
    book.hop("P1", hub, dist, p1_ship, p1_receive)
    p1_onward = book.event("p1-onward", "ObjectEvent", "shipping", dist)
    book.hop("P1", dist, hospital, p1_onward)
    wrong = book.event("p2-wrong-ship", "ObjectEvent", "shipping", hub)
    wrong_fix = book.event("p2-wrong-ship-error", "ObjectEvent", "shipping", hub)
    book.hop("P2", hub, dist, wrong, retracted_by=wrong_fix)
    p2_ship = book.event("p2-ship", "ObjectEvent", "shipping", hub)
    p2_receive = book.event("p2-receive", "ObjectEvent", "receiving", hospital)
    book.hop("P2", hub, hospital, p2_ship, p2_receive)


def dl_lot(product: int, number: str) -> str:
    from tests.builders import gtin

    return f"(01){gtin(product)}(10){number}"


def dl_serial(product: int, number: str) -> str:
    from tests.builders import gtin

    return f"(01){gtin(product)}(21){number}"


def sscc_scan(n: int) -> str:
    return f"(00){sscc_number(n)}"


HUB_GLN, DIST_GLN, SUPP_GLN, HOSP_GLN = gln(1), gln(2), gln(3), gln(4)
