"""`/helpdesk` and App Home over the wire: help in the ack, deterministic cards through
response_url, the new-ticket modal (Submit creates exactly one ticket), App Home with
tickets and outages, and a manager's Approve / Reject."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.contract.test_slack_actions import buttons, click
from tests.contract.test_slack_http import (
    SlackHarness,
    slack_fixture,  # noqa: F401 - the `slack` fixture
)
from tests.fakes.slack_api import APP_ID, TEAM_ID, Posted


def block_text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


async def responded(slack: SlackHarness, count: int = 1) -> list[dict[str, Any]]:
    return await slack.fake.wait_for(
        lambda: slack.fake.responses if len(slack.fake.responses) >= count else None
    )


async def test_help_is_the_acknowledgement_itself(slack: SlackHarness) -> None:
    response = await slack.command("help")
    assert response.status_code == 200
    body = response.json()
    assert body["response_type"] == "ephemeral"
    text = block_text(body["blocks"])
    for sub in ("tickets", "ticket 3018", "new", "outages", "human", "link", "unlink"):
        assert f"/helpdesk {sub}" in text, sub


async def test_an_unknown_subcommand_gets_the_help(slack: SlackHarness) -> None:
    body = (await slack.command("frobnicate the printer")).json()
    assert "/helpdesk tickets" in block_text(body["blocks"])


async def test_tickets_are_listed_as_cards_from_the_helpdesk(slack: SlackHarness) -> None:
    await slack.link()
    response = await slack.command("tickets")
    assert response.status_code == 200 and not response.content  # acked at once, empty
    [answer] = await responded(slack)
    text = block_text(answer["blocks"])
    assert "#3012" in text and "#3018" in text and "Printer not working" in text
    assert answer["response_type"] == "ephemeral"
    assert slack.fake.calls_to("chat.startStream") == []  # no model turn for a lookup


async def test_one_ticket_and_the_outages(slack: SlackHarness) -> None:
    await slack.link()
    await slack.command("ticket 3018")
    [ticket] = await responded(slack)
    assert "#3018 Printer not working" in block_text(ticket["blocks"])
    await slack.command("ticket 999999")
    await responded(slack, 2)
    assert "couldn't find ticket 999999" in block_text(slack.fake.responses[1]["blocks"])
    await slack.command("outages")
    await responded(slack, 3)
    outages = block_text(slack.fake.responses[2]["blocks"])
    assert "VPN" in outages and "degraded" in outages


async def test_an_unlinked_user_asking_for_tickets_gets_the_link_button(
    slack: SlackHarness,
) -> None:
    await slack.command("tickets", user="U9")
    [answer] = await responded(slack)
    [button] = [e for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert button["text"]["text"] == "Link your helpdesk account" and "/link/" in button["url"]


async def test_new_opens_the_form_with_job_types_and_submit_creates_one_ticket(
    slack: SlackHarness,
) -> None:
    await slack.link()
    await slack.command("new")
    [opened] = await slack.fake.wait_for_calls("views.open")
    view = opened.args["view"]
    assert opened.args["trigger_id"].startswith("trigger-")
    assert view["callback_id"] == "helpdesk_new_ticket"
    job_type = next(b for b in view["blocks"] if b.get("block_id") == "job_type")
    names = [o["value"] for o in job_type["element"]["options"]]
    assert "Hardware" in names and "Network" in names

    submission = view_submission(
        view_id="VNEW1",
        values={
            "subject": "Docking station not charging laptop",
            "description": "The Dell dock stopped charging my laptop since Monday.",
            "priority": "2",
            "job_type": "Hardware",
        },
    )
    first, second = await asyncio.gather(
        slack.post_interaction(submission), slack.post_interaction(submission)
    )
    assert (first.status_code, second.status_code) == (200, 200)
    await slack.settle()

    created = await slack.sandbox_requests("/tickets", "POST")
    assert len(created) == 1
    [card] = [m for m in slack.fake.messages if m.channel == "DU1"]
    assert "Created ticket" in card.markdown and buttons(card) == []
    assert "Docking station" in block_text(card.blocks)


async def test_a_form_like_an_open_ticket_asks_first_in_the_dm(slack: SlackHarness) -> None:
    await slack.link()
    submission = view_submission(
        view_id="VNEW3",
        values={"subject": "Printer not working", "description": "The printer jams again."},
    )
    await slack.post_interaction(submission)
    await slack.settle()
    assert await slack.sandbox_requests("/tickets", "POST") == []  # nothing written yet
    [card] = [m for m in slack.fake.messages if m.channel == "DU1"]
    labels = [b["text"]["text"] for b in buttons(card)]
    assert labels == ["Confirm", "Cancel", "Comment on 3018 instead"]
    await slack.post_interaction(click(card, "Confirm"))
    await slack.settle()
    assert len(await slack.sandbox_requests("/tickets", "POST")) == 1
    updated = slack.fake.message(card.channel, card.ts)
    assert updated is not None and "Created ticket" in updated.markdown


async def test_a_form_without_a_description_is_refused_inline(slack: SlackHarness) -> None:
    await slack.link()
    submission = view_submission(view_id="VNEW2", values={"subject": "Broken mouse"})
    response = await slack.post_interaction(submission)
    assert response.json()["response_action"] == "errors"
    assert set(response.json()["errors"]) == {"description"}
    await slack.settle()
    assert await slack.sandbox_requests("/tickets", "POST") == []


async def test_app_home_shows_tickets_outages_and_link_status(slack: SlackHarness) -> None:
    await slack.post_event({"type": "app_home_opened", "user": "U1", "tab": "home"})
    unlinked = await slack.fake.wait_for(lambda: slack.fake.home.get("U1"))
    assert "Link your helpdesk account" in block_text(unlinked["blocks"])

    await slack.link()
    await slack.post_event({"type": "app_home_opened", "user": "U1", "tab": "home"})
    home = await slack.fake.wait_for(
        lambda: (
            slack.fake.home["U1"] if "Jane" in block_text(slack.fake.home["U1"]["blocks"]) else None
        )
    )
    text = block_text(home["blocks"])
    assert "#3018" in text and "VPN" in text and "Linked as *Jane Smith*" in text
    assert "Waiting for your approval" not in text  # Jane is not a manager


async def test_a_manager_approves_from_app_home_exactly_once(slack: SlackHarness) -> None:
    await slack.link("U2", "mike@acme.example")
    await slack.post_event({"type": "app_home_opened", "user": "U2", "tab": "home"})
    home = await slack.fake.wait_for(lambda: slack.fake.home.get("U2"))
    approve = [
        e
        for b in home["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"] == "Approve"
    ]
    assert len(approve) >= 1
    press = home_click(home, approve[0], user="U2")
    await asyncio.gather(slack.post_interaction(press), slack.post_interaction(press))
    await slack.settle()
    number = approve[0]["value"]
    approvals = [r for r in await all_requests(slack, "POST") if r["path"].endswith("/approve")]
    assert len(approvals) == 1, approvals
    assert f"Approved ticket {number}" in block_text(slack.fake.home["U2"]["blocks"])
    assert len(slack.fake.calls_to("views.publish")) == 2  # opened, decided: the click ran once


async def test_reject_asks_for_a_reason_then_rejects(slack: SlackHarness) -> None:
    await slack.link("U2", "mike@acme.example")
    await slack.post_event({"type": "app_home_opened", "user": "U2", "tab": "home"})
    home = await slack.fake.wait_for(lambda: slack.fake.home.get("U2"))
    reject = next(
        e
        for b in home["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"] == "Reject"
    )
    await slack.post_interaction(home_click(home, reject, user="U2"))
    [opened] = await slack.fake.wait_for_calls("views.open")
    modal = opened.args["view"]
    assert modal["private_metadata"] == reject["value"]
    submission = view_submission(
        view_id="VREJ1",
        callback_id=modal["callback_id"],
        values={"reason": "Not in this quarter's budget"},
        private_metadata=modal["private_metadata"],
        user="U2",
    )
    await slack.post_interaction(submission)
    await slack.settle()
    rejects = [r for r in await all_requests(slack, "POST") if r["path"].endswith("/reject")]
    assert len(rejects) == 1
    assert "Rejected ticket" in block_text(slack.fake.home["U2"]["blocks"])


async def test_human_starts_a_handoff_in_a_dm_thread(slack: SlackHarness) -> None:
    await slack.link()
    await slack.command("human")
    [answer] = await responded(slack)
    assert "<#DU1>" in block_text(answer["blocks"])
    await slack.settle()
    [root, *replies] = [m for m in slack.fake.messages if m.channel == "DU1"]
    assert replies and all(m.thread_ts == root.ts for m in replies)
    transfers = [r for r in await all_requests(slack, "POST") if r["path"].endswith("/transfer")]
    assert len(transfers) == 1


# --- payloads -----------------------------------------------------------------------------


def view_submission(
    *,
    view_id: str,
    values: dict[str, str],
    callback_id: str = "helpdesk_new_ticket",
    private_metadata: str = "",
    user: str = "U1",
) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for name, value in values.items():
        if name in ("priority", "job_type"):
            element = {"type": "static_select", "selected_option": {"value": value}}
        else:
            element = {"type": "plain_text_input", "value": value}
        state[name] = {name: element}
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "fake"},
        "user": {"id": user, "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "trigger_id": "trigger-view",
        "view": {
            "id": view_id,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "state": {"values": state},
            "hash": "h1",
        },
    }


def home_click(home: dict[str, Any], button: dict[str, Any], *, user: str) -> dict[str, Any]:
    message = Posted(channel="", ts="", thread_ts=None, text="", blocks=home["blocks"])
    payload = click(message, button["text"]["text"], user=user)
    payload["container"] = {"type": "view", "view_id": home["id"]}
    payload["view"] = {"id": home["id"], "type": "home"}
    payload.pop("channel")
    payload.pop("message")
    return payload


async def all_requests(slack: SlackHarness, method: str) -> list[dict[str, Any]]:
    response = await slack.http.get(
        f"{slack.sandbox.base_url}/sandbox/requests", params={"method": method}
    )
    rows: list[dict[str, Any]] = response.json()["requests"]
    return rows


async def test_comment_instead_settles_the_card_and_asks_to_confirm_the_comment(
    slack: SlackHarness,
) -> None:
    await slack.link()
    submission = view_submission(
        view_id="VNEW4",
        values={"subject": "Printer not working", "description": "It jams on every page."},
    )
    await slack.post_interaction(submission)
    await slack.settle()
    [card] = [m for m in slack.fake.messages if m.channel == "DU1"]
    await slack.post_interaction(click(card, "Comment on 3018 instead"))
    await slack.settle()
    settled = slack.fake.message(card.channel, card.ts)
    assert settled is not None and buttons(settled) == []
    assert "See the reply below" in settled.markdown
    [comment_card] = [m for m in slack.fake.thread("DU1", card.ts) if m.ts != card.ts]
    assert [b["text"]["text"] for b in buttons(comment_card)] == ["Confirm", "Cancel"]
    await slack.post_interaction(click(comment_card, "Confirm"))
    await slack.settle()
    comments = [r for r in await all_requests(slack, "POST") if r["path"].endswith("/comments")]
    assert len(comments) == 1 and "jams" in comments[0]["body"]["comment"]
    assert await slack.sandbox_requests("/tickets", "POST") == []


async def test_the_agents_replies_are_relayed_into_the_slack_thread(slack: SlackHarness) -> None:
    await slack.link()
    await slack.command("human")
    await responded(slack)
    await slack.settle()
    [root, *_] = [m for m in slack.fake.messages if m.channel == "DU1"]
    key = f"{TEAM_ID}:DU1:{root.ts}"
    conversation = await slack.services.store.find_conversation("slack", key)
    assert conversation is not None and conversation.helpdesk_chat_id is not None
    posted = await slack.http.post(
        f"{slack.sandbox.base_url}/sandbox/chats/{conversation.helpdesk_chat_id}/agent-messages",
        json={"message": "Hi Jane, I'm looking at your VPN now.", "agent_name": "Alex"},
    )
    assert posted.status_code == 201

    def relayed() -> Posted | None:
        return next(
            (m for m in slack.fake.thread("DU1", root.ts) if "looking at your VPN" in m.markdown),
            None,
        )

    message = await slack.fake.wait_for(relayed, within=30)
    assert "Alex" in block_text(message.blocks)
    await slack.settle()
    copies = [m for m in slack.fake.thread("DU1", root.ts) if "looking at your VPN" in m.markdown]
    assert len(copies) == 1
