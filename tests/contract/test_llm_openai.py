"""Contract tests: OpenAIChatModel with the real `openai` SDK against the OpenAI-compatible fake."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from email.utils import formatdate

import openai
import pytest

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
from bot.llm_openai import OpenAIChatModel, openai_chat_model
from tests.fakes.openai_server import (
    FakeToolCall,
    FakeUsage,
    OpenAIFake,
    RawReply,
    closed_port_base_url,
)

pytest_plugins = ["tests.fakes.fixtures"]

TICKET_TOOL = ToolSchema(
    name="get_ticket",
    description="Look up one of the user's tickets by its number.",
    parameters={
        "type": "object",
        "properties": {"ticket_number": {"type": "integer"}},
        "required": ["ticket_number"],
    },
)
OUTAGES_TOOL = ToolSchema(
    name="check_outages",
    description="List active outages.",
    parameters={"type": "object", "properties": {}},
)
HELLO = ModelRequest(
    messages=[
        ModelMessage("system", "You are the helpdesk assistant."),
        ModelMessage("user", "Hi!"),
    ],
    tools=[TICKET_TOOL, OUTAGES_TOOL],
    timeout_s=5,
)


@pytest.fixture
async def model(openai_fake: OpenAIFake) -> AsyncIterator[OpenAIChatModel]:
    chat = openai_chat_model(model="gpt-test", api_key="sk-test-key", base_url=openai_fake.base_url)
    yield chat
    await chat.aclose()


async def collect(
    chat: OpenAIChatModel, request: ModelRequest = HELLO
) -> tuple[list[str], ModelResponse]:
    """The text deltas and the final response; asserts the response is last and unique."""
    events = [event async for event in chat.stream(request)]
    assert isinstance(events[-1], ModelResponse)
    assert all(isinstance(event, TextDelta) for event in events[:-1])
    return [event.text for event in events[:-1] if isinstance(event, TextDelta)], events[-1]


async def failure(chat: OpenAIChatModel, request: ModelRequest = HELLO) -> ModelError:
    with pytest.raises(ModelError) as caught:
        await collect(chat, request)
    return caught.value


# -- success ---------------------------------------------------------------------------------


async def test_streamed_text_arrives_as_several_deltas_then_one_response(
    openai_fake: OpenAIFake, model: OpenAIChatModel
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


async def test_request_on_the_wire_streams_with_usage_and_openai_tools(
    openai_fake: OpenAIFake, model: OpenAIChatModel
) -> None:
    openai_fake.reply_text("ok")
    request = ModelRequest(
        messages=HELLO.messages, tools=HELLO.tools, max_output_tokens=300, temperature=0.2
    )

    await collect(model, request)

    [sent] = openai_fake.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["Authorization"] == "Bearer sk-test-key"
    assert sent.body == {
        "model": "gpt-test",
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [
            {"role": "system", "content": "You are the helpdesk assistant."},
            {"role": "user", "content": "Hi!"},
        ],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_ticket",
                    "description": "Look up one of the user's tickets by its number.",
                    "parameters": TICKET_TOOL.parameters,
                },
            },
            {
                "type": "function",
                "function": {
                    "name": "check_outages",
                    "description": "List active outages.",
                    "parameters": {"type": "object", "properties": {}},
                },
            },
        ],
        "max_tokens": 300,  # a compatible server's name for the cap (not api.openai.com)
        "temperature": 0.2,
    }


async def test_openai_max_tokens_parameter_name_is_configurable(openai_fake: OpenAIFake) -> None:
    client = openai.AsyncOpenAI(api_key="k", base_url=openai_fake.base_url, max_retries=0)
    chat = OpenAIChatModel(client, model="o4-mini", max_tokens_param="max_completion_tokens")
    openai_fake.reply_text("ok")

    await collect(chat, ModelRequest(messages=HELLO.messages, max_output_tokens=64))
    await chat.aclose()

    [body] = openai_fake.bodies
    assert body["max_completion_tokens"] == 64
    assert "max_tokens" not in body
    assert "tools" not in body  # no tools offered: none sent (some servers reject [])


async def test_assistant_tool_calls_and_tool_results_are_converted_on_the_wire(
    openai_fake: OpenAIFake, model: OpenAIChatModel
) -> None:
    openai_fake.reply_text("Ticket 3012 is open and there is a VPN outage.")
    calls = (
        ToolCall(id="call_a", name="get_ticket", arguments='{"ticket_number": 3012}'),
        ToolCall(id="call_b", name="check_outages", arguments="{}"),
    )
    request = ModelRequest(
        messages=[
            ModelMessage("system", "You are the helpdesk assistant."),
            ModelMessage("user", "Status of 3012? And is the VPN down?"),
            ModelMessage("assistant", None, tool_calls=calls),
            ModelMessage("tool", '{"status": "open"}', tool_call_id="call_a"),
            ModelMessage("tool", "VPN degraded since 09:10", tool_call_id="call_b"),
            ModelMessage("assistant", "Earlier answer."),
        ],
        tools=[TICKET_TOOL],
    )

    await collect(model, request)

    assert openai_fake.bodies[0]["messages"] == [
        {"role": "system", "content": "You are the helpdesk assistant."},
        {"role": "user", "content": "Status of 3012? And is the VPN down?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_a",
                    "type": "function",
                    "function": {"name": "get_ticket", "arguments": '{"ticket_number": 3012}'},
                },
                {
                    "id": "call_b",
                    "type": "function",
                    "function": {"name": "check_outages", "arguments": "{}"},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_a", "content": '{"status": "open"}'},
        {"role": "tool", "tool_call_id": "call_b", "content": "VPN degraded since 09:10"},
        {"role": "assistant", "content": "Earlier answer."},
    ]


async def test_tool_message_without_its_call_id_is_refused_before_sending(
    openai_fake: OpenAIFake, model: OpenAIChatModel
) -> None:
    request = ModelRequest(messages=[ModelMessage("tool", "result")])
    with pytest.raises(ValueError, match="tool_call_id"):
        await collect(model, request)
    assert openai_fake.requests == []


async def test_single_tool_call_split_across_chunks_is_reassembled_exactly(
    openai_fake: OpenAIFake, model: OpenAIChatModel
) -> None:
    arguments = '{"ticket_number": 3012, "note": "VPN \\u00e9chec, \\"quoted\\""}'
    openai_fake.reply_tool_calls(
        FakeToolCall("get_ticket", arguments, id="call_1"), args_chunk_size=3
    )

    deltas, response = await collect(model)

    assert deltas == []
    assert response.tool_calls == (ToolCall("call_1", "get_ticket", arguments),)
    assert response.finish_reason == "tool_calls"
    assert response.usage == Usage(input_tokens=21, output_tokens=9)


@pytest.mark.parametrize(
    "dialect",
    [
        {"tool_call_style": "split"},  # OpenAI
        {"tool_call_style": "split", "interleave_tool_calls": True},
        {"tool_call_style": "whole", "usage_style": "with_finish"},  # vLLM / LM Studio
        {"tool_call_style": "whole_no_index", "usage_style": "none"},  # Ollama-like
    ],
    ids=["openai", "interleaved", "whole-usage-on-finish", "no-index-no-usage"],
)
async def test_parallel_tool_calls_are_reassembled_in_every_dialect(
    openai_fake: OpenAIFake, model: OpenAIChatModel, dialect: dict[str, object]
) -> None:
    openai_fake.reply_tool_calls(
        FakeToolCall("get_ticket", '{"ticket_number": 3012}', id="call_x"),
        FakeToolCall("check_outages", "{}", id="call_y"),
        FakeToolCall("get_ticket", '{"ticket_number": 2999}', id="call_z"),
        text="Let me check.",
        **dialect,
    )

    deltas, response = await collect(model)

    assert "".join(deltas) == "Let me check."
    assert response.tool_calls == (
        ToolCall("call_x", "get_ticket", '{"ticket_number": 3012}'),
        ToolCall("call_y", "check_outages", "{}"),
        ToolCall("call_z", "get_ticket", '{"ticket_number": 2999}'),
    )
    expected_usage = None if dialect.get("usage_style") == "none" else Usage(21, 9)
    assert response.usage == expected_usage


async def test_a_server_that_reuses_index_zero_still_yields_separate_calls(
    openai_fake: OpenAIFake, model: OpenAIChatModel
) -> None:
    def call(call_id: str, name: str) -> dict[str, object]:
        delta = {"index": 0, "id": call_id, "function": {"name": name, "arguments": "{}"}}
        return {
            "id": "c",
            "model": "m",
            "choices": [{"index": 0, "delta": {"tool_calls": [delta]}}],
        }

    finish = {
        "id": "c",
        "model": "m",
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
    }
    openai_fake.enqueue(
        RawReply.sse(
            call("call_1", "check_outages"), call("call_2", "list_my_tickets"), finish, "[DONE]"
        )
    )

    _, response = await collect(model)

    assert [(c.id, c.name) for c in response.tool_calls] == [
        ("call_1", "check_outages"),
        ("call_2", "list_my_tickets"),
    ]
    assert response.finish_reason == "stop"  # passed through as sent
    assert response.usage is None


async def test_deltas_without_index_continue_the_call_they_follow(
    openai_fake: OpenAIFake, model: OpenAIChatModel
) -> None:
    def delta(**call: object) -> dict[str, object]:
        return {"choices": [{"index": 0, "delta": {"tool_calls": [call]}}]}

    openai_fake.enqueue(
        RawReply.sse(
            delta(id="call_1", function={"name": "get_ticket", "arguments": '{"ticket_'}),
            delta(function={"arguments": 'number": 3012}'}),
            delta(id="call_2", function={"name": "check_outages", "arguments": ""}),
            delta(function={"arguments": "{}"}),
            {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
            "[DONE]",
        )
    )

    _, response = await collect(model)

    assert response.tool_calls == (
        ToolCall("call_1", "get_ticket", '{"ticket_number": 3012}'),
        ToolCall("call_2", "check_outages", "{}"),
    )


async def test_a_consumer_that_stops_early_leaves_the_model_usable(
    openai_fake: OpenAIFake, model: OpenAIChatModel
) -> None:
    openai_fake.reply_text("one two three four")
    openai_fake.reply_text("again")

    stream = model.stream(HELLO)
    assert await anext(stream) == TextDelta("one ")
    await stream.aclose()  # type: ignore[attr-defined]  # an async generator

    _, response = await collect(model)
    assert response.text == "again"


# -- failures ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (500, ModelUnavailable),
        (502, ModelUnavailable),
        (503, ModelUnavailable),
        (408, ModelTimeout),
        (400, ModelConfigError),
        (401, ModelConfigError),
        (403, ModelConfigError),
        (404, ModelConfigError),
        (422, ModelConfigError),
    ],
)
async def test_http_errors_map_to_the_model_error_tree_without_retries(
    openai_fake: OpenAIFake, model: OpenAIChatModel, status: int, expected: type[ModelError]
) -> None:
    openai_fake.reply_error(status, message="the user wrote: my password is hunter2")

    error = await failure(model)

    assert type(error) is expected
    assert isinstance(error.__cause__, openai.APIStatusError)
    assert error.extra["status"] == status
    assert "hunter2" not in str(error)  # the server's text can echo content: never kept
    assert len(openai_fake.requests) == 1  # the engine owns retries


async def test_a_400_carries_the_api_error_code(
    openai_fake: OpenAIFake, model: OpenAIChatModel
) -> None:
    openai_fake.reply_error(400, code="context_length_exceeded")

    error = await failure(model)

    assert isinstance(error, ModelConfigError)
    assert error.extra["code"] == "context_length_exceeded"
    assert "context_length_exceeded" in error.detail


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"Retry-After": "1.5"}, 1.5),
        ({"retry-after-ms": "250", "Retry-After": "9"}, 0.25),
        ({}, None),
    ],
)
async def test_429_is_rate_limited_with_the_servers_retry_after(
    openai_fake: OpenAIFake,
    model: OpenAIChatModel,
    headers: dict[str, str],
    expected: float | None,
) -> None:
    openai_fake.reply_error(429, code="rate_limit_exceeded", headers=headers)

    error = await failure(model)

    assert isinstance(error, ModelRateLimited)
    assert error.retry_after == expected
    assert isinstance(error.__cause__, openai.RateLimitError)


async def test_429_retry_after_as_an_http_date(
    openai_fake: OpenAIFake, model: OpenAIChatModel
) -> None:
    openai_fake.reply_error(429, retry_after=formatdate(time.time() + 30, usegmt=True))

    error = await failure(model)

    assert isinstance(error, ModelRateLimited)
    assert error.retry_after is not None
    assert 25 <= error.retry_after <= 31


async def test_a_server_that_never_answers_times_out_at_the_request_deadline(
    openai_fake: OpenAIFake, model: OpenAIChatModel
) -> None:
    openai_fake.hang()
    started = time.monotonic()

    error = await failure(model, ModelRequest(messages=HELLO.messages, timeout_s=0.3))

    assert isinstance(error, ModelTimeout)
    assert time.monotonic() - started < 2


async def test_the_deadline_covers_the_whole_stream_not_just_the_headers(
    openai_fake: OpenAIFake, model: OpenAIChatModel
) -> None:
    openai_fake.hang(prefix_text="Looking that up")
    events: list[object] = []
    started = time.monotonic()

    with pytest.raises(ModelTimeout):
        async for event in model.stream(ModelRequest(messages=HELLO.messages, timeout_s=0.3)):
            events.append(event)

    assert events == [TextDelta("Looking "), TextDelta("that "), TextDelta("up")]
    assert time.monotonic() - started < 2


async def test_the_http_timeout_of_the_client_is_a_model_timeout_too(
    openai_fake: OpenAIFake,
) -> None:
    chat = openai_chat_model(
        model="gpt-test", api_key="k", base_url=openai_fake.base_url, http_timeout=0.2
    )
    openai_fake.hang()

    error = await failure(chat, ModelRequest(messages=HELLO.messages, timeout_s=5))
    await chat.aclose()

    assert isinstance(error, ModelTimeout)
    assert isinstance(error.__cause__, openai.APITimeoutError)


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
    openai_fake: OpenAIFake, model: OpenAIChatModel, kind: str, expected: type[ModelError]
) -> None:
    openai_fake.reply_malformed(kind)  # type: ignore[arg-type]

    error = await failure(model)

    assert type(error) is expected


@pytest.mark.parametrize(
    "events",
    [
        ("[DONE]",),  # an empty stream
        (
            {"id": "c", "choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 0}},
            "[DONE]",
        ),
        ({"id": "c", "choices": "not a list"}, "[DONE]"),
        ([1, 2, 3], "[DONE]"),
        (  # a tool call that never got a name
            {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "x"}]}}]},
            {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
            "[DONE]",
        ),
    ],
    ids=["empty", "no-choices", "choices-not-a-list", "not-an-object", "nameless-tool-call"],
)
async def test_replies_of_the_wrong_shape_are_bad_responses(
    openai_fake: OpenAIFake, model: OpenAIChatModel, events: tuple[object, ...]
) -> None:
    openai_fake.enqueue(RawReply.sse(*events))

    error = await failure(model)

    assert isinstance(error, ModelBadResponse)


async def test_connection_refused_is_unavailable() -> None:
    chat = openai_chat_model(model="gpt-test", api_key="k", base_url=closed_port_base_url())

    error = await failure(chat)
    await chat.aclose()

    assert isinstance(error, ModelUnavailable)
    assert isinstance(error.__cause__, openai.APIConnectionError)


async def test_without_a_key_a_placeholder_is_sent_for_keyless_local_servers(
    openai_fake: OpenAIFake,
) -> None:
    chat = openai_chat_model(model="llama3.1:8b", api_key=None, base_url=openai_fake.base_url)
    openai_fake.reply_text("hi")

    await collect(chat)
    await chat.aclose()

    assert openai_fake.requests[0].headers["Authorization"] == "Bearer not-needed"
    assert chat.name == "openai:llama3.1:8b"
