"""The permission matrix: every endpoint × every role, and partner/tenant isolation.

The expectations are written out by hand here (not derived from ROLE_PERMISSIONS), so a change
to a role's rights shows up as a failing row. Every denied call is checked to change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.builders import gln, gtin, token_headers
from tests.fixtures_network import World, build_world, snapshot

HUB_ROLES = ("admin", "planner", "sales", "warehouse", "purchasing", "qa", "qa_approver", "auditor")
PARTNERS = ("distributor", "supplier")
ALL = HUB_ROLES + PARTNERS


@dataclass(frozen=True)
class Call:
    name: str
    method: str
    path: Callable[[World], str]
    body: Callable[[World], dict[str, Any] | None]
    allowed: frozenset[str]  # roles that succeed
    # status for roles not allowed: 403 (role lacks the right) or 404 (record not visible)
    denied: Callable[[str], int]
    mutates: bool


def _partner_404_else_403_for_writers(writers: frozenset[str]) -> Callable[[str], int]:
    # Writers pass the permission check and then cannot see the record (404); others fail the
    # permission check first (403).
    return lambda role: 404 if role in writers else 403


def _403(role: str) -> int:
    return 403


def _404(role: str) -> int:
    return 404


def _none(world: World) -> None:
    return None


def _party_body(world: World) -> dict[str, Any]:
    return {
        "name": "New Hospital",
        "gln": gln(70),
        "roles": ["hospital"],
        "country": "US",
        "region": "US",
    }


def _product_body(world: World) -> dict[str, Any]:
    return {
        "gtin": gtin(77),
        "name": "Stent",
        "tracking_level": "serial",
        "storage_class": "ambient",
    }


WRITERS_PARTIES = frozenset({"admin", "purchasing"})
WRITERS_SITES = frozenset({"admin", "warehouse"})
WRITERS_CATALOG = frozenset({"admin", "qa", "qa_approver"})
AUDIT_READERS = frozenset({"admin", "qa", "qa_approver", "auditor"})
BOM_READERS = frozenset(HUB_ROLES) - {"sales"}
USER_READERS = frozenset({"admin", "auditor"})

CALLS = [
    # reading another party's records: hub staff and auditors see them; partners get 404
    Call(
        "read supplier party",
        "GET",
        lambda w: f"/api/v1/parties/{w.a.supplier_id}",
        _none,
        frozenset(HUB_ROLES) | {"supplier"},
        _404,
        False,
    ),
    Call(
        "read hub party",
        "GET",
        lambda w: f"/api/v1/parties/{w.a.hub_id}",
        _none,
        frozenset(HUB_ROLES),
        _404,
        False,
    ),
    Call(
        "read supplier site",
        "GET",
        lambda w: f"/api/v1/sites/{w.ids['supplier_site']}",
        _none,
        frozenset(HUB_ROLES) | {"supplier"},
        _404,
        False,
    ),
    Call(
        "read hub location",
        "GET",
        lambda w: f"/api/v1/locations/{w.ids['hub_location']}",
        _none,
        frozenset(HUB_ROLES),
        _404,
        False,
    ),
    Call(
        "read distributor location",
        "GET",
        lambda w: f"/api/v1/locations/{w.ids['distributor_location']}",
        _none,
        frozenset(HUB_ROLES) | {"distributor"},
        _404,
        False,
    ),
    Call(
        "read hub user",
        "GET",
        lambda w: f"/api/v1/users/{w.a.users['qa']}",
        _none,
        USER_READERS,
        lambda r: 404 if r in PARTNERS else 403,
        False,
    ),
    Call(
        "read supplier user",
        "GET",
        lambda w: f"/api/v1/users/{w.a.users['supplier']}",
        _none,
        USER_READERS | {"supplier"},
        lambda r: 404 if r in PARTNERS else 403,
        False,
    ),
    Call(
        "read product",
        "GET",
        lambda w: f"/api/v1/products/{w.ids['product']}",
        _none,
        frozenset(ALL),
        _403,
        False,
    ),
    Call(
        "read product authorisations",
        "GET",
        lambda w: f"/api/v1/products/{w.ids['product']}/authorisations",
        _none,
        frozenset(ALL),
        _403,
        False,
    ),
    Call(
        "read BOMs",
        "GET",
        lambda w: f"/api/v1/products/{w.ids['product']}/boms",
        _none,
        BOM_READERS,
        _403,
        False,
    ),
    Call(
        "read BOM", "GET", lambda w: f"/api/v1/boms/{w.ids['bom']}", _none, BOM_READERS, _403, False
    ),
    Call("read audit trail", "GET", lambda w: "/api/v1/audit", _none, AUDIT_READERS, _403, False),
    Call(
        "verify audit chain",
        "GET",
        lambda w: "/api/v1/audit/verify",
        _none,
        AUDIT_READERS,
        _403,
        False,
    ),
    Call(
        "list API keys",
        "GET",
        lambda w: "/api/v1/api-keys",
        _none,
        frozenset({"admin"}),
        _403,
        False,
    ),
    # tenant B's records are invisible to everyone in tenant A
    Call(
        "read other tenant party",
        "GET",
        lambda w: f"/api/v1/parties/{w.b.hub_id}",
        _none,
        frozenset(),
        _404,
        False,
    ),
    Call(
        "read other tenant product",
        "GET",
        lambda w: f"/api/v1/products/{w.ids['b_product']}",
        _none,
        frozenset(),
        _404,
        False,
    ),
    Call(
        "read other tenant site",
        "GET",
        lambda w: f"/api/v1/sites/{w.ids['b_site']}",
        _none,
        frozenset(),
        _404,
        False,
    ),
    Call(
        "read other tenant BOM",
        "GET",
        lambda w: f"/api/v1/boms/{w.ids['b_bom']}",
        _none,
        frozenset(),
        lambda r: 403 if r in PARTNERS or r == "sales" else 404,
        False,
    ),
    # writes
    Call(
        "create party",
        "POST",
        lambda w: "/api/v1/parties",
        _party_body,
        WRITERS_PARTIES,
        _403,
        True,
    ),
    Call(
        "update supplier party",
        "PATCH",
        lambda w: f"/api/v1/parties/{w.a.supplier_id}",
        lambda w: {"name": "Renamed"},
        WRITERS_PARTIES,
        _403,
        True,
    ),
    Call(
        "deactivate supplier party",
        "POST",
        lambda w: f"/api/v1/parties/{w.a.supplier_id}/deactivate",
        _none,
        WRITERS_PARTIES,
        _403,
        True,
    ),
    Call(
        "update other tenant party",
        "PATCH",
        lambda w: f"/api/v1/parties/{w.b.hub_id}",
        lambda w: {"name": "Hijacked"},
        frozenset(),
        _partner_404_else_403_for_writers(WRITERS_PARTIES),
        True,
    ),
    Call(
        "create site",
        "POST",
        lambda w: "/api/v1/sites",
        lambda w: {"party_id": w.a.hub_id, "name": "Plant 3", "gln": gln(71), "country": "DE"},
        WRITERS_SITES,
        _403,
        True,
    ),
    Call(
        "update supplier site",
        "PATCH",
        lambda w: f"/api/v1/sites/{w.ids['supplier_site']}",
        lambda w: {"name": "Renamed"},
        WRITERS_SITES,
        _403,
        True,
    ),
    Call(
        "create location",
        "POST",
        lambda w: "/api/v1/locations",
        lambda w: {
            "site_id": w.ids["hub_site"],
            "code": "Q-1",
            "name": "Quarantine",
            "storage_class": "ambient",
            "zone_purpose": "receiving_quarantine",
        },
        WRITERS_SITES,
        _403,
        True,
    ),
    Call(
        "deactivate hub location",
        "POST",
        lambda w: f"/api/v1/locations/{w.ids['hub_location']}/deactivate",
        _none,
        WRITERS_SITES,
        _403,
        True,
    ),
    Call(
        "create product",
        "POST",
        lambda w: "/api/v1/products",
        _product_body,
        WRITERS_CATALOG,
        _403,
        True,
    ),
    Call(
        "update product",
        "PATCH",
        lambda w: f"/api/v1/products/{w.ids['product']}",
        lambda w: {"name": "Renamed"},
        WRITERS_CATALOG,
        _403,
        True,
    ),
    Call(
        "add authorisation",
        "POST",
        lambda w: f"/api/v1/products/{w.ids['product']}/authorisations",
        lambda w: {
            "kind": "nmpa_registration",
            "certificate_number": "国械注准20253130001",
            "valid_from": "2025-06-01",
        },
        WRITERS_CATALOG,
        _403,
        True,
    ),
    Call(
        "create BOM",
        "POST",
        lambda w: f"/api/v1/products/{w.ids['product']}/boms",
        lambda w: {"lines": [{"component_gtin": gtin(60), "quantity_per": "1"}]},
        WRITERS_CATALOG,
        _403,
        True,
    ),
    Call(
        "activate BOM",
        "POST",
        lambda w: f"/api/v1/boms/{w.ids['bom']}/activate",
        _none,
        WRITERS_CATALOG,
        _403,
        True,
    ),
    Call(
        "create user",
        "POST",
        lambda w: "/api/v1/users",
        lambda w: {
            "username": "newbie",
            "display_name": "N",
            "password": "long enough pw",
            "role": "sales",
        },
        frozenset({"admin"}),
        _403,
        True,
    ),
    Call(
        "deactivate supplier user",
        "POST",
        lambda w: f"/api/v1/users/{w.a.users['supplier']}/deactivate",
        _none,
        frozenset({"admin"}),
        _403,
        True,
    ),
    Call(
        "create API key",
        "POST",
        lambda w: "/api/v1/api-keys",
        lambda w: {"party_id": w.a.distributor_id, "name": "ERP"},
        frozenset({"admin"}),
        _403,
        True,
    ),
    # inventory and purchasing (docs/inventory.md)
    Call(
        "read stock",
        "GET",
        lambda w: "/api/v1/inventory/stock",
        _none,
        frozenset(HUB_ROLES),
        _403,
        False,
    ),
    Call(
        "list purchase orders",
        "GET",
        lambda w: "/api/v1/purchase-orders",
        _none,
        frozenset(ALL) - {"sales"},
        _403,
        False,
    ),
    Call(
        "create purchase order",
        "POST",
        lambda w: "/api/v1/purchase-orders",
        lambda w: {
            "supplier_party_id": w.a.supplier_id,
            "ship_to_site_id": w.ids["hub_site"],
            "lines": [
                {
                    "gtin": gtin(1),
                    "quantity": 5,
                    "unit_price": "1.5",
                    "requested_date": "2027-01-01",
                }
            ],
        },
        frozenset({"admin", "purchasing"}),
        _403,
        True,
    ),
    Call(
        "manage the stock of a hub site",
        "POST",
        lambda w: f"/api/v1/inventory/sites/{w.ids['hub_site']}",
        _none,
        frozenset({"admin", "warehouse"}),
        _403,
        True,
    ),
]


@pytest.fixture
def world(factory: sessionmaker[Session]) -> World:
    return build_world(factory)


def _check(
    call: Call, role: str, client: TestClient, factory: sessionmaker[Session], world: World
) -> None:
    headers = token_headers(client, f"acme-{role}")
    before = snapshot(factory)
    response = client.request(call.method, call.path(world), json=call.body(world), headers=headers)
    if role in call.allowed:
        assert response.status_code in (200, 201), f"{role}: {response.text}"
    else:
        assert response.status_code == call.denied(role), f"{role}: {response.text}"
        assert response.headers["content-type"] == "application/problem+json"
        assert snapshot(factory) == before, f"{role}: a denied call changed data"


@pytest.mark.parametrize("call", CALLS, ids=[c.name for c in CALLS])
def test_every_role_that_may_not_write_or_only_reads(
    call: Call, client: TestClient, factory: sessionmaker[Session], world: World
) -> None:
    """All roles on one endpoint against one world: denied calls change nothing, so the world
    stays valid for the next role (successful writes are the next test's business)."""
    for role in ALL:
        if call.mutates and role in call.allowed:
            continue
        _check(call, role, client, factory, world)


@pytest.mark.parametrize(
    ("call", "role"),
    [(c, r) for c in CALLS if c.mutates for r in ALL if r in c.allowed],
    ids=[f"{c.name}-{r}" for c in CALLS if c.mutates for r in ALL if r in c.allowed],
)
def test_roles_that_may_write_succeed(
    call: Call, role: str, client: TestClient, factory: sessionmaker[Session], world: World
) -> None:
    _check(call, role, client, factory, world)


@pytest.mark.parametrize(
    ("role", "expected"),
    [("distributor", "distributor_id"), ("supplier", "supplier_id")],
)
def test_partner_lists_only_its_own_party_records(
    role: str, expected: str, client: TestClient, factory: sessionmaker[Session], world: World
) -> None:
    headers = token_headers(client, f"acme-{role}")
    own_party = getattr(world.a, expected)
    parties = client.get("/api/v1/parties", headers=headers).json()
    assert [p["id"] for p in parties["items"]] == [own_party]
    sites = client.get("/api/v1/sites", headers=headers).json()
    assert {s["party_id"] for s in sites["items"]} == {own_party}
    locations = client.get("/api/v1/locations", headers=headers).json()
    assert {x["party_id"] for x in locations["items"]} == {own_party}
    users = client.get("/api/v1/users", headers=headers).json()
    assert [u["username"] for u in users["items"]] == [f"acme-{role}"]
    products = client.get("/api/v1/products", headers=headers).json()
    assert [p["id"] for p in products["items"]] == [world.ids["product"]]


def test_hub_lists_its_tenant_only(
    client: TestClient, factory: sessionmaker[Session], world: World
) -> None:
    headers = token_headers(client, "acme-planner")
    parties = client.get("/api/v1/parties", headers=headers).json()
    assert sorted(p["id"] for p in parties["items"]) == sorted(
        [world.a.hub_id, world.a.distributor_id, world.a.supplier_id]
    )
    products = client.get("/api/v1/products", headers=headers).json()
    assert [p["id"] for p in products["items"]] == [world.ids["product"]]
