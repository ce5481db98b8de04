"""The Store: the repository the engine, relay and adapters use; one object per process."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store._base import Sleep, asyncio_sleep, resolve_now
from bot.store.accounts import AccountStore
from bot.store.actions import ActionStore
from bot.store.conversations import ConversationStore
from bot.store.coordination import CoordinationStore
from bot.store.engine import create_store_engine
from bot.store.messages import MessageStore, append_in
from bot.store.migrate import upgrade_database
from bot.store.outcomes import OutcomeStore
from bot.store.records import Conversation, Message, conversation_from_row


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

    async def receive_inbound(
        self,
        channel: str,
        conversation_key: str,
        *,
        user_key: str,
        address: Mapping[str, Any] | None,
        content: str,
        event_id: str | None,
        author: str | None = None,
        now: datetime | None = None,
    ) -> tuple[Conversation, Message | None, bool]:
        """A user's message arriving, stored first thing in a turn, in one transaction:
        `get_or_create_conversation` then `add_inbound_message` (deduplicated by
        ``event_id``; ``created`` is False for a replay). The conversation is as it was
        before the message was added.

        A conversation belongs to the user who started it: a message from anyone else (a
        shared thread, a group chat) is not stored in it — the message is None."""
        now = resolve_now(now)
        async with self._writing() as session:
            row = await self._get_or_create_in(
                session, channel, conversation_key, user_key=user_key, address=address, now=now
            )
            conversation = conversation_from_row(row)
            if conversation.user_key != user_key:
                return conversation, None, False
            message, created = await append_in(
                session,
                conversation.id,
                role="user",
                content=content,
                status="pending",
                event_id=event_id,
                now=now,
                author=author,
                locked=True,  # read FOR UPDATE by _get_or_create_in
            )
        return conversation, message, created

    async def ping(self) -> None:
        """Raise unless the database answers (for /readyz)."""
        async with self._engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
