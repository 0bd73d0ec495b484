"""EDI with partners beyond orders: DESADV and X12 856 generated from shipments (read back with
the same readers, compared to the EANCOM sample's structure), written to the partner's
outbound folder and delivered through the outbox; RECADV and X12 861 receiving advices through
the order inbox confirm delivery, a bad line waits with its reason and replays."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.config import Settings
from medledger.core.system import system_unit_of_work
from medledger.integration.models import OutboxMessage
from medledger.orders.edi import edifact, x12
from medledger.parties.models import Party
from medledger.trace.models import EpcisEvent
from tests.integration.edi_builders import (
    EXPIRY_EARLY,
    EXPIRY_LATE,
    Shipped,
    ship_two_pallets,
)
from tests.inventory.builders import AMBIENT_GTIN, sscc

VECTORS = Path(__file__).parent.parent / "vectors" / "edi"
EANCOM_ORDER = (VECTORS / "pydifact" / "order.edi").read_text()
X12_850 = (VECTORS / "edinet" / "x12.850.edi").read_text(encoding="utf-8")


@pytest.fixture
def outbound(tmp_path: Path) -> Path:
    return tmp_path / "edi-out"


@pytest.fixture
def settings(engine: Engine, outbound: Path) -> Settings:
    return Settings(
        database_url=str(engine.url.render_as_string(hide_password=False)),
        secret_key="test-secret",
        login_max_failures=5,
        webhook_allow_private_networks=True,
        edi_outbound_root=outbound,
    )


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _glns(factory: sessionmaker[Session], shipped: Shipped) -> tuple[str, str]:
    with system_unit_of_work(factory) as session:
        hub = session.get(Party, shipped.w.network.hub_id)
        distributor = session.get(Party, shipped.w.network.distributor_id)
        assert hub is not None and distributor is not None
        return hub.gln, distributor.gln


def _configure(
    client: TestClient, shipped: Shipped, body: dict[str, Any], who: dict[str, str] | None = None
) -> Any:
    return client.put(
        f"/api/v1/integration/edi/partners/{shipped.w.network.distributor_id}",
        json=body,
        headers=who or shipped.w.admin,
    )


def _shape(elements: tuple[Any, ...]) -> tuple[int, ...]:
    """How a segment is built: 0 for a simple element, n for a composite of n components."""
    return tuple(len(e) if isinstance(e, list) else 0 for e in elements)


def test_desadv_is_generated_written_delivered_and_reads_back(
    client: TestClient, factory: sessionmaker[Session], outbound: Path
) -> None:
    shipped = ship_two_pallets(client, factory)
    hub_gln, distributor_gln = _glns(factory, shipped)
    # Given the distributor's EDI settings: EANCOM, a folder, and the outbox
    settings = _ok(
        _configure(
            client,
            shipped,
            {
                "syntax": "edifact",
                "our_id": f"14:{hub_gln}",
                "partner_id": f"14:{distributor_gln}",
                "outbound_folder": "distributor/in",
                "deliver_via_outbox": True,
            },
        )
    )
    assert settings["outbound_folder"] == "distributor/in"
    # and a webhook of the distributor's that asks for despatch advices
    distributor = shipped.w.distributor
    _ok(
        client.post(
            "/api/v1/integration/subscriptions",
            json={
                "name": "our WMS",
                "url": "http://127.0.0.1:9/edi",
                "event_types": ["edi.despatch_advice"],
            },
            headers=distributor,
        ),
        201,
    )
    # When the warehouse sends the despatch advice of the shipment
    advice = _ok(
        client.post(
            "/api/v1/integration/edi/despatch-advices",
            json={"shipment_id": shipped.shipment_ids[0]},
            headers=shipped.w.warehouse,
        ),
        201,
    )
    # Then it covers both SSCCs of the shipping event, and is written to the folder after commit
    assert (advice["standard"], advice["ssccs"]) == ("DESADV", shipped.ssccs)
    path = outbound / "distributor" / "in" / advice["filename"]
    assert advice["written_path"] == str(path)
    assert path.read_text(encoding="utf-8") == advice["content"]
    assert [p.name for p in path.parent.iterdir()] == [advice["filename"]]  # no temporary file
    # and it is in the outbox for the distributor's subscription, document included
    with system_unit_of_work(factory) as session:
        message = session.scalar(
            select(OutboxMessage).where(OutboxMessage.event_type == "edi.despatch_advice")
        )
        assert message is not None
        assert message.message_id == advice["outbox_message_id"]
        assert message.payload["content"] == advice["content"]
        assert message.audience == [shipped.w.network.distributor_id]
    # and asking again gives the same advice (200), nothing sent twice
    again = _ok(
        client.post(
            "/api/v1/integration/edi/despatch-advices",
            json={"shipment_id": shipped.shipment_ids[1]},
            headers=shipped.w.warehouse,
        )
    )
    assert again["id"] == advice["id"]
    # The partner sees the advice addressed to it; the supplier does not
    listed = _ok(client.get("/api/v1/integration/edi/despatch-advices", headers=distributor))
    assert [a["id"] for a in listed["items"]] == [advice["id"]]
    supplier = shipped.w.supplier
    assert (
        client.get(
            f"/api/v1/integration/edi/despatch-advices/{advice['id']}", headers=supplier
        ).status_code
        == 404
    )
    # Reading it back with pydifact gives exactly what was shipped
    interchange = edifact.read(advice["content"])
    assert (interchange.sender, interchange.recipient) == (
        f"14:{hub_gln}",
        f"14:{distributor_gln}",
    )
    (desadv,) = interchange.messages
    assert desadv.identifier == ["DESADV", "D", "96A", "UN", "EAN005"]
    body = [(s.tag, s.elements) for s in desadv.segments[1:-1]]
    early, late = EXPIRY_EARLY.strftime("%Y%m%d"), EXPIRY_LATE.strftime("%Y%m%d")
    assert body[0] == ("BGM", ("351", advice["number"], "9"))
    assert body[3:7] == [
        ("NAD", ("BY", [distributor_gln, "", "9"])),
        ("NAD", ("SU", [hub_gln, "", "9"])),
        ("NAD", ("DP", [distributor_gln, "", "9"])),
        ("CPS", ("1",)),
    ]
    assert body[7:] == [
        ("CPS", ("2", "1")),
        ("PAC", ("1", "", "201")),
        ("PCI", ("33E",)),
        ("GIN", ("BJ", shipped.ssccs[0])),
        ("LIN", ("1", "", [AMBIENT_GTIN, "EN"])),
        ("QTY", (["12", "10"],)),
        ("PCI", ("36E",)),
        ("DTM", (["361", early, "102"],)),
        ("GIN", ("BX", "L-EARLY")),
        ("LIN", ("2", "", [AMBIENT_GTIN, "EN"])),
        ("QTY", (["12", "5"],)),
        ("PCI", ("36E",)),
        ("DTM", (["361", late, "102"],)),
        ("GIN", ("BX", "L-LATE")),
        ("CPS", ("3", "1")),
        ("PAC", ("1", "", "201")),
        ("PCI", ("33E",)),
        ("GIN", ("BJ", shipped.ssccs[1])),
        ("LIN", ("3", "", [AMBIENT_GTIN, "EN"])),
        ("QTY", (["12", "20"],)),
        ("PCI", ("36E",)),
        ("DTM", (["361", late, "102"],)),
        ("GIN", ("BX", "L-LATE")),
        ("CNT", (["2", "3"],)),
    ]
    # The UNT count is right, and the segments common with the EANCOM sample are built alike
    assert desadv.segments[-1].elements[0] == str(len(desadv.segments))
    (sample,) = edifact.read(EANCOM_ORDER).messages
    assert sample.identifier[1:4] == desadv.identifier[1:4]
    sample_shapes = {
        (s.tag, s.elements[0] if s.tag == "NAD" else ""): _shape(s.elements)
        for s in sample.segments
        if s.tag in ("NAD", "LIN", "QTY")
    }
    ours = {
        (s.tag, s.elements[0] if s.tag == "NAD" else ""): _shape(s.elements)
        for s in desadv.segments
        if s.tag in ("NAD", "LIN", "QTY")
    }
    assert {k: ours[k] for k in sample_shapes if k in ours} == {
        k: v for k, v in sample_shapes.items() if k in ours
    }
    assert set(ours) <= set(sample_shapes)
    # (the service string advice as pydifact writes it, decimal comma as in the sample)
    assert advice["content"].startswith("UNA:+,? '\nUNB+UNOC:3+")


def test_x12_856_uses_the_partners_separators_and_reads_back(
    client: TestClient, factory: sessionmaker[Session], outbound: Path
) -> None:
    shipped = ship_two_pallets(client, factory, "x12")
    _, distributor_gln = _glns(factory, shipped)
    _ok(
        _configure(
            client,
            shipped,
            {
                "syntax": "x12",
                "our_id": "01:000123456",
                "partner_id": "ZZ:DISTRIBUTOR",
                "element_separator": "|",
                "component_separator": "^",
                "segment_terminator": "~",
                "outbound_folder": "",
                "deliver_via_outbox": True,
            },
        )
    )
    advice = _ok(
        client.post(
            "/api/v1/integration/edi/despatch-advices",
            json={"shipment_id": shipped.shipment_ids[1]},
            headers=shipped.w.warehouse,
        ),
        201,
    )
    assert (advice["standard"], advice["written_path"]) == ("856", "")
    assert not outbound.exists()  # no folder: nothing written
    content = advice["content"]
    # The ISA is fixed-width as in the X12 sample, with our separators
    isa_line = content.splitlines()[0]
    assert len(isa_line) == len(X12_850.lstrip("\ufeff").splitlines()[0]) == 106
    assert (isa_line[3], isa_line[-2], isa_line[-1]) == ("|", "^", "~")
    interchange = x12.read(content)
    assert (interchange.sender, interchange.receiver) == ("01:000123456", "ZZ:DISTRIBUTOR")
    (ship_notice,) = interchange.transaction_sets
    assert ship_notice.code == "856" and ship_notice.problems == []
    assert ship_notice.group.get(1) == "SH"
    segments = [(s.tag, s.elements) for s in ship_notice.segments]
    early, late = EXPIRY_EARLY.strftime("%Y%m%d"), EXPIRY_LATE.strftime("%Y%m%d")
    shipped_on = next(e[1] for tag, e in segments if tag == "DTM" and e[0] == "011")
    assert shipped_on == datetime.now(UTC).strftime("%Y%m%d")
    assert [s for s in segments if s[0] in ("HL", "MAN", "LIN", "SN1", "DTM", "CTT")] == [
        ("HL", ("1", "", "S")),
        ("DTM", ("011", shipped_on)),
        ("HL", ("2", "1", "T")),
        ("MAN", ("GM", shipped.ssccs[0])),
        ("HL", ("3", "2", "I")),
        ("LIN", ("", "UK", AMBIENT_GTIN, "LT", "L-EARLY")),
        ("SN1", ("", "10", "EA")),
        ("DTM", ("036", early)),
        ("HL", ("4", "2", "I")),
        ("LIN", ("", "UK", AMBIENT_GTIN, "LT", "L-LATE")),
        ("SN1", ("", "5", "EA")),
        ("DTM", ("036", late)),
        ("HL", ("5", "1", "T")),
        ("MAN", ("GM", shipped.ssccs[1])),
        ("HL", ("6", "5", "I")),
        ("LIN", ("", "UK", AMBIENT_GTIN, "LT", "L-LATE")),
        ("SN1", ("", "20", "EA")),
        ("DTM", ("036", late)),
        ("CTT", ("6",)),
    ]
    assert ("N1", ("ST", "x12 Distribution", "UL", distributor_gln)) in segments
    assert segments[-1] == ("SE", (str(len(segments)), "0001"))


def test_settings_are_checked_and_belong_to_the_hub(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    shipped = ship_two_pallets(client, factory, "cfg")
    base = {"syntax": "x12", "our_id": "01:000123456", "partner_id": "ZZ:DIST"}
    cases = [
        ({**base, "our_id": "000123456"}, "our_id", "edi.identifier_invalid"),
        ({**base, "partner_id": "ZZ:" + "X" * 16}, "partner_id", "edi.identifier_invalid"),
        (
            {**base, "element_separator": "~", "segment_terminator": "~"},
            "element_separator",
            "edi.separators_invalid",
        ),
        ({**base, "outbound_folder": "../etc"}, "outbound_folder", "edi.outbound_folder_invalid"),
        ({**base, "deliver_via_outbox": False}, "outbound_folder", "edi.no_outbound_channel"),
    ]
    for body, field, code in cases:
        problem = _ok(_configure(client, shipped, body), 422)
        assert [(e["field"], e["code"]) for e in problem["errors"]] == [(field, code)], body
    # a partner may read its own settings but not set them
    assert _configure(client, shipped, base, shipped.w.distributor).status_code == 403
    _ok(_configure(client, shipped, base))
    own = client.get(
        f"/api/v1/integration/edi/partners/{shipped.w.network.distributor_id}",
        headers=shipped.w.distributor,
    )
    assert _ok(own)["partner_id"] == "ZZ:DIST"
    other = client.get(
        f"/api/v1/integration/edi/partners/{shipped.w.network.distributor_id}",
        headers=shipped.w.supplier,
    )
    assert other.status_code == 404
    # and a shipment to a party without settings cannot be advised
    with system_unit_of_work(factory) as session:
        assert session.scalar(select(Party.id).where(Party.id == shipped.w.network.supplier_id))


# --- receiving advices ---------------------------------------------------------------------


def _recadv(shipped: Shipped, distributor_gln: str, hub_gln: str, late_in_first: int) -> str:
    first, second = shipped.ssccs
    return (
        "UNA:+.? '"
        f"UNB+UNOC:3+{distributor_gln}:14+{hub_gln}:14+270120:0800+RA1'"
        "UNH+1+RECADV:D:96A:UN:EAN003'"
        "BGM+632+RA-1001+9'"
        "DTM+137:202701200800:203'"
        "DTM+50:202701200800:203'"
        f"NAD+SU+{hub_gln}::9'"
        f"NAD+DP+{distributor_gln}::9'"
        "CPS+1'"
        "CPS+2+1'"
        f"GIN+BJ+{first}'"
        f"LIN+1++{AMBIENT_GTIN}:EN'"
        "QTY+194:10'"
        f"LIN+2++{AMBIENT_GTIN}:EN'"
        f"QTY+194:{late_in_first}'"
        "CPS+3+1'"
        f"GIN+BJ+{second}'"
        f"LIN+3++{AMBIENT_GTIN}:EN'"
        "QTY+194:20'"
        "UNT+19+1'"
        "UNZ+1+RA1'"
    )


def _import(client: TestClient, content: str, who: dict[str, str]) -> Any:
    return _ok(
        client.post(
            "/api/v1/orders/import/edi?filename=recadv.edi",
            content=content.encode(),
            headers={**who, "Content-Type": "application/edifact"},
        )
    )


def _shipment_states(client: TestClient, shipped: Shipped) -> list[tuple[str, str]]:
    rows = _ok(client.get("/api/v1/inventory/shipments", headers=shipped.w.warehouse))
    return sorted((s["sscc"], s["status"]) for s in rows)


def test_recadv_with_a_bad_line_waits_then_replays_and_proves_delivery(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    shipped = ship_two_pallets(client, factory, "rcv")
    hub_gln, distributor_gln = _glns(factory, shipped)
    sales = _sales(client)
    # Given a receiving advice saying 4 of the late lot arrived in the first pallet (5 shipped)
    result = _import(client, _recadv(shipped, distributor_gln, hub_gln, 4), sales)
    # Then it waits in the inbox with the reason at its segment, and nothing is delivered
    assert (result["accepted"], result["failed"]) == (0, 1)
    message = result["messages"][0]
    assert [(e["field"], e["code"], e["params"]) for e in message["errors"]] == [
        (
            "segment 13 QTY.quantity",
            "receipt.quantity_mismatch",
            {"received": 14, "shipped": 15, "gtin": AMBIENT_GTIN, "sscc": shipped.ssccs[0]},
        )
    ]
    assert _shipment_states(client, shipped) == [(u, "shipped") for u in shipped.ssccs]
    # When the clerk corrects the line (the partner confirmed 5) and replays it
    stored = _ok(client.get(f"/api/v1/order-inbox/{message['id']}", headers=sales))
    corrected = stored["content"].replace("QTY+194:4'", "QTY+194:5'")
    replayed = _ok(
        client.post(
            f"/api/v1/order-inbox/{message['id']}/replay",
            json={"content": corrected, "reason": "partner confirmed 5 by phone"},
            headers=sales,
        )
    )
    # Then it is accepted, names the distributor, and both shipments are delivered
    assert (replayed["status"], replayed["errors"], replayed["order_id"]) == ("accepted", [], None)
    assert replayed["party_id"] == shipped.w.network.distributor_id
    assert replayed["document_reference"] == "RA-1001"
    assert _shipment_states(client, shipped) == [(u, "delivered") for u in shipped.ssccs]
    rows = _ok(client.get("/api/v1/inventory/shipments", headers=shipped.w.warehouse))
    assert {s["delivered_at"] for s in rows} == {"2027-01-20T08:00:00Z"}
    # as the distributor's own receiving event (proof of delivery as inventory records it)
    with system_unit_of_work(factory) as session:
        events = session.scalars(
            select(EpcisEvent).where(
                EpcisEvent.biz_step.like("%receiving"),
                EpcisEvent.capturing_party_id == shipped.w.network.distributor_id,
            )
        ).all()
        assert [(e.capturing_party_id, e.event_time) for e in events] == [
            (shipped.w.network.distributor_id, datetime(2027, 1, 20, 8, 0, tzinfo=UTC))
        ]
    # And the same advice received again delivers nothing twice
    again = _import(client, corrected, sales)
    assert (again["accepted"], again["failed"]) == (1, 0)
    with system_unit_of_work(factory) as session:
        assert (
            len(
                session.scalars(
                    select(EpcisEvent).where(
                        EpcisEvent.biz_step.like("%receiving"),
                        EpcisEvent.capturing_party_id == shipped.w.network.distributor_id,
                    )
                ).all()
            )
            == 1
        )


def _sales(client: TestClient) -> dict[str, str]:
    from tests.builders import token_headers

    return token_headers(client, "rcv-sales")


def test_x12_861_confirms_delivery_and_refuses_what_we_did_not_ship(
    client: TestClient, factory: sessionmaker[Session]
) -> None:
    shipped = ship_two_pallets(client, factory, "rcv")
    hub_gln, distributor_gln = _glns(factory, shipped)
    sales = _sales(client)
    stranger = sscc(999)

    def advice(units: list[str]) -> str:
        body = [
            "ST*861*0001",
            "BRA*RCV-77*20270121*00*1",
            "DTM*050*20270121",
            f"N1*ST*Distributor DC*UL*{distributor_gln}",
        ]
        for number, unit in enumerate(units, start=1):
            body += [f"RCD*{number}", f"MAN*GM*{unit}"]
        body.append(f"SE*{len(body) + 1}*0001")
        return (
            "ISA*00*          *00*          *ZZ*DISTRIBUTOR    *01*000123456      "
            "*270121*0900*U*00401*000000077*0*P*>~\n"
            "GS*RC*DISTRIBUTOR*000123456*20270121*0900*77*X*004010~\n"
            + "".join(segment + "~\n" for segment in body)
            + "GE*1*77~\nIEA*1*000000077~\n"
        )

    # A receiving advice naming an SSCC we never shipped waits with the reason
    result = _import(client, advice([shipped.ssccs[0], stranger]), sales)
    message = result["messages"][0]
    assert [(e["field"], e["code"]) for e in message["errors"]] == [
        ("segment 8 MAN.sscc", "receipt.sscc_unknown")
    ]
    assert _shipment_states(client, shipped) == [(u, "shipped") for u in shipped.ssccs]
    # corrected to name the second pallet, it delivers both
    corrected = _ok(client.get(f"/api/v1/order-inbox/{message['id']}", headers=sales))[
        "content"
    ].replace(stranger, shipped.ssccs[1])
    replayed = _ok(
        client.post(
            f"/api/v1/order-inbox/{message['id']}/replay",
            json={"content": corrected, "reason": "wrong label scanned"},
            headers=sales,
        )
    )
    assert (replayed["status"], replayed["document_reference"]) == ("accepted", "RCV-77")
    assert _shipment_states(client, shipped) == [(u, "delivered") for u in shipped.ssccs]
    del hub_gln
