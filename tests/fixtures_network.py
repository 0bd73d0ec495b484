"""A populated two-tenant world for permission and isolation tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from medledger.catalog.schemas import AuthorisationIn, BomIn, BomLineIn, ProductIn
from medledger.catalog.service import add_authorisation, create_bom, create_product
from medledger.compliance.models import AuditEntry
from medledger.core.db import Base
from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.core.work import work_of
from medledger.parties.schemas import LocationIn, SiteIn
from medledger.parties.service import create_location, create_site
from tests.builders import Network, build_network, gln, gtin


@dataclass
class World:
    a: Network
    b: Network
    ids: dict[str, int] = field(default_factory=dict)


def build_world(factory: sessionmaker[Session]) -> World:
    """Tenant A (hub, distributor, supplier with a site and location each, a product with an
    authorisation and a BOM) and tenant B (its own hub and records)."""
    a = build_network(factory, "acme", offset=0)
    b = build_network(factory, "bravo", offset=100)
    world = World(a, b)
    with system_unit_of_work(factory) as session:
        for key, net, party_id, n in (
            ("hub_site", a, a.hub_id, 11),
            ("supplier_site", a, a.supplier_id, 12),
            ("distributor_site", a, a.distributor_id, 13),
            ("b_site", b, b.hub_id, 111),
        ):
            admin = tenant_admin(session, net.tenant_id)
            work_of(session).act_as(admin)
            site = create_site(
                session, admin, SiteIn(party_id=party_id, name=key, gln=gln(n), country="DE")
            )
            world.ids[key] = site.id
            location = create_location(
                session,
                admin,
                LocationIn(
                    site_id=site.id,
                    code="REL-01",
                    name=f"{key} released",
                    storage_class="ambient",
                    zone_purpose="released",
                ),
            )
            world.ids[key.replace("site", "location")] = location.id
        for key, net, n in (("product", a, 1), ("b_product", b, 2)):
            admin = tenant_admin(session, net.tenant_id)
            work_of(session).act_as(admin)
            product = create_product(
                session,
                admin,
                ProductIn(
                    gtin=gtin(n),
                    name=f"{key} catheter",
                    tracking_level="lot",
                    storage_class="ambient",
                    shelf_life_days=730,
                    device_class_eu="IIa",
                ),
            )
            world.ids[key] = product.id
            authorisation = add_authorisation(
                session,
                admin,
                product.id,
                AuthorisationIn(
                    kind="eu_mdr_certificate",
                    certificate_number=f"MDR-{n}",
                    valid_from="2025-01-01",
                ),
            )
            world.ids[key.replace("product", "authorisation")] = authorisation.id
            bom = create_bom(
                session,
                admin,
                product.id,
                BomIn(lines=[BomLineIn(component_gtin=gtin(50 + n), quantity_per=Decimal("2"))]),
            )
            world.ids[key.replace("product", "bom")] = bom.id
    return world


def snapshot(factory: sessionmaker[Session]) -> dict[str, object]:
    """Row counts of every table plus the audit chain tail: equal snapshots = nothing changed."""
    with system_unit_of_work(factory) as session:
        counts: dict[str, object] = {}
        for table in Base.metadata.sorted_tables:
            if table.name in ("login_attempts", "auth_sessions"):
                continue  # authentication itself writes these
            counts[table.name] = session.scalar(select(func.count()).select_from(table))
        counts["audit_tail"] = session.scalar(select(func.max(AuditEntry.seq)))
        counts["audit_non_login"] = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action != "login")
        )
        return counts
