"""HTML pages: supplier scorecards (a supplier's users see only their own), the KPI board with
its drill-down and XLSX export, supplier improvement plans, and the start-page panel of
overdue plan actions."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from markupsafe import Markup

from medledger.analytics import kpis, plans, service
from medledger.analytics.errors import Code, invalid
from medledger.analytics.periods import month_of
from medledger.analytics.schemas import ActionDoneIn, ActionIn, PlanIn, ReviewIn
from medledger.core.db import utcnow
from medledger.core.errors import FieldError, ValidationFailed
from medledger.core.i18n import ngettext
from medledger.core.principal import Permission, Principal
from medledger.parties.views import who
from medledger.quality.models import Capa, Ncr
from medledger.web.nav import N_, NavEntry, register_home_panel, register_nav
from medledger.web.ui import Ui, UiPage, UiRoute, templates

router = APIRouter(include_in_schema=False, route_class=UiRoute)

register_nav(NavEntry("kpis", N_("KPI board"), "/analytics/kpis", Permission.KPI_READ, order=108))
register_nav(
    NavEntry(
        "scorecards",
        N_("Supplier scorecards"),
        "/analytics/scorecards",
        Permission.ANALYTICS_READ,
        order=109,
    )
)

FACTOR_LABELS = {
    "otif": N_("PO on time in full"),
    "acceptance": N_("Incoming acceptance"),
    "ncr": N_("NCRs"),
    "scar": N_("SCAR response"),
    "capa": N_("Open CAPAs"),
}
KPI_LABELS = {
    "on_time": N_("Order on-time rate"),
    "traceability": N_("Batch traceability completeness"),
    "recall_response": N_("Recall response time"),
    "inspection_time": N_("Inspection compliance time"),
    "inventory_turns": N_("Inventory turns"),
    "stock_out": N_("Stock-out rate"),
}
KPI_HINTS = {
    "on_time": N_("Order lines due, delivered in full by the promised date"),
    "traceability": N_("Lots first seen, with origin recorded and every shipment received"),
    "recall_response": N_("Hours from opening a recall to every consignee's acknowledgement"),
    "inspection_time": N_("Days from a supplier lot's receipt to its acceptance or rejection"),
    "inventory_turns": N_("Units shipped per average unit on hand, per year"),
    "stock_out": N_("Managed products with no released stock at a site at month end"),
}
DIMENSION_LABELS = {
    "site": N_("Site"),
    "family": N_("Product family"),
    "partner": N_("Customer or supplier"),
    "market": N_("Market"),
}
SEVERITY_LABELS = {"minor": N_("minor"), "major": N_("major"), "critical": N_("critical")}
SIDE_LABELS = {"hub": N_("our side"), "supplier": N_("supplier's side")}
PLAN_STATE_LABELS = {"open": N_("open"), "closed": N_("closed")}


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise invalid(Code.PERIOD_INVALID, "A day is written YYYY-MM-DD.", "date_from") from None


def format_value(ui: Ui, unit: str, value: float | None) -> str:
    """A figure as the board shows it (rates in percent, times with their unit)."""
    if value is None:
        return "–"
    if unit == "rate":
        return f"{value * 100:.1f} %"
    if unit == "days":
        return ui._("{n} d", n=f"{value:.1f}")
    if unit == "hours":
        return ui._("{n} h", n=f"{value:.1f}")
    return f"{value:.2f}"


def _count_text(ui: Ui, n: int) -> str:
    return ngettext(ui.locale, "{n} record", "{n} records", n).format(n=n)


def _tone(kpi: Any) -> str:
    if kpi.value is None or kpi.target is None:
        return "off"
    good = kpi.value >= kpi.target if kpi.higher_is_better else kpi.value <= kpi.target
    return "ok" if good else "alert"


# --- scorecards ------------------------------------------------------------------------------


@router.get("/analytics/scorecards")
def scorecard_list(ui: UiPage) -> Response:
    """Every supplier's total this month and last month (a supplier: its own)."""
    principal = who(ui)
    now = utcnow()
    month = month_of(now)
    from medledger.analytics.periods import add_months

    previous = add_months(month, -1)
    current = {s.supplier_party_id: s for s in service.supplier_ranking(ui.session, principal)}
    before = {
        s.supplier_party_id: s
        for s in service.supplier_ranking(ui.session, principal, month=previous)
    }
    rows = [(current[pid], before.get(pid)) for pid in current]
    return ui.render("analytics/scorecards.html", rows=rows, month=month, previous=previous)


def _scorecard_context(ui: Ui, party_id: int) -> dict[str, Any]:
    query = ui.request.query_params
    card = service.supplier_scorecard(
        ui.session,
        who(ui),
        party_id,
        date_from=_day(query.get("date_from")),
        date_to=_day(query.get("date_to")),
    )
    chart = {
        "labels": [m.month for m in card.months],
        "datasets": [
            {"label": ui._("Total"), "data": [m.total for m in card.months]},
            *[
                {"label": ui._(FACTOR_LABELS[f]), "data": [m.scores.get(f) for m in card.months]}
                for f in FACTOR_LABELS
            ],
        ],
    }
    return {"card": card, "chart": chart}


@router.get("/analytics/scorecards/{party_id}")
def scorecard_page(ui: UiPage, party_id: int) -> Response:
    """One supplier's scorecard: trend chart and each month's figures, every one a link to the
    records behind it."""
    return ui.render(
        "analytics/scorecard.html",
        factor_labels=FACTOR_LABELS,
        severity_labels=SEVERITY_LABELS,
        params={k: ui.request.query_params.get(k, "") for k in ("date_from", "date_to")},
        plans=[
            plans.plan_out(ui.session, who(ui), p)
            for p in plans.list_plans(ui.session, who(ui))
            if p.supplier_party_id == party_id
        ],
        **_scorecard_context(ui, party_id),
    )


@router.get("/analytics/scorecards/{party_id}/records")
def scorecard_records(ui: UiPage, party_id: int) -> Response:
    query = ui.request.query_params
    month = query.get("month") or month_of(utcnow())
    factor = query.get("factor") or "otif"
    card = service.supplier_scorecard(ui.session, who(ui), party_id)
    records = service.scorecard_records(ui.session, who(ui), party_id, month=month, factor=factor)
    return ui.render(
        "analytics/records.html",
        title=ui._(FACTOR_LABELS.get(factor, factor)),
        subtitle=f"{card.supplier_name} · {month}",
        back=f"/analytics/scorecards/{party_id}",
        back_label=ui._("Scorecard of {name}", name=card.supplier_name),
        records=records,
        figure=None,
        count_text=_count_text(ui, len(records)),
    )


# --- the KPI board ---------------------------------------------------------------------------


def _board(ui: Ui) -> Any:
    query = ui.request.query_params
    return kpis.board(
        ui.session,
        who(ui),
        date_from=_day(query.get("date_from")),
        date_to=_day(query.get("date_to")),
    )


def _xlsx(ui: Ui, board: Any) -> Response:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = ui._("KPI board")[:31]
    sheet.append([ui._("KPI"), ui._("Value"), ui._("Target"), ui._("Counted"), ui._("Period")])
    period = f"{board.date_from.isoformat()} – {board.date_to.isoformat()}"
    for kpi in board.kpis:
        sheet.append([ui._(KPI_LABELS[kpi.key]), kpi.value, kpi.target, kpi.count, period])
    for kpi in board.kpis:
        detail = book.create_sheet(kpi.key[:31])
        detail.append([ui._(KPI_LABELS[kpi.key])])
        detail.append([ui._("Month"), ui._("Value"), ui._("Counted")])
        for point in kpi.trend:
            detail.append([point["month"], point["value"], point["count"]])
        for dimension, rows in kpi.breakdowns.items():
            detail.append([])
            detail.append([ui._(DIMENSION_LABELS[dimension]), ui._("Value"), ui._("Counted")])
            for row in rows:
                label = row.label
                if label[:1] in ("=", "+", "-", "@"):
                    label = "'" + label
                detail.append([label, row.value, row.count])
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(
        buffer.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="kpi-board.xlsx"'},
    )


def _pdf(ui: Ui, board: Any) -> Response:
    """The board as a PDF in the user's language: the summary with the figures exactly as the
    page shows them, then each KPI's trend and breakdowns."""
    from medledger.compliance.pdf import PdfDocument

    period = f"{board.date_from.isoformat()} – {board.date_to.isoformat()}"
    doc = PdfDocument(ui._("KPI board"), subtitle=ui._("Period {period}", period=period))
    doc.table(
        [ui._("KPI"), ui._("Value"), ui._("Target"), ui._("Counted")],
        [
            [
                ui._(KPI_LABELS[kpi.key]),
                format_value(ui, kpi.unit, kpi.value),
                format_value(ui, kpi.unit, kpi.target),
                kpi.count,
            ]
            for kpi in board.kpis
        ],
        widths=(80, 35, 35, 30),
    )
    for kpi in board.kpis:
        doc.heading(f"{ui._(KPI_LABELS[kpi.key])}: {format_value(ui, kpi.unit, kpi.value)}")
        doc.paragraph(ui._(KPI_HINTS[kpi.key]) + (f" · {ui._(kpi.note)}" if kpi.note else ""))
        doc.table(
            [ui._("Month"), ui._("Value"), ui._("Counted")],
            [[p["month"], format_value(ui, kpi.unit, p["value"]), p["count"]] for p in kpi.trend],
            widths=(60, 60, 60),
        )
        for dimension, rows in kpi.breakdowns.items():
            doc.table(
                [ui._(DIMENSION_LABELS[dimension]), ui._("Value"), ui._("Counted")],
                [[r.label, format_value(ui, kpi.unit, r.value), r.count] for r in rows],
                widths=(60, 60, 60),
            )
    return Response(
        doc.render(),
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="kpi-board.pdf"'},
    )


@router.get("/analytics/kpis")
def kpi_board(ui: UiPage) -> Response:
    """The board: each KPI with its target, trend, breakdowns and a link to its records
    (``?format=xlsx`` or ``?format=pdf``: the export)."""
    board = _board(ui)
    if ui.request.query_params.get("format") == "xlsx":
        return _xlsx(ui, board)
    if ui.request.query_params.get("format") == "pdf":
        return _pdf(ui, board)
    params = {k: ui.request.query_params.get(k, "") for k in ("date_from", "date_to")}
    shown = [
        {
            "kpi": kpi,
            "label": ui._(KPI_LABELS[kpi.key]),
            "hint": ui._(KPI_HINTS[kpi.key]),
            "value": format_value(ui, kpi.unit, kpi.value),
            "target": format_value(ui, kpi.unit, kpi.target),
            "tone": _tone(kpi),
            "records": _count_text(ui, kpi.count),
            "chart": {
                "labels": [p["month"] for p in kpi.trend],
                "datasets": [
                    {"label": ui._(KPI_LABELS[kpi.key]), "data": [p["value"] for p in kpi.trend]},
                    {"label": ui._("Target"), "data": [kpi.target for _ in kpi.trend]},
                ],
            },
            "trend": [
                (p["month"], format_value(ui, kpi.unit, p["value"]), p["count"]) for p in kpi.trend
            ],
            "breakdowns": [
                (
                    dimension,
                    ui._(DIMENSION_LABELS[dimension]),
                    [(r, format_value(ui, kpi.unit, r.value)) for r in rows],
                )
                for dimension, rows in kpi.breakdowns.items()
            ],
        }
        for kpi in board.kpis
    ]
    return ui.render(
        "analytics/board.html",
        board=board,
        shown=shown,
        params=params,
        query="&".join(f"{k}={v}" for k, v in params.items() if v),
    )


@router.get("/analytics/kpis/{key}")
def kpi_detail(ui: UiPage, key: str) -> Response:
    """The records behind a KPI (of a month or a breakdown group): the figure recomputed over
    exactly the rows listed."""
    query = ui.request.query_params
    records, figure = kpis.kpi_records(
        ui.session,
        who(ui),
        key,
        date_from=_day(query.get("date_from")),
        date_to=_day(query.get("date_to")),
        month=query.get("month") or None,
        dimension=query.get("dimension") or None,
        value=query.get("value"),
    )
    unit = next(k.unit for k in kpis.KPIS if k.key == key)
    parts = [query.get("month") or ""]
    if query.get("dimension"):
        group = query.get("label") or query.get("value", "")
        parts.append(f"{ui._(DIMENSION_LABELS.get(query['dimension'], ''))}: {group}")
    return ui.render(
        "analytics/records.html",
        title=ui._(KPI_LABELS[key]),
        subtitle=" · ".join(p for p in parts if p),
        back="/analytics/kpis",
        back_label=ui._("KPI board"),
        records=records,
        figure=format_value(ui, unit, figure),
        count_text=_count_text(ui, len(records)),
    )


# --- improvement plans -----------------------------------------------------------------------


@router.get("/analytics/plans")
def plan_list(ui: UiPage) -> Response:
    principal = who(ui)
    found = [
        plans.plan_out(ui.session, principal, p) for p in plans.list_plans(ui.session, principal)
    ]
    return ui.render(
        "analytics/plans.html",
        plans=found,
        state_labels=PLAN_STATE_LABELS,
        can_write=principal.can(Permission.ANALYTICS_WRITE),
    )


def _plan_form_options(ui: Ui, principal: Principal) -> dict[str, Any]:
    from sqlalchemy import select

    tenant = principal.tenant_id
    return {
        "suppliers": service.suppliers(ui.session, principal),
        "ncrs": ui.session.execute(
            select(Ncr.id, Ncr.number, Ncr.title, Ncr.supplier_party_id)
            .where(Ncr.tenant_id == tenant, Ncr.supplier_party_id.is_not(None))
            .order_by(Ncr.id.desc())
            .limit(200)
        ).all(),
        "capas": ui.session.execute(
            select(Capa.id, Capa.number, Capa.title, Capa.supplier_party_id)
            .where(Capa.tenant_id == tenant, Capa.supplier_party_id.is_not(None))
            .order_by(Capa.id.desc())
            .limit(200)
        ).all(),
    }


@router.get("/analytics/plans/new")
@router.post("/analytics/plans/new")
def plan_new(ui: UiPage) -> Response:
    """Open a plan: supplier, goal, due date, linked NCRs/CAPAs and up to three actions."""
    principal = who(ui)
    principal.require(Permission.ANALYTICS_WRITE)
    values: dict[str, Any] = {}
    errors: list[FieldError] = []
    if ui.form is not None:
        form = ui.form
        values = {k: form.get(k, "") for k in form.keys()}  # noqa: SIM118
        try:
            actions = []
            for n in range(3):
                text = str(form.get(f"action_{n}_description", "")).strip()
                if text:
                    actions.append(
                        ActionIn(
                            description=text,
                            side=str(form.get(f"action_{n}_side", "supplier")),
                            owner_name=str(form.get(f"action_{n}_owner", "")).strip() or "–",
                            due_date=date.fromisoformat(str(form.get(f"action_{n}_due", ""))),
                        )
                    )
            data = PlanIn(
                supplier_party_id=int(str(form.get("supplier_party_id", "0")) or 0),
                title=str(form.get("title", "")).strip(),
                goal=str(form.get("goal", "")).strip(),
                due_date=date.fromisoformat(str(form.get("due_date", ""))),
                ncr_ids=[int(str(v)) for v in form.getlist("ncr_ids")],
                capa_ids=[int(str(v)) for v in form.getlist("capa_ids")],
                actions=actions,
            )
            plan = plans.create_plan(ui.session, principal, data)
            return ui.redirect(f"/analytics/plans/{plan.id}?saved=1")
        except ValidationFailed as error:
            ui.discard_changes()
            errors = error.errors or [FieldError("", error.code, error.message, error.params)]
        except ValueError:
            ui.discard_changes()
            errors = [
                FieldError(
                    "",
                    Code.FORM_INCOMPLETE,
                    "Fill in the title, the supplier and every date.",
                )
            ]
    return ui.render(
        "analytics/plan_new.html",
        values=values,
        errors=[ui._(e.message, **e.params) for e in errors],
        side_labels=SIDE_LABELS,
        **_plan_form_options(ui, principal),
        status=422 if errors else 200,
    )


@router.get("/analytics/plans/{plan_id}")
def plan_page(ui: UiPage, plan_id: int) -> Response:
    principal = who(ui)
    plan = plans.get_plan(ui.session, principal, plan_id)
    return ui.render(
        "analytics/plan.html",
        plan=plans.plan_out(ui.session, principal, plan),
        state_labels=PLAN_STATE_LABELS,
        side_labels=SIDE_LABELS,
        can_write=principal.can(Permission.ANALYTICS_WRITE),
        saved=ui.request.query_params.get("saved") == "1",
    )


@router.post("/analytics/plans/{plan_id}/reviews")
def plan_review(ui: UiPage, plan_id: int) -> Response:
    form = ui.form
    note = str(form.get("note", "")).strip() if form is not None else ""
    close = form is not None and form.get("close") == "1"
    if not note:
        raise invalid(Code.NOTE_REQUIRED, "Write what the review concluded.", "note")
    plans.review_plan(ui.session, who(ui), plan_id, ReviewIn(note=note, close=close))
    return ui.redirect(f"/analytics/plans/{plan_id}?saved=1")


@router.post("/analytics/plans/{plan_id}/actions/{action_id}/done")
def plan_action_done(ui: UiPage, plan_id: int, action_id: int) -> Response:
    form = ui.form
    note = str(form.get("note", "")).strip() if form is not None else ""
    plans.complete_action(ui.session, who(ui), plan_id, action_id, ActionDoneIn(note=note))
    return ui.redirect(f"/analytics/plans/{plan_id}?saved=1")


def _home_panel(ui: Ui) -> Markup | None:
    """Overdue improvement-plan actions of the user's side (the hub's or the supplier's)."""
    principal = ui.principal
    if principal is None or not principal.can(Permission.ANALYTICS_READ):
        return None
    overdue = plans.overdue_actions(ui.session, principal)
    if not overdue:
        return None
    template = templates.get_template("analytics/_home_panel.html")
    return Markup(template.render(ui.context(overdue=overdue)))


register_home_panel("analytics", _home_panel)
