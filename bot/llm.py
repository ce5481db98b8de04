"""The seam between the engine and any chat model: request, stream events, errors.

A provider (`bot/llm_openai.py`, `bot/llm_langchain.py`) turns a `ModelRequest` into one
streamed model step: zero or more `TextDelta` events, then exactly one `ModelResponse` with
the whole text, the complete tool calls (arguments as the raw JSON text the model produced;
the engine validates them) and token usage. Providers do not retry; the engine owns retries,
deadlines and the degraded reply.

Errors (one tree, fields not strings)::

    ModelError(provider, detail)    a BotError
    ├── ModelTimeout            no complete answer within the request's timeout
    ├── ModelRateLimited        429; retry_after seconds when the server said
    ├── ModelUnavailable        connection failure or 5xx
    ├── ModelBadResponse        malformed stream/body, or a reply the provider cannot parse
    └── ModelConfigError        401/403/404: wrong key, base URL or model name (not retried)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from bot.errors import BotError

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One call the model asked for; `arguments` is the JSON text exactly as produced."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ModelMessage:
    """One message of the model's context, in the Chat Completions vocabulary."""

    role: Role
    content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None


@dataclass(frozen=True, slots=True)
class ToolSchema:
    """A tool as offered to the model: name, description and a JSON schema of its arguments."""

    name: str
    description: str
    parameters: Mapping[str, Any]


def function_tool(tool: ToolSchema) -> dict[str, Any]:
    """A tool in the Chat Completions `tools` format (OpenAI and every compatible server)."""
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": dict(tool.parameters),
        },
    }


@dataclass(frozen=True, slots=True)
class ModelRequest:
    messages: Sequence[ModelMessage]
    tools: Sequence[ToolSchema] = ()
    timeout_s: float = 30.0
    max_output_tokens: int | None = None
    temperature: float | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of assistant text, as soon as the server streamed it."""

    text: str


@dataclass(frozen=True, slots=True)
class ModelResponse:
    """The end of one model step."""

    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage | None = None
    finish_reason: str | None = None
    model: str | None = None


StreamEvent = TextDelta | ModelResponse


class ChatModel(Protocol):
    """Any chat model with tool calling. Two methods, nothing vendor-specific."""

    @property
    def name(self) -> str: ...

    def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        """One model step: `TextDelta`s, then exactly one final `ModelResponse`.

        Raises a `ModelError` subclass; never a vendor exception.
        """
        ...

    async def aclose(self) -> None: ...


@dataclass(eq=False)
class ModelError(BotError):
    provider: str
    detail: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{type(self).__name__}({self.provider}): {self.detail}"


class ModelTimeout(ModelError):
    pass


@dataclass(eq=False)
class ModelRateLimited(ModelError):
    retry_after: float | None = None


class ModelUnavailable(ModelError):
    pass


class ModelBadResponse(ModelError):
    pass


class ModelConfigError(ModelError):
    pass
