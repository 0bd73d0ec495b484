"""Audit trail shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from medledger.core.types import RecordId


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    seq: int
    occurred_at: datetime
    actor_user_id: RecordId | None
    actor_label: str
    action: str
    entity_type: str
    entity_id: str
    old_values: dict[str, Any] | None
    new_values: dict[str, Any] | None
    reason: str
    prev_hash: str
    entry_hash: str


class ChainBreakOut(BaseModel):
    seq: int | None
    kind: str
    detail: str


class ChainReportOut(BaseModel):
    entries: int
    head_seq: int
    ok: bool
    broken: ChainBreakOut | None
