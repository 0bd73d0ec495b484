"""Shared API shapes."""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from medledger.core.errors import Code
from medledger.core.types import custom_error

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


class PatchIn(BaseModel):
    """A partial update: a field left out keeps its value. ``null`` clears a field only where
    the record may lack it (``clearable``); elsewhere it is a 422 on that field, never a
    NOT NULL violation in the database."""

    model_config = ConfigDict(extra="forbid")
    clearable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _null_only_where_clearable(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.clearable:
            raise custom_error(
                Code.NULL_NOT_ALLOWED,
                "This field cannot be empty; leave it out to keep its value.",
            )
        return value
