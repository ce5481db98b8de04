"""The handoff, CSAT and degraded-answer series, moved by a real engine and relay.

The engine runs over the sandbox helpdesk with a scripted model; the agent is played
through the sandbox back office. The test binds its own `Metrics` (as the server binds one
per app) and reads the samples off its registry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.llm import ModelUnavailable
from bot.messages import Message
from bot.metrics import Metrics
from bot.store.store import Store
from sandbox.runner import RunningSandbox
from tests.contract.engine_harness import HarnessFactory, harness_factory
from tests.contract.test_handoff import Inbox, agent_says, escalate, relay_for, relay_once
from tests.fakes.scripted_model import Fail
from tests.metrics_fixtures import registry_fixture, sample  # noqa: F401 - the `registry` fixture


@pytest.fixture
async def make(sandbox: RunningSandbox, store: Store) -> AsyncIterator[HarnessFactory]:
    async for factory in harness_factory(sandbox, store):
        yield factory


async def test_a_handoff_counts_each_state_the_relay_lag_and_the_rating(
    make: HarnessFactory, registry: Metrics
) -> None:
    h = make()
    chat_id = await escalate(h)
    relay = relay_for(h, Inbox())
    await relay.scan_once()  # leases the conversation and starts relaying it
    await relay.aclose()
    assert sample(registry, "helpdesk_bot_conversations_in_handoff", owner="queued") == 1

    await agent_says(h, chat_id, "Hi Jane, I'm on it.")
    await agent_says(h, chat_id, "Fixed: the tray was misaligned.")
    assert await relay_once(h, relay)
    (await h.http.post(f"{h.sandbox.base_url}/sandbox/chats/{chat_id}/end")).raise_for_status()
    assert not await relay_once(h, relay)
    await h.say(action=f"rating:{chat_id}", value="4")

    handoffs = "helpdesk_bot_handoffs_total"
    for state in ("queued", "joined", "ended"):
        assert sample(registry, handoffs, state=state) == 1, state
    assert sample(registry, "helpdesk_bot_relay_lag_seconds_count", channel="test") == 2
    assert sample(registry, "helpdesk_bot_csat_score_count") == 1
    assert sample(registry, "helpdesk_bot_csat_score_sum") == 4
    assert sample(registry, "helpdesk_bot_csat_score_bucket", le="3.0") == 0
    assert sample(registry, "helpdesk_bot_csat_score_bucket", le="4.0") == 1


async def test_a_model_that_keeps_failing_counts_a_degraded_answer(
    make: HarnessFactory, registry: Metrics
) -> None:
    down = ModelUnavailable("scripted", "HTTP 503")
    h = make(Fail(down), Fail(down), Fail(down))
    await h.link("jane@acme.example")

    replies = await h.say("my VPN drops")

    assert any(isinstance(r, Message) and r.degraded for r in replies)
    degraded = sample(registry, "helpdesk_bot_degraded_answers_total", fallback="val_ai")
    degraded += sample(registry, "helpdesk_bot_degraded_answers_total", fallback="apology")
    assert degraded == 1
    assert sample(registry, "helpdesk_bot_turns_total", channel="test", outcome="degraded") == 1
