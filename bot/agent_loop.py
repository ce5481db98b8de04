"""The model ⇄ tools loop of one turn: stream, run tool calls concurrently, bounded steps.

Each step streams one model response. Text is passed on as it arrives; tool calls are run
concurrently, each with its own deadline, and their results go back to the model. A write
tool is never executed here: it becomes a confirm-request (see `bot.confirmations`) and the
loop ends, so text inside tool results can never cause a write. Model failures are retried
within the turn's time, then the caller degrades.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.context import fit_to_budget, truncate_to_tokens
from bot.helpdesk.errors import HelpdeskError, ReauthRequired
from bot.llm import (
    ChatModel,
    ModelBadResponse,
    ModelConfigError,
    ModelError,
    ModelMessage,
    ModelRateLimited,
    ModelRequest,
    ModelResponse,
    TextDelta,
    ToolCall,
    ToolSchema,
    Usage,
)
from bot.messages import ConfirmRequest, Source
from bot.messages import TextDelta as ReplyDelta
from bot.tooling import (
    ToolArgumentsError,
    ToolContext,
    ToolOutcome,
    ToolRegistry,
    ToolSpec,
    describe_helpdesk_error,
)

log = logging.getLogger(__name__)

MAX_STEPS = 6
TOOL_TIMEOUT_S = 10.0
TOOL_RESULT_TOKENS = 1800
MODEL_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Recorded:
    """A message of this turn to persist: an assistant step or a tool result."""

    message: ModelMessage
    usage: Usage | None = None


@dataclass
class LoopResult:
    text: str = ""
    sources: list[Source] = field(default_factory=list)
    confirm: ConfirmRequest | None = None
    handoff_reason: str | None = None
    recorded: list[Recorded] = field(default_factory=list)
    steps: int = 0
    nothing_found: bool = False  # a knowledge-base search came back empty


ProposeWrite = Callable[
    [ToolSpec[Any], str, str], Awaitable[tuple[ConfirmRequest | None, dict[str, Any]]]
]


class ModelGaveUp(Exception):
    """The model failed on every attempt within the turn's time; the caller degrades."""

    def __init__(self, last: ModelError, *, streamed_text: str) -> None:
        super().__init__(str(last))
        self.last = last
        self.streamed_text = streamed_text


async def run_loop(
    *,
    model: ChatModel,
    messages: list[ModelMessage],
    offered: Sequence[ToolSpec[Any]],
    registry: ToolRegistry,
    context: ToolContext,
    propose_write: ProposeWrite,
    result: LoopResult,
    deadline: float,
    budget: int,
) -> AsyncIterator[ReplyDelta]:
    """Run steps until the model answers in text, proposes a write, or the bound is hit.

    Streams text deltas; fills `result` (text, sources, confirm, records) as it goes.
    Raises `ModelGaveUp` when the model keeps failing.
    """
    tools = [spec.schema() for spec in offered]
    offered_names = {spec.name for spec in offered}
    primary: list[Source] = []
    candidates: list[Source] = []
    while result.steps < MAX_STEPS:
        result.steps += 1
        response: ModelResponse | None = None
        request_messages = fit_to_budget(messages, tools=tools, budget=budget)
        async for event in _stream_with_retries(model, request_messages, tools, deadline):
            if isinstance(event, TextDelta):
                yield ReplyDelta(event.text)
            else:
                response = event
        assert response is not None
        step = ModelMessage(
            role="assistant", content=response.text or None, tool_calls=response.tool_calls
        )
        messages.append(step)
        result.recorded.append(Recorded(step, response.usage))
        if not response.tool_calls:
            result.text = response.text
            break
        outcomes = await _run_calls(
            response.tool_calls, registry, offered_names, context, propose_write, result
        )
        for call, outcome in zip(response.tool_calls, outcomes, strict=True):
            if outcome.primary_sources:
                primary.extend(outcome.sources)
            else:
                candidates.extend(outcome.sources)
            if call.name == "search_kb" and outcome.data.get("articles") == []:
                result.nothing_found = True
            if outcome.handoff_reason and result.handoff_reason is None:
                result.handoff_reason = outcome.handoff_reason
            text = truncate_to_tokens(outcome.as_model_text(), TOOL_RESULT_TOKENS)
            tool_message = ModelMessage(role="tool", content=text, tool_call_id=call.id)
            messages.append(tool_message)
            result.recorded.append(Recorded(tool_message))
        if result.confirm is not None or result.handoff_reason is not None:
            result.text = response.text
            break
    else:
        result.text = result.text or (
            "I couldn't finish that in the steps I'm allowed. Could you narrow it down, "
            "or shall I create a ticket?"
        )
    result.sources = _dedupe(primary or (candidates[:3] if result.text else []))


async def _stream_with_retries(
    model: ChatModel, messages: list[ModelMessage], tools: list[ToolSchema], deadline: float
) -> AsyncIterator[TextDelta | ModelResponse]:
    last: ModelError | None = None
    for attempt in range(MODEL_ATTEMPTS):
        remaining = deadline - time.monotonic()
        if remaining <= 1:
            break
        request = ModelRequest(messages=list(messages), tools=tools, timeout_s=remaining)
        streamed: list[str] = []
        try:
            async for event in model.stream(request):
                if isinstance(event, TextDelta):
                    streamed.append(event.text)
                yield event
            return
        except ModelConfigError as exc:
            raise ModelGaveUp(exc, streamed_text="".join(streamed)) from exc
        except ModelError as exc:
            last = exc
            log.warning("Model step failed (attempt %d): %s", attempt + 1, type(exc).__name__)
            if streamed:  # the user saw part of an answer; a retry would repeat it
                raise ModelGaveUp(exc, streamed_text="".join(streamed)) from exc
            await asyncio.sleep(min(_backoff(exc, attempt), max(0.0, deadline - time.monotonic())))
    raise ModelGaveUp(
        last or ModelBadResponse("engine", "no time left for the model"), streamed_text=""
    )


def _backoff(exc: ModelError, attempt: int) -> float:
    if isinstance(exc, ModelRateLimited) and exc.retry_after is not None:
        return min(exc.retry_after, 10.0)
    return random.uniform(0, 0.5 * 2**attempt)


async def _run_calls(
    calls: tuple[ToolCall, ...],
    registry: ToolRegistry,
    offered: set[str],
    context: ToolContext,
    propose_write: ProposeWrite,
    result: LoopResult,
) -> list[ToolOutcome]:
    """Reads run concurrently; at most one write is proposed per turn."""

    async def one(call: ToolCall) -> ToolOutcome:
        spec = registry.get(call.name)
        if spec is None or call.name not in offered:
            names = ", ".join(sorted(offered))
            return ToolOutcome({"error": f"unknown tool {call.name!r}; available: {names}"})
        if spec.needs_confirmation:
            return await _propose(spec, call, propose_write, result)
        return await _run_read(spec, call, context)

    return list(await asyncio.gather(*(one(call) for call in calls)))


async def _propose(
    spec: ToolSpec[Any], call: ToolCall, propose_write: ProposeWrite, result: LoopResult
) -> ToolOutcome:
    if result.confirm is not None:
        return ToolOutcome(
            {"error": "one change at a time: the user must confirm the pending one first"}
        )
    confirm, model_result = await propose_write(spec, call.id, call.arguments)
    if confirm is not None and result.confirm is None:
        result.confirm = confirm
    return ToolOutcome(model_result)


async def _run_read(spec: ToolSpec[Any], call: ToolCall, context: ToolContext) -> ToolOutcome:
    try:
        args = spec.parse(call.arguments)
        return await asyncio.wait_for(spec.run(context, args), TOOL_TIMEOUT_S)
    except ToolArgumentsError as exc:
        return ToolOutcome({"error": str(exc)})
    except ReauthRequired:
        raise
    except HelpdeskError as exc:
        return ToolOutcome({"error": f"{spec.name} failed: {describe_helpdesk_error(exc)}"})
    except TimeoutError:
        return ToolOutcome({"error": f"{spec.name} timed out; the helpdesk is slow right now"})


def _dedupe(sources: list[Source]) -> list[Source]:
    seen: set[int] = set()
    unique = []
    for source in sources:
        if source.article_id not in seen:
            seen.add(source.article_id)
            unique.append(source)
    return unique
