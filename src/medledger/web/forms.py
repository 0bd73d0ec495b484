"""HTML forms parsed into the same pydantic schemas the API uses, with the API's messages.

A form is posted with flat names; dotted names build nested rows (``lines.0.component_gtin``),
exactly the paths the API reports in its field errors, so one error maps to one input.
Field errors come from ``core.problems.field_errors_from_pydantic`` (schema rules) or from a
``DomainError``'s ``errors`` (service rules) and are translated with ``core.i18n.translate``:
the form shows word for word what the API's problem+json says in the same language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from medledger.core.errors import Code, DomainError, FieldError
from medledger.core.i18n import translate
from medledger.core.problems import field_errors_from_pydantic

S = TypeVar("S", bound=BaseModel)

# Error paths of a rule about the whole form rather than one input.
_FORM_LEVEL = frozenset({"", "body"})

# Fields of a form that are never part of the payload.
_CONTROL_FIELDS = frozenset({"csrf_token", "next"})


def _set_path(target: dict[str, Any], path: list[str], value: Any) -> None:
    head, rest = path[0], path[1:]
    if not rest:
        target[head] = value
        return
    child = target.setdefault(head, {})
    if isinstance(child, dict):
        _set_path(child, rest, value)


def _rows_to_list(value: dict[str, Any]) -> tuple[list[Any], list[str]]:
    """``{"0": {...}, "2": {...}}`` → the rows in order and the form index of each
    (rows whose cells were all empty never got here)."""
    indices = sorted((k for k in value if k.isdigit()), key=int)
    return [value[k] for k in indices], indices


def form_payload(
    form: FormData | None,
    *,
    mode: Literal["create", "update"] = "create",
    lists: frozenset[str] = frozenset(),
    nullable: frozenset[str] = frozenset(),
    skip: frozenset[str] = frozenset(),
    rows: frozenset[str] = frozenset(),
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The payload for a schema and the raw values to re-fill the form with.

    Empty inputs: on create they are left out (a required field then says "This field is
    required.", as the API does for a missing field); on update a ``nullable`` field is
    cleared (None) and any other empty field is sent as "" so its rule explains what is wrong.
    Cells of a row are left out when empty; rows left with nothing are dropped. A ``lists``
    field (checkboxes) with nothing ticked is an empty list; ``rows`` fields are lists of rows.
    """
    payload: dict[str, Any] = {}
    values: dict[str, Any] = {}
    if form is None:
        return payload, values
    for key in lists:
        items = [str(v).strip() for v in form.getlist(key) if str(v).strip()]
        values[key] = items
        payload[key] = items
    for key in dict.fromkeys(form.keys()):
        if key in _CONTROL_FIELDS or key in skip or key in lists:
            continue
        raw = form.get(key)
        value = raw.strip() if isinstance(raw, str) else ""
        values[key] = value
        if "." in key:
            if value:
                _set_path(payload, key.split("."), value)
            continue
        if value == "":
            if mode == "create":
                continue
            payload[key] = None if key in nullable else ""
            continue
        payload[key] = value
    for key in rows:
        nested = payload.get(key)
        rows_list, indices = _rows_to_list(nested) if isinstance(nested, dict) else ([], [])
        payload[key] = rows_list
        values[f"{key}.__indices__"] = indices
    return payload, values


@dataclass
class FormState(Generic[S]):
    """A form being shown: what the user typed and, after a rejection, the translated errors."""

    locale: str
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    message: str = ""
    code: str = ""
    status: int = 200
    data: S | None = None

    @property
    def ok(self) -> bool:
        return self.data is not None and not self.errors and not self.message

    def value(self, name: str, default: Any = "") -> Any:
        """The value to show in input ``name``: the user's input, else ``default``."""
        if name in self.values:
            return self.values[name]
        return "" if default is None else default

    def errors_for(self, name: str) -> list[str]:
        return self.errors.get(name, [])

    @property
    def all_errors(self) -> list[tuple[str, str]]:
        return [(name, message) for name, messages in self.errors.items() for message in messages]

    @property
    def field_level_errors(self) -> list[tuple[str, str]]:
        """Errors shown next to an input."""
        return [(name, message) for name, message in self.all_errors if name not in _FORM_LEVEL]

    @property
    def form_level_errors(self) -> list[str]:
        """Errors of the form as a whole (a rule across fields): no input to show them at."""
        return [message for name, message in self.all_errors if name in _FORM_LEVEL]

    def _form_field(self, path: str) -> str:
        """The input name of an error path: row numbers of the payload → rows of the form."""
        parts = path.split(".")
        if len(parts) >= 2 and parts[1].isdigit():
            indices = self.values.get(f"{parts[0]}.__indices__") or []
            position = int(parts[1])
            if position < len(indices):
                parts[1] = indices[position]
        return ".".join(parts)

    def _add(self, errors: list[FieldError]) -> None:
        for error in errors:
            message = translate(self.locale, error.message, error.params)
            self.errors.setdefault(self._form_field(error.field), []).append(message)

    def reject(self, exc: DomainError) -> None:
        """Show a service's refusal: its field errors next to the fields, its message on top."""
        self.message = translate(self.locale, exc.message, exc.params)
        self.code = exc.code
        self.status = exc.status
        self._add(exc.errors)
        self.data = None


def parse_form(
    schema: type[S],
    form: FormData | None,
    locale: str,
    *,
    mode: Literal["create", "update"] = "create",
    lists: frozenset[str] = frozenset(),
    nullable: frozenset[str] = frozenset(),
    skip: frozenset[str] = frozenset(),
    rows: frozenset[str] = frozenset(),
    extra: dict[str, Any] | None = None,
) -> FormState[S]:
    """Validate a posted form with ``schema``; ``extra`` adds values that are not inputs
    (the product of a nested page, say)."""
    payload, values = form_payload(
        form, mode=mode, lists=lists, nullable=nullable, skip=skip, rows=rows
    )
    if extra:
        payload.update(extra)
    state: FormState[S] = FormState(locale=locale, values=values)
    try:
        state.data = schema.model_validate(payload)
    except ValidationError as exc:
        state.message = translate(locale, "The request has invalid fields.")
        state.code = Code.VALIDATION_FAILED
        state.status = 422
        state._add(field_errors_from_pydantic(list(exc.errors())))
    return state


def empty_form(locale: str, values: dict[str, Any] | None = None) -> FormState[Any]:
    """A form shown for the first time, optionally pre-filled."""
    return FormState(locale=locale, values=dict(values or {}))
