"""The gateway's demo data: EDI settings for two distributors, API keys (one expiring soon)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.integration.edi.models import EdiPartnerSetting
from medledger.parties import service as parties
from medledger.parties.models import ApiKey
from medledger.seed.demo import build_demo_network
from medledger.seed.demo_gateway import seed_demo_gateway


def test_demo_gateway(factory: sessionmaker[Session]) -> None:
    network = build_demo_network(factory)
    assert seed_demo_gateway(factory, network) == 0  # no shipments without the inventory seed
    with system_unit_of_work(factory) as session:
        settings = session.scalars(select(EdiPartnerSetting).order_by(EdiPartnerSetting.id)).all()
        assert [s.syntax for s in settings] == ["edifact", "x12"]
        assert len(session.scalars(select(ApiKey)).all()) == 2
        admin = tenant_admin(session, network.tenant_id)
        _, expiring = parties.expiring(session, admin, within_days=14)
        assert [k.name for k in expiring] == ["WMS"]
