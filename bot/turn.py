"""One turn as a plain value: who is talking, in which conversation, answering which message.

The engine builds a `Turn` once the user is resolved and hands it to the steps that decide
the turn (`bot.pending`, `bot.answering`). `reply_to` and `say` persist a reply addressed to
the turn's stored inbound message, so a redelivered event can be answered from the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.helpdesk.client import HelpdeskClient
from bot.identity import HelpdeskUser
from bot.messages import Message
from bot.replay import ReplyT, persist_reply
from bot.store.records import Conversation
from bot.store.records import Message as StoredMessage
from bot.store.store import Store
from bot.tooling import ToolContext


@dataclass(slots=True)
class Settlement:
    """Whether the inbound message was already marked done in the turn's last write (so
    the engine need not mark it in a transaction of its own)."""

    done: bool = False


@dataclass(frozen=True, slots=True)
class Turn:
    conversation: Conversation
    user: HelpdeskUser
    stored: StoredMessage  # the inbound message this turn answers
    deadline: float  # time.monotonic() by which the whole turn must be done
    reply_by: float  # time.monotonic() by which the user must have an answer (maybe degraded)
    settlement: Settlement = field(default_factory=Settlement)

    def tool_context(self, helpdesk: HelpdeskClient, chat_id: int | None = None) -> ToolContext:
        """What the turn's tools may use: the helpdesk as this user, in this chat."""
        return ToolContext(
            helpdesk=helpdesk,
            auth=self.user.auth,
            profile=self.user.profile,
            capabilities=self.user.capabilities,
            chat_id=chat_id if chat_id is not None else self.conversation.helpdesk_chat_id,
        )


async def reply_to(store: Store, turn: Turn, reply: ReplyT, **options: Any) -> ReplyT:
    """Persist a reply to the turn's inbound message; returns it with its message id."""
    saved, _ = await persist_reply(
        store, turn.conversation.id, reply, reply_to_id=turn.stored.id, **options
    )
    return saved


async def say(store: Store, turn: Turn, text: str, *, notice: bool = False) -> Message:
    """Persist and return a short message answering the turn's inbound message."""
    return await reply_to(store, turn, Message(text=text, notice=notice))
