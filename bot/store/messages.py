"""The transcript: appending with per-conversation order and dedupe, replay, feedback."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store._base import StoreBase, resolve_now
from bot.store.errors import NotFound
from bot.store.models import ConversationRow, MessageRow
from bot.store.records import (
    Conversation,
    Feedback,
    Message,
    MessageStatus,
    NewMessage,
    Role,
    TokenUsage,
    conversation_from_row,
    message_from_row,
)

_M = MessageRow


class MessageStore(StoreBase):
    async def add_inbound_message(
        self,
        conversation_id: int,
        content: str,
        *,
        event_id: str | None,
        author: str | None = None,
        now: datetime | None = None,
    ) -> tuple[Message, bool]:
        """Persist a user's message first thing in a turn, deduplicated by ``event_id``.

        ``event_id`` is the sender's id for the message (platform event id, widget client
        message id). A replay returns the stored message and ``created=False``; its status
        tells whether the turn that answered it finished (see ``replies_for_event``).
        """
        return await self._append(
            conversation_id,
            role="user",
            content=content,
            status="pending",
            event_id=event_id,
            author=author,
            now=now,
        )

    async def add_message(
        self,
        conversation_id: int,
        *,
        role: Role,
        content: str,
        status: MessageStatus = "done",
        event_id: str | None = None,
        reply_to_id: int | None = None,
        author: str | None = None,
        tool_calls: Sequence[dict[str, Any]] | None = None,
        tool_call_id: str | None = None,
        usage: TokenUsage | None = None,
        meta: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> Message:
        """Append any message. With an ``event_id`` (e.g. the helpdesk message id of a
        relayed agent message) a second add returns the first instead of a copy."""
        message, _created = await self._append(
            conversation_id,
            role=role,
            content=content,
            status=status,
            event_id=event_id,
            reply_to_id=reply_to_id,
            author=author,
            tool_calls=list(tool_calls) if tool_calls is not None else None,
            tool_call_id=tool_call_id,
            meta=dict(meta) if meta is not None else None,
            input_tokens=usage.input_tokens if usage else None,
            output_tokens=usage.output_tokens if usage else None,
            now=now,
        )
        return message

    async def add_messages(
        self,
        conversation_id: int,
        messages: Sequence[NewMessage],
        *,
        settles: int | None = None,
        now: datetime | None = None,
    ) -> list[Message]:
        """Append several messages in one transaction (all or none), in the given order
        with consecutive ``seq``: what one turn adds after the model has answered. With
        ``settles``, that message of the conversation (the turn's inbound) is marked done
        in the same transaction."""
        if not messages:
            return []
        now = resolve_now(now)
        async with self._writing() as session:
            # The UPDATE locks the conversation row until COMMIT (SQLite: the database's
            # write lock), so concurrent appends take their seq in commit order.
            last = await session.scalar(
                update(ConversationRow)
                .where(ConversationRow.id == conversation_id)
                .values(last_seq=ConversationRow.last_seq + len(messages), last_activity_at=now)
                .returning(ConversationRow.last_seq)
                .execution_options(synchronize_session=False)
            )
            if last is None:
                raise NotFound("conversation", conversation_id)
            first = last - len(messages) + 1
            values = [
                _new_row(conversation_id, seq, message, now)
                for seq, message in enumerate(messages, start=first)
            ]
            rows = await session.scalars(insert(_M).values(values).returning(_M))
            added = sorted((message_from_row(row) for row in rows), key=lambda m: m.seq)
            if settles is not None:
                await session.execute(
                    update(_M)
                    .where(_M.id == settles, _M.conversation_id == conversation_id)
                    .values(status="done")
                    .execution_options(synchronize_session=False)
                )
            return added

    async def get_message(self, message_id: int) -> Message | None:
        async with self._reading() as session:
            row = await session.get(_M, message_id)
            return message_from_row(row) if row is not None else None

    async def set_message_status(self, message_id: int, status: MessageStatus) -> bool:
        statement = update(_M).where(_M.id == message_id).values(status=status)
        return await self._update_message(statement)

    async def set_feedback(self, conversation_id: int, message_id: int, *, value: Feedback) -> bool:
        """Record 👍 (1) or 👎 (-1) on an assistant answer of this conversation; the last
        click wins. False when no such answer exists in the conversation."""
        if value not in (-1, 1):
            raise ValueError("feedback is 1 or -1")
        statement = (
            update(_M)
            .where(
                _M.id == message_id,
                _M.conversation_id == conversation_id,
                _M.role == "assistant",
            )
            .values(feedback=value)
        )
        return await self._update_message(statement)

    async def recent_messages(self, conversation_id: int, *, limit: int) -> list[Message]:
        """The last ``limit`` messages, oldest first."""
        query = (
            select(_M)
            .where(_M.conversation_id == conversation_id)
            .order_by(_M.seq.desc())
            .limit(limit)
        )
        async with self._reading() as session:
            rows = list(await session.scalars(query))
        return [message_from_row(row) for row in reversed(rows)]

    async def conversation_with_history(
        self, conversation_id: int, *, limit: int
    ) -> tuple[Conversation | None, list[Message]]:
        """The conversation and, while the bot owns it, its last ``limit`` messages after
        the summary (oldest first), read in one transaction: a turn's view of both."""
        async with self._reading() as session:
            row = await session.get(ConversationRow, conversation_id)
            if row is None:
                return None, []
            conversation = conversation_from_row(row)
            if conversation.owner != "bot":
                return conversation, []
            query = (
                select(_M)
                .where(_M.conversation_id == conversation_id)
                .where(_M.seq > (conversation.summary_up_to_seq or 0))
                .order_by(_M.seq.desc())
                .limit(limit)
            )
            rows = list(await session.scalars(query))
        return conversation, [message_from_row(row) for row in reversed(rows)]

    async def messages_after(
        self, conversation_id: int, *, after_seq: int, limit: int = 500
    ) -> list[Message]:
        """Messages with ``seq > after_seq``, oldest first: what a reconnecting client missed.

        ``seq`` is assigned under a lock on the conversation row, so it follows commit
        order: a client that has seen seq N has seen everything committed before N.
        """
        query = (
            select(_M)
            .where(_M.conversation_id == conversation_id, _M.seq > after_seq)
            .order_by(_M.seq)
            .limit(limit)
        )
        async with self._reading() as session:
            return [message_from_row(row) for row in await session.scalars(query)]

    async def replies_for_event(self, conversation_id: int, event_id: str) -> list[Message]:
        """What the bot answered to the inbound message with ``event_id``, oldest first."""
        inbound = (
            select(_M.id)
            .where(_M.conversation_id == conversation_id, _M.event_id == event_id)
            .scalar_subquery()
        )
        query = select(_M).where(_M.reply_to_id == inbound).order_by(_M.seq)
        async with self._reading() as session:
            return [message_from_row(row) for row in await session.scalars(query)]

    async def token_usage(self, conversation_id: int) -> TokenUsage:
        """Total input and output tokens recorded on the conversation's messages."""
        query = select(
            func.coalesce(func.sum(_M.input_tokens), 0),
            func.coalesce(func.sum(_M.output_tokens), 0),
        ).where(_M.conversation_id == conversation_id)
        async with self._reading() as session:
            input_tokens, output_tokens = (await session.execute(query)).one()
        return TokenUsage(
            input_tokens=int(input_tokens or 0), output_tokens=int(output_tokens or 0)
        )

    async def _append(
        self,
        conversation_id: int,
        *,
        role: Role,
        content: str,
        status: MessageStatus,
        event_id: str | None,
        now: datetime | None,
        **columns: Any,
    ) -> tuple[Message, bool]:
        async with self._writing() as session:
            return await append_in(
                session,
                conversation_id,
                role=role,
                content=content,
                status=status,
                event_id=event_id,
                now=resolve_now(now),
                **columns,
            )

    async def _update_message(self, statement: Any) -> bool:
        statement = statement.returning(_M.id).execution_options(synchronize_session=False)
        async with self._writing() as session:
            return (await session.scalar(statement)) is not None


async def append_in(
    session: AsyncSession,
    conversation_id: int,
    *,
    role: Role,
    content: str,
    status: MessageStatus,
    event_id: str | None,
    now: datetime,
    locked: bool = False,
    **columns: Any,
) -> tuple[Message, bool]:
    """Append one message in the caller's write transaction; (message, created).

    ``locked``: the caller's transaction already holds the conversation row's lock (it
    read it FOR UPDATE), so it is not taken again."""
    # Lock the conversation row first: it serializes appends per conversation (so seq
    # follows commit order) and makes the event_id check below race-free.
    if not locked:
        await _lock_conversation(session, conversation_id)
    if event_id is not None:
        existing = await session.scalar(
            select(_M).where(_M.conversation_id == conversation_id, _M.event_id == event_id)
        )
        if existing is not None:
            return message_from_row(existing), False
    seq = await session.scalar(
        update(ConversationRow)
        .where(ConversationRow.id == conversation_id)
        .values(last_seq=ConversationRow.last_seq + 1, last_activity_at=now)
        .returning(ConversationRow.last_seq)
        .execution_options(synchronize_session=False)
    )
    if seq is None:
        raise NotFound("conversation", conversation_id)
    row = await session.scalar(
        insert(_M)
        .values(
            conversation_id=conversation_id,
            seq=seq,
            role=role,
            content=content,
            status=status,
            event_id=event_id,
            created_at=now,
            **columns,
        )
        .returning(_M)
    )
    assert row is not None
    return message_from_row(row), True


def _new_row(conversation_id: int, seq: int, message: NewMessage, now: datetime) -> dict[str, Any]:
    usage = message.usage
    return {
        "conversation_id": conversation_id,
        "seq": seq,
        "role": message.role,
        "content": message.content,
        "status": message.status,
        "event_id": None,
        "reply_to_id": message.reply_to_id,
        "author": message.author,
        "tool_calls": message.tool_calls,
        "tool_call_id": message.tool_call_id,
        "meta": message.meta,
        "input_tokens": usage.input_tokens if usage else None,
        "output_tokens": usage.output_tokens if usage else None,
        "created_at": now,
    }


async def _lock_conversation(session: AsyncSession, conversation_id: int) -> None:
    # FOR UPDATE on PostgreSQL. SQLite has no row locks, but the write transaction already
    # holds the database's write lock (BEGIN IMMEDIATE), so there is nothing to take; a
    # missing conversation is found by the UPDATE that follows.
    if session.get_bind().dialect.name == "sqlite":
        return
    query = select(ConversationRow.id).where(ConversationRow.id == conversation_id)
    if await session.scalar(query.with_for_update()) is None:
        raise NotFound("conversation", conversation_id)
