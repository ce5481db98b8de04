"""Conversations: creation, the ownership state machine, helpdesk chat and relay cursor."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store._base import StoreBase, resolve_now
from bot.store.errors import InvalidTransition
from bot.store.models import ConversationRow
from bot.store.records import OWNER_TRANSITIONS, Conversation, Owner, conversation_from_row

_C = ConversationRow


class ConversationStore(StoreBase):
    async def get_or_create_conversation(
        self,
        channel: str,
        conversation_key: str,
        *,
        user_key: str,
        address: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> Conversation:
        """The conversation for (channel, key), created owned by the bot if new.

        Race-safe: concurrent callers and replicas all get the same row. A non-None
        ``address`` replaces the stored one (channels may move a conversation, e.g. a
        Teams serviceUrl change), so proactive sends use the latest.
        """
        async with self._writing() as session:
            row = await self._get_or_create_in(
                session,
                channel,
                conversation_key,
                user_key=user_key,
                address=address,
                now=resolve_now(now),
            )
            return conversation_from_row(row)

    async def _get_or_create_in(
        self,
        session: AsyncSession,
        channel: str,
        conversation_key: str,
        *,
        user_key: str,
        address: Mapping[str, Any] | None,
        now: datetime,
    ) -> ConversationRow:
        """`get_or_create_conversation` in the caller's write transaction, the row locked
        for the rest of it (FOR UPDATE on PostgreSQL; on SQLite the transaction already
        holds the database's write lock). The usual case, a conversation that exists, is
        one SELECT; the INSERT runs only for a new one (and a racing creator's row is read
        after it)."""
        new_address = dict(address) if address is not None else None
        existing = select(_C).where(_C.channel == channel, _C.conversation_key == conversation_key)
        row = await session.scalar(existing.with_for_update())
        if row is not None:
            if new_address is not None and row.address != new_address:
                row.address = new_address
            return row
        insert = (
            self._insert(_C)
            .values(
                channel=channel,
                conversation_key=conversation_key,
                user_key=user_key,
                address=new_address,
                owner="bot",
                owner_changed_at=now,
                last_seq=0,
                created_at=now,
                last_activity_at=now,
            )
            .on_conflict_do_nothing(index_elements=["channel", "conversation_key"])
            .returning(_C)
        )
        row = await session.scalar(insert)
        if row is None:  # another transaction created it since the SELECT
            row = (await session.scalars(existing.with_for_update())).one()
            if new_address is not None and row.address != new_address:
                row.address = new_address
        return row

    async def get_conversation(self, conversation_id: int) -> Conversation | None:
        async with self._reading() as session:
            row = await session.get(_C, conversation_id)
            return conversation_from_row(row) if row is not None else None

    async def find_conversation(self, channel: str, conversation_key: str) -> Conversation | None:
        query = select(_C).where(_C.channel == channel, _C.conversation_key == conversation_key)
        async with self._reading() as session:
            row = await session.scalar(query)
            return conversation_from_row(row) if row is not None else None

    async def set_owner(
        self,
        conversation_id: int,
        *,
        expected: Owner,
        new: Owner,
        agent_name: str | None = None,
        now: datetime | None = None,
    ) -> bool:
        """Compare-and-set the owner; False when the owner is no longer ``expected``.

        Only the handoff state machine's moves are allowed (InvalidTransition otherwise).
        ``agent_name`` is recorded when an agent takes over; returning to the bot clears it.
        """
        if (expected, new) not in OWNER_TRANSITIONS:
            raise InvalidTransition(expected, new)
        values: dict[str, Any] = {"owner": new, "owner_changed_at": resolve_now(now)}
        if new == "bot":
            values["agent_name"] = None
        elif agent_name is not None:
            values["agent_name"] = agent_name
        return await self._update_conversation(conversation_id, values, _C.owner == expected)

    async def set_helpdesk_chat(self, conversation_id: int, chat_id: int | None) -> bool:
        """Record the conversation's helpdesk chat session.

        A different chat than before resets the relay cursor: the old chat's cursor means
        nothing in the new one.
        """
        same_chat = _C.helpdesk_chat_id == chat_id
        values = {
            "helpdesk_chat_id": chat_id,
            "relay_cursor": case((same_chat, _C.relay_cursor), else_=None),
            "relay_last_message_id": case((same_chat, _C.relay_last_message_id), else_=None),
        }
        return await self._update_conversation(conversation_id, values)

    async def advance_relay_cursor(
        self, conversation_id: int, *, chat_id: int, cursor: datetime, last_message_id: int
    ) -> bool:
        """Move the relay cursor forward after the messages up to it were delivered.

        Never moves backwards (an older or equal cursor is ignored and False returned), and
        never applies to a chat the conversation has since left, so a late or stale relay
        cannot make agent messages be delivered twice.
        """
        return await self._update_conversation(
            conversation_id,
            {"relay_cursor": cursor, "relay_last_message_id": last_message_id},
            _C.helpdesk_chat_id == chat_id,
            or_(_C.relay_cursor.is_(None), _C.relay_cursor < cursor),
        )

    async def set_summary(self, conversation_id: int, *, summary: str, up_to_seq: int) -> bool:
        """Store the rolling summary of messages up to ``up_to_seq``; never goes back."""
        return await self._update_conversation(
            conversation_id,
            {"summary": summary, "summary_up_to_seq": up_to_seq},
            or_(_C.summary_up_to_seq.is_(None), _C.summary_up_to_seq < up_to_seq),
        )

    async def conversations_in_handoff(self, channel: str | None = None) -> list[Conversation]:
        """Conversations owned by a human or waiting for one (in `channel`, if given): the
        relay's work list, and the widget follower's."""
        query = select(_C).where(_C.owner != "bot").order_by(_C.id)
        if channel is not None:
            query = query.where(_C.channel == channel)
        async with self._reading() as session:
            return [conversation_from_row(row) for row in await session.scalars(query)]

    async def handoff_of_user(self, channel: str, user_key: str) -> Conversation | None:
        """The user's conversation in this channel that a human owns or is queued for (the
        latest, should there be several)."""
        query = (
            select(_C)
            .where(_C.channel == channel, _C.user_key == user_key, _C.owner != "bot")
            .order_by(_C.owner_changed_at.desc(), _C.id.desc())
            .limit(1)
        )
        async with self._reading() as session:
            row = await session.scalar(query)
            return conversation_from_row(row) if row is not None else None

    async def _update_conversation(
        self, conversation_id: int, values: Mapping[str, Any], *conditions: Any
    ) -> bool:
        statement = (
            update(_C)
            .where(_C.id == conversation_id, *conditions)
            .values(dict(values))
            .returning(_C.id)
            .execution_options(synchronize_session=False)
        )
        async with self._writing() as session:
            return (await session.scalar(statement)) is not None
