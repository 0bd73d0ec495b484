"""Reading an uploaded CSV or XLSX file into a header and rows of text cells."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from medledger.core.errors import ValidationFailed
from medledger.integration.errors import Code

ENCODING_ERROR = Code.IMPORT_ENCODING
FORMAT_ERROR = Code.IMPORT_FILE_FORMAT
# Encodings tried in order: UTF-8 (with or without BOM), then GB18030, which Excel on a Chinese
# Windows writes for "CSV" (and which reads every GBK/GB2312 file).
ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass(frozen=True)
class Sheet:
    header: list[str]
    rows: list[list[str]]
    encoding: str


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return (
            value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def read_sheet(file_name: str, content: bytes) -> Sheet:
    """The first sheet of an .xlsx file, or a CSV file (comma, semicolon or tab)."""
    if file_name.lower().endswith(".xlsx") or content[:2] == b"PK":
        return _read_xlsx(content)
    for encoding in ENCODINGS:
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        return _read_csv(text, encoding)
    raise ValidationFailed(
        "The file is neither UTF-8 nor GB18030 text: save it as CSV UTF-8 or as .xlsx.",
        code=ENCODING_ERROR,
    )


def _read_csv(text: str, encoding: str) -> Sheet:
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [row for row in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in row)]
    if not rows:
        raise ValidationFailed("The file has no header row.", code=FORMAT_ERROR)
    return Sheet([h.strip() for h in rows[0]], rows[1:], encoding)


def _read_xlsx(content: bytes) -> Sheet:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise ValidationFailed(
            "The file is not a readable .xlsx workbook.", code=FORMAT_ERROR
        ) from None
    sheet = workbook.worksheets[0]
    rows = [
        [_text(c) for c in row]
        for row in sheet.iter_rows(values_only=True)
        if any(c not in (None, "") for c in row)
    ]
    workbook.close()
    if not rows:
        raise ValidationFailed("The file has no header row.", code=FORMAT_ERROR)
    return Sheet([h.strip() for h in rows[0]], rows[1:], "xlsx")
