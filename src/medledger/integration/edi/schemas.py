"""API shapes of EDI settings and despatch advices."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from medledger.core.types import RecordId

_SEPARATOR = r"^[^A-Za-z0-9 ]$"


class EdiSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    syntax: Literal["edifact", "x12"]
    our_id: str = Field(
        min_length=3, max_length=40, description="Our interchange id as qualifier:id (14:…)."
    )
    partner_id: str = Field(
        min_length=3, max_length=40, description="The partner's interchange id as qualifier:id."
    )
    element_separator: str = Field("*", pattern=_SEPARATOR, description="X12 only.")
    component_separator: str = Field(">", pattern=_SEPARATOR, description="X12 only.")
    segment_terminator: str = Field("~", pattern=_SEPARATOR, description="X12 only.")
    outbound_folder: str = Field(
        "", max_length=200, description="A folder inside MEDLEDGER_EDI_OUTBOUND_ROOT ('' = none)."
    )
    deliver_via_outbox: bool = True
    test_indicator: bool = False
    despatch_advice_auto: bool = Field(
        True,
        description="Send a despatch advice by itself at every shipping event to this partner "
        "(false: only when asked for).",
    )


class EdiSettingsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    party_id: RecordId
    syntax: str
    our_id: str
    partner_id: str
    element_separator: str
    component_separator: str
    segment_terminator: str
    outbound_folder: str
    deliver_via_outbox: bool
    test_indicator: bool
    despatch_advice_auto: bool
    updated_at: datetime


class DespatchAdviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    shipment_id: RecordId


class DespatchAdviceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    party_id: RecordId
    number: str
    syntax: str
    standard: str
    control_reference: str
    ssccs: list[str]
    filename: str
    written_path: str
    outbox_message_id: str
    created_at: datetime


class DespatchAdviceDetail(DespatchAdviceOut):
    content: str
