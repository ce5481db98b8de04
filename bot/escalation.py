"""Handing a conversation to a human: a note for the agent, then the helpdesk's transfer.

The note is a model-written summary of the conversation (or, when the model fails or the
turn's time is spent, the reason and the recent transcript); it is posted into the chat
session before the transfer so the agent reads it first. The relay (`bot.handoff`) takes
over once the conversation is queued.
"""

from __future__ import annotations

import logging

from bot import metrics, prompts
from bot.chat_session import ChatSessions
from bot.context import transcript
from bot.helpdesk.client import HelpdeskClient
from bot.helpdesk.errors import HelpdeskError, ReauthRequired
from bot.history import History
from bot.identity import HelpdeskUser
from bot.messages import HandoffStatus
from bot.side_model import SideModel
from bot.store.records import Conversation
from bot.store.store import Store

log = logging.getLogger(__name__)


class Escalation:
    def __init__(
        self,
        *,
        store: Store,
        helpdesk: HelpdeskClient,
        chats: ChatSessions,
        history: History,
        side: SideModel,
    ) -> None:
        self._store = store
        self._helpdesk = helpdesk
        self._chats = chats
        self._history = history
        self._side = side

    async def escalate(
        self,
        conversation: Conversation,
        user: HelpdeskUser,
        chat_id: int | None,
        reason: str,
        *,
        deadline: float | None = None,
    ) -> HandoffStatus:
        if conversation.owner != "bot":
            return HandoffStatus(state="queued", text=prompts.reply("handoff_already_waiting"))
        if chat_id is None:
            chat_id, _ = await self._chats.ensure_chat(conversation, user)
        if chat_id is None:
            return _unavailable()
        note = await self._handoff_note(conversation, user, reason, deadline=deadline)
        try:
            await self._helpdesk.chat_send(
                user.auth, chat_id, prompts.note("handoff_summary_post", note=note)
            )
        except ReauthRequired:
            raise
        except HelpdeskError as exc:
            log.warning("Could not post the handoff summary: %s", exc)
        try:
            await self._helpdesk.chat_transfer(user.auth, chat_id, reason=reason)
        except ReauthRequired:
            raise
        except HelpdeskError as exc:
            log.warning("Transfer to a human failed: %s", exc)
            return _unavailable()
        await self._store.set_owner(conversation.id, expected="bot", new="queued")
        metrics.current().handoffs.labels(state="queued").inc()
        return HandoffStatus(state="queued", text=prompts.reply("handoff_queued"))

    async def _handoff_note(
        self,
        conversation: Conversation,
        user: HelpdeskUser,
        reason: str,
        *,
        deadline: float | None,
    ) -> str:
        history = await self._history.load(conversation)
        note = await self._side.complete_text(
            prompts.render(
                "handoff_summary",
                user_name=user.display_name,
                company_name=user.profile.company_name or "their company",
                reason=reason,
                transcript=transcript(history, limit_tokens=2500),
            ),
            deadline=deadline,
        )
        if note:
            return note
        return prompts.note(
            "handoff_fallback", reason=reason, transcript=transcript(history, limit_tokens=800)
        )


def _unavailable() -> HandoffStatus:
    metrics.current().handoffs.labels(state="unavailable").inc()
    return HandoffStatus(state="unavailable", text=prompts.reply("handoff_unavailable"))
