"""Builds each model request's context within a token budget, and says what to fold away.

A request is: system prompt + offered tools + the rolling summary + the most recent turns
that fit. Older turns are not dropped silently: `plan_context` names them so the engine
folds them into the summary. Because the budget bounds every part, the input size stops
growing once it is reached, however long the conversation. Folds come in chunks, with
hysteresis: once a turn no longer fits, the history is folded down to a fraction of what
fits (`KEEP_AFTER_FOLD`), so the next fold — a model call — is several turns away instead
of on every turn. Token counts here are offline
estimates (no tokenizer download); the model's reported `usage` is recorded beside them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

from bot import prompts
from bot.llm import ModelMessage, ToolCall, ToolSchema

# Roughly 4 characters a token for English; punctuation-heavy JSON is denser, so count it
# a little higher. Erring high keeps requests under the budget.
_CHARS_PER_TOKEN = 3.6
_MESSAGE_OVERHEAD = 4  # role and separators per message

# After a fold, at most this share of the history allowance (budget minus system prompt,
# summary and tools) stays verbatim; the newest turn always does.
KEEP_AFTER_FOLD = 0.4


def estimate_tokens(text: str) -> int:
    """An offline, slightly pessimistic token estimate."""
    return math.ceil(len(text) / _CHARS_PER_TOKEN) if text else 0


def message_tokens(message: ModelMessage) -> int:
    total = _MESSAGE_OVERHEAD + estimate_tokens(message.content or "")
    for call in message.tool_calls:
        total += estimate_tokens(call.name) + estimate_tokens(call.arguments) + 4
    return total


def tools_tokens(tools: Sequence[ToolSchema]) -> int:
    return sum(
        estimate_tokens(tool.name + tool.description + json.dumps(dict(tool.parameters)))
        for tool in tools
    )


def truncate_to_tokens(text: str, limit: int) -> str:
    """`text` cut to about `limit` tokens, marked with an ellipsis when cut."""
    max_chars = int(limit * _CHARS_PER_TOKEN)
    if len(text) <= max_chars:
        return text
    return text[: max(0, max_chars - 1)].rstrip() + "…"


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One stored message as the context builder sees it; `seq` orders the conversation."""

    seq: int
    message: ModelMessage


@dataclass(frozen=True, slots=True)
class ContextPlan:
    messages: list[ModelMessage]  # what to send, system prompt first
    input_tokens: int  # estimate, tools included
    # Older items to fold into the summary now: nothing while everything fits; once a turn
    # no longer fits, it and enough older turns that the rest is `KEEP_AFTER_FOLD` of the
    # allowance (some of them were still sent this time).
    fold: list[HistoryItem]


def group_turns(history: Sequence[HistoryItem]) -> list[list[HistoryItem]]:
    """Split history at user messages, so an assistant tool call and its tool results are
    never separated (the API rejects a tool result without its call)."""
    groups: list[list[HistoryItem]] = []
    for item in history:
        if item.message.role == "user" or not groups:
            groups.append([item])
        else:
            groups[-1].append(item)
    return groups


def plan_context(
    *,
    system: str,
    summary: str | None,
    history: Sequence[HistoryItem],
    tools: Sequence[ToolSchema],
    budget: int,
    summary_limit: int = 600,
    keep_after_fold: float = KEEP_AFTER_FOLD,
) -> ContextPlan:
    """Newest whole turns first until the budget is spent; the rest is to be folded, with
    older turns down to `keep_after_fold` of the history allowance (see the module doc).

    The newest turn (the user's current message) is always kept; if even it does not fit,
    its longest contents are truncated rather than dropped.
    """
    header = [ModelMessage(role="system", content=system)]
    if summary:
        note = prompts.note("summary_header", summary=truncate_to_tokens(summary, summary_limit))
        header.append(ModelMessage(role="system", content=note))
    fixed = sum(message_tokens(m) for m in header) + tools_tokens(tools)
    remaining = allowance = budget - fixed

    groups = group_turns(history)
    kept: list[list[HistoryItem]] = []
    for index, group in enumerate(reversed(groups)):
        cost = sum(message_tokens(item.message) for item in group)
        if cost <= remaining:
            kept.append(group)
            remaining -= cost
            continue
        if index == 0:  # the current turn must go out, shortened to fit
            shrunk = _shrink(group, max(remaining, 200))
            kept.append(shrunk)
            remaining -= sum(message_tokens(item.message) for item in shrunk)
        break
    kept.reverse()
    kept_items = [item for group in kept for item in group]
    messages = header + [item.message for item in kept_items]
    fold: list[HistoryItem] = []
    if len(kept) < len(groups):  # a turn no longer fits: fold a chunk, not just that turn
        fold = _fold_chunk(groups, keep_tokens=int(max(0, allowance) * keep_after_fold))
    return ContextPlan(messages=messages, input_tokens=budget - remaining, fold=fold)


def _fold_chunk(groups: list[list[HistoryItem]], *, keep_tokens: int) -> list[HistoryItem]:
    """The oldest turns, leaving verbatim the current turn and the newest turns before it
    that cost at most `keep_tokens` together with it."""

    def cost(group: list[HistoryItem]) -> int:
        return sum(message_tokens(item.message) for item in group)

    first_kept = len(groups) - 1
    spent = cost(groups[first_kept])
    while first_kept > 0 and spent + cost(groups[first_kept - 1]) <= keep_tokens:
        first_kept -= 1
        spent += cost(groups[first_kept])
    return [item for group in groups[:first_kept] for item in group]


def fit_to_budget(
    messages: Sequence[ModelMessage], *, tools: Sequence[ToolSchema], budget: int
) -> list[ModelMessage]:
    """Messages for one more model step of a turn, within the budget.

    A turn grows as tool results arrive; each request must still fit. Older whole turns go
    first (they are folded into the summary next turn); then the current turn's longest
    tool results are shortened. The leading system messages are always kept.
    """
    head = 0
    while head < len(messages) and messages[head].role == "system":
        head += 1
    header, rest = list(messages[:head]), list(messages[head:])
    fixed = sum(message_tokens(m) for m in header) + tools_tokens(tools)
    items = [HistoryItem(seq=index, message=m) for index, m in enumerate(rest)]
    groups = group_turns(items)

    def cost(group_list: list[list[HistoryItem]]) -> int:
        return sum(message_tokens(item.message) for group in group_list for item in group)

    while len(groups) > 1 and fixed + cost(groups) > budget:
        groups.pop(0)
    if groups and fixed + cost(groups) > budget:
        groups[-1] = _shrink_tool_results(groups[-1], budget - fixed)
    return header + [item.message for group in groups for item in group]


def _shrink_tool_results(group: list[HistoryItem], allowance: int) -> list[HistoryItem]:
    """Cut the current turn's tool results (the bulk of a long turn) until it fits."""
    others = sum(message_tokens(i.message) for i in group if i.message.role != "tool")
    results = [i for i in group if i.message.role == "tool"]
    if not results:
        return _shrink(group, max(allowance, 200))
    per_result = max(60, (allowance - others) // len(results) - _MESSAGE_OVERHEAD)
    shrunk = []
    for item in group:
        message = item.message
        if message.role == "tool" and estimate_tokens(message.content or "") > per_result:
            message = ModelMessage(
                role="tool",
                content=truncate_to_tokens(message.content or "", per_result),
                tool_call_id=message.tool_call_id,
            )
        shrunk.append(HistoryItem(seq=item.seq, message=message))
    return shrunk


def _shrink(group: list[HistoryItem], allowance: int) -> list[HistoryItem]:
    per_item = max(50, allowance // max(1, len(group)) - _MESSAGE_OVERHEAD)
    shrunk = []
    for item in group:
        message = item.message
        if message.content and estimate_tokens(message.content) > per_item:
            message = ModelMessage(
                role=message.role,
                content=truncate_to_tokens(message.content, per_item),
                tool_calls=message.tool_calls,
                tool_call_id=message.tool_call_id,
            )
        shrunk.append(HistoryItem(seq=item.seq, message=message))
    return shrunk


def transcript(items: Sequence[HistoryItem], *, limit_tokens: int = 3000) -> str:
    """A plain-text transcript (for summaries and handoff notes), newest part kept."""
    lines = []
    for item in items:
        message = item.message
        if message.role == "tool":
            lines.append(f"tool result: {truncate_to_tokens(message.content or '', 150)}")
        elif message.tool_calls:
            calls = ", ".join(_call_text(call) for call in message.tool_calls)
            lines.append(f"assistant called: {calls}")
            if message.content:
                lines.append(f"assistant: {message.content}")
        elif message.content:
            lines.append(f"{message.role}: {message.content}")
    text = "\n".join(lines)
    max_chars = int(limit_tokens * _CHARS_PER_TOKEN)
    return text if len(text) <= max_chars else "…" + text[-max_chars:]


def _call_text(call: ToolCall) -> str:
    return f"{call.name}({truncate_to_tokens(call.arguments, 60)})"
