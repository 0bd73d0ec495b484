"""HTML pages of imports: upload (with mapping or dry run), the data-quality report of a run,
and correcting and replaying its rejected rows."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from medledger.core.errors import DomainError, FieldError
from medledger.core.i18n import translate
from medledger.integration.imports import service
from medledger.integration.imports.reader import read_sheet
from medledger.integration.imports.targets import TARGETS
from medledger.web.lists import NP_, Column, Empty, ListQuery, ListSpec, list_page
from medledger.web.nav import N_, NavEntry, register_nav
from medledger.web.pages import page_number, who
from medledger.web.ui import Ui, UiPage, UiRoute

router = APIRouter(include_in_schema=False, route_class=UiRoute)

register_nav(NavEntry("imports", N_("Imports"), "/imports", None, order=96))


def _entities(ui: Ui) -> list[tuple[str, str]]:
    principal = who(ui)
    return [(t.entity, ui._(t.label)) for t in TARGETS.values() if principal.can(t.permission)]


def _message(ui: Ui, error: FieldError | dict[str, Any]) -> str:
    if isinstance(error, dict):
        return translate(ui.locale, error["message"], error.get("params") or {})
    return translate(ui.locale, error.message, error.params)


def _fetch_runs(ui: Ui, query: ListQuery) -> tuple[list[Any], int]:
    return service.list_runs(ui.session, who(ui), page=query.page, page_size=query.size)


def _entity_text(ui: Ui, run: Any) -> str:
    target = TARGETS.get(run.entity)
    text = ui._(target.label) if target else run.entity
    return f"{text} ({ui._('dry run')})" if run.dry_run else text


RUN_LIST = ListSpec(
    key="imports",
    title=N_("Imports"),
    path="/imports",
    columns=(
        Column(
            "id",
            N_("#"),
            lambda r: r.id,
            href=lambda r: f"/imports/{r.id}",
            css="mono num",
            sortable=False,
        ),
        Column("entity", N_("What"), lambda r: r.entity, text=_entity_text, sortable=False),
        Column("file_name", N_("File"), lambda r: r.file_name, sortable=False),
        Column("total_rows", N_("Rows"), lambda r: r.total_rows, css="num", sortable=False),
        Column(
            "accepted_rows", N_("Accepted"), lambda r: r.accepted_rows, css="num", sortable=False
        ),
        Column(
            "rejected_rows",
            N_("Rejected"),
            lambda r: r.rejected_rows - r.replayed_rows,
            css="num",
            sortable=False,
        ),
        Column("created_by", N_("By"), lambda r: r.created_by, sortable=False),
        Column("created_at", N_("Time"), lambda r: r.created_at, css="nowrap", sortable=False),
    ),
    fetch=_fetch_runs,
    paged=True,
    count=NP_("{n} import", "{n} imports"),
    empty=Empty(N_("No import yet: upload a CSV or XLSX file below.")),
    below="imports/_upload.html",
)


def _upload_page(
    ui: Ui,
    *,
    status: int = 200,
    error: str = "",
    header: list[str] | None = None,
    entity: str = "",
) -> Response:
    principal = who(ui)
    target = TARGETS.get(entity)
    return list_page(
        ui,
        RUN_LIST,
        status=status,
        entities=_entities(ui),
        mappings=service.list_mappings(ui.session, principal),
        import_error=error,
        header=header or [],
        entity=entity,
        field_options=[(f.name, ui._(f.label)) for f in target.fields] if target else [],
        labels={t.entity: t.label for t in TARGETS.values()},
    )


@router.get("/imports")
def imports_page(ui: UiPage) -> Response:
    """Upload a file; the runs so far."""
    return _upload_page(ui)


@router.post("/imports")
async def import_upload(ui: UiPage) -> Response:
    """Run (or dry-run) an uploaded file; its report, or the mapping step when its columns do
    not name the required fields."""
    form = ui.form
    upload = form.get("file") if form is not None else None
    entity = str(form.get("entity", "")) if form is not None else ""
    mapping = str(form.get("mapping", "")) if form is not None else ""
    if not isinstance(upload, UploadFile):
        return _upload_page(ui, status=422, error=ui._("Choose a file."), entity=entity)
    content = await upload.read()
    try:
        run = service.run_import(
            ui.session,
            who(ui),
            entity=entity,
            file_name=upload.filename or "upload",
            content=content,
            mapping_name=mapping or None,
            dry_run=form is not None and form.get("dry_run") == "on",
        )
    except DomainError as exc:
        ui.discard_changes()
        header: list[str] = []
        if exc.code == service.UNMAPPED:
            header = read_sheet(upload.filename or "", content).header
        message = translate(ui.locale, exc.message, exc.params)
        return _upload_page(ui, status=exc.status, error=message, header=header, entity=entity)
    return ui.redirect(f"/imports/{run.id}")


@router.post("/imports/mappings")
def mapping_save(ui: UiPage) -> Response:
    """Save the column mapping of the mapping step."""
    form = ui.form
    assert form is not None
    entity = str(form.get("entity", ""))
    name = str(form.get("name", "")).strip()[:100]
    columns = {
        str(key)[4:]: str(value)
        for key, value in form.multi_items()
        if str(key).startswith("col:") and isinstance(value, str)
    }
    if not name:
        return _upload_page(
            ui,
            status=422,
            error=ui._("Give the mapping a name."),
            header=list(columns),
            entity=entity,
        )
    try:
        service.save_mapping(ui.session, who(ui), name=name, entity=entity, columns=columns)
    except DomainError as exc:
        ui.discard_changes()
        message = translate(ui.locale, exc.message, exc.params)
        return _upload_page(
            ui, status=exc.status, error=message, header=list(columns), entity=entity
        )
    return ui.redirect("/imports?saved=1")


def _run_page(ui: Ui, run_id: int, status: int = 200) -> Response:
    principal = who(ui)
    run = service.get_run(ui.session, principal, run_id)
    rows, total = service.run_rows(
        ui.session, principal, run.id, page=page_number(ui.request.query_params.get("page"))
    )
    target = TARGETS[run.entity]
    return ui.render(
        "imports/import_run.html",
        status=status,
        run=run,
        rows=rows,
        total=total,
        fields=target.fields,
        message=lambda error: _message(ui, error),
        label=target.label,
    )


@router.get("/imports/{run_id}")
def import_run(ui: UiPage, run_id: int) -> Response:
    """A run's data-quality report: counts per rule and the rows it rejected."""
    return _run_page(ui, run_id)


@router.post("/imports/{run_id}/rows/{row_id}")
def row_fix(ui: UiPage, run_id: int, row_id: int) -> Response:
    """Save a rejected row's corrected values and take it through the rules again."""
    form = ui.form
    assert form is not None
    values = {
        str(key)[4:]: str(value)
        for key, value in form.multi_items()
        if str(key).startswith("val:") and isinstance(value, str)
    }
    principal = who(ui)
    service.correct_row(ui.session, principal, run_id, row_id, values)
    service.replay_rows(ui.session, principal, run_id, [row_id])
    return ui.redirect(f"/imports/{run_id}?saved=1#row-{row_id}")


@router.post("/imports/{run_id}/replay")
def run_replay(ui: UiPage, run_id: int) -> Response:
    """Take every rejected row through the rules again."""
    service.replay_rows(ui.session, who(ui), run_id)
    return ui.redirect(f"/imports/{run_id}?saved=1")
