"""The widget follower: one loop per process that catches live sockets up with transcript
rows another replica wrote (its handoff relay).

A row the relay of this replica writes reaches the sockets at once (`WebDelivery.deliver`);
a row written by another replica's relay is only in the shared store. So while a human owns
a conversation, its sockets here must look at the store now and then. Doing that per socket
costs a query per open socket per tick — with a thousand idle visitors, most of a core. The
follower instead asks once per tick, in one statement, which widget conversations a human
owns and how far each transcript goes (`last_seq`), and syncs only the sockets of those
conversations that are behind. Sockets of bot-owned conversations never poll: their rows
are written by turns on the replica that holds the socket, which publishes them itself.

A conversation that leaves the handoff gets one last sync (the relay may have written the
agent's closing rows just before ownership went back to the bot).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from adapters.web.delivery import WebDelivery
from adapters.web.session import CHANNEL
from bot.desk import Desk
from bot.errors import BotError

log = logging.getLogger(__name__)

# A relayed agent message may be written by another replica; sockets here pick it up within
# this interval (the handoff's 2 s delivery target includes the relay's own 1 s poll).
FOLLOW_EVERY_S = 0.5


class WidgetFollower:
    """`run(stopping)` until stopped; `tick()` is one pass (one store statement at most)."""

    def __init__(self, *, desk: Desk, delivery: WebDelivery) -> None:
        self._desk = desk
        self._delivery = delivery
        self._followed: set[str] = set()  # keys with live sockets in handoff at the last tick
        self._one_at_a_time = asyncio.Lock()
        self.paused = False  # `run` skips its ticks (a test drives `tick` itself)

    async def run(self, stopping: asyncio.Event, *, every_s: float = FOLLOW_EVERY_S) -> None:
        while not stopping.is_set():
            try:
                if not self.paused:
                    await self.tick()
            except BotError:
                log.warning("widget follower: the store did not answer; retrying next tick")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), every_s)

    async def tick(self) -> int:
        """Sync the sockets that are behind in a human-owned conversation; returns how many
        conversations were synced."""
        async with self._one_at_a_time:
            return await self._tick()

    async def _tick(self) -> int:
        live = self._delivery.live_keys()
        if not live:
            self._followed.clear()
            return 0
        heads = {
            c.conversation_key: c.last_seq
            for c in await self._desk.conversations_in_handoff(CHANNEL)
            if c.conversation_key in live
        }
        ended = [key for key in self._followed if key not in heads and key in live]
        behind = [key for key, last_seq in heads.items() if self._is_behind(key, last_seq)]
        self._followed = set(heads)
        for key in (*ended, *behind):
            await self._delivery.sync_all(key)
        return len(ended) + len(behind)

    def _is_behind(self, key: str, last_seq: int) -> bool:
        cursors = [s.cursor for s in self._delivery.sockets(key) if s.cursor is not None]
        return any(cursor < last_seq for cursor in cursors)
