"""Card presses and forms in Teams: Confirm creates exactly one ticket however often it is
submitted and the card becomes its outcome; the universal-action invoke is answered with
an invokeResponse; feedback; the "Create a helpdesk ticket" message action; approvals."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.contract.test_teams_http import (
    PERSONAL,
    TeamsHarness,
    activity,
    teams_fixture,  # noqa: F401 - the `teams` fixture
)
from tests.fakes.bot_connector import card_actions, card_contents

TICKET_REQUEST = "Please open a ticket: my monitor flickers all the time"


async def confirm_card(teams: TeamsHarness) -> tuple[dict[str, Any], dict[str, Any]]:
    """The confirm card's message and the card."""
    await teams.link()
    await teams.say(TICKET_REQUEST)

    def card() -> tuple[dict[str, Any], dict[str, Any]] | None:
        for message in teams.connector.messages(PERSONAL):
            for content in card_contents(message):
                titles = [a.get("title") for a in card_actions(content)]
                if "Confirm" in titles:
                    return message, content
        return None

    found = await teams.connector.wait_for(card, within=30)
    await teams.settle()
    return found


def submit(
    teams: TeamsHarness, message: dict[str, Any], card: dict[str, Any], title: str
) -> dict[str, Any]:
    """The message activity Teams posts when an Action.Submit button is pressed."""
    action = next(a for a in card_actions(card) if a.get("title") == title)
    return activity(teams.connector, value=action["data"], replyToId=message["id"])


async def test_confirm_submitted_twice_creates_one_ticket_and_the_card_shows_the_outcome(
    teams: TeamsHarness,
) -> None:
    message, card = await confirm_card(teams)
    assert [a["type"] for a in card_actions(card)][:2] == ["Action.Submit", "Action.Submit"]
    assert "monitor" in str(card["body"]).lower()
    before = len(teams.connector.messages(PERSONAL))
    first, second = await asyncio.gather(
        teams.post(submit(teams, message, card, "Confirm")),
        teams.post(submit(teams, message, card, "Confirm")),
    )
    assert (first.status_code, second.status_code) == (201, 201)
    await teams.settle()
    assert len(await teams.sandbox_requests("/tickets", "POST")) == 1
    [updated] = [m for m in teams.connector.messages(PERSONAL) if m["id"] == message["id"]]
    [content] = card_contents(updated)
    assert card_actions(content) == []  # no second chance to press
    assert "Created ticket" in str(content["body"])
    assert updated["_updates"] == 2  # "working on it", then the outcome: the work ran once
    puts = [r for r in teams.connector.calls("PUT")]
    assert {r.path for r in puts} == {f"/v3/conversations/{PERSONAL}/activities/{message['id']}"}
    assert len(teams.connector.messages(PERSONAL)) == before  # the outcome is the card


async def test_a_universal_action_invoke_is_answered_with_the_working_card(
    teams: TeamsHarness,
) -> None:
    message, card = await confirm_card(teams)
    data = next(a for a in card_actions(card) if a["title"] == "Cancel")["data"]
    invoke = activity(
        teams.connector,
        kind="invoke",
        name="adaptiveCard/action",
        value={
            "action": {"type": "Action.Execute", "verb": data["hb"], "data": data},
            "trigger": "manual",
        },
        replyToId=message["id"],
    )
    response = await teams.post(invoke)
    assert response.status_code == 200
    answer = response.json()
    assert answer["statusCode"] == 200
    assert answer["type"] == "application/vnd.microsoft.card.adaptive"
    assert card_actions(answer["value"]) == []
    again = await teams.post(invoke)
    assert again.json()["type"] == "application/vnd.microsoft.activity.message"
    await teams.settle()
    [updated] = [m for m in teams.connector.messages(PERSONAL) if m["id"] == message["id"]]
    assert "nothing was changed" in str(card_contents(updated)).lower()
    assert await teams.sandbox_requests("/tickets", "POST") == []


async def test_feedback_is_recorded_once_and_the_buttons_go(teams: TeamsHarness) -> None:
    await teams.link()
    await teams.say("My VPN keeps disconnecting, how do I fix it?")
    [answer] = await teams.replies(PERSONAL)
    await teams.settle()
    [card] = card_contents(answer)
    thumbs_up = submit(teams, answer, card, "👍")
    await asyncio.gather(teams.post(thumbs_up), teams.post(submit(teams, answer, card, "👍")))
    await teams.settle()
    [updated] = [m for m in teams.connector.messages(PERSONAL) if m["id"] == answer["id"]]
    assert updated["text"].startswith(answer["text"].split("\n")[0])
    assert card_actions(card_contents(updated)[0]) == []
    assert updated["_updates"] == 1


async def test_the_message_action_opens_a_prefilled_form_and_files_through_confirm(
    teams: TeamsHarness,
) -> None:
    await teams.link()
    fetch = activity(
        teams.connector,
        kind="invoke",
        name="composeExtension/fetchTask",
        conversation="19:general@thread.tacv2",
        conversation_type="channel",
        value={
            "commandId": "createTicket",
            "commandContext": "message",
            "messagePayload": {
                "body": {"contentType": "html", "content": "<p>The printer on 3rd floor jams</p>"}
            },
        },
    )
    response = await teams.post(fetch)
    assert response.status_code == 200
    task = response.json()["task"]
    assert task["type"] == "continue"
    form = task["value"]["card"]["content"]
    inputs = {item.get("id"): item for item in form["body"] if item.get("id")}
    assert inputs["description"]["value"] == "The printer on 3rd floor jams"
    assert inputs["job_type"]["choices"]  # the helpdesk's job types
    job_type = inputs["job_type"]["choices"][0]["value"]
    submitted = activity(
        teams.connector,
        kind="invoke",
        name="composeExtension/submitAction",
        conversation="19:general@thread.tacv2",
        conversation_type="channel",
        value={
            "commandId": "createTicket",
            "data": {
                "subject": "Printer jams",
                "description": "It jams on every page",
                "job_type": job_type,
            },
        },
    )
    response = await teams.post(submitted)
    assert response.status_code == 200
    await teams.settle()
    personal = "a:personal-29:jane"
    [card_message] = teams.connector.messages(personal)
    [card] = card_contents(card_message)
    assert "Printer jams" in str(card["body"])
    assert await teams.sandbox_requests("/tickets", "POST") == []  # nothing without Confirm
    confirm = next(a for a in card_actions(card) if a["title"] == "Confirm")
    press = activity(
        teams.connector, conversation=personal, value=confirm["data"], replyToId=card_message["id"]
    )
    await teams.post(press)
    await teams.settle()
    assert len(await teams.sandbox_requests("/tickets", "POST")) == 1


async def test_a_manager_approves_from_the_approvals_card(teams: TeamsHarness) -> None:
    await teams.link(aad="aad-mike", email="mike@acme.example")
    await teams.say("approvals", user="29:mike", aad="aad-mike")
    [listing] = await teams.replies(PERSONAL)
    [card] = card_contents(listing)
    approve = next(a for a in card_actions(card) if a["title"] == "Approve")
    press = activity(
        teams.connector,
        user="29:mike",
        aad="aad-mike",
        value=approve["data"],
        replyToId=listing["id"],
    )
    await asyncio.gather(teams.post(press), teams.post(press | {"id": press["id"] + "1"}))
    await teams.settle()
    number = approve["data"]["hb"].split(":")[1]
    response = await teams.http.get(
        f"{teams.sandbox.base_url}/sandbox/requests",
        params={"path_prefix": "/tickets", "method": "POST"},
    )
    approvals = [r for r in response.json()["requests"] if r["path"].endswith("/approve")]
    assert len(approvals) == 1  # pressed twice, approved once
    outcomes = [m for m in teams.connector.messages(PERSONAL) if m["id"] != listing["id"]]
    assert len(outcomes) == 1, outcomes
    assert f"Approved ticket **{number}**" in outcomes[0]["text"]
