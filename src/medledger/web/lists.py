"""The list toolkit: every list page of every context is one :class:`ListSpec`.

A context declares a list once — its columns, filters, sort keys, bulk actions, what to say
when it is empty — and :func:`list_page` does the rest, the same way everywhere:

* text search (``q``), filters and sort in the URL (``sort=name``, ``sort=-name``), page and
  page size (``page``, ``size``), so any view of a list can be bookmarked or sent;
* sorting by any sortable column; text sorts in the reader's language (``web.collation``:
  Chinese by pinyin);
* the total with the plural form of the reader's language (``1 party``, ``3 parties``);
* the filtered, sorted list (all pages) as CSV or XLSX at the list's own URL with
  ``format=csv`` / ``format=xlsx``: the export carries what the table shows, in the same order;
* row selection with bulk actions (``POST`` to the list's URL), for the actions the user's
  role allows; all selected rows change in one transaction, or none does;
* an empty state that says what to do next.

Two ways to get rows, chosen per list:

* in memory (master data: parties, sites, products …): ``fetch`` returns every visible row
  matching the filters it understands (at most :data:`IN_MEMORY_LIMIT`); search, the other
  filters, sorting and paging happen here. That is what makes locale-aware collation possible
  on SQLite and PostgreSQL alike.
* in the database (audit trail, EPCIS events, capture jobs, lots: unbounded): ``fetch`` gets
  the whole :class:`ListQuery` (search, filters, sort key, page) and returns one page and the
  total; the sort keys of such a list are columns the database orders by.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Literal
from urllib.parse import urlencode

from fastapi.responses import Response
from markupsafe import Markup, escape
from sqlalchemy import nulls_last

from medledger.core.errors import DomainError
from medledger.core.i18n import ngettext
from medledger.core.principal import Permission
from medledger.core.repository import list_visible
from medledger.core.work import work_of
from medledger.web.collation import value_key
from medledger.web.ui import Ui, with_query

__all__ = ["NP_", "Column", "Empty", "Filter", "ListQuery", "ListSpec", "list_page"]

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 25
IN_MEMORY_LIMIT = 5000
EXPORT_LIMIT = 100_000

Cell = Callable[[Ui, Any], Any]


def NP_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a plural pair for extraction (ngettext_noop); ``{n}`` is the count."""
    return singular, plural


@dataclass(frozen=True)
class Column:
    """One column: what it shows, how it sorts, what it exports.

    ``value(row)`` is the raw value (sort key, search text, export cell when ``text`` is not
    given); ``text(ui, row)`` what the reader sees (translated labels, times in the user's
    zone); ``href(row)`` makes the cell a link; ``html(ui, row)`` renders a custom cell (its
    export is still ``text``). ``sort`` is the key a database-paged list's ``fetch`` orders by
    (True: the column key; None: not sortable).
    """

    key: str
    label: str
    value: Callable[[Any], Any]
    text: Cell | None = None
    href: Callable[[Any], str | None] | None = None
    html: Cell | None = None
    sortable: bool = True
    searchable: bool = False
    css: str = ""
    export: bool = True

    def shown(self, ui: Ui, row: Any) -> str:
        if self.text is not None:
            return str(self.text(ui, row) or "")
        value = self.value(row)
        if value is None:
            return ""
        if isinstance(value, datetime):
            return ui.time(value)
        if isinstance(value, date):
            return ui.day(value)
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return str(value)

    def cell(self, ui: Ui, row: Any) -> Markup:
        if self.html is not None:
            return Markup(self.html(ui, row))
        text = self.shown(ui, row)
        href = self.href(row) if self.href is not None else None
        if href:
            return Markup('<a href="{}">{}</a>').format(href, text)
        return Markup("{}").format(text)


@dataclass(frozen=True)
class Filter:
    """A filter of a list. ``kind``: ``select`` (``options``), ``text``, ``date``, ``state``
    (active / inactive). ``match(row, value)`` applies it in memory; without it the list's
    ``fetch`` applies it."""

    key: str
    label: str
    kind: Literal["select", "text", "date", "state"] = "select"
    options: Callable[[Ui], list[tuple[str, str]]] | None = None
    match: Callable[[Any, str], bool] | None = None
    size: int = 0


@dataclass(frozen=True)
class BulkAction:
    """An action on the selected rows: ``run(ui, ids)`` inside the request's transaction."""

    key: str
    label: str
    run: Callable[[Ui, list[int]], None]
    permission: Permission | None = None
    danger: bool = False
    reason: bool = False


@dataclass(frozen=True)
class Empty:
    """What an empty list says, and the link that gets the reader going (with its permission)."""

    message: str
    action_label: str = ""
    action_path: str = ""
    permission: Permission | None = None


@dataclass
class ListQuery:
    """What the reader asked for: search, filters, sort, page."""

    q: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    sort: str = ""
    descending: bool = False
    page: int = 1
    size: int = DEFAULT_PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @property
    def sort_param(self) -> str:
        return ("-" if self.descending else "") + self.sort if self.sort else ""

    def get(self, key: str) -> str:
        return self.filters.get(key, "")


@dataclass(frozen=True)
class ListSpec:
    """A list, declared once. ``fetch(ui, query)`` returns the rows (in memory) or
    ``(page_rows, total)`` (``paged=True``)."""

    key: str
    title: str
    path: str
    columns: tuple[Column, ...]
    fetch: Callable[[Ui, ListQuery], Any]
    count: tuple[str, str]
    empty: Empty
    filters: tuple[Filter, ...] = ()
    search: str = ""
    default_sort: str = ""
    actions: tuple[BulkAction, ...] = ()
    create: Empty | None = None
    paged: bool = False
    row_id: Callable[[Any], Any] = lambda row: row.id
    permission: Permission | None = None
    intro: str = ""
    # A template included in the page head, next to the title (extra buttons).
    head: str = ""
    # A template included below the list (a form that adds a row, say).
    below: str = ""
    # Where the bulk form posts (default: the list's own URL).
    bulk_path: str = ""
    # Extra attributes of a row's <tr> (``class`` to colour it, ``data-*`` for scripts).
    row_attrs: Callable[[Any], dict[str, str]] | None = None

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)


def page_number(value: str | None) -> int:
    """A page number from the query string; anything odd is the first page."""
    return int(value) if value and value.isdigit() and int(value) > 0 else 1


def active_filter(value: str | None) -> bool | None:
    """``true``/``false`` of a state filter, else None (both)."""
    return {"true": True, "false": False}.get(value or "")


def int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def parse_query(ui: Ui, spec: ListSpec) -> ListQuery:
    """The reader's query from the URL; unknown sort keys and sizes fall back to defaults."""
    params = ui.request.query_params
    sort = (params.get("sort") or spec.default_sort).strip()
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    column = spec.column(key)
    if column is None or not column.sortable:
        default = spec.default_sort
        descending, key = default.startswith("-"), default.lstrip("-")
    size_text = params.get("size") or ""
    size = int(size_text) if size_text.isdigit() and int(size_text) in PAGE_SIZES else 0
    return ListQuery(
        q=(params.get("q") or "").strip()[:200] if spec.search else "",
        filters={f.key: (params.get(f.key) or "").strip()[:200] for f in spec.filters},
        sort=key,
        descending=descending,
        page=page_number(params.get("page")),
        size=size or DEFAULT_PAGE_SIZE,
    )


def _query_params(query: ListQuery, spec: ListSpec, **override: Any) -> dict[str, Any]:
    """The URL parameters of ``query`` (defaults left out), with ``override``."""
    params: dict[str, Any] = {"q": query.q, **query.filters}
    if query.sort_param and query.sort_param != spec.default_sort:
        params["sort"] = query.sort_param
    if query.size != DEFAULT_PAGE_SIZE:
        params["size"] = query.size
    if query.page > 1:
        params["page"] = query.page
    params.update(override)
    return params


def _matches(ui: Ui, spec: ListSpec, row: Any, needle: str) -> bool:
    for column in spec.columns:
        if column.searchable:
            if needle in column.shown(ui, row).casefold():
                return True
            raw = column.value(row)
            if raw is not None and needle in str(raw).casefold():
                return True
    return False


def rows_of(
    ui: Ui, spec: ListSpec, query: ListQuery, *, export: bool = False
) -> tuple[list[Any], int]:
    """The rows of one page (or, for an export, of every page) and the total."""
    if spec.paged:
        wanted = replace(query, page=1, size=EXPORT_LIMIT) if export else query
        items, total = spec.fetch(ui, wanted)
        return list(items), int(total)
    rows = list(spec.fetch(ui, query))
    for filter_ in spec.filters:
        value = query.get(filter_.key)
        if value and filter_.match is not None:
            rows = [row for row in rows if filter_.match(row, value)]
    if query.q:
        needle = query.q.casefold()
        rows = [row for row in rows if _matches(ui, spec, row, needle)]
    column = spec.column(query.sort)
    if column is not None:
        locale = ui.locale
        rows.sort(key=lambda row: value_key(locale, column.value(row)), reverse=query.descending)
        if query.descending:
            # Blanks stay last whichever way the column sorts.
            blanks = [r for r in rows if column.value(r) in (None, "")]
            rows = [r for r in rows if column.value(r) not in (None, "")] + blanks
    total = len(rows)
    if export:
        return rows, total
    return rows[query.offset : query.offset + query.size], total


def visible_page(
    ui: Ui,
    model: type[Any],
    query: ListQuery,
    *,
    sorts: dict[str, Any],
    filters: list[Any] | None = None,
) -> tuple[list[Any], int]:
    """One page of a database-paged list (``paged=True``) and its total: the rows of ``model``
    the reader may see (``core.repository.list_visible``, the scoping choke point), filtered,
    ordered by the SQL expression ``sorts[query.sort]`` (blanks last both ways; ties by id)."""
    assert ui.principal is not None
    expression = sorts.get(query.sort)
    order_by = None
    if expression is not None:
        order_by = nulls_last(expression.desc() if query.descending else expression.asc())
    return list_visible(
        ui.session,
        model,
        ui.principal,
        filters=filters,
        order_by=order_by,
        page=query.page,
        page_size=query.size,
    )


def count_text(ui: Ui, spec: ListSpec, total: int) -> str:
    """``1 party`` / ``3 parties`` in the reader's language."""
    singular, plural = spec.count
    return ngettext(ui.locale, singular, plural, total).format(n=total)


def _visible_actions(ui: Ui, spec: ListSpec) -> list[BulkAction]:
    principal = ui.principal
    if principal is None:
        return []
    return [a for a in spec.actions if a.permission is None or principal.can(a.permission)]


# A cell starting with one of these is a formula to a spreadsheet program: a partner's party
# name "=HYPERLINK(…)" must stay text in the file (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export_cell(text: str) -> str:
    """``text`` as a spreadsheet cell that is never evaluated as a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_table(ui: Ui, spec: ListSpec, rows: Sequence[Any]) -> tuple[list[str], list[list[str]]]:
    """The header and the cells of an export: what the table shows, every page."""
    columns = [c for c in spec.columns if c.export]
    header = [ui._(c.label) for c in columns]
    return header, [[export_cell(c.shown(ui, row)) for c in columns] for row in rows]


def _export(ui: Ui, spec: ListSpec, query: ListQuery, fmt: str) -> Response:
    rows, _total = rows_of(ui, spec, query, export=True)
    header, cells = export_table(ui, spec, rows)
    stamp = datetime.now().strftime("%Y%m%d")
    if fmt == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(title=spec.key[:31])
        sheet.append(header)
        for line in cells:
            sheet.append(line)
        buffer = io.BytesIO()
        workbook.save(buffer)
        return Response(
            buffer.getvalue(),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{spec.key}-{stamp}.xlsx"'},
        )
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(cells)
    # The byte order mark makes spreadsheet programs read the file as UTF-8 (Chinese names).
    return Response(
        "\ufeff" + text.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{spec.key}-{stamp}.csv"'},
    )


def _run_bulk(ui: Ui, spec: ListSpec) -> tuple[str, str, int]:
    """Run the posted bulk action; returns (notice, error, status)."""
    form = ui.form
    key = str(form.get("action", "")) if form is not None else ""
    action = next((a for a in _visible_actions(ui, spec) if a.key == key), None)
    ids = [
        int(str(v)) for v in (form.getlist("ids") if form is not None else []) if str(v).isdigit()
    ]
    if action is None:
        return "", ui._("Choose an action."), 422
    if not ids:
        return "", ui._("Select at least one row."), 422
    reason = form.get("reason") if form is not None else None
    if action.reason and isinstance(reason, str) and reason.strip():
        work_of(ui.session).give_reason(reason.strip()[:500])
    try:
        action.run(ui, ids)
    except DomainError as exc:
        ui.discard_changes()
        return "", ui._(exc.message, **exc.params), exc.status
    return str(len(ids)), "", 200


def list_page(
    ui: Ui, spec: ListSpec, *, template: str = "list.html", status: int = 200, **extra: Any
) -> Response:
    """The page (GET: HTML, htmx results, CSV, XLSX; POST: a bulk action) of ``spec``.

    ``extra`` reaches the templates (``spec.head``, ``spec.below``); ``status`` is the page's
    status when it shows a refused form of its own."""
    principal = ui.principal
    assert principal is not None
    if spec.permission is not None:
        principal.require(spec.permission)
    notice, error = "", ""
    if ui.request.method == "POST" and "action" in (ui.form or {}):
        notice, error, status = _run_bulk(ui, spec)
        if not error:
            # Post/redirect/get back to the same view of the list, saying how many changed.
            params = [(k, v) for k, v in ui.request.query_params.multi_items() if k != "done"]
            params.append(("done", notice))
            return ui.redirect(f"{spec.path}?{urlencode(params)}")
    query = parse_query(ui, spec)
    done = ui.request.query_params.get("done", "")
    if done.isdigit():
        notice = ngettext(ui.locale, "{n} row changed.", "{n} rows changed.", int(done)).format(
            n=int(done)
        )
    elif ui.request.query_params.get("saved"):
        notice = ui._("Saved.")
    fmt = ui.request.query_params.get("format", "")
    if fmt in ("csv", "xlsx"):
        return _export(ui, spec, query, fmt)
    rows, total = rows_of(ui, spec, query)
    pages = max(1, (total + query.size - 1) // query.size)
    if query.page > pages:
        query.page = pages
        rows, total = rows_of(ui, spec, query)
    filtered = bool(query.q or any(query.filters.values()))
    actions = _visible_actions(ui, spec)
    create = spec.create
    if (
        create is not None
        and create.permission is not None
        and not principal.can(create.permission)
    ):
        create = None
    empty = spec.empty
    empty_action = bool(
        empty.action_path and (empty.permission is None or principal.can(empty.permission))
    )
    return ui.render(
        template,
        status=status,
        spec=spec,
        query=query,
        rows=rows,
        total=total,
        pages=pages,
        count=count_text(ui, spec, total),
        filtered=filtered,
        actions=actions,
        create=create,
        empty_action=empty_action,
        notice=notice,
        error=error,
        page_sizes=PAGE_SIZES,
        url=lambda **override: with_query(spec.path, **_query_params(query, spec, **override)),
        sort_url=lambda key: with_query(
            spec.path,
            **_query_params(
                query,
                spec,
                sort=("-" + key) if query.sort == key and not query.descending else key,
                page="",
            ),
        ),
        filter_options={f.key: f.options(ui) for f in spec.filters if f.options is not None},
        **extra,
    )


# --- cells many lists share ---------------------------------------------------------------


def badge(text: str, tone: str) -> Markup:
    """A status badge (``tone``: ok, off, draft, warn, alert)."""
    return Markup('<span class="badge badge-{}">{}</span>').format(tone, text)


def active_text(ui: Ui, row: Any) -> str:
    return ui._("active") if row.active else ui._("inactive")


def active_column(label: str) -> Column:
    """The active/inactive state of a master-data record, as a badge."""
    return Column(
        "active",
        label,
        lambda row: row.active,
        text=active_text,
        html=lambda ui, row: badge(active_text(ui, row), "ok" if row.active else "off"),
        css="nowrap",
    )


def link_cell(href: str | None, text: str, css: str = "") -> Markup:
    if not href:
        return Markup('<span class="{}">{}</span>').format(css, text) if css else escape(text)
    return Markup('<a href="{}" class="{}">{}</a>').format(href, css, text)
