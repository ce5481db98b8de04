"""Slack conversations end to end: DMs streamed, mentions answered in threads, thread
continuation, exactly-once under retries, ignored events, assistant threads, 429s and
streams Slack cuts off. Real engine, sandbox helpdesk and stand-in model; fake Web API."""

from __future__ import annotations

import asyncio

from tests.contract.test_slack_http import (
    SlackHarness,
    channel_event,
    dm_event,
    next_ts,
    slack_fixture,  # noqa: F401 - the `slack` fixture
)
from tests.fakes.slack_api import BOT_ID, BOT_USER_ID, TEAM_ID

VPN_QUESTION = "My VPN keeps disconnecting, how do I fix it?"


async def test_a_dm_is_answered_with_a_streamed_reply_and_its_sources(slack: SlackHarness) -> None:
    await slack.link()
    event = dm_event(VPN_QUESTION)
    response = await slack.post_event(event)
    assert response.status_code == 200

    [answer] = await slack.answer_in(event["channel"], event["ts"])
    starts = slack.fake.calls_to("chat.startStream")
    assert starts and starts[0].args["thread_ts"] == event["ts"]
    assert starts[0].args["recipient_user_id"] == "U1"
    assert starts[0].args["recipient_team_id"] == TEAM_ID
    assert slack.fake.calls_to("chat.stopStream")
    assert answer.markdown.strip()
    # The answer arrived in pieces of a few hundred characters, not in one piece at the end.
    pieces = answer.chunks
    assert len(answer.markdown) < 600 or len(pieces) >= 2, pieces
    assert all(len(piece) <= 1200 for piece in pieces)
    # Sources as link context blocks, then 👍/👎, at the end of the finished message.
    contexts = [b for b in answer.blocks if b["type"] == "context"]
    links = [e["text"] for b in contexts for e in b["elements"]]
    assert links and all(text.startswith("📄 <http") for text in links), answer.blocks
    buttons = [e for b in answer.blocks if b["type"] == "actions" for e in b["elements"]]
    assert [b["text"]["text"] for b in buttons][:2] == ["👍", "👎"]
    assert slack.fake.calls_to("chat.postMessage") == []  # streamed, not posted


async def test_a_mention_is_answered_in_a_thread_and_the_thread_continues_without_one(
    slack: SlackHarness,
) -> None:
    await slack.link()
    mention = channel_event(f"<@{BOT_USER_ID}> {VPN_QUESTION}", kind="app_mention")
    await slack.post_event(mention)
    [first] = await slack.answer_in("C1", mention["ts"])
    post = slack.fake.calls_to("chat.postMessage")[0]
    assert post.args["thread_ts"] == mention["ts"]
    assert slack.fake.calls_to("chat.startStream") == []  # one post per reply in channels
    assert first.markdown.strip()

    # Slack also delivers the mention as a channel message: it must not be answered again.
    await slack.post_event(channel_event(f"<@{BOT_USER_ID}> {VPN_QUESTION}", ts=mention["ts"]))
    # A reply in the thread without a mention, from the same person, continues it.
    follow_up = channel_event("Is the VPN down?", thread_ts=mention["ts"])
    await slack.post_event(follow_up)
    replies = await slack.answer_in("C1", mention["ts"], count=2)
    assert "vpn" in replies[1].markdown.lower()
    # Someone else talking in the thread without mentioning the bot is left alone.
    await slack.post_event(channel_event("thanks all", user="U2", thread_ts=mention["ts"]))
    # So is a thread the bot was never part of.
    await slack.post_event(channel_event("Is the VPN down?", thread_ts=next_ts()))
    await slack.settle()
    assert len(slack.fake.thread("C1", mention["ts"])) == 2
    assert len(slack.fake.calls_to("chat.postMessage")) == 2
    assert slack.fake.calls_to("chat.postEphemeral") == []  # U2 was not even asked to link


async def test_the_same_event_delivered_three_times_gets_one_reply(slack: SlackHarness) -> None:
    await slack.link()
    event = dm_event("Please open a ticket: my monitor flickers all the time")
    responses = [
        await slack.post_event(event, event_id="EvRetried", retry=retry) for retry in (None, 1, 2)
    ]
    assert [r.status_code for r in responses] == [200, 200, 200]
    await slack.answer_in(event["channel"], event["ts"])
    await slack.settle()
    thread = slack.fake.thread(event["channel"], event["ts"])
    assert len(thread) == 1, [m.markdown for m in thread]
    # Only one turn reached the helpdesk's chat session, too.
    assert len(await slack.sandbox_requests("/chat/start", "POST")) == 1


async def test_one_message_delivered_as_two_events_gets_one_reply(slack: SlackHarness) -> None:
    """A mention in a DM arrives as `message.im` and as `app_mention`, with different ids."""
    await slack.link()
    text = f"<@{BOT_USER_ID}> {VPN_QUESTION}"
    event = dm_event(text)
    mention = {**event, "type": "app_mention"}
    del mention["channel_type"]
    await asyncio.gather(slack.post_event(mention), slack.post_event(event))
    await slack.settle()
    assert len(slack.fake.thread(event["channel"], event["ts"])) == 1
    assert len(slack.fake.calls_to("chat.startStream")) == 1  # answered as a DM: streamed


async def test_own_and_other_bots_messages_edits_and_deletions_are_ignored(
    slack: SlackHarness,
) -> None:
    await slack.link()
    ts = next_ts()
    ignored = [
        dm_event("I am the bot", user=BOT_USER_ID, bot_id=BOT_ID),
        dm_event("beep from another bot", bot_id="BOTHER", subtype="bot_message"),
        dm_event("beep without a subtype", bot_id="BOTHER"),
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": "DU1",
            "channel_type": "im",
            "ts": next_ts(),
            "message": {"type": "message", "user": "U1", "text": VPN_QUESTION, "ts": ts},
            "previous_message": {"type": "message", "user": "U1", "text": "vpn?", "ts": ts},
        },
        {
            "type": "message",
            "subtype": "message_deleted",
            "channel": "DU1",
            "channel_type": "im",
            "ts": next_ts(),
            "deleted_ts": ts,
            "previous_message": {"type": "message", "user": "U1", "text": "vpn?", "ts": ts},
        },
        dm_event("joined", subtype="channel_join"),
    ]
    for event in ignored:
        assert (await slack.post_event(event)).status_code == 200
    await slack.settle()
    posting = {"chat.postMessage", "chat.startStream", "chat.postEphemeral"}
    assert [c.method for c in slack.fake.calls if c.method in posting] == []
    # ...while a person's message right after is answered (the test can fail).
    event = dm_event(VPN_QUESTION)
    await slack.post_event(event)
    await slack.answer_in(event["channel"], event["ts"])


async def test_rate_limited_calls_are_retried_after_retry_after(slack: SlackHarness) -> None:
    await slack.link()
    slack.fake.fail("chat.startStream", error="ratelimited", status=429, retry_after=1)
    event = dm_event(VPN_QUESTION)
    await slack.post_event(event)
    [answer] = await slack.answer_in(event["channel"], event["ts"])
    attempts = slack.fake.calls_to("chat.startStream", ok=None)
    assert [c.error for c in attempts] == ["ratelimited", None]
    assert attempts[1].at - attempts[0].at >= 1.0  # Retry-After: 1 was honoured
    assert answer.markdown.strip()
    await slack.settle()
    assert len(slack.fake.thread(event["channel"], event["ts"])) == 1


async def test_a_rate_limited_post_in_a_channel_is_sent_once_after_retry_after(
    slack: SlackHarness,
) -> None:
    await slack.link()
    slack.fake.fail("chat.postMessage", error="ratelimited", status=429, retry_after=1)
    mention = channel_event(f"<@{BOT_USER_ID}> {VPN_QUESTION}", kind="app_mention")
    await slack.post_event(mention)
    await slack.settle()
    attempts = slack.fake.calls_to("chat.postMessage", ok=None)
    assert [c.error for c in attempts] == ["ratelimited", None]
    assert attempts[1].at - attempts[0].at >= 1.0
    [answer] = slack.fake.thread("C1", mention["ts"])
    assert "vpn" in answer.markdown.lower()  # the answer, not an apology


async def test_a_stream_slack_cuts_off_continues_in_a_new_message_without_losing_text(
    slack: SlackHarness,
) -> None:
    await slack.link()
    # The stream expires after its first append (Slack's message_not_in_streaming_state).
    slack.fake.fail("chat.appendStream", error="message_not_in_streaming_state", skip=1)
    event = dm_event(VPN_QUESTION)
    await slack.post_event(event)
    await slack.settle()
    thread = [m for m in slack.fake.thread(event["channel"], event["ts"]) if m.ts != event["ts"]]
    assert len(thread) == 2, [m.markdown for m in thread]
    assert not any(m.streaming for m in thread[1:])
    # Together the two messages hold the whole answer, in order, and the last one ends it
    # with the sources and buttons.
    stored = await slack.services.store.find_conversation(
        "slack", f"{TEAM_ID}:{event['channel']}:{event['ts']}"
    )
    assert stored is not None
    recent = await slack.services.store.recent_messages(stored.id, limit=5)
    answer = next(m.content for m in reversed(recent) if m.role == "assistant")
    shown = "".join(m.markdown for m in thread)
    assert shown == answer
    assert any(b["type"] == "actions" for b in thread[-1].blocks)


async def test_an_assistant_thread_greets_suggests_from_live_state_and_shows_status(
    slack: SlackHarness,
) -> None:
    await slack.link()
    thread_ts = next_ts()
    started = {
        "type": "assistant_thread_started",
        "assistant_thread": {
            "user_id": "U1",
            "context": {},
            "channel_id": "DU1",
            "thread_ts": thread_ts,
        },
        "event_ts": next_ts(),
    }
    await slack.post_event(started)
    prompts = await slack.fake.wait_for_calls("assistant.threads.setSuggestedPrompts")
    titles = [p["title"] for p in prompts[0].args["prompts"]]
    assert 1 <= len(titles) <= 4
    assert any("VPN" in t and "degraded" in t for t in titles), titles  # the seeded outage
    [greeting] = await slack.answer_in("DU1", thread_ts)
    assert "help" in greeting.markdown.lower()

    question = dm_event(VPN_QUESTION, thread_ts=thread_ts)
    await slack.post_event(question)
    await slack.answer_in("DU1", thread_ts, count=2)
    await slack.settle()
    statuses = [c.args["status"] for c in slack.fake.calls_to("assistant.threads.setStatus")]
    assert statuses and statuses[0] != "" and statuses[-1] == ""  # shown, then cleared
    [title] = slack.fake.calls_to("assistant.threads.setTitle")
    assert title.args["title"].startswith("My VPN keeps disconnecting")
    starts = slack.fake.calls_to("chat.startStream")
    assert starts and starts[-1].args["thread_ts"] == thread_ts


async def _assistant_thread(slack: SlackHarness) -> str:
    thread_ts = next_ts()
    await slack.post_event(
        {
            "type": "assistant_thread_started",
            "assistant_thread": {"user_id": "U1", "channel_id": "DU1", "thread_ts": thread_ts},
        }
    )
    await slack.fake.wait_for_calls("assistant.threads.setSuggestedPrompts")
    return thread_ts


async def test_when_slack_refuses_every_stream_the_answer_is_posted_instead(
    slack: SlackHarness,
) -> None:
    await slack.link()
    thread_ts = await _assistant_thread(slack)
    slack.fake.fail("chat.startStream", error="fatal_error", times=20)
    await slack.post_event(dm_event(VPN_QUESTION, thread_ts=thread_ts))
    await slack.settle()
    [_greeting, answer] = slack.fake.thread("DU1", thread_ts)
    assert "vpn" in answer.markdown.lower()
    assert any(b["type"] == "actions" for b in answer.blocks)  # the footer came along
    assert slack.fake.calls_to("chat.startStream") == []


async def test_the_status_is_cleared_when_the_turn_fails(slack: SlackHarness) -> None:
    await slack.link()
    thread_ts = await _assistant_thread(slack)
    # Slack takes nothing at all: the turn fails, and the status does not stay on.
    slack.fake.fail("chat.startStream", error="fatal_error", times=20)
    slack.fake.fail("chat.postMessage", error="fatal_error", times=20)
    await slack.post_event(dm_event(VPN_QUESTION, thread_ts=thread_ts))
    await slack.settle()
    statuses = [c.args["status"] for c in slack.fake.calls_to("assistant.threads.setStatus")]
    assert statuses and statuses[0] != "" and statuses[-1] == ""
    assert len(slack.fake.thread("DU1", thread_ts)) == 1  # the greeting only
