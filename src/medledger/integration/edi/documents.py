"""Despatch advices as documents: EANCOM DESADV (D.96A, EAN005) and X12 856 (004010).

Pure functions of a :class:`Despatch` (what left in which SSCC) and the partner's settings;
EDIFACT is serialised with pydifact (as ORDRSP is), X12 with the order intake's writer. The
hierarchy is the one both standards use for pallets of one consignment:

* DESADV: ``CPS+1`` the consignment, then per SSCC ``CPS+n+1`` ``PAC+1++201`` ``PCI+33E``
  ``GIN+BJ+<sscc>`` and per item ``LIN`` (GTIN, ``EN`` as in D.96A), ``QTY+12``
  (despatched), ``PCI+36E`` with ``DTM+361`` (expiry), ``GIN+BX`` (batch) and ``GIN+BN``
  (serial).
* 856: ``HL`` S (shipment: ``DTM*011``, ``N1*ST/SF/BY`` by GLN) → T (tare: ``MAN*GM*<sscc>``)
  → I (item: ``LIN**UK*<gtin>*LT*<lot>[*SN*<serial>]``, ``SN1``, ``DTM*036`` expiry).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from medledger.orders.edi import edifact, x12


@dataclass(frozen=True)
class Item:
    gtin: str
    lot: str
    serial: str
    quantity: int
    expiry: date | None


@dataclass(frozen=True)
class Unit:
    sscc: str
    items: tuple[Item, ...]


@dataclass
class Despatch:
    number: str
    shipped_at: datetime
    supplier_gln: str
    supplier_name: str
    buyer_gln: str
    buyer_name: str
    ship_to_gln: str
    units: list[Unit] = field(default_factory=list)


def _split(identifier: str) -> tuple[str, str]:
    qualifier, _, ident = identifier.partition(":")
    return qualifier, ident


def desadv(
    despatch: Despatch, *, our_id: str, partner_id: str, control_reference: str, now: datetime
) -> str:
    segments: list[tuple[Any, ...]] = [
        ("BGM", "351", despatch.number, "9"),
        ("DTM", ["137", now.strftime("%Y%m%d%H%M"), "203"]),
        ("DTM", ["11", despatch.shipped_at.strftime("%Y%m%d%H%M"), "203"]),
        ("NAD", "BY", [despatch.buyer_gln, "", "9"]),
        ("NAD", "SU", [despatch.supplier_gln, "", "9"]),
        ("NAD", "DP", [despatch.ship_to_gln, "", "9"]),
        ("CPS", "1"),
    ]
    line = 0
    for level, unit in enumerate(despatch.units, start=2):
        segments += [
            ("CPS", str(level), "1"),
            ("PAC", "1", "", "201"),
            ("PCI", "33E"),
            ("GIN", "BJ", unit.sscc),
        ]
        for item in unit.items:
            line += 1
            segments += [
                ("LIN", str(line), "", [item.gtin, "EN"]),
                ("QTY", ["12", str(item.quantity)]),
            ]
            if item.lot or item.serial or item.expiry:
                segments.append(("PCI", "36E"))
                if item.expiry:
                    segments.append(("DTM", ["361", item.expiry.strftime("%Y%m%d"), "102"]))
                if item.lot:
                    segments.append(("GIN", "BX", item.lot))
                if item.serial:
                    segments.append(("GIN", "BN", item.serial))
    segments.append(("CNT", ["2", str(line)]))
    our_qualifier, our = _split(our_id)
    their_qualifier, their = _split(partner_id)
    return edifact.write(
        sender=[our, our_qualifier],
        recipient=[their, their_qualifier],
        control_reference=control_reference,
        message_reference="1",
        identifier=["DESADV", "D", "96A", "UN", "EAN005"],
        segments=segments,
    )


def x12_856(
    despatch: Despatch,
    *,
    our_id: str,
    partner_id: str,
    control_number: int,
    now: datetime,
    element_separator: str = "*",
    component_separator: str = ">",
    segment_terminator: str = "~",
    test: bool = False,
) -> str:
    our_qualifier, our = _split(our_id)
    their_qualifier, their = _split(partner_id)
    control = str(control_number % 1_000_000_000).rjust(9, "0")
    isa = x12.Segment(
        "ISA",
        (
            "00",
            " " * 10,
            "00",
            " " * 10,
            our_qualifier.ljust(2)[:2],
            our.ljust(15)[:15],
            their_qualifier.ljust(2)[:2],
            their.ljust(15)[:15],
            now.strftime("%y%m%d"),
            now.strftime("%H%M"),
            "U",
            "00401",
            control,
            "0",
            "T" if test else "P",
            component_separator,
        ),
    )
    group = x12.Segment(
        "GS",
        (
            "SH",
            our,
            their,
            now.strftime("%Y%m%d"),
            now.strftime("%H%M"),
            str(int(control)),
            "X",
            "004010",
        ),
    )
    body: list[x12.Segment] = [
        x12.Segment("ST", ("856", "0001")),
        x12.Segment(
            "BSN", ("00", despatch.number, now.strftime("%Y%m%d"), now.strftime("%H%M"), "0001")
        ),
        x12.Segment("HL", ("1", "", "S")),
        x12.Segment("DTM", ("011", despatch.shipped_at.strftime("%Y%m%d"))),
        x12.Segment("N1", ("ST", despatch.buyer_name[:60], "UL", despatch.ship_to_gln)),
        x12.Segment("N1", ("SF", despatch.supplier_name[:60], "UL", despatch.supplier_gln)),
        x12.Segment("N1", ("BY", despatch.buyer_name[:60], "UL", despatch.buyer_gln)),
    ]
    levels = 1
    for unit in despatch.units:
        levels += 1
        tare = levels
        body += [x12.Segment("HL", (str(tare), "1", "T")), x12.Segment("MAN", ("GM", unit.sscc))]
        for item in unit.items:
            levels += 1
            ids = ["", "UK", item.gtin]
            if item.lot:
                ids += ["LT", item.lot]
            if item.serial:
                ids += ["SN", item.serial]
            body += [
                x12.Segment("HL", (str(levels), str(tare), "I")),
                x12.Segment("LIN", tuple(ids)),
                x12.Segment("SN1", ("", str(item.quantity), "EA")),
            ]
            if item.expiry:
                body.append(x12.Segment("DTM", ("036", item.expiry.strftime("%Y%m%d"))))
    body.append(x12.Segment("CTT", (str(levels),)))
    body.append(x12.Segment("SE", (str(len(body) + 1), "0001")))
    return x12.write(
        [
            isa,
            group,
            *body,
            x12.Segment("GE", ("1", str(int(control)))),
            x12.Segment("IEA", ("1", control)),
        ],
        element_separator,
        segment_terminator,
    )
