"""Small typed builders for test data, going through the real services."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.principal import Principal
from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.core.work import work_of
from medledger.identifiers.checkdigit import gs1_check_digit
from medledger.parties.models import Party, PartyRole
from medledger.parties.schemas import PartyIn, UserIn
from medledger.parties.service import create_party, create_tenant, create_user

PASSWORD = "correct horse battery"


def gln(n: int, prefix: str = "409876") -> str:
    """A valid GLN from a small number (deterministic)."""
    body = f"{prefix}{n:06d}"
    return body + gs1_check_digit(body)


def gtin(n: int, prefix: str = "0409876") -> str:
    """A valid GTIN-14 from a small number."""
    body = f"{prefix}{n:06d}"
    return body + gs1_check_digit(body)


@dataclass
class Network:
    """A tenant with its hub and two partner parties, and one user per role."""

    tenant_id: int
    hub_id: int
    distributor_id: int
    supplier_id: int
    users: dict[str, int]


def party_in(
    name: str, number: int, roles: list[PartyRole], country: str = "DE", region: str = "EU"
) -> PartyIn:
    return PartyIn(name=name, gln=gln(number), roles=roles, country=country, region=region)


def build_network(factory: sessionmaker[Session], slug: str = "acme", offset: int = 0) -> Network:
    """A tenant ``slug`` with hub, distributor and supplier, and a user per role."""
    with system_unit_of_work(factory) as session:
        tenant = create_tenant(
            session,
            name=f"{slug} network",
            slug=slug,
            hub=party_in(f"{slug} Medical", offset + 1, [PartyRole.MANUFACTURER]),
        )
        admin = tenant_admin(session, tenant.id)
        work_of(session).act_as(admin)
        distributor = create_party(
            session,
            admin,
            party_in(f"{slug} Distribution", offset + 2, [PartyRole.DISTRIBUTOR], "CN", "CN"),
        )
        supplier = create_party(
            session,
            admin,
            party_in(f"{slug} Components", offset + 3, [PartyRole.SUPPLIER], "US", "US"),
        )
        users: dict[str, int] = {}
        for role in (
            "admin",
            "planner",
            "sales",
            "warehouse",
            "purchasing",
            "qa",
            "qa_approver",
            "auditor",
        ):
            user = create_user(
                session,
                admin,
                UserIn(
                    username=f"{slug}-{role}",
                    display_name=f"{slug} {role}",
                    password=PASSWORD,
                    role=role,
                    time_zone="Europe/Berlin",
                ),
            )
            users[role] = user.id
        for party, name in ((distributor, "distributor"), (supplier, "supplier")):
            user = create_user(
                session,
                admin,
                UserIn(
                    username=f"{slug}-{name}",
                    display_name=f"{slug} {name} clerk",
                    password=PASSWORD,
                    role="partner_user",
                    party_id=party.id,
                    time_zone="Asia/Shanghai",
                ),
            )
            users[name] = user.id
        return Network(
            tenant.id, int(tenant.owner_party_id or 0), distributor.id, supplier.id, users
        )


def token_headers(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def admin_principal(factory: sessionmaker[Session], tenant_id: int) -> Principal:
    with system_unit_of_work(factory) as session:
        return tenant_admin(session, tenant_id)


def party_by_id(factory: sessionmaker[Session], party_id: int) -> Party:
    with system_unit_of_work(factory) as session:
        party = session.get(Party, party_id)
        assert party is not None
        return party
