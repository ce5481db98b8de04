"""Isolation through the channels, over their real wire formats: a widget user never gets
another's frames or writes; in a Slack channel thread or a Teams group chat, someone else
can neither confirm another person's card nor read that conversation through the bot.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sandbox.runner import RunningSandbox
from tests.conftest import DEMO_PASSWORDS
from tests.contract.test_slack_actions import buttons, click
from tests.contract.test_slack_commands import block_text, responded
from tests.contract.test_slack_http import SlackHarness, _serve, channel_event
from tests.contract.test_teams_conversations import mention
from tests.contract.test_teams_http import TeamsHarness, activity, serve_teams
from tests.contract.test_web_support import WebApp, say, turn, until, web_app
from tests.fakes.bot_connector import BotConnectorFake
from tests.fakes.slack_api import BOT_USER_ID, Posted, SlackApiFake
from tests.security.ledger import LEDGER

__all__ = ["web_app"]

TICKET = "Please open a ticket: my monitor flickers all the time"
JANES = ("Printer not working", "VPN drops")  # subjects of Jane's tickets 3018 and 3012


# --- widget ------------------------------------------------------------------------------


async def _second_browser(web_app: WebApp, email: str) -> aiohttp.ClientSession:
    browser = aiohttp.ClientSession(
        base_url=web_app.client.make_url("/"), cookie_jar=aiohttp.CookieJar(unsafe=True)
    )
    body = {"email": email, "password": DEMO_PASSWORDS[email]}
    async with browser.post("/widget/session", json=body) as response:
        assert response.status == 200
    return browser


async def _quiet(ws: aiohttp.ClientWebSocketResponse) -> list[dict[str, Any]]:
    """Every frame this socket got, up to the pong of a ping sent now."""
    await ws.send_json({"type": "ping"})
    return await until(ws, lambda frame: frame["type"] == "pong")


def _press(button: dict[str, Any], client_id: str) -> dict[str, Any]:
    """The action frame the page sends when `button` is pressed."""
    value = button.get("value")
    return {"type": "action", "client_id": client_id, "action_id": button["id"], "value": value}


async def test_widget_users_never_see_or_confirm_each_others_turns(web_app: WebApp) -> None:
    assert (await web_app.sign_in()).status == 200
    jane = await web_app.connect()
    lee_browser = await _second_browser(web_app, "lee@globex.example")
    try:
        lee = await lee_browser.ws_connect("/widget/ws")
        await lee.send_json({"type": "hello", "last_seq": 0})
        await until(lee, lambda frame: frame["type"] == "ready")

        janes = await turn(jane, say(TICKET))
        [card] = [frame for frame in janes if frame["type"] == "confirm"]
        confirm = next(a for a in card["actions"] if a["kind"] == "confirm")
        seen_by_lee = await _quiet(lee)
        pressed = await turn(lee, _press(confirm, "lee-press-0001"))
        await lee.send_json({"type": "hello", "last_seq": 0})  # a reload: his history only
        replayed = await until(lee, lambda frame: frame["type"] == "ready")
    finally:
        await lee_browser.close()

    posted = [
        r for r in await web_app.helpdesk_requests("/tickets", "POST") if r["path"] == "/tickets"
    ]
    lee_saw = repr(seen_by_lee + pressed + replayed)
    LEDGER.outcome("widget: another user's frames on my socket", refused="monitor" not in lee_saw)
    LEDGER.outcome("widget: confirming another user's card", refused=posted == [])
    assert "monitor" not in lee_saw and posted == [], (lee_saw, posted)
    done = await turn(jane, _press(confirm, "jane-press-001"))
    assert any("Created ticket" in str(frame.get("text")) for frame in done)  # still hers


# --- Slack -------------------------------------------------------------------------------


@pytest.fixture
async def slack(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[SlackHarness]:
    async with SlackApiFake() as fake, _serve(sandbox, tmp_path, fake) as harness:
        yield harness


async def _card_in(slack: SlackHarness, thread_ts: str) -> Posted:
    def card() -> Posted | None:
        thread = slack.fake.thread("C1", thread_ts)
        return next((m for m in thread if any(b["type"] == "header" for b in m.blocks)), None)

    return await slack.fake.wait_for(card, within=30)


async def test_in_a_slack_thread_only_its_owner_acts_and_reads(slack: SlackHarness) -> None:
    await slack.link("U1", "jane@acme.example")
    await slack.link("U2", "mike@acme.example")
    await slack.link("U3", "lee@globex.example")
    mention = channel_event(f"<@{BOT_USER_ID}> {TICKET}", kind="app_mention")
    await slack.post_event(mention)
    card = await _card_in(slack, mention["ts"])
    model_calls = len(await slack.sandbox_requests("/v1/chat/completions", "POST"))
    presses = {user: click(card, "Confirm", user=user) for user in ("U1", "U2", "U3")}

    for user in ("U2", "U3"):
        await slack.post_interaction(presses[user])
        asks = channel_event(
            f"<@{BOT_USER_ID}> yes, and what was her ticket about?",
            kind="app_mention", user=user, thread_ts=mention["ts"],
        )  # fmt: skip
        await slack.post_event(asks)
        await slack.settle()

    tickets = await slack.sandbox_requests("/tickets", "POST")
    later_calls = len(await slack.sandbox_requests("/v1/chat/completions", "POST"))
    still = slack.fake.message(card.channel, card.ts)
    LEDGER.outcome("slack: a colleague confirming someone's card", refused=tickets == [])
    LEDGER.outcome("slack: another company's user confirming a card", refused=tickets == [])
    LEDGER.outcome(
        "slack: reading someone's thread through the bot", refused=later_calls == model_calls
    )
    LEDGER.outcome(
        "slack: someone else's click disabling the owner's card",
        refused=still is not None
        and [b["text"]["text"] for b in buttons(still)][:1] == ["Confirm"],
    )
    assert tickets == [] and later_calls == model_calls
    assert still is not None and buttons(still), still

    await slack.post_interaction(presses["U1"])  # the owner still can
    await slack.settle()
    assert len(await slack.sandbox_requests("/tickets", "POST")) == 1


async def test_slack_commands_and_app_home_show_only_the_callers_data(
    slack: SlackHarness,
) -> None:
    await slack.link("U1", "jane@acme.example")
    await slack.link("U3", "lee@globex.example")
    await slack.link("U4", "sam@acme.example")
    for user, number in (("U3", 3018), ("U3", 3012), ("U4", 3018)):
        await slack.command(f"ticket {number}", user=user)
    await responded(slack, 3)
    await slack.command("tickets", user="U3")
    await responded(slack, 4)
    for user in ("U3", "U4"):
        await slack.post_event({"type": "app_home_opened", "user": user, "tab": "home"})
    homes = await slack.fake.wait_for(
        lambda: (
            [slack.fake.home[u] for u in ("U3", "U4")]
            if {"U3", "U4"} <= set(slack.fake.home)
            else None
        )
    )

    answers = [block_text(r["blocks"]) for r in slack.fake.responses]
    pages = [block_text(home["blocks"]) for home in homes]

    def leaks(texts: list[str]) -> list[str]:
        return [subject for text in texts for subject in JANES if subject in text]

    LEDGER.outcome(
        "slack: /helpdesk ticket of another user or company", refused=not leaks(answers[:3])
    )
    LEDGER.outcome(
        "slack: ticket list or App Home with others' tickets",
        refused=not leaks(answers[3:] + pages),
    )
    assert not leaks(answers + pages), answers + pages
    # Each lookup refused as not found, not an error (the answers may come in any order).
    refused = sorted(
        int(n) for a in answers[:3] for n in re.findall(r"couldn't find ticket (\d+)", a)
    )
    assert refused == [3012, 3018, 3018], answers[:3]
    await slack.command("ticket 3018", user="U1")  # the control: Jane sees her own
    assert JANES[0] in block_text((await responded(slack, 5))[4]["blocks"])


async def test_a_slack_link_url_is_shown_only_to_the_person_it_links(slack: SlackHarness) -> None:
    """Whoever opens a link URL links THEIR helpdesk account to its channel user: posted
    where others can see it, a colleague could make your questions go to their account."""
    mention = channel_event(f"<@{BOT_USER_ID}> is the VPN down?", kind="app_mention", user="U8")
    await slack.post_event(mention)
    await slack.settle()
    public = [m for m in slack.fake.messages if m.ephemeral_for is None]
    private = [m for m in slack.fake.messages if m.ephemeral_for == "U8"]
    shown = "/link/" in repr(public)
    LEDGER.outcome("slack: a link URL posted where others see it", refused=not shown)
    assert not shown and "/link/" in repr(private)  # the control: U8 got it privately


# --- Teams (dev mode) --------------------------------------------------------------------

GROUP = "19:group-chat-jane-lee@thread.v2"


@pytest.fixture
async def teams(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[TeamsHarness]:
    async with BotConnectorFake() as connector, serve_teams(sandbox, tmp_path, connector) as h:
        yield h


def _group(teams: TeamsHarness, user: str, aad: str, **fields: Any) -> dict[str, Any]:
    return activity(
        teams.connector, conversation=GROUP, conversation_type="groupChat", user=user, aad=aad,
        **fields,
    )  # fmt: skip


async def test_in_a_teams_group_chat_only_the_owner_confirms(teams: TeamsHarness) -> None:
    await teams.link("aad-jane", "jane@acme.example")
    await teams.link("aad-lee", "lee@globex.example")
    await teams.post(_group(teams, "29:jane", "aad-jane", text=f"<at>IT Helpdesk</at> {TICKET}"))
    await teams.settle()
    message, card = _confirm_card(teams)
    submit = next(a for a in card["actions"] if a.get("title") == "Confirm")["data"]

    def press(user: str, aad: str) -> dict[str, Any]:
        return _group(teams, user, aad, value=submit, replyToId=message["id"])

    first, second = await asyncio.gather(
        teams.post(press("29:lee", "aad-lee")), teams.post(press("29:lee", "aad-lee"))
    )
    await teams.settle()
    tickets = await teams.sandbox_requests("/tickets", "POST")
    LEDGER.outcome("teams: another user submitting someone's confirm card", refused=tickets == [])
    assert tickets == [], (first.status_code, second.status_code)

    await teams.post(press("29:jane", "aad-jane"))  # the owner's own press still works
    await teams.settle()
    owner_can = len(await teams.sandbox_requests("/tickets", "POST")) == 1
    LEDGER.outcome("teams: someone else's press spending the owner's card", refused=owner_can)
    assert owner_can


def _confirm_card(teams: TeamsHarness) -> tuple[dict[str, Any], dict[str, Any]]:
    for message in teams.connector.messages(GROUP):
        for attachment in message.get("attachments", []):
            content = attachment.get("content", {})
            titles = [a.get("title") for a in content.get("actions", [])]
            if "Confirm" in titles:
                return message, content
    raise AssertionError(f"no confirm card in {teams.connector.messages(GROUP)}")


async def test_a_teams_link_url_is_never_posted_in_a_channel(teams: TeamsHarness) -> None:
    post = activity(
        teams.connector,
        text="<at>IT Helpdesk</at> is the VPN down?",
        conversation="19:general@thread.tacv2",
        conversation_type="channel",
        entities=[mention("IT Helpdesk")],
    )
    await teams.post(post)
    await teams.settle()
    everywhere = {c: teams.connector.messages(c) for c in teams.connector.activities}
    public = [m for c, ms in everywhere.items() if c.startswith("19:") for m in ms]
    LEDGER.outcome("teams: a link URL posted in a channel", refused="/link/" not in repr(public))
    assert public and "/link/" not in repr(public)
    assert "/link/" in repr(everywhere)  # the control: it went to the personal chat
