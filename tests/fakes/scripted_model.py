"""An in-process ChatModel for engine unit tests: scripted steps, recorded requests, no leftovers.

Each `stream()` call consumes the next step: a `Reply` (streamed as several `TextDelta`s, then
one `ModelResponse`), a `Fail` (raises a `ModelError`, optionally after some text), a `Hang`
(waits until the caller's deadline cancels it), or a function of the `ModelRequest` that
returns one of those. Every request is recorded in `requests`; a call with no step left
raises and is remembered, and `assert_consumed()` fails on it and on unused steps — so a
test notices both an extra model call and a missing one.

    model = ScriptedChatModel(
        Reply(tool_calls=(tool_call("get_ticket", {"ticket_number": 3012}),)),
        Reply(text="Ticket 3012 is open."),
    )
    ...  # run the engine
    model.assert_consumed()
    assert model.requests[1].messages[-1].role == "tool"
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bot.llm import (
    ModelError,
    ModelRequest,
    ModelResponse,
    StreamEvent,
    TextDelta,
    ToolCall,
    Usage,
)

__all__ = ["Fail", "Hang", "Reply", "ScriptedChatModel", "Step", "tool_call"]

_call_ids = itertools.count(1)


def tool_call(
    name: str, arguments: Mapping[str, Any] | str = "{}", *, id: str | None = None
) -> ToolCall:
    """A ToolCall with JSON arguments (a mapping is serialized) and a fresh id unless given."""
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return ToolCall(id=id or f"call_scripted{next(_call_ids)}", name=name, arguments=raw)


@dataclass(frozen=True)
class Reply:
    """One successful model step. `usage="estimate"` derives token counts from the request."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage | Literal["estimate"] | None = "estimate"
    finish_reason: str | None = None  # None: "tool_calls" when there are calls, else "stop"
    chunks: tuple[str, ...] | None = None  # how `text` is streamed; None: split after spaces
    model: str = "scripted"


@dataclass(frozen=True)
class Fail:
    """Raise `error` (a ModelError), after streaming `prefix_text` if any."""

    error: ModelError
    prefix_text: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.error, ModelError):
            raise TypeError("a ChatModel only raises ModelError subclasses")


@dataclass(frozen=True)
class Hang:
    """Stream `prefix_text`, then wait until cancelled (the engine's deadline) or closed."""

    prefix_text: str = ""


Outcome = Reply | Fail | Hang
Step = Outcome | Callable[[ModelRequest], Outcome]


class ScriptedChatModel:
    """Implements `bot.llm.ChatModel` from a queue of steps."""

    def __init__(self, *steps: Step, name: str = "scripted") -> None:
        self._name = name
        self._steps: deque[Step] = deque(steps)
        self.requests: list[ModelRequest] = []
        self.unexpected: list[str] = []
        self.closed = False
        self._released = asyncio.Event()

    @property
    def name(self) -> str:
        return self._name

    # -- scripting -------------------------------------------------------------------------

    def enqueue(self, *steps: Step) -> None:
        self._steps.extend(steps)

    def reply_text(self, text: str, **options: Any) -> None:
        self.enqueue(Reply(text=text, **options))

    def reply_tool_calls(self, *calls: ToolCall, text: str = "", **options: Any) -> None:
        self.enqueue(Reply(text=text, tool_calls=calls, **options))

    def fail(self, error: ModelError, *, prefix_text: str = "") -> None:
        self.enqueue(Fail(error=error, prefix_text=prefix_text))

    def hang(self, *, prefix_text: str = "") -> None:
        self.enqueue(Hang(prefix_text=prefix_text))

    def withdraw(self) -> list[Step]:
        """Take back the steps left: for a test whose point is that the model is NOT called
        (it asserts on what it gets back)."""
        left = list(self._steps)
        self._steps.clear()
        return left

    # -- inspection ------------------------------------------------------------------------

    @property
    def pending_steps(self) -> list[Step]:
        return list(self._steps)

    def assert_consumed(self) -> None:
        """Fail if the model was called with no step left, or a step was never used."""
        problems = list(self.unexpected)
        problems += [f"unconsumed step: {step!r}" for step in self._steps]
        if problems:
            raise AssertionError("ScriptedChatModel: " + "; ".join(problems))

    # -- the ChatModel protocol --------------------------------------------------------------

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        self.requests.append(request)
        if self.closed:
            self.unexpected.append(f"call #{len(self.requests)} after aclose()")
            raise AssertionError("ScriptedChatModel: stream() called after aclose()")
        if not self._steps:
            self.unexpected.append(f"unexpected call #{len(self.requests)}: no step left")
            raise AssertionError("ScriptedChatModel: unexpected model call, no step left")
        step = self._steps.popleft()
        outcome = step if isinstance(step, Reply | Fail | Hang) else step(request)
        if isinstance(outcome, Reply):
            pieces = outcome.chunks if outcome.chunks is not None else _split(outcome.text)
            for piece in pieces:
                yield TextDelta(piece)
            yield ModelResponse(
                text=outcome.text,
                tool_calls=outcome.tool_calls,
                usage=_estimate(request, outcome) if outcome.usage == "estimate" else outcome.usage,
                finish_reason=outcome.finish_reason
                or ("tool_calls" if outcome.tool_calls else "stop"),
                model=outcome.model,
            )
            return
        for piece in _split(outcome.prefix_text):
            yield TextDelta(piece)
        if isinstance(outcome, Fail):
            raise outcome.error
        await self._released.wait()
        raise AssertionError("ScriptedChatModel: a Hang step was released by aclose()")

    async def aclose(self) -> None:
        self.closed = True
        self._released.set()


def _split(text: str) -> list[str]:
    pieces = [word + " " for word in text.split(" ")]
    pieces[-1] = pieces[-1][:-1]
    return [piece for piece in pieces if piece]


def _estimate(request: ModelRequest, reply: Reply) -> Usage:
    """About four characters per token, like the engine's offline estimate."""
    prompt = sum(
        len(m.content or "") + sum(len(c.arguments) for c in m.tool_calls) for m in request.messages
    )
    prompt += sum(
        len(t.name) + len(t.description) + len(json.dumps(dict(t.parameters)))
        for t in request.tools
    )
    output = len(reply.text) + sum(len(c.name) + len(c.arguments) for c in reply.tool_calls)
    return Usage(input_tokens=max(1, prompt // 4), output_tokens=max(1, output // 4))
