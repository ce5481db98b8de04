"""Writes a crash left `executing` are settled: the helpdesk is asked, the user told, no
write twice (issue 9, fault 2). Over the sandbox helpdesk and a real store.

The crash is simulated the way it happens: the confirm claimed the action (`executing`) and
the process died before recording the outcome — with or without the write having reached
the helpdesk. What is asserted is what crossed the wire (the sandbox's request log), what
the channel delivered (through `HandoffRelay.send`) and what the store says.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from bot.config import EngineConfig
from bot.handoff import HandoffRelay
from bot.messages import ConfirmRequest, Message, Reply
from bot.recovery import Settled
from bot.store.store import Store
from sandbox.runner import RunningSandbox
from tests.contract.engine_harness import Harness, HarnessFactory, harness_factory
from tests.fakes.scripted_model import Reply as Step
from tests.fakes.scripted_model import tool_call

JANE = "jane@acme.example"
SETTLE_NOW = EngineConfig(tenant_name="Harbor IT Services", interrupted_after_s=0.0)


@pytest.fixture
async def make(sandbox: RunningSandbox, store: Store) -> AsyncIterator[HarnessFactory]:
    async for factory in harness_factory(sandbox, store):
        yield factory


@dataclass
class Inbox:
    """The test channel's proactive sender: records what it delivered."""

    delivered: list[tuple[str, Reply]] = field(default_factory=list)

    async def deliver(self, conversation_key: str, reply: Reply) -> bool:
        self.delivered.append((conversation_key, reply))
        return True

    def relay(self, h: Harness) -> HandoffRelay:
        relay = HandoffRelay(
            store=h.store, helpdesk=h.helpdesk, identities=h.identities, holder="a"
        )
        relay.register_sender("test", self.deliver)
        return relay


async def interrupted_write(h: Harness, tool: str, arguments: dict[str, object]) -> str:
    """Propose a write through the engine, then claim it and 'crash' before it runs."""
    h.model.enqueue(Step(tool_calls=(tool_call(tool, arguments),)))
    await h.link(JANE)
    [confirm] = [r for r in await h.say("please do it") if isinstance(r, ConfirmRequest)]
    claimed = await h.store.claim_pending_action(confirm.pending_action_id)
    assert claimed is not None and claimed.status == "executing"
    return claimed.id


async def posted_tickets(h: Harness) -> int:
    rows = await h.requests("/tickets", method="POST")
    return len([row for row in rows if row["path"] == "/tickets"])


TICKET = {"subject": "Laptop fan is loud", "description": "Since this morning, constant."}


async def test_a_write_that_happened_is_marked_done_and_the_user_told(
    make: HarnessFactory,
) -> None:
    h = make(config=SETTLE_NOW)
    action_id = await interrupted_write(h, "create_ticket", TICKET)
    user = await h.identities.resolve("test", f"test:{JANE}")
    assert user is not None
    created = await h.helpdesk.create_ticket(user.auth, **TICKET)  # the write before the crash
    inbox = Inbox()

    settled = await h.engine.settle_interrupted_writes(notify=inbox.relay(h).send)
    again = await h.engine.settle_interrupted_writes(notify=inbox.relay(h).send)

    assert settled == [Settled(action_id, "done")]
    assert again == []
    action = await h.store.get_pending_action(action_id)
    assert action is not None and action.status == "done"
    assert [(key, reply.text) for key, reply in inbox.delivered if isinstance(reply, Message)] == [
        (h.conversation, f"Created ticket **{created.ticket_number}** — Laptop fan is loud.")
    ]
    assert len(inbox.delivered) == 1
    assert await posted_tickets(h) == 1, "the sweep never writes"
    conversation = await h.store.find_conversation("test", h.conversation)
    assert conversation is not None
    transcript = [m.content for m in await h.store.recent_messages(conversation.id, limit=20)]
    assert any(str(created.ticket_number) in text for text in transcript), "stored, not only sent"


async def test_a_write_that_did_not_happen_fails_and_is_offered_again_once(
    make: HarnessFactory,
) -> None:
    h = make(config=SETTLE_NOW)
    other_replica = make(config=SETTLE_NOW)
    action_id = await interrupted_write(h, "create_ticket", TICKET)
    inbox = Inbox()

    results = await asyncio.gather(
        h.engine.settle_interrupted_writes(notify=inbox.relay(h).send),
        other_replica.engine.settle_interrupted_writes(notify=inbox.relay(h).send),
    )
    again = await h.engine.settle_interrupted_writes(notify=inbox.relay(h).send)

    [settled] = [s for result in results for s in result]
    assert settled.action_id == action_id and settled.status == "failed"
    assert again == []
    action = await h.store.get_pending_action(action_id)
    assert action is not None and action.status == "failed"
    [(key, card)] = inbox.delivered
    assert key == h.conversation and isinstance(card, ConfirmRequest)
    assert card.pending_action_id == settled.retry_action_id != action_id
    assert ("Subject", "Laptop fan is loud") in [(f.label, f.value) for f in card.fields]
    assert any("interrupted" in notice for notice in card.notices), card.notices
    retry = await h.store.get_pending_action(card.pending_action_id)
    assert retry is not None and retry.status == "pending"
    assert retry.arguments == action.arguments
    assert await posted_tickets(h) == 0, "nothing is written without a new confirm"

    confirm = next(a.id for a in card.actions if a.kind == "confirm")
    done = [r for r in await h.say(action=confirm) if isinstance(r, Message)]
    assert "Created ticket" in done[0].text
    assert await posted_tickets(h) == 1


async def test_a_write_that_cannot_be_looked_up_asks_the_user_to_check(
    make: HarnessFactory,
) -> None:
    h = make(config=SETTLE_NOW)
    action_id = await interrupted_write(
        h, "update_ticket", {"ticket_number": 3012, "status": "closed"}
    )
    inbox = Inbox()

    settled = await h.engine.settle_interrupted_writes(notify=inbox.relay(h).send)

    assert settled == [Settled(action_id, "failed")]
    [(_, reply)] = inbox.delivered
    assert isinstance(reply, Message) and "check your tickets" in reply.text
    assert await h.requests("/tickets/", method="PUT") == []


async def test_a_write_claimed_moments_ago_is_left_to_its_turn(make: HarnessFactory) -> None:
    h = make()  # the default grace: longer than any turn may run
    action_id = await interrupted_write(h, "create_ticket", TICKET)
    inbox = Inbox()

    assert await h.engine.settle_interrupted_writes(notify=inbox.relay(h).send) == []
    action = await h.store.get_pending_action(action_id)
    assert action is not None and action.status == "executing"
    assert inbox.delivered == []
