"""REST routes of the data dictionary (mounted under ``/api/v1/integration/dictionary``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, status
from pydantic import BaseModel, ConfigDict, Field

from medledger.compliance import signing
from medledger.core.deps import CurrentPrincipal, DbSession
from medledger.core.types import Text
from medledger.integration.dictionary import service

router = APIRouter(prefix="/dictionary", tags=["data dictionary"])
Number = Annotated[int, Path(ge=0, le=1_000_000)]


class FieldDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entity: str = Field(max_length=32)
    name: str = Field(max_length=64)
    type: str = Field(max_length=16)
    unit: str = Field("", max_length=8)
    gs1_ai: str = Field("", max_length=4)
    rules: dict[str, Any] = Field(default_factory=dict)
    labels: dict[str, Text] = Field(default_factory=dict)


class VersionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    effective_from: date
    notes: Text = Field("", max_length=2000)
    fields: list[FieldDefinition] | None = Field(
        None, max_length=2000, description="Every field; absent: a copy of the version in force."
    )


class VersionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    effective_from: date | None = None
    notes: Text | None = Field(None, max_length=2000)
    fields: list[FieldDefinition] | None = Field(None, max_length=2000)


class ApprovalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(min_length=1, max_length=200)
    comment: Text = Field("", max_length=500)
    second_factor: str | None = Field(None, max_length=100)


class VersionOut(BaseModel):
    number: int
    status: str
    effective_from: date
    notes: str
    approved_at: datetime | None
    signature_id: int | None
    fields: list[dict[str, Any]]


def _out(version: service.Version) -> VersionOut:
    return VersionOut(
        number=version.number,
        status=version.status,
        effective_from=version.effective_from,
        notes=version.notes,
        approved_at=version.approved_at,
        signature_id=version.signature_id,
        fields=version.fields,
    )


@router.get("/versions", response_model=list[VersionOut])
def list_versions(session: DbSession, principal: CurrentPrincipal) -> list[VersionOut]:
    """Every version, newest first, ending with the built-in version 0."""
    return [_out(v) for v in service.list_versions(session, principal)]


@router.get("/active", response_model=VersionOut)
def active_version(session: DbSession, principal: CurrentPrincipal) -> VersionOut:
    """The version in force today."""
    return _out(service.active(session, principal.tenant_id))


@router.post("/versions", response_model=VersionOut, status_code=status.HTTP_201_CREATED)
def create_version(session: DbSession, principal: CurrentPrincipal, data: VersionIn) -> VersionOut:
    """Draft a new version (hub staff with integration rights)."""
    row = service.create_version(
        session,
        principal,
        effective_from=data.effective_from,
        notes=data.notes,
        fields=[f.model_dump() for f in data.fields] if data.fields is not None else None,
    )
    return _out(service._version(row))


@router.get("/versions/{number}", response_model=VersionOut)
def read_version(session: DbSession, principal: CurrentPrincipal, number: Number) -> VersionOut:
    return _out(service.get_version(session, principal, number))


@router.patch("/versions/{number}", response_model=VersionOut)
def update_version(
    session: DbSession, principal: CurrentPrincipal, number: Number, data: VersionUpdate
) -> VersionOut:
    """Change a draft (an approved version never changes)."""
    changes = data.model_dump(exclude_unset=True)
    if data.fields is not None:
        changes["fields"] = [f.model_dump() for f in data.fields]
    return _out(service._version(service.update_version(session, principal, number, changes)))


@router.post("/versions/{number}/approve", response_model=VersionOut)
def approve_version(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    number: Number,
    data: ApprovalIn,
) -> VersionOut:
    """Approve a draft with your electronic signature (its author cannot)."""
    policy = signing.SigningPolicy.from_settings(request.app.state.settings)
    with signing.failed_attempts_kept(session, principal, policy):
        row = service.approve(
            session,
            principal,
            number,
            signing.Credentials(data.password, data.comment, data.second_factor),
            policy,
        )
    return _out(service._version(row))


@router.get("/versions/{number}/impact")
def version_impact(
    session: DbSession, principal: CurrentPrincipal, number: Number
) -> list[dict[str, Any]]:
    """The partners' saved import mappings this version would break, and why."""
    return service.impact(session, principal, number)


@router.get("/versions/{number}/schema")
def version_schema(
    session: DbSession, principal: CurrentPrincipal, number: Number
) -> dict[str, Any]:
    """The version as a JSON Schema (2020-12), one definition per entity."""
    return service.json_schema(service.get_version(session, principal, number))
