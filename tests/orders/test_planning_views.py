"""Board, queue, approvals and rule-set pages through the TestClient with a browser session."""

from __future__ import annotations

import html
import json
import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.builders import PASSWORD, token_headers
from tests.orders.builders import CATHETER, STENT, build_order_world
from tests.orders.planning_builders import EANCOM_ORDER, _import_edi, stock_up
from tests.web.browsing import alert, csrf, log_in, nav_keys


def test_board_queue_and_a_rule_set_activated_with_a_signature(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    build_order_world(factory)
    stock_up(client, [(STENT, "S1", 3, "2029-06-30"), (CATHETER, "K1", 20, "2029-06-30")])
    order_id = _import_edi(client, EANCOM_ORDER)  # 8 stents wanted, 3 in stock
    log_in(client, "acme-sales")
    page = client.get("/orders/board")
    assert page.status_code == 200
    assert {"order-board"} <= set(nav_keys(page.text))
    # short of stents: the card sits in Backorder with the reason
    card = re.search(rf'id="card-{order_id}"[^>]*data-column="([a-z_]+)"', page.text)
    assert card and card.group(1) == "backorder"
    assert "outranked" in page.text or "out of stock" in page.text
    # a forbidden button move is refused with the message, and a reason is required to block
    token = csrf(client, "/orders/board")
    refused = client.post(
        f"/orders/board/{order_id}/move", data={"csrf_token": token, "to": "shipped"}
    )
    assert refused.status_code == 409
    assert alert(refused.text) == (
        "board.move_not_allowed",
        "An order cannot move from Backorder to Shipped.",
    )
    # the queue explains each score as the sum of its contributions
    queue = client.get("/orders/queue")
    assert queue.status_code == 200
    assert 'data-factor="customer_tier"' in queue.text
    # sales saves a new draft with another weight and asks for its activation
    rules = client.get("/orders/rule-sets")
    assert rules.status_code == 200
    document = re.search(r'<textarea name="document"[^>]*>(.*?)</textarea>', rules.text, re.S)
    assert document
    saved = client.post(
        "/orders/rule-sets",
        data={
            "csrf_token": token,
            "document": html.unescape(document.group(1)),
            "weight-customer_tier": "2",
            "note": "tier counts double",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    draft = json.loads(
        client.get("/api/v1/priority/rule-sets", headers=token_headers(client, "acme-sales")).text
    )[0]
    assert (draft["version"], draft["state"]) == (2, "draft")
    assert draft["document"]["factors"][0]["weight"] == 2.0
    asked = client.post(
        f"/orders/rule-sets/{draft['id']}/activation",
        data={"csrf_token": token, "reason": "board decision"},
        follow_redirects=False,
    )
    assert asked.status_code == 303
    approval_id = int(asked.headers["location"].split("requested=")[1])
    # the planner signs the activation: the draft becomes active and lines are rescored
    client.cookies.clear()
    log_in(client, "acme-planner")
    inbox = client.get("/orders/approvals")
    assert f'data-approval="{approval_id}"' in inbox.text
    token = csrf(client, f"/orders/approvals/{approval_id}")
    signed = client.post(
        f"/orders/approvals/{approval_id}",
        data={"csrf_token": token, "decision": "approve", "password": PASSWORD},
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text
    versions = json.loads(
        client.get("/api/v1/priority/rule-sets", headers=token_headers(client, "acme-planner")).text
    )
    assert [(v["version"], v["state"]) for v in versions] == [(2, "active"), (1, "retired")]
    line = client.get(
        "/api/v1/priority/queue", headers=token_headers(client, "acme-planner")
    ).json()
    first = line["items"][0]
    assert first["rule_set_version"] == 2
    assert first["contributions"][0]["contribution"] == 60.0  # strategic 30 × weight 2
