"""One turn of a conversation, whatever the channel: `Engine.handle(inbound)` → Reply events.

The order is the guarantee:
1. persist the inbound message (masked) before anything else — nothing is lost if a later
   step fails; a redelivered platform event is answered from the store, not run again;
2. take the conversation's turn lock (one turn at a time per conversation, across replicas);
3. resolve the helpdesk user (unlinked → a link request; a refused refresh → relink);
4. button presses and typed yes/no answer a pending write (exactly once; `bot.pending`);
5. mirror the message into the Helpdesk chat session (`bot.chat_session`);
6. while a human owns the conversation, stop there: no model call;
7. the model ⇄ tools loop (`bot.answering`, `bot.agent_loop`); writes become confirm-requests;
8. persist the reply, tool calls and token usage; fold old turns into the summary.

Beside the turns, `recover_interrupted_turns` finishes the turns a crashed process left
(`bot.interrupted`) and `settle_interrupted_writes` settles writes a crash left half done
(`bot.recovery`); the composition root calls both at start and on its maintenance timer.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime

from bot import metrics, prompts
from bot.agent_loop import AgentLoop
from bot.answering import Answering
from bot.chat_session import ChatSessions
from bot.config import EngineConfig
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
from bot.store.records import Conversation
from bot.store.records import Message as StoredMessage
from bot.store.store import Store
from bot.tooling import ToolRegistry
from bot.turn import Turn, say
from bot.val_ai import ValAi

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
        history = History(store=store, side=side)
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
            loop=AgentLoop(model=model, tools=tools, budget=config.input_token_budget),
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
        conversation = await self._store.get_or_create_conversation(
            inbound.channel,
            inbound.conversation_key,
            user_key=inbound.user_key,
            address=dict(inbound.address) or None,
        )
        set_log_context(channel=inbound.channel, conversation=conversation.id)
        redaction = mask_secrets(inbound.text or "")
        content = redaction.text if inbound.text is not None else _describe_action(inbound)
        stored, created = await self._store.add_inbound_message(
            conversation.id, content, event_id=inbound.event_id, author=inbound.display_name
        )
        if not created and await self._replayed(conversation.id, inbound.event_id):
            async for reply in self._replay(conversation.id, inbound.event_id):
                yield reply
            meter.mark("replayed")
            return
        yield Typing()
        async for reply in self._locked_turn(
            conversation, inbound, stored, masked=redaction.found, redelivered=not created
        ):
            yield reply
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
    ) -> AsyncIterator[Reply]:
        """Run the turn under the conversation's lock; a lost sign-in asks to relink."""
        async with self._store.turn_lock(conversation.id, holder=self._holder):
            if redelivered and await self._replayed(conversation.id, inbound.event_id):
                async for reply in self._replay(conversation.id, inbound.event_id):
                    yield reply
                return
            current = await self._store.get_conversation(conversation.id) or conversation
            async for reply in self._turn_or_relink(current, inbound, stored, masked=masked):
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
        replies = self._turn_or_relink(conversation, inbound, stored, masked=False, again=True)
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
        again: bool = False,
    ) -> AsyncIterator[Reply]:
        try:
            async for reply in self._turn(conversation, inbound, stored, masked, again=again):
                yield reply
        except ReauthRequired:
            yield await self._link_request(conversation, inbound, stored, relink=True)

    async def _turn(
        self,
        conversation: Conversation,
        inbound: Inbound,
        stored: StoredMessage,
        masked: bool,
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
        turn = Turn(
            conversation=conversation,
            user=user,
            stored=stored,
            deadline=time.monotonic() + self._config.turn_timeout_s,
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
        chat_id, mirrored_at = await mirror
        async for reply in self._bot_or_human(turn, chat_id, mirrored_at):
            yield reply

    async def _bot_or_human(
        self, turn: Turn, chat_id: int | None, mirrored_at: datetime | None
    ) -> AsyncIterator[Reply]:
        """While a human owns (or is asked to take) the conversation, no model call."""
        current = await self._store.get_conversation(turn.conversation.id) or turn.conversation
        if current.owner == "bot":
            async for reply in self._answering.answer(turn, chat_id, mirrored_at):
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
