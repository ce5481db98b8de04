"""Sending to Slack: the one Web API client, streamed answers, and each Reply to its thread.

Every Web API call of the process goes through the `AsyncWebClient` built here (Bolt's
per-request clients copy its base URL, session and retry handlers). Retries:
- 429 `ratelimited` is retried after `Retry-After` (slack_sdk's rate-limit handler): Slack
  did not act on the call, so repeating it is safe.
- a connection error is retried only for calls that are safe to repeat (updates, status,
  reads); a post whose answer was lost is looked up by its metadata key before it is ever
  sent again (`post_once`), so a reply that may have reached Slack is not blindly re-sent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_payloads import SlackAddress
from adapters.slack_render import (
    Block,
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
from bot.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
WEB_API_TIMEOUT_S = 15
STREAM_CHUNK_CHARS = 300  # "a few hundred characters per append"
STREAM_MAX_CHARS = 11_000  # a streamed message's markdown stays under Slack's 12,000
STREAM_MAX_RESTARTS = 3
REPLY_EVENT_TYPE = "helpdesk_bot_reply"
TRANSPORT_ERRORS = (aiohttp.ClientError, TimeoutError)

# Calls that change nothing when repeated; only these are retried after a connection error.
_REPEATABLE = frozenset(
    {
        "auth.test",
        "apps.connections.open",
        "assistant.threads.setStatus",
        "assistant.threads.setSuggestedPrompts",
        "assistant.threads.setTitle",
        "chat.update",
        "conversations.open",
        "conversations.replies",
        "views.publish",
        "views.update",
    }
)


class RepeatableCallRetryHandler(AsyncConnectionErrorRetryHandler):
    """slack_sdk's connection-error retry, limited to calls that are safe to repeat."""

    async def _can_retry_async(self, *, state: Any, request: Any, **kwargs: Any) -> bool:
        method = str(request.url).rstrip("/").rsplit("/", 1)[-1]
        if method not in _REPEATABLE:
            return False
        allowed: bool = await super()._can_retry_async(state=state, request=request, **kwargs)
        return allowed


def api_base_url(settings: Settings) -> str:
    # slack_sdk joins method names with urljoin, so the base must end with "/".
    return (settings.slack_api_url or DEFAULT_API_URL).rstrip("/") + "/"


def build_web_client(settings: Settings) -> AsyncWebClient:
    """The process's one Web API client: SLACK_API_URL, the bot token, safe retries."""
    assert settings.slack_bot_token is not None
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=api_base_url(settings),
        timeout=WEB_API_TIMEOUT_S,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            RepeatableCallRetryHandler(max_retry_count=1),
        ],
    )


def slack_error(exc: SlackApiError) -> str:
    """The `error` code of a Web API failure (e.g. `message_not_in_streaming_state`)."""
    response = getattr(exc, "response", None)
    try:
        return str(response["error"]) if response is not None else "unknown"
    except (KeyError, TypeError):
        return "unknown"


# --- posting exactly once -------------------------------------------------------------------


async def post_once(
    client: AsyncWebClient,
    *,
    channel: str,
    thread_ts: str | None,
    rendered: Rendered,
    key: str,
) -> str | None:
    """chat.postMessage that never blindly repeats: each post carries `key` in its metadata
    (https://docs.slack.dev/messaging/message-metadata); when the answer is lost in transit
    the thread is searched for that key, and the post is sent again only if it is not there.
    Returns the message ts, or None when it could not be posted (logged). SlackApiError
    (Slack answered and did not post) propagates.
    """
    arguments: dict[str, Any] = {
        "channel": channel,
        "text": rendered.text,
        "blocks": rendered.blocks,
        "metadata": {"event_type": REPLY_EVENT_TYPE, "event_payload": {"key": key}},
        "unfurl_links": False,
    }
    if thread_ts is not None:
        arguments["thread_ts"] = thread_ts
    started = time.time()
    try:
        response = await client.chat_postMessage(**arguments)
        return str(response["ts"])
    except TRANSPORT_ERRORS as exc:
        log.warning(
            "chat.postMessage outcome unknown (%s); checking the thread", type(exc).__name__
        )
    try:
        found = await find_posted(
            client, channel=channel, thread_ts=thread_ts, key=key, since=started
        )
    except (SlackApiError, *TRANSPORT_ERRORS) as exc:
        log.error("Could not check whether a reply was posted (%s); not re-sending", exc)
        return None
    if found is not None:
        return found
    response = await client.chat_postMessage(**arguments)
    return str(response["ts"])


async def find_posted(
    client: AsyncWebClient, *, channel: str, thread_ts: str | None, key: str, since: float
) -> str | None:
    """The ts of our message carrying `key` posted since `since`, if Slack has it."""
    oldest = f"{since - 5:.6f}"
    if thread_ts is not None:
        response = await client.conversations_replies(
            channel=channel, ts=thread_ts, oldest=oldest, include_all_metadata=True, limit=100
        )
    else:
        response = await client.conversations_history(
            channel=channel, oldest=oldest, include_all_metadata=True, limit=100
        )
    for message in response.get("messages") or []:
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        if metadata.get("event_type") == REPLY_EVENT_TYPE and payload.get("key") == key:
            return str(message["ts"])
    return None


# --- streaming ------------------------------------------------------------------------------


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
    return [{"type": "markdown", "text": text}] if text else []


# --- replies --------------------------------------------------------------------------------

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
        self.delivered = 0

    @property
    def streams(self) -> bool:
        return self._address.kind in ("dm", "assistant")

    async def send(self, reply: Reply) -> None:
        if isinstance(reply, Typing):
            await self._show_status(reply.status or "is thinking…")
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
        """End of the turn, however it ended: finish an open stream, clear the status."""
        try:
            await self._end_stream()
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
            self.delivered += 1
            return
        if self._stream is not None:
            stream, self._stream = self._stream, None
            if message.text.startswith(stream.text):
                rest = message.text[len(stream.text) :]
                if rest:
                    await stream.append(rest)
                await stream.stop(blocks=message_footer(message))
                self.delivered += 1
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
                self.delivered += 1
                return
            except SlackApiError as exc:
                log.info("Ephemeral link refused (%s); sending it by DM", slack_error(exc))
            dm = await open_dm(self._client, self._address.user_id)
            await post_once(
                self._client, channel=dm, thread_ts=None, rendered=rendered, key=self._next_key()
            )
            self.delivered += 1
            return
        await self._post(rendered)

    async def _post(self, rendered: Rendered) -> None:
        ts = await post_once(
            self._client,
            channel=self._address.channel,
            thread_ts=self._address.thread_ts,
            rendered=rendered,
            key=self._next_key(),
        )
        if ts is not None:
            self.delivered += 1

    async def _end_stream(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.stop()
            self.delivered += 1

    def _next_key(self) -> str:
        self._posts += 1
        return f"{self._key}:{self._posts}"


async def open_dm(client: AsyncWebClient, user_id: str) -> str:
    """The bot's DM channel with a user (conversations.open is idempotent)."""
    response = await client.conversations_open(users=user_id)
    return str(response["channel"]["id"])


def assistant_status(client: AsyncWebClient, address: SlackAddress) -> StatusSetter:
    """assistant.threads.setStatus for one thread; "" clears it. Cosmetic: failures are
    logged, never raised. https://docs.slack.dev/reference/methods/assistant.threads.setStatus
    """

    async def set_status(text: str) -> None:
        try:
            async with asyncio.timeout(WEB_API_TIMEOUT_S):
                await client.assistant_threads_setStatus(
                    channel_id=address.channel, thread_ts=address.thread_ts, status=text
                )
        except (SlackApiError, *TRANSPORT_ERRORS) as exc:
            log.info("assistant.threads.setStatus failed: %s", type(exc).__name__)

    return set_status
