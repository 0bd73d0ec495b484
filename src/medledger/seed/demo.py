"""The deterministic demo network (``medledger seed demo``).

The network in :mod:`medledger.seed.demo_network` and :mod:`medledger.seed.demo_catalogue`
is built through the real services in one unit of
work, acting as the tenant's administrator, so every record passes the same validation as an API
call and is written to the audit trail. Identifiers are derived, never drawn at random: GLNs from
each party's GS1 company prefix (party, then ``site * 100``, then ``site * 100 + location``), GTINs
from the owner's prefix and the item reference, Basic UDI-DIs from the hub's prefix and the model
name with their GS1 check-character pair. Seeding twice into fresh databases gives identical
data, ids included.

:func:`seed_demo_network` returns the demo logins for the CLI; :func:`build_demo_network` returns
a :class:`DemoNetwork` (ids, GLNs and GTINs by stable key) for later steps such as a year of
EPCIS history, and :func:`load_demo_network` rebuilds that handle from an already seeded database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from medledger.catalog import service as catalog
from medledger.catalog.models import BillOfMaterials, BomStatus, Product
from medledger.catalog.schemas import AuthorisationIn, BomIn, BomLineIn, ProductIn
from medledger.core.principal import Principal
from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.core.work import work_of
from medledger.identifiers.checkdigit import gs1_check_digit
from medledger.parties import service as parties
from medledger.parties.models import Location, Party, Site, Tenant, User
from medledger.parties.schemas import Contact, LocationIn, PartyIn, SiteIn, UserIn
from medledger.seed import demo_catalogue, demo_network
from medledger.seed.demo_catalogue import ProductSpec
from medledger.seed.demo_network import PartySpec

DEMO_PASSWORD = "medledger-demo"

_Row = TypeVar("_Row")


# --- identifiers -----------------------------------------------------------------------------


def party_gln(spec: PartySpec) -> str:
    """The party's own GLN: its company prefix with location reference 00000."""
    return _gln(spec.company_prefix, 0)


def site_gln(spec: PartySpec, site_index: int) -> str:
    """GLN of the party's ``site_index``-th site (0-based)."""
    return _gln(spec.company_prefix, (site_index + 1) * 100)


def location_gln(spec: PartySpec, site_index: int, location_index: int) -> str:
    """GLN of a location inside a site (both 0-based)."""
    return _gln(spec.company_prefix, (site_index + 1) * 100 + location_index + 1)


def product_gtin(spec: ProductSpec) -> str:
    """GTIN-14: indicator digit 0, the owner's company prefix, the item reference, check digit."""
    body = f"0{PARTY_BY_KEY[spec.owner_key].company_prefix}{spec.item_reference:05d}"
    return body + gs1_check_digit(body)


def basic_udi_di(spec: ProductSpec) -> str | None:
    """GS1 Basic UDI-DI (a GMN, AI 8013): the owner's prefix, the model, the check pair."""
    if spec.model is None:
        return None
    body = f"{PARTY_BY_KEY[spec.owner_key].company_prefix}{spec.model}"
    return body + gmn_check_pair(body)


def _gln(company_prefix: str, location_reference: int) -> str:
    body = f"{company_prefix}{location_reference:05d}"
    assert len(body) == 12, body
    return body + gs1_check_digit(body)


# GS1 General Specifications §7.9.5: the check-character pair of a GMN (AI 8013) is the weighted
# sum of the CSET 82 values, weighted right-to-left by the primes 2, 3, 5 ..., modulo 1021,
# written as two CSET 32 characters.
_CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_CSET32 = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
_PRIMES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83)


def gmn_check_pair(body: str) -> str:
    """The two GS1 check characters of a GMN / Basic UDI-DI body (at most 23 characters)."""
    if not 1 <= len(body) <= len(_PRIMES):
        raise ValueError(f"A GMN body has 1 to {len(_PRIMES)} characters, not {len(body)}.")
    total = 0
    for position, char in enumerate(body):
        value = _CSET82.find(char)
        if value < 0:
            raise ValueError(f"{char!r} is not in the GS1 CSET 82 character set.")
        total += value * _PRIMES[len(body) - 1 - position]
    total %= 1021
    return _CSET32[total >> 5] + _CSET32[total & 31]


PARTY_BY_KEY: dict[str, PartySpec] = {spec.key: spec for spec in demo_network.PARTIES}
PRODUCT_BY_KEY: dict[str, ProductSpec] = {spec.key: spec for spec in demo_catalogue.PRODUCTS}


# --- the handle later steps use --------------------------------------------------------------


@dataclass(frozen=True)
class PartyRef:
    key: str
    id: int
    gln: str
    name: str
    roles: tuple[str, ...]
    country: str
    region: str
    time_zone: str


@dataclass(frozen=True)
class SiteRef:
    key: str
    id: int
    party_key: str
    gln: str
    name: str
    country: str
    time_zone: str


@dataclass(frozen=True)
class LocationRef:
    key: str  # "<site key>/<code>"
    id: int
    site_key: str
    party_key: str
    code: str
    gln: str
    storage_class: str
    zone_purpose: str


@dataclass(frozen=True)
class ProductRef:
    key: str
    id: int
    gtin: str
    name: str
    owner_key: str
    tracking_level: str
    storage_class: str
    shelf_life_days: int | None
    is_component: bool


@dataclass(frozen=True)
class BomLineRef:
    component_key: str
    component_gtin: str
    quantity_per: Decimal
    unit_of_measure: str


@dataclass(frozen=True)
class BomRef:
    product_key: str
    id: int
    version: int
    lines: tuple[BomLineRef, ...]


@dataclass
class DemoNetwork:
    """Everything the seed created, by the stable keys of the data modules."""

    tenant_id: int
    hub: PartyRef
    parties: dict[str, PartyRef] = field(default_factory=dict)
    sites: dict[str, SiteRef] = field(default_factory=dict)
    locations: dict[str, LocationRef] = field(default_factory=dict)
    products: dict[str, ProductRef] = field(default_factory=dict)
    boms: dict[str, BomRef] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)

    @property
    def logins(self) -> list[tuple[str, str, str]]:
        """(username, role, party name) of every demo user, in creation order."""
        return [
            (spec.username, spec.role.value, self.parties[spec.party_key].name)
            for spec in demo_network.USERS
        ]

    def parties_with_role(self, role: str) -> list[PartyRef]:
        """Parties holding ``role`` (a PartyRole value), in creation order."""
        return [party for party in self.parties.values() if role in party.roles]

    def sites_of(self, party_key: str) -> list[SiteRef]:
        return [site for site in self.sites.values() if site.party_key == party_key]

    def locations_of(
        self, site_key: str, *, zone_purpose: str | None = None, storage_class: str | None = None
    ) -> list[LocationRef]:
        """A site's locations, optionally of one zone purpose and storage class."""
        return [
            loc
            for loc in self.locations.values()
            if loc.site_key == site_key
            and (zone_purpose is None or loc.zone_purpose == zone_purpose)
            and (storage_class is None or loc.storage_class == storage_class)
        ]


# --- seeding ---------------------------------------------------------------------------------


def database_is_empty(factory: sessionmaker[Session]) -> bool:
    """Whether the database has no tenant yet (the demo seed only loads into an empty one)."""
    with system_unit_of_work(factory, label="seed") as session:
        return session.scalar(select(Tenant.id).limit(1)) is None


def seed_demo_network(factory: sessionmaker[Session]) -> list[tuple[str, str, str]]:
    """Load the demo network in one transaction, then a year of EPCIS history (one transaction
    per month, :mod:`medledger.seed.demo_history`), the quality records
    (:mod:`medledger.seed.demo_quality`), the past recalls
    (:mod:`medledger.seed.demo_recall`), transport lanes (:mod:`medledger.seed.demo_transport`),
    EDI partners and API keys
    (:mod:`medledger.seed.demo_gateway`) and the analytics settings and plans
    (:mod:`medledger.seed.demo_analytics`); returns (username, role, party name) of the demo
    users, whose password is :data:`DEMO_PASSWORD`."""
    from medledger.seed.demo_analytics import seed_demo_analytics  # it imports this module
    from medledger.seed.demo_gateway import seed_demo_gateway  # it imports this module
    from medledger.seed.demo_history import seed_demo_history  # it imports this module
    from medledger.seed.demo_inspections import seed_demo_inspections
    from medledger.seed.demo_inventory import seed_demo_inventory
    from medledger.seed.demo_orders import seed_demo_orders  # it imports this module too
    from medledger.seed.demo_production import seed_demo_production  # it imports this module
    from medledger.seed.demo_quality import seed_demo_quality  # it imports this module
    from medledger.seed.demo_recall import seed_demo_recalls
    from medledger.seed.demo_transport import seed_demo_lanes  # it imports this module

    network = build_demo_network(factory)
    seed_demo_history(factory, network)
    seed_demo_inventory(factory, network)
    seed_demo_production(factory, network)
    seed_demo_quality(factory, network)
    seed_demo_inspections(factory, network)
    seed_demo_lanes(factory, network)
    seed_demo_orders(factory, network)
    seed_demo_recalls(factory, network)
    seed_demo_analytics(factory, network)
    seed_demo_gateway(factory, network)
    return network.logins


def build_demo_network(factory: sessionmaker[Session]) -> DemoNetwork:
    """Load the demo network in one transaction and return its handle."""
    with system_unit_of_work(factory, label="seed") as session:
        tenant = parties.create_tenant(
            session,
            name=demo_network.TENANT_NAME,
            slug=demo_network.TENANT_SLUG,
            hub=_party_in(demo_network.HUB),
        )
        admin = tenant_admin(session, tenant.id, label="seed")
        # From here on the audit trail names the tenant's administrator acting as the seed.
        work_of(session).act_as(admin)
        hub = session.get(Party, tenant.owner_party_id)
        assert hub is not None
        network = DemoNetwork(tenant_id=tenant.id, hub=_party_ref(demo_network.HUB, hub))
        network.parties[demo_network.HUB.key] = network.hub
        for spec in demo_network.PARTNERS:
            party = parties.create_party(session, admin, _party_in(spec))
            network.parties[spec.key] = _party_ref(spec, party)
        for spec in demo_network.PARTIES:
            _create_sites(session, admin, spec, network)
        for product_spec in demo_catalogue.PRODUCTS:
            _create_product(session, admin, product_spec, network)
        for product_spec in demo_catalogue.FINISHED:
            _create_bom(session, admin, product_spec, network)
        for user_spec in demo_network.USERS:
            user = parties.create_user(
                session,
                admin,
                UserIn(
                    username=user_spec.username,
                    display_name=user_spec.display_name,
                    email=_user_email(user_spec.username, user_spec.party_key),
                    password=DEMO_PASSWORD,
                    role=user_spec.role,
                    party_id=network.parties[user_spec.party_key].id,
                    locale=user_spec.locale,
                    time_zone=user_spec.time_zone,
                ),
            )
            network.users[user_spec.username] = user.id
        return network


def _user_email(username: str, party_key: str) -> str:
    # Users get a mailbox at their organisation's domain (that of its first contact).
    domain = PARTY_BY_KEY[party_key].contacts[0].email.partition("@")[2]
    return f"{username}@{domain}"


def _party_in(spec: PartySpec) -> PartyIn:
    return PartyIn(
        name=spec.name,
        gln=party_gln(spec),
        roles=list(spec.roles),
        country=spec.country,
        region=spec.region,
        time_zone=spec.time_zone,
        contacts=[
            Contact(name=c.name, email=c.email, phone=c.phone, function=c.function)
            for c in spec.contacts
        ],
    )


def _party_ref(spec: PartySpec, party: Party) -> PartyRef:
    return PartyRef(
        spec.key,
        party.id,
        party.gln,
        party.name,
        tuple(party.roles),
        party.country,
        party.region,
        party.time_zone,
    )


def _create_sites(
    session: Session, admin: Principal, spec: PartySpec, network: DemoNetwork
) -> None:
    party = network.parties[spec.key]
    for site_index, site_spec in enumerate(spec.sites):
        site = parties.create_site(
            session,
            admin,
            SiteIn(
                party_id=party.id,
                name=site_spec.name,
                gln=site_gln(spec, site_index),
                country=site_spec.country or spec.country,
                address=f"{site_spec.address}, {site_spec.country or spec.country}",
                time_zone=site_spec.time_zone or spec.time_zone,
            ),
        )
        network.sites[site_spec.key] = SiteRef(
            site_spec.key, site.id, spec.key, site.gln, site.name, site.country, site.time_zone
        )
        for location_index, loc_spec in enumerate(site_spec.locations):
            location = parties.create_location(
                session,
                admin,
                LocationIn(
                    site_id=site.id,
                    code=loc_spec.code,
                    gln=location_gln(spec, site_index, location_index),
                    name=loc_spec.name,
                    storage_class=loc_spec.storage_class,
                    zone_purpose=loc_spec.zone_purpose,
                ),
            )
            key = f"{site_spec.key}/{loc_spec.code}"
            network.locations[key] = LocationRef(
                key,
                location.id,
                site_spec.key,
                spec.key,
                location.code,
                location.gln or "",
                location.storage_class,
                location.zone_purpose,
            )


def _create_product(
    session: Session, admin: Principal, spec: ProductSpec, network: DemoNetwork
) -> None:
    product = catalog.create_product(
        session,
        admin,
        ProductIn(
            gtin=product_gtin(spec),
            name=spec.name,
            description=spec.description,
            basic_udi_di=basic_udi_di(spec),
            device_class_us=spec.device_class_us,
            device_class_eu=spec.device_class_eu,
            device_class_cn=spec.device_class_cn,
            tracking_level=spec.tracking_level,
            shelf_life_days=spec.shelf_life_days,
            storage_class=spec.storage_class,
            unit_of_measure=spec.unit_of_measure,
            owner_party_id=network.parties[spec.owner_key].id,
        ),
    )
    network.products[spec.key] = _product_ref(spec, product)
    for auth in spec.authorisations:
        catalog.add_authorisation(
            session,
            admin,
            product.id,
            AuthorisationIn(
                kind=auth.kind,
                certificate_number=auth.certificate_number,
                authority=auth.authority,
                valid_from=auth.valid_from,
                valid_until=auth.valid_until,
            ),
        )


def _product_ref(spec: ProductSpec, product: Product) -> ProductRef:
    return ProductRef(
        spec.key,
        product.id,
        product.gtin,
        product.name,
        spec.owner_key,
        product.tracking_level,
        product.storage_class,
        product.shelf_life_days,
        spec.is_component,
    )


def _bom_lines(spec: ProductSpec) -> tuple[BomLineRef, ...]:
    return tuple(
        BomLineRef(component, product_gtin(PRODUCT_BY_KEY[component]), Decimal(quantity), uom)
        for component, quantity, uom in spec.bom
    )


def _create_bom(
    session: Session, admin: Principal, spec: ProductSpec, network: DemoNetwork
) -> None:
    if not spec.bom:
        return
    lines = _bom_lines(spec)
    product = network.products[spec.key]
    draft = catalog.create_bom(
        session,
        admin,
        product.id,
        BomIn(
            note="Initial released design.",
            valid_from=demo_catalogue.BOM_VALID_FROM,
            lines=[
                BomLineIn(
                    component_gtin=line.component_gtin,
                    quantity_per=line.quantity_per,
                    unit_of_measure=line.unit_of_measure,
                )
                for line in lines
            ],
        ),
    )
    active = catalog.activate_bom(session, admin, draft.id)
    network.boms[spec.key] = BomRef(spec.key, active.id, active.version, lines)


# --- reading an existing demo network --------------------------------------------------------


def load_demo_network(factory: sessionmaker[Session]) -> DemoNetwork:
    """The handle of a demo network seeded earlier (looked up by its GLNs and GTINs)."""
    with system_unit_of_work(factory, label="seed") as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == demo_network.TENANT_SLUG))
        if tenant is None:
            raise LookupError(
                f"no demo tenant {demo_network.TENANT_SLUG!r}: run `medledger seed demo`"
            )
        tid = tenant.id
        by_gln = _index(session.scalars(select(Party).where(Party.tenant_id == tid)), "gln")
        sites = _index(session.scalars(select(Site).where(Site.tenant_id == tid)), "gln")
        locations = _index(
            session.scalars(select(Location).where(Location.tenant_id == tid)), "gln"
        )
        products = _index(session.scalars(select(Product).where(Product.tenant_id == tid)), "gtin")
        boms = {
            bom.product_id: bom
            for bom in session.scalars(
                select(BillOfMaterials).where(
                    BillOfMaterials.tenant_id == tid,
                    BillOfMaterials.status == BomStatus.ACTIVE.value,
                )
            )
        }
        users = {
            u.username: u.id for u in session.scalars(select(User).where(User.tenant_id == tid))
        }
        hub_spec = demo_network.HUB
        network = DemoNetwork(tenant_id=tid, hub=_party_ref(hub_spec, by_gln[party_gln(hub_spec)]))
        for spec in demo_network.PARTIES:
            network.parties[spec.key] = _party_ref(spec, by_gln[party_gln(spec)])
            for site_index, site_spec in enumerate(spec.sites):
                site = sites[site_gln(spec, site_index)]
                network.sites[site_spec.key] = SiteRef(
                    site_spec.key,
                    site.id,
                    spec.key,
                    site.gln,
                    site.name,
                    site.country,
                    site.time_zone,
                )
                for location_index, loc_spec in enumerate(site_spec.locations):
                    location = locations[location_gln(spec, site_index, location_index)]
                    key = f"{site_spec.key}/{loc_spec.code}"
                    network.locations[key] = LocationRef(
                        key,
                        location.id,
                        site_spec.key,
                        spec.key,
                        location.code,
                        location.gln or "",
                        location.storage_class,
                        location.zone_purpose,
                    )
        for product_spec in demo_catalogue.PRODUCTS:
            product = products[product_gtin(product_spec)]
            network.products[product_spec.key] = _product_ref(product_spec, product)
            bom = boms.get(product.id)
            if bom is not None:
                network.boms[product_spec.key] = BomRef(
                    product_spec.key, bom.id, bom.version, _bom_lines(product_spec)
                )
        network.users = {spec.username: users[spec.username] for spec in demo_network.USERS}
        return network


def _index(rows: Iterable[_Row], attribute: str) -> dict[str, _Row]:
    return {str(getattr(row, attribute)): row for row in rows}
