"""Trace snapshots shared through memory-mapped files (trace/snapshot_files.py): a second
process maps what the first saved, answers the same, and follows the ledger from there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from tests.builders import token_headers
from tests.trace.epcis_scenario import _base, capture, document, sgtin_urn, sscc_number
from tests.trace.test_sql_path import IDENTIFIERS, USERS, _tenant_of
from tests.trace.test_trace_e2e import FINISHED, build

from medledger.trace import snapshot as snapshot_module
from medledger.trace import snapshot_files
from medledger.trace.snapshot import SNAPSHOTS, SnapshotCache

DL = "https://id.gs1.org"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    SNAPSHOTS.clear()
    yield
    SNAPSHOTS.wait_saved()
    SNAPSHOTS.clear()


def answers(client: TestClient) -> dict[tuple[str, str, str], Any]:
    found: dict[tuple[str, str, str], Any] = {}
    for user in USERS:
        headers = token_headers(client, user)
        for identifier in IDENTIFIERS:
            for direction in ("upstream", "downstream", "both"):
                response = client.get(
                    "/api/v1/trace",
                    params={"id": identifier, "direction": direction},
                    headers=headers,
                )
                found[(user, identifier, direction)] = (response.status_code, response.json())
    return found


def mapped(snapshot: Any) -> bool:
    """Whether every large array of the snapshot is a read-only file mapping."""
    arrays = [
        snapshot.graph.item_ids,
        snapshot.graph.down.neighbour,
        snapshot.graph.up.indptr,
        snapshot.items.ids,
        snapshot.items.key,
        snapshot.events.event_ids,
    ]
    return all(isinstance(array.base, np.memmap) and not array.flags.writeable for array in arrays)


def test_a_second_process_maps_the_saved_snapshot_and_answers_the_same(
    client: TestClient, factory: sessionmaker[Session], engine: Engine, tmp_path: Path
) -> None:
    # given the network traced by a process that shares its snapshots through files
    build(client, factory)
    tenant = _tenant_of(factory)
    from_memory = answers(client)
    SNAPSHOTS.clear()
    SNAPSHOTS.use_files(engine, tmp_path)
    first = answers(client)
    # then its snapshot was saved once, and what it holds now is the mapped file
    [version] = list(snapshot_files.tenant_dir(tmp_path, _key(engine), tenant).iterdir())
    assert version.name.startswith("v")
    assert mapped(SNAPSHOTS.peek(engine, tenant))
    # when another process (another cache) starts on the same files
    other = SnapshotCache()
    other.use_files(engine, tmp_path)
    previous = snapshot_module.SNAPSHOTS
    snapshot_module.SNAPSHOTS = other
    try:
        second = answers(client)
        own = other.peek(engine, tenant)
    finally:
        snapshot_module.SNAPSHOTS = previous
    # then it mapped that version rather than loading from the database, and every answer
    # is the one of a snapshot held in memory
    assert own is not None and mapped(own)
    assert first == from_memory
    assert second == from_memory


def test_a_mapped_snapshot_follows_captures_and_is_saved_again(
    client: TestClient, factory: sessionmaker[Session], engine: Engine, tmp_path: Path
) -> None:
    # given a mapped snapshot of the network
    build(client, factory)
    tenant = _tenant_of(factory)
    SNAPSHOTS.use_files(engine, tmp_path)
    SNAPSHOTS.save_interval = 0.0
    try:
        before = _trace_p2(client)
        assert mapped(SNAPSHOTS.peek(engine, tenant))
        # when the hub packs S1 into P2 too, and P2 is traced again
        pack = _base(
            40,
            "AggregationEvent",
            action="ADD",
            bizStep="packing",
            parentID=f"{DL}/00/{sscc_number(2)}",
            childEPCs=[sgtin_urn(FINISHED, "S1")],
        )
        job = capture(client, token_headers(client, "acme-warehouse"), document(pack))
        assert job["state"] == "succeeded"
        after = _trace_p2(client)
        SNAPSHOTS.wait_saved()
    finally:
        SNAPSHOTS.save_interval = snapshot_module.SAVE_INTERVAL
    # then the refreshed answer has the new unit, the refreshed snapshot was saved as a new
    # version and mapped in place of this process's own copy
    assert sorted(s["serial"] for s in before["serials"]) == ["S3"]
    assert sorted(s["serial"] for s in after["serials"]) == ["S1", "S3"]
    versions = sorted(snapshot_files.tenant_dir(tmp_path, _key(engine), tenant).iterdir())
    assert len(versions) == 2
    current = SNAPSHOTS.peek(engine, tenant)
    assert current is not None and mapped(current)
    assert snapshot_files.mark_of(current) == int(versions[-1].name[1:].split("-")[0])
    # and a snapshot loaded from scratch answers the same
    SNAPSHOTS.clear()
    assert _trace_p2(client) == after


def _trace_p2(client: TestClient) -> dict[str, Any]:
    response = client.get(
        "/api/v1/trace",
        params={"id": f"(00){sscc_number(2)}", "direction": "upstream"},
        headers=token_headers(client, "acme-planner"),
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _key(engine: Engine) -> str:
    return snapshot_files.database_key(engine.url.render_as_string(hide_password=True))


def test_files_of_another_database_state_are_not_used(
    client: TestClient, factory: sessionmaker[Session], engine: Engine, tmp_path: Path
) -> None:
    # given saved files of the network
    build(client, factory)
    tenant = _tenant_of(factory)
    SNAPSHOTS.use_files(engine, tmp_path)
    expected = _trace_p2(client)
    saved = SNAPSHOTS.peek(engine, tenant)
    assert saved is not None and mapped(saved)
    # when the database no longer holds the newest event those files applied (as after a
    # restore from an older backup: here its eventID is changed)
    newest = int(saved.events.row_ids[-1])
    with engine.begin() as connection:
        connection.exec_driver_sql(
            f"UPDATE epcis_events SET event_id = 'urn:uuid:restored' WHERE id = {newest}"
        )
    SNAPSHOTS.clear()
    SNAPSHOTS.use_files(engine, tmp_path)
    again = _trace_p2(client)
    # then the files were ignored: the snapshot was loaded from the database (and saved anew)
    reloaded = SNAPSHOTS.peek(engine, tenant)
    assert reloaded is not None and mapped(reloaded)
    assert reloaded.events.facts([newest])[newest].event_id == "urn:uuid:restored"
    assert again["serials"] == expected["serials"]
