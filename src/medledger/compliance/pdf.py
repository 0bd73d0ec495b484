"""PDF rendering of compliance documents (device history record, certificate of conformance;
later recall notices and KPI exports), with fpdf2.

A document is built from a few blocks and rendered to bytes::

    from medledger.compliance.pdf import PdfDocument

    doc = PdfDocument("Device history record", subtitle="Lot L-1 · 导管")
    doc.heading("Components")
    doc.facts([("Product", "Catheter (04098760000011)"), ("Lot", "L-1")])
    doc.table(["GTIN", "Lot", "Supplier"], [["0409…", "C-7", "Acme"]])
    doc.paragraph("Free text, wrapped.")
    doc.signatures([{"printed_name": …, "meaning": …, "signed_at": …, "content_hash": …}])
    pdf_bytes = doc.render()

Text is Unicode. The font is the first of: ``MEDLEDGER_PDF_FONT`` (a TTF/TTC path), a system
CJK font (Debian ``fonts-wqy-microhei``, ``fonts-noto-cjk``), DejaVu Sans; so Chinese text is
embedded (as a subset) wherever such a font is installed. With none of them the core Helvetica
font is used and characters outside Latin-1 print as ``?``. ``font_name()`` tells which.
Every page carries the title, the page number and the generation time (UTC) in its footer.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

CANDIDATE_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)
FAMILY = "body"


def font_path() -> Path | None:
    """The Unicode font documents embed (see the module docstring), or None."""
    configured = os.environ.get("MEDLEDGER_PDF_FONT")
    for candidate in ([configured] if configured else []) + list(CANDIDATE_FONTS):
        path = Path(candidate)
        if path.is_file():
            return path
    return None


def font_name() -> str:
    path = font_path()
    return path.name if path else "Helvetica"


class _Pdf(FPDF):
    doc_title = ""
    generated = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(size=7)
        self.set_text_color(110)
        self.cell(0, 5, f"{self.doc_title} · {self.page_no()}/{{nb}} · {self.generated}", align="C")


class PdfDocument:
    """A simple A4 document: title block, headings, facts, tables, paragraphs, signatures."""

    def __init__(self, title: str, *, subtitle: str = "", generated_at: datetime | None = None):
        self._pdf = _Pdf(format="A4")
        self._pdf.set_title(title)
        self._pdf.set_creator("MedLedger")
        self._pdf.doc_title = title
        self._pdf.generated = (generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
        self._pdf.set_auto_page_break(True, margin=16)
        path = font_path()
        self._unicode = path is not None
        if path is not None:
            for style in ("", "B"):
                self._pdf.add_font(FAMILY, style, str(path))
            self._family = FAMILY
        else:
            self._family = "Helvetica"
        self._pdf.alias_nb_pages()
        self._pdf.add_page()
        self._font(16, bold=True)
        self._pdf.multi_cell(0, 8, self._text(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if subtitle:
            self._font(10)
            self._pdf.multi_cell(0, 6, self._text(subtitle), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self._pdf.ln(2)

    def _font(self, size: float, bold: bool = False) -> None:
        self._pdf.set_font(self._family, "B" if bold else "", size)

    def _text(self, value: Any) -> str:
        text = "" if value is None else str(value)
        if not self._unicode:
            text = text.encode("latin-1", "replace").decode("latin-1")
        return text

    def heading(self, text: str) -> None:
        self._pdf.ln(3)
        self._font(12, bold=True)
        self._pdf.multi_cell(0, 7, self._text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def paragraph(self, text: str) -> None:
        self._font(9)
        self._pdf.multi_cell(0, 5, self._text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self._pdf.ln(1)

    def facts(self, pairs: Iterable[tuple[str, Any]]) -> None:
        """Label / value lines (a definition list)."""
        for label, value in pairs:
            self._font(9, bold=True)
            self._pdf.cell(48, 5, self._text(label))
            self._font(9)
            self._pdf.multi_cell(0, 5, self._text(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def table(
        self,
        headers: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        widths: Sequence[float] | None = None,
        empty: str = "—",
    ) -> None:
        """A table with a header row; cells wrap. ``empty`` is printed when there is no row."""
        rows = [list(r) for r in rows]
        self._font(8)
        if not rows:
            self.paragraph(empty)
            return
        with self._pdf.table(
            col_widths=tuple(widths) if widths else None,
            text_align="LEFT",
            line_height=4.5,
            headings_style=FontFace(emphasis="BOLD", fill_color=(235, 238, 242)),
        ) as table:
            head = table.row()
            for text in headers:
                head.cell(self._text(text))
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(self._text(value))
        self._pdf.ln(2)

    def signatures(self, signatures: Iterable[dict[str, Any]], labels: Sequence[str]) -> None:
        """The manifestation of each signature (21 CFR 11.50): printed name, meaning, UTC time
        and the hash of the signed record version. ``labels``: the four column headings."""
        rows = [
            [
                s.get("record_label", ""),
                s["printed_name"],
                s["meaning"],
                _utc(s["signed_at"]),
                str(s["content_hash"])[:16] + "…",
            ]
            for s in signatures
        ]
        self.table(list(labels), rows, widths=(30, 45, 25, 40, 40))

    def render(self) -> bytes:
        return bytes(self._pdf.output())


def _utc(value: Any) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value)
