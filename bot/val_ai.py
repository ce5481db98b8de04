"""The helpdesk's own AI answer (Val AI) to a mirrored message: the fallback when ours fails."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime

from bot.helpdesk.client import HelpdeskClient
from bot.helpdesk.errors import HelpdeskError
from bot.identity import HelpdeskUser

log = logging.getLogger(__name__)

POLL_S = 0.5


class ValAi:
    def __init__(self, *, helpdesk: HelpdeskClient, wait_s: float) -> None:
        self._helpdesk = helpdesk
        self._wait_s = wait_s

    async def answer(
        self, user: HelpdeskUser, chat_id: int | None, since: datetime | None
    ) -> str | None:
        """Val AI's reply to the message mirrored at `since`, if it comes within the wait."""
        if chat_id is None or since is None:
            return None
        deadline = time.monotonic() + self._wait_s
        while True:
            try:
                page = await self._helpdesk.chat_messages(user.auth, chat_id, since=since)
            except HelpdeskError as exc:
                log.info("Could not read Val AI's reply: %s", exc)
                return None
            for message in page.messages:
                if message.sender_type == "ai" and message.message.strip():
                    return message.message.strip()
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(POLL_S)  # polling the helpdesk; bounded by the deadline above
