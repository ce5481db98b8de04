"""The Store: the repository the engine, relay and adapters use; one object per process."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store._base import Sleep, asyncio_sleep
from bot.store.accounts import AccountStore
from bot.store.actions import ActionStore
from bot.store.conversations import ConversationStore
from bot.store.coordination import CoordinationStore
from bot.store.engine import create_store_engine
from bot.store.messages import MessageStore
from bot.store.migrate import upgrade_database
from bot.store.outcomes import OutcomeStore


class Store(
    ConversationStore, MessageStore, ActionStore, CoordinationStore, AccountStore, OutcomeStore
):
    """Async repository over SQLite or PostgreSQL; returns frozen records, never ORM rows.

    Build it with ``await Store.open(url)`` (creates the engine, applies migrations, and
    closes the engine on ``aclose``), or ``Store(engine)`` over an engine you own.
    """

    def __init__(
        self, engine: AsyncEngine, *, sleep: Sleep = asyncio_sleep, owns_engine: bool = False
    ) -> None:
        super().__init__(engine, sleep=sleep)
        self._owns_engine = owns_engine

    @classmethod
    async def open(cls, url: str, *, upgrade: bool = True) -> Store:
        """Connect to ``url`` (``sqlite+aiosqlite:///path`` or ``postgresql+asyncpg://...``)
        and, unless ``upgrade=False``, bring the schema to the latest migration."""
        engine = create_store_engine(url)
        try:
            if upgrade:
                await upgrade_database(engine)
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine, owns_engine=True)

    async def aclose(self) -> None:
        if self._owns_engine:
            await self._engine.dispose()

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def ping(self) -> None:
        """Raise unless the database answers (for /readyz)."""
        async with self._engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
