"""Slack's AI assistant threads: the greeting, suggested prompts from live state, the
working status and the thread title (https://docs.slack.dev/ai/developing-ai-apps).

`AsyncAssistant` routes the thread's events (behind `AssistantEventsOnly`, which spares
every other request its cost); this module is what the bot does with them.
The status and title are cosmetic: their failures are logged, never raised.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.middleware.assistant.async_assistant import AsyncAssistant
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.payload_utils import (
    is_assistant_event,
    is_other_message_sub_event_in_assistant_thread,
)
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.channel import ChannelServices
from adapters.slack.payloads import CHANNEL, AssistantThreadStarted, SlackAddress
from adapters.slack.render import active, open_tickets, suggested_prompts, truncate
from adapters.slack.replies import StatusSetter
from adapters.slack.send import TRANSPORT_ERRORS, WEB_API_TIMEOUT_S
from bot import prompts
from bot.helpdesk.errors import HelpdeskError

log = logging.getLogger(__name__)

LIVE_STATE_TIMEOUT_S = 3.0
TITLE_CHARS = 60


class AssistantThreads:
    def __init__(self, *, services: ChannelServices, client: AsyncWebClient) -> None:
        self._services = services
        self._client = client

    async def greet(self, started: AssistantThreadStarted, *, say: Any, set_prompts: Any) -> None:
        """Remember the thread as an assistant thread, greet, and offer up to 4 prompts.

        `say` and `set_prompts` are Bolt's assistant utilities for this thread (they call
        the Web API through the app's client).
        """
        desk = self._services.desk
        if started.event_id and not await desk.claim(CHANNEL, f"event:{started.event_id}"):
            return
        address = started.address
        await desk.open_conversation(
            CHANNEL, address.conversation_key, user_key=address.user_key, address=address.to_dict()
        )
        suggested = await self.live_prompts(address)
        await say(text=prompts.reply("slack_greeting"))
        await set_prompts(prompts=suggested)

    async def live_prompts(self, address: SlackAddress) -> list[dict[str, str]]:
        """Prompts from what is true now for this user: outages, then open tickets."""
        services = self._services
        try:
            async with asyncio.timeout(LIVE_STATE_TIMEOUT_S):
                user = await services.identities.resolve(CHANNEL, address.user_key)
                if user is None:
                    return suggested_prompts([], [])
                outages, tickets = await asyncio.gather(
                    services.desk.outages(user),
                    services.desk.tickets(user, limit=20),
                )
        except (HelpdeskError, TimeoutError) as exc:
            log.info("No live state for suggested prompts: %s", type(exc).__name__)
            return suggested_prompts([], [])
        return suggested_prompts(active(outages), open_tickets(tickets))

    async def set_title(self, address: SlackAddress, question: str) -> None:
        """The thread's title in the assistant's history: the user's first question."""
        try:
            await self._client.assistant_threads_setTitle(
                channel_id=address.channel,
                thread_ts=address.thread_ts,
                title=truncate(question, TITLE_CHARS),
            )
        except (SlackApiError, *TRANSPORT_ERRORS) as exc:
            log.info("assistant.threads.setTitle failed: %s", type(exc).__name__)

    def status(self, address: SlackAddress) -> StatusSetter:
        """assistant.threads.setStatus for one thread; "" clears it.
        https://docs.slack.dev/reference/methods/assistant.threads.setStatus
        """
        client = self._client

        async def set_status(text: str) -> None:
            try:
                async with asyncio.timeout(WEB_API_TIMEOUT_S):
                    await client.assistant_threads_setStatus(
                        channel_id=address.channel, thread_ts=address.thread_ts, status=text
                    )
            except (SlackApiError, *TRANSPORT_ERRORS) as exc:
                log.info("assistant.threads.setStatus failed: %s", type(exc).__name__)

        return set_status


class AssistantEventsOnly(AsyncMiddleware):
    """Bolt's `AsyncAssistant`, consulted only for the events it can act on.

    The assistant middleware runs on every request and, for each of its listeners, builds
    Bolt's whole argument set to evaluate the matchers — for an ordinary DM or @mention,
    which none of them can match. Its listeners only match `payload_utils.is_assistant_event`
    and its one other action is to ack sub-events of assistant threads; every other request
    goes straight on, which takes that work off the ack path.
    """

    def __init__(self, assistant: AsyncAssistant) -> None:
        self._assistant = assistant

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        body = req.body
        if is_assistant_event(body) or is_other_message_sub_event_in_assistant_thread(body):
            return await self._assistant.async_process(req=req, resp=resp, next=next)
        return await next()

    @property
    def name(self) -> str:
        return "AssistantEventsOnly"
