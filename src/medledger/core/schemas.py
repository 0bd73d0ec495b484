"""Shared API shapes."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: ``items`` plus what is needed to fetch the others."""

    items: list[T]
    total: int
    page: int
    page_size: int


class PageParams(BaseModel):
    page: int = Field(1, ge=1)
    page_size: int = Field(50, ge=1, le=500)


class ReasonIn(BaseModel):
    """Why a record is being deactivated or reactivated (kept in the audit trail)."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field("", max_length=500)


class OrmOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
