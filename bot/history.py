"""The conversation as the model sees it: load the history, record a turn, fold the summary.

The transcript in the store is the source of truth; this module turns it into well-formed
Chat Completions messages (a crash mid-turn can leave a tool call without its result),
records what a turn added (assistant steps, tool results, token usage, facts for the model)
and folds turns that no longer fit the token budget into the rolling summary.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot import prompts
from bot.agent_loop import Recorded
from bot.context import HistoryItem, transcript, truncate_to_tokens
from bot.identity import HelpdeskUser
from bot.llm import ModelMessage, ToolCall, Usage
from bot.side_model import SideModel
from bot.store.records import Conversation, NewMessage, TokenUsage
from bot.store.records import Message as StoredMessage
from bot.store.store import Store

HISTORY_LIMIT = 200
SUMMARY_TOKENS = 600


class History:
    def __init__(self, *, store: Store, side: SideModel, fold_tokens: int = 8000) -> None:
        self._store = store
        self._side = side
        # A fold takes several turns at once, at most what fit the input budget: the
        # summary call gets all of it (its transcript shortens tool results), none cut.
        self._fold_tokens = fold_tokens

    async def load(self, conversation: Conversation) -> list[HistoryItem]:
        """The messages after the summary, as the model sees them."""
        after = conversation.summary_up_to_seq or 0
        messages = await self._store.recent_messages(conversation.id, limit=HISTORY_LIMIT)
        return _model_view([m for m in messages if m.seq > after])

    async def current(self, conversation_id: int) -> tuple[Conversation | None, list[HistoryItem]]:
        """The conversation as it is now and, while the bot owns it, its history after the
        summary, in one read (the summary and the history then always match)."""
        conversation, messages = await self._store.conversation_with_history(
            conversation_id, limit=HISTORY_LIMIT
        )
        return conversation, _model_view(messages)

    async def record(self, conversation_id: int, recorded: Sequence[Recorded]) -> None:
        """Store what a turn added, in one transaction."""
        await self._store.add_messages(conversation_id, recorded_rows(recorded))

    async def note(self, conversation_id: int, text: str) -> None:
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
        text = transcript(fresh, limit_tokens=max(3000, self._fold_tokens))
        prompt = prompts.render(
            "summarize", user_name=user.display_name, previous_summary=previous, transcript=text
        )
        summary = await self._side.complete_text(prompt, deadline=deadline)
        if not summary:  # the model failed: keep the newest facts, truncated
            summary = truncate_to_tokens(f"{previous}\n{text}".strip()[-4000:], SUMMARY_TOKENS)
        await self._store.set_summary(
            conversation.id, summary=summary, up_to_seq=max(item.seq for item in fresh)
        )


def recorded_rows(recorded: Sequence[Recorded]) -> list[NewMessage]:
    """A turn's assistant steps and tool results as the rows that store them."""
    rows = []
    for entry in recorded:
        message = entry.message
        calls = [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in message.tool_calls]
        rows.append(
            NewMessage(
                role=message.role if message.role in ("assistant", "tool") else "system",
                content=message.content or "",
                tool_calls=calls or None,
                tool_call_id=message.tool_call_id,
                usage=stored_usage(entry.usage),
            )
        )
    return rows


def _model_view(messages: Sequence[StoredMessage]) -> list[HistoryItem]:
    items = [_as_history(m) for m in messages]
    return _well_formed([item for item in items if item is not None])


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
        text = prompts.note("agent_wrote", name=who, text=message.content)
        model = ModelMessage(role="system", content=text)
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
