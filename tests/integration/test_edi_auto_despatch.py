"""Despatch advices that send themselves: a partner whose EDI settings ask for it gets the
advice of every shipping event to it in the capture transaction (kept, written to its folder
after commit); with the setting off, nothing is sent until someone asks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.system import system_unit_of_work
from medledger.integration.edi.models import DespatchAdvice
from medledger.orders.edi import x12
from medledger.parties.models import Party
from tests.integration.edi_builders import ship_two_pallets
from tests.inventory.builders import Warehouse


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _configure(client: TestClient, factory: sessionmaker[Session], auto: bool) -> Any:
    def configure(w: Warehouse) -> None:
        with system_unit_of_work(factory) as session:
            hub = session.get(Party, w.network.hub_id)
            assert hub is not None
            hub_gln = hub.gln
        body = {
            "syntax": "x12",
            "our_id": f"UL:{hub_gln}",
            "partner_id": "ZZ:DISTRIB01",
            "outbound_folder": "distributor/in",
            "deliver_via_outbox": False,
            "despatch_advice_auto": auto,
        }
        settings = _ok(
            client.put(
                f"/api/v1/integration/edi/partners/{w.network.distributor_id}",
                json=body,
                headers=w.admin,
            )
        )
        assert settings["despatch_advice_auto"] is auto

    return configure


def test_a_partner_set_to_auto_gets_the_advice_at_the_shipping_event(
    client: TestClient,
    factory: sessionmaker[Session],
    process_outbound: Path,
) -> None:
    # When the warehouse ships two pallets to a distributor set to receive advices by itself
    shipped = ship_two_pallets(
        client, factory, before_shipping=_configure(client, factory, auto=True)
    )
    # Then the advice of that shipping event exists without anyone asking, covering both SSCCs
    listed = _ok(
        client.get("/api/v1/integration/edi/despatch-advices", headers=shipped.w.warehouse)
    )
    [advice] = listed["items"]
    assert (advice["standard"], advice["ssccs"]) == ("856", shipped.ssccs)
    assert advice["party_id"] == shipped.w.network.distributor_id
    # written to the partner's folder after commit, and readable as an X12 856
    path = process_outbound / "distributor" / "in" / advice["filename"]
    content = path.read_text(encoding="utf-8")
    assert advice["written_path"] == str(path)
    interchange = x12.read(content)
    assert interchange.receiver == "ZZ:DISTRIB01"
    (ship_notice,) = interchange.transaction_sets
    assert ship_notice.code == "856"
    # and asking for it again answers the same advice: it is sent once
    again = client.post(
        "/api/v1/integration/edi/despatch-advices",
        json={"shipment_id": shipped.shipment_ids[1]},
        headers=shipped.w.warehouse,
    )
    assert _ok(again)["id"] == advice["id"]


def test_with_auto_off_nothing_is_sent_until_asked(
    client: TestClient,
    factory: sessionmaker[Session],
    process_outbound: Path,
) -> None:
    ship_two_pallets(client, factory, before_shipping=_configure(client, factory, auto=False))
    with system_unit_of_work(factory) as session:
        assert session.scalar(select(func.count()).select_from(DespatchAdvice)) == 0
    assert not (process_outbound).exists()
