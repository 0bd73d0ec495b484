"""End to end over HTTP: a supplier's component lot fails its incoming inspection → the NCR it
opens → a recall of everything made from it: own stock recalled (the stock-change hook told,
nothing pickable, the affected order re-planned), every consignee notified (portal and
outbox), the recall recorded as EPCIS events, acknowledgements by the consignees' own users,
closure signed by someone else; the audit trail names every step and verifies."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from medledger.compliance.models import AuditEntry
from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.core.work import work_of
from medledger.integration.models import OutboxMessage
from medledger.inventory import hooks
from medledger.orders import customers
from medledger.orders.schemas import ContractIn, CustomerIn, ShipToIn
from tests.builders import PASSWORD
from tests.recall.builders import (
    COMPONENT,
    COMPONENT_LOT,
    FINISHED,
    P1,
    P2,
    Scenario,
    build_scenario,
    ok,
    recall_body,
)


class StatusChanges:
    """A stand-in for orders' re-planning: records what the stock-change hook reports."""

    name = "tests.recall.status_changes"

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None, str | None, int, str]] = []

    def apply(self, change: hooks.StockChange) -> None:
        for m in change.status_changes():
            self.seen.append((m.gtin, m.lot, m.to_status, m.quantity, change.reason))


@pytest.fixture
def status_changes() -> Iterator[StatusChanges]:
    handler = StatusChanges()
    hooks.register_stock_change_handler(handler)
    yield handler
    hooks._handlers.pop(handler.name, None)


@pytest.fixture
def s(client: TestClient, factory: sessionmaker[Session]) -> Scenario:
    return build_scenario(client, factory)


def _stock(client: TestClient, s: Scenario) -> list[tuple[Any, ...]]:
    rows = ok(client.get("/api/v1/inventory/stock", headers=s.h("warehouse")))
    return sorted(
        (r["gtin"], r["lot"], r["location_code"], r["status"], r["quantity"]) for r in rows
    )


def _hospital_order(client: TestClient, s: Scenario, factory: sessionmaker[Session]) -> int:
    """The hospital as a customer (ship-to in the EU, a contract), the finished product
    authorised there, and its order for 5 units, allocated at once."""
    with system_unit_of_work(factory) as session:
        admin = tenant_admin(session, s.w.network.tenant_id)
        work_of(session).act_as(admin)
        customer = customers.create_customer(session, admin, CustomerIn(party_id=s.hospital_id))
        customers.add_ship_to(
            session,
            admin,
            customer.id,
            ShipToIn(code="WARD", name="Ward store", country="DE", region="EU", is_default=True),
        )
        customers.add_contract(
            session,
            admin,
            customer.id,
            ContractIn(number="C-1", valid_from=date(2020, 1, 1), service_level_days=2),
        )
    product = ok(client.get("/api/v1/products", params={"gtin": FINISHED}, headers=s.h("admin")))
    ok(
        client.post(
            f"/api/v1/products/{product['items'][0]['id']}/authorisations",
            json={
                "kind": "eu_mdr_certificate",
                "certificate_number": "CE-0001",
                "valid_from": "2015-01-01",
            },
            headers=s.h("admin"),
        ),
        201,
    )
    order = ok(
        client.post(
            "/api/v1/orders",
            json={
                "customer_reference": "PO-R1",
                "requested_delivery_date": "2026-12-30",
                "lines": [{"gtin": FINISHED, "quantity": 5}],
            },
            headers=s.h("hospital"),
        ),
        201,
    )
    return int(order["id"])


def _plan(client: TestClient, s: Scenario, order_id: int) -> Any:
    return ok(client.get(f"/api/v1/orders/{order_id}/plan", headers=s.h("planner")))


def test_ncr_to_recall_to_signed_closure(
    client: TestClient,
    s: Scenario,
    factory: sessionmaker[Session],
    status_changes: StatusChanges,
) -> None:
    # Given the distributor's integration subscribes to recall notices
    ok(
        client.post(
            "/api/v1/integration/subscriptions",
            json={
                "name": "ERP",
                "url": "https://erp.distributor.example/hooks",
                "event_types": ["recall.notice"],
            },
            headers=s.h("distributor"),
        ),
        201,
    )
    # and the supplier's component lot fails its incoming inspection, which opens an NCR
    component = ok(client.get("/api/v1/products", params={"gtin": COMPONENT}, headers=s.h("qa")))[
        "items"
    ][0]
    ok(
        client.post(
            "/api/v1/quality/inspection-plans",
            json={
                "title": "Incoming inspection of hub components",
                "product_id": component["id"],
                "kind": "incoming",
                "characteristics": [
                    {"name": "Burst pressure", "kind": "attribute", "expected": "holds"}
                ],
            },
            headers=s.h("qa"),
        ),
        201,
    )
    inspection = ok(
        client.post(
            "/api/v1/quality/inspections",
            json={
                "gtin": COMPONENT,
                "lot": "COMP-7",
                "supplier_party_id": s.w.network.supplier_id,
            },
            headers=s.h("qa"),
        ),
        201,
    )
    failed = ok(
        client.post(
            f"/api/v1/quality/inspections/{inspection['id']}/results",
            json={"results": [{"name": "Burst pressure", "values": ["bursts at 2 bar"]}]},
            headers=s.h("qa"),
        )
    )
    assert (failed["state"], failed["verdict"]) == ("failed", "fail")
    ncr = ok(client.get(f"/api/v1/quality/ncrs/{failed['ncr_id']}", headers=s.h("qa")))
    assert (ncr["source"], ncr["supplier_party_id"], ncr["affected_lots"]) == (
        "inspection",
        s.w.network.supplier_id,
        [{"gtin": COMPONENT, "lot": "COMP-7"}],
    )
    # and the hospital's open order holds a reservation of 5 units of the finished lot
    order_id = _hospital_order(client, s, factory)
    before = _plan(client, s, order_id)
    assert [(r["lot"], r["quantity"]) for r in before["reservations"]] == [("F-1", 5)]
    assert (before["shortfalls"], before["board_state"]) == ([], "allocated")
    # When QA starts a recall of everything made from the component lot, linked to the NCR
    recall = ok(
        client.post("/api/v1/recalls", json=recall_body(ncr_id=ncr["id"]), headers=s.h("qa")),
        201,
    )
    # Then the scope is what the trace says: the component lot, the finished lot, two SSCCs,
    # two shipments, two consignees; 30 + 8 units on hand at the hub were recalled
    assert (recall["number"], recall["state"], recall["ncr_id"]) == (
        "RCL-2026-0001",
        "open",
        ncr["id"],
    )
    assert [
        recall[k]
        for k in (
            "lots_in_scope",
            "serials_in_scope",
            "logistic_units_in_scope",
            "shipments_in_scope",
            "consignees",
            "units_held",
        )
    ] == [2, 0, 2, 2, 2, 38]
    assert _stock(client, s) == [
        (FINISHED, "F-1", "A1", "recalled", 8),
        (COMPONENT, "COMP-7", "A1", "recalled", 30),
    ]
    # through inventory's service, so the stock-change hook heard of both lots (the component
    # lot was already on hold: the NCR's lot-hold request held it everywhere when raised)
    assert sorted(status_changes.seen) == sorted(
        [
            (COMPONENT, "COMP-7", "on_hold", 30, f"hold: {ncr['number']}: {ncr['title']}"),
            (FINISHED, "F-1", "recalled", 8, "RCL-2026-0001: " + recall["title"]),
            (COMPONENT, "COMP-7", "recalled", 30, "RCL-2026-0001: " + recall["title"]),
        ]
    )
    # and nothing of the finished lot can be picked any more
    picks = ok(
        client.post(
            "/api/v1/inventory/pick-lists",
            json={"site_id": s.w.site_id, "gtin": FINISHED, "quantity": 1},
            headers=s.h("warehouse"),
        )
    )
    assert (picks["picks"], picks["shortfall"]) == ([], 1)
    # and the hospital's order was re-planned: the recalled lot's reservation is gone and the
    # line is short (no other released stock), so the order waits in the QC hold column
    after = _plan(client, s, order_id)
    assert after["reservations"] == []
    assert [(x["gtin"], x["quantity"], x["reasons"]) for x in after["shortfalls"]] == [
        (FINISHED, 5, ["not_released"])
    ]
    assert after["board_state"] == "qc_hold"
    # and every consignee has a notice with what it was shipped
    notices = {n["name"]: n for n in recall["notices"]}
    assert {
        name: ([(i["lot"], i["sscc"], i["quantity"]) for i in n["items"]], n["units"])
        for name, n in notices.items()
    } == {
        "City Hospital": ([("F-1", P2, 4)], 4),
        "rc Distribution": ([("F-1", P1, 8)], 8),
    }
    # and the distributor's integration got a recall.notice message (the hospital has none)
    assert notices["rc Distribution"]["outbox_message_id"] is not None
    assert notices["City Hospital"]["outbox_message_id"] is None
    with system_unit_of_work(factory) as session:
        message = session.scalars(
            select(OutboxMessage).where(OutboxMessage.event_type == "recall.notice")
        ).one()
        assert message.audience == [s.w.network.distributor_id]
        assert message.payload["units"] == 8 and message.payload["hazard_class"] == "II"
    # and the initiation is signed (authored) over the scope's hash
    assert [(x["meaning"], x["printed_name"]) for x in recall["signatures"]] == [
        ("authored", "rc qa")
    ]
    # and the trace shows every item of the scope recalled (EPCIS events via the ledger)
    trace = ok(
        client.get(
            "/api/v1/trace",
            params={"id": COMPONENT_LOT, "direction": "downstream"},
            headers=s.h("qa"),
        )
    )
    dispositions = {i["uri"].rsplit("/", 1)[-1]: i["disposition"] for i in trace["lots"]}
    dispositions |= {i["sscc"]: i["disposition"] for i in trace["logistic_units"]}
    assert dispositions == {"F-1": "recalled", P1: "recalled", P2: "recalled"}
    assert trace["item"]["disposition"] == "recalled"

    # When the consignees acknowledge through their own logins
    for user, name, answer in (
        ("distributor", "rc Distribution", {"quantity_on_hand": 0, "quantity_returned": 8}),
        ("hospital", "City Hospital", {"quantity_on_hand": 1, "quantity_destroyed": 3}),
    ):
        notice = notices[name]
        acknowledged = ok(
            client.post(
                f"/api/v1/recalls/{recall['id']}/notices/{notice['id']}/acknowledgement",
                json={**answer, "comment": "done"},
                headers=s.h(user),
            )
        )
        assert acknowledged["acknowledged_by"].startswith(f"rc-{user} ")
        assert acknowledged["on_behalf"] is False
    # Then effectiveness is complete and the response time is known
    read = ok(client.get(f"/api/v1/recalls/{recall['id']}", headers=s.h("qa")))
    effect = read["effectiveness"]
    assert (effect["consignees_acknowledged"], effect["consignee_share"]) == (2, 1.0)
    assert (effect["units"], effect["units_accounted"], effect["unit_share"]) == (12, 12, 1.0)
    assert read["all_acknowledged_at"] is not None
    assert effect["hours_to_all_acknowledged"] >= effect["hours_to_all_notified"] >= 0
    # When the initiator tries to close it: refused (author); the approver closes it, signed
    refused = client.post(
        f"/api/v1/recalls/{recall['id']}/transitions",
        json={"action": "close", "signature": {"password": PASSWORD}},
        headers=s.h("qa"),
    )
    assert refused.status_code == 403, refused.text
    closed = ok(
        client.post(
            f"/api/v1/recalls/{recall['id']}/transitions",
            json={
                "action": "close",
                "reason": "all accounted",
                "signature": {"password": PASSWORD},
            },
            headers=s.h("qa_approver"),
        )
    )
    assert closed["state"] == "closed" and closed["closed_at"] is not None
    assert [
        (x["meaning"], x["printed_name"], x["matches_current_version"])
        for x in closed["signatures"]
    ] == [
        ("authored", "rc qa", True),
        ("closed", "rc qa_approver", True),
    ]
    assert [(h["action"], h["actor_label"]) for h in closed["history"]] == [
        ("initiate", "rc-qa (rc qa)"),
        ("close", "rc-qa_approver (rc qa_approver)"),
    ]
    # and the audit trail shows every step with its actor, and verifies
    with system_unit_of_work(factory) as session:
        entries = session.execute(
            select(AuditEntry.entity_type, AuditEntry.action, AuditEntry.actor_label).where(
                AuditEntry.entity_type.in_(
                    ("recall", "recall_notice", "electronic_signatures", "stock_movements")
                )
            )
        ).all()
    actors = {(e.entity_type, e.action, e.actor_label) for e in entries}
    assert ("recall", "create", "rc-qa (rc qa)") in actors
    assert ("recall_notice", "create", "rc-qa (rc qa)") in actors
    assert ("recall_notice", "update", "rc-distributor (rc distributor clerk)") in actors
    assert ("recall_notice", "update", "rc-hospital (Hospital materials manager)") in actors
    assert ("recall", "update", "rc-qa_approver (rc qa_approver)") in actors
    assert ok(client.get("/api/v1/audit/verify", headers=s.h("admin")))["ok"] is True
    # And the correction-and-removal report carries the consignees and their answers
    report = ok(client.get(f"/api/v1/recalls/{recall['id']}/report", headers=s.h("qa")))
    assert [
        (c["name"], c["units"], c["returned"], c["destroyed"]) for c in report["consignees"]
    ] == [
        ("City Hospital", 4, 0, 3),
        ("rc Distribution", 8, 8, 0),
    ]
    assert report["quantities"]["units_held_by_firm"] == 38
    csv_text = client.get(
        f"/api/v1/recalls/{recall['id']}/report", params={"format": "csv"}, headers=s.h("qa")
    ).text
    assert "consignees,name,gln,units" in csv_text and "City Hospital" in csv_text
    xlsx = client.get(
        f"/api/v1/recalls/{recall['id']}/report", params={"format": "xlsx"}, headers=s.h("qa")
    )
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(xlsx.content)).active
    assert sheet is not None
    cells = [row for row in sheet.iter_rows(values_only=True) if row[0] == "consignees"]
    assert [row[1] for row in cells] == ["name", "City Hospital", "rc Distribution"]
