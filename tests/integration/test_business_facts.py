"""Business facts other contexts announce (``core.facts``) reach partners' systems through the
gateway: an EDI order's acknowledgement (outbox and the partner's outbound folder), an NCR
shared with its supplier, a change notified to a partner — each only to the parties it
concerns, in the transaction of the change."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from medledger.catalog.schemas import ProductIn
from medledger.catalog.service import create_product
from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.core.work import work_of
from medledger.integration.models import Delivery, OutboxMessage
from tests.builders import PASSWORD, build_network, gtin, token_headers
from tests.orders.builders import build_order_world, headers

VECTORS = Path(__file__).parent.parent / "vectors" / "edi"
EANCOM_ORDER = (VECTORS / "pydifact" / "order.edi").read_text()


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _subscribe(client: TestClient, who: dict[str, str], types: list[str], name: str) -> int:
    body = {"name": name, "url": "http://127.0.0.1:9/hook", "event_types": types}
    return int(
        _ok(client.post("/api/v1/integration/subscriptions", json=body, headers=who), 201)["id"]
    )


def _messages(
    factory: sessionmaker[Session], event_type: str
) -> list[tuple[OutboxMessage, list[int]]]:
    """The outbox messages of ``event_type`` with the subscriptions they are for."""
    with system_unit_of_work(factory) as session:
        found = []
        for message in session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.event_type == event_type)
            .order_by(OutboxMessage.id)
        ):
            subscriptions = sorted(
                session.scalars(
                    select(Delivery.subscription_id).where(Delivery.message_row_id == message.id)
                )
            )
            session.expunge(message)
            found.append((message, subscriptions))
        return found


def test_the_gateway_offers_the_announced_fact_types(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    build_network(factory)
    types = _ok(
        client.get("/api/v1/integration/event-types", headers=token_headers(client, "acme-admin"))
    )
    names = [t["name"] for t in types]
    assert {"order.acknowledged", "ncr.shared", "change.notified"} <= set(names)
    assert names == sorted(names)


def test_an_edi_order_acknowledgement_goes_to_the_buyer_outbox_and_outbound_folder(
    client: TestClient,
    factory: sessionmaker[Session],
    process_outbound: Path,
) -> None:
    world = build_order_world(factory)
    admin = headers(client, "admin")
    # Given the hospital's EDI settings (a folder and the outbox) and its webhook
    _ok(
        client.put(
            f"/api/v1/integration/edi/partners/{world.hospital_party_id}",
            json={
                "syntax": "edifact",
                "our_id": "14:5020436000004",
                "partner_id": "14:12345678",
                "outbound_folder": "mary/in",
            },
            headers=admin,
        )
    )
    hospital = headers(client, "hospital")
    mine = _subscribe(client, hospital, ["order.acknowledged"], "our ERP")
    # and a distributor that wants the same fact type
    theirs = _subscribe(client, headers(client, "distributor"), ["order.acknowledged"], "other")
    # When the hospital's EANCOM order is received and accepted
    result = _ok(
        client.post(
            "/api/v1/orders/import/edi?filename=in.edi",
            content=EANCOM_ORDER.encode(),
            headers={**headers(client, "sales"), "Content-Type": "application/edifact"},
        )
    )
    order_id = result["messages"][0]["order_id"]
    ack = _ok(client.get(f"/api/v1/orders/{order_id}/acknowledgements", headers=admin))[0]
    # Then one message carries the ORDRSP, for the hospital's subscription only
    [(message, subscriptions)] = _messages(factory, "order.acknowledged")
    assert subscriptions == [mine] and theirs not in subscriptions
    assert message.audience == [world.hospital_party_id]
    assert message.subject == "801715918011"
    filename = f"ORDRSP_801715918011_{ack['control_reference']}.edi"
    assert message.payload["edi"] == {
        "party_id": world.hospital_party_id,
        "standard": "ORDRSP",
        "control_reference": ack["control_reference"],
        "filename": filename,
        "content": ack["content"],
    }
    assert (message.payload["order_id"], message.payload["order_version"]) == (order_id, 1)
    # and the same document is in the hospital's outbound folder, written after commit
    path = process_outbound / "mary" / "in" / filename
    assert path.read_text(encoding="utf-8") == ack["content"]
    assert [p.name for p in path.parent.iterdir()] == [filename]


def test_an_ncr_is_announced_to_the_supplier_it_concerns_only(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    net = build_network(factory)
    supplier = _subscribe(client, token_headers(client, "acme-supplier"), ["ncr.shared"], "SCAR")
    _subscribe(client, token_headers(client, "acme-distributor"), ["ncr.shared"], "nosy")
    qa = token_headers(client, "acme-qa")
    body = {
        "title": "Burr on catheter hub",
        "severity": "major",
        "affected_lots": [{"gtin": gtin(51), "lot": "L-100"}],
    }
    # An NCR about nobody's material announces nothing
    _ok(client.post("/api/v1/quality/ncrs", json=body, headers=qa), 201)
    assert _messages(factory, "ncr.shared") == []
    # One about the supplier's material is announced to it
    ncr = _ok(
        client.post(
            "/api/v1/quality/ncrs",
            json={**body, "supplier_party_id": net.supplier_id, "due_date": "2027-01-15"},
            headers=qa,
        ),
        201,
    )
    [(message, subscriptions)] = _messages(factory, "ncr.shared")
    assert subscriptions == [supplier]
    assert message.audience == [net.supplier_id]
    assert message.payload == {
        "ncr_id": ncr["id"],
        "number": ncr["number"],
        "title": "Burr on catheter hub",
        "severity": "major",
        "state": ncr["state"],
        "affected_lots": [{"gtin": gtin(51), "lot": "L-100"}],
        "due_date": "2027-01-15",
    }


def test_an_approved_change_is_announced_to_each_notified_partner(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    net = build_network(factory)
    with system_unit_of_work(factory) as session:
        admin = tenant_admin(session, net.tenant_id)
        work_of(session).act_as(admin)
        product_id = create_product(
            session,
            admin,
            ProductIn(
                gtin=gtin(61),
                name="Hub moulding",
                tracking_level="lot",
                storage_class="ambient",
                owner_party_id=net.supplier_id,
            ),
        ).id
    supplier = _subscribe(client, token_headers(client, "acme-supplier"), ["change.notified"], "CC")
    qa = token_headers(client, "acme-qa")
    change = _ok(
        client.post(
            "/api/v1/quality/changes",
            json={
                "title": "New resin grade",
                "reason_for_change": "Resin discontinued.",
                "affected_product_ids": [product_id],
                "impact_assessment": "Biocompatibility re-test needed.",
                "effective_date": date.today().isoformat(),
            },
            headers=qa,
        ),
        201,
    )

    def step(who: str, action: str) -> None:
        _ok(
            client.post(
                f"/api/v1/quality/changes/{change['id']}/transitions",
                json={"action": action, "signature": {"password": PASSWORD, "comment": action}},
                headers=token_headers(client, f"acme-{who}"),
            )
        )

    step("qa", "submit")
    assert _messages(factory, "change.notified") == []  # not before approval
    step("qa_approver", "approve")
    [(message, subscriptions)] = _messages(factory, "change.notified")
    assert subscriptions == [supplier]
    assert message.audience == [net.supplier_id]
    assert message.payload == {
        "change_id": change["id"],
        "number": change["number"],
        "title": "New resin grade",
        "effective_date": date.today().isoformat(),
        "why": f"product {gtin(61)}",
    }
