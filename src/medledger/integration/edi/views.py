"""HTML pages of EDI with partners (list toolkit): each partner's EDI settings (with the form
that sets them), and the despatch advices sent (with the document)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import select

from medledger.core.errors import PermissionDenied
from medledger.core.principal import Permission
from medledger.core.repository import list_visible
from medledger.integration.edi import service
from medledger.integration.edi.schemas import EdiSettingsIn
from medledger.parties.models import Party
from medledger.web.forms import FormState, empty_form, parse_form
from medledger.web.lists import NP_, Column, Empty, ListQuery, ListSpec, badge, list_page
from medledger.web.nav import N_
from medledger.web.pages import submit, who
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
    if setting.despatch_advice_auto:
        parts.append(ui._("despatch advices at every shipment"))
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
            href=lambda r: f"/integration/edi/settings?party_id={r[0].party_id}",
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
            "No partner exchanges EDI yet: set a partner's syntax, identifiers and channels "
            "with the form (Set up a partner), PUT /api/v1/integration/edi/partners/{party_id} "
            "or `medledger edi settings`."
        ),
        action_label=N_("Set up a partner"),
        action_path="/integration/edi/settings",
        permission=Permission.INTEGRATION_MANAGE,
    ),
    search=N_("Party or identifier"),
    create=Empty(
        "",
        action_label=N_("Set up a partner"),
        action_path="/integration/edi/settings",
        permission=Permission.INTEGRATION_MANAGE,
    ),
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


# --- settings form -----------------------------------------------------------------------------

_FLAGS = ("deliver_via_outbox", "despatch_advice_auto", "test_indicator")
_DEFAULTS = {
    "syntax": "edifact",
    "element_separator": "*",
    "component_separator": ">",
    "segment_terminator": "~",
    "deliver_via_outbox": "true",
    "despatch_advice_auto": "true",
    "test_indicator": "false",
}


def _require_manager(ui: Ui) -> None:
    principal = who(ui)
    principal.require(Permission.INTEGRATION_MANAGE)
    if not principal.sees_all_parties:
        raise PermissionDenied(
            "Only the hub's staff may do this.",
            params={"permission": Permission.INTEGRATION_MANAGE.value},
        )


def _party_options(ui: Ui) -> list[tuple[int, str]]:
    principal = who(ui)
    parties, _ = list_visible(ui.session, Party, principal, order_by=Party.name, page_size=1000)
    return [(p.id, f"{p.name} ({p.gln})") for p in parties if p.id != principal.hub_party_id]


def _current(ui: Ui, party_id: int | None) -> dict[str, Any]:
    """The form's first values: the party's settings, else the defaults."""
    values: dict[str, Any] = dict(_DEFAULTS)
    if party_id is None:
        return values
    values["party_id"] = str(party_id)
    setting = service.setting_of(ui.session, who(ui).tenant_id, party_id)
    if setting is not None:
        for name in EdiSettingsIn.model_fields:
            value = getattr(setting, name)
            values[name] = ("true" if value else "false") if name in _FLAGS else value
    return values


def _settings_page(ui: Ui, form: FormState[Any], status: int = 200) -> Response:
    return ui.render(
        "integration/edi_settings.html",
        status=status,
        form=form,
        party_options=_party_options(ui),
        syntax_options=[(k, ui._(v)) for k, v in SYNTAX_LABELS.items()],
        yes_no=[("true", ui._("Yes")), ("false", ui._("No"))],
    )


@router.get("/integration/edi/settings")
def edi_settings_form(ui: UiPage, party_id: int | None = None) -> Response:
    """The form that sets one partner's EDI settings (pre-filled with what it has)."""
    _require_manager(ui)
    return _settings_page(ui, empty_form(ui.locale, _current(ui, party_id)))


@router.post("/integration/edi/settings")
def edi_settings_save(ui: UiPage) -> Response:
    """Save one partner's EDI settings; back to the list, or the form with its errors."""
    _require_manager(ui)
    raw = ui.form.get("party_id") if ui.form is not None else None
    party_id = int(raw) if isinstance(raw, str) and raw.isdigit() else None
    state = parse_form(EdiSettingsIn, ui.form, ui.locale, skip=frozenset({"party_id"}))
    state.values["party_id"] = raw or ""
    if party_id is None:
        state.errors.setdefault("party_id", []).append(ui._("Choose the partner."))
        state.status = 422
        state.data = None
        return _settings_page(ui, state, status=422)
    saved = submit(
        ui, state, lambda data: service.put_settings(ui.session, who(ui), party_id, data)
    )
    if saved is None:
        return _settings_page(ui, state, status=state.status)
    return ui.redirect("/integration/edi?saved=1")
