"""Records of every kind for the permission matrix, made through the real API as the users who
make them in life: for each kind, one owned by (or concerning) the distributor, one the
supplier's, and one of tenant B (invisible to everyone in tenant A).

``Records.ids[kind][key]`` is the record's id for party key ``hub`` / ``distributor`` /
``supplier`` / ``b``. Where a party cannot own a record of a kind (a purchase order goes to a
supplier), its key names another party's record and ``OWNERS`` says whose it is, so the matrix
expects 404 there for a partner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient

from tests.builders import gtin, token_headers
from tests.fixtures_network import World

TENANT = {"hub": "acme", "distributor": "acme", "supplier": "acme", "b": "bravo"}
#: A marker in every record's name or reference: a list that shows a caller a record it may
#: not see names the record's marker (the matrix looks for them in every list it reads).
MARK = {"distributor": "MXDIS", "supplier": "MXSUP", "b": "MXBRA"}

#: kind -> party key -> the party key of the record's owner (default: the key itself)
OWNERS: dict[str, dict[str, str]] = {
    "purchase_order": {"hub": "supplier", "distributor": "supplier"},
    "asn": {"hub": "supplier", "distributor": "supplier"},
    "inspection": {"hub": "supplier", "distributor": "supplier"},
}


def owner(kind: str, key: str) -> str:
    return OWNERS.get(kind, {}).get(key, key)


@dataclass
class Records:
    ids: dict[str, dict[str, int]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


class _Users:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.cache: dict[str, dict[str, str]] = {}

    def __call__(self, username: str) -> dict[str, str]:
        if username not in self.cache:
            self.cache[username] = token_headers(self.client, username)
        return self.cache[username]


def _ok(response: Any) -> Any:
    assert response.status_code in (200, 201), response.text
    return response.json()


def _net(world: World, key: str) -> Any:
    return world.b if key == "b" else world.a


def _party(world: World, key: str) -> int:
    if key == "b":
        return int(world.b.distributor_id)
    return int(
        {"hub": world.a.hub_id, "distributor": world.a.distributor_id}.get(key, world.a.supplier_id)
    )


def _gtin(key: str) -> str:
    return gtin(2) if key == "b" else gtin(1)


def purchasing(client: TestClient, world: World, records: Records) -> None:
    """A purchase order to each tenant's supplier, confirmed, with the supplier's ASN."""
    as_ = _Users(client)
    for key in ("supplier", "b"):
        slug = TENANT[key]
        net = _net(world, key)
        site = world.ids["b_site" if key == "b" else "hub_site"]
        _ok(
            client.post(
                f"/api/v1/inventory/sites/{site}", json={}, headers=as_(f"{slug}-warehouse")
            )
        )
        order = _ok(
            client.post(
                "/api/v1/purchase-orders",
                json={
                    "supplier_party_id": net.supplier_id,
                    "ship_to_site_id": site,
                    "note": MARK[key],
                    "lines": [
                        {
                            "gtin": _gtin(key),
                            "quantity": 10,
                            "unit_price": "2.50",
                            "requested_date": "2027-03-01",
                        }
                    ],
                },
                headers=as_(f"{slug}-purchasing"),
            )
        )
        _ok(
            client.post(
                f"/api/v1/purchase-orders/{order['id']}/confirmation",
                json={
                    "lines": [
                        {"line_number": 1, "confirmed_quantity": 10, "confirmed_date": "2027-03-01"}
                    ]
                },
                headers=as_(f"{slug}-supplier"),
            )
        )
        asn = _ok(
            client.post(
                "/api/v1/asns",
                json={
                    "purchase_order_id": order["id"],
                    "number": f"ASN-{MARK[key]}",
                    "ship_date": "2027-02-25",
                    "lines": [{"line_number": 1, "lot": f"A-{MARK[key]}", "quantity": 10}],
                },
                headers=as_(f"{slug}-supplier"),
            )
        )
        for kind, value in (("purchase_order", order["id"]), ("asn", asn["id"])):
            records.ids.setdefault(kind, {})[key] = value
    for kind in ("purchase_order", "asn"):
        records.ids[kind]["hub"] = records.ids[kind]["distributor"] = records.ids[kind]["supplier"]


def _udi(key: str, n: int = 9) -> str:
    return f"(01){_gtin(key)}(17)281231(10)L-{MARK[key]}(21)SN-{n}"


def quality(client: TestClient, world: World, records: Records) -> None:
    """NCR, CAPA, deviation, inspection and change per concerned party (hub QA makes them);
    complaints and service records reported by each partner; inspection plans and lot
    releases per tenant."""
    as_ = _Users(client)

    def add(kind: str, key: str, response: Any) -> dict[str, Any]:
        body = _ok(response)
        records.ids.setdefault(kind, {})[key] = int(body["id"])
        return dict(body)

    for key in ("distributor", "supplier", "b"):
        qa = as_(f"{TENANT[key]}-qa")
        party = _party(world, key) if key != "b" else int(world.b.supplier_id)
        product = world.ids["b_product" if key == "b" else "product"]
        post = client.post
        add(
            "ncr",
            key,
            post(
                "/api/v1/quality/ncrs",
                json={"title": f"NCR {MARK[key]}", "supplier_party_id": party},
                headers=qa,
            ),
        )
        add(
            "capa",
            key,
            post(
                "/api/v1/quality/capas",
                json={"title": f"CAPA {MARK[key]}", "supplier_party_id": party},
                headers=qa,
            ),
        )
        add(
            "deviation",
            key,
            post(
                "/api/v1/quality/deviations",
                json={"title": f"Dev {MARK[key]}", "supplier_party_id": party},
                headers=qa,
            ),
        )
        add(
            "change",
            key,
            post(
                "/api/v1/quality/changes",
                json={"title": f"Change {MARK[key]}", "extra_party_ids": [party]},
                headers=qa,
            ),
        )
        add(
            "inspection_plan",
            key,
            post(
                "/api/v1/quality/inspection-plans",
                json={
                    "title": f"Plan {MARK[key]}",
                    "product_id": product,
                    "supplier_party_id": party,
                    "characteristics": [{"name": "Burr", "kind": "attribute", "expected": "none"}],
                },
                headers=qa,
            ),
        )
        add(
            "inspection",
            key,
            post(
                "/api/v1/quality/inspections",
                json={"gtin": _gtin(key), "lot": f"I-{MARK[key]}", "supplier_party_id": party},
                headers=qa,
            ),
        )
        add(
            "lot_release",
            key,
            post(
                "/api/v1/quality/lot-releases",
                json={"gtin": _gtin(key), "lot": f"R-{MARK[key]}"},
                headers=qa,
            ),
        )
        partner = as_(f"{TENANT[key]}-{'distributor' if key == 'b' else key}")
        add(
            "complaint",
            key,
            post(
                "/api/v1/quality/complaints",
                json={"title": f"Complaint {MARK[key]}", "udi": _udi(key), "harm": "malfunction"},
                headers=partner,
            ),
        )
        add(
            "service_record",
            key,
            post(
                "/api/v1/quality/service-records",
                json={
                    "udi": _udi(key),
                    "kind": "repair",
                    "performed_on": "2026-11-01",
                    "outcome": "in_service",
                },
                headers=partner,
            ),
        )
        action = _ok(
            post(
                f"/api/v1/quality/capas/{records.ids['capa'][key]}/actions",
                json={
                    "description": "Sort stock",
                    "owner_user_id": _net(world, key).users["qa"],
                    "due_date": "2027-01-01",
                },
                headers=qa,
            )
        )
        actions = action.get("actions") if isinstance(action, dict) else None
        records.ids.setdefault("capa_action", {})[key] = int(
            actions[-1]["id"] if actions else action["id"]
        )
    for kind in list(records.ids):
        records.ids[kind].setdefault("hub", records.ids[kind]["supplier"])


ORDER_CSV = (
    "customer_reference,ship_to_code,gtin,quantity,requested_delivery_date,surgery_date\n"
    "CSV-{mark},MAIN,{gtin},2,2030-05-02,\n"
)


def orders(client: TestClient, world: World, records: Records) -> None:
    """A customer per partner (and tenant B's distributor) with a default ship-to and a tender;
    each partner places an order and uploads one by CSV (an inbox message)."""
    as_ = _Users(client)

    def add(kind: str, key: str, value: Any) -> None:
        records.ids.setdefault(kind, {})[key] = int(value)

    for key in ("distributor", "supplier", "b"):
        slug = TENANT[key]
        sales = as_(f"{slug}-sales")
        customer = _ok(
            client.post("/api/v1/customers", json={"party_id": _party(world, key)}, headers=sales)
        )
        add("customer", key, customer["id"])
        _ok(
            client.post(
                f"/api/v1/customers/{customer['id']}/ship-tos",
                json={
                    "code": "MAIN",
                    "name": f"{MARK[key]} DC",
                    "country": "DE",
                    "region": "EU",
                    "is_default": True,
                },
                headers=sales,
            )
        )
        tender = _ok(
            client.post(
                f"/api/v1/customers/{customer['id']}/tenders",
                json={
                    "reference": f"T-{MARK[key]}",
                    "valid_from": "2026-01-01",
                    "valid_until": "2027-12-31",
                    "lines": [{"gtin": _gtin(key), "committed_quantity": 10}],
                },
                headers=sales,
            )
        )
        add("tender", key, tender["id"])
        partner = as_(f"{slug}-{'distributor' if key == 'b' else key}")
        order = _ok(
            client.post(
                "/api/v1/orders",
                json={
                    "customer_reference": f"PO-{MARK[key]}",
                    "requested_delivery_date": "2027-01-20",
                    "lines": [{"gtin": _gtin(key), "quantity": 2}],
                },
                headers=partner,
            )
        )
        add("order", key, order["id"])
        add("order_line", key, order["lines"][0]["id"])
        imported = _ok(
            client.post(
                "/api/v1/orders/import/csv?filename=orders.csv",
                content=ORDER_CSV.format(mark=MARK[key], gtin=_gtin(key)).encode(),
                headers=partner,
            )
        )
        add("inbox_message", key, imported["messages"][0]["id"])
    for key in ("supplier", "b"):
        from medledger.priority.scoring import DEFAULT_RULE_SET

        planner = as_(f"{TENANT[key]}-planner")
        proposed = _ok(
            client.post(
                "/api/v1/priority/rule-sets",
                json={"document": {**DEFAULT_RULE_SET, "name": MARK[key]}, "note": MARK[key]},
                headers=planner,
            )
        )
        records.ids.setdefault("rule_set", {})[key] = int(proposed["id"])
    for kind in ("rule_set",):
        records.ids[kind]["hub"] = records.ids[kind]["distributor"] = records.ids[kind]["supplier"]
    for kind in list(records.ids):
        records.ids[kind].setdefault("hub", records.ids[kind]["distributor"])


def integration(client: TestClient, world: World, records: Records) -> None:
    """A webhook subscription per partner (and tenant B's distributor); an import run with one
    bad row per tenant (by its admin)."""
    as_ = _Users(client)
    for key in ("distributor", "supplier", "b"):
        slug = TENANT[key]
        partner = as_(f"{slug}-{'distributor' if key == 'b' else key}")
        subscription = _ok(
            client.post(
                "/api/v1/integration/subscriptions",
                json={
                    "name": f"ERP {MARK[key]}",
                    "url": f"https://erp.{key}.example/hooks",
                    "event_types": ["recall.notice"],
                },
                headers=partner,
            )
        )
        records.ids.setdefault("subscription", {})[key] = int(subscription["id"])
    for key in ("hub", "distributor", "supplier", "b"):
        party = world.b.hub_id if key == "b" else _party(world, key)
        _ok(
            client.put(
                f"/api/v1/integration/edi/partners/{party}",
                json={
                    "syntax": "edifact",
                    "our_id": "14:HUB",
                    "partner_id": f"14:{MARK.get(key, 'HUB')}",
                },
                headers=as_(f"{TENANT[key]}-admin"),
            )
        )
    for key in ("supplier", "b"):
        content = (
            "gtin,name,tracking_level,storage_class,shelf_life_days\n"
            f"{gtin(900 if key == 'b' else 800)},{MARK[key]},lot,ambient,730\n"
            f"{gtin(901)},,lot,ambient,730\n"
        ).encode()
        run = _ok(
            client.post(
                "/api/v1/imports",
                files={"file": (f"products-{MARK[key]}.csv", content, "text/csv")},
                data={"entity": "products"},
                headers=as_(f"{TENANT[key]}-admin"),
            )
        )
        records.ids.setdefault("import_run", {})[key] = int(run["id"])
        rows = _ok(
            client.get(f"/api/v1/imports/{run['id']}/rows", headers=as_(f"{TENANT[key]}-admin"))
        )
        records.ids.setdefault("import_row", {})[key] = int(rows["items"][0]["id"])
    for kind in list(records.ids):
        records.ids[kind].setdefault(
            "hub", records.ids[kind].get("distributor", records.ids[kind]["supplier"])
        )
        records.ids[kind].setdefault("distributor", records.ids[kind]["supplier"])
