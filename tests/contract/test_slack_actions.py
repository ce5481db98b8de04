"""Buttons and linking in Slack: Confirm creates exactly one ticket however often it is
clicked, the card is updated to the outcome; an unlinked user gets a link button and,
once linked on the link page, the waiting question is answered without asking again."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tests.contract.test_slack_http import (
    SlackHarness,
    channel_event,
    dm_event,
    slack_fixture,  # noqa: F401 - the `slack` fixture
)
from tests.fakes.slack_api import APP_ID, BOT_ID, BOT_USER_ID, TEAM_ID, Posted

TICKET_REQUEST = "Please open a ticket: my monitor flickers all the time"


def buttons(message: Posted) -> list[dict[str, Any]]:
    return [e for b in message.blocks if b["type"] == "actions" for e in b["elements"]]


def click(message: Posted, label: str, *, user: str = "U1") -> dict[str, Any]:
    """The block_actions payload Slack sends when `label` is clicked on `message`."""
    button = next(b for b in buttons(message) if b["text"]["text"] == label)
    action = {
        "type": "button",
        "action_id": button["action_id"],
        "block_id": "b",
        "text": button["text"],
        "action_ts": f"{time.time():.6f}",
    }
    if "value" in button:
        action["value"] = button["value"]
    return {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "fake"},
        "user": {"id": user, "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "trigger_id": f"trigger-{time.time()}",
        "container": {
            "type": "message",
            "message_ts": message.ts,
            "channel_id": message.channel,
            "is_ephemeral": message.ephemeral_for is not None,
            "thread_ts": message.thread_ts,
        },
        "channel": {"id": message.channel},
        "message": {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "ts": message.ts,
            "thread_ts": message.thread_ts,
            "text": message.text,
            "blocks": message.blocks,
        },
        "actions": [action],
    }


async def confirm_card(slack: SlackHarness) -> tuple[dict[str, Any], Posted]:
    event = dm_event(TICKET_REQUEST)
    await slack.post_event(event)

    def card() -> Posted | None:
        thread = slack.fake.thread(event["channel"], event["ts"])
        return next((m for m in thread if any(b["type"] == "header" for b in m.blocks)), None)

    return event, await slack.fake.wait_for(card, within=30)


async def test_confirm_creates_one_ticket_on_a_double_click_and_the_card_shows_the_outcome(
    slack: SlackHarness,
) -> None:
    await slack.link()
    _, card = await confirm_card(slack)
    labels = [b["text"]["text"] for b in buttons(card)]
    assert labels[:2] == ["Confirm", "Cancel"]
    fields = [f["text"] for b in card.blocks if b["type"] == "section" for f in b.get("fields", [])]
    assert any("monitor" in text.lower() for text in fields), card.blocks

    before = len(slack.fake.thread(card.channel, card.thread_ts or card.ts))
    payload = click(card, "Confirm")
    first, second = await asyncio.gather(
        slack.post_interaction(payload), slack.post_interaction(click(card, "Confirm"))
    )
    assert (first.status_code, second.status_code) == (200, 200)
    await slack.settle()

    assert len(await slack.sandbox_requests("/tickets", "POST")) == 1
    updated = slack.fake.message(card.channel, card.ts)
    assert updated is not None
    assert buttons(updated) == []  # no second chance to click
    assert updated.updates == 2  # "working on it", then the outcome: the work ran once
    assert "Created ticket" in updated.markdown
    header = [b for b in updated.blocks if b["type"] == "header"]
    assert header == [b for b in card.blocks if b["type"] == "header"]  # what was confirmed
    # The outcome is the card, not an extra message; the second click added nothing.
    assert len(slack.fake.thread(card.channel, card.thread_ts or card.ts)) == before


async def test_cancel_changes_nothing_and_says_so_on_the_card(slack: SlackHarness) -> None:
    await slack.link()
    _, card = await confirm_card(slack)
    await slack.post_interaction(click(card, "Cancel"))
    await slack.settle()
    updated = slack.fake.message(card.channel, card.ts)
    assert updated is not None and buttons(updated) == []
    assert "nothing was changed" in updated.markdown.lower()
    assert await slack.sandbox_requests("/tickets", "POST") == []


async def test_feedback_is_recorded_once_per_click(slack: SlackHarness) -> None:
    await slack.link()
    event = dm_event("My VPN keeps disconnecting, how do I fix it?")
    await slack.post_event(event)
    [answer] = await slack.answer_in(event["channel"], event["ts"])
    await slack.post_interaction(click(answer, "👎"))
    await slack.settle()
    key = f"{TEAM_ID}:{event['channel']}:{event['ts']}"
    conversation = await slack.services.store.find_conversation("slack", key)
    assert conversation is not None
    messages = await slack.services.store.recent_messages(conversation.id, limit=10)
    assert [m.feedback for m in messages if m.role == "assistant"][-1] == -1
    thanks = [m for m in slack.fake.messages if m.ephemeral_for == "U1"]
    assert thanks and "feedback" in thanks[-1].markdown.lower()


async def test_an_unlinked_user_gets_a_link_button_and_the_question_is_answered_after_linking(
    slack: SlackHarness,
) -> None:
    event = dm_event("My VPN keeps disconnecting, how do I fix it?", user="U7")
    await slack.post_event(event)
    [prompt] = await slack.answer_in(event["channel"], event["ts"])
    [link_button] = buttons(prompt)
    assert link_button["text"]["text"] == "Link your helpdesk account"
    assert "/link/" in link_button["url"]

    await slack.link_through_page(link_button["url"])

    replies = await slack.answer_in(event["channel"], event["ts"], count=3)
    assert "linked as **Jane Smith**" in replies[1].markdown
    assert "vpn" in replies[2].markdown.lower()  # the question, answered without asking again
    await slack.settle()
    assert len(slack.fake.thread(event["channel"], event["ts"])) == 3
    assert "U7" in slack.fake.home  # App Home now shows the linked account
    home_text = str(slack.fake.home["U7"]["blocks"])
    assert "Jane Smith" in home_text


async def test_in_a_channel_the_link_button_is_shown_only_to_the_person_asking(
    slack: SlackHarness,
) -> None:
    mention = channel_event(f"<@{BOT_USER_ID}> is the VPN down?", kind="app_mention", user="U8")
    await slack.post_event(mention)
    await slack.settle()
    [ephemeral] = [m for m in slack.fake.messages if m.ephemeral_for == "U8"]
    assert ephemeral.thread_ts == mention["ts"]
    assert buttons(ephemeral)[0]["text"]["text"] == "Link your helpdesk account"
    assert slack.fake.thread("C1", mention["ts"]) == []  # nothing public

    await slack.link_through_page(buttons(ephemeral)[0]["url"])
    [answer] = await slack.answer_in("C1", mention["ts"])
    assert "vpn" in answer.markdown.lower()
    notes = [m.markdown for m in slack.fake.messages if m.ephemeral_for == "U8"]
    assert any("linked as" in note for note in notes)
