"""Order responses: EANCOM ORDRSP (D.96A, EAN005) and X12 855 purchase order acknowledgements.

A response confirms each line with the quantity accepted and the promised delivery date; a
line whose promised date differs from the requested one is flagged as changed. Cancelled
orders are answered as not accepted. The documents are written into rows the integration
gateway's outbox worker will deliver; nothing is sent from here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from medledger.orders.edi import edifact, x12
from medledger.orders.models import Order, OrderLine, OrderStatus


def _live(lines: list[OrderLine]) -> list[OrderLine]:
    return sorted(lines, key=lambda line: line.line_number)


def ordrsp(
    order: Order,
    lines: list[OrderLine],
    *,
    our_id: str,
    partner: str,
    message_reference: str,
    control_reference: str,
    buyer_gln: str,
    supplier_gln: str,
    now: datetime,
) -> str:
    """An EANCOM ORDRSP for ``order`` (BGM 231; 29 accepted, 4 changed, 27 not accepted)."""
    cancelled = order.status == OrderStatus.CANCELLED.value
    changed = any(line.promised_date != line.requested_delivery_date for line in lines)
    response = "27" if cancelled else ("4" if changed else "29")
    segments: list[tuple[Any, ...]] = [
        ("BGM", ["231", "", "9"], f"{order.number}", response),
        ("DTM", ["137", now.strftime("%Y%m%d%H%M"), "203"]),
        ("RFF", ["ON", order.customer_reference]),
        ("NAD", "BY", [buyer_gln, "", "9"]),
        ("NAD", "SU", [supplier_gln, "", "9"]),
    ]
    for line in _live(lines):
        if line.status == OrderStatus.CANCELLED.value or cancelled:
            action = "7"  # not accepted
        elif line.promised_date != line.requested_delivery_date:
            action = "3"  # changed
        else:
            action = "5"  # accepted without amendment
        segments.append(("LIN", str(line.line_number), action, [line.gtin, "SRV"]))
        quantity = 0 if action == "7" else line.quantity
        segments.append(("QTY", ["21", str(quantity)]))
        segments.append(("DTM", ["69", line.promised_date.strftime("%Y%m%d"), "102"]))
    segments.append(("UNS", "S"))
    segments.append(("CNT", ["2", str(len(lines))]))
    qualifier, _, ident = partner.partition(":")
    our_qualifier, _, our_ident = our_id.partition(":")
    return edifact.write(
        sender=[our_ident, our_qualifier],
        recipient=[ident, qualifier],
        control_reference=control_reference,
        message_reference=message_reference,
        identifier=["ORDRSP", "D", "96A", "UN", "EAN005"],
        segments=segments,
    )


def x12_855(
    order: Order,
    lines: list[OrderLine],
    *,
    interchange: x12.Interchange,
    control_number: str,
    now: datetime,
) -> str:
    """An X12 855 for ``order`` (BAK02 AD accepted, AC accepted with changes, RD rejected)."""
    cancelled = order.status == OrderStatus.CANCELLED.value
    changed = any(line.promised_date != line.requested_delivery_date for line in lines)
    status = "RD" if cancelled else ("AC" if changed else "AD")
    control = control_number[-9:].rjust(9, "0")
    isa_in = interchange.isa
    isa = x12.Segment(
        "ISA",
        (
            "00",
            " " * 10,
            "00",
            " " * 10,
            isa_in.get(7).ljust(2),
            isa_in.get(8).ljust(15),
            isa_in.get(5).ljust(2),
            isa_in.get(6).ljust(15),
            now.strftime("%y%m%d"),
            now.strftime("%H%M"),
            "U",
            "00401",
            control,
            "0",
            isa_in.get(15) or "P",
            interchange.component_separator,
        ),
    )
    body: list[x12.Segment] = [
        x12.Segment("ST", ("855", "0001")),
        x12.Segment(
            "BAK",
            (
                "00",
                status,
                order.customer_reference,
                order.order_date.strftime("%Y%m%d"),
                "",
                "",
                "",
                order.number,
                now.strftime("%Y%m%d"),
            ),
        ),
    ]
    for line in _live(lines):
        body.append(
            x12.Segment(
                "PO1",
                (
                    str(line.line_number),
                    str(line.quantity),
                    line.unit_of_measure,
                    "",
                    "",
                    "UK",
                    line.gtin,
                ),
            )
        )
        if cancelled or line.status == OrderStatus.CANCELLED.value:
            body.append(x12.Segment("ACK", ("IR", str(line.quantity), line.unit_of_measure)))
        else:
            code = "IA" if line.promised_date == line.requested_delivery_date else "DR"
            body.append(
                x12.Segment(
                    "ACK",
                    (
                        code,
                        str(line.quantity),
                        line.unit_of_measure,
                        "067",
                        line.promised_date.strftime("%Y%m%d"),
                    ),
                )
            )
    body.append(x12.Segment("CTT", (str(len(lines)),)))
    body.append(x12.Segment("SE", (str(len(body) + 1), "0001")))
    group = x12.Segment(
        "GS",
        (
            "PR",
            isa_in.get(8),
            isa_in.get(6),
            now.strftime("%Y%m%d"),
            now.strftime("%H%M"),
            str(int(control)),
            "X",
            "004010",
        ),
    )
    return x12.write(
        [
            isa,
            group,
            *body,
            x12.Segment("GE", ("1", str(int(control)))),
            x12.Segment("IEA", ("1", control)),
        ],
        interchange.element_separator,
        interchange.segment_terminator,
    )
