"""REST routes of imports: upload a CSV/XLSX file (or dry-run it), read its report, correct
and replay rejected rows, save column mappings."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile, status

from medledger.core.deps import CurrentPrincipal, DbSession
from medledger.core.errors import FieldError, ValidationFailed
from medledger.core.schemas import Page
from medledger.core.types import RecordId
from medledger.integration.errors import Code
from medledger.integration.imports import service
from medledger.integration.imports.schemas import (
    ImportEntityOut,
    ImportFieldOut,
    ImportRowOut,
    ImportRunOut,
    MappingIn,
    MappingOut,
    ReplayIn,
    ReplayOut,
    RowCorrection,
)
from medledger.integration.imports.targets import TARGETS

router = APIRouter(prefix="/api/v1/imports", tags=["imports"])


def _columns(raw: str | None) -> dict[str, str] | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        message = "Give the columns as a JSON object of file column → field."
        raise ValidationFailed(
            message,
            code=Code.IMPORT_COLUMNS,
            errors=[FieldError("columns", Code.IMPORT_COLUMNS, message)],
        )
    return value


@router.get("/entities", response_model=list[ImportEntityOut])
def list_entities(principal: CurrentPrincipal) -> list[ImportEntityOut]:
    """What can be imported, with the fields a mapping can point at."""
    return [
        ImportEntityOut(
            entity=t.entity,
            label=t.label,
            fields=[
                ImportFieldOut(name=f.name, label=f.label, required=f.required) for f in t.fields
            ],
        )
        for t in TARGETS.values()
    ]


@router.post("", response_model=ImportRunOut, status_code=status.HTTP_201_CREATED)
async def create_import(
    session: DbSession,
    principal: CurrentPrincipal,
    file: Annotated[UploadFile, File(description="A .csv (UTF-8 or GB18030) or .xlsx file.")],
    entity: Annotated[str, Form()],
    mapping: Annotated[str | None, Form()] = None,
    columns: Annotated[str | None, Form(description="JSON: file column → field.")] = None,
    dry_run: Annotated[bool, Form()] = False,
) -> ImportRunOut:
    """Import the file's rows (good ones committed, bad ones kept to be corrected), or with
    ``dry_run`` only report what would happen."""
    content = await file.read()
    run = service.run_import(
        session,
        principal,
        entity=entity,
        file_name=file.filename or "upload",
        content=content,
        mapping_name=mapping or None,
        columns=_columns(columns),
        dry_run=dry_run,
    )
    return ImportRunOut.model_validate(run)


@router.get("", response_model=Page[ImportRunOut])
def list_imports(
    session: DbSession,
    principal: CurrentPrincipal,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[ImportRunOut]:
    items, total = service.list_runs(session, principal, page=page, page_size=page_size)
    return Page(
        items=[ImportRunOut.model_validate(i) for i in items],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.get("/mappings", response_model=list[MappingOut])
def list_mappings(session: DbSession, principal: CurrentPrincipal) -> list[MappingOut]:
    """Your party's saved column mappings."""
    return [MappingOut.model_validate(m) for m in service.list_mappings(session, principal)]


@router.put("/mappings/{name}", response_model=MappingOut)
def save_mapping(
    session: DbSession, principal: CurrentPrincipal, name: str, data: MappingIn
) -> MappingOut:
    """Save (or replace) a column mapping under ``name``, reused by later imports."""
    return MappingOut.model_validate(
        service.save_mapping(
            session, principal, name=name[:100], entity=data.entity, columns=data.columns
        )
    )


@router.get("/{run_id}", response_model=ImportRunOut)
def read_import(session: DbSession, principal: CurrentPrincipal, run_id: RecordId) -> ImportRunOut:
    return ImportRunOut.model_validate(service.get_run(session, principal, run_id))


@router.get("/{run_id}/rows", response_model=Page[ImportRowOut])
def list_rows(
    session: DbSession,
    principal: CurrentPrincipal,
    run_id: RecordId,
    status: Annotated[str | None, Query(pattern="^(rejected|replayed)$")] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Page[ImportRowOut]:
    """The rows the run rejected, with their errors (and those replayed since)."""
    rows, total = service.run_rows(
        session, principal, run_id, status=status, page=page, page_size=page_size
    )
    return Page(
        items=[ImportRowOut.model_validate(r) for r in rows],
        total=total,
        page=page,
        page_size=page_size,
    )


@router.patch("/{run_id}/rows/{row_id}", response_model=ImportRowOut)
def correct_row(
    session: DbSession,
    principal: CurrentPrincipal,
    run_id: RecordId,
    row_id: RecordId,
    data: RowCorrection,
) -> ImportRowOut:
    """Correct a rejected row's values (then replay it)."""
    return ImportRowOut.model_validate(
        service.correct_row(session, principal, run_id, row_id, data.values)
    )


@router.post("/{run_id}/replay", response_model=ReplayOut)
def replay(
    session: DbSession, principal: CurrentPrincipal, run_id: RecordId, data: ReplayIn | None = None
) -> ReplayOut:
    """Take the rejected rows (or ``row_ids``) through the rules again."""
    imported, rejected = service.replay_rows(
        session, principal, run_id, data.row_ids if data else None
    )
    return ReplayOut(imported=imported, rejected=rejected)
