"""The permission matrix: every endpoint × every role, and partner/tenant isolation.

The expectations are written out by hand here (not derived from ROLE_PERMISSIONS), so a change
to a role's rights shows up as a failing row. Every denied call is checked to change nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.work import work_of
from tests import matrix_records
from tests.builders import gln, gtin, token_headers
from tests.fixtures_network import World, build_world, snapshot
from tests.matrix_records import Records

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


# --- the route-table matrix ------------------------------------------------------------------
#
# Every operation of the API (read from the application's route table, so a new endpoint
# without an entry fails `test_every_route_has_a_matrix_entry`) × every role × the record it
# acts on: the caller's own party's record, another party's record of the same network, and a
# record of another tenant (invisible to everyone). The expected status follows from two sets
# written out per entry: the roles that hold the permission (others: 403, checked first) and
# the roles that see the target (permitted roles that do not: `hidden`, 404 or for a reference
# in a body 422). Denied calls must change nothing; successful writes run on a fresh world.

OWN, OTHER, INVISIBLE, NONE, SHARED = "own", "other", "invisible", "none", "shared"
PARTY_TARGETS = (OWN, OTHER, INVISIBLE)
SHARED_TARGETS = (SHARED, INVISIBLE)
CAPTURERS = frozenset({"admin", "warehouse", "qa", "qa_approver", *PARTNERS})


def _party_scoped(role: str, target: str) -> bool:
    """Hub staff see every party's records of their tenant; partners only their own party's."""
    if target == INVISIBLE:
        return False
    return target in (OWN, NONE, SHARED) or role in HUB_ROLES


def _tenant_shared(role: str, target: str) -> bool:
    return target != INVISIBLE


@dataclass(frozen=True)
class Rule:
    permitted: frozenset[str]
    ok: int
    targets: tuple[str, ...] = PARTY_TARGETS
    sees: Callable[[str, str], bool] = _party_scoped
    hidden: int = 404
    mutates: bool = True
    # (role, target) -> status where a business rule decides instead (409, 422).
    special: Callable[[str, str], int | None] = lambda role, target: None
    # The write succeeds again and again (an update): its successful calls share one world.
    repeatable: bool = False


@dataclass
class MatrixWorld:
    world: World
    keys: dict[str, int]
    jobs: dict[str, str]
    events: dict[str, str]
    items: dict[str, str]
    # party key -> (recall id, notice id): a recall notified to that party only
    recalls: dict[str, tuple[int, int]] = field(default_factory=dict)
    plans: dict[str, int] = field(default_factory=dict)
    actions: dict[str, int] = field(default_factory=dict)
    subscriptions: dict[str, str] | None = None
    records: Records = field(default_factory=Records)


def _party_of(role: str) -> str:
    return role if role in PARTNERS else "hub"


def _other_party(role: str) -> str:
    return {"distributor": "supplier", "supplier": "distributor"}.get(role, "supplier")


def _party_key(role: str, target: str) -> str:
    if target == INVISIBLE:
        return "b"
    return _party_of(role) if target == OWN else _other_party(role)


def _party_id(w: MatrixWorld, key: str) -> int:
    net = w.world.a
    return {
        "hub": net.hub_id,
        "distributor": net.distributor_id,
        "supplier": net.supplier_id,
        "b": w.world.b.hub_id,
    }[key]


def _site(w: MatrixWorld, role: str, target: str, kind: str = "site") -> int:
    key = _party_key(role, target)
    name = {"hub": "hub", "distributor": "distributor", "supplier": "supplier", "b": "b"}[key]
    return w.world.ids[f"{name}_{kind}" if key != "b" else f"b_{kind}"]


def _user(w: MatrixWorld, role: str, target: str) -> int:
    key = _party_key(role, target)
    if key == "b":
        return w.world.b.users["planner"]
    if key == "hub":
        return w.world.a.users["planner" if role == "auditor" else "auditor"]
    return w.world.a.users[key]


def _shared(w: MatrixWorld, target: str, name: str) -> int:
    return w.world.ids[name if target == SHARED else f"b_{name}"]


def _event_document(n: int, party_gln: str, item: str) -> dict[str, Any]:
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-03-02T07:00:00Z",
        "epcisBody": {
            "eventList": [
                {
                    "type": "ObjectEvent",
                    "eventID": f"urn:uuid:0b0e7a10-0000-4000-8000-{n:012d}",
                    "eventTime": "2026-03-02T08:00:00Z",
                    "eventTimeZoneOffset": "+00:00",
                    "action": "ADD",
                    "bizStep": "commissioning",
                    "disposition": "active",
                    "epcList": [item],
                    "readPoint": {"id": f"https://id.gs1.org/414/{party_gln}"},
                }
            ]
        },
    }


def _matrix_world(
    client: TestClient, factory: sessionmaker[Session], path: str = "/epcis"
) -> MatrixWorld:
    from medledger.core.system import system_unit_of_work, tenant_admin
    from medledger.parties.schemas import ApiKeyIn
    from medledger.parties.service import create_api_key

    world = build_world(factory)
    keys: dict[str, int] = {}
    with system_unit_of_work(factory) as session:
        for key, net, party_id in (
            ("distributor", world.a, world.a.distributor_id),
            ("supplier", world.a, world.a.supplier_id),
            ("b", world.b, world.b.distributor_id),
        ):
            admin = tenant_admin(session, net.tenant_id)
            work_of(session).act_as(admin)
            api_key, _ = create_api_key(session, admin, ApiKeyIn(party_id=party_id, name=key))
            keys[key] = api_key.id
        keys["hub"] = keys["supplier"]  # the hub has no machine client: its "own" is a partner's
    jobs: dict[str, str] = {}
    events: dict[str, str] = {}
    items: dict[str, str] = {}
    builders = [
        builder
        for prefixes, builder in RECORD_BUILDERS
        if any(path.startswith(prefix) for prefix in prefixes)
    ]
    if builders:
        records = Records()
        for builder in builders:
            builder(client, world, records)
        return MatrixWorld(world, keys, jobs, events, items, records=records)
    if path.startswith("/api/v1/analytics/plans"):
        plans, actions = _improvement_plans(factory, world)
        return MatrixWorld(world, keys, jobs, events, items, plans=plans, actions=actions)
    recalls = _recalls(factory, world) if path.startswith("/api/v1/recalls") else {}
    if path.startswith(("/api/v1/work-orders", "/api/v1/device-history")):
        _work_orders(factory, world)
    if not path.startswith(("/epcis", "/api/v1/trace", "/api/v1/recalls")):
        return MatrixWorld(world, keys, jobs, events, items)  # captures cost; only these use them
    capturers = {
        "hub": ("acme-warehouse", gln(1)),
        "distributor": ("acme-distributor", gln(2)),
        "supplier": ("acme-supplier", gln(3)),
        "b": ("bravo-warehouse", gln(101)),
    }
    for n, (key, (username, party_gln)) in enumerate(capturers.items(), start=1):
        item = f"https://id.gs1.org/01/{gtin(1)}/21/M{n}"
        response = client.post(
            "/epcis/capture",
            json=_event_document(n, party_gln, item),
            headers=token_headers(client, username),
        )
        assert response.status_code == 202 and response.json()["success"], response.text
        jobs[key] = response.json()["captureID"]
        events[key] = f"urn:uuid:0b0e7a10-0000-4000-8000-{n:012d}"
        items[key] = item
    subscriptions: dict[str, str] = {}
    if path.startswith("/epcis/queries"):
        # Every party names its own query "matrix" (names are per party), with a subscription.
        for key, (username, _) in capturers.items():
            headers = token_headers(client, username)
            query = {"name": "matrix", "query": {"EQ_bizStep": ["commissioning"]}}
            assert client.post("/epcis/queries", json=query, headers=headers).status_code == 201
            subscribed = client.post(
                "/epcis/queries/matrix/subscriptions",
                json={"dest": "https://erp.example.com/epcis", "stream": True},
                headers=headers,
            )
            assert subscribed.status_code == 201, subscribed.text
            subscriptions[key] = subscribed.json()["subscriptionID"]
    return MatrixWorld(
        world, keys, jobs, events, items, recalls=recalls, subscriptions=subscriptions
    )


PURCHASING_PATHS = (
    "/api/v1/purchase-orders",
    "/api/v1/asns",
    "/api/v1/inventory",
    "/api/v1/replenishment",
)
QUALITY_PATHS = ("/api/v1/quality", "/api/v1/signatures")
ORDER_PATHS = (
    "/api/v1/customers",
    "/api/v1/orders",
    "/api/v1/order-",
    "/api/v1/tenders",
    "/api/v1/priority",
)
INTEGRATION_PATHS = ("/api/v1/integration", "/api/v1/imports")
RECORD_BUILDERS = (
    (PURCHASING_PATHS, matrix_records.purchasing),
    (QUALITY_PATHS, matrix_records.quality),
    (ORDER_PATHS, matrix_records.orders),
    (INTEGRATION_PATHS, matrix_records.integration),
)
# path placeholder -> record kind (by the path's prefix where one name means two kinds)
RECORD_PLACEHOLDERS = {
    "{asn_id}": "asn",
    "{customer_id}": "customer",
    "{run_id}": "import_run",
    "{row_id}": "import_row",
    "{subscription_id}": "subscription",
    "{message_id}": "inbox_message",
    "{line_id}": "order_line",
    "{capa_id}": "capa",
    "{change_id}": "change",
    "{complaint_id}": "complaint",
    "{deviation_id}": "deviation",
    "{inspection_id}": "inspection",
    "{release_id}": "lot_release",
    "{ncr_id}": "ncr",
    "{tender_id}": "tender",
    "{rule_set_id}": "rule_set",
}


def _record_kind(path: str, placeholder: str) -> str | None:
    if placeholder == "{order_id}":
        return "purchase_order" if path.startswith("/api/v1/purchase-orders") else "order"
    if placeholder == "{plan_id}" and path.startswith("/api/v1/quality"):
        return "inspection_plan"
    if placeholder == "{action_id}" and path.startswith("/api/v1/quality"):
        return "capa_action"
    return RECORD_PLACEHOLDERS.get(placeholder)


def _recalls(factory: sessionmaker[Session], world: World) -> dict[str, tuple[int, int]]:
    """One open recall per consignee (the distributor, the supplier, tenant B's distributor),
    each with a notice to that party only, authored by the tenant's QA user. The hub's "own"
    recall is the distributor's (the hub sees every recall of its tenant)."""
    from medledger.core.db import utcnow
    from medledger.core.system import system_unit_of_work, tenant_admin
    from medledger.recall.models import Recall, RecallNotice, RecallScope

    recalls: dict[str, tuple[int, int]] = {}
    with system_unit_of_work(factory) as session:
        for key, net, party_id in (
            ("distributor", world.a, world.a.distributor_id),
            ("supplier", world.a, world.a.supplier_id),
            ("b", world.b, world.b.distributor_id),
        ):
            work_of(session).act_as(tenant_admin(session, net.tenant_id))
            now = utcnow()
            recall = Recall(
                tenant_id=net.tenant_id,
                number=f"RCL-2026-{len(recalls) + 1:04d}",
                title=f"Recall for {key}",
                state="open",
                hazard_class="II",
                depth="retail",
                reason="matrix",
                identifiers=[f"(01){gtin(1)}(10)L-{key}"],
                initiated_at=now,
                all_notified_at=now,
                created_by_user_id=net.users["qa"],
                created_by_party_id=net.hub_id,
            )
            session.add(recall)
            session.flush()
            session.add(RecallScope(recall_id=recall.id, tenant_id=net.tenant_id, snapshot={}))
            notice = RecallNotice(
                tenant_id=net.tenant_id,
                recall_id=recall.id,
                party_id=party_id,
                party_key=str(party_id),
                name=key,
                units=5,
                notified_at=now,
            )
            session.add(notice)
            session.flush()
            recalls[key] = (recall.id, notice.id)
    recalls["hub"] = recalls["distributor"]
    return recalls


def _work_orders(factory: sessionmaker[Session], world: World) -> None:
    """A planned work order in each tenant and a completed one in tenant A (lot DONE)."""
    from medledger.core.system import system_unit_of_work
    from medledger.production.models import WorkOrder

    with system_unit_of_work(factory) as session:
        for key, net, prefix, status, lot in (
            ("work_order", world.a, "", "planned", "L1"),
            ("done_work_order", world.a, "", "completed", "DONE"),
            ("b_work_order", world.b, "b_", "planned", "L1"),
        ):
            order = WorkOrder(
                tenant_id=net.tenant_id,
                number=key,
                product_id=world.ids[f"{prefix}product"],
                gtin=gtin(1 if not prefix else 2),
                bom_id=world.ids[f"{prefix}bom"],
                bom_version=1,
                location_id=world.ids[f"{prefix}hub_location" if not prefix else "b_location"],
                quantity=1,
                lot=lot,
                serials=[],
                status=status,
                operators=[],
            )
            session.add(order)
            session.flush()
            world.ids[key] = order.id


def _improvement_plans(
    factory: sessionmaker[Session], world: World
) -> tuple[dict[str, int], dict[str, int]]:
    """One open improvement plan (with one action) for each party key, made by its admin."""
    from datetime import date

    from medledger.analytics.plans import _actions, create_plan
    from medledger.analytics.schemas import ActionIn, PlanIn
    from medledger.core.system import system_unit_of_work, tenant_admin

    plans: dict[str, int] = {}
    actions: dict[str, int] = {}
    with system_unit_of_work(factory) as session:
        for key, net, party_id in (
            ("hub", world.a, world.a.hub_id),
            ("distributor", world.a, world.a.distributor_id),
            ("supplier", world.a, world.a.supplier_id),
            ("b", world.b, world.b.distributor_id),
        ):
            admin = tenant_admin(session, net.tenant_id)
            work_of(session).act_as(admin)
            action = ActionIn(
                description="Sort stock",
                side="supplier",
                owner_name="Wang",
                due_date=date(2027, 1, 1),
            )
            plan = create_plan(
                session,
                admin,
                PlanIn(
                    supplier_party_id=party_id,
                    title=f"Plan {key}",
                    due_date=date(2027, 3, 1),
                    actions=[action],
                ),
            )
            plans[key] = plan.id
            actions[key] = _actions(session, [plan.id])[0].id
    return plans, actions


def _request(
    w: MatrixWorld, method: str, path: str, role: str, target: str
) -> tuple[str, dict[str, Any] | None, dict[str, str] | None]:
    """The URL, JSON body and form of (method, path) for ``role`` acting on ``target``."""
    party = _party_id(w, _party_key(role, target)) if target in PARTY_TARGETS else 0
    n = ALL.index(role) + 10 * PARTY_TARGETS.index(target) if target in PARTY_TARGETS else 0
    ids = {
        "{party_id}": lambda: party,
        "{site_id}": lambda: _site(w, role, target),
        "{location_id}": lambda: _site(w, role, target, "location"),
        "{user_id}": lambda: _user(w, role, target),
        "{key_id}": lambda: w.keys[_party_key(role, target)],
        "{product_id}": lambda: _shared(w, target, "product"),
        "{authorisation_id}": lambda: _shared(w, target, "authorisation"),
        "{bom_id}": lambda: _shared(w, target, "bom"),
        "{work_order_id}": lambda: _shared(w, target, "work_order"),
        "{capture_id}": lambda: w.jobs[_party_key(role, target)],
        "{event_id}": lambda: quote(w.events[_party_key(role, target)], safe=""),
        "{recall_id}": lambda: w.recalls[_party_key(role, target)][0],
        "{notice_id}": lambda: w.recalls[_party_key(role, target)][1],
        "{plan_id}": lambda: w.plans[_party_key(role, target)],
        "{action_id}": lambda: w.actions[_party_key(role, target)],
        "{kpi}": lambda: "on_time",
        "{epc}": lambda: quote(w.items[_party_key(role, target)], safe=""),
        "{readPoint}": lambda: quote(
            f"https://id.gs1.org/414/{MATRIX_GLNS[_party_key(role, target)]}", safe=""
        ),
        "{eventType}": lambda: "ObjectEvent",
        "{bizStep}": lambda: "commissioning",
        "{disposition}": lambda: "active",
        "{bizLocation}": lambda: quote(f"https://id.gs1.org/414/{gln(1)}", safe=""),
        "{queryName}": lambda: "matrix",
        "{subscriptionID}": lambda: (w.subscriptions or {})[_party_of(role)],
        "{token}": lambda: "any",
    }
    url = path
    for placeholder in re.findall(r"\{\w+\}", path):
        kind = _record_kind(path, placeholder) if w.records.ids else None
        if kind is not None:
            key = (
                _party_key(role, target)
                if target in PARTY_TARGETS
                else ("b" if target == INVISIBLE else "hub")
            )
            url = url.replace(placeholder, str(w.records.ids[kind][key]))
    for placeholder, value in ids.items():
        if placeholder in url:
            url = url.replace(placeholder, str(value()))
    site = _site(w, role, target) if target in PARTY_TARGETS else 0
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/api/v1/parties"): {
            "name": f"New {n}",
            "gln": gln(200 + n),
            "roles": ["hospital"],
            "country": "DE",
            "region": "EU",
        },
        ("PATCH", "/api/v1/parties/{party_id}"): {"name": f"Renamed {n}"},
        ("POST", "/api/v1/sites"): {
            "party_id": party,
            "name": f"Plant {n}",
            "gln": gln(300 + n),
            "country": "DE",
        },
        ("PATCH", "/api/v1/sites/{site_id}"): {"name": f"Renamed {n}"},
        ("POST", "/api/v1/locations"): {
            "site_id": site,
            "code": f"Q-{n}",
            "name": "Quarantine",
            "storage_class": "ambient",
            "zone_purpose": "receiving_quarantine",
        },
        ("PATCH", "/api/v1/locations/{location_id}"): {"name": f"Renamed {n}"},
        ("POST", "/api/v1/users"): {
            "username": f"newbie{n}",
            "display_name": "N",
            "password": "long enough pw",
            "role": "partner_user" if _party_key(role, target) != "hub" else "sales",
            "party_id": party,
        },
        ("PATCH", "/api/v1/users/{user_id}"): {"display_name": f"Renamed {n}"},
        ("PATCH", "/api/v1/me/preferences"): {"locale": "zh_Hans"},
        ("POST", "/api/v1/api-keys"): {"party_id": party, "name": f"ERP {n}"},
        ("POST", "/api/v1/api-keys/{key_id}/rotate"): {"overlap_hours": 1},
        ("POST", "/api/v1/products"): {
            "gtin": gtin(400 + ALL.index(role)),
            "name": "Stent",
            "tracking_level": "serial",
            "storage_class": "ambient",
        },
        ("PATCH", "/api/v1/products/{product_id}"): {"name": "Renamed"},
        ("POST", "/api/v1/quality/inspection-plans"): {
            "title": "Incoming",
            "product_id": _shared(w, target, "product") if target in SHARED_TARGETS else 0,
            "characteristics": [{"name": "Burr", "kind": "attribute", "expected": "none"}],
        },
        ("POST", "/api/v1/quality/lot-releases"): {
            # tenant b's product GTIN is unknown in tenant a: 422 for the invisible target
            "gtin": gtin(1) if target == SHARED else gtin(2),
            "lot": f"LR-{role}",
        },
        ("POST", "/api/v1/products/{product_id}/authorisations"): {
            "kind": "nmpa_registration",
            "certificate_number": "国械注准20253130001",
            "valid_from": "2025-06-01",
        },
        ("POST", "/api/v1/products/{product_id}/boms"): {
            "lines": [{"component_gtin": gtin(60), "quantity_per": "1"}]
        },
        ("POST", "/epcis/capture"): _event_document(
            500 + ALL.index(role), gln(1), f"https://id.gs1.org/01/{gtin(1)}/21/C{role}"
        ),
        ("PUT", "/api/v1/analytics/settings"): {"kpi_targets": {"on_time": 0.9}},
        ("POST", "/api/v1/analytics/plans"): {
            "supplier_party_id": party,
            "title": f"Plan {n}",
            "due_date": "2027-03-01",
        },
        ("POST", "/api/v1/analytics/plans/{plan_id}/reviews"): {"note": "Reviewed."},
        ("POST", "/api/v1/analytics/plans/{plan_id}/actions/{action_id}/done"): {"note": "ok"},
        ("POST", "/epcis/events"): {
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            **_event_document(
                600 + ALL.index(role), gln(1), f"https://id.gs1.org/01/{gtin(1)}/21/E{role}"
            )["epcisBody"]["eventList"][0],
        },
        ("POST", "/epcis/queries"): {
            "name": f"q-{role}",
            "query": {"EQ_bizStep": ["shipping"], "GE_eventTime": "2026-01-01T00:00:00Z"},
        },
        ("PATCH", "/api/v1/integration/subscriptions/{subscription_id}"): {"name": f"Renamed {n}"},
        ("PUT", "/api/v1/integration/edi/partners/{party_id}"): {
            "syntax": "edifact",
            "our_id": "14:HUB",
            "partner_id": f"14:P{n}",
        },
        ("POST", "/api/v1/purchase-orders/{order_id}/confirmation"): {
            "lines": [{"line_number": 1, "confirmed_quantity": 10, "confirmed_date": "2027-03-01"}]
        },
        ("PATCH", "/api/v1/quality/ncrs/{ncr_id}"): {"investigation": f"Looked {n}."},
        ("POST", "/api/v1/quality/ncrs"): {"title": f"Reported {role}"},
        ("POST", "/api/v1/quality/capas"): {"title": f"CAPA by {role}"},
        ("POST", "/api/v1/quality/deviations"): {"title": f"Deviation by {role}"},
        ("POST", "/api/v1/quality/changes"): {"title": f"Change by {role}"},
        ("POST", "/api/v1/quality/complaints"): {
            "title": f"Complaint by {role}",
            "udi": f"(01){gtin(1)}(17)281231(10)L-{role}(21)SN-{role}",
            "harm": "malfunction",
        },
        ("POST", "/api/v1/quality/service-records"): {
            "udi": f"(01){gtin(1)}(17)281231(10)L-{role}(21)SN-{role}",
            "kind": "repair",
            "performed_on": "2026-11-01",
            "outcome": "in_service",
        },
        ("POST", "/api/v1/integration/subscriptions"): {
            "name": f"ERP of {role}",
            "url": f"https://erp.example.com/{role}",
            "event_types": ["recall.notice"],
        },
        ("PATCH", "/api/v1/quality/complaints/{complaint_id}"): {"description": f"More {n}."},
        ("POST", "/api/v1/quality/ncrs/{ncr_id}/supplier-response"): {"response": "Sorted."},
        ("POST", "/api/v1/quality/changes/{change_id}/acknowledge"): {},
        ("POST", "/epcis/queries/{queryName}/subscriptions"): {
            "dest": f"https://erp.example.com/{role}",
            "stream": True,
        },
    }
    if path.startswith("/api/v1/recalls"):
        bodies[("POST", "/api/v1/recalls")] = {
            "identifiers": [w.items["hub"]] if w.items else ["(01)00000000000000(10)X"],
            "title": f"Matrix recall {n}",
            "hazard_class": "III",
            "depth": "wholesale",
            "reason": "matrix",
            "signature": {"password": "correct horse battery"},
        }
        bodies[("POST", "/api/v1/recalls/{recall_id}/notices/{notice_id}/acknowledgement")] = {
            "quantity_returned": 1,
            "reason": "recorded for the matrix",
        }
        bodies[("POST", "/api/v1/recalls/{recall_id}/transitions")] = {
            "action": "close",
            "signature": {"password": "correct horse battery"},
        }
    bodies[("POST", "/api/v1/work-orders")] = {
        "gtin": gtin(1),
        "location_id": w.world.ids["hub_location"],
        "quantity": 1,
        "lot": f"W{n}",
    }
    for action in ("start", "completion"):
        bodies[("POST", f"/api/v1/work-orders/{{work_order_id}}/{action}")] = {}
    if path == "/api/v1/signatures":
        url += f"?record_kind=ncr&record_id={w.records.ids['ncr'][_party_key(role, target)]}"
    if "{number}" in path:
        url = url.replace("{number}", "1")
    if path == "/api/v1/device-history":
        url += f"?gtin={gtin(1)}&lot=DONE"
    if path == "/api/v1/gs1/parse":
        url += f"?data=(01){gtin(1)}(21)X"
    elif path == "/api/v1/quality/documents/dhr":
        url += f"?gtin={gtin(1) if target == SHARED else gtin(2)}&lot=M1"
    elif path == "/api/v1/trace":
        item = w.items[_party_key(role, target)] if target in PARTY_TARGETS else ""
        url += "?id=" + quote(item, safe="")
    form = None
    if (method, path) == ("POST", "/api/v1/auth/token"):
        form = {"username": f"acme-{role}", "password": "correct horse battery"}
    return url, bodies.get((method, path)), form


def _hub_deactivation(role: str, target: str) -> int | None:
    # The hub's own party cannot be deactivated.
    return 409 if target == OWN and role in HUB_ROLES else None


def _spc_needs_lots(role: str, target: str) -> int | None:
    # The matrix world receives no lots: a control chart of nothing is a 422.
    return 422


def _key_for_hub(role: str, target: str) -> int | None:
    # A machine client of the hub needs a hub role, not the default partner role.
    return 422 if target == OWN and role in HUB_ROLES else None


USERS_READ = frozenset({"admin", "auditor", *PARTNERS})
PURCHASING_READERS = frozenset(ALL) - {"sales"}
INTEGRATION_MANAGERS = frozenset({"admin", *PARTNERS})
QUALITY_REPORTERS = frozenset({"admin", "warehouse", "qa", "qa_approver", *PARTNERS})


def _409(role: str, target: str) -> int | None:
    return 409


FULFILLERS = frozenset({"admin", "planner", "sales", "warehouse"})
PLANNERS = frozenset({"admin", "planner", "sales"})


def _owned(kind: str) -> Callable[[str, str], bool]:
    """Hub staff see the tenant's records of ``kind``; a partner those its party owns."""

    def sees(role: str, target: str) -> bool:
        if target == INVISIBLE:
            return False
        return role in HUB_ROLES or matrix_records.owner(kind, _party_key(role, target)) == role

    return sees


def _reads(
    permitted: frozenset[str],
    *paths: str,
    targets: tuple[str, ...] | None = None,
    sees: Callable[[str, str], bool] = _party_scoped,
) -> dict[tuple[str, str], Rule]:
    """GET rules: a collection (no id in the path) is read by target none; a record by
    own / other / invisible."""
    return {
        ("GET", path): Rule(
            permitted,
            200,
            targets or (PARTY_TARGETS if "{" in path and "{number}" not in path else (NONE,)),
            sees,
            mutates=False,
        )
        for path in paths
    }


QUALITY_READERS = frozenset(ALL) - {"sales"}
RECALL_STARTERS = frozenset({"admin", "qa", "qa_approver"})
RECALL_ANSWERERS = frozenset({"admin", "qa", "qa_approver", *PARTNERS})


def _hub_only(role: str, target: str) -> bool:
    """The scope and the report name every consignee: the hub's only."""
    return role in HUB_ROLES and target != INVISIBLE


def _not_all_acknowledged(role: str, target: str) -> int | None:
    return 409


ANALYTICS_WRITERS = frozenset({"admin", "purchasing", "qa", "qa_approver"})
TRACE_READERS = frozenset(ALL)
QUALITY_WRITERS = frozenset({"admin", "qa", "qa_approver"})
STOCK_READERS = frozenset(HUB_ROLES)
STOCK_MOVERS = frozenset({"admin", "warehouse"})


def _business_409(role: str, target: str) -> int | None:
    # Work orders of the matrix world: no active BOM to plan by, no components to start with,
    # a planned order cannot be completed.
    return 409 if role in STOCK_MOVERS and target != INVISIBLE else None


MATRIX: dict[tuple[str, str], Rule] = {
    ("POST", "/api/v1/auth/token"): Rule(frozenset(ALL), 200, (NONE,), mutates=False),
    # Inspections and lot release (the by-id routes and steps: tests/quality/test_inspections.py
    # and test_lot_release.py, with a test lab and signatures).
    ("GET", "/api/v1/quality/inspection-plans"): Rule(QUALITY_READERS, 200, (NONE,), mutates=False),
    ("POST", "/api/v1/quality/inspection-plans"): Rule(
        QUALITY_WRITERS, 201, SHARED_TARGETS, sees=_tenant_shared, hidden=422
    ),
    ("GET", "/api/v1/quality/inspections"): Rule(QUALITY_READERS, 200, (NONE,), mutates=False),
    ("GET", "/api/v1/quality/lot-releases"): Rule(QUALITY_READERS, 200, (NONE,), mutates=False),
    ("POST", "/api/v1/quality/lot-releases"): Rule(
        QUALITY_WRITERS, 201, SHARED_TARGETS, sees=_tenant_shared, hidden=422
    ),
    ("GET", "/api/v1/quality/kpis/inspection-time"): Rule(
        QUALITY_READERS, 200, (NONE,), mutates=False
    ),
    ("GET", "/api/v1/quality/documents/dhr"): Rule(
        QUALITY_READERS, 200, SHARED_TARGETS, sees=_tenant_shared, hidden=422, mutates=False
    ),
    ("POST", "/api/v1/auth/logout"): Rule(frozenset(ALL), 204, (NONE,), mutates=False),
    ("GET", "/api/v1/me"): Rule(frozenset(ALL), 200, (NONE,), mutates=False),
    ("PATCH", "/api/v1/me/preferences"): Rule(frozenset(ALL), 200, (NONE,)),
    ("GET", "/api/v1/parties"): Rule(frozenset(ALL), 200, (NONE,), mutates=False),
    ("POST", "/api/v1/parties"): Rule(WRITERS_PARTIES, 201, (NONE,)),
    ("GET", "/api/v1/parties/{party_id}"): Rule(frozenset(ALL), 200, mutates=False),
    ("PATCH", "/api/v1/parties/{party_id}"): Rule(WRITERS_PARTIES, 200),
    ("POST", "/api/v1/parties/{party_id}/deactivate"): Rule(
        WRITERS_PARTIES, 200, special=_hub_deactivation
    ),
    ("POST", "/api/v1/parties/{party_id}/reactivate"): Rule(WRITERS_PARTIES, 200),
    ("GET", "/api/v1/sites"): Rule(frozenset(ALL), 200, (NONE,), mutates=False),
    ("POST", "/api/v1/sites"): Rule(WRITERS_SITES, 201, hidden=422),
    ("GET", "/api/v1/sites/{site_id}"): Rule(frozenset(ALL), 200, mutates=False),
    ("PATCH", "/api/v1/sites/{site_id}"): Rule(WRITERS_SITES, 200),
    ("POST", "/api/v1/sites/{site_id}/deactivate"): Rule(WRITERS_SITES, 200),
    ("POST", "/api/v1/sites/{site_id}/reactivate"): Rule(WRITERS_SITES, 200),
    ("GET", "/api/v1/locations"): Rule(frozenset(ALL), 200, (NONE,), mutates=False),
    ("POST", "/api/v1/locations"): Rule(WRITERS_SITES, 201, hidden=422),
    ("GET", "/api/v1/locations/{location_id}"): Rule(frozenset(ALL), 200, mutates=False),
    ("PATCH", "/api/v1/locations/{location_id}"): Rule(WRITERS_SITES, 200),
    ("POST", "/api/v1/locations/{location_id}/deactivate"): Rule(WRITERS_SITES, 200),
    ("POST", "/api/v1/locations/{location_id}/reactivate"): Rule(WRITERS_SITES, 200),
    ("GET", "/api/v1/users"): Rule(USERS_READ, 200, (NONE,), mutates=False),
    ("POST", "/api/v1/users"): Rule(frozenset({"admin"}), 201, hidden=422),
    ("GET", "/api/v1/users/{user_id}"): Rule(USERS_READ, 200, mutates=False),
    ("PATCH", "/api/v1/users/{user_id}"): Rule(frozenset({"admin"}), 200),
    ("POST", "/api/v1/users/{user_id}/deactivate"): Rule(frozenset({"admin"}), 200),
    ("POST", "/api/v1/users/{user_id}/reactivate"): Rule(frozenset({"admin"}), 200),
    ("GET", "/api/v1/api-keys"): Rule(frozenset({"admin"}), 200, (NONE,), mutates=False),
    ("POST", "/api/v1/api-keys"): Rule(frozenset({"admin"}), 201, hidden=422, special=_key_for_hub),
    ("POST", "/api/v1/api-keys/{key_id}/revoke"): Rule(frozenset({"admin"}), 200),
    ("POST", "/api/v1/api-keys/{key_id}/rotate"): Rule(frozenset({"admin"}), 201),
    ("GET", "/api/v1/products"): Rule(frozenset(ALL), 200, (NONE,), mutates=False),
    ("POST", "/api/v1/products"): Rule(WRITERS_CATALOG, 201, (NONE,)),
    ("GET", "/api/v1/products/{product_id}"): Rule(
        frozenset(ALL), 200, SHARED_TARGETS, _tenant_shared, mutates=False
    ),
    ("PATCH", "/api/v1/products/{product_id}"): Rule(
        WRITERS_CATALOG, 200, SHARED_TARGETS, _tenant_shared
    ),
    ("POST", "/api/v1/products/{product_id}/deactivate"): Rule(
        WRITERS_CATALOG, 200, SHARED_TARGETS, _tenant_shared
    ),
    ("POST", "/api/v1/products/{product_id}/reactivate"): Rule(
        WRITERS_CATALOG, 200, SHARED_TARGETS, _tenant_shared
    ),
    ("GET", "/api/v1/products/{product_id}/authorisations"): Rule(
        frozenset(ALL), 200, SHARED_TARGETS, _tenant_shared, mutates=False
    ),
    ("POST", "/api/v1/products/{product_id}/authorisations"): Rule(
        WRITERS_CATALOG, 201, SHARED_TARGETS, _tenant_shared
    ),
    ("POST", "/api/v1/authorisations/{authorisation_id}/deactivate"): Rule(
        WRITERS_CATALOG, 200, SHARED_TARGETS, _tenant_shared
    ),
    ("GET", "/api/v1/products/{product_id}/boms"): Rule(
        BOM_READERS, 200, SHARED_TARGETS, _tenant_shared, mutates=False
    ),
    ("POST", "/api/v1/products/{product_id}/boms"): Rule(
        WRITERS_CATALOG, 201, SHARED_TARGETS, _tenant_shared
    ),
    ("GET", "/api/v1/boms/{bom_id}"): Rule(
        BOM_READERS, 200, SHARED_TARGETS, _tenant_shared, mutates=False
    ),
    ("POST", "/api/v1/boms/{bom_id}/activate"): Rule(
        WRITERS_CATALOG, 200, SHARED_TARGETS, _tenant_shared
    ),
    ("GET", "/api/v1/audit"): Rule(AUDIT_READERS, 200, (NONE,), mutates=False),
    ("GET", "/api/v1/audit/verify"): Rule(AUDIT_READERS, 200, (NONE,), mutates=False),
    ("GET", "/api/v1/gs1/parse"): Rule(frozenset(ALL), 200, (NONE,), mutates=False),
    ("GET", "/api/v1/trace"): Rule(TRACE_READERS, 200, mutates=False),
    ("POST", "/epcis/capture"): Rule(CAPTURERS, 202, (NONE,)),
    ("GET", "/epcis/capture"): Rule(TRACE_READERS, 200, (NONE,), mutates=False),
    ("GET", "/epcis/capture/{capture_id}"): Rule(TRACE_READERS, 200, mutates=False),
    ("POST", "/epcis/events"): Rule(CAPTURERS, 201, (NONE,)),
    ("GET", "/epcis/events"): Rule(TRACE_READERS, 200, (NONE,), mutates=False),
    ("GET", "/epcis/events/{event_id}"): Rule(TRACE_READERS, 200, mutates=False),
    ("GET", "/api/v1/recalls"): Rule(QUALITY_READERS, 200, (NONE,), mutates=False),
    ("POST", "/api/v1/recalls"): Rule(RECALL_STARTERS, 201, (NONE,)),
    ("GET", "/api/v1/recalls/kpi"): Rule(QUALITY_READERS, 200, (NONE,), mutates=False),
    ("GET", "/api/v1/recalls/{recall_id}"): Rule(QUALITY_READERS, 200, mutates=False),
    ("GET", "/api/v1/recalls/{recall_id}/scope"): Rule(
        QUALITY_READERS, 200, sees=_hub_only, mutates=False
    ),
    ("GET", "/api/v1/recalls/{recall_id}/report"): Rule(
        QUALITY_READERS, 200, sees=_hub_only, mutates=False
    ),
    ("POST", "/api/v1/recalls/{recall_id}/notices/{notice_id}/acknowledgement"): Rule(
        RECALL_ANSWERERS, 200
    ),
    ("POST", "/api/v1/recalls/{recall_id}/transitions"): Rule(
        frozenset({"admin", "qa_approver"}), 200, special=_not_all_acknowledged
    ),
    # production (docs/production.md)
    ("POST", "/api/v1/work-orders"): Rule(STOCK_MOVERS, 201, (NONE,), special=_business_409),
    ("GET", "/api/v1/work-orders"): Rule(STOCK_READERS, 200, (NONE,), mutates=False),
    ("GET", "/api/v1/work-orders/{work_order_id}"): Rule(
        STOCK_READERS, 200, SHARED_TARGETS, _tenant_shared, mutates=False
    ),
    ("GET", "/api/v1/work-orders/{work_order_id}/requirements"): Rule(
        STOCK_READERS, 200, SHARED_TARGETS, _tenant_shared, mutates=False
    ),
    ("POST", "/api/v1/work-orders/{work_order_id}/start"): Rule(
        STOCK_MOVERS, 200, SHARED_TARGETS, _tenant_shared, special=_business_409
    ),
    ("POST", "/api/v1/work-orders/{work_order_id}/completion"): Rule(
        STOCK_MOVERS, 200, SHARED_TARGETS, _tenant_shared, special=_business_409
    ),
    ("POST", "/api/v1/work-orders/{work_order_id}/cancellation"): Rule(
        STOCK_MOVERS, 200, SHARED_TARGETS, _tenant_shared
    ),
    ("GET", "/api/v1/device-history"): Rule(STOCK_READERS, 200, (NONE,), mutates=False),
    # analytics: scorecards and plans per party (a partner: its own), the board for the hub
    ("GET", "/api/v1/analytics/suppliers"): Rule(frozenset(ALL), 200, (NONE,), mutates=False),
    ("GET", "/api/v1/analytics/scorecards/{party_id}"): Rule(frozenset(ALL), 200, mutates=False),
    ("GET", "/api/v1/analytics/scorecards/{party_id}/records"): Rule(
        frozenset(ALL), 200, mutates=False
    ),
    ("GET", "/api/v1/analytics/kpis"): Rule(frozenset(HUB_ROLES), 200, (NONE,), mutates=False),
    ("GET", "/api/v1/analytics/kpis/{kpi}/records"): Rule(
        frozenset(HUB_ROLES), 200, (NONE,), mutates=False
    ),
    ("GET", "/api/v1/analytics/forecasts"): Rule(frozenset(HUB_ROLES), 200, (NONE,), mutates=False),
    ("GET", "/api/v1/analytics/spc"): Rule(
        frozenset(HUB_ROLES), 200, (NONE,), mutates=False, special=_spc_needs_lots
    ),
    ("GET", "/api/v1/analytics/settings"): Rule(frozenset(ALL), 200, (NONE,), mutates=False),
    ("PUT", "/api/v1/analytics/settings"): Rule(ANALYTICS_WRITERS, 200, (NONE,)),
    ("GET", "/api/v1/analytics/plans"): Rule(frozenset(ALL), 200, (NONE,), mutates=False),
    ("POST", "/api/v1/analytics/plans"): Rule(ANALYTICS_WRITERS, 201, hidden=422),
    ("GET", "/api/v1/analytics/plans/{plan_id}"): Rule(frozenset(ALL), 200, mutates=False),
    ("POST", "/api/v1/analytics/plans/{plan_id}/reviews"): Rule(ANALYTICS_WRITERS, 200),
    ("POST", "/api/v1/analytics/plans/{plan_id}/actions/{action_id}/done"): Rule(
        ANALYTICS_WRITERS, 200
    ),
    # The rest of the EPCIS REST binding (trace/api.py): collections and sub-resources scoped
    # to what the caller sees; an item or read point of a party the caller may not see is 404.
    ("GET", "/epcis"): Rule(TRACE_READERS, 200, (NONE,), mutates=False),
    **{
        ("GET", f"/epcis/{name}"): Rule(TRACE_READERS, 200, (NONE,), mutates=False)
        for name in (
            "eventTypes",
            "epcs",
            "bizSteps",
            "bizLocations",
            "readPoints",
            "dispositions",
            "queries",
        )
    },
    **{
        ("GET", f"/epcis/{name}/{{{parameter}}}{tail}"): Rule(
            TRACE_READERS, 200, (NONE,), mutates=False
        )
        for name, parameter in (
            ("eventTypes", "eventType"),
            ("bizSteps", "bizStep"),
            ("dispositions", "disposition"),
        )
        for tail in ("", "/events")
    },
    **{
        ("GET", f"/epcis/{name}/{{{parameter}}}{tail}"): Rule(TRACE_READERS, 200, mutates=False)
        for name, parameter in (("epcs", "epc"), ("readPoints", "readPoint"))
        for tail in ("", "/events")
    },
    # The matrix events name no business location: nobody sees one (404 for every role).
    **{
        ("GET", f"/epcis/bizLocations/{{bizLocation}}{tail}"): Rule(
            TRACE_READERS, 404, (NONE,), mutates=False
        )
        for tail in ("", "/events")
    },
    # Named queries and subscriptions are the caller's party's own (names are per party).
    ("POST", "/epcis/queries"): Rule(TRACE_READERS, 201, (NONE,)),
    ("GET", "/epcis/queries/{queryName}"): Rule(TRACE_READERS, 200, (NONE,), mutates=False),
    ("DELETE", "/epcis/queries/{queryName}"): Rule(TRACE_READERS, 204, (NONE,)),
    ("GET", "/epcis/queries/{queryName}/events"): Rule(TRACE_READERS, 200, (NONE,), mutates=False),
    ("GET", "/epcis/queries/{queryName}/subscriptions"): Rule(
        TRACE_READERS, 200, (NONE,), mutates=False
    ),
    ("POST", "/epcis/queries/{queryName}/subscriptions"): Rule(TRACE_READERS, 201, (NONE,)),
    ("GET", "/epcis/queries/{queryName}/subscriptions/{subscriptionID}"): Rule(
        TRACE_READERS, 200, (NONE,), mutates=False
    ),
    ("DELETE", "/epcis/queries/{queryName}/subscriptions/{subscriptionID}"): Rule(
        TRACE_READERS, 204, (NONE,)
    ),
    ("DELETE", "/epcis/nextPageToken/{token}"): Rule(TRACE_READERS, 204, (NONE,), mutates=False),
    # --- purchasing and inventory (docs/inventory.md): a supplier reads the orders and ASNs
    # addressed to it; the distributor's "own" purchase order is the supplier's (404).
    **_reads(
        PURCHASING_READERS,
        "/api/v1/purchase-orders",
        "/api/v1/asns",
    ),
    **_reads(
        PURCHASING_READERS,
        "/api/v1/purchase-orders/{order_id}",
        "/api/v1/asns/{asn_id}",
        "/api/v1/asns/{asn_id}/discrepancies",
        sees=_owned("purchase_order"),
    ),
    **_reads(
        STOCK_READERS,
        "/api/v1/inventory/stock",
        "/api/v1/inventory/movements",
        "/api/v1/inventory/temperature-excursions",
    ),
    **_reads(frozenset(ALL), "/api/v1/inventory/shipments"),
    # --- quality (docs/quality.md "Who sees what"): NCR, CAPA, deviation by the supplier they
    # name, complaints by who reported them; inspections, plans, lot releases and changes not
    # yet approved are the hub's.
    **_reads(
        QUALITY_READERS,
        "/api/v1/quality/ncrs",
        "/api/v1/quality/capas",
        "/api/v1/quality/changes",
        "/api/v1/quality/deviations",
        "/api/v1/quality/complaints",
        "/api/v1/quality/complaints/trend",
        "/api/v1/quality/service-records",
        "/api/v1/quality/summary",
        "/api/v1/quality/tasks",
        "/api/v1/quality/workflows",
    ),
    **_reads(
        QUALITY_READERS,
        "/api/v1/quality/ncrs/{ncr_id}",
        "/api/v1/quality/capas/{capa_id}",
        "/api/v1/quality/deviations/{deviation_id}",
        "/api/v1/quality/complaints/{complaint_id}",
    ),
    # the signatures of one NCR (query parameters), visible where the NCR is
    **_reads(QUALITY_READERS, "/api/v1/signatures", targets=PARTY_TARGETS),
    **_reads(
        QUALITY_READERS,
        "/api/v1/quality/changes/{change_id}",
        "/api/v1/quality/inspections/{inspection_id}",
        "/api/v1/quality/inspection-plans/{plan_id}",
        "/api/v1/quality/lot-releases/{release_id}",
        sees=_hub_only,
    ),
    # --- orders (docs/orders.md): a partner reads its own customer record, orders, tenders and
    # inbox messages; planning is the hub's (fulfilment roles).
    **_reads(
        frozenset(ALL),
        "/api/v1/customers",
        "/api/v1/orders",
        "/api/v1/orders/otif",
        "/api/v1/order-inbox",
    ),
    **_reads(
        frozenset(ALL),
        "/api/v1/customers/{customer_id}",
        "/api/v1/customers/{customer_id}/contracts",
        "/api/v1/customers/{customer_id}/ship-tos",
        "/api/v1/customers/{customer_id}/tenders",
        "/api/v1/tenders/{tender_id}",
        "/api/v1/orders/{order_id}",
        "/api/v1/orders/{order_id}/versions",
        "/api/v1/orders/{order_id}/acknowledgements",
        "/api/v1/order-inbox/{message_id}",
    ),
    **_reads(FULFILLERS, "/api/v1/order-board", "/api/v1/priority/queue"),
    **_reads(FULFILLERS, "/api/v1/order-lines/{line_id}/score", "/api/v1/orders/{order_id}/plan"),
    **_reads(PLANNERS, "/api/v1/priority/rule-sets", "/api/v1/order-approvals"),
    **_reads(
        PLANNERS,
        "/api/v1/priority/rule-sets/{rule_set_id}",
        targets=SHARED_TARGETS,
        sees=_tenant_shared,
    ),
    # --- integration (docs/integration.md): webhook subscriptions and EDI settings per party;
    # import runs are the hub's; the data dictionary is the tenant's, read by everyone.
    **_reads(
        frozenset(ALL),
        "/api/v1/integration/event-types",
        "/api/v1/integration/subscriptions",
        "/api/v1/integration/deliveries",
        "/api/v1/integration/edi/partners",
        "/api/v1/integration/edi/despatch-advices",
        "/api/v1/integration/dictionary/active",
        "/api/v1/integration/dictionary/versions",
        "/api/v1/imports",
        "/api/v1/imports/entities",
        "/api/v1/imports/mappings",
    ),
    **_reads(
        frozenset(ALL),
        "/api/v1/integration/subscriptions/{subscription_id}",
        "/api/v1/integration/edi/partners/{party_id}",
    ),
    # creating quality records and subscriptions (docs/quality.md: quality:report for reports,
    # quality:write for the hub's own records)
    **{
        ("POST", path): Rule(permitted, 201, (NONE,), repeatable=True)
        for path, permitted in (
            ("/api/v1/quality/ncrs", QUALITY_REPORTERS),
            ("/api/v1/quality/complaints", QUALITY_REPORTERS),
            ("/api/v1/quality/service-records", QUALITY_REPORTERS),
            ("/api/v1/quality/capas", QUALITY_WRITERS),
            ("/api/v1/quality/deviations", QUALITY_WRITERS),
            ("/api/v1/quality/changes", QUALITY_WRITERS),
            ("/api/v1/integration/subscriptions", INTEGRATION_MANAGERS),
        )
    },
    # writes a partner can reach: on its own records only (another party's are 404)
    ("PATCH", "/api/v1/integration/subscriptions/{subscription_id}"): Rule(
        INTEGRATION_MANAGERS, 200, repeatable=True
    ),
    ("POST", "/api/v1/integration/subscriptions/{subscription_id}/rotate-secret"): Rule(
        INTEGRATION_MANAGERS, 200, repeatable=True
    ),
    ("PUT", "/api/v1/integration/edi/partners/{party_id}"): Rule(
        frozenset({"admin"}), 200, repeatable=True
    ),
    ("POST", "/api/v1/purchase-orders/{order_id}/confirmation"): Rule(
        frozenset({"admin", *PARTNERS}), 200, sees=_owned("purchase_order"), repeatable=True
    ),
    # the matrix's orders are confirmed already: approving one is a conflict
    ("POST", "/api/v1/purchase-orders/{order_id}/approval"): Rule(
        frozenset({"admin", "purchasing"}), 200, sees=_owned("purchase_order"), special=_409
    ),
    ("PATCH", "/api/v1/quality/ncrs/{ncr_id}"): Rule(QUALITY_WRITERS, 200, repeatable=True),
    ("PATCH", "/api/v1/quality/complaints/{complaint_id}"): Rule(
        QUALITY_REPORTERS, 200, repeatable=True
    ),
    # the matrix's NCRs do not wait for the supplier's answer
    ("POST", "/api/v1/quality/ncrs/{ncr_id}/supplier-response"): Rule(
        QUALITY_REPORTERS, 200, special=_409
    ),
    # a change is shown to the partners it names once approved: the matrix's are drafts
    ("POST", "/api/v1/quality/changes/{change_id}/acknowledge"): Rule(
        QUALITY_REPORTERS, 200, sees=lambda role, target: False
    ),
    **_reads(
        frozenset(ALL), "/api/v1/imports/{run_id}", "/api/v1/imports/{run_id}/rows", sees=_hub_only
    ),
}
MATRIX_GLNS = {"hub": gln(1), "distributor": gln(2), "supplier": gln(3), "b": gln(101)}


def _foreign_marks(role: str) -> list[str]:
    """The markers of records ``role`` may not see: tenant B's, and a partner's other party's."""
    own = {"hub"} | ({role} if role in PARTNERS else set(PARTNERS))
    return [mark for key, mark in matrix_records.MARK.items() if key not in own]


def _expected(rule: Rule, role: str, target: str) -> int:
    if role not in rule.permitted:
        return 403
    if not rule.sees(role, target):
        return rule.hidden
    special = rule.special(role, target)
    return special if special is not None else rule.ok


def _api_routes(app: Any) -> set[tuple[str, str]]:
    from fastapi.routing import APIRoute, iter_route_contexts

    routes = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema and context.path:
            for method in context.methods or ():
                routes.add((method, re.sub(r"\{(\w+):path\}", r"{\1}", context.path)))
    return routes


# Operations whose matrix entries are still to be written: writes that need a business state
# the matrix world does not build yet (stock to move, a shipment, an EDI acknowledgement, a
# planning approval, a dictionary version, a delivery), each with the suite that tests its
# roles and partner rules meanwhile. The set is exact (every entry is a route without a matrix
# entry), so it only shrinks, and a new route cannot be left out.
NOT_YET_IN_MATRIX: dict[tuple[str, str], str] = {
    **dict.fromkeys(
        [
            ("POST", "/api/v1/imports"),
            ("PUT", "/api/v1/imports/mappings/{name}"),
            ("POST", "/api/v1/imports/{run_id}/replay"),
            ("PATCH", "/api/v1/imports/{run_id}/rows/{row_id}"),
        ],
        "tests/integration/test_imports.py",
    ),
    **dict.fromkeys(
        [
            ("GET", "/api/v1/integration/deliveries/{delivery_id}"),
            ("POST", "/api/v1/integration/deliveries/{delivery_id}/replay"),
            ("POST", "/api/v1/integration/dictionary/versions"),
            ("GET", "/api/v1/integration/dictionary/versions/{number}"),
            ("PATCH", "/api/v1/integration/dictionary/versions/{number}"),
            ("POST", "/api/v1/integration/dictionary/versions/{number}/approve"),
            ("GET", "/api/v1/integration/dictionary/versions/{number}/impact"),
            ("GET", "/api/v1/integration/dictionary/versions/{number}/schema"),
            ("POST", "/api/v1/integration/edi/despatch-advices"),
            ("GET", "/api/v1/integration/edi/despatch-advices/{advice_id}"),
        ],
        "tests/integration/test_webhooks.py",
    ),
    **dict.fromkeys(
        [
            ("POST", "/api/v1/asns"),
            ("POST", "/api/v1/asns/{asn_id}/close"),
            ("POST", "/api/v1/asns/{asn_id}/scans"),
            ("POST", "/api/v1/asns/{asn_id}/temperature-log"),
        ],
        "tests/inventory/test_e2e.py",
    ),
    **dict.fromkeys(
        [
            ("POST", "/api/v1/purchase-orders"),
        ],
        "tests/inventory/test_e2e.py, test_replenishment.py",
    ),
    **dict.fromkeys(
        [
            ("PUT", "/api/v1/replenishment-settings"),
            ("POST", "/api/v1/replenishment/suggestions"),
        ],
        "tests/inventory/test_replenishment.py",
    ),
    **dict.fromkeys(
        [
            ("POST", "/api/v1/inventory/adjustments"),
            ("POST", "/api/v1/inventory/packs"),
            ("POST", "/api/v1/inventory/pick-lists"),
            ("POST", "/api/v1/inventory/picks"),
            ("POST", "/api/v1/inventory/put-aways"),
            ("POST", "/api/v1/inventory/receipts"),
            ("POST", "/api/v1/inventory/scraps"),
            ("POST", "/api/v1/inventory/shipments"),
            ("GET", "/api/v1/inventory/shipments/{shipment_id}"),
            ("POST", "/api/v1/inventory/sites/{site_id}"),
            ("POST", "/api/v1/inventory/status-changes"),
            ("PUT", "/api/v1/inventory/temperature-ranges"),
            ("POST", "/api/v1/inventory/transfers"),
        ],
        "tests/inventory/test_rules.py, test_e2e.py",
    ),
    **dict.fromkeys(
        [
            ("POST", "/api/v1/customers"),
            ("PATCH", "/api/v1/customers/{customer_id}"),
            ("POST", "/api/v1/customers/{customer_id}/contracts"),
            ("POST", "/api/v1/customers/{customer_id}/item-references"),
            ("POST", "/api/v1/customers/{customer_id}/ship-tos"),
            ("POST", "/api/v1/customers/{customer_id}/tenders"),
            ("POST", "/api/v1/order-lines/{line_id}/deliveries"),
            ("POST", "/api/v1/order-lines/{line_id}/override"),
            ("POST", "/api/v1/orders"),
            ("POST", "/api/v1/orders/import/csv"),
            ("POST", "/api/v1/orders/import/edi"),
            ("POST", "/api/v1/orders/{order_id}/amend"),
            ("POST", "/api/v1/orders/{order_id}/board"),
            ("POST", "/api/v1/orders/{order_id}/cancel"),
        ],
        "tests/orders/test_api.py",
    ),
    **dict.fromkeys(
        [
            ("GET", "/api/v1/order-acknowledgements/{ack_id}"),
            ("POST", "/api/v1/order-inbox/{message_id}/discard"),
            ("POST", "/api/v1/order-inbox/{message_id}/replay"),
        ],
        "tests/orders/test_edi.py",
    ),
    **dict.fromkeys(
        [
            ("POST", "/api/v1/priority/plan"),
            ("POST", "/api/v1/priority/rescore"),
            ("POST", "/api/v1/priority/rule-sets"),
            ("POST", "/api/v1/priority/rule-sets/{rule_set_id}/activation"),
        ],
        "tests/orders/test_planning_permissions.py",
    ),
    **dict.fromkeys(
        [
            ("GET", "/api/v1/order-approvals/{approval_id}"),
            ("POST", "/api/v1/order-approvals/{approval_id}/decision"),
            ("POST", "/api/v1/order-reservations/{reservation_id}/preemption"),
        ],
        "tests/orders/test_planning_permissions.py, test_planning.py",
    ),
    **dict.fromkeys(
        [
            ("PATCH", "/api/v1/quality/capas/{capa_id}"),
            ("POST", "/api/v1/quality/capas/{capa_id}/actions"),
            ("POST", "/api/v1/quality/capas/{capa_id}/actions/{action_id}/done"),
            ("POST", "/api/v1/quality/capas/{capa_id}/transitions"),
            ("PATCH", "/api/v1/quality/changes/{change_id}"),
            ("POST", "/api/v1/quality/changes/{change_id}/transitions"),
            ("POST", "/api/v1/quality/complaints/{complaint_id}/capa"),
            ("POST", "/api/v1/quality/complaints/{complaint_id}/ncr"),
            ("POST", "/api/v1/quality/complaints/{complaint_id}/transitions"),
            ("PATCH", "/api/v1/quality/deviations/{deviation_id}"),
            ("POST", "/api/v1/quality/deviations/{deviation_id}/transitions"),
            ("GET", "/api/v1/quality/documents/coc/{shipment_id}"),
            ("PATCH", "/api/v1/quality/inspection-plans/{plan_id}"),
            ("POST", "/api/v1/quality/inspections"),
            ("POST", "/api/v1/quality/inspections/{inspection_id}/results"),
            ("POST", "/api/v1/quality/inspections/{inspection_id}/transitions"),
            ("POST", "/api/v1/quality/lot-releases/{release_id}/transitions"),
            ("POST", "/api/v1/quality/ncrs/{ncr_id}/transitions"),
            ("POST", "/api/v1/signatures"),
        ],
        "tests/quality/test_permission_matrix.py",
    ),
    **dict.fromkeys(
        [
            ("GET", "/api/v1/transport/lanes"),
            ("POST", "/api/v1/transport/lanes"),
            ("GET", "/api/v1/transport/lanes/{lane_id}"),
            ("PATCH", "/api/v1/transport/lanes/{lane_id}"),
            ("GET", "/api/v1/transport/order-lines/{line_id}/lanes"),
            ("PUT", "/api/v1/transport/order-lines/{line_id}/lane"),
            ("DELETE", "/api/v1/transport/order-lines/{line_id}/lane"),
        ],
        "tests/transport/test_lanes.py",
    ),
}


# Routes outside the OpenAPI description that are not pages (pages check permissions through
# the same services; tests/web): each is public and shows no tenant data, or is covered where
# named. The set is exact.
OUTSIDE_THE_SCHEMA = {
    "/docs": "public: the offline Swagger UI",
    "/redoc": "public: the offline ReDoc",
    "/openapi.json": "public: the API description",
    "/healthz": "public: liveness, no data",
    "/static": "public: CSS and scripts",
    "/vendor": "public: front-end libraries",
    "/epcis/queries/{queryName}/events": (
        "WebSocket of a named query: tests/integration/test_epcis_subscriptions.py (refused "
        "without credentials; a subscriber receives only events it may see)"
    ),
}


def test_every_route_outside_the_schema_is_accounted_for(app: Any) -> None:
    from fastapi.routing import APIRoute, iter_route_contexts

    from medledger.web.ui import UiRoute

    outside = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, UiRoute) or (isinstance(route, APIRoute) and route.include_in_schema):
            continue
        outside.add(context.path)
    assert outside == set(OUTSIDE_THE_SCHEMA)


def test_every_route_has_a_matrix_entry(app: Any) -> None:
    routes = _api_routes(app)
    assert sorted(routes - set(MATRIX) - set(NOT_YET_IN_MATRIX)) == [], (
        "routes without a permission-matrix entry"
    )
    assert sorted(set(NOT_YET_IN_MATRIX) - (routes - set(MATRIX))) == [], (
        "remove these from NOT_YET_IN_MATRIX: they have an entry, or no route"
    )
    assert sorted(set(MATRIX) - routes) == [], "matrix entries without a route"


def _call(
    client: TestClient,
    w: MatrixWorld,
    method: str,
    path: str,
    role: str,
    target: str,
    headers: dict[str, str],
) -> Any:
    url, body, form = _request(w, method, path, role, target)
    if form is not None:
        return client.post(url, data=form)
    return client.request(method, url, json=body, headers=headers)


def _headers(client: TestClient, method: str, path: str, role: str) -> dict[str, str]:
    if (method, path) == ("POST", "/api/v1/auth/token"):
        return {}
    return token_headers(client, f"acme-{role}")


EVERY = "every"  # the role and target of a repeatable write's entry: all that succeed


def _succeeding(rule: Rule) -> list[tuple[str, str]]:
    return [
        (role, target)
        for role in ALL
        for target in rule.targets
        if _expected(rule, role, target) < 300
    ]


def _successful_writes() -> list[tuple[str, str, str, str]]:
    writes = []
    for (method, path), rule in sorted(MATRIX.items()):
        if not rule.mutates or not _succeeding(rule):
            continue
        if rule.repeatable:
            writes.append((method, path, EVERY, EVERY))
        else:
            writes.extend((method, path, role, target) for role, target in _succeeding(rule))
    return writes


def _route_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """The operations that can share one world: those of one records builder (the world is
    costly, and nothing below changes it: refusals are checked to change nothing and reads
    change nothing), each other operation alone."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for method, path in sorted(MATRIX):
        names = [
            builder.__name__ for prefixes, builder in RECORD_BUILDERS if path.startswith(prefixes)
        ]
        key = f"records of {'+'.join(names)}" if names else f"{method} {path}"
        groups.setdefault(key, []).append((method, path))
    return sorted(groups.items())


@pytest.mark.parametrize(
    "operations", [ops for _, ops in _route_groups()], ids=[key for key, _ in _route_groups()]
)
def test_route_matrix_refusals_and_reads(
    operations: list[tuple[str, str]], client: TestClient, factory: sessionmaker[Session]
) -> None:
    """Every role on every target of each operation, except the writes that succeed (below):
    exactly the expected status, a refusal changes nothing, and a list or record read shows no
    record the caller may not see (by the records' markers)."""
    w = _matrix_world(client, factory, operations[0][1])
    tokens: dict[str, dict[str, str]] = {}
    wrong = {}
    for method, path in operations:
        rule = MATRIX[(method, path)]
        for role in ALL:
            for target in rule.targets:
                status = _expected(rule, role, target)
                if rule.mutates and status < 300:
                    continue
                if path.startswith("/api/v1/auth/"):
                    headers = _headers(client, method, path, role)  # logging out ends a token
                else:
                    if role not in tokens:
                        tokens[role] = _headers(client, method, path, role)
                    headers = tokens[role]
                before = snapshot(factory)
                response = _call(client, w, method, path, role, target, headers)
                where = (method, path, role, target)
                if response.status_code != status:
                    wrong[where] = (response.status_code, status, response.text[:200])
                elif status >= 400:
                    assert response.headers["content-type"] == "application/problem+json"
                    assert snapshot(factory) == before, f"{where}: a refusal changed data"
                elif method == "GET" and w.records.ids:
                    leaked = [m for m in _foreign_marks(role) if m in response.text]
                    if leaked:
                        wrong[where] = (status, f"shows {leaked}", response.text[:200])
    assert wrong == {}, "(method, path, role, target): (got, expected, body)\n" + "\n".join(
        f"{where}: {what}" for where, what in wrong.items()
    )


@pytest.mark.parametrize(
    ("method", "path", "role", "target"),
    _successful_writes(),
    ids=[f"{m} {p} {r} {t}" for m, p, r, t in _successful_writes()],
)
def test_route_matrix_successful_writes(
    method: str,
    path: str,
    role: str,
    target: str,
    client: TestClient,
    factory: sessionmaker[Session],
) -> None:
    """Each write a role may make on a target it sees succeeds (on a world of its own; the
    calls of a repeatable write one after the other on one world)."""
    rule = MATRIX[(method, path)]
    # creating in a collection of a records context needs no records to act on
    records = any(path.startswith(prefixes) for prefixes, _ in RECORD_BUILDERS)
    w = _matrix_world(client, factory, "/none" if records and rule.targets == (NONE,) else path)
    calls = _succeeding(rule) if role == EVERY else [(role, target)]
    for who, what in calls:
        headers = _headers(client, method, path, who)
        response = _call(client, w, method, path, who, what, headers)
        assert response.status_code == rule.ok, (who, what, response.text)
