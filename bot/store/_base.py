"""Shared plumbing of the repository: engine, read/write transactions, clock, upserts.

A store call that loses its database connection (a server restart or failover, an idle
connection cut by a proxy, `pg_terminate_backend`) before it could have written anything
is run once more on a fresh connection: every public coroutine of a store class is wrapped
so (`__init_subclass__`). "Could have written" means a write transaction of the call reached
its COMMIT: after that the outcome is unknown and the error is raised as it is. Idle pooled
connections that died are replaced before use by the engine's pre-ping (`bot.store.engine`).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.store.engine import WRITE_OPTION, DialectInsert, dialect_insert
from bot.store.models import Base
from bot.store.types import utcnow

Sleep = Callable[[float], Awaitable[None]]
asyncio_sleep: Sleep = asyncio.sleep

log = logging.getLogger(__name__)

# Write transactions of the running store call that reached COMMIT (None: no call running).
_commits: ContextVar[list[int] | None] = ContextVar("store_call_commits", default=None)


def _once_more_on_disconnect(method: Callable[..., Awaitable[Any]]) -> Callable[..., Any]:
    @functools.wraps(method)
    async def call(*args: Any, **kwargs: Any) -> Any:
        if _commits.get() is not None:  # a store call inside another: the outer one decides
            return await method(*args, **kwargs)
        commits = [0]
        token = _commits.set(commits)
        try:
            try:
                return await method(*args, **kwargs)
            except DBAPIError as exc:
                if not exc.connection_invalidated or commits[0]:
                    raise
                log.warning("Store %s lost its connection; trying once more", method.__name__)
            return await method(*args, **kwargs)
        finally:
            _commits.reset(token)

    return call


class StoreBase:
    """Owns the engine; every public method runs in one short transaction of its own."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, value in list(vars(cls).items()):
            if not name.startswith("_") and inspect.iscoroutinefunction(value):
                setattr(cls, name, _once_more_on_disconnect(value))

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
            commits = _commits.get()
            if commits is not None:  # COMMIT follows: from here the write may have happened
                commits[0] += 1

    def _insert(self, model: type[Base]) -> DialectInsert:
        return dialect_insert(self._engine, model)


def resolve_now(now: datetime | None) -> datetime:
    """``now`` if the caller controls the clock (tests, one timestamp per turn), else UTC now."""
    if now is None:
        return utcnow()
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now
