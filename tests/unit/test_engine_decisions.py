"""The engine's decisions without sockets: confirm, cancel, human owner, budget fold, degrade.

The real `Engine` over a real store (SQLite in the test's tmp_path), the scripted model and
tools declared as plain data (`tests.unit.engine_doubles`). Everything that needs the real
helpdesk's behaviour is in tests/contract/ (test_engine.py, test_recovery.py), against the
sandbox.
"""

from __future__ import annotations

from typing import Any

from bot import prompts
from bot.config import EngineConfig
from bot.llm import ModelUnavailable
from bot.messages import ConfirmRequest, HandoffStatus, Message
from tests.fakes.scripted_model import Fail, tool_call
from tests.fakes.scripted_model import Reply as Step
from tests.unit.engine_doubles import (
    bench_fixture,  # noqa: F401 - the `bench` fixture
    only,
    propose,
    store_fixture,  # noqa: F401 - the `store` fixture (a SQLite file in tmp_path)
)


async def test_a_write_waits_for_the_confirm_and_runs_once(bench: Any) -> None:
    b = bench(propose("printer on fire"))
    [card] = only(await b.say("file a note: printer on fire"), ConfirmRequest)
    assert b.tools.written == [], "nothing is written before the confirm"

    confirm = next(a.id for a in card.actions if a.kind == "confirm")
    [done] = only(await b.say(action=confirm), Message)
    [again] = only(await b.say(action=confirm), Message)

    assert b.tools.written == ["printer on fire"]
    assert done.text == "Filed note 42."
    assert again.text == prompts.reply("write_already_done")


async def test_a_typed_no_cancels_and_nothing_is_written(bench: Any) -> None:
    b = bench(propose("printer on fire"))
    only(await b.say("file a note: printer on fire"), ConfirmRequest)

    [cancelled] = only(await b.say("no"), Message)

    assert cancelled.text == "Cancelled — nothing was changed."
    assert b.tools.written == []


async def test_while_a_human_owns_the_conversation_the_model_is_not_called(bench: Any) -> None:
    b = bench(
        Step(tool_calls=(tool_call("hand_off", {"reason": "wants a person"}),)),
        Step(text="Jane wants a person."),  # the note for the agent
    )
    replies = await b.say("I want a person")
    assert [r.state for r in only(replies, HandoffStatus)] == ["queued"]
    assert b.desk.transfers == [(700, "wants a person")]
    assert (700, "[Handoff summary]\nJane wants a person.") in b.desk.sent
    conversation_id = await b.conversation_id()
    assert await b.store.set_owner(conversation_id, expected="queued", new="human")

    [notice] = only(await b.say("are you there?"), Message)

    assert notice.text == "Your message was passed to the agent." and notice.notice
    assert (700, "are you there?") in b.desk.sent, "the agent reads it in the helpdesk chat"
    assert len(b.model.requests) == 2  # the turn that asked, and the handoff note; no more


async def test_turns_over_the_token_budget_are_folded_into_the_summary(bench: Any) -> None:
    long = "word " * 800  # ~1000 tokens each: two turns do not fit a 2500-token budget
    b = bench(
        Step(text="first answer"),
        Step(text="second answer"),
        Step(text="Jane asked twice about words."),  # the summary call
        config=EngineConfig(input_token_budget=2500, val_ai_wait_s=0.0),
    )
    await b.say("first " + long)
    await b.say("second " + long)

    conversation = await b.store.find_conversation("test", b.key)
    assert conversation is not None
    assert conversation.summary == "Jane asked twice about words."
    sent = [m.content or "" for m in b.model.requests[1].messages]
    assert not any(text.startswith("first ") for text in sent), "the old turn was left out"
    assert not b.model.requests[2].tools, "the summary is a tool-less side call"


async def test_a_failing_model_degrades_with_ways_forward(bench: Any) -> None:
    down = Fail(ModelUnavailable("scripted", "503"))
    b = bench(down, down, down)

    [message] = only(await b.say("my laptop won't boot"), Message)

    assert message.degraded
    assert message.text == prompts.load("degraded")
    assert {a.kind for a in message.actions} == {"create_ticket", "talk_to_human"}
