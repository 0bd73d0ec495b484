"""Use cases of imports: run (or dry-run) a file, correct and replay rejected rows, mappings.

A run reads the file, maps its columns to the entity's fields (a saved mapping, an explicit
one, or header names equal to field names), and takes each row through the API's own rules:
references resolved (GLN → record), duplicates within the file caught, the input schema
validated, then the entity's create service called inside a SAVEPOINT. A row that fails any
step is rolled back alone and kept, with its errors, in the run's inbox; the others are
committed with the run. A dry run does the same and rolls every row back, so its report is
exactly what a real run would do (except that a dry run cannot see records that earlier rows of
the same file would create). Every run is audited with the file's SHA-256.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medledger.core.db import utcnow
from medledger.core.errors import Conflict, DomainError, FieldError, NotFound, ValidationFailed
from medledger.core.principal import Principal
from medledger.core.problems import field_errors_from_pydantic
from medledger.core.repository import get_visible, list_visible
from medledger.integration.errors import Code
from medledger.integration.imports.models import ImportMapping, ImportRow, ImportRun
from medledger.integration.imports.reader import read_sheet
from medledger.integration.imports.targets import TARGETS, References, Target

UNKNOWN_ENTITY = Code.IMPORT_UNKNOWN_ENTITY
UNMAPPED = Code.IMPORT_UNMAPPED_FIELD
UNKNOWN_FIELD = Code.IMPORT_UNKNOWN_FIELD
DUPLICATE = Code.IMPORT_DUPLICATE_IN_FILE
NOT_REPLAYABLE = Code.IMPORT_ROW_NOT_REPLAYABLE
REJECTED, REPLAYED = "rejected", "replayed"


def _field_error(at: str, code: str, message: str, **params: Any) -> ValidationFailed:
    return ValidationFailed(
        message,
        code=code,
        params=params,
        errors=[FieldError(field=at, code=code, message=message, params=params)],
    )


def target_of(entity: str) -> Target:
    target = TARGETS.get(entity)
    if target is None:
        raise _field_error(
            "entity", UNKNOWN_ENTITY, "Nothing called {entity} can be imported.", entity=entity
        )
    return target


def _normal(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").split())


def resolve_columns(
    target: Target, header: list[str], columns: dict[str, str] | None
) -> dict[int, str]:
    """Column index → field, from ``columns`` (file column name → field) or by header names;
    every required field must be mapped."""
    by_index: dict[int, str] = {}
    if columns:
        positions = {name.strip(): i for i, name in enumerate(header)}
        for column, field in columns.items():
            if not field:
                continue
            if field not in target.field_set:
                raise _field_error(
                    "columns", UNKNOWN_FIELD, "{field} is not a field of this import.", field=field
                )
            if column.strip() in positions:
                by_index[positions[column.strip()]] = field
    else:
        fields = target.field_set
        for i, name in enumerate(header):
            if _normal(name) in fields:
                by_index[i] = _normal(name)
    missing = [f.name for f in target.fields if f.required and f.name not in by_index.values()]
    if missing:
        raise _field_error(
            "columns",
            UNMAPPED,
            "No column of the file is mapped to the required field {field}.",
            field=missing[0],
        )
    return by_index


def _as_dict(error: FieldError) -> dict[str, Any]:
    return {
        "field": error.field,
        "code": error.code,
        "message": error.message,
        "params": error.params,
    }


class _RowProcessor:
    """Takes rows through references, schema and service, one savepoint each."""

    def __init__(self, session: Session, principal: Principal, target: Target, dry_run: bool):
        from medledger.integration.dictionary import service as dictionary

        self.session = session
        self.principal = principal
        self.target = target
        self.dry_run = dry_run
        self.refs = References(session, principal.tenant_id)
        # The data dictionary in force; version 0 states what the API checks anyway.
        version = dictionary.active(session, principal.tenant_id)
        entity = dictionary.IMPORT_ENTITIES.get(target.entity)
        self.dictionary = version if version.number and entity else None
        self.dictionary_entity = entity or ""

    def process(self, values: dict[str, str]) -> tuple[list[FieldError], int | None]:
        """The row's errors (none if it was accepted) and the id of the record it created."""
        target = self.target
        errors: list[FieldError] = []
        if self.dictionary is not None:
            from medledger.integration.dictionary.service import check_record

            errors = check_record(
                self.dictionary, self.dictionary_entity, values, lambda name: name
            )
            if errors:
                return errors, None
        prepared = target.prepare(dict(values), self.refs, errors)
        if errors:
            return errors, None
        try:
            data = target.schema.model_validate(prepared)
        except ValidationError as exc:
            return [
                FieldError(
                    field=target.field_names.get(e.field, e.field),
                    code=e.code,
                    message=e.message,
                    params=e.params,
                )
                for e in field_errors_from_pydantic(list(exc.errors()))
            ], None
        savepoint = self.session.begin_nested()
        try:
            record = target.create(self.session, self.principal, data)
            self.session.flush()
        except DomainError as exc:
            savepoint.rollback()
            if exc.errors:
                return [
                    FieldError(
                        field=target.field_names.get(e.field, e.field),
                        code=e.code,
                        message=e.message,
                        params=e.params,
                    )
                    for e in exc.errors
                ], None
            return [
                FieldError(field="", code=exc.code, message=exc.message, params=exc.params)
            ], None
        record_id = int(record.id)
        if self.dry_run:
            savepoint.rollback()
            return [], None
        savepoint.commit()
        if target.gln_field:
            self.refs.created(target.entity, values.get(target.gln_field), record_id)
        return [], record_id


def run_import(
    session: Session,
    principal: Principal,
    *,
    entity: str,
    file_name: str,
    content: bytes,
    mapping_name: str | None = None,
    columns: dict[str, str] | None = None,
    dry_run: bool = False,
    on_row: Callable[[int], None] | None = None,
) -> ImportRun:
    """Import (or with ``dry_run`` only check) the rows of a CSV/XLSX file; the run, with its
    counts per rule. Rejected rows are kept on the run to be corrected and replayed."""
    target = target_of(entity)
    principal.require(target.permission)
    if mapping_name:
        mapping = get_mapping(session, principal, mapping_name)
        if mapping.entity != entity:
            raise _field_error(
                "mapping",
                UNKNOWN_FIELD,
                "Mapping {name} is for {entity}.",
                name=mapping_name,
                entity=mapping.entity,
            )
        columns = mapping.columns
    sheet = read_sheet(file_name, content)
    by_index = resolve_columns(target, sheet.header, columns)
    processor = _RowProcessor(session, principal, target, dry_run)
    seen: dict[tuple[str, ...], int] = {}
    rules: Counter[str] = Counter()
    rejected: list[tuple[int, dict[str, str], list[FieldError]]] = []
    for position, cells in enumerate(sheet.rows):
        row_number = position + 2  # the header is row 1, as a spreadsheet shows it
        values = {
            field: cells[i].strip()
            for i, field in by_index.items()
            if i < len(cells) and cells[i].strip()
        }
        key = tuple(values.get(k, "") for k in target.key)
        checked = all(key[: target.key_required or len(key)])
        errors: list[FieldError]
        if checked and key in seen:
            errors = [
                FieldError(
                    field=target.key[0],
                    code=DUPLICATE,
                    message="The same {field} is already in row {row} of this file.",
                    params={"field": target.key[0], "row": seen[key]},
                )
            ]
        else:
            if checked:
                seen[key] = row_number
            errors, _ = processor.process(values)
        if errors:
            rules.update(e.code for e in errors)
            rejected.append((row_number, values, errors))
        if on_row is not None:
            on_row(position + 1)
    run = ImportRun(
        tenant_id=principal.tenant_id,
        party_id=principal.party_id,
        entity=entity,
        file_name=file_name[:255],
        file_sha256=hashlib.sha256(content).hexdigest(),
        mapping_name=mapping_name or "",
        dry_run=dry_run,
        total_rows=len(sheet.rows),
        accepted_rows=len(sheet.rows) - len(rejected),
        rejected_rows=len(rejected),
        replayed_rows=0,
        rule_counts=dict(sorted(rules.items())),
        created_at=utcnow(),
        created_by=principal.label,
    )
    session.add(run)
    session.flush()
    session.add_all(
        ImportRow(
            tenant_id=principal.tenant_id,
            run_id=run.id,
            row_number=row_number,
            values=values,
            errors=[_as_dict(e) for e in errors],
            status=REJECTED,
            updated_at=run.created_at,
        )
        for row_number, values, errors in rejected
    )
    session.flush()
    return run


def get_run(session: Session, principal: Principal, run_id: int) -> ImportRun:
    return get_visible(session, ImportRun, run_id, principal)


def list_runs(
    session: Session, principal: Principal, *, page: int = 1, page_size: int = 50
) -> tuple[list[ImportRun], int]:
    return list_visible(
        session, ImportRun, principal, order_by=ImportRun.id.desc(), page=page, page_size=page_size
    )


def run_rows(
    session: Session,
    principal: Principal,
    run_id: int,
    *,
    status: str | None = None,
    page: int = 1,
    page_size: int = 100,
) -> tuple[list[ImportRow], int]:
    """The rows a run rejected (and their fate), in file order."""
    run = get_run(session, principal, run_id)
    stmt = select(ImportRow).where(ImportRow.run_id == run.id)
    if status:
        stmt = stmt.where(ImportRow.status == status)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(ImportRow.row_number).offset((page - 1) * page_size).limit(page_size)
    ).all()
    return list(rows), int(total)


def _row(
    session: Session, principal: Principal, run_id: int, row_id: int
) -> tuple[ImportRun, ImportRow]:
    run = get_run(session, principal, run_id)
    row = session.scalar(
        select(ImportRow).where(ImportRow.id == row_id, ImportRow.run_id == run.id)
    )
    if row is None:
        raise NotFound(
            "Row {id} of import {run} was not found.",
            params={"id": row_id, "run": run_id},
        )
    return run, row


def correct_row(
    session: Session, principal: Principal, run_id: int, row_id: int, values: dict[str, str]
) -> ImportRow:
    """Replace a rejected row's values (fields of the entity only)."""
    run, row = _row(session, principal, run_id, row_id)
    target = target_of(run.entity)
    principal.require(target.permission)
    if row.status != REJECTED:
        raise Conflict(
            "Row {row} was already imported.", code=NOT_REPLAYABLE, params={"row": row.row_number}
        )
    unknown = sorted(set(values) - target.field_set)
    if unknown:
        raise _field_error(
            unknown[0], UNKNOWN_FIELD, "{field} is not a field of this import.", field=unknown[0]
        )
    row.values = {k: v.strip() for k, v in values.items() if v and v.strip()}
    row.updated_at = utcnow()
    session.flush()
    return row


def replay_rows(
    session: Session, principal: Principal, run_id: int, row_ids: list[int] | None = None
) -> tuple[int, int]:
    """Take rejected rows (all, or ``row_ids``) through the rules again: (imported, still
    rejected). A row that passes is imported and marked replayed; one that fails keeps its
    new errors."""
    run = get_run(session, principal, run_id)
    target = target_of(run.entity)
    principal.require(target.permission)
    if run.dry_run:
        raise Conflict(
            "A dry run imports nothing: run the file for real to replay rows.",
            code=NOT_REPLAYABLE,
            params={},
        )
    stmt = select(ImportRow).where(ImportRow.run_id == run.id, ImportRow.status == REJECTED)
    if row_ids is not None:
        stmt = stmt.where(ImportRow.id.in_(row_ids))
    processor = _RowProcessor(session, principal, target, dry_run=False)
    imported = failed = 0
    for row in session.scalars(stmt.order_by(ImportRow.row_number)).all():
        errors, record_id = processor.process(dict(row.values))
        row.updated_at = utcnow()
        if errors:
            row.errors = [_as_dict(e) for e in errors]
            failed += 1
        else:
            row.status, row.errors, row.record_id = REPLAYED, [], record_id
            imported += 1
    run.replayed_rows += imported
    session.flush()
    return imported, failed


def save_mapping(
    session: Session, principal: Principal, *, name: str, entity: str, columns: dict[str, str]
) -> ImportMapping:
    """Save (or replace) the party's mapping ``name``."""
    target = target_of(entity)
    principal.require(target.permission)
    for field in columns.values():
        if field and field not in target.field_set:
            raise _field_error(
                "columns", UNKNOWN_FIELD, "{field} is not a field of this import.", field=field
            )
    clean = {c.strip(): f for c, f in columns.items() if f}
    existing = session.scalar(
        select(ImportMapping).where(
            ImportMapping.tenant_id == principal.tenant_id,
            ImportMapping.party_id == principal.party_id,
            ImportMapping.name == name,
        )
    )
    if existing is not None:
        existing.entity, existing.columns = entity, clean
        session.flush()
        return existing
    mapping = ImportMapping(
        tenant_id=principal.tenant_id,
        party_id=principal.party_id,
        name=name,
        entity=entity,
        columns=clean,
        created_at=utcnow(),
    )
    session.add(mapping)
    session.flush()
    return mapping


def get_mapping(session: Session, principal: Principal, name: str) -> ImportMapping:
    mapping = session.scalar(
        select(ImportMapping).where(
            ImportMapping.tenant_id == principal.tenant_id,
            ImportMapping.party_id == principal.party_id,
            ImportMapping.name == name,
        )
    )
    if mapping is None:
        raise _field_error(
            "mapping", Code.IMPORT_UNKNOWN_MAPPING, "No mapping called {name}.", name=name
        )
    return mapping


def list_mappings(session: Session, principal: Principal) -> list[ImportMapping]:
    return list(
        session.scalars(
            select(ImportMapping)
            .where(
                ImportMapping.tenant_id == principal.tenant_id,
                ImportMapping.party_id == principal.party_id,
            )
            .order_by(ImportMapping.name)
        )
    )
