"""Audit by construction.

A SQLAlchemy ``after_flush`` listener turns every insert, update and delete of a model marked
``__audit__ = True`` into an audit entry written on the same connection, so in the same
transaction as the change. The acting principal and the reason come from the unit of work
(``core.work.work_of``), set by whoever opened the transaction; a flush of audited changes
without a principal is refused, so no change goes unattributed.

Entries are chained per tenant: ``entry_hash = sha256(canonical_json(entry) )`` where the entry
includes ``prev_hash``. :func:`verify_chain` walks a tenant's chain and names the first entry
that was edited, deleted, inserted or reordered.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import bindparam, event, insert, inspect, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from medledger.compliance.models import AuditEntry, AuditHead
from medledger.core.db import utcnow
from medledger.core.work import Actor, SystemActor, work_of

__all__ = ["Actor", "SystemActor", "append_entries", "record", "verify_chain"]

GENESIS_HASH = "0" * 64
REDACTED = "***"


class UnattributedChange(RuntimeError):
    """An audited change was flushed without an acting principal in its unit of work."""


# JSON-native types, matched exactly (not subclasses such as enums): passed through as they are.
_NATIVE = frozenset({str, int, float, bool, type(None)})


def _json_value(value: Any) -> Any:
    kind = type(value)
    if kind in _NATIVE:
        return value
    if kind is list or kind is tuple:
        return [v if type(v) in _NATIVE else _json_value(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value


def canonical_json(data: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 kept: the byte string that gets hashed."""
    return json.dumps(_json_value(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_digest(entry: dict[str, Any]) -> str:
    """SHA-256 of an entry's canonical JSON (the entry includes ``prev_hash``)."""
    fields = {
        "tenant_id": entry["tenant_id"],
        "seq": entry["seq"],
        "occurred_at": entry["occurred_at"],
        "actor_user_id": entry["actor_user_id"],
        "actor_label": entry["actor_label"],
        "action": entry["action"],
        "entity_type": entry["entity_type"],
        "entity_id": str(entry["entity_id"]),
        "old_values": entry["old_values"],
        "new_values": entry["new_values"],
        "reason": entry["reason"] or "",
        "prev_hash": entry["prev_hash"],
    }
    return hashlib.sha256(canonical_json(fields).encode("utf-8")).hexdigest()


def _column_values(obj: Any) -> dict[str, Any]:
    mapper = inspect(obj).mapper
    redact: frozenset[str] = getattr(obj, "__audit_redact__", frozenset())
    values: dict[str, Any] = {}
    for attr in mapper.column_attrs:
        key = attr.key
        value = getattr(obj, key)
        values[key] = REDACTED if key in redact and value is not None else _json_value(value)
    return values


def _changed_values(obj: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    state = inspect(obj)
    redact: frozenset[str] = getattr(obj, "__audit_redact__", frozenset())
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        if attr.key in ("updated_at",):
            continue
        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue
        before = history.deleted[0] if history.deleted else None
        after = history.added[0] if history.added else None
        if _json_value(before) == _json_value(after):
            continue
        if attr.key in redact:
            before, after = REDACTED, REDACTED
        old[attr.key] = _json_value(before)
        new[attr.key] = _json_value(after)
    return old, new


def _entity_type(obj: Any) -> str:
    return str(getattr(obj, "__audit_entity__", obj.__tablename__))


def _primary_key(obj: Any) -> str:
    # The identity key is not assigned yet inside after_flush; the column values are.
    values = inspect(obj).mapper.primary_key_from_instance(obj)
    return ":".join(str(part) for part in values)


def append_entries(
    connection: Connection,
    tenant_id: int,
    actor: Actor,
    rows: Iterable[dict[str, Any]],
    reason: str,
) -> int:
    """Append ``rows`` (action, entity_type, entity_id, old_values, new_values) to a tenant's
    chain on ``connection``. Returns how many were written."""
    rows = list(rows)
    if not rows:
        return 0
    head_stmt = _HEAD_FOR_UPDATE if connection.dialect.name == "postgresql" else _HEAD
    head = connection.execute(head_stmt, {"tenant_id": tenant_id}).first()
    if head is None:
        seq, prev_hash = 0, GENESIS_HASH
    else:
        seq, prev_hash = int(head[0]), str(head[1])
    first_seq = seq
    now = utcnow()
    to_insert = []
    for row in rows:
        seq += 1
        entry = {
            "tenant_id": tenant_id,
            "seq": seq,
            "occurred_at": now.isoformat(),
            "actor_user_id": actor.user_id,
            "actor_label": actor.label,
            "action": row["action"],
            "entity_type": row["entity_type"],
            "entity_id": str(row["entity_id"]),
            "old_values": row.get("old_values"),
            "new_values": row.get("new_values"),
            "reason": reason or "",
            "prev_hash": prev_hash,
        }
        entry_hash = entry_digest(entry)
        to_insert.append({**entry, "occurred_at": now, "entry_hash": entry_hash})
        prev_hash = entry_hash
    connection.execute(_INSERT_ENTRIES, to_insert)
    if first_seq == 0 and head is None:
        connection.execute(
            _INSERT_HEAD, [{"tenant_id": tenant_id, "last_seq": seq, "last_hash": prev_hash}]
        )
    else:
        connection.execute(
            _UPDATE_HEAD, {"b_tenant_id": tenant_id, "b_last_seq": seq, "b_last_hash": prev_hash}
        )
    return len(to_insert)


# Built once (every audited write runs them; building a statement costs more than running it).
_HEAD: Any = select(AuditHead.last_seq, AuditHead.last_hash).where(
    AuditHead.tenant_id == bindparam("tenant_id")
)
_HEAD_FOR_UPDATE: Any = _HEAD.with_for_update()
_INSERT_ENTRIES: Any = insert(AuditEntry)
_INSERT_HEAD: Any = insert(AuditHead)
_UPDATE_HEAD: Any = (
    update(AuditHead)
    .where(AuditHead.tenant_id == bindparam("b_tenant_id"))
    .values(last_seq=bindparam("b_last_seq"), last_hash=bindparam("b_last_hash"))
)


def record(
    session: Session,
    *,
    tenant_id: int,
    action: str,
    entity_type: str,
    entity_id: str | int,
    old_values: dict[str, Any] | None = None,
    new_values: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    """Write one explicit entry (for actions that are not a row change, such as an EPCIS capture
    summary or a login) in the session's transaction, attributed to its principal."""
    actor = _actor_of(session)
    append_entries(
        session.connection(),
        tenant_id,
        actor,
        [
            {
                "action": action,
                "entity_type": entity_type,
                "entity_id": entity_id,
                "old_values": old_values,
                "new_values": new_values,
            }
        ],
        reason if reason is not None else work_of(session).reason,
    )


def _actor_of(session: Session) -> Actor:
    actor = work_of(session).actor
    if actor is None:
        raise UnattributedChange("audited change without an acting principal in its unit of work")
    return actor


def _after_flush(session: Session, _flush_context: Any) -> None:
    if session.info.get("audit_disabled"):
        return
    by_tenant: dict[int, list[dict[str, Any]]] = {}
    for obj in session.new:
        if getattr(obj, "__audit__", False):
            by_tenant.setdefault(obj.tenant_id, []).append(
                {
                    "action": "create",
                    "entity_type": _entity_type(obj),
                    "entity_id": _primary_key(obj),
                    "old_values": None,
                    "new_values": _column_values(obj),
                }
            )
    for obj in session.dirty:
        if not getattr(obj, "__audit__", False) or not session.is_modified(obj):
            continue
        old, new = _changed_values(obj)
        if not new:
            continue
        action = "update"
        if new.get("active") is False and len(new) == 1:
            action = "deactivate"
        elif new.get("active") is True and len(new) == 1:
            action = "reactivate"
        by_tenant.setdefault(obj.tenant_id, []).append(
            {
                "action": action,
                "entity_type": _entity_type(obj),
                "entity_id": _primary_key(obj),
                "old_values": old,
                "new_values": new,
            }
        )
    for obj in session.deleted:
        if getattr(obj, "__audit__", False):
            by_tenant.setdefault(obj.tenant_id, []).append(
                {
                    "action": "delete",
                    "entity_type": _entity_type(obj),
                    "entity_id": _primary_key(obj),
                    "old_values": _column_values(obj),
                    "new_values": None,
                }
            )
    if not by_tenant:
        return
    actor = _actor_of(session)
    reason = work_of(session).reason
    connection = session.connection()
    for tenant_id in sorted(by_tenant):
        append_entries(connection, tenant_id, actor, by_tenant[tenant_id], reason)


event.listen(Session, "after_flush", _after_flush)


# ---------------------------------------------------------------------------------------------
# Verification


@dataclass(frozen=True)
class ChainBreak:
    """The first place where a tenant's chain does not hold."""

    tenant_id: int
    seq: int | None
    entry_id: int | None
    kind: str  # edited | deleted | inserted | reordered | truncated
    detail: str


@dataclass(frozen=True)
class ChainReport:
    tenant_id: int
    entries: int
    head_seq: int
    broken: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def _rows(connection: Connection, tenant_id: int) -> Iterator[dict[str, Any]]:
    result = connection.execute(
        select(AuditEntry).where(AuditEntry.tenant_id == tenant_id).order_by(AuditEntry.seq)
    )
    for row in result.mappings():
        yield dict(row)


def _original_seq(entry: dict[str, Any], window: int = 1000) -> int | None:
    """If only ``seq`` was changed (a moved entry), find the seq the entry was hashed with."""
    stored = int(entry["seq"])
    for candidate in range(max(1, stored - window), stored + window + 1):
        if candidate != stored and entry_digest({**entry, "seq": candidate}) == entry["entry_hash"]:
            return candidate
    return None


def verify_chain(connection: Connection, tenant_id: int) -> ChainReport:
    """Walk one tenant's chain in ``seq`` order and report the first break, if any."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    count = 0
    last_id_order: int | None = None
    for row in _rows(connection, tenant_id):
        count += 1
        entry = dict(row)
        entry["occurred_at"] = row["occurred_at"].isoformat()
        recomputed = entry_digest(entry)
        if row["seq"] != expected_seq:
            kind = "deleted" if row["seq"] > expected_seq else "inserted"
            return ChainReport(
                tenant_id,
                count,
                0,
                ChainBreak(
                    tenant_id,
                    row["seq"],
                    row["id"],
                    kind,
                    f"expected seq {expected_seq}, found {row['seq']}",
                ),
            )
        if recomputed != row["entry_hash"]:
            kind, detail = "edited", "content does not match its hash"
            original_seq = _original_seq(entry)
            if original_seq is not None:
                kind = "reordered"
                detail = f"entry was written as seq {original_seq}"
            return ChainReport(
                tenant_id, count, 0, ChainBreak(tenant_id, row["seq"], row["id"], kind, detail)
            )
        if row["prev_hash"] != prev_hash:
            kind = (
                "reordered"
                if last_id_order is not None and row["id"] < last_id_order
                else "inserted"
            )
            return ChainReport(
                tenant_id,
                count,
                0,
                ChainBreak(
                    tenant_id, row["seq"], row["id"], kind, "does not link to the previous entry"
                ),
            )
        if last_id_order is not None and row["id"] < last_id_order:
            return ChainReport(
                tenant_id,
                count,
                0,
                ChainBreak(tenant_id, row["seq"], row["id"], "reordered", "entry ids out of order"),
            )
        last_id_order = row["id"]
        prev_hash = row["entry_hash"]
        expected_seq += 1
    head = connection.execute(
        select(AuditHead.last_seq, AuditHead.last_hash).where(AuditHead.tenant_id == tenant_id)
    ).first()
    head_seq = int(head[0]) if head else 0
    head_hash = str(head[1]) if head else GENESIS_HASH
    if head_seq != expected_seq - 1 or head_hash != prev_hash:
        return ChainReport(
            tenant_id,
            count,
            head_seq,
            ChainBreak(
                tenant_id,
                expected_seq,
                None,
                "deleted",
                f"chain ends at seq {expected_seq - 1} but its head records seq {head_seq}",
            ),
        )
    return ChainReport(tenant_id, count, head_seq, None)
