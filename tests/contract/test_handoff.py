"""The handoff relay over the sandbox: agent messages reach the channel exactly once.

The agent is played through the sandbox back office (`POST /sandbox/chats/{id}/agent-messages`,
`POST /sandbox/chats/{id}/end`), exactly as the agent console does it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from bot.handoff import ENDED_MARKER, HandoffRelay, RelayConfig
from bot.messages import AgentMessage, HandoffStatus, Message, Reply
from bot.store.store import Store
from sandbox.runner import RunningSandbox
from tests.contract.engine_harness import Harness, HarnessFactory, harness_factory
from tests.fakes.scripted_model import Reply as Step
from tests.fakes.scripted_model import tool_call


@pytest.fixture
async def make(sandbox: RunningSandbox, store: Store) -> AsyncIterator[HarnessFactory]:
    async for factory in harness_factory(sandbox, store):
        yield factory


@dataclass
class Inbox:
    """A channel's proactive sender that records what it delivered."""

    delivered: list[tuple[str, Reply]] = field(default_factory=list)
    refuse: int = 0  # refuse this many deliveries (the channel is down)

    async def deliver(self, conversation_key: str, reply: Reply) -> bool:
        if self.refuse:
            self.refuse -= 1
            return False
        self.delivered.append((conversation_key, reply))
        return True

    def texts(self) -> list[str]:
        return [getattr(reply, "text", "") for _, reply in self.delivered]


def relay_for(h: Harness, inbox: Inbox, holder: str = "replica-a") -> HandoffRelay:
    relay = HandoffRelay(store=h.store, helpdesk=h.helpdesk, identities=h.identities, holder=holder)
    relay.register_sender("test", inbox.deliver)
    return relay


async def escalate(h: Harness) -> int:
    h.model.enqueue(
        Step(tool_calls=(tool_call("escalate_to_human", {"reason": "needs a person"}),)),
        Step(text="Issue: printer\nTried so far: restart"),
    )
    await h.link("jane@acme.example")
    replies = await h.say("I need a person")
    assert [r.state for r in replies if isinstance(r, HandoffStatus)] == ["queued"]
    conversation = await h.store.find_conversation("test", h.conversation)
    assert conversation is not None and conversation.helpdesk_chat_id is not None
    return conversation.helpdesk_chat_id


async def agent_says(h: Harness, chat_id: int, text: str, name: str = "Mike Tech") -> None:
    response = await h.http.post(
        f"{h.sandbox.base_url}/sandbox/chats/{chat_id}/agent-messages",
        json={"message": text, "agent_name": name},
    )
    response.raise_for_status()


async def relay_once(h: Harness, relay: HandoffRelay) -> bool:
    conversation = await h.store.find_conversation("test", h.conversation)
    assert conversation is not None
    return await relay.relay_once(conversation)


async def test_agent_messages_reach_the_channel_and_the_model_stays_silent(
    make: HarnessFactory,
) -> None:
    h = make()
    chat_id = await escalate(h)
    inbox = Inbox()
    relay = relay_for(h, inbox)

    await agent_says(h, chat_id, "Hi Jane, I'm looking at your printer now.")
    assert await relay_once(h, relay)

    kinds = [type(reply) for _, reply in inbox.delivered]
    assert kinds == [HandoffStatus, AgentMessage]
    assert inbox.texts() == ["Mike Tech joined", "Hi Jane, I'm looking at your printer now."]
    conversation = await h.store.find_conversation("test", h.conversation)
    assert conversation is not None and conversation.owner == "human"

    replies = await h.say("thanks, it shows an error E3")  # goes to the agent, not the model
    assert len(h.model.requests) == 2  # the escalation step and its handoff note only
    assert all(not isinstance(r, Message) or "agent" in r.text for r in replies)
    sent = await h.requests(f"/chat/{chat_id}/messages", method="POST")
    assert {"message": "thanks, it shows an error E3"} in [row["body"] for row in sent]


async def test_a_restarted_relay_delivers_each_message_once(make: HarnessFactory) -> None:
    h = make()
    chat_id = await escalate(h)
    inbox = Inbox()
    await agent_says(h, chat_id, "first")
    assert await relay_once(h, relay_for(h, inbox))

    await agent_says(h, chat_id, "second")
    await agent_says(h, chat_id, "third")
    restarted = relay_for(h, inbox, holder="replica-a-restarted")
    assert await relay_once(h, restarted)
    assert await relay_once(h, restarted)  # a further poll finds nothing new

    agent_texts = [r.text for _, r in inbox.delivered if isinstance(r, AgentMessage)]
    assert agent_texts == ["first", "second", "third"]


async def test_a_failed_delivery_is_retried_without_skipping_or_doubling(
    make: HarnessFactory,
) -> None:
    h = make()
    chat_id = await escalate(h)
    inbox = Inbox()
    relay = relay_for(h, inbox)
    await agent_says(h, chat_id, "one")
    await relay_once(h, relay)
    await agent_says(h, chat_id, "two")
    await agent_says(h, chat_id, "three")

    inbox.refuse = 1  # the channel is briefly down when "two" is delivered
    await relay_once(h, relay)
    await relay_once(h, relay)

    agent_texts = [r.text for _, r in inbox.delivered if isinstance(r, AgentMessage)]
    assert agent_texts == ["one", "two", "three"]


async def test_the_chat_ending_hands_back_to_the_bot_with_a_marker_and_a_rating(
    make: HarnessFactory,
) -> None:
    h = make()
    chat_id = await escalate(h)
    inbox = Inbox()
    relay = relay_for(h, inbox)
    await agent_says(h, chat_id, "Fixed: the tray was misaligned.")
    await relay_once(h, relay)
    (await h.http.post(f"{h.sandbox.base_url}/sandbox/chats/{chat_id}/end")).raise_for_status()

    assert not await relay_once(h, relay)

    ended = [r for _, r in inbox.delivered if isinstance(r, HandoffStatus) and r.state == "ended"]
    assert len(ended) == 1 and "ended the chat" in ended[0].text
    rating = [r for _, r in inbox.delivered if isinstance(r, Message)]
    assert [a.value for a in rating[-1].actions] == ["1", "2", "3", "4", "5"]
    conversation = await h.store.find_conversation("test", h.conversation)
    assert conversation is not None and conversation.owner == "bot"

    h.model.enqueue(Step(text="Glad it works again!"))
    replies = await h.say("great, thanks")
    assert [r.text for r in replies if isinstance(r, Message)] == ["Glad it works again!"]
    sent_to_model = [m.content for m in h.model.requests[-1].messages if m.role == "system"]
    assert ENDED_MARKER in sent_to_model
    agent_lines = [c for c in sent_to_model if c and "Fixed: the tray" in c]
    assert agent_lines, "the model sees what the agent said, as context"

    press = rating[-1].actions[3]
    thanks = await h.say(action=press.id, value=press.value)
    assert [r.text for r in thanks if isinstance(r, Message)] == ["Thanks for the feedback!"]
    ratings = await h.store.ratings_for(conversation.id)
    assert [r.score for r in ratings] == [4]


async def test_only_one_replica_relays_a_chat(make: HarnessFactory) -> None:
    h = make()
    chat_id = await escalate(h)
    inbox_a, inbox_b = Inbox(), Inbox()
    relay_a, relay_b = relay_for(h, inbox_a, "replica-a"), relay_for(h, inbox_b, "replica-b")
    await agent_says(h, chat_id, "hello from the agent")

    await asyncio.gather(relay_a.scan_once(), relay_b.scan_once())
    running = [r for r in (relay_a, relay_b) if r.relaying]
    assert len(running) == 1
    deadline = asyncio.get_running_loop().time() + 10
    while not any(isinstance(r, AgentMessage) for _, r in inbox_a.delivered + inbox_b.delivered):
        assert asyncio.get_running_loop().time() < deadline, "nothing was relayed"
        await asyncio.sleep(0.05)
    await running[0].aclose()
    delivered = inbox_a.delivered + inbox_b.delivered
    assert [r.text for _, r in delivered if isinstance(r, AgentMessage)] == ["hello from the agent"]


async def test_the_user_can_stop_waiting_while_queued(make: HarnessFactory) -> None:
    h = make()
    chat_id = await escalate(h)
    replies = await h.say(action="cancel_handoff")
    assert [r.state for r in replies if isinstance(r, HandoffStatus)] == ["cancelled"]
    conversation = await h.store.find_conversation("test", h.conversation)
    assert conversation is not None and conversation.owner == "bot"
    chat = (await h.http.get(f"{h.sandbox.base_url}/sandbox/chats/{chat_id}")).json()
    assert chat["status"] == "ended"


async def test_nobody_joining_in_time_offers_a_ticket_once(make: HarnessFactory) -> None:
    h = make()
    await escalate(h)
    inbox = Inbox()
    relay = HandoffRelay(
        store=h.store,
        helpdesk=h.helpdesk,
        identities=h.identities,
        holder="replica-a",
        config=RelayConfig(offer_ticket_after_s=0.001),
    )
    relay.register_sender("test", inbox.deliver)

    await relay_once(h, relay)
    await relay_once(h, relay)

    offers = [r for _, r in inbox.delivered if isinstance(r, Message)]
    assert len(offers) == 1
    assert [a.kind for a in offers[0].actions] == ["create_ticket", "cancel_handoff"]
    press = await h.say(action="create_ticket")
    assert any(type(r).__name__ == "ConfirmRequest" for r in press)


async def test_send_delivers_through_the_channels_sender_and_reports_failure(
    make: HarnessFactory,
) -> None:
    """`HandoffRelay.send` is the one proactive door for the core (e.g. settled writes)."""
    h = make()
    inbox = Inbox(refuse=1)
    relay = relay_for(h, inbox)

    async def broken(conversation_key: str, reply: Reply) -> bool:
        raise ConnectionError("channel down")

    relay.register_sender("broken", broken)
    notice = Message(text="Ticket 3051 was created.")

    assert await relay.send("test", "conv-1", notice) is False  # the channel refused it
    assert await relay.send("test", "conv-1", notice) is True
    assert await relay.send("nowhere", "conv-1", notice) is False  # no such channel
    assert await relay.send("broken", "conv-1", notice) is False  # raised: logged, not raised
    assert inbox.delivered == [("conv-1", notice)]
