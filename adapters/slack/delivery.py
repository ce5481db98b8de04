"""The Slack proactive sender: a Reply into a stored conversation's DM or thread, unprompted.

The handoff relay registers `SlackDelivery.deliver` for the "slack" channel and calls it
for agent messages, "agent joined"/"ended" notices and the rating request. `True` means
Slack has the message, so the relay may advance its cursor; `False` means it was not
posted and the relay tries again later. Each post carries a key derived from the reply (the
helpdesk message id for agent messages) in its metadata, so a post whose answer was lost is
looked up before it is sent again (`post_once`).
"""

from __future__ import annotations

import hashlib
import logging

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.payloads import CHANNEL, SlackAddress
from adapters.slack.render import (
    Rendered,
    render_agent_message,
    render_confirm,
    render_error,
    render_handoff,
    render_link_required,
    render_message,
)
from adapters.slack.send import TRANSPORT_ERRORS, post_once, slack_error
from bot.desk import Desk
from bot.messages import (
    AgentMessage,
    ConfirmRequest,
    ErrorReply,
    HandoffStatus,
    LinkRequired,
    Message,
    Reply,
)

log = logging.getLogger(__name__)


def render_standalone(reply: Reply) -> list[Rendered]:
    """A reply as the message(s) to post on its own (no stream, no card to update)."""
    if isinstance(reply, Message):
        return render_message(reply)
    if isinstance(reply, AgentMessage):
        return [render_agent_message(reply)]
    if isinstance(reply, HandoffStatus):
        return [render_handoff(reply)]
    if isinstance(reply, ConfirmRequest):
        return [render_confirm(reply)]
    if isinstance(reply, LinkRequired):
        return [render_link_required(reply)]
    if isinstance(reply, ErrorReply):
        return [render_error(reply)]
    return []  # Typing, TextDelta: nothing to deliver on their own


def delivery_key(conversation_key: str, reply: Reply) -> str:
    """Stable for one reply, so a retried delivery finds the message it already posted."""
    if isinstance(reply, AgentMessage) and reply.message_id is not None:
        return f"relay:{conversation_key}:agent:{reply.message_id}"
    if isinstance(reply, Message) and reply.message_id is not None:
        return f"relay:{conversation_key}:message:{reply.message_id}"
    digest = hashlib.sha256(repr(reply).encode()).hexdigest()[:24]
    return f"relay:{conversation_key}:{type(reply).__name__}:{digest}"


class SlackDelivery:
    """`deliver(conversation_key, reply) -> bool` for the handoff relay."""

    def __init__(self, *, client: AsyncWebClient, desk: Desk) -> None:
        self._client = client
        self._desk = desk

    async def deliver(self, conversation_key: str, reply: Reply) -> bool:
        conversation = await self._desk.find_conversation(CHANNEL, conversation_key)
        address = SlackAddress.from_dict(conversation.address) if conversation else None
        if address is None or address.kind == "home":
            log.warning("No Slack address for a conversation; cannot deliver")
            return False
        pieces = render_standalone(reply)
        if not pieces:
            return True
        key = delivery_key(conversation_key, reply)
        for index, rendered in enumerate(pieces):
            try:
                ts = await post_once(
                    self._client,
                    channel=address.channel,
                    thread_ts=address.thread_ts,
                    rendered=rendered,
                    key=f"{key}:{index}",
                )
            except SlackApiError as exc:
                log.warning("Slack refused a relayed message: %s", slack_error(exc))
                return False
            except TRANSPORT_ERRORS as exc:
                log.warning("Slack unreachable for a relayed message: %s", type(exc).__name__)
                return False
            if ts is None:
                return False
        return True
