"""One turn of a conversation, whatever the channel: `Engine.handle(inbound)` → Reply events.

The order is the guarantee:
1. persist the inbound message (masked) before anything else — nothing is lost if a later
   step fails; a redelivered platform event is answered from the store, not run again;
2. take the conversation's turn lock (one turn at a time per conversation, across replicas);
3. resolve the helpdesk user (unlinked → a link request; a refused refresh → relink);
4. button presses and typed yes/no answer a pending write (exactly once);
5. mirror the message into the Helpdesk chat session (the helpdesk keeps the record);
6. while a human owns the conversation, stop there: no model call;
7. the model ⇄ tools loop (`bot.agent_loop`); writes become confirm-requests;
8. persist the reply, tool calls and token usage; fold old turns into the summary.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot import confirmations, pending, prompts
from bot.agent_loop import LoopResult, ModelGaveUp, run_loop
from bot.context import plan_context
from bot.conversation_ops import ConversationOps, stored_usage
from bot.frustration import wants_a_person
from bot.helpdesk.client import HelpdeskClient
from bot.helpdesk.errors import ReauthRequired
from bot.identity import IdentityService
from bot.llm import ChatModel
from bot.logcontext import set_log_context
from bot.messages import (
    Action,
    ConfirmRequest,
    ErrorReply,
    HandoffStatus,
    Inbound,
    LinkRequired,
    Message,
    Reply,
    Typing,
)
from bot.redact import mask_secrets
from bot.replay import persist_reply, reply_from_stored
from bot.store.records import Conversation
from bot.store.records import Message as StoredMessage
from bot.store.store import Store
from bot.tooling import ToolRegistry, ToolSpec
from bot.turn import Turn

log = logging.getLogger(__name__)

# The account-link URL for an unlinked channel user; gets the inbound and the id of the
# stored message that waits, so the channel can answer it once the user is linked.
LinkUrl = Callable[[Inbound, int], Awaitable[str | None]]

_YES = {"yes", "y", "yeah", "yep", "confirm", "confirmed", "sure", "ok", "okay", "do it",
        "go ahead", "please do", "yes please", "correct"}  # fmt: skip
MASKED_WARNING = (
    "I removed what looked like a password or code from your message. Please never share "
    "those in chat, and change it if it was real."
)
_NO = {"no", "n", "nope", "cancel", "stop", "don't", "do not", "no thanks", "never mind"}


@dataclass(frozen=True)
class EngineConfig:
    tenant_name: str = "IT Helpdesk"
    input_token_budget: int = 8000
    reply_deadline_s: float = 30.0  # the user gets an answer (maybe degraded) by then
    turn_timeout_s: float = 60.0
    val_ai_wait_s: float = 4.0


def offer_actions() -> tuple[Action, ...]:
    return (
        Action(id="create_ticket", kind="create_ticket", label="Create a ticket"),
        Action(id="talk_to_human", kind="talk_to_human", label="Talk to a human"),
    )


class Engine:
    """The channel-neutral conversation core."""

    def __init__(
        self,
        *,
        store: Store,
        identities: IdentityService,
        helpdesk: HelpdeskClient,
        model: ChatModel,
        tools: ToolRegistry,
        config: EngineConfig = EngineConfig(),
        link_url: LinkUrl | None = None,
        holder: str | None = None,
    ) -> None:
        self._store = store
        self._identities = identities
        self._helpdesk = helpdesk
        self._model = model
        self._tools = tools
        self._config = config
        self._link_url = link_url
        # Names this process in the turn leases (the composition root passes its replica id).
        self._holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._ops = ConversationOps(store=store, helpdesk=helpdesk, model=model, config=config)

    async def handle(self, inbound: Inbound) -> AsyncIterator[Reply]:
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
            return
        yield Typing()
        async with self._store.turn_lock(conversation.id, holder=self._holder):
            if not created and await self._replayed(conversation.id, inbound.event_id):
                async for reply in self._replay(conversation.id, inbound.event_id):
                    yield reply
                return
            conversation = await self._store.get_conversation(conversation.id) or conversation
            try:
                async for reply in self._turn(conversation, inbound, stored, redaction.found):
                    yield reply
            except ReauthRequired:
                yield await self._link_request(conversation, inbound, stored, relink=True)
            await self._store.set_message_status(stored.id, "done")

    async def resume(
        self, *, channel: str, conversation_key: str, message_id: int
    ) -> AsyncIterator[Reply]:
        """Answer a stored question that waited (e.g. for the user to link their account).

        Runs once per message (claimed in the store), only if the user has not written since,
        and never re-runs a button press.
        """
        conversation = await self._store.find_conversation(channel, conversation_key)
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
        async with self._store.turn_lock(conversation.id, holder=self._holder):
            current = await self._store.get_conversation(conversation.id) or conversation
            try:
                async for reply in self._turn(current, inbound, stored, masked=False):
                    yield reply
            except ReauthRequired:
                yield await self._link_request(current, inbound, stored, relink=True)

    # --- steps ---------------------------------------------------------------------------

    async def _turn(
        self, conversation: Conversation, inbound: Inbound, stored: StoredMessage, masked: bool
    ) -> AsyncIterator[Reply]:
        if masked:  # a notice, before anything else: the model still answers the question
            warning, _ = await persist_reply(
                self._store,
                conversation.id,
                Message(text=MASKED_WARNING, notice=True),
                reply_to_id=stored.id,
            )
            yield warning
        user = await self._identities.resolve(inbound.channel, inbound.user_key)
        if user is None:
            yield await self._link_request(conversation, inbound, stored, relink=False)
            return
        turn = Turn(
            store=self._store,
            helpdesk=self._helpdesk,
            tools=self._tools,
            ops=self._ops,
            conversation=conversation,
            user=user,
            stored=stored,
            deadline=time.monotonic() + self._config.turn_timeout_s,
        )
        if inbound.action is not None:
            async for reply in pending.on_action(turn, inbound.action):
                yield reply
            return
        verdict = _yes_or_no(stored.content)
        if verdict is not None:  # a typed yes/no answers the pending write, if there is one
            waiting = await self._store.latest_pending_action(conversation.id)
            if waiting is not None:
                kind = "confirm" if verdict else "cancel"
                async for reply in pending.on_pending(turn, kind=kind, action_id=waiting.id):
                    yield reply
                return
        chat_id, mirrored_at = await self._ops.mirror(conversation, user, stored.content)
        current = await self._store.get_conversation(conversation.id) or conversation
        if current.owner != "bot":
            note = "Your message was passed to the agent."
            if current.owner == "queued":
                note = "Your message was added to the chat; an agent will see it when they join."
            yield await turn.say(note, notice=True)
            return
        async for reply in self._answer(turn, chat_id, mirrored_at):
            yield reply

    async def _answer(
        self, turn: Turn, chat_id: int | None, mirrored_at: datetime | None
    ) -> AsyncIterator[Reply]:
        started = time.monotonic()
        conversation, user = turn.conversation, turn.user
        offered = self._tools.offered(user.capabilities)
        history = await self._ops.history(conversation)
        system = prompts.render(
            "system",
            tenant_name=self._config.tenant_name,
            user_name=user.display_name,
            company_name=user.profile.company_name or "your company",
            date=datetime.now(UTC).strftime("%A %d %B %Y"),
        )
        plan = plan_context(
            system=system,
            summary=conversation.summary,
            history=history,
            tools=[spec.schema() for spec in offered],
            budget=self._config.input_token_budget,
        )
        context = turn.tool_context(chat_id)

        async def propose(
            spec: ToolSpec[Any], call_id: str, raw: str
        ) -> tuple[ConfirmRequest | None, dict[str, Any]]:
            return await confirmations.propose(
                self._store,
                conversation_id=conversation.id,
                user_key=conversation.user_key,
                spec=spec,
                context=context,
                tool_call_id=call_id,
                raw_arguments=raw,
            )

        result = LoopResult()
        try:
            async for delta in run_loop(
                model=self._model,
                messages=plan.messages,
                offered=offered,
                registry=self._tools,
                context=context,
                propose_write=propose,
                result=result,
                deadline=min(started + self._config.reply_deadline_s, turn.deadline),
                budget=self._config.input_token_budget,
            ):
                yield delta
        except ModelGaveUp as exc:
            log.warning("Model gave up after retries (%s); degrading", type(exc.last).__name__)
            await self._ops.record(conversation.id, result.recorded)
            yield await self._degraded(turn, chat_id, mirrored_at, exc)
            return
        await self._ops.record(
            conversation.id, result.recorded[:-1] if result.text else result.recorded
        )
        final_usage = result.recorded[-1].usage if result.recorded else None
        if result.text:
            # Nothing in the knowledge base, or a frustrated user: offer the ways forward as
            # buttons, not just words.
            earlier = [i.message.content or "" for i in history if i.message.role == "user"][:-1]
            needs_person = wants_a_person(turn.stored.content, earlier)
            stuck = result.nothing_found and not result.sources
            offers = offer_actions() if stuck or needs_person else ()
            answer = Message(text=result.text, sources=tuple(result.sources), actions=offers)
            yield await turn.reply(answer, feedback=True, usage=stored_usage(final_usage))
        if result.confirm is not None:
            yield await turn.say_confirm(result.confirm)
        if result.handoff_reason is not None:
            yield await turn.escalate(chat_id, result.handoff_reason)
        await self._ops.fold(conversation, plan.fold, user, deadline=turn.deadline)

    async def _degraded(
        self, turn: Turn, chat_id: int | None, mirrored_at: datetime | None, failure: ModelGaveUp
    ) -> Reply:
        val_ai = await self._ops.val_ai_answer(turn.user, chat_id, mirrored_at)
        if val_ai:
            text = f"Here's what the helpdesk's assistant suggests:\n\n{val_ai}"
        else:
            text = prompts.load("degraded")
        if failure.streamed_text:
            text = failure.streamed_text + "\n\n" + text
        return await turn.reply(Message(text=text, actions=offer_actions(), degraded=True))

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
        text = (
            "Your helpdesk sign-in has expired. Please link your account again; "
            "I'll keep this conversation."
            if relink
            else "To help you, I need to connect to your helpdesk account first."
        )
        if url is None:
            error = ErrorReply(text=text + " Sign in from the chat widget or ask your admin.")
            saved_error, _ = await persist_reply(
                self._store, conversation.id, error, reply_to_id=stored.id
            )
            return saved_error
        link, _ = await persist_reply(
            self._store, conversation.id, LinkRequired(url=url, text=text), reply_to_id=stored.id
        )
        return link

    async def _replayed(self, conversation_id: int, event_id: str | None) -> bool:
        if event_id is None:
            return False
        return bool(await self._store.replies_for_event(conversation_id, event_id))

    async def _replay(self, conversation_id: int, event_id: str | None) -> AsyncIterator[Reply]:
        assert event_id is not None
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


__all__ = ["Engine", "EngineConfig", "HandoffStatus"]
