"""The ChatModel over any LangChain chat model: one streamed step through `bind_tools` + `astream`.

Also the LangChain export of our tools (`to_structured_tools`), since only this module may
import LangChain.

`LangChainChatModel` wraps a `BaseChatModel` instance (ChatOpenAI, ChatAnthropic, ChatOllama,
...). Tools are bound in the OpenAI `{"type": "function", ...}` format, which every LangChain
integration accepts; the `AIMessageChunk`s of `astream` are folded into `TextDelta`s and one
`ModelResponse`: text from `content` (a string, or the `text` blocks of a block list),
complete tool calls from `tool_call_chunks` (arguments kept as the raw JSON text, fragments
joined per `index` by `bot.llm_stream`; without an index a chunk with a new id starts a call),
usage summed from `usage_metadata` (Anthropic reports input and output tokens on different
chunks), the finish reason from `response_metadata` (`finish_reason`, `stop_reason`,
`done_reason`, ...).

`langchain_chat_model(spec, ...)` builds the model for `LLM_PROVIDER=langchain`: with the
`langchain` package, any `init_chat_model` spec ("anthropic:claude-...", "ollama:llama3.1");
without it, `langchain_openai.ChatOpenAI` for "openai:<model>" and bare names. OpenAI models
get `use_responses_api=False` (Chat Completions, like every compatible server),
`stream_usage=True` and `max_retries=0` (the engine owns retries). `request.timeout_s` is one
deadline for the whole step.

Exceptions are translated here (`raise ... from exc`); nothing else escapes. LangChain 1.x
integrations raise `langchain_core.exceptions.ModelError` subclasses (ChatOpenAI's also
inherit from the openai SDK's, which this module may not import):

    ModelTimeoutError, asyncio deadline, HTTP 408           ModelTimeout
    ModelRateLimitError, HTTP 429                           ModelRateLimited(retry_after)
    ModelAPIError, ModelConnectionError, 5xx, OSError,
    and anything unforeseen (detail: the type name)         ModelUnavailable
    ModelAuthenticationError, ModelPermissionDeniedError,
    ModelNotFoundError, ModelInvalidRequestError,
    ContextOverflowError, any other 4xx                     ModelConfigError
    ValueError (undecodable stream, "no generation chunks",
    output parsing), ModelRefusalError, no chunks, no
    finish reason (truncated), a tool call without a name   ModelBadResponse

Details carry the exception type and status, never its message (it can echo content).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from langchain_core import exceptions as lc_errors
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    InvalidToolCall,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages import ToolCall as LCToolCall
from langchain_core.runnables import Runnable
from langchain_core.tools import StructuredTool
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

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
    ToolSchema,
    Usage,
    function_tool,
)
from bot.llm_stream import StreamedStep, next_before
from bot.retry_after import retry_after_from_headers

if TYPE_CHECKING:
    from bot.tooling import ToolSpec

__all__ = ["LangChainChatModel", "ToolRunner", "langchain_chat_model", "to_structured_tools"]

ToolRunner = Callable[[str, dict[str, Any]], Awaitable[str]]
"""Runs the named tool with the model's arguments and returns the text the model sees."""

PROVIDER = "langchain"
# OpenAI-compatible local servers ignore the key, but the SDK refuses to start without one.
_NO_KEY = "not-needed"
# Where integrations put the reason a generation stopped.
_FINISH_KEYS = ("finish_reason", "stop_reason", "done_reason", "stopReason", "finishReason")
# Bare model names that LangChain's init_chat_model itself maps to OpenAI.
_OPENAI_PREFIXES = ("gpt-", "o1", "o3", "o4", "chatgpt", "text-", "davinci")
# Providers init_chat_model accepts as a "provider:model" prefix (the rest are model names
# with a tag, like Ollama's "llama3.1:8b").
_KNOWN_PROVIDERS = frozenset(
    {
        "openai", "azure_openai", "azure_ai", "anthropic", "ollama", "google_genai",
        "google_vertexai", "google_anthropic_vertex", "bedrock", "bedrock_converse",
        "mistralai", "groq", "fireworks", "together", "huggingface", "cohere", "deepseek",
        "xai", "perplexity", "ibm", "nvidia", "upstage",
    }
)  # fmt: skip


class LangChainChatModel:
    """A `bot.llm.ChatModel` over a LangChain `BaseChatModel`."""

    def __init__(self, model: BaseChatModel) -> None:
        self._model = model
        label = getattr(model, "model_name", None) or getattr(model, "model", None)
        self._name = f"{PROVIDER}:{type(model).__name__}" + (f":{label}" if label else "")

    @property
    def name(self) -> str:
        return self._name

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        messages = [_to_langchain_message(message) for message in request.messages]
        runnable: Runnable[LanguageModelInput, BaseMessage] = self._model
        if request.tools:
            runnable = self._model.bind_tools([function_tool(tool) for tool in request.tools])
        options: dict[str, Any] = {}
        if request.temperature is not None:
            options["temperature"] = request.temperature
        if request.max_output_tokens is not None:
            options["max_tokens"] = request.max_output_tokens
        deadline = asyncio.get_running_loop().time() + request.timeout_s
        step = _StepAccumulator()
        try:
            chunks = runnable.astream(messages, **options)
            try:
                while True:
                    chunk = await next_before(chunks, deadline)
                    if chunk is None:
                        break
                    text = step.add(chunk)
                    if text:
                        yield TextDelta(text)
            finally:
                if isinstance(chunks, AsyncGenerator):
                    with contextlib.suppress(Exception):  # the outcome is already decided
                        await chunks.aclose()
            response = step.finish()
        except ModelError:
            raise
        except TimeoutError as exc:
            raise ModelTimeout(
                PROVIDER, f"no complete answer within {request.timeout_s:g} s"
            ) from exc
        except Exception as exc:  # the seam promises: never a vendor exception
            raise _translate(exc) from exc
        yield response

    async def aclose(self) -> None:
        """Nothing to release: LangChain integrations own their HTTP clients.

        (langchain_openai shares one cached client per base URL and timeout across
        instances, so closing it here would break any other ChatOpenAI in the process.)
        """


def langchain_chat_model(
    spec: str, *, api_key: str | None, base_url: str | None, http_timeout: float = 30
) -> LangChainChatModel:
    """The provider for `LLM_PROVIDER=langchain` from an `init_chat_model` spec.

    `api_key` and `base_url` are the OPENAI_* settings: they configure OpenAI models only
    ("openai:<model>", a bare OpenAI model name, or any bare name when `base_url` points at
    an OpenAI-compatible server); other providers read their own settings, as LangChain does.
    """
    provider, model_name = _parse_spec(spec)
    is_openai = provider == "openai" or (
        provider is None and (base_url is not None or model_name.startswith(_OPENAI_PREFIXES))
    )
    init_chat_model = _init_chat_model()
    if is_openai:
        openai_options: dict[str, Any] = {
            "use_responses_api": False,
            "stream_usage": True,
            "max_retries": 0,
            "timeout": http_timeout,
            "api_key": SecretStr(api_key or _NO_KEY),
        }
        if base_url:
            openai_options["base_url"] = base_url
        if init_chat_model is None:
            return LangChainChatModel(ChatOpenAI(model=model_name, **openai_options))
        chat = init_chat_model(model_name, model_provider="openai", **openai_options)
        return LangChainChatModel(chat)
    if init_chat_model is None:
        raise ModelConfigError(
            PROVIDER, f"LLM_MODEL {spec!r} needs the `langchain` package (init_chat_model)"
        )
    try:
        return LangChainChatModel(init_chat_model(spec))
    except (ImportError, ValueError) as exc:  # unknown provider, integration not installed
        raise ModelConfigError(PROVIDER, f"cannot build LLM_MODEL {spec!r}: {exc}") from exc


def to_structured_tools(specs: Iterable[ToolSpec[Any]], run: ToolRunner) -> list[StructuredTool]:
    """Each tool as a LangChain `StructuredTool`, offered exactly like its OpenAI export.

    The argument schema is the spec's own JSON schema (not re-derived by LangChain), so
    name, description, bounds, enums and `additionalProperties: false` match the Chat
    Completions tool JSON. Calling a tool hands the raw arguments to `run(name, arguments)`,
    which validates them like any model call (errors become text for the model).
    """
    return [_structured_tool(spec.schema(), run) for spec in specs]


def _structured_tool(schema: ToolSchema, run: ToolRunner) -> StructuredTool:
    async def call(**arguments: Any) -> str:
        return await run(schema.name, arguments)

    return StructuredTool.from_function(
        coroutine=call,
        name=schema.name,
        description=schema.description,
        args_schema=dict(schema.parameters),
    )


def _init_chat_model() -> Callable[..., BaseChatModel] | None:
    """`langchain.chat_models.init_chat_model` when the optional `langchain` is installed."""
    try:
        module = importlib.import_module("langchain.chat_models")
    except ImportError:
        return None
    return cast(Callable[..., BaseChatModel], module.init_chat_model)


def _parse_spec(spec: str) -> tuple[str | None, str]:
    provider, sep, rest = spec.partition(":")
    if sep and provider.lower() in _KNOWN_PROVIDERS:
        return provider.lower(), rest
    return None, spec


# -- request conversion --------------------------------------------------------------------


def _to_langchain_message(message: ModelMessage) -> BaseMessage:
    content = message.content or ""
    if message.role == "system":
        return SystemMessage(content=content)
    if message.role == "user":
        return HumanMessage(content=content)
    if message.role == "tool":
        if not message.tool_call_id:
            raise ValueError("a tool message needs the tool_call_id it answers")
        return ToolMessage(content=content, tool_call_id=message.tool_call_id)
    calls: list[LCToolCall] = []
    invalid: list[InvalidToolCall] = []
    for call in message.tool_calls:
        try:
            args = json.loads(call.arguments or "{}")
        except json.JSONDecodeError:
            args = None
        if isinstance(args, dict):
            calls.append(LCToolCall(name=call.name, args=args, id=call.id, type="tool_call"))
        else:  # sent back verbatim, so the model sees what it produced
            invalid.append(
                InvalidToolCall(
                    name=call.name,
                    args=call.arguments,
                    id=call.id,
                    error=None,
                    type="invalid_tool_call",
                )
            )
    return AIMessage(content=content, tool_calls=calls, invalid_tool_calls=invalid)


# -- stream accumulation -------------------------------------------------------------------


class _StepAccumulator:
    """Folds LangChain message chunks into text deltas and one final ModelResponse."""

    def __init__(self) -> None:
        self._step = StreamedStep()
        self._input_tokens: int | None = None
        self._output_tokens = 0
        self._chunks = 0
        self._complete = False  # a whole AIMessage arrived: it cannot have been truncated

    def add(self, chunk: BaseMessage) -> str:
        self._chunks += 1
        text = _text_of(chunk.content)
        self._step.text.append(text)
        metadata = chunk.response_metadata or {}
        for key in _FINISH_KEYS:
            if metadata.get(key):
                self._step.finish_reason = str(metadata[key])
                break
        model = metadata.get("model_name") or metadata.get("model")
        if isinstance(model, str) and model:
            self._step.model = model
        calls = self._step.calls
        if isinstance(chunk, AIMessageChunk):
            for part in chunk.tool_call_chunks:
                calls.add(
                    index=part["index"],
                    call_id=part["id"],
                    name=part["name"],
                    arguments=part["args"],
                )
        elif isinstance(chunk, AIMessage):  # a model without streaming yields one message
            self._complete = True
            for call in chunk.tool_calls:
                arguments = json.dumps(call["args"])
                calls.add(index=None, call_id=call["id"], name=call["name"], arguments=arguments)
            for bad in chunk.invalid_tool_calls:
                calls.add(index=None, call_id=bad["id"], name=bad["name"], arguments=bad["args"])
        if isinstance(chunk, AIMessage) and chunk.usage_metadata:
            usage = chunk.usage_metadata
            self._input_tokens = (self._input_tokens or 0) + usage.get("input_tokens", 0)
            self._output_tokens += usage.get("output_tokens", 0)
        return text

    def finish(self) -> ModelResponse:
        step = self._step
        if not self._chunks:
            raise ModelBadResponse(PROVIDER, "the model returned no chunks")
        step.calls.require_names(PROVIDER)  # before the finish reason, which may be missing
        if step.finish_reason is None and self._complete:
            step.finish_reason = "tool_calls" if step.calls else "stop"
        if step.finish_reason is None:
            raise ModelBadResponse(PROVIDER, "the stream ended without a finish reason")
        usage = None
        if self._input_tokens is not None:
            usage = Usage(input_tokens=self._input_tokens, output_tokens=self._output_tokens)
        return step.response(PROVIDER, usage=usage)


def _text_of(content: str | list[str | dict[Any, Any]]) -> str:
    """Assistant text of a chunk: a string, or the `text` blocks of a content-block list."""
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif block.get("type") == "text" and isinstance(block.get("text"), str):
            parts.append(block["text"])
    return "".join(parts)


# -- exception translation -----------------------------------------------------------------

_BY_TYPE: tuple[tuple[type[Exception], type[ModelError]], ...] = (
    (lc_errors.ModelTimeoutError, ModelTimeout),
    (lc_errors.ModelRateLimitError, ModelRateLimited),
    (lc_errors.ModelAPIError, ModelUnavailable),
    (lc_errors.ModelConnectionError, ModelUnavailable),
    (lc_errors.ModelAuthenticationError, ModelConfigError),
    (lc_errors.ModelPermissionDeniedError, ModelConfigError),
    (lc_errors.ModelNotFoundError, ModelConfigError),
    (lc_errors.ModelInvalidRequestError, ModelConfigError),
    (lc_errors.ContextOverflowError, ModelConfigError),
    (lc_errors.ModelRefusalError, ModelBadResponse),
)


def _translate(exc: Exception) -> ModelError:
    kind = next((ours for theirs, ours in _BY_TYPE if isinstance(exc, theirs)), None)
    status = _status_of(exc)
    if kind is None and status is not None:
        kind = _kind_for_status(status)
    if kind is None:
        kind = _kind_for_foreign(exc)
    detail = type(exc).__name__ + (f" (HTTP {status})" if status is not None else "")
    extra = {"status": status, "exception": f"{type(exc).__module__}.{type(exc).__name__}"}
    if kind is ModelRateLimited:
        return ModelRateLimited(PROVIDER, detail, extra, retry_after=_retry_after_of(exc))
    return kind(PROVIDER, detail, extra)


def _kind_for_status(status: int) -> type[ModelError]:
    if status == 429:
        return ModelRateLimited
    if status == 408:
        return ModelTimeout
    if status >= 500:
        return ModelUnavailable
    return ModelConfigError if status >= 400 else ModelUnavailable


def _kind_for_foreign(exc: Exception) -> type[ModelError]:
    """Exceptions outside LangChain's tree, e.g. raw SDK or transport errors."""
    if "Timeout" in type(exc).__name__:  # httpx.ReadTimeout, openai.APITimeoutError, ...
        return ModelTimeout
    if isinstance(exc, ValueError):  # JSON/Unicode decoding, "No generation chunks", parsing
        return ModelBadResponse
    return ModelUnavailable  # OSError, SDK errors without a status, anything unforeseen


def _status_of(exc: Exception) -> int | None:
    status = getattr(exc, "status_code", None)
    if status is None:
        status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) and not isinstance(status, bool) else None


def _retry_after_of(exc: Exception) -> float | None:
    """Seconds to wait, from `retry-after-ms` or `Retry-After` on the error's HTTP response."""
    headers = getattr(getattr(exc, "response", None), "headers", None)
    return retry_after_from_headers(headers if isinstance(headers, Mapping) else None)
