"""Folds a provider's streamed step into one ModelResponse: text, tool-call fragments, finish.

Vendor-neutral, shared by `bot.llm_openai` and `bot.llm_langchain`; each provider reads its
own chunk format and feeds the parts in here. Tool-call fragments are joined per `index`;
a different id at a known index starts a new call (servers that reuse index 0); without an
index a fragment with a new id starts a call and one without continues the last. A call that
never got an id is given one (`call_<24 hex>`); a call that never got a name is a
`ModelBadResponse`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TypeVar

from bot.llm import ModelBadResponse, ModelResponse, ToolCall, Usage

__all__ = ["StreamedStep", "ToolCallAssembler"]


@dataclass
class _PendingCall:
    id: str | None
    name: str = ""
    fragments: list[str] = field(default_factory=list)


class ToolCallAssembler:
    """Joins streamed tool-call fragments into whole calls (see the module docstring)."""

    def __init__(self) -> None:
        self._calls: list[_PendingCall] = []
        self._by_index: dict[int, _PendingCall] = {}

    def __bool__(self) -> bool:
        return bool(self._calls)

    def add(
        self, *, index: int | None, call_id: str | None, name: str | None, arguments: str | None
    ) -> None:
        """Take one fragment: the first id and name of a call stick, arguments append."""
        call = self._call_for(index, call_id or None)
        if call_id and call.id is None:
            call.id = call_id
        if name and not call.name:
            call.name = name
        if arguments:
            call.fragments.append(arguments)

    def require_names(self, provider: str) -> None:
        if any(not call.name for call in self._calls):
            raise ModelBadResponse(provider, "a tool call came without a function name")

    def tool_calls(self, provider: str) -> tuple[ToolCall, ...]:
        """The whole calls, in the order they started; arguments as the raw JSON text."""
        self.require_names(provider)
        return tuple(
            ToolCall(
                id=call.id or f"call_{uuid.uuid4().hex[:24]}",
                name=call.name,
                arguments="".join(call.fragments),
            )
            for call in self._calls
        )

    def _call_for(self, index: int | None, call_id: str | None) -> _PendingCall:
        """The call a fragment continues, or a new one."""
        if isinstance(index, int):
            call = self._by_index.get(index)
            # A different id at a known index is a new call from a server that reuses index 0.
            if call is None or (call_id and call.id and call_id != call.id):
                call = self._new_call(call_id)
                self._by_index[index] = call
            return call
        last = self._calls[-1] if self._calls else None
        if last is not None and (call_id is None or last.id in (None, call_id)):
            return last
        return self._new_call(call_id)

    def _new_call(self, call_id: str | None) -> _PendingCall:
        call = _PendingCall(id=call_id)
        self._calls.append(call)
        return call


class StreamedStep:
    """What a step's chunks carried so far; the provider decides what each chunk means."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.calls = ToolCallAssembler()
        self.finish_reason: str | None = None
        self.model: str | None = None

    def response(self, provider: str, *, usage: Usage | None) -> ModelResponse:
        """The final ModelResponse; a tool call without a name is a ModelBadResponse."""
        return ModelResponse(
            text="".join(self.text),
            tool_calls=self.calls.tool_calls(provider),
            usage=usage,
            finish_reason=self.finish_reason,
            model=self.model,
        )


T = TypeVar("T")


async def next_before(chunks: AsyncIterator[T], deadline: float) -> T | None:
    """The stream's next item (None at its end); TimeoutError past the loop-time `deadline`.

    A deadline per await, not around the provider's yields: the consumer's own awaits
    between events must never be cancelled by the provider's timer.
    """
    async with asyncio.timeout_at(deadline):
        return await anext(chunks, None)
