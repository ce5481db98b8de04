"""Store fixtures: a fresh, migrated database per test, on SQLite and on PostgreSQL.

Every store test runs twice: on a SQLite file in the test's tmp_path (a file, not
``:memory:``, so that several connections and engines see one database) and on the
PostgreSQL server named by ``TEST_DATABASE_URL`` in a schema of its own, created for the
test and dropped after it, so parallel or repeated runs never collide. Without
``TEST_DATABASE_URL`` the PostgreSQL cases skip and say why.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from bot.store import Store, create_store_engine, upgrade_database
from bot.store._base import Sleep

PG_URL_ENV = "TEST_DATABASE_URL"


@dataclass
class StoreDatabase:
    """One empty test database; ``engine()`` opens a new engine on it (one per replica)."""

    kind: str
    url: str
    connect_args: dict[str, Any] = field(default_factory=dict)
    engines: list[AsyncEngine] = field(default_factory=list)

    def engine(self) -> AsyncEngine:
        engine = create_store_engine(self.url, connect_args=self.connect_args)
        self.engines.append(engine)
        return engine


class StoreFactory(Protocol):
    def __call__(self, *, sleep: Sleep = ...) -> Awaitable[Store]: ...


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def store_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreDatabase]:
    """An empty database (no tables yet); engines opened on it are disposed after the test."""
    if request.param == "sqlite":
        database = StoreDatabase("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
        yield database
        await _dispose(database.engines)
        return
    url = os.environ.get(PG_URL_ENV)
    if not url:
        pytest.skip(
            f"{PG_URL_ENV} is not set; the PostgreSQL store tests need a server, e.g. "
            f"{PG_URL_ENV}=postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        )
    schema = f"hb_test_{secrets.token_hex(6)}"
    admin = create_async_engine(url, poolclass=NullPool)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    database = StoreDatabase(
        "postgresql", url, connect_args={"server_settings": {"search_path": schema}}
    )
    try:
        yield database
    finally:
        await _dispose(database.engines)
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture
async def store_factory(store_db: StoreDatabase) -> StoreFactory:
    """Migrates the test database once; each call returns a Store on an engine of its own,
    i.e. another replica of the bot on the same database."""
    await upgrade_database(store_db.engine())

    async def make(*, sleep: Sleep | None = None) -> Store:
        engine = store_db.engine()
        return Store(engine) if sleep is None else Store(engine, sleep=sleep)

    return make


@pytest.fixture
async def store(store_factory: StoreFactory) -> Store:
    return await store_factory()


@pytest.fixture
async def other_store(store_factory: StoreFactory) -> Store:
    """A second replica on the same database as ``store``."""
    return await store_factory()


async def _dispose(engines: list[AsyncEngine]) -> None:
    for engine in engines:
        await engine.dispose()
