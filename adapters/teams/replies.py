"""Each Reply of a turn, rendered and sent into the Teams conversation it answers."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.teams.cards import (
    Outgoing,
    render_agent_message,
    render_confirm,
    render_confirm_outcome,
    render_error,
    render_handoff,
    render_link_required,
    render_message,
)
from adapters.teams.send import Connector, TeamsSendError
from adapters.teams.stream import MessageStream
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

TYPING_EVERY_S = 3.0  # Teams shows a typing indicator for about three seconds


@dataclass(frozen=True, slots=True)
class PressedCard:
    """The confirm card whose button started this turn: the outcome replaces it."""

    activity_id: str
    data: Mapping[str, Any]


def render_standalone(reply: Reply) -> Outgoing | None:
    """A reply as the message to post on its own (no stream, no card to update)."""
    if isinstance(reply, Message):
        return render_message(reply)
    if isinstance(reply, ConfirmRequest):
        return render_confirm(reply)
    if isinstance(reply, HandoffStatus):
        return render_handoff(reply)
    if isinstance(reply, AgentMessage):
        return render_agent_message(reply)
    if isinstance(reply, LinkRequired):
        return render_link_required(reply)
    if isinstance(reply, ErrorReply):
        return render_error(reply)
    return None  # Typing, TextDelta


class ReplySender:
    """Renders each Reply of one turn and sends it.

    Streams in personal chats (informative updates while tools run, then the text as it
    grows); elsewhere a typing indicator and one message per reply. When the turn answers
    a press on a confirm card, the first message becomes that card's outcome.
    """

    def __init__(self, connector: Connector, *, card: PressedCard | None = None) -> None:
        self._connector = connector
        self._card = card
        self._stream: MessageStream | None = None
        self._typed_at: float | None = None
        self.sent: list[str] = []  # activity ids of the messages posted

    @property
    def streams(self) -> bool:
        return self._connector.address.streams

    async def send(self, reply: Reply) -> None:
        if isinstance(reply, Typing):
            await self._typing(reply.status)
        elif isinstance(reply, TextDelta):
            if self.streams and self._card is None and reply.text:
                await self._open_stream().append(reply.text)
        elif isinstance(reply, Message) and self._card is not None:
            await self._settle_card(reply.text)
        elif isinstance(reply, LinkRequired) and not self.streams:
            await self._post_link_privately(reply)
        else:
            outgoing = render_standalone(reply)
            if outgoing is None:
                return
            if self._stream is not None:
                stream, self._stream = self._stream, None
                # The answer (or, after informative updates only, whatever comes first)
                # ends the stream; other text so far is finished on its own.
                if isinstance(reply, Message) or not stream.text:
                    if await stream.finish(outgoing):
                        return
                else:
                    await self._finish_text(stream)
            await self._post(outgoing)

    async def close(self) -> None:
        """End of the turn however it ended: finish an open stream, settle a pressed card
        that got no outcome (the answer went below it)."""
        await self._end_stream()
        if self._card is not None:
            await self._settle_card(prompts.reply("channel_see_reply_below"))

    def typed_just_now(self) -> None:
        """A typing indicator was sent before the turn began; the engine's first Typing
        need not send another."""
        self._typed_at = time.monotonic()

    async def _typing(self, status: str | None) -> None:
        if status and self.streams and self._card is None:
            await self._open_stream().inform(status)
            return
        now = time.monotonic()
        if self._typed_at is None or now - self._typed_at >= TYPING_EVERY_S:
            self._typed_at = now
            await self._connector.typing()

    def _open_stream(self) -> MessageStream:
        if self._stream is None:
            self._stream = MessageStream(self._connector)
        return self._stream

    async def _end_stream(self) -> None:
        if self._stream is None:
            return
        stream, self._stream = self._stream, None
        if stream.text:
            await self._finish_text(stream)
        elif stream.started:
            await stream.finish(Outgoing(text="…"))

    async def _finish_text(self, stream: MessageStream) -> None:
        if not await stream.finish(Outgoing(text=stream.text)):
            await self._post(Outgoing(text=stream.text))

    async def _post_link_privately(self, link: LinkRequired) -> None:
        """A sign-in link is personal: in a channel or group chat it goes to the user's
        personal chat with the bot, and the thread only hears where to look."""
        await self._end_stream()
        try:
            await self._connector.post_personal(render_link_required(link))
        except TeamsSendError as exc:
            log.info("Could not open a personal chat for the sign-in link: %s", exc.status)
            await self._post(Outgoing(text=prompts.reply("teams_no_private_link")))
            return
        await self._post(Outgoing(text=prompts.reply("teams_link_sent_privately")))

    async def _settle_card(self, outcome: str) -> None:
        card, self._card = self._card, None
        assert card is not None
        await self._connector.update(
            card.activity_id, Outgoing(cards=[render_confirm_outcome(card.data, outcome)])
        )

    async def _post(self, outgoing: Outgoing) -> None:
        activity_id = await self._connector.post(outgoing)
        if activity_id:
            self.sent.append(activity_id)
