"""The ChatModel over the official `openai` SDK: one streamed Chat Completions step per request.

Works against OpenAI and any OpenAI-compatible server (Azure's v1 endpoint, Ollama, vLLM,
LM Studio). The request streams (`stream=True`, `stream_options.include_usage`), offers tools
in the `{"type": "function", ...}` format and leaves `parallel_tool_calls` to the server.
Streamed tool-call deltas are reassembled per
https://platform.openai.com/docs/api-reference/chat/streaming, tolerating what compatible
servers do differently: no usage chunk (usage is then None), usage on the `finish_reason`
chunk, every tool call complete in one chunk, tool-call deltas without `index` (a delta with
a new `id` starts a call, one without continues the last), a `finish_reason` of `stop` next
to tool calls (passed through as sent: the engine looks at `tool_calls`).
The fragments are joined by `bot.llm_stream`, shared with the LangChain provider.

The SDK's own retries are off (`max_retries=0`): the engine owns retries. `request.timeout_s`
is one deadline for the whole step (connect, headers and every chunk). Every SDK and
transport exception is translated here (`raise ... from exc`), into `bot.llm`'s tree:

    APITimeoutError, asyncio deadline, HTTP 408        ModelTimeout
    RateLimitError (429)                               ModelRateLimited(retry_after from
                                                       `retry-after-ms` / `Retry-After`)
    APIConnectionError, InternalServerError, 5xx,
    an `error` event mid-stream, anything unforeseen   ModelUnavailable
    401, 403, 404 and every other 4xx (incl. 400)      ModelConfigError
    malformed SSE/JSON, a chunk of the wrong shape,
    no choices at all, no finish_reason (truncated),
    a tool call without a name                         ModelBadResponse

A 400 is a ModelConfigError, not a ModelBadResponse: the server rejected *our* request
(unknown parameter, context too long, invalid tool schema), so sending it again cannot help,
and "not retried" is exactly how the engine treats ModelConfigError. Details carry the status,
the API's error `code`/`type`/`param` and a hint, never the server's message text, which
can echo the request (message content) or part of a key.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from typing import Literal, cast
from urllib.parse import urlsplit

import openai
from openai.types.chat import (
    ChatCompletionChunk,
    ChatCompletionFunctionToolParam,
    ChatCompletionMessageFunctionToolCallParam,
    ChatCompletionMessageParam,
)
from openai.types.chat.chat_completion_chunk import ChoiceDeltaToolCall

from bot.llm import (
    ModelBadResponse,
    ModelConfigError,
    ModelError,
    ModelMessage,
    ModelRateLimited,
    ModelRequest,
    ModelResponse,
    ModelTimeout,
    ModelUnavailable,
    StreamEvent,
    TextDelta,
    Usage,
    function_tool,
)
from bot.llm_stream import StreamedStep, next_before
from bot.retry_after import retry_after_from_headers

__all__ = ["OPENAI_API_URL", "OpenAIChatModel", "openai_chat_model"]

PROVIDER = "openai"
OPENAI_API_URL = "https://api.openai.com/v1"
# OpenAI-compatible local servers ignore the key, but the SDK refuses to start without one.
_NO_KEY = "not-needed"

MaxTokensParam = Literal["max_completion_tokens", "max_tokens"]


class OpenAIChatModel:
    """A `bot.llm.ChatModel` over an `openai.AsyncOpenAI` client (created with max_retries=0)."""

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        *,
        model: str,
        max_tokens_param: MaxTokensParam = "max_completion_tokens",
        owns_client: bool = True,
    ) -> None:
        self._client = client
        self._model = model
        # OpenAI's reasoning models reject `max_tokens`; most compatible servers only know it.
        self._max_tokens_param = max_tokens_param
        self._owns_client = owns_client

    @property
    def name(self) -> str:
        return f"{PROVIDER}:{self._model}"

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        messages = [_to_openai_message(message) for message in request.messages]
        tools = [cast(ChatCompletionFunctionToolParam, function_tool(t)) for t in request.tools]
        deadline = asyncio.get_running_loop().time() + request.timeout_s
        step = _StepAccumulator()
        try:
            async with asyncio.timeout_at(deadline):
                chunks = await self._client.chat.completions.create(
                    model=self._model,
                    messages=[],  # sent in `extra_body`, see _bulky_params
                    stream=True,
                    stream_options={"include_usage": True},
                    temperature=_given(request.temperature),
                    max_completion_tokens=self._max_tokens(request, "max_completion_tokens"),
                    max_tokens=self._max_tokens(request, "max_tokens"),
                    extra_body=_bulky_params(messages, tools),
                )
            try:
                while True:
                    chunk = await next_before(chunks, deadline)
                    if chunk is None:
                        break
                    text = step.add(chunk)
                    if text:
                        yield TextDelta(text)
            finally:
                with contextlib.suppress(Exception):  # the step's outcome is already decided
                    await chunks.close()
            response = step.finish()
        except ModelError:
            raise
        except TimeoutError as exc:
            raise ModelTimeout(
                PROVIDER, f"no complete answer within {request.timeout_s:g} s"
            ) from exc
        except openai.OpenAIError as exc:
            raise _translate(exc) from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ModelBadResponse(PROVIDER, "the stream carried an undecodable event") from exc
        except Exception as exc:  # the seam promises: never a vendor or transport exception
            raise ModelUnavailable(
                PROVIDER, f"unexpected {type(exc).__module__}.{type(exc).__name__}"
            ) from exc
        yield response

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.close()

    def _max_tokens(self, request: ModelRequest, param: MaxTokensParam) -> int | openai.Omit:
        if request.max_output_tokens is None or param != self._max_tokens_param:
            return openai.omit
        return request.max_output_tokens


def openai_chat_model(
    *, model: str, api_key: str | None, base_url: str | None, http_timeout: float = 30
) -> OpenAIChatModel:
    """The provider for `LLM_PROVIDER=openai`, built from settings (never from the environment).

    No `api_key` sends a placeholder (local servers need none); no `base_url` means OpenAI.
    `http_timeout` bounds each HTTP phase (connect, read between bytes); the overall deadline
    of a step is the request's `timeout_s`.
    """
    client = openai.AsyncOpenAI(
        api_key=api_key or _NO_KEY,
        base_url=base_url or OPENAI_API_URL,
        max_retries=0,
        timeout=http_timeout,
    )
    is_openai = urlsplit(base_url or OPENAI_API_URL).hostname == "api.openai.com"
    return OpenAIChatModel(
        client,
        model=model,
        max_tokens_param="max_completion_tokens" if is_openai else "max_tokens",
    )


# -- request conversion --------------------------------------------------------------------


def _bulky_params(
    messages: list[ChatCompletionMessageParam], tools: list[ChatCompletionFunctionToolParam]
) -> dict[str, object]:
    """The messages and tool schemas, passed as `extra_body` (which the SDK merges into the
    JSON body as given, over the typed fields) rather than as typed parameters: the SDK
    walks every node of typed parameters to apply aliases and formats that plain chat
    messages and JSON schemas never use — about 4 ms of CPU per request with our 14 tool
    schemas and a budget-full history, a third of a simple turn's CPU. We build both as
    plain JSON here, so the wire body is the same."""
    bulky: dict[str, object] = {"messages": messages}
    if tools:
        bulky["tools"] = tools
    return bulky


def _given(value: float | None) -> float | openai.Omit:
    return openai.omit if value is None else value


def _to_openai_message(message: ModelMessage) -> ChatCompletionMessageParam:
    content = message.content or ""
    if message.role == "system":
        return {"role": "system", "content": content}
    if message.role == "user":
        return {"role": "user", "content": content}
    if message.role == "tool":
        if not message.tool_call_id:
            raise ValueError("a tool message needs the tool_call_id it answers")
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": content}
    if not message.tool_calls:
        return {"role": "assistant", "content": content}
    calls: list[ChatCompletionMessageFunctionToolCallParam] = [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments},
        }
        for call in message.tool_calls
    ]
    # Content may be null next to tool calls; an empty string confuses some servers.
    return {"role": "assistant", "content": message.content or None, "tool_calls": calls}


# -- stream accumulation -------------------------------------------------------------------


class _StepAccumulator:
    """Folds `chat.completion.chunk`s into text deltas and one final ModelResponse."""

    def __init__(self) -> None:
        self._step = StreamedStep()
        self._usage: Usage | None = None
        self._saw_choice = False

    def add(self, chunk: ChatCompletionChunk) -> str:
        """Take one chunk; returns the assistant text it carried ("" if none)."""
        try:
            return self._add(chunk)
        except (AttributeError, TypeError, ValueError) as exc:
            # The SDK builds chunks without validation: a wrong shape surfaces here.
            raise ModelBadResponse(PROVIDER, "a stream chunk has an unexpected shape") from exc

    def _add(self, chunk: ChatCompletionChunk) -> str:
        if chunk.model:
            self._step.model = str(chunk.model)
        if chunk.usage is not None:  # the last report wins (some servers repeat it)
            self._usage = Usage(
                input_tokens=int(chunk.usage.prompt_tokens or 0),
                output_tokens=int(chunk.usage.completion_tokens or 0),
            )
        text = ""
        for choice in chunk.choices or ():
            if choice.index not in (0, None):  # we ask for one choice (n=1)
                continue
            self._saw_choice = True
            delta = choice.delta
            if delta is not None:
                # A refusal is the model's answer to the user; show it like text.
                text += (delta.content or "") + (delta.refusal or "")
                for call_delta in delta.tool_calls or ():
                    self._add_tool_call(call_delta)
            if choice.finish_reason:
                self._step.finish_reason = str(choice.finish_reason)
        self._step.text.append(text)
        return text

    def _add_tool_call(self, delta: ChoiceDeltaToolCall) -> None:
        function = delta.function
        arguments: object = None if function is None else function.arguments
        if isinstance(arguments, dict):  # a server that sends an object, not JSON text
            arguments = json.dumps(arguments)
        self._step.calls.add(
            index=delta.index,
            call_id=delta.id,
            name=None if function is None else function.name,
            arguments=arguments if isinstance(arguments, str) else None,
        )

    def finish(self) -> ModelResponse:
        if not self._saw_choice:
            raise ModelBadResponse(PROVIDER, "the response carried no choices")
        if self._step.finish_reason is None:
            raise ModelBadResponse(PROVIDER, "the stream ended without a finish_reason")
        return self._step.response(PROVIDER, usage=self._usage)


# -- exception translation -----------------------------------------------------------------

_STATUS_HINTS: Mapping[int, str] = {
    400: "the server rejected the request",
    401: "check OPENAI_API_KEY",
    403: "the key may not use this model or endpoint",
    404: "check LLM_MODEL and OPENAI_BASE_URL",
    413: "the request is too large",
    422: "the server rejected the request",
}


def _translate(exc: openai.OpenAIError) -> ModelError:
    if isinstance(exc, openai.APITimeoutError):
        return ModelTimeout(PROVIDER, "the HTTP request timed out")
    if isinstance(exc, openai.APIConnectionError):
        return ModelUnavailable(PROVIDER, "could not connect to the model server")
    if isinstance(exc, openai.APIStatusError):
        return _for_status(exc)
    if isinstance(exc, openai.APIResponseValidationError):
        return ModelBadResponse(PROVIDER, "the response does not match the API schema")
    if isinstance(exc, openai.APIError):  # an `error` event inside a 200 stream
        extra = {"code": exc.code, "type": exc.type}
        return ModelUnavailable(PROVIDER, "the server reported an error mid-stream", extra)
    return ModelUnavailable(PROVIDER, f"unexpected {type(exc).__name__}")


def _for_status(exc: openai.APIStatusError) -> ModelError:
    status = exc.status_code
    extra = {
        "status": status,
        "code": exc.code,
        "type": exc.type,
        "param": exc.param,
        "request_id": exc.request_id,
    }
    detail = " ".join(
        part for part in (f"HTTP {status}", exc.code, _STATUS_HINTS.get(status, "")) if part
    )
    if status == 429:
        retry_after = retry_after_from_headers(exc.response.headers)
        return ModelRateLimited(PROVIDER, detail, extra, retry_after=retry_after)
    if status == 408:
        return ModelTimeout(PROVIDER, detail, extra)
    if status >= 500:
        return ModelUnavailable(PROVIDER, detail, extra)
    return ModelConfigError(PROVIDER, detail, extra)
