"""Data dictionary versions: drafting, signed approval, the version in force, validation of
exchanged values, the saved import mappings a change breaks, and JSON Schema export."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from medledger.compliance import signing
from medledger.compliance.signables import Meaning, SignableKind, register_signable
from medledger.core.db import utcnow
from medledger.core.errors import Conflict, FieldError, PermissionDenied, ValidationFailed
from medledger.core.principal import Permission, Principal
from medledger.core.repository import get_visible, list_visible
from medledger.identifiers.checkdigit import gs1_check_digit
from medledger.integration.dictionary.baseline import BASELINE, ENTITIES, IMPORT_ENTITIES

__all__ = ["IMPORT_ENTITIES"]
from medledger.integration.dictionary.models import DictionaryVersion
from medledger.integration.errors import Code, field_invalid, field_problem
from medledger.integration.imports.models import ImportMapping
from medledger.parties.models import Party

TYPES = ("string", "integer", "decimal", "date", "gtin", "gln", "sscc", "enum")
RULES = ("required", "min", "max", "max_length", "pattern", "values")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_DIGITS = {"gtin": (8, 12, 13, 14), "gln": (13,), "sscc": (18,)}


@dataclass(frozen=True)
class Version:
    """A version as read (the built-in version 0 has no row)."""

    id: int | None
    number: int
    status: str
    effective_from: date
    fields: list[dict[str, Any]]
    notes: str
    approved_at: datetime | None
    signature_id: int | None


BUILT_IN = Version(None, 0, "approved", date(2000, 1, 1), BASELINE, "Built in.", None, None)


def _version(row: DictionaryVersion) -> Version:
    return Version(
        row.id,
        row.number,
        row.status,
        row.effective_from,
        list(row.fields),
        row.notes,
        row.approved_at,
        row.signature_id,
    )


def _require_hub(principal: Principal) -> None:
    principal.require(Permission.INTEGRATION_MANAGE)
    if not principal.sees_all_parties:
        raise PermissionDenied(
            "Only the hub's staff may do this.", params={"permission": "integration:manage"}
        )


# --- reading ---------------------------------------------------------------------------------


def active(session: Session, tenant_id: int, on: date | None = None) -> Version:
    """The version in force on ``on`` (today): the approved one with the latest effective
    date not after it (the highest number on a tie), else the built-in version 0."""
    day = on or utcnow().date()
    row = session.scalar(
        select(DictionaryVersion)
        .where(
            DictionaryVersion.tenant_id == tenant_id,
            DictionaryVersion.status == "approved",
            DictionaryVersion.effective_from <= day,
        )
        .order_by(DictionaryVersion.effective_from.desc(), DictionaryVersion.number.desc())
        .limit(1)
    )
    return _version(row) if row is not None else BUILT_IN


def list_versions(session: Session, principal: Principal) -> list[Version]:
    """Every version, newest first, then the built-in one (everyone signed in may read)."""
    rows, _ = list_visible(
        session,
        DictionaryVersion,
        principal,
        order_by=DictionaryVersion.number.desc(),
        page_size=500,
    )
    return [_version(r) for r in rows] + [BUILT_IN]


def get_version(session: Session, principal: Principal, number: int) -> Version:
    if number == 0:
        return BUILT_IN
    row = session.scalar(
        select(DictionaryVersion).where(
            DictionaryVersion.tenant_id == principal.tenant_id, DictionaryVersion.number == number
        )
    )
    if row is None:
        raise field_invalid(
            "version", Code.DICTIONARY_UNKNOWN_VERSION, "There is no version {n}.", n=number
        )
    return _version(get_visible(session, DictionaryVersion, row.id, principal))


# --- drafting and approval -------------------------------------------------------------------


def check_definitions(fields: list[dict[str, Any]]) -> None:
    """Refuse field definitions that are not well formed (each problem names its field)."""
    errors: list[FieldError] = []
    seen: set[str] = set()

    def _definition_problem(index: int, part: str, message: str, **params: Any) -> None:
        errors.append(
            field_problem(
                f"fields.{index}.{part}", Code.DICTIONARY_DEFINITION_INVALID, message, **params
            )
        )

    for index, definition in enumerate(fields):
        entity, name = definition.get("entity"), definition.get("name")
        if entity not in ENTITIES:
            _definition_problem(
                index, "entity", "{value} is not an entity of the dictionary.", value=str(entity)
            )
        if not isinstance(name, str) or not _NAME.match(name):
            _definition_problem(index, "name", "A field name is lower-case letters, digits and _.")
        elif f"{entity}.{name}" in seen:
            _definition_problem(
                index, "name", "{entity}.{name} is declared twice.", entity=str(entity), name=name
            )
        seen.add(f"{entity}.{name}")
        if definition.get("type") not in TYPES:
            _definition_problem(
                index, "type", "{value} is not a field type.", value=str(definition.get("type"))
            )
        rules = definition.get("rules") or {}
        unknown = sorted(set(rules) - set(RULES))
        if unknown:
            _definition_problem(index, "rules", "{value} is not a rule.", value=unknown[0])
        if definition.get("type") == "enum" and not rules.get("values"):
            _definition_problem(index, "rules", "An enum field lists its values.")
        if "pattern" in rules:
            try:
                re.compile(str(rules["pattern"]))
            except re.error:
                _definition_problem(index, "rules", "The pattern is not a regular expression.")
        labels = definition.get("labels") or {}
        if not labels.get("en") or not labels.get("zh_Hans"):
            _definition_problem(index, "labels", "Give the label in English and in Chinese.")
    if errors:
        raise ValidationFailed(
            "The dictionary is not well formed.",
            code=Code.DICTIONARY_DEFINITION_INVALID,
            errors=errors,
        )


def _normalised(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "entity": f["entity"],
            "name": f["name"],
            "type": f["type"],
            "unit": f.get("unit", ""),
            "gs1_ai": f.get("gs1_ai", ""),
            "rules": dict(f.get("rules") or {}),
            "labels": dict(f.get("labels") or {}),
        }
        for f in fields
    ]


def create_version(
    session: Session,
    principal: Principal,
    *,
    effective_from: date,
    notes: str,
    fields: list[dict[str, Any]] | None,
) -> DictionaryVersion:
    """A draft version: ``fields`` given whole, or a copy of the version in force."""
    _require_hub(principal)
    definitions = (
        _normalised(fields) if fields is not None else active(session, principal.tenant_id).fields
    )
    check_definitions(definitions)
    number = (
        session.scalar(
            select(func.max(DictionaryVersion.number)).where(
                DictionaryVersion.tenant_id == principal.tenant_id
            )
        )
        or 0
    ) + 1
    row = DictionaryVersion(
        tenant_id=principal.tenant_id,
        number=number,
        status="draft",
        effective_from=effective_from,
        fields=definitions,
        notes=notes,
        created_by_user_id=principal.user_id,
    )
    session.add(row)
    session.flush()
    return row


def _draft(session: Session, principal: Principal, number: int) -> DictionaryVersion:
    _require_hub(principal)
    version = get_version(session, principal, number)
    row = session.get(DictionaryVersion, version.id) if version.id else None
    if row is None or row.status != "draft":
        raise Conflict(
            "Version {n} is approved: change the dictionary in a new version.",
            code=Code.DICTIONARY_NOT_DRAFT,
            params={"n": number},
        )
    return row


def update_version(
    session: Session, principal: Principal, number: int, changes: dict[str, Any]
) -> DictionaryVersion:
    row = _draft(session, principal, number)
    if "fields" in changes and changes["fields"] is not None:
        definitions = _normalised(changes["fields"])
        check_definitions(definitions)
        row.fields = definitions
    if changes.get("effective_from") is not None:
        row.effective_from = changes["effective_from"]
    if changes.get("notes") is not None:
        row.notes = changes["notes"]
    session.flush()
    return row


def approve(
    session: Session,
    principal: Principal,
    number: int,
    credentials: signing.Credentials | None,
    policy: signing.SigningPolicy,
) -> DictionaryVersion:
    """Approve a draft with the approver's electronic signature (not its author's)."""
    row = _draft(session, principal, number)
    signature = signing.sign(
        session, principal, KIND, row, Meaning.APPROVED, credentials, policy=policy
    )
    row.status = "approved"
    row.approved_at = utcnow()
    row.signature_id = signature.id
    session.flush()
    return row


KIND = "dictionary_version"
register_signable(
    SignableKind(
        kind=KIND,
        model=DictionaryVersion,
        content=lambda session, v: {
            "number": v.number,
            "effective_from": v.effective_from.isoformat(),
            "fields": v.fields,
            "notes": v.notes,
        },
        author=lambda v: v.created_by_user_id,
        label=lambda v: f"DD-{v.number}",
        path=lambda v: f"/integration/dictionary?version={v.number}",
        permissions={Meaning.APPROVED: Permission.INTEGRATION_MANAGE},
    )
)


# --- validation --------------------------------------------------------------------------------


def _as_decimal(value: Any) -> Decimal | None:
    try:
        number = Decimal(str(value).replace(",", "."))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def check_value(definition: dict[str, Any], value: Any, where: str) -> list[FieldError]:
    """The problems of one present value against its definition."""
    kind = definition["type"]
    rules = definition.get("rules") or {}
    label = definition["labels"].get("en", definition["name"])
    text = value.isoformat() if isinstance(value, date) else str(value).strip()
    if kind in _DIGITS:
        if (
            not text.isdigit()
            or len(text) not in _DIGITS[kind]
            or gs1_check_digit(text[:-1]) != text[-1]
        ):
            return [
                field_problem(
                    where,
                    Code.DICTIONARY_TYPE,
                    "{value} is not a valid {type}.",
                    value=text,
                    type=kind.upper(),
                )
            ]
    elif kind in ("integer", "decimal"):
        number = _as_decimal(value)
        if number is None or (kind == "integer" and number != number.to_integral_value()):
            return [
                field_problem(
                    where, Code.DICTIONARY_TYPE, "{value} is not a {type}.", value=text, type=kind
                )
            ]
        if "min" in rules and number < Decimal(str(rules["min"])):
            return [
                field_problem(
                    where,
                    Code.DICTIONARY_MIN,
                    "{field} is at least {limit}.",
                    field=label,
                    limit=rules["min"],
                )
            ]
        if "max" in rules and number > Decimal(str(rules["max"])):
            return [
                field_problem(
                    where,
                    Code.DICTIONARY_MAX,
                    "{field} is at most {limit}.",
                    field=label,
                    limit=rules["max"],
                )
            ]
    elif kind == "date" and not isinstance(value, date):
        try:
            date.fromisoformat(text)
        except ValueError:
            return [
                field_problem(where, Code.DICTIONARY_TYPE, "{value} is not a date.", value=text)
            ]
    elif kind == "enum" and text not in [str(v) for v in rules.get("values", [])]:
        return [
            field_problem(
                where,
                Code.DICTIONARY_VALUE,
                "{value} is not one of {values}.",
                value=text,
                values=", ".join(str(v) for v in rules.get("values", [])),
            )
        ]
    if "max_length" in rules and len(text) > int(rules["max_length"]):
        return [
            field_problem(
                where,
                Code.DICTIONARY_MAX_LENGTH,
                "{field} has at most {limit} characters.",
                field=label,
                limit=rules["max_length"],
            )
        ]
    if "pattern" in rules and not re.fullmatch(str(rules["pattern"]), text):
        return [
            field_problem(
                where,
                Code.DICTIONARY_PATTERN,
                "{value} does not have the form of {field}.",
                value=text,
                field=label,
            )
        ]
    return []


def check_record(
    version: Version,
    entity: str,
    values: dict[str, Any],
    where: Any,
    *,
    check_required: bool = False,
) -> list[FieldError]:
    """The problems of ``values`` (field name -> value) of ``entity`` under ``version``;
    ``where(name)`` gives each field's path. Values that are absent or empty are only
    checked for ``required`` when ``check_required``."""
    errors: list[FieldError] = []
    for definition in version.fields:
        if definition["entity"] != entity:
            continue
        name = definition["name"]
        value = values.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if check_required and (definition.get("rules") or {}).get("required"):
                errors.append(
                    field_problem(
                        where(name),
                        Code.DICTIONARY_REQUIRED,
                        "{field} is required.",
                        field=definition["labels"].get("en", name),
                    )
                )
            continue
        errors += check_value(definition, value, where(name))
    return errors


# --- impact of a change on saved import mappings ----------------------------------------------


def impact(session: Session, principal: Principal, number: int) -> list[dict[str, Any]]:
    """The partners' saved import mappings that version ``number`` breaks, compared with the
    version in force: a mapped field it no longer declares, or a field it newly requires that
    the mapping does not map."""
    _require_hub(principal)
    new = get_version(session, principal, number)
    current = active(session, principal.tenant_id)

    def declared(version: Version, entity: str) -> dict[str, dict[str, Any]]:
        return {f["name"]: f for f in version.fields if f["entity"] == entity}

    broken = []
    rows = session.execute(
        select(ImportMapping, Party.name)
        .join(Party, Party.id == ImportMapping.party_id)
        .where(ImportMapping.tenant_id == principal.tenant_id)
        .order_by(Party.name, ImportMapping.name)
    ).all()
    for mapping, party_name in rows:
        entity = IMPORT_ENTITIES.get(mapping.entity)
        if entity is None:
            continue
        now_fields, then_fields = declared(new, entity), declared(current, entity)
        mapped = set(mapping.columns.values())
        problems = [
            {
                "field": name,
                "problem": "removed",
                "columns": sorted(c for c, f in mapping.columns.items() if f == name),
            }
            for name in sorted(mapped)
            if name in then_fields and name not in now_fields
        ]
        problems += [
            {"field": name, "problem": "newly_required", "columns": []}
            for name, definition in sorted(now_fields.items())
            if (definition.get("rules") or {}).get("required")
            and not (then_fields.get(name, {}).get("rules") or {}).get("required")
            and name not in mapped
        ]
        if problems:
            broken.append(
                {
                    "party_id": mapping.party_id,
                    "party_name": party_name,
                    "mapping": mapping.name,
                    "entity": mapping.entity,
                    "problems": problems,
                }
            )
    return broken


# --- JSON Schema ---------------------------------------------------------------------------------


def _property(definition: dict[str, Any]) -> dict[str, Any]:
    kind, rules = definition["type"], definition.get("rules") or {}
    prop: dict[str, Any] = {
        "title": definition["labels"].get("en", definition["name"]),
        "x-labels": definition["labels"],
    }
    if definition.get("unit"):
        prop["x-unit"] = definition["unit"]
    if definition.get("gs1_ai"):
        prop["x-gs1-ai"] = definition["gs1_ai"]
    if kind == "integer":
        prop["type"] = "integer"
    elif kind == "decimal":
        prop["type"] = ["number", "string"]
    elif kind == "date":
        prop.update(type="string", format="date")
    elif kind == "enum":
        prop["enum"] = list(rules.get("values", []))
    elif kind in _DIGITS:
        lengths = _DIGITS[kind]
        prop.update(type="string", pattern=r"^(" + "|".join(rf"\d{{{n}}}" for n in lengths) + r")$")
    else:
        prop["type"] = "string"
    if "min" in rules:
        prop["minimum"] = rules["min"]
    if "max" in rules:
        prop["maximum"] = rules["max"]
    if "max_length" in rules:
        prop["maxLength"] = rules["max_length"]
    if "pattern" in rules:
        prop["pattern"] = rules["pattern"]
    return prop


def json_schema(version: Version) -> dict[str, Any]:
    """The version as a JSON Schema (2020-12): one definition per entity."""
    defs: dict[str, Any] = {}
    for entity in ENTITIES:
        fields = [f for f in version.fields if f["entity"] == entity]
        if not fields:
            continue
        defs[entity] = {
            "type": "object",
            "properties": {f["name"]: _property(f) for f in fields},
            "required": [f["name"] for f in fields if (f.get("rules") or {}).get("required")],
        }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:medledger:data-dictionary:{version.number}",
        "title": f"MedLedger data dictionary, version {version.number}",
        "x-effective-from": version.effective_from.isoformat(),
        "x-status": version.status,
        "$defs": defs,
    }
