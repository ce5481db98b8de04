"""Model faults over the real OpenAI wire format: errors, rate limits, a hang, garbage tool
calls, an unknown tool, no choices. The user always gets an answer or a clear message."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.engine import EngineConfig
from sandbox.runner import RunningSandbox
from tests.fakes.openai_server import (
    Completion,
    ErrorReply,
    FakeToolCall,
    Hang,
    OpenAIFake,
    RawReply,
    Step,
)
from tests.faults.chat import Chat, open_chat, user_texts
from tests.faults.ledger import LEDGER

SHORT = EngineConfig(tenant_name="Harbor IT Services", reply_deadline_s=4, turn_timeout_s=8)


@pytest.fixture
async def fake() -> AsyncIterator[OpenAIFake]:
    server = OpenAIFake()
    await server.start()
    yield server
    await server.close()  # steps the engine did not ask for are fine here; it may give up


@pytest.fixture
async def chat(sandbox: RunningSandbox, tmp_path: Path, fake: OpenAIFake) -> AsyncIterator[Chat]:
    async with open_chat(
        sandbox, tmp_path, openai_base_url=fake.base_url, openai_api_key="sk-test"
    ) as opened:
        await opened.link()
        yield opened.with_config(SHORT)


FAULTS: dict[str, list[Step]] = {
    "500": [ErrorReply(500)] * 3,
    "429": [ErrorReply(429, retry_after="1", type="rate_limit_exceeded")] * 3,
    "hang": [Hang()],
    "malformed tool-call JSON": [
        Completion(tool_calls=(FakeToolCall("search_kb", '{"query": "vpn"'),)),
        Completion(text="Sorry, I could not look that up."),
    ],
    "unknown tool": [
        Completion(tool_calls=(FakeToolCall("delete_all_tickets", "{}"),)),
        Completion(text="I can't do that."),
    ],
    "empty choices": [
        RawReply.sse({"id": "x", "object": "chat.completion.chunk", "choices": []}, "[DONE]")
    ]
    * 3,
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_a_model_fault_still_answers_the_user(
    chat: Chat, fake: OpenAIFake, fault: str
) -> None:
    fake.enqueue(*FAULTS[fault])
    LEDGER.injected_here()
    texts = user_texts(await chat.say("How do I set up the VPN on my laptop?"))
    assert texts and all(t.strip() for t in texts), texts
    assert await chat.written("POST", "/tickets") == 0
    stored = await chat.services.store.find_conversation("test", chat.conversation)
    assert stored is not None
    messages = await chat.services.store.messages_after(stored.id, after_seq=0)
    assert [m.content for m in messages if m.role == "user"] == [
        "How do I set up the VPN on my laptop?"
    ], "the user's message is kept"
