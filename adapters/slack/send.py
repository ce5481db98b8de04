"""The Slack Web API client of the process, and posting a message exactly once.

Every Web API call of the process goes through the `AsyncWebClient` built here (Bolt's
per-request clients copy its base URL, session and retry handlers). Retries:
- 429 `ratelimited` is retried after `Retry-After` (slack_sdk's rate-limit handler): Slack
  did not act on the call, so repeating it is safe.
- a connection error is retried only for calls that are safe to repeat (updates, status,
  reads); a post whose answer was lost is looked up by its metadata key before it is ever
  sent again (`post_once`), so a reply that may have reached Slack is not blindly re-sent.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.render import Rendered
from bot.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
WEB_API_TIMEOUT_S = 15
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


async def open_dm(client: AsyncWebClient, user_id: str) -> str:
    """The bot's DM channel with a user (conversations.open is idempotent)."""
    response = await client.conversations_open(users=user_id)
    return str(response["channel"]["id"])
