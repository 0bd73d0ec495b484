"""API shapes of the identifiers context."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from medledger.core.types import GlnOut, Gtin14Out, SsccOut


class ApplicationIdentifierOut(BaseModel):
    """One AI of the parsed data, in input order."""

    ai: str = Field(examples=["17"])
    title: str = Field(examples=["USE BY or EXPIRY"])
    value: str = Field(examples=["251200"])


class ParsedGS1Out(BaseModel):
    """A parsed GS1 scan, Digital Link URI or EPC URN (``ParsedGS1.to_dict()``)."""

    input: str
    format: Literal["element_string", "bracketed", "digital_link", "epc_urn"]
    symbology_identifier: str | None = Field(default=None, examples=["]d2"])
    gtin: Gtin14Out | None = Field(default=None, examples=["09506000134352"])
    lot: str | None = None
    serial: str | None = None
    expiry: dt.date | None = Field(default=None, description="AI 17; day 00 is the month's end.")
    production_date: dt.date | None = Field(default=None, description="AI 11.")
    best_before: dt.date | None = Field(default=None, description="AI 15.")
    sscc: SsccOut | None = None
    gln: GlnOut | None = Field(default=None, description="AI 414, else another GLN AI.")
    udi_di: Gtin14Out | None = Field(default=None, description="UDI device identifier: the GTIN.")
    udi_pi: dict[str, str] = Field(
        description="UDI production identifiers present: lot, serial, expiry, production_date."
    )
    element_string: str = Field(examples=["(01)09506000134352(10)ABC(17)251231"])
    digital_link: str | None = Field(
        default=None, examples=["https://id.gs1.org/01/09506000134352/10/ABC?17=251231"]
    )
    ais: list[ApplicationIdentifierOut]
