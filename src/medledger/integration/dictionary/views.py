"""The data dictionary page (list toolkit): the fields of a version, in the reader's language,
filtered by entity; links to the other versions and to the JSON Schema export."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from medledger.core.principal import Permission
from medledger.integration.dictionary import service
from medledger.integration.dictionary.baseline import ENTITIES, ENTITY_LABELS
from medledger.web.lists import NP_, Column, Empty, Filter, ListQuery, ListSpec, list_page
from medledger.web.nav import N_, NavEntry, register_nav
from medledger.web.pages import who
from medledger.web.ui import Ui, UiPage, UiRoute

router = APIRouter(include_in_schema=False, route_class=UiRoute)
register_nav(
    NavEntry(
        "dictionary",
        N_("Data dictionary"),
        "/integration/dictionary",
        Permission.PARTIES_READ,
        order=96,
    )
)


def _version(ui: Ui) -> service.Version:
    raw = ui.request.query_params.get("version", "")
    if raw.isdigit():
        return service.get_version(ui.session, who(ui), int(raw))
    return service.active(ui.session, who(ui).tenant_id)


def _entity_label(ui: Ui, entity: str) -> str:
    english, chinese = ENTITY_LABELS.get(entity, (entity, entity))
    return chinese if ui.locale.startswith("zh") else english


def _fetch(ui: Ui, query: ListQuery) -> list[Any]:
    version = _version(ui)
    entity = query.get("entity")
    return [f for f in version.fields if not entity or f["entity"] == entity]


def _label(ui: Ui, field: dict[str, Any]) -> str:
    labels = field.get("labels") or {}
    return str(labels.get("zh_Hans" if ui.locale.startswith("zh") else "en", field["name"]))


def _rule_text(field: dict[str, Any]) -> str:
    rules = dict(field.get("rules") or {})
    return json.dumps(rules, ensure_ascii=False, sort_keys=True) if rules else ""


def _rules(ui: Ui, field: dict[str, Any]) -> str:
    return _rule_text(field)


FIELD_LIST = ListSpec(
    key="dictionary",
    title=N_("Data dictionary"),
    path="/integration/dictionary",
    columns=(
        Column(
            "entity",
            N_("Entity"),
            lambda f: f["entity"],
            text=lambda ui, f: _entity_label(ui, f["entity"]),
        ),
        Column("name", N_("Field"), lambda f: f["name"], css="mono", searchable=True),
        Column(
            "label", N_("Label"), lambda f: f["labels"].get("en", ""), text=_label, searchable=True
        ),
        Column("type", N_("Type"), lambda f: f["type"], css="mono"),
        Column("unit", N_("Unit"), lambda f: f.get("unit", ""), css="mono"),
        Column("gs1_ai", N_("GS1 AI"), lambda f: f.get("gs1_ai", ""), css="mono"),
        Column("rules", N_("Rules"), _rule_text, text=_rules, css="mono", sortable=False),
    ),
    fetch=_fetch,
    count=NP_("{n} field", "{n} fields"),
    filters=(
        Filter(
            "entity",
            N_("Entity"),
            options=lambda ui: [(e, _entity_label(ui, e)) for e in ENTITIES],
        ),
    ),
    search=N_("Field or label"),
    empty=Empty(N_("No field matches.")),
    permission=Permission.PARTIES_READ,
    row_id=lambda f: f"{f['entity']}.{f['name']}",
    head="integration/_dictionary_head.html",
)


@router.get("/integration/dictionary")
def dictionary_page(ui: UiPage) -> Response:
    """The fields of the version in force (or ``?version=N``), with the versions."""
    version = _version(ui)
    return list_page(
        ui,
        FIELD_LIST,
        version=version,
        versions=service.list_versions(ui.session, who(ui)),
    )
