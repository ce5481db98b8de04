"""Streaming one answer into a Slack thread, continuing in a new message when Slack cuts the
stream off (https://docs.slack.dev/ai/developing-ai-apps#streaming)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.payloads import SlackAddress
from adapters.slack.render import Block, Rendered, markdown_block
from adapters.slack.send import TRANSPORT_ERRORS, post_once, slack_error

log = logging.getLogger(__name__)

STREAM_CHUNK_CHARS = 300  # "a few hundred characters per append"
STREAM_MAX_CHARS = 11_000  # a streamed message's markdown stays under Slack's 12,000
STREAM_MAX_RESTARTS = 3


class MessageStream:
    """One streamed answer (chat.startStream / appendStream / stopStream through slack_sdk's
    `chat_stream` helper, https://docs.slack.dev/ai/developing-ai-apps#streaming).

    Text handed to Slack but not yet acknowledged is kept in `_unsent`. When Slack cuts the
    stream off (it expires streams after an undocumented time, `message_not_in_streaming_state`,
    https://github.com/slackapi/python-slack-sdk/issues/1859; or refuses a size,
    `msg_too_long`), the stream is abandoned and the unsent text opens a new message: text
    may repeat a few hundred characters after a lost answer, but is never dropped. After
    STREAM_MAX_RESTARTS the rest is posted as an ordinary message.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        address: SlackAddress,
        *,
        key: str,
        chunk_chars: int = STREAM_CHUNK_CHARS,
        max_chars: int = STREAM_MAX_CHARS,
    ) -> None:
        self._client = client
        self._address = address
        self._key = key
        self._chunk = chunk_chars
        self._max = max_chars
        self._stream: Any = None  # slack_sdk's AsyncChatStream (untyped)
        self._unsent = ""
        self._in_message = 0
        self._restarts = 0
        self.text = ""  # everything the user should end up seeing

    @property
    def failed(self) -> bool:
        return self._restarts > STREAM_MAX_RESTARTS

    async def append(self, text: str) -> None:
        self.text += text
        if self.failed:
            self._unsent += text
            return
        if self._stream is not None and self._in_message + len(text) > self._max:
            await self._finish_current(blocks=None)
        await self._push(text)

    async def stop(self, *, blocks: Sequence[Block] = ()) -> None:
        """Finish the answer with `blocks` (sources, buttons) at its end."""
        open_or_pending = self._stream is not None or bool(self._unsent)
        if (
            not self.failed
            and open_or_pending
            and await self._finish_current(blocks=list(blocks) or None)
        ):
            return
        if self._unsent or blocks:
            # The stream could not take the end: post it as a continuation message.
            rendered = Rendered(self._unsent or "…", _text_blocks(self._unsent) + list(blocks))
            self._unsent = ""
            await post_once(
                self._client,
                channel=self._address.channel,
                thread_ts=self._address.thread_ts,
                rendered=rendered,
                key=f"{self._key}:tail",
            )

    async def _open(self) -> None:
        self._stream = await self._client.chat_stream(
            channel=self._address.channel,
            thread_ts=self._address.thread_ts,
            recipient_team_id=self._address.team_id,
            recipient_user_id=self._address.user_id,
            buffer_size=self._chunk,
        )
        self._in_message = 0

    async def _push(self, text: str) -> None:
        self._unsent += text
        if self._stream is None:
            await self._open()
            text = self._unsent  # a new message starts with everything not yet shown
        self._in_message += len(text)
        try:
            response = await self._stream.append(markdown_text=text)
        except (SlackApiError, *TRANSPORT_ERRORS) as exc:
            self._cut_off(exc)
            return
        if response is not None:  # the helper flushed its buffer: Slack has it all
            self._unsent = ""

    async def _finish_current(self, *, blocks: list[Block] | None) -> bool:
        """Stop the current stream, flushing what it buffers; False if Slack refused."""
        tail = ""  # an open stream holds the unsent text in its buffer already
        if self._stream is None:
            await self._open()
            tail = self._unsent
        try:
            await self._stream.stop(markdown_text=tail or None, blocks=blocks)
        except (SlackApiError, *TRANSPORT_ERRORS) as exc:
            self._cut_off(exc)
            return False
        self._unsent = ""
        self._stream = None
        return True

    def _cut_off(self, exc: Exception) -> None:
        reason = slack_error(exc) if isinstance(exc, SlackApiError) else type(exc).__name__
        log.warning("Slack ended a reply stream (%s); continuing in a new message", reason)
        self._stream = None
        self._restarts += 1


def _text_blocks(text: str) -> list[Block]:
    return [markdown_block(text)] if text else []
