"""API shapes of imports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from medledger.core.types import RecordId


class ImportFieldOut(BaseModel):
    name: str
    label: str
    required: bool


class ImportEntityOut(BaseModel):
    entity: str
    label: str
    fields: list[ImportFieldOut]


class ImportRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    party_id: RecordId
    entity: str
    file_name: str
    file_sha256: str
    mapping_name: str
    dry_run: bool
    total_rows: int
    accepted_rows: int
    rejected_rows: int
    replayed_rows: int
    rule_counts: dict[str, int]
    created_at: datetime
    created_by: str


class ImportRowOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    row_number: int
    values: dict[str, Any]
    errors: list[dict[str, Any]]
    status: str
    record_id: RecordId | None


class RowCorrection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    values: dict[str, str] = Field(description="The row's fields after correction (all of them).")


class ReplayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    row_ids: list[RecordId] | None = Field(
        None, description="Only these rows (default: every rejected row)."
    )


class ReplayOut(BaseModel):
    imported: int
    rejected: int


class MappingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entity: str
    columns: dict[str, str] = Field(description="File column name → field name.")


class MappingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str
    entity: str
    columns: dict[str, str]
