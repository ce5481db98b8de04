"""The fakes themselves: they script what they are told and fail loudly on anything else."""

from __future__ import annotations

import asyncio

import openai
import pytest

from bot.llm import (
    ModelMessage,
    ModelRateLimited,
    ModelRequest,
    ModelResponse,
    TextDelta,
    Usage,
)
from tests.fakes.openai_server import FakeToolCall, OpenAIFake
from tests.fakes.scripted_model import Fail, Hang, Reply, ScriptedChatModel, tool_call

REQUEST = ModelRequest(messages=[ModelMessage("user", "Is the VPN down?")])


async def events_of(model: ScriptedChatModel, request: ModelRequest = REQUEST) -> list[object]:
    return [event async for event in model.stream(request)]


# -- ScriptedChatModel -----------------------------------------------------------------------


async def test_scripted_replies_stream_in_order_and_requests_are_recorded() -> None:
    lookup = tool_call("check_outages", id="call_1")
    model = ScriptedChatModel(
        Reply(tool_calls=(lookup,), usage=Usage(10, 2)),
        Reply(text="VPN is degraded."),
    )
    follow_up = ModelRequest(
        messages=[
            *REQUEST.messages,
            ModelMessage("assistant", None, tool_calls=(lookup,)),
            ModelMessage("tool", "VPN degraded since 09:10", tool_call_id="call_1"),
        ]
    )

    first = await events_of(model)
    second = await events_of(model, follow_up)

    assert first == [
        ModelResponse(
            text="",
            tool_calls=(lookup,),
            usage=Usage(10, 2),
            finish_reason="tool_calls",
            model="scripted",
        )
    ]
    assert second[:-1] == [TextDelta("VPN "), TextDelta("is "), TextDelta("degraded.")]
    final = second[-1]
    assert isinstance(final, ModelResponse)
    assert final.text == "VPN is degraded."
    assert final.usage is not None and final.usage.input_tokens > 0
    assert model.requests == [REQUEST, follow_up]
    model.assert_consumed()


async def test_a_scripted_failure_raises_the_model_error_after_its_prefix() -> None:
    model = ScriptedChatModel(Fail(ModelRateLimited("scripted", retry_after=2.0), "Part"))
    seen: list[object] = []

    with pytest.raises(ModelRateLimited):
        async for event in model.stream(REQUEST):
            seen.append(event)

    assert seen == [TextDelta("Part")]
    model.assert_consumed()


async def test_a_hang_ends_at_the_callers_deadline() -> None:
    model = ScriptedChatModel(Hang())

    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await events_of(model)


async def test_a_step_can_be_computed_from_the_request() -> None:
    model = ScriptedChatModel(lambda request: Reply(text=f"{len(request.messages)} message"))

    *_, final = await events_of(model)

    assert isinstance(final, ModelResponse)
    assert final.text == "1 message"


async def test_unconsumed_steps_and_unexpected_calls_fail_assert_consumed() -> None:
    leftover = ScriptedChatModel(Reply(text="never asked"))
    with pytest.raises(AssertionError, match="unconsumed step"):
        leftover.assert_consumed()

    extra = ScriptedChatModel()
    with pytest.raises(AssertionError, match="unexpected model call"):
        await events_of(extra)
    with pytest.raises(AssertionError, match="unexpected call #1"):
        extra.assert_consumed()  # even if the engine swallowed the first error


def test_fail_only_takes_model_errors() -> None:
    with pytest.raises(TypeError):
        Fail(RuntimeError("boom"))  # type: ignore[arg-type]


# -- OpenAIFake --------------------------------------------------------------------------------


async def test_the_fake_answers_unexpected_requests_500_and_fails_at_close() -> None:
    fake = OpenAIFake()
    await fake.start()
    client = openai.AsyncOpenAI(api_key="k", base_url=fake.base_url, max_retries=0)
    try:
        with pytest.raises(openai.InternalServerError, match="unexpected request"):
            await client.chat.completions.create(model="m", messages=[])
    finally:
        await client.close()
        await fake.close()
    with pytest.raises(AssertionError, match="unexpected request"):
        fake.assert_done()


async def test_the_fake_reports_unconsumed_steps_when_it_closes() -> None:
    with pytest.raises(AssertionError, match="unconsumed step"):
        async with OpenAIFake() as fake:
            fake.reply_text("nobody asked")


async def test_the_fake_answers_non_streaming_requests_with_one_json_body() -> None:
    async with OpenAIFake() as fake:
        fake.reply_tool_calls(FakeToolCall("get_ticket", '{"ticket_number": 1}', id="c1"))
        client = openai.AsyncOpenAI(api_key="k", base_url=fake.base_url, max_retries=0)
        completion = await client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}]
        )
        await client.close()

    [choice] = completion.choices
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None
    [call] = choice.message.tool_calls
    assert (call.id, call.function.name, call.function.arguments) == (  # type: ignore[union-attr]
        "c1",
        "get_ticket",
        '{"ticket_number": 1}',
    )
    assert completion.usage is not None and completion.usage.prompt_tokens == 21


async def test_a_hang_is_released_when_the_fake_closes_not_by_a_sleep() -> None:
    async with OpenAIFake() as fake:
        fake.hang()
        client = openai.AsyncOpenAI(api_key="k", base_url=fake.base_url, max_retries=0)
        with pytest.raises(openai.APITimeoutError):
            await client.chat.completions.create(model="m", messages=[], timeout=0.1)
        await client.close()
    # leaving the block did not wait for anything but the event: the test stays fast
