"""The audit trail is hash-chained; `medledger audit verify` detects every kind of tampering.

Tampering is done the way an attacker with database access would: straight SQL, after
disabling the append-only triggers.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from medledger.cli import app as cli
from medledger.compliance.audit import verify_chain
from tests.builders import build_network


def _without_guards(engine: Engine, *statements: str) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER audit_entries_no_update"))
            conn.execute(text("DROP TRIGGER audit_entries_no_delete"))
        for statement in statements:
            conn.execute(text(statement))
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_entries ENABLE TRIGGER USER"))


def _verify(engine: Engine, tenant_id: int):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return verify_chain(conn, tenant_id)


@pytest.fixture
def tenant_id(factory: sessionmaker[Session]) -> int:
    return build_network(factory).tenant_id


def test_intact_chain_verifies(engine: Engine, tenant_id: int) -> None:
    report = _verify(engine, tenant_id)
    assert report.ok
    # tenant created, hub party, tenant gets its owner, 2 partner parties, 10 users
    assert report.entries == report.head_seq == 15


def test_database_refuses_updates_and_deletes(engine: Engine, tenant_id: int) -> None:
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET reason = 'x' WHERE seq = 1"))
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE seq = 1"))


def test_edited_entry_is_detected(engine: Engine, tenant_id: int) -> None:
    _without_guards(
        engine,
        f"UPDATE audit_entries SET reason = 'covered up' WHERE tenant_id = {tenant_id} AND seq = 5",
    )
    report = _verify(engine, tenant_id)
    assert (report.broken.seq, report.broken.kind) == (5, "edited")


def test_edited_values_with_recomputed_hash_breaks_the_next_link(
    engine: Engine, tenant_id: int
) -> None:
    # An attacker who recomputes the entry's own hash still breaks the link of the next entry.
    from sqlalchemy import select

    from medledger.compliance.audit import entry_digest
    from medledger.compliance.models import AuditEntry

    with engine.connect() as conn:
        row = dict(
            conn.execute(
                select(AuditEntry).where(AuditEntry.tenant_id == tenant_id, AuditEntry.seq == 4)
            )
            .mappings()
            .one()
        )
    row["reason"] = "forged"
    row["occurred_at"] = row["occurred_at"].isoformat()
    forged_hash = entry_digest(row)
    _without_guards(
        engine,
        f"UPDATE audit_entries SET reason = 'forged', entry_hash = '{forged_hash}' "
        f"WHERE tenant_id = {tenant_id} AND seq = 4",
    )
    report = _verify(engine, tenant_id)
    assert (report.broken.seq, report.broken.kind) == (5, "inserted")


def test_deleted_entry_is_detected(engine: Engine, tenant_id: int) -> None:
    _without_guards(engine, f"DELETE FROM audit_entries WHERE tenant_id = {tenant_id} AND seq = 3")
    report = _verify(engine, tenant_id)
    assert (report.broken.seq, report.broken.kind) == (4, "deleted")


def test_deleted_last_entry_is_detected_by_the_head(engine: Engine, tenant_id: int) -> None:
    _without_guards(engine, f"DELETE FROM audit_entries WHERE tenant_id = {tenant_id} AND seq = 15")
    report = _verify(engine, tenant_id)
    assert (report.broken.seq, report.broken.kind) == (15, "deleted")


def test_inserted_entry_is_detected(engine: Engine, tenant_id: int) -> None:
    _without_guards(
        engine,
        f"UPDATE audit_entries SET seq = seq + 1000 WHERE tenant_id = {tenant_id} AND seq >= 7",
        f"UPDATE audit_entries SET seq = seq - 999 WHERE tenant_id = {tenant_id} AND seq >= 1007",
        "INSERT INTO audit_entries (tenant_id, seq, occurred_at, actor_user_id, actor_label, "
        "action, entity_type, entity_id, old_values, new_values, reason, prev_hash, entry_hash) "
        "SELECT tenant_id, 7, occurred_at, NULL, 'intruder', 'create', 'users', '999', NULL, "
        f"NULL, '', entry_hash, entry_hash FROM audit_entries WHERE tenant_id = {tenant_id} "
        "AND seq = 6",
    )
    report = _verify(engine, tenant_id)
    assert report.broken.seq == 7
    assert report.broken.kind in ("edited", "inserted")


def test_reordered_entries_are_detected(engine: Engine, tenant_id: int) -> None:
    _without_guards(
        engine,
        f"UPDATE audit_entries SET seq = -8 WHERE tenant_id = {tenant_id} AND seq = 8",
        f"UPDATE audit_entries SET seq = 8 WHERE tenant_id = {tenant_id} AND seq = 9",
        f"UPDATE audit_entries SET seq = 9 WHERE tenant_id = {tenant_id} AND seq = -8",
    )
    report = _verify(engine, tenant_id)
    assert (report.broken.seq, report.broken.kind) == (8, "reordered")


def test_cli_verify_exits_nonzero_naming_the_broken_entry(
    engine: Engine, tenant_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from medledger.core.config import get_settings

    monkeypatch.setenv("MEDLEDGER_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        ok = runner.invoke(cli, ["audit", "verify"])
        assert ok.exit_code == 0, ok.output
        assert f"tenant {tenant_id}: 15 entries, chain intact" in ok.output
        _without_guards(
            engine,
            f"UPDATE audit_entries SET actor_label = 'someone else' "
            f"WHERE tenant_id = {tenant_id} AND seq = 2",
        )
        broken = runner.invoke(cli, ["audit", "verify"])
        assert broken.exit_code == 1
        assert f"tenant {tenant_id}: BROKEN at seq 2" in broken.output
        assert "edited" in broken.output
    finally:
        get_settings.cache_clear()
