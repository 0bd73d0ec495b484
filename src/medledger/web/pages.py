"""Helpers every context's page handlers share (they used to live in ``parties.views``)."""

from __future__ import annotations

from typing import Any

from medledger.core.errors import DomainError
from medledger.core.principal import Principal
from medledger.core.work import work_of
from medledger.web.forms import FormState
from medledger.web.labels import label
from medledger.web.lists import active_filter, page_number
from medledger.web.ui import Ui

__all__ = ["active_filter", "options", "page_number", "set_reason", "submit", "who"]


def who(ui: Ui) -> Principal:
    """The logged-in principal of a page."""
    assert ui.principal is not None
    return ui.principal


def options(ui: Ui, table: dict[str, str], codes: Any) -> list[tuple[str, str]]:
    """``(code, translated name)`` pairs for a select or checkboxes."""
    return [(str(code), ui._(label(table, str(code)))) for code in codes]


def set_reason(ui: Ui) -> None:
    """The reason typed next to a deactivate button goes into the audit entry."""
    reason = ui.form.get("reason") if ui.form is not None else None
    if isinstance(reason, str) and reason.strip():
        work_of(ui.session).give_reason(reason.strip()[:500])


def submit(ui: Ui, state: FormState[Any], action: Any) -> Any:
    """Run ``action(data)`` if the form parsed; a refusal is shown on the form and undone."""
    if state.data is None:
        return None
    try:
        return action(state.data)
    except DomainError as exc:
        ui.discard_changes()
        state.reject(exc)
        return None
