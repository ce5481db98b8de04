"""Contract tests: LangChainChatModel with the real `ChatOpenAI` against the OpenAI fake."""

from __future__ import annotations

import importlib.util
import time
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_openai import ChatOpenAI

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
    TextDelta,
    ToolCall,
    ToolSchema,
    Usage,
)
from bot.llm_langchain import LangChainChatModel, langchain_chat_model
from tests.fakes.openai_server import (
    FakeToolCall,
    FakeUsage,
    OpenAIFake,
    RawReply,
    closed_port_base_url,
)

pytest_plugins = ["tests.fakes.fixtures"]

HAS_LANGCHAIN = importlib.util.find_spec("langchain") is not None

TICKET_TOOL = ToolSchema(
    name="get_ticket",
    description="Look up one of the user's tickets by its number.",
    parameters={
        "type": "object",
        "properties": {"ticket_number": {"type": "integer"}},
        "required": ["ticket_number"],
    },
)
HELLO = ModelRequest(
    messages=[
        ModelMessage("system", "You are the helpdesk assistant."),
        ModelMessage("user", "Hi!"),
    ],
    tools=[TICKET_TOOL],
    timeout_s=5,
)


@pytest.fixture
def model(openai_fake: OpenAIFake) -> LangChainChatModel:
    return langchain_chat_model(
        "openai:gpt-test", api_key="sk-test-key", base_url=openai_fake.base_url
    )


async def collect(
    chat: LangChainChatModel, request: ModelRequest = HELLO
) -> tuple[list[str], ModelResponse]:
    events = [event async for event in chat.stream(request)]
    assert isinstance(events[-1], ModelResponse)
    assert all(isinstance(event, TextDelta) for event in events[:-1])
    return [event.text for event in events[:-1] if isinstance(event, TextDelta)], events[-1]


async def failure(chat: LangChainChatModel, request: ModelRequest = HELLO) -> ModelError:
    with pytest.raises(ModelError) as caught:
        await collect(chat, request)
    return caught.value


# -- success ---------------------------------------------------------------------------------


async def test_streamed_text_arrives_as_several_deltas_then_one_response(
    openai_fake: OpenAIFake, model: LangChainChatModel
) -> None:
    openai_fake.reply_text(
        "Your VPN should work again.", usage=FakeUsage(prompt_tokens=321, completion_tokens=12)
    )

    deltas, response = await collect(model)

    assert deltas == ["Your ", "VPN ", "should ", "work ", "again."]
    assert response == ModelResponse(
        text="Your VPN should work again.",
        usage=Usage(input_tokens=321, output_tokens=12),
        finish_reason="stop",
        model="gpt-test",
    )
    assert model.name == "langchain:ChatOpenAI:gpt-test"


async def test_chat_completions_with_usage_and_openai_tools_cross_the_wire(
    openai_fake: OpenAIFake, model: LangChainChatModel
) -> None:
    openai_fake.reply_text("ok")
    request = ModelRequest(
        messages=HELLO.messages, tools=HELLO.tools, max_output_tokens=300, temperature=0.2
    )

    await collect(model, request)

    [sent] = openai_fake.requests
    assert sent.path == "/v1/chat/completions"  # use_responses_api=False
    assert sent.headers["Authorization"] == "Bearer sk-test-key"
    body = sent.body
    assert body["model"] == "gpt-test"
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}  # stream_usage=True
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_ticket",
                "description": "Look up one of the user's tickets by its number.",
                "parameters": TICKET_TOOL.parameters,
            },
        }
    ]
    assert "parallel_tool_calls" not in body
    assert body["max_completion_tokens"] == 300  # ChatOpenAI's name for max_tokens
    assert body["temperature"] == 0.2


async def test_assistant_tool_calls_and_tool_results_are_converted_on_the_wire(
    openai_fake: OpenAIFake, model: LangChainChatModel
) -> None:
    openai_fake.reply_text("Ticket 3012 is open.")
    request = ModelRequest(
        messages=[
            ModelMessage("user", "Status of 3012?"),
            ModelMessage(
                "assistant",
                None,
                tool_calls=(
                    ToolCall("call_a", "get_ticket", '{"ticket_number": 3012}'),
                    ToolCall("call_b", "get_ticket", '{"ticket_number": 30'),  # invalid JSON
                ),
            ),
            ModelMessage("tool", '{"status": "open"}', tool_call_id="call_a"),
            ModelMessage("tool", "invalid arguments", tool_call_id="call_b"),
        ],
        tools=[TICKET_TOOL],
    )

    await collect(model, request)

    messages = openai_fake.bodies[0]["messages"]
    assert messages[0] == {"role": "user", "content": "Status of 3012?"}
    assert messages[1]["role"] == "assistant"
    assert messages[1]["content"] is None
    assert [
        (call["id"], call["type"], call["function"]["name"], call["function"]["arguments"])
        for call in messages[1]["tool_calls"]
    ] == [
        ("call_a", "function", "get_ticket", '{"ticket_number": 3012}'),
        ("call_b", "function", "get_ticket", '{"ticket_number": 30'),  # verbatim
    ]
    assert messages[2:] == [
        {"role": "tool", "tool_call_id": "call_a", "content": '{"status": "open"}'},
        {"role": "tool", "tool_call_id": "call_b", "content": "invalid arguments"},
    ]


@pytest.mark.parametrize(
    "dialect",
    [
        {"tool_call_style": "split", "args_chunk_size": 3},  # OpenAI
        {"tool_call_style": "split", "interleave_tool_calls": True},
        {"tool_call_style": "whole", "usage_style": "with_finish"},  # vLLM / LM Studio
        {"tool_call_style": "whole_no_index", "usage_style": "none"},  # Ollama-like
    ],
    ids=["openai", "interleaved", "whole-usage-on-finish", "no-index-no-usage"],
)
async def test_parallel_tool_calls_are_reassembled_in_every_dialect(
    openai_fake: OpenAIFake, model: LangChainChatModel, dialect: dict[str, Any]
) -> None:
    note = '{"ticket_number": 3012, "note": "VPN \\u00e9chec"}'
    openai_fake.reply_tool_calls(
        FakeToolCall("get_ticket", note, id="call_x"),
        FakeToolCall("check_outages", "{}", id="call_y"),
        **dialect,
    )

    deltas, response = await collect(model)

    assert deltas == []
    assert response.tool_calls == (
        ToolCall("call_x", "get_ticket", note),
        ToolCall("call_y", "check_outages", "{}"),
    )
    assert response.finish_reason == "tool_calls"
    expected_usage = None if dialect.get("usage_style") == "none" else Usage(21, 9)
    assert response.usage == expected_usage


async def test_a_server_that_reuses_index_zero_still_yields_separate_calls(
    openai_fake: OpenAIFake, model: LangChainChatModel
) -> None:
    def call(call_id: str, name: str) -> dict[str, object]:
        delta = {"index": 0, "id": call_id, "function": {"name": name, "arguments": "{}"}}
        return {
            "id": "c",
            "model": "m",
            "choices": [{"index": 0, "delta": {"tool_calls": [delta]}}],
        }

    openai_fake.enqueue(
        RawReply.sse(
            call("call_1", "check_outages"),
            call("call_2", "list_my_tickets"),
            {
                "id": "c",
                "model": "m",
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            },
            "[DONE]",
        )
    )

    _, response = await collect(model)

    assert [(c.id, c.name) for c in response.tool_calls] == [
        ("call_1", "check_outages"),
        ("call_2", "list_my_tickets"),
    ]


# -- failures ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (500, ModelUnavailable),
        (503, ModelUnavailable),
        (400, ModelConfigError),
        (401, ModelConfigError),
        (403, ModelConfigError),
        (404, ModelConfigError),
    ],
)
async def test_http_errors_map_to_the_model_error_tree_without_retries(
    openai_fake: OpenAIFake, model: LangChainChatModel, status: int, expected: type[ModelError]
) -> None:
    openai_fake.reply_error(status, message="the user wrote: my password is hunter2")

    error = await failure(model)

    assert type(error) is expected
    assert error.extra["status"] == status
    assert "hunter2" not in str(error)
    assert len(openai_fake.requests) == 1  # max_retries=0: the engine owns retries


async def test_429_is_rate_limited_with_the_servers_retry_after(
    openai_fake: OpenAIFake, model: LangChainChatModel
) -> None:
    openai_fake.reply_error(429, code="rate_limit_exceeded", retry_after="7")

    error = await failure(model)

    assert isinstance(error, ModelRateLimited)
    assert error.retry_after == 7.0


async def test_a_server_that_never_answers_times_out_at_the_request_deadline(
    openai_fake: OpenAIFake, model: LangChainChatModel
) -> None:
    openai_fake.hang(prefix_text="Looking that up")
    started = time.monotonic()

    error = await failure(model, ModelRequest(messages=HELLO.messages, timeout_s=0.3))

    assert isinstance(error, ModelTimeout)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("bad_json", ModelBadResponse),
        ("truncated", ModelBadResponse),
        ("non_json_body", ModelBadResponse),
        ("error_event", ModelUnavailable),
        ("reset", ModelUnavailable),
    ],
)
async def test_malformed_streams_map_to_the_model_error_tree(
    openai_fake: OpenAIFake, model: LangChainChatModel, kind: str, expected: type[ModelError]
) -> None:
    openai_fake.reply_malformed(kind)  # type: ignore[arg-type]

    error = await failure(model)

    assert type(error) is expected


async def test_connection_refused_is_unavailable() -> None:
    chat = langchain_chat_model("openai:gpt-test", api_key="k", base_url=closed_port_base_url())

    error = await failure(chat)

    assert isinstance(error, ModelUnavailable)


# -- any LangChain model, and the factory ---------------------------------------------------


class _NonStreamingModel(BaseChatModel):
    """A LangChain model without streaming: `astream` yields one whole AIMessage."""

    reply: AIMessage | None = None
    error: Exception | None = None

    @property
    def _llm_type(self) -> str:
        return "non-streaming-test"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.error is not None:
            raise self.error
        assert self.reply is not None
        return ChatResult(generations=[ChatGeneration(message=self.reply)])


async def test_a_model_without_streaming_still_yields_one_complete_response() -> None:
    reply = AIMessage(
        content=[{"type": "text", "text": "Checking "}, {"type": "text", "text": "now."}],
        tool_calls=[{"name": "get_ticket", "args": {"ticket_number": 3012}, "id": "c1"}],
        usage_metadata={"input_tokens": 40, "output_tokens": 8, "total_tokens": 48},
    )
    chat = LangChainChatModel(_NonStreamingModel(reply=reply))

    deltas, response = await collect(chat, ModelRequest(messages=HELLO.messages))

    assert deltas == ["Checking now."]
    assert response.text == "Checking now."
    assert response.tool_calls == (ToolCall("c1", "get_ticket", '{"ticket_number": 3012}'),)
    assert response.usage == Usage(input_tokens=40, output_tokens=8)
    assert response.finish_reason == "tool_calls"


async def test_an_unknown_exception_becomes_unavailable_without_its_message() -> None:
    chat = LangChainChatModel(_NonStreamingModel(error=RuntimeError("user said hunter2")))

    error = await failure(chat, ModelRequest(messages=HELLO.messages))

    assert isinstance(error, ModelUnavailable)
    assert "RuntimeError" in error.detail
    assert "hunter2" not in str(error)
    assert isinstance(error.__cause__, RuntimeError)


async def test_the_factory_builds_chat_openai_for_bare_names_on_a_compatible_server(
    openai_fake: OpenAIFake,
) -> None:
    chat = langchain_chat_model("llama3.1:8b", api_key=None, base_url=openai_fake.base_url)
    openai_fake.reply_text("hi")

    await collect(chat)

    assert chat.name == "langchain:ChatOpenAI:llama3.1:8b"
    assert openai_fake.bodies[0]["model"] == "llama3.1:8b"
    assert openai_fake.requests[0].headers["Authorization"] == "Bearer not-needed"


@pytest.mark.skipif(HAS_LANGCHAIN, reason="checks the fallback used without `langchain`")
def test_without_langchain_other_providers_are_a_config_error() -> None:
    with pytest.raises(ModelConfigError, match="langchain"):
        langchain_chat_model("anthropic:claude-sonnet-4", api_key=None, base_url=None)


@pytest.mark.skipif(not HAS_LANGCHAIN, reason="needs the optional `langchain` package")
def test_with_langchain_openai_specs_go_through_init_chat_model() -> None:
    chat = langchain_chat_model("openai:gpt-test", api_key="k", base_url="http://127.0.0.1:9/v1")
    assert chat.name == "langchain:ChatOpenAI:gpt-test"


def test_chat_openai_is_configured_for_chat_completions_without_retries(
    model: LangChainChatModel,
) -> None:
    chat = model._model  # the wrapped instance, to check settings the wire cannot show
    assert isinstance(chat, ChatOpenAI)
    assert chat.use_responses_api is False
    assert chat.max_retries == 0
