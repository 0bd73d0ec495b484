"""The data dictionary pages: the fields of a version (list toolkit), in the reader's language,
filtered by entity, with links to the other versions and the JSON Schema export; and, for the
hub's integration managers, drafting a new version field by field, its impact on partners'
saved import mappings, and its approval with an electronic signature."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from medledger.compliance import signing
from medledger.core.errors import DomainError, FieldError, PermissionDenied
from medledger.core.principal import Permission
from medledger.integration.dictionary import service
from medledger.integration.dictionary.baseline import ENTITIES, ENTITY_LABELS
from medledger.web.forms import FormState, empty_form, parse_form
from medledger.web.lists import NP_, Column, Empty, Filter, ListQuery, ListSpec, list_page
from medledger.web.nav import N_, NavEntry, register_nav
from medledger.web.pages import submit, who
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
        draft_form=empty_form(ui.locale, {"effective_from": date.today().isoformat()}),
    )


# --- drafting: a new version, its fields, its impact, its signed approval ---------------------


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    effective_from: date
    notes: str = Field("", max_length=2000)


class FieldIn(BaseModel):
    """One field of a draft as the editor posts it (rules as separate inputs)."""

    model_config = ConfigDict(extra="forbid")
    original: str = Field("", max_length=100)
    entity: str = Field(max_length=32)
    name: str = Field(min_length=1, max_length=64)
    type: str = Field(max_length=16)
    unit: str = Field("", max_length=8)
    gs1_ai: str = Field("", max_length=4)
    required: bool = False
    min: Decimal | None = None
    max: Decimal | None = None
    max_length: int | None = Field(None, ge=1, le=100_000)
    pattern: str = Field("", max_length=500)
    values: str = Field("", max_length=2000)
    label_en: str = Field(min_length=1, max_length=200)
    label_zh: str = Field(min_length=1, max_length=200)

    def definition(self) -> dict[str, Any]:
        rules: dict[str, Any] = {}
        if self.required:
            rules["required"] = True
        for key in ("min", "max"):
            number = getattr(self, key)
            if number is not None:
                rules[key] = int(number) if number == number.to_integral_value() else str(number)
        if self.max_length is not None:
            rules["max_length"] = self.max_length
        if self.pattern:
            rules["pattern"] = self.pattern
        values = [v.strip() for v in self.values.split(",") if v.strip()]
        if values:
            rules["values"] = values
        return {
            "entity": self.entity,
            "name": self.name,
            "type": self.type,
            "unit": self.unit,
            "gs1_ai": self.gs1_ai,
            "rules": rules,
            "labels": {"en": self.label_en, "zh_Hans": self.label_zh},
        }


def _key(field: dict[str, Any]) -> str:
    return f"{field['entity']}.{field['name']}"


def _field_values(field: dict[str, Any]) -> dict[str, Any]:
    """A stored definition as the editor's inputs."""
    rules = field.get("rules") or {}
    labels = field.get("labels") or {}
    return {
        "original": _key(field),
        "entity": field["entity"],
        "name": field["name"],
        "type": field["type"],
        "unit": field.get("unit", ""),
        "gs1_ai": field.get("gs1_ai", ""),
        "required": "true" if rules.get("required") else "false",
        "min": "" if rules.get("min") is None else str(rules["min"]),
        "max": "" if rules.get("max") is None else str(rules["max"]),
        "max_length": "" if rules.get("max_length") is None else str(rules["max_length"]),
        "pattern": rules.get("pattern", ""),
        "values": ", ".join(str(v) for v in rules.get("values") or []),
        "label_en": labels.get("en", ""),
        "label_zh": labels.get("zh_Hans", ""),
    }


# Where a definition problem of the edited field is shown in the editor.
_PART_INPUT = {"entity": "entity", "name": "name", "type": "type", "labels": "label_zh"}


def _problems_at_inputs(exc: DomainError, index: int, field: dict[str, Any]) -> DomainError:
    errors = []
    for error in exc.errors:
        parts = error.field.split(".")
        if len(parts) == 3 and parts[0] == "fields" and parts[1] == str(index):
            part = parts[2]
            target = _PART_INPUT.get(part) or (
                "values"
                if field["type"] == "enum" and "pattern" not in field["rules"]
                else "pattern"
            )
            errors.append(FieldError(target, error.code, error.message, error.params))
        else:
            errors.append(error)
    exc.errors = errors
    return exc


def _require_manager(ui: Ui) -> None:
    principal = who(ui)
    principal.require(Permission.INTEGRATION_MANAGE)
    if not principal.sees_all_parties:
        raise PermissionDenied(
            "Only the hub's staff may do this.",
            params={"permission": Permission.INTEGRATION_MANAGE.value},
        )


def _draft_page(
    ui: Ui,
    number: int,
    *,
    field_form: FormState[Any] | None = None,
    approve_form: FormState[Any] | None = None,
    status: int = 200,
) -> Response:
    version = service.get_version(ui.session, who(ui), number)
    editing = ui.request.query_params.get("field", "")
    if field_form is None:
        current = next((f for f in version.fields if _key(f) == editing), None)
        field_form = empty_form(
            ui.locale,
            _field_values(current) if current else {"type": "string", "required": "false"},
        )
    return ui.render(
        "integration/dictionary_draft.html",
        status=status,
        version=version,
        fields=version.fields,
        impact=service.impact(ui.session, who(ui), number) if version.status == "draft" else [],
        field_form=field_form,
        approve_form=approve_form or empty_form(ui.locale),
        entity_options=[(e, _entity_label(ui, e)) for e in ENTITIES],
        type_options=[(t, t) for t in service.TYPES],
        yes_no=[("false", ui._("No")), ("true", ui._("Yes"))],
        entity_label=lambda e: _entity_label(ui, e),
        label_of=lambda f: _label(ui, f),
        rules_of=_rule_text,
        key_of=_key,
    )


@router.post("/integration/dictionary/drafts")
def draft_create(ui: UiPage) -> Response:
    """Draft a new version: a copy of the version in force, to be edited field by field."""
    _require_manager(ui)
    state = parse_form(DraftIn, ui.form, ui.locale)
    row = submit(
        ui,
        state,
        lambda data: service.create_version(
            ui.session, who(ui), effective_from=data.effective_from, notes=data.notes, fields=None
        ),
    )
    if row is None:
        version = _version(ui)
        return list_page(
            ui,
            FIELD_LIST,
            status=state.status,
            version=version,
            versions=service.list_versions(ui.session, who(ui)),
            draft_form=state,
        )
    return ui.redirect(f"/integration/dictionary/versions/{row.number}")


@router.get("/integration/dictionary/versions/{number}")
def draft_page(ui: UiPage, number: int) -> Response:
    """A version's fields with, for a draft, the field editor, the impact on partners'
    mappings and the signed approval."""
    _require_manager(ui)
    return _draft_page(ui, number)


@router.post("/integration/dictionary/versions/{number}/fields")
def draft_field_save(ui: UiPage, number: int) -> Response:
    """Add a field to the draft, or replace the one being edited."""
    _require_manager(ui)
    state = parse_form(
        FieldIn, ui.form, ui.locale, nullable=frozenset({"min", "max", "max_length"})
    )
    if state.data is None:
        return _draft_page(ui, number, field_form=state, status=state.status)
    data = state.data
    version = service.get_version(ui.session, who(ui), number)
    fields = [dict(f) for f in version.fields]
    definition = data.definition()
    index = next((i for i, f in enumerate(fields) if _key(f) == data.original), None)
    if index is None:
        fields.append(definition)
        index = len(fields) - 1
    else:
        fields[index] = definition

    def save(_: Any) -> Any:
        try:
            return service.update_version(ui.session, who(ui), number, {"fields": fields})
        except DomainError as exc:
            raise _problems_at_inputs(exc, index, definition) from None

    if submit(ui, state, save) is None:
        return _draft_page(ui, number, field_form=state, status=state.status)
    return ui.redirect(f"/integration/dictionary/versions/{number}?saved=1")


@router.post("/integration/dictionary/versions/{number}/fields/remove")
def draft_field_remove(ui: UiPage, number: int) -> Response:
    """Take a field out of the draft."""
    _require_manager(ui)
    key = str(ui.form.get("key", "")) if ui.form is not None else ""
    version = service.get_version(ui.session, who(ui), number)
    fields = [f for f in version.fields if _key(f) != key]
    service.update_version(ui.session, who(ui), number, {"fields": fields})
    return ui.redirect(f"/integration/dictionary/versions/{number}?saved=1")


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: str = Field(min_length=1, max_length=200)
    comment: str = Field("", max_length=500)


@router.post("/integration/dictionary/versions/{number}/approve")
def draft_approve(ui: UiPage, number: int) -> Response:
    """Approve the draft with the approver's electronic signature."""
    _require_manager(ui)
    state = parse_form(ApproveIn, ui.form, ui.locale)
    if state.data is None:
        return _draft_page(ui, number, approve_form=state, status=state.status)
    principal = who(ui)
    policy = signing.SigningPolicy.from_settings(ui.request.app.state.settings)
    credentials = signing.Credentials(state.data.password, state.data.comment, None)
    try:
        with signing.failed_attempts_kept(ui.session, principal, policy):
            service.approve(ui.session, principal, number, credentials, policy)
    except DomainError as exc:
        ui.discard_changes()
        state.values.pop("password", None)
        state.reject(exc)
        return _draft_page(ui, number, approve_form=state, status=state.status)
    return ui.redirect(f"/integration/dictionary?version={number}&saved=1")
