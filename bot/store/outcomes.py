"""What it takes to tell how a conversation ended: quiet conversations and their done writes.

Read only; `bot.deflection` classifies each quiet conversation once (claimed in
`processed_events`) and counts it in the metrics.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.store._base import StoreBase
from bot.store.models import ConversationRow, PendingActionRow
from bot.store.records import Conversation, conversation_from_row

_C = ConversationRow
_A = PendingActionRow


class OutcomeStore(StoreBase):
    async def quiet_conversations(
        self, *, quiet_since: datetime, not_before: datetime, limit: int = 500
    ) -> list[Conversation]:
        """Conversations the bot owns whose last activity lies in (not_before, quiet_since]:
        quiet long enough to count, recent enough not to be counted already."""
        query = (
            select(_C)
            .where(
                _C.owner == "bot",
                _C.last_activity_at <= quiet_since,
                _C.last_activity_at > not_before,
            )
            .order_by(_C.last_activity_at, _C.id)
            .limit(limit)
        )
        async with self._reading() as session:
            return [conversation_from_row(row) for row in await session.scalars(query)]

    async def done_writes(self, conversation_id: int) -> list[str]:
        """The tool names of the writes carried out in this conversation (status done)."""
        query = select(_A.tool_name).where(
            _A.conversation_id == conversation_id, _A.status == "done"
        )
        async with self._reading() as session:
            return list(await session.scalars(query))
