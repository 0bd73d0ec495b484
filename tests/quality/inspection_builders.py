"""A warehouse with a test lab, an inspection plan and lots in quarantine, for the inspection
and lot-release tests (everything through the real HTTP API)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from medledger.compliance.models import ElectronicSignature, SigningFailure, WorkflowTransition
from medledger.core.system import system_unit_of_work, tenant_admin
from medledger.core.work import work_of
from medledger.inventory.models import LotHold, StockBalance, StockMovement
from medledger.parties.models import PartyRole
from medledger.parties.schemas import UserIn
from medledger.parties.service import create_party, create_user
from medledger.quality.models import Inspection, InspectionPlan, LotRelease, Ncr
from tests.builders import PASSWORD, party_in, token_headers
from tests.inventory.builders import AMBIENT_GTIN, Warehouse, build_warehouse


@dataclass
class Lab:
    w: Warehouse
    lab_id: int
    other_lab_id: int
    lab: dict[str, str]
    other_lab: dict[str, str]
    product_id: int


def build_lab(client: TestClient, factory: sessionmaker[Session], slug: str = "ins") -> Lab:
    w = build_warehouse(client, factory, slug)
    ids = []
    with system_unit_of_work(factory) as session:
        admin = tenant_admin(session, w.network.tenant_id)
        work_of(session).act_as(admin)
        for number, name in ((21, "lab"), (22, "otherlab")):
            party = create_party(
                session, admin, party_in(f"{slug} {name}", number, [PartyRole.TEST_LAB])
            )
            create_user(
                session,
                admin,
                UserIn(
                    username=f"{slug}-{name}",
                    display_name=f"{slug} {name} analyst",
                    password=PASSWORD,
                    role="partner_user",
                    party_id=party.id,
                ),
            )
            ids.append(party.id)
    products = client.get("/api/v1/products", params={"q": AMBIENT_GTIN}, headers=w.admin).json()
    product_id = next(p["id"] for p in products["items"] if p["gtin"] == AMBIENT_GTIN)
    return Lab(
        w,
        ids[0],
        ids[1],
        token_headers(client, f"{slug}-lab"),
        token_headers(client, f"{slug}-otherlab"),
        product_id,
    )


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def receive(client: TestClient, w: Warehouse, lot: str, quantity: int) -> None:
    ok(
        client.post(
            "/api/v1/inventory/receipts",
            json={
                "location_id": w.dock,
                "lines": [{"gtin": AMBIENT_GTIN, "lot": lot, "quantity": quantity}],
            },
            headers=w.warehouse,
        ),
        201,
    )


def plan(client: TestClient, lab: Lab, **fields: Any) -> dict[str, Any]:
    body = {
        "title": "Incoming inspection of catheter hubs",
        "product_id": lab.product_id,
        "kind": "incoming",
        "characteristics": [
            {
                "name": "Outer diameter",
                "kind": "numeric",
                "unit": "mm",
                "lower": 2.9,
                "upper": 3.1,
                "sample_size": 3,
            },
            {"name": "Burr", "kind": "attribute", "expected": "none", "sample_size": 1},
        ],
        **fields,
    }
    return ok(client.post("/api/v1/quality/inspection-plans", json=body, headers=lab.w.qa), 201)


def balances(factory: sessionmaker[Session], lot: str) -> list[tuple[str, int, int]]:
    """(status, location, quantity) of a lot's non-empty balances."""
    with system_unit_of_work(factory) as session:
        return sorted(
            (b.status, b.location_id, b.quantity)
            for b in session.scalars(
                select(StockBalance).where(StockBalance.lot == lot, StockBalance.quantity > 0)
            )
        )


def state(factory: sessionmaker[Session]) -> dict[str, Any]:
    """Row counts and states of everything a lot decision touches: equal = nothing changed."""
    with system_unit_of_work(factory) as session:
        result: dict[str, Any] = {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (
                Inspection,
                InspectionPlan,
                LotRelease,
                Ncr,
                ElectronicSignature,
                WorkflowTransition,
                StockMovement,
                LotHold,
            )
        }
        result["signing_failures"] = session.scalar(
            select(func.count()).select_from(SigningFailure)
        )
        result["releases"] = sorted(
            session.execute(select(LotRelease.id, LotRelease.state, LotRelease.version)).all()
        )
        result["balances"] = sorted(
            session.execute(
                select(StockBalance.lot, StockBalance.status, StockBalance.quantity)
            ).all()
        )
        return result
