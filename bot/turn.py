"""One turn's context: who is talking, in which conversation, answering which message.

The engine builds a `Turn` once the user is resolved; the step modules (`bot.engine`,
`bot.pending`) use it to persist and emit replies addressed to the stored inbound message,
so a redelivered event can be answered from the store.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import confirmations
from bot.conversation_ops import ConversationOps
from bot.helpdesk.client import HelpdeskClient
from bot.identity import HelpdeskUser
from bot.messages import ConfirmRequest, HandoffStatus, Message
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

    def tool_context(self, chat_id: int | None = None) -> ToolContext:
        return ToolContext(
            helpdesk=self.helpdesk,
            auth=self.user.auth,
            profile=self.user.profile,
            capabilities=self.user.capabilities,
            chat_id=chat_id if chat_id is not None else self.conversation.helpdesk_chat_id,
        )

    async def say(self, text: str, *, notice: bool = False) -> Message:
        """Persist and return a short message answering this turn's inbound message."""
        saved = await self.store.add_message(
            self.conversation.id,
            role="notice" if notice else "assistant",
            content=text,
            reply_to_id=self.stored.id,
        )
        return Message(text=text, message_id=saved.id)

    async def say_confirm(self, confirm: ConfirmRequest) -> ConfirmRequest:
        await self.store.add_message(
            self.conversation.id,
            role="notice",
            content=confirmations.render_confirm_text(confirm),
            reply_to_id=self.stored.id,
        )
        return confirm

    async def escalate(self, chat_id: int | None, reason: str) -> HandoffStatus:
        status = await self.ops.escalate(self.conversation, self.user, chat_id, reason)
        await self.store.add_message(
            self.conversation.id, role="notice", content=status.text, reply_to_id=self.stored.id
        )
        return status
