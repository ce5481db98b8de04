"""Turns a crash interrupted: found by the turn lease they left behind, finished on restart.

A turn holds its conversation's lease (`turn:<id>`) from start to end and deletes it when
it ends, so a turn lease still there whose holder is gone, or whose TTL ran out
(`Store.orphaned_turn_leases`), is a turn whose process died. The sweep takes that lease over —
nothing else runs in the conversation meanwhile, and a live turn that took it first is left
alone — and then:

- settles the writes the turn left `executing` at once (`bot.recovery`: done and the user
  told, or failed and a fresh confirm card), instead of after `interrupted_after_s`;
- answers the message the dead turn was answering — the user's newest, stored before the
  lease was taken — if no answer to it was stored, through `notify` (the channel's
  proactive sender). A button press is never run again (its write was settled above). A
  user message stored after the lease was taken belongs to a turn that waited for the
  lock, maybe in a live process that will run it: then the sweep answers nothing.

The answer is stored before it is sent, and the message is marked done after, so a second
sweep (another replica, the next round) finds nothing left to do.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.messages import Reply, TextDelta, Typing
from bot.recovery import Notify, Settled
from bot.store.errors import LockTimeout
from bot.store.records import Conversation, Message
from bot.store.store import Store

log = logging.getLogger(__name__)

#: How long the sweep waits for a lease a live turn may hold (then it is not the sweep's).
TAKE_OVER_WAIT_S = 1.0
_RECENT = 20  # rows looked at for the newest user message and what answered it

SettleWrites = Callable[[int], Awaitable[list[Settled]]]
AnswerAgain = Callable[[Conversation, Message], AsyncIterator[Reply]]


@dataclass(frozen=True, slots=True)
class InterruptedTurns:
    store: Store
    holder: str  # this process's name in the turn leases
    settle: SettleWrites  # settles one conversation's executing writes now
    answer: AnswerAgain  # runs the turn for a stored user message, yielding its replies
    notify: Notify

    async def recover(self) -> int:
        """Finish every orphaned turn this process can take over; returns how many."""
        finished = 0
        for lease in await self.store.orphaned_turn_leases():
            conversation_id = lease.name.removeprefix("turn:")
            if not conversation_id.isdigit():
                continue
            try:
                async with self.store.turn_lock(
                    int(conversation_id), holder=self.holder, wait_s=TAKE_OVER_WAIT_S
                ):
                    await self._finish(int(conversation_id), lease.acquired_at)
            except LockTimeout:
                continue  # a live turn holds it: the periodic write sweep covers the rest
            except Exception:  # one conversation's failure must not hold up the others
                log.exception(
                    "Finishing the interrupted turn of conversation %s failed", conversation_id
                )
                continue
            finished += 1
        if finished:
            log.info("Finished %d turn(s) a crash had interrupted", finished)
        return finished

    async def _finish(self, conversation_id: int, turn_began: datetime) -> None:
        conversation = await self.store.get_conversation(conversation_id)
        if conversation is None:
            return
        await self.settle(conversation_id)
        waiting = await self._unanswered(conversation, turn_began)
        if waiting is None:
            return
        async for reply in self.answer(conversation, waiting):
            if not isinstance(reply, Typing | TextDelta):
                await self.notify(conversation.channel, conversation.conversation_key, reply)
        await self.store.set_message_status(waiting.id, "done")

    async def _unanswered(self, conversation: Conversation, turn_began: datetime) -> Message | None:
        """The message the interrupted turn was answering, if it never answered it."""
        recent = await self.store.recent_messages(conversation.id, limit=_RECENT)
        newest = next((m for m in reversed(recent) if m.role == "user"), None)
        if newest is None or newest.status != "pending" or newest.created_at > turn_began:
            return None
        answered = any(
            m.reply_to_id == newest.id and m.role in ("assistant", "notice") and not m.tool_calls
            for m in recent
        )
        if answered or newest.content.startswith("[pressed "):
            await self.store.set_message_status(newest.id, "done")
            return None
        return newest
