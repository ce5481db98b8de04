"""`helpdesk-bot serve` SIGKILLed at each stage of a turn and started again on its database.

The server is a real child process (`tests.serve_process`) on a SQLite file; the sandbox
helpdesk and the model live in the test process, so they outlive it. The user is a widget
page on the real WebSocket with the real session cookie; after the kill it reconnects with
the last seq it shows, as the page does. Each stage is pinned by an event, not a delay: the
model request has arrived (and is held), the confirm card is shown, the helpdesk write has
arrived (and is held by a back-office latency fault), an agent message is shown.

For every stage: the user reads a reply or a clear message within 30 s of the restart, no
user message is lost (a freshly loaded page shows each once, answered), no ticket is
written twice and no user message is mirrored twice (counted in the sandbox's request log),
and no stack trace is shown.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import httpx
import pytest

from sandbox.runner import RunningSandbox
from tests.fakes.openai_server import Completion, Hang, OpenAIFake
from tests.faults.ledger import LEDGER, shows_a_trace
from tests.faults.served import (
    HELD_WRITE_MS,
    REPLY_WITHIN_S,
    Bot,
    Helpdesk,
    User,
    action_id,
    fresh_transcript,
    open_user,
    restart,
    text_of,
    until,
)
from tests.serve_process import Frame, postgres_database
from tests.store_fixtures import PG_URL_ENV

VPN_QUESTION = "How do I set up the VPN on my laptop?"
VPN_ANSWER = "Install the VPN client from the portal and sign in with your work account."
CREATE = "Please create a ticket: my laptop keyboard has sticky keys"
CREATED = re.compile(r"Created ticket \*\*(\d+)\*\*")


@pytest.fixture
async def helpdesk(sandbox: RunningSandbox) -> AsyncIterator[Helpdesk]:
    async with httpx.AsyncClient(base_url=sandbox.base_url, timeout=10) as http:
        yield Helpdesk(http)


@pytest.fixture
async def fake_model() -> AsyncIterator[OpenAIFake]:
    server = OpenAIFake()
    await server.start()
    yield server
    await server.close()


def _sqlite(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
async def stand_in(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[User]:
    """A user of a bot that answers with the sandbox's stand-in model."""
    bot = Bot(sandbox, tmp_path, _sqlite(tmp_path), model_base_url=f"{sandbox.base_url}/v1")
    async with aiohttp.ClientSession() as http:
        try:
            yield await open_user(bot, http)
        finally:
            if bot.server is not None:
                bot.server.stop()


@pytest.fixture
async def scripted(
    sandbox: RunningSandbox, tmp_path: Path, fake_model: OpenAIFake
) -> AsyncIterator[User]:
    """A user of a bot whose model is the scripted fake (it can hold a request)."""
    bot = Bot(
        sandbox,
        tmp_path,
        _sqlite(tmp_path),
        fake_model.base_url,
        api_key="sk-test",
        model="gpt-fake",
    )
    async with aiohttp.ClientSession() as http:
        try:
            yield await open_user(bot, http)
        finally:
            if bot.server is not None:
                bot.server.stop()


async def _check_the_aftermath(
    user: User, helpdesk: Helpdesk, *, tickets: int, cards: int = 0
) -> list[Frame]:
    """No message lost, nothing written or proposed twice, no trace shown; the ledger is
    told. Returns what a freshly loaded page shows."""
    user.account()
    shown = await fresh_transcript(user)
    proposed = [f for f in shown if f["type"] == "confirm"]
    assert len(proposed) == cards, f"{len(proposed)} confirm cards, not {cards}: {proposed}"
    texts = [text_of(frame) for frame in shown]
    assert not [t for t in texts if shows_a_trace(t)], texts
    said = [f for f in shown if f["type"] == "user"]
    typed = [f["client_id"] for f in said]
    assert len(typed) == len(set(typed)), f"a user message is shown twice: {said}"
    created = await helpdesk.written("POST", r"/tickets")
    LEDGER.writes(created, expected=tickets)
    assert created == tickets, user.bot.logs()[-3000:]
    for text in {f["text"] for f in said}:
        mirrored = await helpdesk.mirrored(text)
        LEDGER.writes(mirrored, expected=1)
        assert mirrored == 1, f"{text!r} is in the helpdesk chat {mirrored} times"
    assert user.sent, "the test sent nothing"
    assert not [t for t in user.page.frames if shows_a_trace(text_of(t))]
    return shown


# --- a. killed before the reply -----------------------------------------------------------


async def test_a_kill_before_the_reply_still_answers_the_message(
    scripted: User, fake_model: OpenAIFake, helpdesk: Helpdesk
) -> None:
    user = scripted
    fake_model.enqueue(Hang())  # the model's answer is pending when the server dies
    question = await user.say(VPN_QUESTION)
    await until(lambda: _has_requests(fake_model, 1), what="the model request")
    user.bot.kill()
    fake_model.enqueue(Completion(text=VPN_ANSWER))
    await restart(user)
    await user.sees(lambda f: f["type"] in ("message", "notice", "error") and f.get("seq"))
    read = user.read_since(question)
    assert any(VPN_ANSWER in t for t in read), read
    assert sum(VPN_ANSWER in t for t in read) == 1, read
    shown = await _check_the_aftermath(user, helpdesk, tickets=0)
    assert [f["type"] for f in shown] == ["user", "message"], shown


async def _has_requests(fake: OpenAIFake, count: int) -> bool:
    return len(fake.requests) >= count


# --- b. killed with a confirm card pending ------------------------------------------------


async def test_a_kill_with_a_confirm_pending_then_confirm_writes_once(
    stand_in: User, helpdesk: Helpdesk
) -> None:
    """Killed as the card is shown: the turn's tail (history, lease) may be cut short."""
    user = stand_in
    await user.say(CREATE)
    card = await user.sees(lambda f: f["type"] == "confirm")
    user.bot.kill()
    await restart(user)
    click = await user.press(action_id(card, "confirm"))
    done = await user.sees(lambda f: f["type"] == "message" and bool(CREATED.search(f["text"])))
    assert CREATED.search(done["text"]), done
    read = user.read_since(click)
    assert sum(bool(CREATED.search(t)) for t in read) == 1, read
    shown = await _check_the_aftermath(user, helpdesk, tickets=1, cards=1)
    assert [f["type"] for f in shown] == ["user", "confirm", "message"], "answered once"


# --- c. killed right after the click, the write in flight ---------------------------------


@pytest.mark.parametrize("written", [True, False], ids=["write-landed", "write-refused"])
async def test_a_kill_during_the_write_is_settled_after_the_restart(
    stand_in: User, helpdesk: Helpdesk, written: bool
) -> None:
    await _kill_during_the_write(stand_in, helpdesk, written=written)


@pytest.mark.postgres
async def test_a_kill_during_the_write_is_settled_on_postgresql(
    sandbox: RunningSandbox, tmp_path: Path, helpdesk: Helpdesk
) -> None:
    server = os.environ.get(PG_URL_ENV)
    if not server:
        pytest.skip(f"{PG_URL_ENV} is not set; the PostgreSQL case needs a server")
    async with (
        postgres_database(server, prefix="hb_faults_kill") as database,
        aiohttp.ClientSession() as http,
    ):
        bot = Bot(sandbox, tmp_path, database, model_base_url=f"{sandbox.base_url}/v1")
        try:
            await _kill_during_the_write(await open_user(bot, http), helpdesk, written=False)
        finally:
            if bot.server is not None:
                bot.server.stop()


async def _kill_during_the_write(user: User, helpdesk: Helpdesk, *, written: bool) -> None:
    await user.say(CREATE)
    card = await user.sees(lambda f: f["type"] == "confirm")
    fault = await helpdesk.hold_next_ticket_write(then_status=None if written else 503)
    click = await user.press(action_id(card, "confirm"))
    await until(lambda: helpdesk.write_arrived(fault), what="the ticket write")
    user.bot.kill()
    outcome = [201] if written else [503]
    await until(
        lambda: _statuses_are(helpdesk, outcome),
        what="the held write",
        within_s=HELD_WRITE_MS / 1000 + REPLY_WITHIN_S,
    )
    await restart(user)
    if not written:  # nothing was written: a fresh card, and only a new click writes
        retry = await user.sees(lambda f: f["type"] == "confirm" and bool(f["actions"]))
        assert "interrupted" in text_of(retry).lower(), retry
        click = await user.press(action_id(retry, "confirm"))
    told = await user.sees(lambda f: f["type"] == "message" and bool(CREATED.search(f["text"])))
    assert CREATED.search(told["text"])
    read = user.read_since(click)
    assert sum(bool(CREATED.search(t)) for t in read) == 1, read
    await _check_the_aftermath(user, helpdesk, tickets=1, cards=1 if written else 2)


async def _statuses_are(helpdesk: Helpdesk, statuses: list[int]) -> bool:
    return [r["status"] for r in await helpdesk.requests("POST", r"/tickets")] == statuses


# --- d. killed mid-relay ------------------------------------------------------------------


async def test_a_kill_mid_relay_shows_every_agent_message_once(
    stand_in: User, helpdesk: Helpdesk
) -> None:
    user = stand_in
    await user.say("I want to talk to a person")
    await user.sees(lambda f: f["type"] == "handoff" and f.get("state") == "queued")
    chats = (await helpdesk.http.get("/sandbox/chats", params={"status": "waiting_agent"})).json()
    [chat] = [c for c in chats["chats"] if c["user_email"] == "jane@acme.example"]

    async def agent(text: str) -> None:
        posted = await helpdesk.http.post(
            f"/sandbox/chats/{chat['chat_id']}/agent-messages",
            json={"message": text, "agent_name": "Mike Tech"},
        )
        assert posted.status_code == 201, posted.text

    await agent("one")
    await user.sees(lambda f: f["type"] == "agent" and f["text"] == "one")
    await agent("two")
    await agent("three")
    await user.sees(lambda f: f["type"] == "agent" and f["text"] == "two")
    user.bot.kill()  # "three" may or may not have been relayed (its cursor kept or not)
    await agent("four")
    await restart(user)
    await user.sees(lambda f: f["type"] == "agent" and f["text"] == "four")
    assert [text for _, text in user.page.agent] == ["one", "two", "three", "four"]
    shown = await fresh_transcript(user)
    assert [f["text"] for f in shown if f["type"] == "agent"] == ["one", "two", "three", "four"]
    await _check_the_aftermath(user, helpdesk, tickets=0)
