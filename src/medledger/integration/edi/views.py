"""HTML pages of EDI with partners (list toolkit): each partner's EDI settings, and the
despatch advices sent (with the document)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select

from medledger.core.principal import Permission
from medledger.integration.edi import service
from medledger.parties.models import Party
from medledger.web.lists import NP_, Column, Empty, ListQuery, ListSpec, badge, list_page
from medledger.web.nav import N_
from medledger.web.pages import who
from medledger.web.ui import Ui, UiPage, UiRoute

router = APIRouter(include_in_schema=False, route_class=UiRoute)

SYNTAX_LABELS = {"edifact": N_("EANCOM (EDIFACT)"), "x12": N_("ANSI X12")}


def _party_names(ui: Ui, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = ui.session.execute(select(Party.id, Party.name).where(Party.id.in_(ids))).all()
    return {int(i): name for i, name in rows}


def _fetch_settings(ui: Ui, query: ListQuery) -> list[Any]:
    items, _ = service.list_settings(ui.session, who(ui), page_size=500)
    names = _party_names(ui, {s.party_id for s in items})
    return [(s, names.get(s.party_id, str(s.party_id))) for s in items]


def _channels(ui: Ui, row: Any) -> str:
    setting = row[0]
    parts = []
    if setting.outbound_folder:
        parts.append(ui._("folder {folder}", folder=setting.outbound_folder))
    if setting.deliver_via_outbox:
        parts.append(ui._("outbox"))
    return ", ".join(parts)


SETTINGS_LIST = ListSpec(
    key="edi-partners",
    title=N_("EDI partners"),
    path="/integration/edi",
    columns=(
        Column(
            "party",
            N_("Party"),
            lambda r: r[1],
            href=lambda r: f"/parties/{r[0].party_id}",
            searchable=True,
        ),
        Column(
            "syntax",
            N_("Syntax"),
            lambda r: r[0].syntax,
            text=lambda ui, r: ui._(SYNTAX_LABELS.get(r[0].syntax, r[0].syntax)),
        ),
        Column("our_id", N_("Our id"), lambda r: r[0].our_id, css="mono", searchable=True),
        Column(
            "partner_id", N_("Partner id"), lambda r: r[0].partner_id, css="mono", searchable=True
        ),
        Column("channels", N_("Sent to"), lambda r: r[0].outbound_folder, text=_channels),
        Column(
            "test",
            N_("Mode"),
            lambda r: r[0].test_indicator,
            text=lambda ui, r: ui._("test") if r[0].test_indicator else ui._("production"),
            html=lambda ui, r: badge(
                ui._("test") if r[0].test_indicator else ui._("production"),
                "warn" if r[0].test_indicator else "ok",
            ),
        ),
        Column("updated_at", N_("Changed"), lambda r: r[0].updated_at, css="nowrap"),
    ),
    fetch=_fetch_settings,
    count=NP_("{n} EDI partner", "{n} EDI partners"),
    empty=Empty(
        N_(
            "No partner exchanges EDI yet: set a partner's syntax and identifiers with "
            "PUT /api/v1/integration/edi/partners/{party_id} or `medledger edi settings`."
        )
    ),
    search=N_("Party or identifier"),
    default_sort="party",
    permission=Permission.INTEGRATION_MANAGE,
    row_id=lambda r: r[0].id,
    head="integration/_edi_links.html",
)


def _fetch_advices(ui: Ui, query: ListQuery) -> tuple[list[Any], int]:
    items, total = service.list_advices(ui.session, who(ui), page=query.page, page_size=query.size)
    names = _party_names(ui, {a.party_id for a in items})
    return [(a, names.get(a.party_id, str(a.party_id))) for a in items], total


ADVICE_LIST = ListSpec(
    key="despatch-advices",
    title=N_("Despatch advices"),
    path="/integration/edi/despatch-advices",
    columns=(
        Column(
            "number",
            N_("Number"),
            lambda r: r[0].number,
            href=lambda r: f"/integration/edi/despatch-advices/{r[0].id}",
            css="mono",
            sortable=False,
        ),
        Column("standard", N_("Standard"), lambda r: r[0].standard, sortable=False),
        Column("party", N_("Party"), lambda r: r[1], sortable=False),
        Column(
            "ssccs",
            N_("SSCCs"),
            lambda r: " ".join(r[0].ssccs),
            css="mono",
            sortable=False,
        ),
        Column("filename", N_("File"), lambda r: r[0].filename, css="mono", sortable=False),
        Column("created_at", N_("Sent"), lambda r: r[0].created_at, css="nowrap", sortable=False),
    ),
    fetch=_fetch_advices,
    paged=True,
    count=NP_("{n} despatch advice", "{n} despatch advices"),
    empty=Empty(
        N_(
            "No despatch advice sent yet: send one for a shipment with "
            "POST /api/v1/integration/edi/despatch-advices or `medledger edi despatch-advice`."
        )
    ),
    permission=Permission.INTEGRATION_MANAGE,
    row_id=lambda r: r[0].id,
    head="integration/_edi_links.html",
)


@router.get("/integration/edi")
def edi_partners_page(ui: UiPage) -> Response:
    """Each partner's EDI settings."""
    return list_page(ui, SETTINGS_LIST)


@router.get("/integration/edi/despatch-advices")
def despatch_advices_page(ui: UiPage) -> Response:
    """Despatch advices sent, newest first."""
    return list_page(ui, ADVICE_LIST)


@router.get("/integration/edi/despatch-advices/{advice_id}")
def despatch_advice_page(ui: UiPage, advice_id: int) -> Response:
    """One despatch advice with its document."""
    advice = service.get_advice(ui.session, who(ui), advice_id)
    names = _party_names(ui, {advice.party_id})
    return ui.render(
        "integration/despatch_advice.html",
        advice=advice,
        party_name=names.get(advice.party_id, ""),
    )
