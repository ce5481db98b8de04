"""Shared plumbing of the repository: engine, read/write transactions, clock, upserts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.store.engine import WRITE_OPTION, DialectInsert, dialect_insert
from bot.store.models import Base
from bot.store.types import utcnow

Sleep = Callable[[float], Awaitable[None]]
asyncio_sleep: Sleep = asyncio.sleep


class StoreBase:
    """Owns the engine; every public method runs in one short transaction of its own."""

    def __init__(self, engine: AsyncEngine, *, sleep: Sleep = asyncio_sleep) -> None:
        self._engine = engine
        # Write transactions start with BEGIN IMMEDIATE on SQLite (see bot.store.engine).
        writer = engine.execution_options(**{WRITE_OPTION: True})
        self._read_sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._write_sessions = async_sessionmaker(writer, expire_on_commit=False)
        self._sleep = sleep

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncSession]:
        async with self._read_sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncSession]:
        async with self._write_sessions() as session, session.begin():
            yield session

    def _insert(self, model: type[Base]) -> DialectInsert:
        return dialect_insert(self._engine, model)


def resolve_now(now: datetime | None) -> datetime:
    """``now`` if the caller controls the clock (tests, one timestamp per turn), else UTC now."""
    if now is None:
        return utcnow()
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now
