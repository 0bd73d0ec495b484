"""Recall documents as PDF files (``compliance.pdf``, in the reader's language): the recall
notice of one consignee — what it was shipped or holds, what it must do, how to answer, its
answer so far and the initiator's signature — and the correction-and-removal report (21 CFR
806) built by ``recall.report``.

A notice is seen by the hub and by its own consignee only (``recall.notice_not_found``, 404,
for any other caller, as for acknowledging it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from medledger.catalog.models import Product
from medledger.compliance.pdf import PdfDocument
from medledger.compliance.signing import signatures_of
from medledger.core.db import utcnow
from medledger.core.errors import NotFound
from medledger.core.principal import Permission, Principal
from medledger.parties.models import Party
from medledger.recall import repository as repo
from medledger.recall import service
from medledger.recall.errors import Code
from medledger.recall.models import Recall, RecallNotice

Translate = Callable[[str], str]

# English msgids of the case's coded values (the pages use the same ones).
HAZARD_LABELS = {"I": "Class I", "II": "Class II", "III": "Class III"}
DEPTH_LABELS = {"consumer": "consumer", "retail": "retail", "wholesale": "wholesale"}
ACTION_LABELS = {"removal": "removal", "correction": "correction"}


@dataclass(frozen=True)
class NoticeLine:
    """One item of a notice, with the product's name from the catalogue."""

    gtin: str
    product: str
    lot: str
    serial: str
    sscc: str
    quantity: int


@dataclass(frozen=True)
class NoticeDocument:
    """What one consignee is told, as its page and PDF show it."""

    recall: Recall
    notice: RecallNotice
    firm: str
    firm_gln: str
    lines: list[NoticeLine]
    signatures: list[dict[str, Any]]
    generated_at: datetime

    @property
    def acknowledge_api(self) -> str:
        return f"/api/v1/recalls/{self.recall.id}/notices/{self.notice.id}/acknowledgement"

    @property
    def portal_path(self) -> str:
        return f"/recalls/{self.recall.id}"


def notice_document(
    session: Session, principal: Principal, recall_id: int, notice_id: int
) -> NoticeDocument:
    """The recall notice ``notice_id`` of recall ``recall_id``: the hub sees every notice, a
    consignee's user its own (404 ``recall.notice_not_found`` otherwise)."""
    principal.require(Permission.QUALITY_READ)
    recall = service.get_recall(session, principal, recall_id)
    notice = next(
        (n for n in repo.visible_notices(session, principal, recall.id) if n.id == notice_id),
        None,
    )
    if notice is None:
        raise NotFound(
            "{entity} {id} was not found.",
            code=Code.NOTICE_NOT_FOUND,
            params={"entity": "recall notice", "id": notice_id},
        )
    gtins = sorted({str(i.get("gtin")) for i in notice.items if i.get("gtin")})
    names = dict(
        session.execute(
            select(Product.gtin, Product.name).where(
                Product.tenant_id == principal.tenant_id, Product.gtin.in_(gtins or [""])
            )
        ).all()
    )
    hub = session.get(Party, principal.hub_party_id) if principal.hub_party_id else None
    return NoticeDocument(
        recall=recall,
        notice=notice,
        firm=hub.name if hub is not None else "",
        firm_gln=hub.gln if hub is not None else "",
        lines=[
            NoticeLine(
                gtin=str(item.get("gtin") or ""),
                product=names.get(str(item.get("gtin") or ""), ""),
                lot=str(item.get("lot") or ""),
                serial=str(item.get("serial") or ""),
                sscc=str(item.get("sscc") or ""),
                quantity=int(item.get("quantity") or 0),
            )
            for item in notice.items
        ],
        signatures=signature_rows(session, principal, recall),
        generated_at=utcnow(),
    )


def signature_rows(session: Session, principal: Principal, recall: Recall) -> list[dict[str, Any]]:
    """The recall's signatures as the PDF blocks print them (checked against its content)."""
    checked = signatures_of(session, principal, "recall", recall)
    return [
        {
            "record_label": checked.label,
            "printed_name": c.signature.printed_name,
            "meaning": c.signature.meaning,
            "signed_at": c.signature.signed_at,
            "content_hash": c.signature.content_hash,
            "matches": c.valid,
        }
        for c in checked.signatures
    ]


def _utc(value: Any) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return str(value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"))


def _signature_labels(_: Translate) -> list[str]:
    return [_("Record"), _("Printed name"), _("Meaning"), _("Signed (UTC)"), _("Version hash")]


def _meanings(signatures: list[dict[str, Any]], _: Translate) -> list[dict[str, Any]]:
    """The signatures with their meaning in the reader's language (msgids of the pages)."""
    return [{**s, "meaning": _(str(s["meaning"]))} for s in signatures]


def _case_facts(recall: Recall, _: Translate) -> list[tuple[str, Any]]:
    return [
        (_("Recall"), f"{recall.number} · {recall.title}"),
        (_("Health hazard"), _(HAZARD_LABELS.get(recall.hazard_class, recall.hazard_class))),
        (_("Depth"), _(DEPTH_LABELS.get(recall.depth, recall.depth))),
        (_("Action"), _(ACTION_LABELS.get(recall.action, recall.action))),
        (_("Initiated"), _utc(recall.initiated_at)),
    ]


def notice_pdf(doc: NoticeDocument, _: Translate) -> bytes:
    """The consignee's recall notice as a PDF file."""
    recall, notice = doc.recall, doc.notice
    pdf = PdfDocument(
        _("Recall notice"),
        subtitle=f"{recall.number} · {recall.title}",
        generated_at=doc.generated_at,
    )
    pdf.facts(
        [
            (_("From"), f"{doc.firm} · GLN {doc.firm_gln}"),
            (_("To"), f"{notice.name} · GLN {notice.gln or '—'}"),
            (_("Notified"), _utc(notice.notified_at)),
            *_case_facts(recall, _),
        ]
    )
    pdf.heading(_("Reason for the recall"))
    pdf.paragraph(recall.reason)
    if recall.health_hazard:
        pdf.heading(_("Health hazard evaluation"))
        pdf.paragraph(recall.health_hazard)
    pdf.heading(_("What you were shipped or hold"))
    pdf.table(
        [_("GTIN"), _("Product"), _("Lot"), _("Serial"), "SSCC", _("Quantity")],
        [
            [line.gtin, line.product, line.lot, line.serial, line.sscc, str(line.quantity)]
            for line in doc.lines
        ],
        widths=(30, 44, 24, 24, 40, 18),
    )
    pdf.facts([(_("Units"), str(notice.units))])
    if recall.instructions:
        pdf.heading(_("What consignees must do"))
        pdf.paragraph(recall.instructions)
    pdf.heading(_("Your answer"))
    pdf.paragraph(
        _(
            "Acknowledge this notice in your portal ({portal}) or through the API ({api}) with "
            "the units you have on hand, returned and destroyed."
        ).format(portal=doc.portal_path, api=doc.acknowledge_api)
    )
    if notice.acknowledged_at is not None:
        pdf.facts(
            [
                (_("Acknowledged"), f"{_utc(notice.acknowledged_at)} · {notice.acknowledged_by}"),
                (_("On hand"), str(notice.quantity_on_hand)),
                (_("Returned"), str(notice.quantity_returned)),
                (_("Destroyed"), str(notice.quantity_destroyed)),
            ]
        )
    else:
        pdf.paragraph(_("Not acknowledged yet."))
    pdf.heading(_("Signatures"))
    if doc.signatures:
        pdf.signatures(_meanings(doc.signatures, _), _signature_labels(_))
    else:
        pdf.paragraph(_("No signature."))
    return pdf.render()


def report_pdf(
    recall: Recall, data: dict[str, Any], signatures: list[dict[str, Any]], _: Translate
) -> bytes:
    """The correction-and-removal report (``recall.report.build``) as a PDF file."""
    not_held = _("(to be completed by the reporter)")
    firm, event, quantities = data["firm"], data["event"], data["quantities"]
    pdf = PdfDocument(
        f"{_('Correction and removal report')} (21 CFR 806)",
        subtitle=f"{recall.number} · {recall.title}",
    )
    pdf.heading(_("Firm"))
    pdf.facts(
        [
            (_("Manufacturer"), f"{firm['name']} · GLN {firm['gln']} · {firm['country']}"),
            (_("FDA registration number"), not_held),
            (_("Contact"), firm["contact"]),
        ]
    )
    pdf.heading(_("The event and the action taken"))
    pdf.facts(
        [
            *_case_facts(recall, _),
            (_("Reason for the recall"), event["reason"]),
            (_("Health hazard evaluation"), event["health_hazard"]),
            (_("Injuries or deaths reported (21 CFR 803)"), not_held),
            (_("What consignees must do"), event["instructions_to_consignees"]),
        ]
    )
    pdf.heading(_("Quantities"))
    pdf.facts(
        [
            (_("Lots"), quantities["lots"]),
            (_("Serials"), quantities["serials"]),
            (_("Units distributed"), quantities["units_distributed"]),
            (_("Units held by the firm (recalled)"), quantities["units_held_by_firm"]),
            (
                _("Units accounted for by consignees"),
                quantities["units_accounted_by_consignees"],
            ),
        ]
    )
    pdf.heading(_("Devices"))
    pdf.table(
        [_("Product"), "GTIN (UDI-DI)", _("US class"), "510(k) / PMA", _("Lot"), _("Serial")],
        [
            [d[key] for key in ("product", "gtin", "device_class_us", "us_authorisation")]
            + [d["lot"], d["serial"]]
            for d in data["devices"]
        ],
        widths=(40, 32, 16, 34, 28, 30),
    )
    pdf.heading(_("Consignees"))
    pdf.table(
        [
            _("Consignee"),
            "GLN",
            _("Units"),
            _("Notified"),
            _("Acknowledged"),
            _("On hand"),
            _("Returned"),
            _("Destroyed"),
        ],
        [
            [
                c["name"],
                c["gln"],
                str(c["units"]),
                c["notified_at"][:10],
                c["acknowledged_at"][:10] if c["acknowledged_at"] else "–",
                str(c["on_hand"]),
                str(c["returned"]),
                str(c["destroyed"]),
            ]
            for c in data["consignees"]
        ],
        widths=(38, 28, 14, 22, 24, 18, 18, 18),
    )
    pdf.heading(_("Communication sent to consignees"))
    pdf.paragraph(f"{recall.title} — {recall.instructions}")
    pdf.heading(_("Signatures"))
    if signatures:
        pdf.signatures(_meanings(signatures, _), _signature_labels(_))
    else:
        pdf.paragraph(_("No signature."))
    return pdf.render()
