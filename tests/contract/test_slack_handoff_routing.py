"""While a human agent owns one of a user's Slack threads, a new DM or mention from that
user goes to the agent's thread — one helpdesk chat, one conversation, no model answer —
and the new thread is told where the agent is. Real engine, sandbox, fake Slack Web API."""

from __future__ import annotations

from tests.contract.test_slack_commands import responded
from tests.contract.test_slack_http import (
    SlackHarness,
    channel_event,
    dm_event,
    slack_fixture,  # noqa: F401 - the `slack` fixture
)
from tests.fakes.slack_api import BOT_USER_ID, TEAM_ID, Posted


async def agent_on_the_case(slack: SlackHarness) -> tuple[Posted, int]:
    """Jane asks for a person in a DM thread and the agent answers there."""
    await slack.link()
    await slack.command("human")
    await responded(slack)
    await slack.settle()
    [root, *_] = [m for m in slack.fake.messages if m.channel == "DU1"]
    key = f"{TEAM_ID}:DU1:{root.ts}"
    conversation = await slack.services.store.find_conversation("slack", key)
    assert conversation is not None and conversation.helpdesk_chat_id is not None
    chat_id = conversation.helpdesk_chat_id
    posted = await slack.http.post(
        f"{slack.sandbox.base_url}/sandbox/chats/{chat_id}/agent-messages",
        json={"message": "Hi Jane, I'm on it.", "agent_name": "Alex"},
    )
    assert posted.status_code == 201

    def relayed() -> Posted | None:
        return next((m for m in slack.fake.thread("DU1", root.ts) if "on it" in m.markdown), None)

    await slack.fake.wait_for(relayed, within=30)
    await slack.settle()
    return root, chat_id


async def mirrored_into(slack: SlackHarness, chat_id: int) -> list[str]:
    """What the bot wrote into the helpdesk chat, as the sandbox received it."""
    rows = await slack.sandbox_requests(f"/chat/{chat_id}/messages", "POST")
    return [str(row["body"]["message"]) for row in rows]


def texts(messages: list[Posted]) -> str:
    return "\n".join(m.markdown or m.text for m in messages)


async def test_a_new_dm_during_a_handoff_goes_to_the_agents_thread(slack: SlackHarness) -> None:
    root, chat_id = await agent_on_the_case(slack)
    streams_before = len(slack.fake.calls_to("chat.startStream"))
    event = dm_event("hello? are you still there")

    assert (await slack.post_event(event)).status_code == 200
    await slack.settle()

    # The agent reads it in their chat, once; no second conversation, no model answer.
    assert (await mirrored_into(slack, chat_id)).count("hello? are you still there") == 1
    new_key = f"{TEAM_ID}:DU1:{event['ts']}"
    assert await slack.services.store.find_conversation("slack", new_key) is None
    assert len(slack.fake.calls_to("chat.startStream")) == streams_before
    # The notice is in the agent's thread; the new message's thread points there.
    assert "passed to the agent" in texts(slack.fake.thread("DU1", root.ts))
    [pointer] = [m for m in slack.fake.thread("DU1", event["ts"]) if m.ts != event["ts"]]
    assert f"/archives/DU1/p{root.ts.replace('.', '')}" in pointer.markdown
    assert "passed your message on" in pointer.markdown


async def test_a_redelivered_dm_during_a_handoff_is_passed_on_once(slack: SlackHarness) -> None:
    _, chat_id = await agent_on_the_case(slack)
    event = dm_event("still waiting on the VPN")

    await slack.post_event(event, event_id="EvRouted1")
    await slack.post_event(event, event_id="EvRouted1", retry=1)
    await slack.settle()

    assert (await mirrored_into(slack, chat_id)).count("still waiting on the VPN") == 1
    pointers = [m for m in slack.fake.thread("DU1", event["ts"]) if m.ts != event["ts"]]
    assert len(pointers) == 1


async def test_a_channel_mention_during_a_handoff_is_passed_on_privately(
    slack: SlackHarness,
) -> None:
    root, chat_id = await agent_on_the_case(slack)
    mention = channel_event(f"<@{BOT_USER_ID}> any news on my VPN?", kind="app_mention")

    await slack.post_event(mention)
    await slack.settle()

    assert (await mirrored_into(slack, chat_id)).count("any news on my VPN?") == 1
    in_channel = [m for m in slack.fake.messages if m.channel == "C1"]
    assert [m for m in in_channel if m.ephemeral_for is None] == []  # nothing public
    [pointer] = in_channel
    assert pointer.ephemeral_for == "U1" and "passed your message on" in pointer.markdown
    assert "passed to the agent" in texts(slack.fake.thread("DU1", root.ts))


async def test_without_a_handoff_a_new_dm_is_its_own_conversation(slack: SlackHarness) -> None:
    await slack.link()
    event = dm_event("How do I reset my password?")

    await slack.post_event(event)
    [answer] = await slack.answer_in(event["channel"], event["ts"])

    assert answer.markdown.strip()
    key = f"{TEAM_ID}:DU1:{event['ts']}"
    assert await slack.services.store.find_conversation("slack", key) is not None
