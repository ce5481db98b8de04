"""One turn's context: who is talking, in which conversation, answering which message.

The engine builds a `Turn` once the user is resolved; the step modules (`bot.engine`,
`bot.pending`) use it to persist and emit replies addressed to the stored inbound message,
so a redelivered event can be answered from the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.conversation_ops import ConversationOps
from bot.helpdesk.client import HelpdeskClient
from bot.identity import HelpdeskUser
from bot.messages import ConfirmRequest, HandoffStatus, Message
from bot.replay import ReplyT, persist_reply
from bot.store.records import Conversation
from bot.store.records import Message as StoredMessage
from bot.store.store import Store
from bot.tooling import ToolContext, ToolRegistry


@dataclass(frozen=True)
class Turn:
    store: Store
    helpdesk: HelpdeskClient
    tools: ToolRegistry
    ops: ConversationOps
    conversation: Conversation
    user: HelpdeskUser
    stored: StoredMessage  # the inbound message this turn answers
    deadline: float  # time.monotonic() by which the whole turn must be done

    def tool_context(self, chat_id: int | None = None) -> ToolContext:
        return ToolContext(
            helpdesk=self.helpdesk,
            auth=self.user.auth,
            profile=self.user.profile,
            capabilities=self.user.capabilities,
            chat_id=chat_id if chat_id is not None else self.conversation.helpdesk_chat_id,
        )

    async def reply(self, reply: ReplyT, **options: Any) -> ReplyT:
        """Persist a reply to this turn's inbound message; returns it with its message id."""
        saved, _ = await persist_reply(
            self.store, self.conversation.id, reply, reply_to_id=self.stored.id, **options
        )
        return saved

    async def say(self, text: str, *, notice: bool = False) -> Message:
        """Persist and return a short message answering this turn's inbound message."""
        return await self.reply(Message(text=text, notice=notice))

    async def say_confirm(self, confirm: ConfirmRequest) -> ConfirmRequest:
        return await self.reply(confirm)

    async def escalate(self, chat_id: int | None, reason: str) -> HandoffStatus:
        status = await self.ops.escalate(
            self.conversation, self.user, chat_id, reason, deadline=self.deadline
        )
        return await self.reply(status)
