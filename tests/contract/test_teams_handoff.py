"""Teams works as Slack does when things go beyond one answer: a manager rejects with a
reason from the approvals card, a model outage degrades to Val AI's answer with a way on,
and a human handoff ends with a rating card whose score is kept once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.runner import RunningSandbox
from tests.conftest import login_as
from tests.contract.test_teams_http import (
    PERSONAL,
    TeamsHarness,
    activity,
    serve_teams,
    teams_fixture,  # noqa: F401 - the `teams` fixture
)
from tests.fakes.bot_connector import BotConnectorFake, card_actions, card_contents
from tests.fakes.openai_server import ErrorReply, OpenAIFake


def texts_of(message: dict[str, Any]) -> str:
    """Everything a person reads in a message: its text and its cards' text."""
    return message.get("text", "") + " " + " ".join(str(c) for c in card_contents(message))


async def approvals_card(teams: TeamsHarness) -> tuple[dict[str, Any], dict[str, Any]]:
    await teams.link(aad="aad-mike", email="mike@acme.example")
    await teams.say("approvals", user="29:mike", aad="aad-mike")
    [listing] = await teams.replies(PERSONAL)
    [card] = card_contents(listing)
    return listing, card


async def test_a_manager_rejects_only_with_a_reason_typed_in_the_card(teams: TeamsHarness) -> None:
    listing, card = await approvals_card(teams)
    reject = next(a for a in card_actions(card) if a["title"] == "Reject")
    number = reject["data"]["hb"].split(":")[1]
    reason_field = f"reason_{number}"  # the Input.Text beside the buttons; Teams sends its value

    def press(**inputs: str) -> dict[str, Any]:
        return activity(
            teams.connector,
            user="29:mike",
            aad="aad-mike",
            value=reject["data"] | inputs,
            replyToId=listing["id"],
        )

    await teams.post(press())  # no reason typed
    await teams.settle()
    assert await rejections(teams) == []
    [notice] = [m for m in teams.connector.messages(PERSONAL) if m["id"] != listing["id"]]
    assert "reason" in notice["text"].lower()

    pressed = press(**{reason_field: "Not in this quarter's budget"})
    await asyncio.gather(teams.post(pressed), teams.post(pressed | {"id": pressed["id"] + "1"}))
    await teams.settle()
    [rejected] = await rejections(teams)  # pressed twice, rejected once
    ticket = await teams.http.get(
        f"{teams.sandbox.api_base}{rejected['path'].removesuffix('/reject')}",
        headers=await login_as(teams.http, teams.sandbox.api_base, "mike@acme.example"),
    )
    body = ticket.json()
    assert body["approval_status"] == "rejected"
    comments = [c["comment"] for c in body["comments"]]
    assert "Rejected: Not in this quarter's budget" in comments, comments
    outcomes = [m for m in teams.connector.messages(PERSONAL) if m["id"] != listing["id"]]
    assert any(f"ticket **{number}**" in m["text"] for m in outcomes[1:]), outcomes


async def rejections(teams: TeamsHarness) -> list[dict[str, Any]]:
    """The reject calls the helpdesk received (paths carry the ticket id, not its number)."""
    response = await teams.http.get(
        f"{teams.sandbox.base_url}/sandbox/requests",
        params={"path_prefix": "/tickets", "method": "POST"},
    )
    return [r for r in response.json()["requests"] if r["path"].endswith("/reject")]


@pytest.fixture
async def failing_model() -> AsyncIterator[OpenAIFake]:
    server = OpenAIFake()
    await server.start()
    server.enqueue(*[ErrorReply(500)] * 12)  # every try of the turn fails
    yield server
    await server.close()


async def test_a_model_outage_degrades_to_val_ai_with_a_ticket_and_a_person_offered(
    sandbox: RunningSandbox, tmp_path: Path, failing_model: OpenAIFake
) -> None:
    model = {"openai_base_url": failing_model.base_url, "openai_api_key": "sk-test"}
    async with (
        BotConnectorFake() as connector,
        serve_teams(sandbox, tmp_path, connector, **model) as teams,
    ):
        await teams.link()
        await teams.say("My VPN keeps disconnecting, how do I fix it?")
        await teams.settle()
        [answer] = teams.connector.messages(PERSONAL)
        assert "vpn" in answer["text"].lower()  # Val AI's answer from the knowledge base
        titles = [a["title"] for card in card_contents(answer) for a in card_actions(card)]
        assert {"Create a ticket", "Talk to a human"} <= set(titles), titles
        assert len(failing_model.requests) >= 1  # the model was tried first


async def test_a_handoff_ends_with_a_rating_card_whose_score_is_kept_once(
    teams: TeamsHarness,
) -> None:
    await teams.link()
    await teams.post(activity(teams.connector, value={"hb": "talk_to_human"}))
    await teams.replies(PERSONAL)
    await teams.settle()
    conversation = await teams.services.desk.find_conversation("teams", PERSONAL)
    assert conversation is not None and conversation.helpdesk_chat_id is not None
    chat = f"{teams.sandbox.base_url}/sandbox/chats/{conversation.helpdesk_chat_id}"
    said = await teams.http.post(f"{chat}/agent-messages", json={"message": "All fixed now."})
    assert said.status_code == 201
    await teams.connector.wait_for(
        lambda: any(
            "All fixed now" in m.get("text", "") for m in teams.connector.messages(PERSONAL)
        ),
        within=30,
    )
    (await teams.http.post(f"{chat}/end")).raise_for_status()

    def rating_card() -> tuple[dict[str, Any], dict[str, Any]] | None:
        for message in teams.connector.messages(PERSONAL):
            for content in card_contents(message):
                if [a["title"] for a in card_actions(content)] == ["1", "2", "3", "4", "5"]:
                    return message, content
        return None

    message, card = await teams.connector.wait_for(rating_card, within=30)
    four = card_actions(card)[3]
    press = activity(teams.connector, value=four["data"], replyToId=message["id"])
    await asyncio.gather(teams.post(press), teams.post(press | {"id": press["id"] + "1"}))
    await teams.settle()

    ratings = await teams.services.store.ratings_for(conversation.id)
    assert [r.score for r in ratings] == [4]
    thanks = [
        m for m in teams.connector.messages(PERSONAL) if "Thanks for the feedback" in texts_of(m)
    ]
    assert len(thanks) == 1, thanks
