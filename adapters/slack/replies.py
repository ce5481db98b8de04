"""Each Reply of a turn, rendered and sent into the conversation's Slack thread."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.payloads import SlackAddress
from adapters.slack.render import (
    Rendered,
    message_footer,
    render_agent_message,
    render_confirm,
    render_confirm_outcome,
    render_error,
    render_handoff,
    render_link_required,
    render_message,
)
from adapters.slack.send import (
    open_dm,
    post_once,
    slack_error,
)
from adapters.slack.stream import MessageStream
from bot import prompts
from bot.messages import (
    AgentMessage,
    ConfirmRequest,
    ErrorReply,
    HandoffStatus,
    LinkRequired,
    Message,
    Reply,
    TextDelta,
    Typing,
)

log = logging.getLogger(__name__)

StatusSetter = Callable[[str], Awaitable[None]]


class ReplySender:
    """Renders each Reply of one turn and sends it into the conversation's thread.

    Streams in DMs and assistant threads; elsewhere one chat.postMessage per reply. When the
    turn answers a click on a confirm card, the first message updates that card (outcome,
    no buttons) instead of adding a new one.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        address: SlackAddress,
        *,
        key: str,
        status: StatusSetter | None = None,
        card: tuple[str, Sequence[Mapping[str, Any]]] | None = None,
    ) -> None:
        self._client = client
        self._address = address
        self._key = key
        self._status = status
        self._status_shown: str | None = None
        self._card = card  # (ts, blocks) of the confirm card that was clicked
        self._stream: MessageStream | None = None
        self._posts = 0

    @property
    def streams(self) -> bool:
        return self._address.kind in ("dm", "assistant")

    async def send(self, reply: Reply) -> None:
        if isinstance(reply, Typing):
            await self._show_status(reply.status or prompts.reply("slack_status_thinking"))
        elif isinstance(reply, TextDelta):
            if self.streams and reply.text:
                if self._stream is None:
                    self._stream = MessageStream(self._client, self._address, key=self._next_key())
                await self._stream.append(reply.text)
        elif isinstance(reply, Message):
            await self._send_message(reply)
        else:
            await self._end_stream()
            await self._post_other(reply)

    async def close(self) -> None:
        """End of the turn, however it ended: finish an open stream, settle a clicked card
        that got no outcome (the answer went below it), clear the status."""
        try:
            await self._end_stream()
            if self._card is not None:
                ts, blocks = self._card
                self._card = None
                rendered = render_confirm_outcome(blocks, prompts.reply("channel_see_reply_below"))
                await self._client.chat_update(
                    channel=self._address.channel, ts=ts, text=rendered.text, blocks=rendered.blocks
                )
        finally:
            if self._status is not None and self._status_shown is not None:
                self._status_shown = None
                await self._status("")

    async def _show_status(self, text: str) -> None:
        if self._status is None or text == self._status_shown:
            return
        self._status_shown = text
        await self._status(text)

    async def _send_message(self, message: Message) -> None:
        if self._card is not None:
            ts, blocks = self._card
            self._card = None
            await self._end_stream()
            rendered = render_confirm_outcome(blocks, message.text)
            await self._client.chat_update(
                channel=self._address.channel, ts=ts, text=rendered.text, blocks=rendered.blocks
            )
            return
        if self._stream is not None:
            stream, self._stream = self._stream, None
            if message.text.startswith(stream.text):
                rest = message.text[len(stream.text) :]
                if rest:
                    await stream.append(rest)
                await stream.stop(blocks=message_footer(message))
                return
            await stream.stop()
        for rendered in render_message(message):
            await self._post(rendered)

    async def _post_other(self, reply: Reply) -> None:
        if isinstance(reply, ConfirmRequest):
            await self._post(render_confirm(reply))
        elif isinstance(reply, HandoffStatus):
            await self._post(render_handoff(reply))
        elif isinstance(reply, AgentMessage):
            await self._post(render_agent_message(reply))
        elif isinstance(reply, LinkRequired):
            await self._post_link(reply)
        elif isinstance(reply, ErrorReply):
            await self._post(render_error(reply))

    async def _post_link(self, link: LinkRequired) -> None:
        rendered = render_link_required(link)
        if self._address.kind == "channel":
            # Only the person asking should see their personal link.
            try:
                await self._client.chat_postEphemeral(
                    channel=self._address.channel,
                    user=self._address.user_id,
                    thread_ts=self._address.thread_ts,
                    text=rendered.text,
                    blocks=rendered.blocks,
                )
                return
            except SlackApiError as exc:
                log.info("Ephemeral link refused (%s); sending it by DM", slack_error(exc))
            dm = await open_dm(self._client, self._address.user_id)
            await post_once(
                self._client, channel=dm, thread_ts=None, rendered=rendered, key=self._next_key()
            )
            return
        await self._post(rendered)

    async def _post(self, rendered: Rendered) -> None:
        await post_once(
            self._client,
            channel=self._address.channel,
            thread_ts=self._address.thread_ts,
            rendered=rendered,
            key=self._next_key(),
        )

    async def _end_stream(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.stop()

    def _next_key(self) -> str:
        self._posts += 1
        return f"{self._key}:{self._posts}"
