"""REST routes of the identifiers context (mounted, with auth, by the application)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from medledger.identifiers.gs1 import parse_gs1
from medledger.identifiers.schemas import ParsedGS1Out

router = APIRouter(prefix="/api/v1/gs1", tags=["gs1"])


@router.get("/parse", response_model=ParsedGS1Out)
def parse(
    data: Annotated[
        str,
        Query(
            max_length=4096,
            description="Scan (with or without ]d2/]C1/]Q3 and GS separators), bracketed "
            "(01)… string, GS1 Digital Link URI or EPC URN.",
        ),
    ],
) -> ParsedGS1Out:
    """Parse GS1 data into GTIN, lot, serial, dates, UDI and canonical forms.

    Malformed data raises ``ValidationFailed`` (422) with a ``gs1.*`` code on field ``data``.
    """
    return ParsedGS1Out.model_validate(parse_gs1(data).to_dict())
