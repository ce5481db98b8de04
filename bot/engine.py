"""One turn of a conversation, whatever the channel: `Engine.handle(inbound)` → Reply events.

The order is the guarantee:
0. a conversation belongs to the person who started it: a message or press from anyone
   else (a shared thread or group chat) is told to ask in their own, and goes no further;
1. persist the inbound message (masked) before anything else — nothing is lost if a later
   step fails; a redelivered platform event is answered from the store, not run again;
2. take the conversation's turn lock (one turn at a time per conversation, across replicas);
3. resolve the helpdesk user (unlinked → a link request; a refused refresh → relink);
4. button presses and typed yes/no answer a pending write (exactly once; `bot.pending`);
5. mirror the message into the Helpdesk chat session (`bot.chat_session`);
6. while a human owns the conversation, stop there: no model call;
7. the model ⇄ tools loop (`bot.answering`, `bot.agent_loop`); writes become confirm-requests;
8. persist the reply, tool calls and token usage in one transaction (the inbound marked done
   with them); once the history outgrows the budget, fold old turns into the summary.

Beside the turns, `recover_interrupted_turns` finishes the turns a crashed process left
(`bot.interrupted`) and `settle_interrupted_writes` settles writes a crash left half done
(`bot.recovery`); the composition root calls both at start and on its maintenance timer.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from datetime import datetime

from bot import metrics, prompts
from bot.agent_loop import AgentLoop
from bot.answering import Answering
from bot.chat_parts import CHAT_MESSAGE_CHARS
from bot.chat_session import ChatSessions, Mirrored
from bot.config import EngineConfig
from bot.context import HistoryItem
from bot.escalation import Escalation
from bot.helpdesk.client import HelpdeskClient
from bot.helpdesk.errors import ReauthRequired
from bot.history import History
from bot.identity import UserDirectory
from bot.interrupted import InterruptedTurns
from bot.llm import ChatModel
from bot.logcontext import set_log_context, start_turn
from bot.messages import ErrorReply, HandoffStatus, Inbound, LinkRequired, Message, Reply, Typing
from bot.metrics import TurnMeter
from bot.pending import PendingWrites
from bot.recovery import Notify, Settled, settle_interrupted_writes
from bot.redact import mask_secrets
from bot.replay import persist_reply, reply_from_stored
from bot.side_model import SideModel
from bot.store.errors import LockTimeout
from bot.store.records import Conversation
from bot.store.records import Message as StoredMessage
from bot.store.store import Store
from bot.tooling import ToolRegistry
from bot.turn import Settlement, Turn, say
from bot.val_ai import ValAi

log = logging.getLogger(__name__)

# The account-link URL for an unlinked channel user; gets the inbound and the id of the
# stored message that waits, so the channel can answer it once the user is linked.
LinkUrl = Callable[[Inbound, int], Awaitable[str | None]]

_YES = {"yes", "y", "yeah", "yep", "confirm", "confirmed", "sure", "ok", "okay", "do it",
        "go ahead", "please do", "yes please", "correct"}  # fmt: skip
_NO = {"no", "n", "nope", "cancel", "stop", "don't", "do not", "no thanks", "never mind"}


class Engine:
    """The channel-neutral conversation core."""

    def __init__(
        self,
        *,
        store: Store,
        identities: UserDirectory,
        helpdesk: HelpdeskClient,
        model: ChatModel,
        tools: ToolRegistry,
        config: EngineConfig | None = None,
        link_url: LinkUrl | None = None,
        holder: str | None = None,
    ) -> None:
        self._store = store
        self._identities = identities
        self._helpdesk = helpdesk
        self._tools = tools
        self._config = config = config or EngineConfig()
        self._link_url = link_url
        # Names this process in the turn leases (the composition root passes its replica id).
        self._holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        side = SideModel(model)
        self._history = history = History(
            store=store, side=side, fold_tokens=config.input_token_budget
        )
        self._chats = ChatSessions(store=store, helpdesk=helpdesk)
        escalation = Escalation(
            store=store, helpdesk=helpdesk, chats=self._chats, history=history, side=side
        )
        self._pending = PendingWrites(
            store=store,
            helpdesk=helpdesk,
            tools=tools,
            chats=self._chats,
            history=history,
            escalation=escalation,
        )
        self._answering = Answering(
            store=store,
            helpdesk=helpdesk,
            tools=tools,
            loop=AgentLoop(
                model=model,
                tools=tools,
                budget=config.input_token_budget,
                answer_reserve_s=config.answer_reserve_s,
            ),
            history=history,
            escalation=escalation,
            val_ai=ValAi(helpdesk=helpdesk, wait_s=config.val_ai_wait_s),
            config=config,
        )

    async def handle(self, inbound: Inbound) -> AsyncIterator[Reply]:
        start_turn(channel=inbound.channel)
        with metrics.current().turn(inbound.channel).timing() as meter:
            async for reply in self._handle(inbound, meter):
                meter.saw(reply)
                yield reply

    async def _handle(self, inbound: Inbound, meter: TurnMeter) -> AsyncIterator[Reply]:
        redaction = mask_secrets(inbound.text or "")
        content = redaction.text if inbound.text is not None else _describe_action(inbound)
        conversation, stored, created = await self._store.receive_inbound(
            inbound.channel,
            inbound.conversation_key,
            user_key=inbound.user_key,
            address=dict(inbound.address) or None,
            content=content,
            event_id=inbound.event_id,
            author=inbound.display_name,
        )
        set_log_context(channel=inbound.channel, conversation=conversation.id)
        if stored is None:
            # A thread or group chat several people can post in: the conversation, its
            # history, its pending writes and its helpdesk chat belong to the person who
            # started it. Another person is told where to ask; nothing of theirs is stored
            # here (their words would reach this user's model as this user's).
            log.info("Turned away a message from someone else in this conversation")
            yield Message(text=prompts.reply("conversation_not_yours"), notice=True)
            return
        if not created and await self._replayed(conversation.id, inbound.event_id):
            async for reply in self._replay(conversation.id, inbound.event_id):
                yield reply
            meter.mark("replayed")
            return
        yield Typing()
        settlement = Settlement()
        async for reply in self._locked_turn(
            conversation,
            inbound,
            stored,
            masked=redaction.found,
            redelivered=not created,
            settlement=settlement,
        ):
            yield reply
        if not settlement.done:
            await self._store.set_message_status(stored.id, "done")

    async def resume(
        self, *, channel: str, conversation_key: str, message_id: int
    ) -> AsyncIterator[Reply]:
        """Answer a stored question that waited (e.g. for the user to link their account).

        Runs once per message (claimed in the store), only if the user has not written since,
        and never re-runs a button press.
        """
        start_turn(channel=channel)
        with metrics.current().turn(channel).timing() as meter:
            async for reply in self._resume(channel, conversation_key, message_id):
                meter.saw(reply)
                yield reply

    async def _resume(
        self, channel: str, conversation_key: str, message_id: int
    ) -> AsyncIterator[Reply]:
        conversation = await self._store.find_conversation(channel, conversation_key)
        set_log_context(channel=channel, conversation=conversation.id if conversation else "-")
        stored = await self._store.get_message(message_id)
        if (
            conversation is None
            or stored is None
            or stored.conversation_id != conversation.id
            or stored.role != "user"
            or stored.content.startswith("[pressed ")
        ):
            return
        if not await self._store.claim_event("resume", str(message_id)):
            return
        later = await self._store.messages_after(conversation.id, after_seq=stored.seq)
        if any(message.role == "user" for message in later):
            return
        inbound = Inbound(
            channel=channel,
            conversation_key=conversation_key,
            user_key=conversation.user_key,
            text=stored.content,
            address=conversation.address or {},
        )
        yield Typing()
        async for reply in self._locked_turn(conversation, inbound, stored, masked=False):
            yield reply

    async def recover_interrupted_turns(self, *, notify: Notify) -> int:
        """Finish the turns a crashed process left (`bot.interrupted`): settle their writes
        at once and answer a message left unanswered; returns how many were finished."""
        turns = InterruptedTurns(
            store=self._store,
            holder=self._holder,
            settle=lambda conversation_id: settle_interrupted_writes(
                store=self._store,
                identities=self._identities,
                helpdesk=self._helpdesk,
                tools=self._tools,
                notify=notify,
                older_than_s=0,
                conversation_id=conversation_id,
            ),
            answer=self._answer_again,
            notify=notify,
        )
        return await turns.recover()

    async def settle_interrupted_writes(self, *, notify: Notify) -> list[Settled]:
        """Settle the writes a crash left `executing` (done or failed, the user told);
        the composition root calls this at start and on its maintenance timer."""
        return await settle_interrupted_writes(
            store=self._store,
            identities=self._identities,
            helpdesk=self._helpdesk,
            tools=self._tools,
            notify=notify,
            older_than_s=self._config.interrupted_after_s,
        )

    # --- steps ---------------------------------------------------------------------------

    async def _locked_turn(
        self,
        conversation: Conversation,
        inbound: Inbound,
        stored: StoredMessage,
        *,
        masked: bool,
        redelivered: bool = False,
        settlement: Settlement | None = None,
    ) -> AsyncIterator[Reply]:
        """Run the turn under the conversation's lock; a lost sign-in asks to relink.

        If another turn of the conversation is running, the user hears "still working" at
        once and this turn waits for that one to end (`busy_wait_s`), then answers; the
        message was stored first, so waiting loses nothing. If the lock never comes, the
        user is told so plainly and asked to send it again.
        """
        lock, key = self._store.turn_lock, conversation.id
        async with AsyncExitStack() as stack:
            # One attempt first (a lock held by a dead process is taken over at once).
            if not await _entered(stack, lock(key, holder=self._holder, wait_s=0)):
                if not redelivered:  # a redelivery waits for its first delivery's answer
                    yield Message(text=prompts.reply("turn_still_working"), notice=True)
                waiting = lock(key, holder=self._holder, wait_s=self._config.busy_wait_s)
                if not await _entered(stack, waiting):
                    yield await self._busy_too_long(conversation, stored)
                    return
            if redelivered and await self._replayed(conversation.id, inbound.event_id):
                async for reply in self._replay(conversation.id, inbound.event_id):
                    yield reply
                return
            replies = self._turn_or_relink(
                conversation, inbound, stored, masked=masked, settlement=settlement or Settlement()
            )
            async for reply in replies:
                yield reply

    async def _answer_again(
        self, conversation: Conversation, stored: StoredMessage
    ) -> AsyncIterator[Reply]:
        """The turn of a stored message whose first turn a crash interrupted (under the
        turn lock the recovery holds); its copy in the helpdesk chat is not made twice."""
        inbound = Inbound(
            channel=conversation.channel,
            conversation_key=conversation.conversation_key,
            user_key=conversation.user_key,
            text=stored.content,
            event_id=stored.event_id,
            address=conversation.address or {},
        )
        start_turn(channel=conversation.channel, conversation=conversation.id)
        replies = self._turn_or_relink(
            conversation, inbound, stored, masked=False, settlement=Settlement(), again=True
        )
        with metrics.current().turn(conversation.channel).timing() as meter:
            async for reply in replies:
                meter.saw(reply)
                yield reply

    async def _turn_or_relink(
        self,
        conversation: Conversation,
        inbound: Inbound,
        stored: StoredMessage,
        *,
        masked: bool,
        settlement: Settlement,
        again: bool = False,
    ) -> AsyncIterator[Reply]:
        """The turn, under the lock the caller holds; a lost sign-in asks to relink."""
        # One read for the conversation and, while the bot owns it, the model's history.
        current, history = await self._history.current(conversation.id)
        conversation = current or conversation
        turn = self._turn(conversation, inbound, stored, masked, settlement, history, again=again)
        try:
            async for reply in turn:
                yield reply
        except ReauthRequired:
            yield await self._link_request(conversation, inbound, stored, relink=True)

    async def _turn(
        self,
        conversation: Conversation,
        inbound: Inbound,
        stored: StoredMessage,
        masked: bool,
        settlement: Settlement,
        history: list[HistoryItem],
        *,
        again: bool = False,
    ) -> AsyncIterator[Reply]:
        if masked:  # a notice, before anything else: the model still answers the question
            notice = Message(text=prompts.reply("turn_masked_secret"), notice=True)
            warning, _ = await persist_reply(
                self._store, conversation.id, notice, reply_to_id=stored.id
            )
            yield warning
        user = await self._identities.resolve(inbound.channel, inbound.user_key)
        if user is None:
            yield await self._link_request(conversation, inbound, stored, relink=False)
            return
        started = time.monotonic()
        turn = Turn(
            conversation=conversation,
            user=user,
            stored=stored,
            deadline=started + self._config.turn_timeout_s,
            reply_by=started + min(self._config.reply_deadline_s, self._config.turn_timeout_s),
            settlement=settlement,
        )
        if inbound.action is not None:
            async for reply in self._pending.on_action(turn, inbound.action):
                yield reply
            return
        verdict = _yes_or_no(stored.content)
        if verdict is not None:  # a typed yes/no answers the pending write, if there is one
            waiting = await self._store.latest_pending_action(conversation.id)
            if waiting is not None:
                kind = "confirm" if verdict else "cancel"
                async for reply in self._pending.on_pending(turn, kind=kind, action_id=waiting.id):
                    yield reply
                return
        if again:
            mirror = self._chats.mirror_once(
                conversation, user, stored.content, since=stored.created_at
            )
        else:
            mirror = self._chats.mirror(conversation, user, stored.content)
        mirrored = await mirror
        if mirrored.parts > 1:  # the helpdesk's record holds it in parts (or cut): say so
            yield await say(self._store, turn, _long_message_notice(mirrored), notice=True)
        async for reply in self._bot_or_human(turn, mirrored.chat_id, mirrored.at, history):
            yield reply

    async def _bot_or_human(
        self,
        turn: Turn,
        chat_id: int | None,
        mirrored_at: datetime | None,
        history: list[HistoryItem],
    ) -> AsyncIterator[Reply]:
        """While a human owns (or is asked to take) the conversation, no model call.

        Owned by the bot when the turn read it, it still is: only a turn (under the turn
        lock) hands a conversation to a human. Owned by a human, it may have come back to
        the bot meanwhile (the agent ended the chat), so it is read again.
        """
        current = turn.conversation
        if current.owner != "bot":
            fresh, history = await self._history.current(current.id)
            current = fresh or current
        if current.owner == "bot":
            turn = dataclasses.replace(turn, conversation=current)
            async for reply in self._answering.answer(turn, chat_id, mirrored_at, history):
                yield reply
            return
        name = "turn_added_to_queue" if current.owner == "queued" else "turn_passed_to_agent"
        yield await say(self._store, turn, prompts.reply(name), notice=True)

    # --- helpers -------------------------------------------------------------------------

    async def _link_request(
        self,
        conversation: Conversation,
        inbound: Inbound,
        stored: StoredMessage,
        *,
        relink: bool,
    ) -> Reply:
        url = await self._link_url(inbound, stored.id) if self._link_url is not None else None
        name = "link_expired" if relink else "link_needed"
        reply: Reply
        if url is None:
            reply = ErrorReply(text=prompts.reply(f"{name}_no_url"))
        else:
            reply = LinkRequired(url=url, text=prompts.reply(name))
        saved, _ = await persist_reply(self._store, conversation.id, reply, reply_to_id=stored.id)
        return saved

    async def _busy_too_long(self, conversation: Conversation, stored: StoredMessage) -> Reply:
        log.warning("Conversation %s stayed busy; a message was left unanswered", conversation.id)
        reply = ErrorReply(text=prompts.reply("turn_lock_gave_up"))
        saved, _ = await persist_reply(self._store, conversation.id, reply, reply_to_id=stored.id)
        return saved

    async def _replayed(self, conversation_id: int, event_id: str | None) -> bool:
        if event_id is None:
            return False
        return bool(await self._store.replies_for_event(conversation_id, event_id))

    async def _replay(self, conversation_id: int, event_id: str | None) -> AsyncIterator[Reply]:
        assert event_id is not None
        metrics.current().dedupe_hits.labels(source="message").inc()
        for message in await self._store.replies_for_event(conversation_id, event_id):
            reply = reply_from_stored(message)
            if reply is not None:
                yield reply


async def _entered(stack: AsyncExitStack, turn_lock: AbstractAsyncContextManager[object]) -> bool:
    """Enter the turn lock on `stack`; False if it stayed held for its whole wait."""
    try:
        await stack.enter_async_context(turn_lock)
    except LockTimeout:
        return False
    return True


def _long_message_notice(mirrored: Mirrored) -> str:
    limit = f"{CHAT_MESSAGE_CHARS:,}"
    if not mirrored.omitted:
        return prompts.reply("turn_long_message", limit=limit, count=mirrored.parts)
    return prompts.reply("turn_long_message_cut", limit=limit, omitted=f"{mirrored.omitted:,}")


def _yes_or_no(text: str) -> bool | None:
    words = " ".join(text.lower().strip(" .!?,").split())
    if words in _YES:
        return True
    if words in _NO:
        return False
    return None


def _describe_action(inbound: Inbound) -> str:
    assert inbound.action is not None
    return f"[pressed {inbound.action.action_id.split(':', 1)[0]}]"


__all__ = ["Engine", "EngineConfig", "HandoffStatus", "LinkUrl"]
