"""The engine's work on a conversation's record: helpdesk chat, history, summary, handoff.

Kept apart from `bot.engine` (which orders the steps of a turn) so each stays small:
mirroring messages into the Helpdesk chat session, loading the model-visible history,
recording a turn's tool calls, folding old turns into the rolling summary, escalating to a
human with a handoff note, and fetching the helpdesk's own Val AI answer when our model fails.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot import prompts
from bot.agent_loop import Recorded
from bot.context import HistoryItem, transcript, truncate_to_tokens
from bot.helpdesk.client import HelpdeskClient
from bot.helpdesk.errors import Conflict, HelpdeskError, PermissionDenied, ReauthRequired
from bot.identity import HelpdeskUser
from bot.llm import (
    ChatModel,
    ModelError,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ToolCall,
    Usage,
)
from bot.messages import HandoffStatus
from bot.store.records import Conversation, TokenUsage
from bot.store.records import Message as StoredMessage
from bot.store.store import Store

if TYPE_CHECKING:
    from bot.engine import EngineConfig

log = logging.getLogger(__name__)

HISTORY_LIMIT = 200
SIDE_CALL_TIMEOUT_S = 12.0
SUMMARY_TOKENS = 600


class ConversationOps:
    def __init__(
        self, *, store: Store, helpdesk: HelpdeskClient, model: ChatModel, config: EngineConfig
    ) -> None:
        self._store = store
        self._helpdesk = helpdesk
        self._model = model
        self._config = config

    # --- helpdesk chat ---------------------------------------------------------------------

    async def ensure_chat(
        self, conversation: Conversation, user: HelpdeskUser, *, fresh: bool = False
    ) -> tuple[int | None, bool]:
        """The conversation's helpdesk chat id (started or resumed); (None, False) if the
        helpdesk's chat is unavailable to this user. The flag says it is a new session."""
        if conversation.helpdesk_chat_id is not None and not fresh:
            return conversation.helpdesk_chat_id, False
        try:
            session = await self._helpdesk.chat_start(user.auth)
        except ReauthRequired:
            raise
        except HelpdeskError as exc:
            log.warning("Could not start a helpdesk chat: %s", exc)
            return None, False
        await self._store.set_helpdesk_chat(conversation.id, session.chat_id)
        return session.chat_id, True

    async def mirror(
        self, conversation: Conversation, user: HelpdeskUser, text: str
    ) -> tuple[int | None, datetime | None]:
        """Copy the user's message into the helpdesk chat; returns (chat id, its timestamp).

        A failure here never fails the turn: the user still gets an answer.
        """
        chat_id, _ = await self.ensure_chat(conversation, user)
        if chat_id is None:
            return None, None
        for attempt in range(2):
            try:
                sent = await self._helpdesk.chat_send(user.auth, chat_id, text)
                return chat_id, sent.created_at
            except ReauthRequired:
                raise
            except Conflict:  # the chat ended (e.g. an agent closed it): start a new one
                if attempt == 1 or conversation.owner != "bot":
                    break
                chat_id, _ = await self.ensure_chat(conversation, user, fresh=True)
                if chat_id is None:
                    break
            except PermissionDenied:
                return None, None
            except HelpdeskError as exc:
                log.warning("Could not mirror a message into helpdesk chat %s: %s", chat_id, exc)
                break
        return chat_id, None

    async def val_ai_answer(
        self, user: HelpdeskUser, chat_id: int | None, since: datetime | None
    ) -> str | None:
        """The helpdesk's own AI reply to the mirrored message, if it comes in a few seconds."""
        if chat_id is None or since is None:
            return None
        deadline = time.monotonic() + self._config.val_ai_wait_s
        while True:
            try:
                page = await self._helpdesk.chat_messages(user.auth, chat_id, since=since)
            except HelpdeskError as exc:
                log.info("Could not read Val AI's reply: %s", exc)
                return None
            for message in page.messages:
                if message.sender_type == "ai" and message.message.strip():
                    return message.message.strip()
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(0.5)  # polling the helpdesk; bounded by the deadline above

    # --- history ---------------------------------------------------------------------------

    async def history(self, conversation: Conversation) -> list[HistoryItem]:
        after = conversation.summary_up_to_seq or 0
        messages = await self._store.recent_messages(conversation.id, limit=HISTORY_LIMIT)
        items = [_as_history(m) for m in messages if m.seq > after]
        return _well_formed([item for item in items if item is not None])

    async def record(self, conversation_id: int, recorded: Sequence[Recorded]) -> None:
        for entry in recorded:
            message = entry.message
            calls = [
                {"id": c.id, "name": c.name, "arguments": c.arguments} for c in message.tool_calls
            ]
            usage = entry.usage
            await self._store.add_message(
                conversation_id,
                role=message.role if message.role in ("assistant", "tool") else "system",
                content=message.content or "",
                tool_calls=calls or None,
                tool_call_id=message.tool_call_id,
                usage=stored_usage(usage),
            )

    async def note_outcome(self, conversation_id: int, text: str) -> None:
        """A fact the model must know next turn (a confirmed write, a cancellation)."""
        await self._store.add_message(conversation_id, role="system", content=text)

    async def fold(
        self,
        conversation: Conversation,
        items: Sequence[HistoryItem],
        user: HelpdeskUser,
        *,
        deadline: float | None = None,
    ) -> None:
        """Fold turns that no longer fit the budget into the rolling summary."""
        after = conversation.summary_up_to_seq or 0
        fresh = [item for item in items if item.seq > after]
        if not fresh:
            return
        previous = conversation.summary or ""
        text = transcript(fresh)
        prompt = prompts.render(
            "summarize", user_name=user.display_name, previous_summary=previous, transcript=text
        )
        summary = await self.complete_text(prompt, deadline=deadline)
        if not summary:  # the model failed: keep the newest facts, truncated
            summary = truncate_to_tokens(f"{previous}\n{text}".strip()[-4000:], SUMMARY_TOKENS)
        await self._store.set_summary(
            conversation.id, summary=summary, up_to_seq=max(item.seq for item in fresh)
        )

    async def complete_text(self, prompt: str, *, deadline: float | None = None) -> str | None:
        """One tool-less model call; None on any model failure or when the turn's deadline
        (a `time.monotonic()` instant) leaves no time for it (callers then fall back)."""
        limit = SIDE_CALL_TIMEOUT_S
        if deadline is not None:
            limit = min(limit, deadline - time.monotonic())
        if limit < 1:
            return None
        request = ModelRequest(
            messages=[ModelMessage(role="user", content=prompt)], timeout_s=limit
        )
        try:
            async with asyncio.timeout(limit):
                async for event in self._model.stream(request):
                    if isinstance(event, ModelResponse):
                        return event.text.strip() or None
        except (ModelError, TimeoutError) as exc:
            log.info("Side model call failed: %s", type(exc).__name__)
        return None

    # --- handoff ---------------------------------------------------------------------------

    async def escalate(
        self,
        conversation: Conversation,
        user: HelpdeskUser,
        chat_id: int | None,
        reason: str,
        *,
        deadline: float | None = None,
    ) -> HandoffStatus:
        if conversation.owner != "bot":
            return HandoffStatus(state="queued", text="You're already waiting for an agent.")
        if chat_id is None:
            chat_id, _ = await self.ensure_chat(conversation, user)
        if chat_id is None:
            return _unavailable()
        history = await self.history(conversation)
        note = await self.complete_text(
            prompts.render(
                "handoff_summary",
                user_name=user.display_name,
                company_name=user.profile.company_name or "their company",
                reason=reason,
                transcript=transcript(history, limit_tokens=2500),
            ),
            deadline=deadline,
        )
        if not note:
            note = f"Reason for handoff: {reason}\n\nRecent conversation:\n" + transcript(
                history, limit_tokens=800
            )
        try:
            await self._helpdesk.chat_send(user.auth, chat_id, f"[Handoff summary]\n{note}")
        except ReauthRequired:
            raise
        except HelpdeskError as exc:
            log.warning("Could not post the handoff summary: %s", exc)
        try:
            await self._helpdesk.chat_transfer(user.auth, chat_id, reason=reason)
        except ReauthRequired:
            raise
        except HelpdeskError as exc:
            log.warning("Transfer to a human failed: %s", exc)
            return _unavailable()
        await self._store.set_owner(conversation.id, expected="bot", new="queued")
        return HandoffStatus(
            state="queued",
            text="I've asked a human agent to join. Waiting for an agent… "
            "You can keep writing here; they will see your messages.",
        )


def _unavailable() -> HandoffStatus:
    return HandoffStatus(
        state="unavailable",
        text="I couldn't reach a human agent right now. I can create a ticket instead, "
        "and the helpdesk will follow up.",
    )


def _as_history(message: StoredMessage) -> HistoryItem | None:
    role = message.role
    if role == "user":
        model = ModelMessage(role="user", content=message.content)
    elif role == "assistant":
        calls = tuple(
            ToolCall(id=str(c["id"]), name=str(c["name"]), arguments=str(c["arguments"]))
            for c in (message.tool_calls or [])
        )
        model = ModelMessage(role="assistant", content=message.content or None, tool_calls=calls)
    elif role == "tool":
        model = ModelMessage(
            role="tool", content=message.content, tool_call_id=message.tool_call_id
        )
    elif role == "agent":
        who = message.author or "the agent"
        model = ModelMessage(role="system", content=f"Human agent {who} wrote: {message.content}")
    elif role == "system":
        model = ModelMessage(role="system", content=message.content)
    else:  # notices (confirm cards, link requests) are rendered text, not conversation
        return None
    return HistoryItem(seq=message.seq, message=model)


def _well_formed(items: list[HistoryItem]) -> list[HistoryItem]:
    """Drop tool calls without results and results without calls (a crash mid-turn leaves
    them), since the Chat Completions API rejects either."""
    answered = {i.message.tool_call_id for i in items if i.message.role == "tool"}
    called = {c.id for i in items for c in i.message.tool_calls}
    cleaned = []
    for item in items:
        message = item.message
        if message.role == "tool" and message.tool_call_id not in called:
            continue
        if message.tool_calls and not all(c.id in answered for c in message.tool_calls):
            if not message.content:
                continue
            message = ModelMessage(role="assistant", content=message.content)
            item = HistoryItem(seq=item.seq, message=message)
        cleaned.append(item)
    return cleaned


def stored_usage(usage: Usage | None) -> TokenUsage | None:
    """A model step's reported usage, as the store records it."""
    if usage is None:
        return None
    return TokenUsage(input_tokens=usage.input_tokens, output_tokens=usage.output_tokens)


def json_arguments(**values: Any) -> str:
    return json.dumps(values)
