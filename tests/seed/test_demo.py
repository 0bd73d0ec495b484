"""The demo network: exact content, valid identifiers, audited, deterministic, and loadable by CLI.

Seeding takes a few seconds (mostly the argon2id hashes of the demo users' passwords), so one
seeded database is shared by the read-only tests of this module; the determinism test seeds a
second fresh database and the CLI test a third.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from medledger.catalog.models import (
    BillOfMaterials,
    BomLine,
    MarketAuthorisation,
    Product,
)
from medledger.catalog.service import is_authorised
from medledger.cli import app as cli
from medledger.compliance.audit import verify_chain
from medledger.compliance.models import AuditEntry
from medledger.core.db import make_engine, make_session_factory
from medledger.core.migrate import upgrade
from medledger.core.security import verify_password
from medledger.identifiers.checkdigit import normalise_gtin, validate_gln
from medledger.parties.models import Location, Party, Site, Tenant, User
from medledger.seed.demo import (
    DEMO_PASSWORD,
    DemoNetwork,
    build_demo_network,
    database_is_empty,
    gmn_check_pair,
    load_demo_network,
)
from medledger.seed.demo_catalogue import ANCHOR_DATE
from tests.conftest import BACKEND, POSTGRES_URL


def _fresh_engine(template: str, directory: Path, name: str) -> Iterator[Engine]:
    """A migrated, empty database of its own (not the per-test one conftest truncates)."""
    if BACKEND == "sqlite":
        path = directory / f"{name}.db"
        shutil.copyfile(template, path)
        engine = make_engine(f"sqlite:///{path}")
        yield engine
        engine.dispose()
        return
    base, _, _ = POSTGRES_URL.rpartition("/")
    database = f"{template.rpartition('/')[2]}_{name}"
    admin = make_engine(POSTGRES_URL)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{database}"'))
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    engine = make_engine(f"{base}/{database}")
    upgrade(engine)
    yield engine
    engine.dispose()
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def seeded_engine(
    database_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    yield from _fresh_engine(database_template, tmp_path_factory.mktemp("seed"), "seed_a")


@pytest.fixture(scope="module")
def network(seeded_engine: Engine) -> DemoNetwork:
    return build_demo_network(make_session_factory(seeded_engine))


@pytest.fixture
def session(seeded_engine: Engine, network: DemoNetwork) -> Iterator[Session]:
    # Read-only checks; the system unit of work is not needed because nothing is written, and
    # on PostgreSQL the test role owns the tables (RLS does not apply to the owner).
    with make_session_factory(seeded_engine)() as s:
        yield s


def _count(session: Session, model: Any, *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _rows(session: Session, statement: Any) -> list[tuple[Any, ...]]:
    return sorted(tuple(row) for row in session.execute(statement))


def _snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Everything that identifies the demo data, in a stable order."""
    with make_session_factory(engine)() as s:
        return {
            "parties": _rows(
                s,
                select(
                    Party.gln, Party.name, Party.country, Party.region, Party.time_zone, Party.roles
                ),
            ),
            "sites": _rows(s, select(Site.gln, Site.name, Site.time_zone)),
            "locations": _rows(
                s,
                select(
                    Location.gln,
                    Location.code,
                    Location.name,
                    Location.storage_class,
                    Location.zone_purpose,
                ),
            ),
            "products": _rows(
                s,
                select(
                    Product.gtin,
                    Product.name,
                    Product.basic_udi_di,
                    Product.tracking_level,
                    Product.storage_class,
                ),
            ),
            "authorisations": _rows(
                s,
                select(
                    Product.gtin,
                    MarketAuthorisation.region,
                    MarketAuthorisation.certificate_number,
                    MarketAuthorisation.valid_from,
                    MarketAuthorisation.valid_until,
                ).join(Product, Product.id == MarketAuthorisation.product_id),
            ),
            "bom_lines": _rows(
                s,
                select(
                    Product.gtin,
                    BillOfMaterials.version,
                    BomLine.component_gtin,
                    BomLine.quantity_per,
                )
                .join(BillOfMaterials, BillOfMaterials.id == BomLine.bom_id)
                .join(Product, Product.id == BillOfMaterials.product_id),
            ),
            "users": _rows(s, select(User.username, User.role, User.locale, User.time_zone)),
        }


# --- content ---------------------------------------------------------------------------------


def test_parties_per_role_and_region(session: Session) -> None:
    roles = Counter(role for roles in session.scalars(select(Party.roles)) for role in roles)
    assert roles == {
        "manufacturer": 1,
        "supplier": 6,
        "contract_manufacturer": 1,
        "test_lab": 1,
        "logistics_provider": 1,
        "distributor": 5,
        "hospital": 30,
    }
    hospitals = [p for p in session.scalars(select(Party)) if "hospital" in p.roles]
    assert Counter(p.region for p in hospitals) == {"CN": 10, "EU": 10, "US": 10}
    for party in session.scalars(select(Party)):
        assert party.contacts and party.contacts[0]["name"] and "@" in party.contacts[0]["email"]
        assert party.country and party.region and party.time_zone != "UTC"


def test_the_hub_owns_the_tenant_with_two_plants_and_three_distribution_centres(
    session: Session, network: DemoNetwork
) -> None:
    tenant = session.get(Tenant, network.tenant_id)
    assert tenant is not None and tenant.slug == "demo"
    assert tenant.owner_party_id == network.hub.id
    assert network.hub.name == "Lumen Medical Devices"
    assert sorted(s.key for s in network.sites_of("hub")) == [
        "dc-chengdu",
        "dc-shanghai",
        "dc-venlo",
        "plant-galway",
        "plant-suzhou",
    ]
    assert {s.country for s in network.sites_of("hub")} == {"CN", "IE", "NL"}


def test_sites_and_locations(session: Session, network: DemoNetwork) -> None:
    assert _count(session, Site) == 49
    assert _count(session, Location) == 159
    assert _count(session, Location, Location.party_id == network.hub.id) == 29
    zones = {"receiving_quarantine", "released", "rejected", "shipping"}
    for site in network.sites_of("hub"):
        ambient = network.locations_of(site.key, storage_class="ambient")
        assert {loc.zone_purpose for loc in ambient} == zones, site.key
    # The cold-chain DC runs every zone at 2–8 °C too; the Galway plant keeps frozen antibodies.
    chilled_dc = network.locations_of("dc-venlo", storage_class="chilled_2_8")
    assert {loc.zone_purpose for loc in chilled_dc} == zones
    assert {loc.code for loc in network.locations_of("plant-galway", storage_class="frozen")} == {
        "RCV-F",
        "REL-F",
    }
    chilled_hub_sites = {
        loc.site_key
        for loc in network.locations.values()
        if loc.party_key == "hub" and loc.storage_class == "chilled_2_8"
    }
    assert chilled_hub_sites == {"dc-venlo", "plant-galway"}
    for hospital in network.parties_with_role("hospital"):
        (site,) = network.sites_of(hospital.key)
        assert [loc.code for loc in network.locations_of(site.key)] == ["RCV", "STORE", "LAB-C"]


def test_products_by_kind(session: Session, network: DemoNetwork) -> None:
    assert _count(session, Product) == 64
    finished = session.scalars(
        select(Product).where(Product.owner_party_id == network.hub.id)
    ).all()
    assert len(finished) == 40
    assert Counter(p.tracking_level for p in finished) == {"serial": 12, "lot": 28}
    assert Counter(p.storage_class for p in finished) == {"ambient": 32, "chilled_2_8": 8}
    assert Counter(p.unit_of_measure for p in finished) == {"EA": 24, "KT": 16}
    assert all(p.shelf_life_days for p in finished)
    assert all(p.basic_udi_di for p in finished)
    serial = [p for p in finished if p.tracking_level == "serial"]
    assert {p.device_class_eu for p in serial} == {"III", "IIb"}
    assert {p.device_class_cn for p in serial} == {"III"}
    components = session.scalars(
        select(Product).where(Product.owner_party_id != network.hub.id)
    ).all()
    assert len(components) == 24
    owners = {
        network.parties[p.owner_key].roles for p in network.products.values() if p.is_component
    }
    assert owners == {("supplier",), ("contract_manufacturer",)}
    assert {p.storage_class for p in components} == {"ambient", "chilled_2_8", "frozen"}
    assert all(p.basic_udi_di is None and p.device_class_us is None for p in components)


def test_market_authorisations(session: Session, network: DemoNetwork) -> None:
    assert _count(session, MarketAuthorisation) == 116
    patterns = {
        "fda_510k": r"K\d{6}",
        "fda_pma": r"P\d{6}",
        "fda_exempt": r"D\d{6}",
        "eu_mdr_certificate": r"(MDR \d{6}|NC-MDR-\d{4}-\d{4})",
        "eu_ivdr_certificate": r"(IVDR \d{6}|NC-IVDR-\d{4}-\d{4})",
        "eu_self_declaration": r"DoC-LMD-\d{4}-\d{3}",
        "nmpa_registration": r"(国|苏)械注准20\d{2}[23]\d{6}",
        "nmpa_filing": r"苏苏械备20\d{6}",
    }
    for auth in session.scalars(select(MarketAuthorisation)):
        assert re.fullmatch(patterns[auth.kind], auth.certificate_number), auth.certificate_number
        assert auth.valid_until is None or auth.valid_until > auth.valid_from
    # Class III in China is registered nationally, class II in the province.
    for product in session.scalars(select(Product)):
        numbers = session.scalars(
            select(MarketAuthorisation.certificate_number).where(
                MarketAuthorisation.product_id == product.id, MarketAuthorisation.region == "CN"
            )
        )
        for number in numbers:
            expected = {"III": "国械注准", "II": "苏械注准", "I": "苏苏械备"}[
                product.device_class_cn or ""
            ]
            assert number.startswith(expected), (product.name, number)


@pytest.mark.parametrize(
    ("product", "region", "on", "authorised"),
    [
        ("vela-3018", "US", ANCHOR_DATE, True),
        ("vela-3018", "EU", ANCHOR_DATE, True),
        ("vela-3018", "CN", ANCHOR_DATE, True),
        ("aortis-23", "US", ANCHOR_DATE, False),  # never approved in the US
        ("aortis-23", "EU", ANCHOR_DATE, True),
        ("strata-3", "CN", date(2025, 12, 31), True),
        ("strata-3", "CN", ANCHOR_DATE, False),  # registration lapsed
        ("fusio-10", "EU", ANCHOR_DATE, False),  # certificate expired in 2025
        ("fusio-10", "US", ANCHOR_DATE, True),
        ("pct-reagent", "EU", ANCHOR_DATE, False),  # IVDR certification pending
        ("bnp-calibrator", "CN", ANCHOR_DATE, False),  # registration starts mid-2027
        ("bnp-calibrator", "CN", date(2027, 6, 1), True),
        ("kit-suture", "CN", ANCHOR_DATE, False),  # not marketed in China
        ("kit-dressing", "CN", date(2040, 1, 1), True),  # a class I filing does not expire
    ],
)
def test_authorisation_gaps_for_allocation_rules(
    session: Session,
    network: DemoNetwork,
    product: str,
    region: str,
    on: date,
    authorised: bool,
) -> None:
    product_id = network.products[product].id
    assert is_authorised(session, network.tenant_id, product_id, region, on) is authorised


def test_every_finished_product_has_one_active_bom_of_known_components(
    session: Session, network: DemoNetwork
) -> None:
    assert Counter(session.scalars(select(BillOfMaterials.status))) == {"active": 40}
    assert _count(session, BomLine) == 122
    gtins = set(session.scalars(select(Product.gtin)))
    for line in session.scalars(select(BomLine)):
        assert line.component_gtin in gtins
        assert line.quantity_per > 0
    pci = network.boms["kit-pci"]
    assert [(line.component_key, line.quantity_per) for line in pci.lines] == [
        ("glide-3015", Decimal(1)),
        ("guide-014", Decimal(1)),
        ("pressure-30", Decimal(1)),
        ("seal-yvalve", Decimal(1)),
        ("c-drape", Decimal(1)),
        ("c-tray", Decimal(1)),
    ]
    kits = [key for key in network.boms if key.startswith("kit-")]
    assert len(kits) == 8
    assert all(len(network.boms[key].lines) >= 2 for key in kits)
    assert sum(len(network.boms[key].lines) >= 5 for key in kits) == 5


def test_users_one_per_hub_role_and_one_per_partner_kind(
    session: Session, network: DemoNetwork
) -> None:
    users = {u.username: u for u in session.scalars(select(User).order_by(User.id))}
    assert {name: u.role for name, u in users.items()} == {
        "admin": "admin",
        "planner": "planner",
        "sales": "sales",
        "warehouse": "warehouse",
        "purchasing": "purchasing",
        "quality": "qa",
        "qa_approver": "qa_approver",
        "auditor": "auditor",
        "supplier": "partner_user",
        "cmo": "partner_user",
        "lab": "partner_user",
        "logistics": "partner_user",
        "distributor": "partner_user",
        "hospital": "partner_user",
    }
    party_roles = {
        name: session.get(Party, u.party_id).roles  # type: ignore[union-attr]
        for name, u in users.items()
    }
    assert party_roles["supplier"] == ["supplier"]
    assert party_roles["cmo"] == ["contract_manufacturer"]
    assert party_roles["lab"] == ["test_lab"]
    assert party_roles["logistics"] == ["logistics_provider"]
    assert party_roles["distributor"] == ["distributor"]
    assert party_roles["hospital"] == ["hospital"]
    assert all(
        users[name].party_id == network.hub.id
        for name in (
            "admin",
            "planner",
            "sales",
            "warehouse",
            "purchasing",
            "quality",
            "qa_approver",
            "auditor",
        )
    )
    assert Counter((u.locale, u.time_zone) for u in users.values()) == {
        ("en", "Europe/Berlin"): 5,
        ("zh_Hans", "Asia/Shanghai"): 5,
        ("en", "America/New_York"): 2,
        ("en", "Europe/Dublin"): 1,
        ("en", "America/Chicago"): 1,
    }
    assert users["hospital"].email == "hospital@mercyridge.example"
    assert users["admin"].email == "admin@lumen-medical.example"
    assert verify_password(users["hospital"].password_hash, DEMO_PASSWORD)
    assert network.users == {name: users[name].id for name in network.users}
    assert [login[0] for login in network.logins] == list(users)


# --- identifiers -----------------------------------------------------------------------------


def test_every_gln_and_gtin_is_valid_and_unique(session: Session) -> None:
    glns = [
        *session.scalars(select(Party.gln)),
        *session.scalars(select(Site.gln)),
        *session.scalars(select(Location.gln)),
    ]
    assert len(glns) == 45 + 49 + 159
    assert len(set(glns)) == len(glns)
    for gln in glns:
        assert gln is not None and validate_gln(gln) == gln
    for product in session.scalars(select(Product)):
        assert normalise_gtin(product.gtin) == product.gtin
        assert product.udi_di == product.gtin
        if product.basic_udi_di is not None:
            body, pair = product.basic_udi_di[:-2], product.basic_udi_di[-2:]
            assert gmn_check_pair(body) == pair
            assert product.basic_udi_di.startswith(product.gtin[1:8])


@pytest.mark.parametrize(
    "gmn",
    # Valid GMNs from the GS1 Syntax Engine's csumalpha linter tests
    # (../shared/vectors/gs1-syntax-linter-derived-vectors.jsonl, lint_csumalpha.c).
    [
        "1987654Ad4X4bL5ttr2310c2K",
        "12345678901234567890123NT",
        "12345_ABCDEFGHIJKLMCP",
        "12345_!\"%&'()*+,-./LC",
        "7907665Bm8v2AB",
        "00000!HV",
        "99999zzzzzzzzzzzzzzzzzzT2",
    ],
)
def test_gmn_check_pair_matches_the_gs1_vectors(gmn: str) -> None:
    assert gmn_check_pair(gmn[:-2]) == gmn[-2:]


def test_gmn_check_pair_rejects_characters_outside_cset_82() -> None:
    with pytest.raises(ValueError):
        gmn_check_pair("12345 A")


def test_identifiers_are_frozen(seeded_engine: Engine, network: DemoNetwork) -> None:
    """A change to any GLN, GTIN or Basic UDI-DI of the demo network is deliberate: update the
    digest together with the data (and tell whoever relies on the identifiers)."""
    snapshot = _snapshot(seeded_engine)
    identifiers = sorted(
        [row[0] for key in ("parties", "sites", "locations") for row in snapshot[key]]
        + [f"{row[0]}|{row[2]}" for row in snapshot["products"]]
    )
    digest = hashlib.sha256("\n".join(identifiers).encode()).hexdigest()
    assert len(identifiers) == 45 + 49 + 159 + 64
    assert digest == FROZEN_IDENTIFIER_DIGEST, digest


FROZEN_IDENTIFIER_DIGEST = "9d1a7fb7584ed3105612df29d6d06db92e55e0e1dbad30a4704187bae9e67537"


# --- audit, determinism, loading -------------------------------------------------------------


def test_every_seeded_record_is_in_a_verified_audit_chain(
    seeded_engine: Engine, session: Session, network: DemoNetwork
) -> None:
    with seeded_engine.connect() as conn:
        report = verify_chain(conn, network.tenant_id)
    assert report.ok, report.broken
    audited = {
        ("create", model.__tablename__): _count(session, model)
        for model in (
            Tenant,
            Party,
            Site,
            Location,
            User,
            Product,
            MarketAuthorisation,
            BillOfMaterials,
            BomLine,
        )
    }
    # Updates: the tenant gets its owner (the hub), every BOM goes from draft to active.
    audited |= {("update", "tenants"): 1, ("update", "boms"): 40}
    actions = session.execute(select(AuditEntry.action, AuditEntry.entity_type))
    assert Counter(tuple(row) for row in actions) == audited
    assert report.entries == sum(audited.values())
    labels = Counter(session.scalars(select(AuditEntry.actor_label)))
    # The tenant and its hub are created by the platform; everything else by the tenant admin.
    assert labels == {"seed": 3, "seed (MedLedger CLI)": report.entries - 3}


def test_seeding_is_deterministic(
    seeded_engine: Engine, network: DemoNetwork, engine: Engine
) -> None:
    # ``engine`` is a second fresh database (the per-test one), seeded independently.
    again = build_demo_network(make_session_factory(engine))
    assert again == network
    assert _snapshot(engine) == _snapshot(seeded_engine)


def test_load_demo_network_returns_the_same_handle(
    seeded_engine: Engine, network: DemoNetwork
) -> None:
    assert load_demo_network(make_session_factory(seeded_engine)) == network


def test_load_demo_network_without_a_demo_tenant_fails(factory: sessionmaker[Session]) -> None:
    with pytest.raises(LookupError, match="seed demo"):
        load_demo_network(factory)


# --- CLI -------------------------------------------------------------------------------------


def test_cli_seeds_an_empty_database_once(
    engine: Engine, factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    from medledger.core.config import get_settings

    monkeypatch.setenv("MEDLEDGER_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        assert database_is_empty(factory) is True
        runner = CliRunner()
        first = runner.invoke(cli, ["seed", "demo"])
        assert first.exit_code == 0, first.output
        assert "'medledger-demo'" in first.output
        assert re.search(r"^  admin\s+admin\s+Lumen Medical Devices$", first.output, re.M)
        assert re.search(
            r"^  hospital\s+partner_user\s+Mercy Ridge Medical Center$", first.output, re.M
        )
        assert len([line for line in first.output.splitlines() if line.startswith("  ")]) == 14
        assert database_is_empty(factory) is False

        second = runner.invoke(cli, ["seed", "demo"])
        assert second.exit_code == 0, second.output
        assert "demo seed skipped" in second.output
        with factory() as s:
            assert _count(s, Tenant) == 1
            assert _count(s, Party) == 45
    finally:
        get_settings.cache_clear()
