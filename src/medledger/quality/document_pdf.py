"""The DHR and CoC as PDF files (``compliance.pdf``), in the reader's language (``_``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from medledger.compliance.pdf import PdfDocument
from medledger.quality.documents import CertificateOfConformance, DeviceHistoryRecord, LotFile

Translate = Callable[[str], str]


def _utc(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _signature_labels(_: Translate) -> list[str]:
    return [_("Record"), _("Printed name"), _("Meaning"), _("Signed (UTC)"), _("Version hash")]


def _lot_file(doc: PdfDocument, file: LotFile, _: Translate) -> None:
    doc.table(
        [_("Inspection"), _("Kind"), _("Plan version"), _("Verdict"), _("Decided")],
        [
            [i.number, _(i.kind), str(i.plan_version), _(i.verdict or i.state), _utc(i.decided_at)]
            for i in file.inspections
        ],
        empty=_("No inspection recorded."),
    )
    doc.table(
        [_("Lot decision"), _("State"), _("Quantity"), _("Decided")],
        [[r.number, _(r.state), str(r.quantity), _utc(r.decided_at)] for r in file.releases],
        empty=_("No lot decision recorded."),
    )
    doc.table(
        [_("NCR / deviation"), _("Title"), _("State")],
        [[n.number, n.title, _(n.state)] for n in file.ncrs]
        + [[d.number, d.title, _(d.state)] for d in file.deviations],
        empty=_("No NCR or deviation names this lot."),
    )


def dhr_pdf(dhr: DeviceHistoryRecord, _: Translate) -> bytes:
    doc = PdfDocument(
        _("Device history record"),
        subtitle=f"{dhr.product.name} · {dhr.product.gtin} · {_('Lot')} {dhr.lot}",
        generated_at=dhr.generated_at,
    )
    doc.facts(
        [
            (_("Product"), f"{dhr.product.name} ({dhr.product.gtin})"),
            (_("Lot"), dhr.lot),
            (_("Generated (UTC)"), _utc(dhr.generated_at)),
        ]
    )
    doc.heading(_("Components (from the trace genealogy)"))
    if not dhr.trace_known:
        doc.paragraph(_("The trace ledger has no event of this lot."))
    doc.table(
        [_("GTIN"), _("Product"), _("Lot"), _("Serial"), _("Level"), _("Held by")],
        [[c.gtin, c.product, c.lot, c.serial, str(c.depth), c.supplier] for c in dhr.components],
        widths=(32, 48, 28, 24, 14, 44),
        empty=_("No component recorded."),
    )
    doc.heading(_("This lot"))
    _lot_file(doc, dhr.own, _)
    for file in dhr.files[1:]:
        doc.heading(f"{_('Component lot')} {file.gtin} / {file.lot}")
        _lot_file(doc, file, _)
    doc.heading(_("Signatures"))
    signatures = [s for file in dhr.files for s in file.signatures]
    if signatures:
        doc.signatures(signatures, _signature_labels(_))
    else:
        doc.paragraph(_("No signature."))
    return doc.render()


def coc_pdf(coc: CertificateOfConformance, _: Translate) -> bytes:
    doc = PdfDocument(
        _("Certificate of conformance"),
        subtitle=f"{_('Shipment')} {coc.shipment.sscc} · {coc.consignee}",
        generated_at=coc.generated_at,
    )
    doc.facts(
        [
            (_("Issuer"), coc.issuer),
            (_("Consignee"), coc.consignee),
            (_("Logistic unit (SSCC)"), coc.shipment.sscc),
            (_("Shipped (UTC)"), _utc(coc.shipment.shipped_at)),
        ]
    )
    doc.heading(_("Contents"))
    doc.table(
        [_("GTIN"), _("Product"), _("Lot"), _("Serial"), _("Quantity"), _("Released by")],
        [
            [
                line.gtin,
                line.product,
                line.lot,
                line.serial,
                str(line.quantity),
                line.release.number if line.release else _("not released"),
            ]
            for line in coc.lines
        ],
        widths=(30, 46, 24, 22, 18, 50),
    )
    doc.paragraph(
        _(
            "We certify that the goods listed above were manufactured, inspected and released "
            "under our quality management system and conform to their specifications."
        )
        if coc.conforming
        else _("Not every lot listed has a signed release: this certificate cannot be issued.")
    )
    doc.heading(_("Signatures"))
    if coc.signatures:
        doc.signatures(coc.signatures, _signature_labels(_))
    else:
        doc.paragraph(_("No signature."))
    return doc.render()
