"""`LOG_FORMAT=json`: one JSON object a line, each record stamped with the turn that wrote it.

A real engine over the sandbox helpdesk (scripted model), logging through a handler set up
the way `helpdesk-bot serve` sets up its own (`ContextFilter` + `logging_setup.install`).
The helpdesk client's per-request DEBUG line is written inside every turn, so each turn, a
resumed question and a relay pass all have records to compare.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from bot.messages import Reply
from bot.store.store import Store
from sandbox.runner import RunningSandbox
from tests.contract.engine_harness import Harness, HarnessFactory, harness_factory
from tests.contract.test_handoff import agent_says, escalate, relay_for
from tests.fakes.scripted_model import Reply as Step
from tests.fakes.scripted_model import tool_call
from tests.log_capture import root_logs_to

FIELDS = {"time", "level", "logger", "message", "correlation_id", "channel", "conversation"}
channel_log = logging.getLogger("tests.channel")


@pytest.fixture
async def make(sandbox: RunningSandbox, store: Store) -> AsyncIterator[HarnessFactory]:
    async for factory in harness_factory(sandbox, store):
        yield factory


class Captured:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    async def during(self, work: Callable[[], Awaitable[object]]) -> list[dict[str, Any]]:
        """The JSON records written while `work` ran (every line must be one object)."""
        self.stream.seek(0)
        self.stream.truncate()
        await work()
        lines = [json.loads(line) for line in self.stream.getvalue().splitlines()]
        assert all(set(line) >= FIELDS for line in lines)
        return lines


@pytest.fixture
def captured() -> Iterator[Captured]:
    capture = Captured()
    with root_logs_to(capture.stream, fmt="%(message)s", level=logging.DEBUG, output="json"):
        yield capture


def turn_ids(lines: list[dict[str, Any]], *, conversation: int) -> str:
    """The one correlation id on every record the core wrote; checks the ids beside it."""
    ours = [line for line in lines if line["logger"].startswith(("bot.", "tests.channel"))]
    assert any(line["logger"] == "bot.helpdesk.transport" for line in ours)
    assert {(line["channel"], line["conversation"]) for line in ours} == {
        ("test", str(conversation))
    }
    [correlation] = {line["correlation_id"] for line in ours}
    assert correlation != "-"
    return correlation


def searched(answer: str) -> tuple[Step, Step]:
    return Step(tool_calls=(tool_call("search_kb", {"query": "vpn"}),)), Step(text=answer)


async def conversation_id(h: Harness) -> int:
    conversation = await h.store.find_conversation("test", h.conversation)
    assert conversation is not None
    return conversation.id


async def test_every_record_of_a_turn_carries_that_turn_s_correlation_id(
    make: HarnessFactory, captured: Captured
) -> None:
    h = make(*searched("Restart the VPN client."), *searched("Then reinstall it."))
    await h.link("jane@acme.example")

    first = await captured.during(lambda: h.say("my VPN drops"))
    second = await captured.during(lambda: h.say("still drops"))

    conversation = await conversation_id(h)
    assert turn_ids(first, conversation=conversation) != turn_ids(second, conversation=conversation)
    assert {line["level"] for line in first} >= {"DEBUG"}


async def test_a_resumed_question_gets_its_own_correlation_id(
    make: HarnessFactory, captured: Captured
) -> None:
    h = make(*searched("Restart the VPN client."), *searched("Here is how to reset it."))
    await h.link("jane@acme.example")
    turn = await captured.during(lambda: h.say("my VPN drops"))
    conversation = await conversation_id(h)
    waiting, _ = await h.store.add_inbound_message(
        conversation, "how do I reset my password?", event_id="waited-for-link"
    )

    async def resume() -> list[Reply]:
        replies = h.engine.resume(
            channel="test", conversation_key=h.conversation, message_id=waiting.id
        )
        return [reply async for reply in replies]

    resumed = await captured.during(resume)

    assert turn_ids(resumed, conversation=conversation) != turn_ids(turn, conversation=conversation)


async def test_a_relay_pass_and_the_channel_s_delivery_share_a_correlation_id(
    make: HarnessFactory, captured: Captured
) -> None:
    h = make()
    chat_id = await escalate(h)
    conversation = await h.store.find_conversation("test", h.conversation)
    assert conversation is not None

    class LoggingInbox:
        async def deliver(self, conversation_key: str, reply: Reply) -> bool:
            channel_log.info("delivered a %s", type(reply).__name__)
            return True

    relay = relay_for(h, LoggingInbox())  # type: ignore[arg-type]
    await agent_says(h, chat_id, "Hi Jane, I'm on it.")

    passes = [await captured.during(lambda: relay.relay_once(conversation)) for _ in range(2)]

    ids = [turn_ids(lines, conversation=conversation.id) for lines in passes]
    assert ids[0] != ids[1]
    delivered = [line for line in passes[0] if line["logger"] == "tests.channel"]
    assert [line["message"] for line in delivered] == [
        "delivered a HandoffStatus",
        "delivered a AgentMessage",
    ]
