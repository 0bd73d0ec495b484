"""The baseline of bench/bench_api.py: a minimal FastAPI app on the same database.

``GET /items`` runs one indexed SELECT (the first 50 rows by primary key) and ``POST /items``
one INSERT of a validated JSON body (the same body the product endpoint receives; unknown
fields ignored). Plain ``def`` endpoints (FastAPI's thread pool), each opening a SQLAlchemy session
and committing it before it returns (so no connection is held while FastAPI validates the
response), the engine from ``medledger.core.db.make_engine`` (the
same pool, SQLite pragmas and writer queue as the product): what any FastAPI service on this
stack pays, and nothing of MedLedger's own (no authentication, scoping, audit or paging).

    MEDLEDGER_BENCH_DATABASE_URL=… uvicorn bench.api.minimal_app:app
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from medledger.core.db import make_engine, make_session_factory

TABLE = "bench_minimal_items"
CREATE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    " id INTEGER PRIMARY KEY, tenant_id INTEGER NOT NULL, gtin VARCHAR(14) NOT NULL UNIQUE,"
    " name VARCHAR(200) NOT NULL, storage_class VARCHAR(16) NOT NULL)"
)
CREATE_TABLE_POSTGRES = CREATE_TABLE.replace("id INTEGER PRIMARY KEY", "id BIGSERIAL PRIMARY KEY")

app = FastAPI()


@lru_cache(maxsize=1)
def _factory() -> sessionmaker[Session]:
    return make_session_factory(make_engine(os.environ["MEDLEDGER_BENCH_DATABASE_URL"]))


class ItemIn(BaseModel):
    gtin: str = Field(min_length=8, max_length=14, pattern=r"^[0-9]+$")
    name: str = Field(min_length=1, max_length=200)
    storage_class: str = Field(max_length=16)


@app.get("/items")
def list_items() -> list[dict[str, Any]]:
    with _factory()() as session, session.begin():
        rows = session.execute(
            text(f"SELECT id, gtin, name, storage_class FROM {TABLE} ORDER BY id LIMIT 50")
        ).mappings()
        return [dict(row) for row in rows]


@app.post("/items", status_code=201)
def create_item(item: ItemIn) -> dict[str, Any]:
    with _factory()() as session, session.begin():
        new_id = session.execute(
            text(
                f"INSERT INTO {TABLE} (tenant_id, gtin, name, storage_class)"
                " VALUES (1, :gtin, :name, :storage_class) RETURNING id"
            ),
            item.model_dump(),
        ).scalar_one()
    return {"id": new_id, **item.model_dump()}
