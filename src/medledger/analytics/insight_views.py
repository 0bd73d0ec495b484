"""HTML pages: demand forecasts with their backtest, and control charts of measured values
per lot with the lots, NCRs and trace behind each signal."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from medledger.analytics import insights
from medledger.core.errors import DomainError
from medledger.core.i18n import ngettext
from medledger.core.principal import Permission
from medledger.parties.views import who
from medledger.web.nav import N_, NavEntry, register_nav
from medledger.web.ui import UiPage, UiRoute

router = APIRouter(include_in_schema=False, route_class=UiRoute)

register_nav(
    NavEntry("forecasts", N_("Demand forecast"), "/analytics/forecasts", Permission.KPI_READ, 110)
)
register_nav(
    NavEntry("spc", N_("Control charts"), "/analytics/spc", Permission.KPI_READ, order=111)
)

METHOD_LABELS = {
    "holt_winters": N_("Holt-Winters (trend and yearly season)"),
    "holt": N_("Holt (damped trend)"),
    "simple": N_("simple exponential smoothing"),
    "naive": N_("last value"),
}
UNIT_LABELS = {"days": N_("days")}
RULE_LABELS = {
    1: N_("beyond 3σ"),
    2: N_("2 of 3 beyond 2σ"),
    3: N_("4 of 5 beyond 1σ"),
    4: N_("8 on one side"),
    5: N_("6 rising or falling"),
    6: N_("14 alternating"),
    7: N_("15 within 1σ"),
    8: N_("8 beyond 1σ on both sides"),
}


@router.get("/analytics/forecasts")
def forecast_page(ui: UiPage) -> Response:
    """Per product and region: history, forecast, method and backtest error against naive."""
    query = ui.request.query_params
    gtin = (query.get("gtin") or "").strip()[:14] or None
    region = (query.get("region") or "").strip()[:8] or None
    found = insights.forecasts(ui.session, who(ui), gtin=gtin, region=region)
    charts = [
        {
            "key": f"f{n}",
            "data": {
                "labels": [p["month"] for p in f["history"]] + [p["month"] for p in f["forecast"]],
                "datasets": [
                    {
                        "label": ui._("Ordered"),
                        "data": [p["units"] for p in f["history"]] + [None] * len(f["forecast"]),
                    },
                    {
                        "label": ui._("Forecast"),
                        "data": [None] * len(f["history"]) + [p["units"] for p in f["forecast"]],
                    },
                ],
            },
        }
        for n, f in enumerate(found)
    ]
    return ui.render(
        "analytics/forecasts.html",
        forecasts=list(zip(found, charts, strict=True)),
        method_labels=METHOD_LABELS,
        params={"gtin": gtin or "", "region": region or ""},
    )


@router.get("/analytics/spc")
def spc_page(ui: UiPage) -> Response:
    """A control chart with its limits; each signal links to its lot, NCRs and trace."""
    query = ui.request.query_params
    characteristic = query.get("characteristic") or "supplier_lead_time"
    supplier = query.get("supplier_party_id") or ""
    nelson = query.get("nelson") == "1"
    chart = None
    problem = None
    try:
        chart = insights.control_chart(
            ui.session,
            who(ui),
            characteristic,
            supplier_party_id=int(supplier) if supplier.isdigit() else None,
            nelson=nelson,
        )
    except DomainError as error:
        if error.status >= 500 or error.status in (401, 403):
            raise
        problem = ui._(error.message, **error.params)
    data = None
    if chart is not None:
        labels = [p["lot"] for p in chart["points"]]
        n = len(labels)
        data = {
            "labels": labels,
            "datasets": [
                {"label": ui._("Value"), "data": [p["value"] for p in chart["points"]]},
                {"label": ui._("Centre"), "data": [chart["centre"]] * n},
                {"label": ui._("Upper limit"), "data": [chart["upper"]] * n},
                {"label": ui._("Lower limit"), "data": [chart["lower"]] * n},
            ],
        }
    signals = chart["signals"] if chart is not None else 0
    signal_text = ngettext(ui.locale, "{n} signal", "{n} signals", signals).format(n=signals)
    return ui.render(
        "analytics/spc.html",
        ngettext_signals=signal_text,
        chart=chart,
        data=data,
        problem=problem,
        characteristics=[(k, ui._(label)) for k, (label, _) in insights.characteristics().items()],
        rule_labels=RULE_LABELS,
        unit_labels=UNIT_LABELS,
        params={"characteristic": characteristic, "supplier_party_id": supplier, "nelson": nelson},
    )
