"""The conversation's Helpdesk chat session: start or resume it, mirror messages, end it.

The helpdesk keeps the record of every conversation, and its agents read it there, so each
user message is copied into the chat session (a long one in parts, see `bot.chat_parts`).
A failure here never fails the turn: the user still gets an answer; only `ReauthRequired`
propagates (the user must link again).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.chat_parts import split_for_chat
from bot.helpdesk.client import HelpdeskClient
from bot.helpdesk.errors import Conflict, HelpdeskError, PermissionDenied, ReauthRequired
from bot.identity import HelpdeskUser
from bot.store.records import Conversation
from bot.store.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Mirrored:
    """Where the user's message went: the chat, when it arrived there (None: not copied)."""

    chat_id: int | None
    at: datetime | None = None  # the last part's timestamp (Val AI answers after it)
    parts: int = 1  # more than one: the message was longer than the chat takes at once
    omitted: int = 0  # characters left out (past `bot.chat_parts.MAX_PARTS` parts)


class ChatSessions:
    def __init__(self, *, store: Store, helpdesk: HelpdeskClient) -> None:
        self._store = store
        self._helpdesk = helpdesk

    async def ensure_chat(
        self, conversation: Conversation, user: HelpdeskUser, *, fresh: bool = False
    ) -> tuple[int | None, bool]:
        """The conversation's helpdesk chat id (started or resumed); (None, False) if the
        helpdesk's chat is unavailable to this user. The flag says it is a new session."""
        if conversation.helpdesk_chat_id is not None and not fresh:
            return conversation.helpdesk_chat_id, False
        try:
            session = await self._helpdesk.chat_start(user.auth)
        except ReauthRequired:
            raise
        except HelpdeskError as exc:
            log.warning("Could not start a helpdesk chat: %s", exc)
            return None, False
        await self._store.set_helpdesk_chat(conversation.id, session.chat_id)
        return session.chat_id, True

    async def mirror(self, conversation: Conversation, user: HelpdeskUser, text: str) -> Mirrored:
        """Copy the user's message into the helpdesk chat, in parts if it is too long for
        one message (`bot.chat_parts`); says where it went and how it was split."""
        chat_id, _ = await self.ensure_chat(conversation, user)
        if chat_id is None:
            return Mirrored(None)
        split = split_for_chat(text)
        for attempt in range(2):
            try:
                at = await self._send_parts(user, chat_id, split.parts)
                return Mirrored(chat_id, at, parts=len(split.parts), omitted=split.omitted)
            except ReauthRequired:
                raise
            except Conflict:  # the chat ended (e.g. an agent closed it): start a new one
                if attempt == 1 or conversation.owner != "bot":
                    break
                chat_id, _ = await self.ensure_chat(conversation, user, fresh=True)
                if chat_id is None:
                    break
            except PermissionDenied:
                return Mirrored(None)
            except HelpdeskError as exc:
                log.warning("Could not mirror a message into helpdesk chat %s: %s", chat_id, exc)
                break
        return Mirrored(chat_id)

    async def _send_parts(
        self, user: HelpdeskUser, chat_id: int, parts: tuple[str, ...]
    ) -> datetime | None:
        """Send the parts in order; when the last one reached the chat."""
        at: datetime | None = None
        for part in parts:
            sent = await self._helpdesk.chat_send(user.auth, chat_id, part)
            at = sent.created_at
        return at

    async def end(self, conversation: Conversation, user: HelpdeskUser) -> None:
        """End the conversation's chat session (best effort); the next message starts one."""
        if conversation.helpdesk_chat_id is None:
            return
        try:
            await self._helpdesk.chat_end(user.auth, conversation.helpdesk_chat_id)
        except HelpdeskError as exc:
            log.info("Ending the helpdesk chat failed: %s", exc)
        await self._store.set_helpdesk_chat(conversation.id, None)
