"""Demo data of the integration gateway: the distributors' EDI settings (one EANCOM, one X12),
a despatch advice for a shipment to them where the demo shipped one, and partner API keys, one
of them expiring soon (so the home tile and the partner page show something real)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.db import utcnow
from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.core.work import work_of
from medledger.integration.edi import service as edi
from medledger.integration.edi.schemas import EdiSettingsIn
from medledger.inventory.models import Shipment, ShipmentStatus
from medledger.parties import service as parties
from medledger.parties.schemas import ApiKeyIn
from medledger.seed.demo import DemoNetwork


def seed_demo_gateway(factory: sessionmaker[Session], network: DemoNetwork) -> int:
    """EDI settings, despatch advices and API keys; the number of advices sent."""
    sent = 0
    with system_unit_of_work(factory, label="seed") as session:
        admin = tenant_admin(session, network.tenant_id, label="seed")
        work_of(session).act_as(admin)
        distributors = network.parties_with_role("distributor")[:2]
        for number, party in enumerate(distributors):
            x12 = number == 1
            edi.put_settings(
                session,
                admin,
                party.id,
                EdiSettingsIn(
                    syntax="x12" if x12 else "edifact",
                    our_id=("ZZ:LUMENHUB" if x12 else f"14:{network.hub.gln}"),
                    partner_id=(f"ZZ:DIST{number}" if x12 else f"14:{party.gln}"),
                    outbound_folder="",
                    deliver_via_outbox=True,
                ),
            )
            parties.create_api_key(
                session,
                admin,
                ApiKeyIn(
                    party_id=party.id,
                    name="WMS",
                    expires_at=utcnow() + timedelta(days=10 if number == 0 else 200),
                ),
            )
            shipment = session.scalar(
                select(Shipment)
                .where(
                    Shipment.tenant_id == network.tenant_id,
                    Shipment.destination_party_id == party.id,
                    Shipment.status != ShipmentStatus.RETRACTED.value,
                )
                .order_by(Shipment.id)
                .limit(1)
            )
            if shipment is not None:
                edi.send_despatch_advice(
                    session, admin, shipment.id, outbound_root=Path("var/edi/outbound")
                )
                sent += 1
    return sent
