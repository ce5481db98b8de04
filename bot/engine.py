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

from bot import confirmations, prompts
from bot.agent_loop import LoopResult, ModelGaveUp, run_loop
from bot.context import plan_context
from bot.conversation_ops import ConversationOps, json_arguments
from bot.helpdesk.client import HelpdeskClient
from bot.helpdesk.errors import ReauthRequired
from bot.identity import HelpdeskUser, IdentityService
from bot.llm import ChatModel, Usage
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
from bot.store.records import Conversation, PendingAction, TokenUsage
from bot.store.records import Message as StoredMessage
from bot.store.store import Store
from bot.tooling import ToolContext, ToolRegistry, ToolSpec

log = logging.getLogger(__name__)

# The account-link URL for an unlinked channel user; gets the inbound and the id of the
# stored message that waits, so the channel can answer it once the user is linked.
LinkUrl = Callable[[Inbound, int], Awaitable[str | None]]

_YES = {"yes", "y", "yeah", "yep", "confirm", "confirmed", "sure", "ok", "okay", "do it",
        "go ahead", "please do", "yes please", "correct"}  # fmt: skip
_NO = {"no", "n", "nope", "cancel", "stop", "don't", "do not", "no thanks", "never mind"}


@dataclass(frozen=True)
class EngineConfig:
    tenant_name: str = "IT Helpdesk"
    input_token_budget: int = 8000
    reply_deadline_s: float = 30.0  # the user gets an answer (maybe degraded) by then
    turn_timeout_s: float = 60.0
    val_ai_wait_s: float = 4.0


def feedback_actions(message_id: int) -> tuple[Action, ...]:
    return (
        Action(id=f"feedback:{message_id}", kind="feedback", label="👍", value="up"),
        Action(id=f"feedback:{message_id}", kind="feedback", label="👎", value="down"),
    )


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
    ) -> None:
        self._store = store
        self._identities = identities
        self._helpdesk = helpdesk
        self._model = model
        self._tools = tools
        self._config = config
        self._link_url = link_url
        self._holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._ops = ConversationOps(store=store, helpdesk=helpdesk, model=model, config=config)

    async def handle(self, inbound: Inbound) -> AsyncIterator[Reply]:
        conversation = await self._store.get_or_create_conversation(
            inbound.channel,
            inbound.conversation_key,
            user_key=inbound.user_key,
            address=dict(inbound.address) or None,
        )
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

    # --- steps ---------------------------------------------------------------------------

    async def _turn(
        self, conversation: Conversation, inbound: Inbound, stored: StoredMessage, masked: bool
    ) -> AsyncIterator[Reply]:
        user = await self._identities.resolve(inbound.channel, inbound.user_key)
        if user is None:
            yield await self._link_request(conversation, inbound, stored, relink=False)
            return
        if masked:
            yield await self._say(
                conversation,
                stored,
                "I removed what looked like a password or code from "
                "your message. Please never share those in chat, and change it if it was real.",
            )
        if inbound.action is not None:
            async for reply in self._on_action(conversation, user, inbound, stored):
                yield reply
            return
        text = stored.content
        verdict = _yes_or_no(text)
        if verdict is not None:
            pending = await self._store.latest_pending_action(conversation.id)
            if pending is not None:
                kind = "confirm" if verdict else "cancel"
                async for reply in self._on_pending(
                    conversation, user, stored, kind=kind, action_id=pending.id
                ):
                    yield reply
                return
        chat_id, mirrored_at = await self._ops.mirror(conversation, user, text)
        conversation = await self._store.get_conversation(conversation.id) or conversation
        if conversation.owner != "bot":
            note = "Your message was passed to the agent."
            if conversation.owner == "queued":
                note = "Your message was added to the chat; an agent will see it when they join."
            yield await self._say(conversation, stored, note, role="notice")
            return
        async for reply in self._answer(conversation, user, stored, chat_id, mirrored_at):
            yield reply

    async def _answer(
        self,
        conversation: Conversation,
        user: HelpdeskUser,
        stored: StoredMessage,
        chat_id: int | None,
        mirrored_at: datetime | None,
    ) -> AsyncIterator[Reply]:
        started = time.monotonic()
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
        context = self._tool_context(user, chat_id)

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
                deadline=started + self._config.reply_deadline_s,
                budget=self._config.input_token_budget,
            ):
                yield delta
        except ModelGaveUp as exc:
            log.warning("Model gave up after retries (%s); degrading", type(exc.last).__name__)
            await self._ops.record(conversation.id, result.recorded)
            yield await self._degraded(conversation, user, stored, chat_id, mirrored_at, exc)
            return
        await self._ops.record(
            conversation.id, result.recorded[:-1] if result.text else result.recorded
        )
        final_usage = result.recorded[-1].usage if result.recorded else None
        if result.text:
            saved = await self._store.add_message(
                conversation.id,
                role="assistant",
                content=result.text,
                reply_to_id=stored.id,
                usage=_store_usage(final_usage),
            )
            yield Message(
                text=result.text,
                sources=tuple(result.sources),
                actions=feedback_actions(saved.id),
                message_id=saved.id,
            )
        if result.confirm is not None:
            yield await self._say_confirm(conversation, stored, result.confirm)
        if result.handoff_reason is not None:
            yield await self._escalate(conversation, user, stored, chat_id, result.handoff_reason)
        await self._ops.fold(conversation, plan.fold, user)

    async def _on_action(
        self,
        conversation: Conversation,
        user: HelpdeskUser,
        inbound: Inbound,
        stored: StoredMessage,
    ) -> AsyncIterator[Reply]:
        assert inbound.action is not None
        kind, _, argument = inbound.action.action_id.partition(":")
        if kind in ("confirm", "cancel", "comment_instead"):
            async for reply in self._on_pending(
                conversation,
                user,
                stored,
                kind=kind,
                action_id=argument,
                value=inbound.action.value,
            ):
                yield reply
        elif kind == "feedback" and argument.isdigit():
            await self._store.set_feedback(
                conversation.id, int(argument), value=1 if inbound.action.value == "up" else -1
            )
        elif kind == "talk_to_human":
            chat_id, _ = await self._ops.ensure_chat(conversation, user)
            yield await self._escalate(
                conversation, user, stored, chat_id, "The user asked to talk to a person."
            )
        elif kind == "create_ticket":
            async for reply in self._propose_direct(
                conversation, user, stored, "create_ticket_from_chat", "{}"
            ):
                yield reply
        else:
            yield await self._say(conversation, stored, "That button is no longer active.")

    async def _on_pending(
        self,
        conversation: Conversation,
        user: HelpdeskUser,
        stored: StoredMessage,
        *,
        kind: str,
        action_id: str,
        value: str | None = None,
    ) -> AsyncIterator[Reply]:
        if kind == "cancel" or kind == "comment_instead":
            cancelled = await self._store.cancel_pending_action(
                action_id, user_key=conversation.user_key
            )
            if not cancelled:
                current = await self._store.get_pending_action(action_id)
                yield await self._say(conversation, stored, confirmations.describe_stale(current))
                return
            if kind == "cancel":
                await self._ops.note_outcome(conversation.id, "The user cancelled the change.")
                yield await self._say(conversation, stored, "Cancelled — nothing was changed.")
                return
            action = await self._store.get_pending_action(action_id)
            async for reply in self._comment_instead(conversation, user, stored, action, value):
                yield reply
            return
        claimed = await self._store.claim_pending_action(action_id, user_key=conversation.user_key)
        if claimed is None:
            current = await self._store.get_pending_action(action_id)
            yield await self._say(conversation, stored, confirmations.describe_stale(current))
            return
        spec = self._tools.get(claimed.tool_name)
        if spec is None or not spec.allowed(user.capabilities):
            await self._store.complete_pending_action(
                claimed.id, status="failed", result={"error": "not allowed"}
            )
            yield await self._say(conversation, stored, "You're not allowed to do that.")
            return
        chat_id = conversation.helpdesk_chat_id
        outcome = await confirmations.execute(
            claimed, spec=spec, context=self._tool_context(user, chat_id)
        )
        await self._store.complete_pending_action(
            claimed.id, status="done" if outcome.ok else "failed", result=dict(outcome.result)
        )
        await self._ops.note_outcome(
            conversation.id, f"Result of {spec.name} after the user confirmed: {outcome.result}"
        )
        yield await self._say(conversation, stored, outcome.text)

    async def _comment_instead(
        self,
        conversation: Conversation,
        user: HelpdeskUser,
        stored: StoredMessage,
        action: PendingAction | None,
        ticket_number: str | None,
    ) -> AsyncIterator[Reply]:
        if action is None or not ticket_number or not ticket_number.isdigit():
            yield await self._say(conversation, stored, "I couldn't find that request any more.")
            return
        description = str(action.arguments.get("description") or action.arguments.get("subject"))
        raw = json_arguments(ticket_number=int(ticket_number), comment=description)
        async for reply in self._propose_direct(
            conversation, user, stored, "add_ticket_comment", raw
        ):
            yield reply

    async def _propose_direct(
        self,
        conversation: Conversation,
        user: HelpdeskUser,
        stored: StoredMessage,
        tool: str,
        raw_arguments: str,
    ) -> AsyncIterator[Reply]:
        spec = self._tools.get(tool)
        if spec is None or not spec.allowed(user.capabilities):
            yield await self._say(conversation, stored, "You can't do that from here.")
            return
        confirm, model_result = await confirmations.propose(
            self._store,
            conversation_id=conversation.id,
            user_key=conversation.user_key,
            spec=spec,
            context=self._tool_context(user, conversation.helpdesk_chat_id),
            tool_call_id=f"direct-{stored.id}",
            raw_arguments=raw_arguments,
        )
        if confirm is None:
            yield await self._say(conversation, stored, f"I can't do that: {model_result['error']}")
            return
        yield await self._say_confirm(conversation, stored, confirm)

    async def _escalate(
        self,
        conversation: Conversation,
        user: HelpdeskUser,
        stored: StoredMessage,
        chat_id: int | None,
        reason: str,
    ) -> Reply:
        status = await self._ops.escalate(conversation, user, chat_id, reason)
        await self._store.add_message(
            conversation.id, role="notice", content=status.text, reply_to_id=stored.id
        )
        return status

    async def _degraded(
        self,
        conversation: Conversation,
        user: HelpdeskUser,
        stored: StoredMessage,
        chat_id: int | None,
        mirrored_at: datetime | None,
        failure: ModelGaveUp,
    ) -> Reply:
        val_ai = await self._ops.val_ai_answer(user, chat_id, mirrored_at)
        if val_ai:
            text = f"Here's what the helpdesk's assistant suggests:\n\n{val_ai}"
        else:
            text = prompts.load("degraded")
        if failure.streamed_text:
            text = failure.streamed_text + "\n\n" + text
        saved = await self._store.add_message(
            conversation.id, role="assistant", content=text, reply_to_id=stored.id
        )
        return Message(text=text, actions=offer_actions(), message_id=saved.id, degraded=True)

    # --- helpers -------------------------------------------------------------------------

    def _tool_context(self, user: HelpdeskUser, chat_id: int | None) -> ToolContext:
        return ToolContext(
            helpdesk=self._helpdesk,
            auth=user.auth,
            profile=user.profile,
            capabilities=user.capabilities,
            chat_id=chat_id,
        )

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
        await self._store.add_message(
            conversation.id, role="notice", content=text, reply_to_id=stored.id
        )
        if url is None:
            return ErrorReply(text=text + " Sign in from the chat widget or ask your admin.")
        return LinkRequired(url=url, text=text)

    async def _say(
        self,
        conversation: Conversation,
        stored: StoredMessage,
        text: str,
        *,
        role: str = "assistant",
    ) -> Message:
        saved = await self._store.add_message(
            conversation.id,
            role="notice" if role == "notice" else "assistant",
            content=text,
            reply_to_id=stored.id,
        )
        return Message(text=text, message_id=saved.id)

    async def _say_confirm(
        self, conversation: Conversation, stored: StoredMessage, confirm: ConfirmRequest
    ) -> ConfirmRequest:
        await self._store.add_message(
            conversation.id,
            role="notice",
            content=confirmations.render_confirm_text(confirm),
            reply_to_id=stored.id,
        )
        return confirm

    async def _replayed(self, conversation_id: int, event_id: str | None) -> bool:
        if event_id is None:
            return False
        return bool(await self._store.replies_for_event(conversation_id, event_id))

    async def _replay(self, conversation_id: int, event_id: str | None) -> AsyncIterator[Reply]:
        assert event_id is not None
        for message in await self._store.replies_for_event(conversation_id, event_id):
            yield Message(text=message.content, message_id=message.id)


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


def _store_usage(usage: Usage | None) -> TokenUsage | None:
    if usage is None:
        return None
    return TokenUsage(input_tokens=usage.input_tokens, output_tokens=usage.output_tokens)


__all__ = ["Engine", "EngineConfig", "HandoffStatus"]
