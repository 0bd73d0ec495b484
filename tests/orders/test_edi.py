"""EDI orders end to end: the EANCOM and X12 samples in, acknowledged, and the inbox for what
fails (kept with its errors, corrected, replayed)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from medledger.compliance.models import AuditEntry
from medledger.core.system import system_unit_of_work
from medledger.orders.edi import x12
from medledger.orders.models import Acknowledgement, InboundMessage, Order
from tests.orders.builders import CATHETER, STENT, SUTURE, build_order_world, headers

VECTORS = Path(__file__).parent.parent / "vectors" / "edi"
EANCOM_ORDER = (VECTORS / "pydifact" / "order.edi").read_text()
X12_850 = (VECTORS / "edinet" / "x12.850.edi").read_text(encoding="utf-8")


def _import(client: TestClient, content: str, who: str = "sales") -> dict:
    response = client.post(
        "/api/v1/orders/import/edi?filename=in.edi",
        content=content.encode(),
        headers={**headers(client, who), "Content-Type": "application/edifact"},
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_eancom_orders_sample_becomes_an_order_with_an_ordrsp(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    # given the buyer, delivery point, supplier and items the EANCOM sample names
    world = build_order_world(factory)
    # when the interchange is received
    result = _import(client, EANCOM_ORDER)
    # then its one message is accepted and points at a new EDIFACT order
    assert (result["accepted"], result["failed"]) == (1, 0)
    message = result["messages"][0]
    assert message["channel"] == "edifact"
    assert message["interchange_reference"] == "807"
    assert message["document_reference"] == "801715918011"
    assert message["party_id"] == world.hospital_party_id
    sales = headers(client, "sales")
    order = client.get(f"/api/v1/orders/{message['order_id']}", headers=sales).json()
    assert order["customer_reference"] == "801715918011"
    assert order["channel"] == "edifact"
    assert order["customer_id"] == world.hospital_customer_id
    assert order["ship_to_id"] == world.hospital_ship_to_id  # NAD+DP GLN
    assert order["order_date"] == "2015-08-03"  # DTM+137
    assert order["requested_delivery_date"] == "2015-08-06"  # DTM+2
    assert [(line["line_number"], line["gtin"], line["quantity"]) for line in order["lines"]] == [
        (1, STENT, 8),
        (2, CATHETER, 8),
    ]
    # contract: 2 days of service level, 180 days of shelf life at delivery
    assert {line["promised_date"] for line in order["lines"]} == {"2015-08-06"}
    assert {line["min_remaining_shelf_life_days"] for line in order["lines"]} == {180}
    # and an ORDRSP answers it, addressed back to the sender, waiting in the outbox
    acks = client.get(f"/api/v1/orders/{order['id']}/acknowledgements", headers=sales).json()
    assert len(acks) == 1
    ack = acks[0]
    assert (ack["standard"], ack["status"], ack["order_version"]) == ("ORDRSP", "pending", 1)
    segments = [s.strip() for s in ack["content"].split("'") if s.strip()]
    assert segments[1].startswith("UNB+UNOC:3+5020436000004:14+12345678:8+")
    assert segments[2] == "UNH+1+ORDRSP:D:96A:UN:EAN005"
    assert segments[3] == f"BGM+231::9+{order['number']}+29"
    assert "RFF+ON:801715918011" in segments
    assert segments[segments.index("LIN+1+5+05020436373085:SRV") + 1 :][:2] == [
        "QTY+21:8",
        "DTM+69:20150806:102",
    ]
    assert "CNT+2:2" in segments
    assert segments[-2] == "UNT+15+1"
    one = client.get(f"/api/v1/order-acknowledgements/{ack['id']}", headers=sales).json()
    assert one["content"] == ack["content"]


def test_x12_850_sample_becomes_an_order_with_an_855(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    # given the distributor registered with the sample's ISA sender id and the vendor part number
    world = build_order_world(factory)
    result = _import(client, X12_850)
    assert (result["accepted"], result["failed"]) == (1, 0)
    message = result["messages"][0]
    assert (message["channel"], message["interchange_reference"], message["message_reference"]) == (
        "x12",
        "000000055",
        "0003",
    )
    sales = headers(client, "sales")
    order = client.get(f"/api/v1/orders/{message['order_id']}", headers=sales).json()
    assert order["customer_id"] == world.distributor_customer_id
    assert order["customer_reference"] == "1000012"  # BEG03
    assert order["order_date"] == "2009-08-27"  # BEG05
    assert order["ship_to_id"] == world.distributor_ship_to_id  # N1*ST without a code: default
    assert order["currency"] == "USD"
    [line] = order["lines"]
    assert (line["gtin"], line["quantity"], line["unit_price"]) == (SUTURE, 1, "19.9500")
    # no requested date in the 850: the contract's 5 days of service level apply
    assert (line["requested_delivery_date"], line["promised_date"]) == ("2009-09-01", "2009-09-01")
    [ack] = client.get(f"/api/v1/orders/{order['id']}/acknowledgements", headers=sales).json()
    assert ack["standard"] == "855"
    ix = x12.read(ack["content"])
    assert (ix.sender, ix.receiver) == ("ZZ:PARTNERID", "01:000123456")
    [ts] = ix.transaction_sets
    assert ts.problems == []
    assert [s.tag for s in ts.segments] == ["ST", "BAK", "PO1", "ACK", "CTT", "SE"]
    assert ts.segments[1].elements == (
        "00", "AD", "1000012", "20090827", "", "", "", order["number"],
        ts.segments[1].get(9),
    )  # fmt: skip
    assert ts.segments[3].elements == ("IA", "1", "EA", "067", "20090901")


def test_a_bad_edifact_line_waits_in_the_inbox_and_replays_after_correction(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    build_order_world(factory)
    # given the sample with a wrong check digit in the second line's GTIN
    bad = EANCOM_ORDER.replace("LIN+2++5020436373108:EN", "LIN+2++5020436373109:EN")
    result = _import(client, bad)
    # then the message is kept, failed, with a problem naming the segment, and no order exists
    assert (result["accepted"], result["failed"]) == (0, 1)
    message = result["messages"][0]
    assert message["order_id"] is None
    assert [(e["field"], e["code"]) for e in message["errors"]] == [
        ("segment 12 LIN.gtin", "gs1.bad_check_digit")
    ]
    with system_unit_of_work(factory) as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 0
        assert session.scalar(select(func.count()).select_from(Acknowledgement)) == 0
    sales = headers(client, "sales")
    inbox = client.get("/api/v1/order-inbox?status=failed", headers=sales).json()
    assert [m["id"] for m in inbox["items"]] == [message["id"]]
    stored = client.get(f"/api/v1/order-inbox/{message['id']}", headers=sales).json()
    assert "LIN+2++5020436373109:EN'" in stored["content"]
    # when a clerk corrects the segment and replays the message
    corrected = stored["content"].replace("5020436373109", "5020436373108")
    replayed = client.post(
        f"/api/v1/order-inbox/{message['id']}/replay",
        json={"content": corrected, "reason": "check digit typo in LIN 2"},
        headers=sales,
    )
    # then it is accepted, makes the order and its acknowledgement, and says so
    assert replayed.status_code == 200, replayed.text
    body = replayed.json()
    assert (body["status"], body["attempts"], body["errors"]) == ("accepted", 2, [])
    order = client.get(f"/api/v1/orders/{body['order_id']}", headers=sales).json()
    assert [line["gtin"] for line in order["lines"]] == [STENT, CATHETER]
    assert order["source_message_id"] == message["id"]
    assert (
        len(client.get(f"/api/v1/orders/{order['id']}/acknowledgements", headers=sales).json()) == 1
    )
    # and a second replay of an accepted message is refused
    again = client.post(f"/api/v1/order-inbox/{message['id']}/replay", json={}, headers=sales)
    assert (again.status_code, again.json()["code"]) == (409, "inbox.not_failed")
    # the correction is in the audit trail with its reason (the content itself is redacted)
    with system_unit_of_work(factory) as session:
        reasons = session.scalars(
            select(AuditEntry.reason).where(
                AuditEntry.entity_type == "order_inbox", AuditEntry.action == "update"
            )
        ).all()
        assert "check digit typo in LIN 2" in reasons


def test_replay_after_fixing_master_data_needs_no_content_change(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    world = build_order_world(factory)
    sales = headers(client, "sales")
    # given an X12 order from a sender nobody registered yet
    client.patch(
        f"/api/v1/customers/{world.distributor_customer_id}",
        json={"edi_sender_ids": {}},
        headers=sales,
    )
    [message] = _import(client, X12_850)["messages"]
    assert [(e["field"], e["code"]) for e in message["errors"]] == [
        ("customer_id", "customer.unknown")
    ]
    # when the sender id is registered and the message replayed as received
    client.patch(
        f"/api/v1/customers/{world.distributor_customer_id}",
        json={"edi_sender_ids": {"x12": "01:000123456"}},
        headers=sales,
    )
    body = client.post(f"/api/v1/order-inbox/{message['id']}/replay", json={}, headers=sales).json()
    assert (body["status"], body["attempts"]) == ("accepted", 2)


def test_x12_850a_lands_in_the_inbox_with_a_problem_per_line(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    build_order_world(factory)
    sample = (VECTORS / "edinet" / "x12.850a.edi").read_text(encoding="utf-8")
    [message] = _import(client, sample)["messages"]
    assert message["status"] == "failed"
    assert [(e["field"], e["code"]) for e in message["errors"]] == [
        ("segment 10 N1", "ship_to.unknown"),
        ("segment 23 PO1", "item_reference.unknown"),
        ("segment 31 PO1", "item_reference.unknown"),
        ("segment 40 PO1", "item_reference.unknown"),
    ]


def test_unreadable_files_are_kept_whole(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    build_order_world(factory)
    [message] = _import(client, "hello, this is not EDI")["messages"]
    assert (message["status"], message["channel"]) == ("failed", "unknown")
    assert [e["code"] for e in message["errors"]] == ["edi.format_unknown"]
    detail = client.get(f"/api/v1/order-inbox/{message['id']}", headers=headers(client, "sales"))
    assert detail.json()["content"] == "hello, this is not EDI"


def test_edi_replace_amends_and_cancel_cancels_the_order_with_versions(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    build_order_world(factory)
    sales = headers(client, "sales")
    order_id = _import(client, EANCOM_ORDER)["messages"][0]["order_id"]
    # BGM function 5 (replace): line 2 goes from 8 to 3
    replace = EANCOM_ORDER.replace("+801715918011+9+NA'", "+801715918011+5+NA'").replace(
        "LIN+2++5020436373108:EN'\nQTY+21:8'", "LIN+2++5020436373108:EN'\nQTY+21:3'"
    )
    assert replace != EANCOM_ORDER
    [replaced] = _import(client, replace)["messages"]
    assert (replaced["status"], replaced["order_id"]) == ("accepted", order_id)
    # BGM function 1 (cancellation)
    cancel = EANCOM_ORDER.replace("+801715918011+9+NA'", "+801715918011+1+NA'")
    [cancelled] = _import(client, cancel)["messages"]
    assert cancelled["status"] == "accepted"
    order = client.get(f"/api/v1/orders/{order_id}", headers=sales).json()
    assert (order["status"], order["version"]) == ("cancelled", 3)
    versions = client.get(f"/api/v1/orders/{order_id}/versions", headers=sales).json()
    assert [(v["version"], v["kind"], v["channel"]) for v in versions] == [
        (1, "created", "edifact"),
        (2, "amended", "edifact"),
        (3, "cancelled", "edifact"),
    ]
    assert versions[1]["reason"] == f"replaced by EDI message {replaced['id']}"
    assert [line["quantity"] for line in versions[1]["snapshot"]["lines"]] == [8, 3]
    assert [line["quantity"] for line in versions[0]["snapshot"]["lines"]] == [8, 8]
    acks = client.get(f"/api/v1/orders/{order_id}/acknowledgements", headers=sales).json()
    assert [
        (a["order_version"], a["content"].split("BGM+231::9+")[1].split("'")[0]) for a in acks
    ] == [
        (1, f"{order['number']}+29"),
        (2, f"{order['number']}+29"),
        (3, f"{order['number']}+27"),
    ]


def test_an_x12_file_with_a_missing_terminator_is_reported_where_it_breaks() -> None:
    sample = (VECTORS / "edinet" / "x12.850.issue135.edi").read_text(encoding="utf-8")
    ix = x12.read(sample)
    # ISA16 is absent in this file; the terminator is still found
    assert (ix.element_separator, ix.segment_terminator, ix.sender) == ("*", "~", "01:049351117")
    assert [(ts.code, ts.control_number, len(ts.segments)) for ts in ix.transaction_sets] == [
        ("850", "0001", 86),
        ("850", "0001", 95),
    ]
    assert [(p.field, p.code) for p in ix.transaction_sets[0].problems] == [
        ("segment 21 DTM", "edi.segment_terminator_missing"),
        ("segment 86 SE", "edi.segment_count"),
    ]
    assert ix.transaction_sets[1].problems == []


def test_inbox_keeps_every_message_of_an_interchange(
    factory: sessionmaker[Session], client: TestClient
) -> None:
    build_order_world(factory)
    sample = (VECTORS / "edinet" / "x12.850.issue135.edi").read_text(encoding="utf-8")
    result = _import(client, sample)
    assert (result["accepted"], result["failed"]) == (0, 2)
    with system_unit_of_work(factory) as session:
        rows = session.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
        assert [(r.channel, r.message_reference, r.document_reference) for r in rows] == [
            ("x12", "0001", "740150"),
            ("x12", "0001", "740151"),
        ]
        # each kept message is a complete interchange of its own
        assert all(r.content.startswith("ISA*") and "IEA*1*000000001~" in r.content for r in rows)
    first = result["messages"][0]
    codes = [e["code"] for e in first["errors"]]
    assert codes[:2] == ["edi.segment_terminator_missing", "edi.segment_count"]
