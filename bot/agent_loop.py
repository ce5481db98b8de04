"""The model ⇄ tools loop of one turn: stream, run tool calls concurrently, bounded steps.

Each step streams one model response. Text is passed on as it arrives, through a guard that
withholds a recitation of the instructions (`bot.disclosure`); tool calls are run
concurrently, each with its own deadline, and their results go back to the model. A write
tool is never executed here: it becomes a confirm-request (see `bot.confirmations`) and the
loop ends, so text inside tool results can never cause a write. Model failures are retried
within the turn's time, then the caller degrades.

Like a model step (`bot.llm`), a run is one stream: `TextDelta` replies as the model writes,
then exactly one `LoopResult`; or `ModelGaveUp`, carrying what the run recorded so far.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bot import metrics, prompts
from bot.context import fit_to_budget, truncate_to_tokens
from bot.disclosure import DisclosureGuard
from bot.errors import BotError
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
# Of the turn's time left when tools start, this much (at most half) is kept for the model
# to answer with their results; a tool's own deadline comes from its helpdesk calls.
ANSWER_RESERVE_S = 5.0
TOOL_RESULT_TOKENS = 1800
MODEL_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Recorded:
    """A message of this turn to persist: an assistant step or a tool result."""

    message: ModelMessage
    usage: Usage | None = None


@dataclass(frozen=True, slots=True)
class LoopResult:
    """How a run ended: the answer, what it cites, and what the engine must do next."""

    text: str
    sources: tuple[Source, ...] = ()
    confirm: ConfirmRequest | None = None  # a proposed write waiting for the user
    handoff_reason: str | None = None  # a tool asked for a human
    recorded: tuple[Recorded, ...] = ()
    nothing_found: bool = False  # a knowledge search came back empty


LoopEvent = ReplyDelta | LoopResult

ProposeWrite = Callable[
    [ToolSpec[Any], str, str], Awaitable[tuple[ConfirmRequest | None, dict[str, Any]]]
]


class ModelGaveUp(BotError):
    """The model failed on every attempt within the turn's time; the caller degrades."""

    def __init__(
        self, last: ModelError, *, streamed_text: str, recorded: Sequence[Recorded] = ()
    ) -> None:
        super().__init__(str(last))
        self.last = last
        self.streamed_text = streamed_text
        self.recorded = tuple(recorded)  # the steps that did complete, to persist


@dataclass
class _Progress:
    """What a run has gathered so far (private to one run)."""

    recorded: list[Recorded] = field(default_factory=list)
    primary: list[Source] = field(default_factory=list)
    candidates: list[Source] = field(default_factory=list)
    confirm: ConfirmRequest | None = None
    handoff_reason: str | None = None
    nothing_found: bool = False

    def result(self, text: str) -> LoopResult:
        sources = self.primary or (self.candidates[:3] if text else [])
        return LoopResult(
            text=text,
            sources=tuple(_dedupe(sources)),
            confirm=self.confirm,
            handoff_reason=self.handoff_reason,
            recorded=tuple(self.recorded),
            nothing_found=self.nothing_found,
        )


class AgentLoop:
    """Runs the model with the registry's tools; one per engine, one `run` per turn."""

    def __init__(
        self,
        *,
        model: ChatModel,
        tools: ToolRegistry,
        budget: int,
        answer_reserve_s: float = ANSWER_RESERVE_S,
    ) -> None:
        self._model = model
        self._tools = tools
        self._budget = budget
        self._answer_reserve_s = answer_reserve_s

    async def run(
        self,
        messages: list[ModelMessage],
        *,
        offered: Sequence[ToolSpec[Any]],
        context: ToolContext,
        propose_write: ProposeWrite,
        deadline: float,
    ) -> AsyncIterator[LoopEvent]:
        """Steps until the model answers in text, proposes a write, or the bound is hit.

        `messages` grows with each step. Raises `ModelGaveUp` when the model keeps failing.
        """
        schemas = [spec.schema() for spec in offered]
        names = {spec.name for spec in offered}
        instructions = _instructions(messages, schemas)
        progress = _Progress()
        for _ in range(MAX_STEPS):
            response: ModelResponse | None = None
            guard = DisclosureGuard(instructions)
            try:
                async for event in self._step(messages, schemas, deadline):
                    if isinstance(event, TextDelta):
                        if shown := guard.feed(event.text):
                            yield ReplyDelta(shown)
                    else:
                        response = event
            except ModelGaveUp as exc:
                raise ModelGaveUp(
                    exc.last, streamed_text=guard.released_text, recorded=progress.recorded
                ) from exc.last
            assert response is not None
            if rest := guard.finish(response.text):
                yield ReplyDelta(rest)
            if guard.leaked:
                log.warning("The model recited its instructions; its text was withheld")
                response = replace(response, text=prompts.reply("turn_withheld"))
            step = ModelMessage(
                role="assistant", content=response.text or None, tool_calls=response.tool_calls
            )
            messages.append(step)
            progress.recorded.append(Recorded(step, response.usage))
            if not response.tool_calls:
                yield progress.result(response.text)
                return
            outcomes = await self._run_calls(
                response.tool_calls, names, context, propose_write, progress, deadline=deadline
            )
            self._take_outcomes(messages, response.tool_calls, outcomes, progress)
            if progress.confirm is not None or progress.handoff_reason is not None:
                yield progress.result(response.text)
                return
        yield progress.result(prompts.reply("turn_out_of_steps"))

    def _step(
        self, messages: list[ModelMessage], schemas: list[ToolSchema], deadline: float
    ) -> AsyncIterator[TextDelta | ModelResponse]:
        request_messages = fit_to_budget(messages, tools=schemas, budget=self._budget)
        return _stream_with_retries(self._model, request_messages, schemas, deadline)

    @staticmethod
    def _take_outcomes(
        messages: list[ModelMessage],
        calls: Sequence[ToolCall],
        outcomes: Sequence[ToolOutcome],
        progress: _Progress,
    ) -> None:
        """Gather each result's sources and signals; give the results to the model."""
        for call, outcome in zip(calls, outcomes, strict=True):
            if outcome.primary_sources:
                progress.primary.extend(outcome.sources)
            else:
                progress.candidates.extend(outcome.sources)
            progress.nothing_found = progress.nothing_found or outcome.found_nothing
            if outcome.handoff_reason and progress.handoff_reason is None:
                progress.handoff_reason = outcome.handoff_reason
            text = truncate_to_tokens(outcome.as_model_text(), TOOL_RESULT_TOKENS)
            tool_message = ModelMessage(role="tool", content=text, tool_call_id=call.id)
            messages.append(tool_message)
            progress.recorded.append(Recorded(tool_message))

    async def _run_calls(
        self,
        calls: tuple[ToolCall, ...],
        offered: set[str],
        context: ToolContext,
        propose_write: ProposeWrite,
        progress: _Progress,
        *,
        deadline: float,
    ) -> list[ToolOutcome]:
        """Reads run concurrently, each within the time its helpdesk calls need and the
        turn has left; at most one write is proposed per turn."""

        async def one(call: ToolCall) -> ToolOutcome:
            spec = self._tools.get(call.name)
            if spec is None or call.name not in offered:
                names = ", ".join(sorted(offered))
                _count_call("unknown", "unknown_tool")
                return ToolOutcome({"error": f"unknown tool {call.name!r}; available: {names}"})
            if spec.needs_confirmation:
                outcome = await _propose(spec, call, propose_write, progress)
            else:
                allowed_s = spec.time_allowed(
                    call_timeout_s=context.helpdesk.call_timeout_s,
                    time_left_s=deadline - time.monotonic(),
                    keep_s=self._answer_reserve_s,
                )
                outcome = await _run_read(spec, call, context, allowed_s)
            done = "proposed" if spec.needs_confirmation else "ok"
            _count_call(spec.name, "error" if "error" in outcome.data else done)
            return outcome

        return list(await asyncio.gather(*(one(call) for call in calls)))


def _count_call(tool: str, outcome: str) -> None:
    metrics.current().tool_calls.labels(tool=tool, outcome=outcome).inc()


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


async def _propose(
    spec: ToolSpec[Any], call: ToolCall, propose_write: ProposeWrite, progress: _Progress
) -> ToolOutcome:
    if progress.confirm is not None:
        return ToolOutcome(
            {"error": "one change at a time: the user must confirm the pending one first"}
        )
    confirm, model_result = await propose_write(spec, call.id, call.arguments)
    if confirm is not None and progress.confirm is None:
        progress.confirm = confirm
    return ToolOutcome(model_result)


async def _run_read(
    spec: ToolSpec[Any], call: ToolCall, context: ToolContext, allowed_s: float
) -> ToolOutcome:
    try:
        args = spec.parse(call.arguments)
        return await asyncio.wait_for(spec.run(context, args), allowed_s)
    except ToolArgumentsError as exc:
        return ToolOutcome({"error": str(exc)})
    except ReauthRequired:
        raise
    except HelpdeskError as exc:
        return ToolOutcome({"error": f"{spec.name} failed: {describe_helpdesk_error(exc)}"})
    except TimeoutError:
        return ToolOutcome({"error": f"{spec.name} timed out; the helpdesk is slow right now"})


def _instructions(messages: Sequence[ModelMessage], tools: Sequence[ToolSchema]) -> list[str]:
    """What the user must not be recited: the system prompt and the tool descriptions. Later
    system messages carry the user's own conversation (the summary, an agent's words, a
    write's result), which the model may quote back."""
    first = messages[0] if messages else None
    system = [first.content] if first and first.role == "system" and first.content else []
    return system + [tool.description for tool in tools]


def _dedupe(sources: list[Source]) -> list[Source]:
    seen: set[int] = set()
    unique = []
    for source in sources:
        if source.article_id not in seen:
            seen.add(source.article_id)
            unique.append(source)
    return unique
