"""The record page pattern: breadcrumbs, a header with status badges, related records as
links with names, and a history panel with the record's own audit entries.

Templates use the macros of ``_record.html``; handlers pass ``history=record_history(...)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from medledger.core.principal import Permission, Principal
from medledger.web.labels import AUDIT_ACTION_LABELS, FIELD_LABELS, label
from medledger.web.ui import Ui

HISTORY_LIMIT = 50
# Bookkeeping columns every audited row has: the panel says what changed, not these.
_NOISE = frozenset({"id", "tenant_id", "created_at", "updated_at"})


@dataclass(frozen=True)
class Change:
    """One field of an audit entry: its translated name, old and new value (as text)."""

    field: str
    label: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class HistoryEntry:
    """One audit entry of a record, ready to show."""

    seq: int
    occurred_at: Any
    actor: str
    action: str
    action_label: str
    changes: list[Change]
    reason: str


def _text(ui: Ui, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return ui._("yes") if value else ui._("no")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def changes_of(ui: Ui, entry: Any) -> list[Change]:
    """The fields an audit entry mentions, bookkeeping left out, in a stable order."""
    old = entry.old_values or {}
    new = entry.new_values or {}
    keys = sorted((set(old) | set(new)) - _NOISE)
    return [
        Change(
            key,
            ui._(label(FIELD_LABELS, key)),
            _text(ui, old.get(key)) if entry.old_values is not None else None,
            _text(ui, new.get(key)) if entry.new_values is not None else None,
        )
        for key in keys
    ]


#: Reads the newest audit entries of one record: ``(session, principal, entity_type, entity_id,
#: limit)`` → entries with ``seq``, ``occurred_at``, ``actor_label``, ``action``, ``reason`` and
#: old/new values. The audit trail's package registers it (``compliance/views.py``), so the
#: toolkit imports no domain package.
HistorySource = Callable[[Session, Principal, str, str, int], Sequence[Any]]
_history_source: HistorySource | None = None


def register_history_source(source: HistorySource) -> None:
    """Where history panels read a record's audit entries (one source per application)."""
    global _history_source
    _history_source = source


def record_history(
    ui: Ui, entity_type: str, entity_id: Any, limit: int = HISTORY_LIMIT
) -> list[HistoryEntry] | None:
    """The newest audit entries of one record, or None when the user may not read the trail
    (the panel is then not shown at all)."""
    principal = ui.principal
    if principal is None or not principal.can(Permission.AUDIT_READ):
        return None
    if _history_source is None:
        return None
    items = _history_source(ui.session, principal, entity_type, str(entity_id), limit)
    return [
        HistoryEntry(
            seq=entry.seq,
            occurred_at=entry.occurred_at,
            actor=entry.actor_label,
            action=entry.action,
            action_label=ui._(label(AUDIT_ACTION_LABELS, entry.action)),
            changes=changes_of(ui, entry),
            reason=entry.reason or "",
        )
        for entry in items
    ]
