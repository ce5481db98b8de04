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

import asyncio
import os
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest

from sandbox.runner import RunningSandbox
from tests.fakes.openai_server import Completion, Hang, OpenAIFake
from tests.faults.ledger import LEDGER, shows_a_trace
from tests.serve_process import (
    Frame,
    ServeProcess,
    WidgetPage,
    postgres_database,
    sign_in,
    start_serve,
    wait_ready,
)
from tests.store_fixtures import PG_URL_ENV

REPLY_WITHIN_S = 30.0
VPN_QUESTION = "How do I set up the VPN on my laptop?"
VPN_ANSWER = "Install the VPN client from the portal and sign in with your work account."
CREATE = "Please create a ticket: my laptop keyboard has sticky keys"
CREATED = re.compile(r"Created ticket \*\*(\d+)\*\*")
HELD_WRITE_MS = 4000  # long enough to kill the server while the helpdesk holds the write
# What the user reads: transcript rows and the frames that stand in for one.
_READ = ("message", "confirm", "notice", "error", "handoff", "agent", "signin_required")


@dataclass
class Bot:
    """One `serve` on a fixed port and database, killed and started again by the test."""

    sandbox: RunningSandbox
    workdir: Path
    database: str
    model_base_url: str
    api_key: str | None = None
    model: str = "sandbox-stand-in"
    port: int | None = None
    server: ServeProcess | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    async def start(self) -> None:
        self.starts += 1
        self.server = start_serve(
            database=self.database,
            helpdesk_api=self.sandbox.api_base,
            model_base_url=self.model_base_url,
            workdir=self.workdir,
            name=f"serve-{self.starts}",
            port=self.port,
            api_key=self.api_key,
            model=self.model,
        )
        self.port = self.server.port
        await wait_ready(self.server)

    def kill(self) -> None:
        assert self.server is not None
        self.server.kill()
        LEDGER.injected_here()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.workdir.glob("*.log")))


@dataclass
class Sent:
    client_id: str
    shown_from: int
    frames_from: int
    passed_from: int


@dataclass
class User:
    """A signed-in widget page; what it sent and what it was shown for each message."""

    page: WidgetPage
    bot: Bot
    sent: list[Sent] = field(default_factory=list)

    async def say(self, text: str) -> Sent:
        return await self._send({"type": "message", "text": text})

    async def press(self, action_id: str) -> Sent:
        return await self._send({"type": "action", "action_id": action_id, "value": None})

    async def _send(self, frame: Frame) -> Sent:
        client_id = uuid.uuid4().hex
        page = self.page
        sent = Sent(client_id, len(page.shown), len(page.frames), len(page.passed))
        self.sent.append(sent)
        await self.page.send({**frame, "client_id": client_id})
        await self.page.until(lambda f: f["type"] == "ack" and f["client_id"] == client_id)
        return sent

    async def reconnect(self) -> None:
        """The server came back: the page reconnects with the last seq it shows."""
        self.page.dropped()
        await self.page.connect(self.bot.url)

    async def sees(self, done: Callable[[Frame], bool]) -> Frame:
        """A frame the page received since the user last sent something, or waits for."""
        return await self.page.until(done, since=self.sent[-1].passed_from)

    def read_since(self, sent: Sent, until: Sent | None = None) -> list[str]:
        """What the user read after sending ``sent`` (and before ``until``): the rows the
        page shows and the frames without a seq that stand for one (errors, refusals)."""
        rows = self.page.shown[sent.shown_from : until.shown_from if until else None]
        frames = self.page.frames[sent.frames_from : until.frames_from if until else None]
        loose = [f for f in frames if f.get("seq") is None]
        return [_text(f) for f in [*rows, *loose] if f["type"] in (*_READ, "rejected")]

    def account(self) -> None:
        """Each message sent, with what the user read for it, goes into the suite's ledger."""
        for sent, following in zip(self.sent, [*self.sent[1:], None], strict=True):
            LEDGER.exchange(self.read_since(sent, following))


def _text(frame: Frame) -> str:
    parts = [frame.get("text") or "", frame.get("title") or ""]
    parts += [f["value"] for f in frame.get("fields") or []]
    parts += frame.get("notices") or []
    return " ".join(p for p in parts if p)


def _action(frame: Frame, kind: str) -> str:
    return str(next(a["id"] for a in frame["actions"] if a["kind"] == kind))


async def _until(probe: Callable[[], Any], *, what: str, within_s: float = REPLY_WITHIN_S) -> Any:
    """Poll ``probe`` (async) until it returns something truthy, or fail naming ``what``."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if found := await probe():
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Helpdesk:
    """The sandbox back office: faults, and what the request log says was written."""

    http: httpx.AsyncClient

    async def hold_next_ticket_write(self, *, then_status: int | None) -> int:
        fault = {"latency_ms": HELD_WRITE_MS, "path_prefix": "/tickets", "method": "POST"}
        if then_status is not None:
            fault["status"] = then_status
        body = await LEDGER.inject(self.http, count=1, **fault)
        return int(body["fault_id"])

    async def write_arrived(self, fault_id: int) -> bool:
        faults = (await self.http.get("/sandbox/faults")).json()["faults"]
        return any(f["fault_id"] == fault_id and f["count"] == 0 for f in faults)

    async def requests(self, method: str, pattern: str) -> list[dict[str, Any]]:
        response = await self.http.get("/sandbox/requests", params={"method": method})
        return [r for r in response.json()["requests"] if re.fullmatch(pattern, r["path"])]

    async def mirrored(self, text: str) -> int:
        """How often the user's ``text`` was copied into the helpdesk chat."""
        rows = await self.requests("POST", r"/chat/\d+/messages")
        return sum(1 for r in rows if 200 <= r["status"] < 300 and r["body"] == {"message": text})

    async def written(self, method: str, pattern: str) -> int:
        return sum(1 for r in await self.requests(method, pattern) if 200 <= r["status"] < 300)


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


async def _open(bot: Bot, http: aiohttp.ClientSession) -> User:
    await bot.start()
    cookie = await sign_in(http, bot.url, "jane@acme.example", "demo-jane")
    page = WidgetPage(http, cookie, deadline_s=REPLY_WITHIN_S)
    await page.connect(bot.url)
    return User(page, bot)


def _sqlite(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
async def stand_in(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[User]:
    """A user of a bot that answers with the sandbox's stand-in model."""
    bot = Bot(sandbox, tmp_path, _sqlite(tmp_path), model_base_url=f"{sandbox.base_url}/v1")
    async with aiohttp.ClientSession() as http:
        try:
            yield await _open(bot, http)
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
            yield await _open(bot, http)
        finally:
            if bot.server is not None:
                bot.server.stop()


async def _restart(user: User) -> None:
    await user.bot.start()
    await user.reconnect()


async def _fresh_transcript(user: User) -> list[Frame]:
    """What a freshly loaded page shows: the conversation as the store holds it."""
    page = WidgetPage(user.page.http, user.page.cookie, deadline_s=REPLY_WITHIN_S)
    await page.connect(user.bot.url)
    assert page.ws is not None
    await page.ws.close()
    return page.shown


async def _check_the_aftermath(
    user: User, helpdesk: Helpdesk, *, tickets: int, cards: int = 0
) -> list[Frame]:
    """No message lost, nothing written or proposed twice, no trace shown; the ledger is
    told. Returns what a freshly loaded page shows."""
    user.account()
    shown = await _fresh_transcript(user)
    proposed = [f for f in shown if f["type"] == "confirm"]
    assert len(proposed) == cards, f"{len(proposed)} confirm cards, not {cards}: {proposed}"
    texts = [_text(frame) for frame in shown]
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
    assert not [t for t in user.page.frames if shows_a_trace(_text(t))]
    return shown


# --- a. killed before the reply -----------------------------------------------------------


async def test_a_kill_before_the_reply_still_answers_the_message(
    scripted: User, fake_model: OpenAIFake, helpdesk: Helpdesk
) -> None:
    user = scripted
    fake_model.enqueue(Hang())  # the model's answer is pending when the server dies
    question = await user.say(VPN_QUESTION)
    await _until(lambda: _has_requests(fake_model, 1), what="the model request")
    user.bot.kill()
    fake_model.enqueue(Completion(text=VPN_ANSWER))
    await _restart(user)
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
    await _restart(user)
    click = await user.press(_action(card, "confirm"))
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
            await _kill_during_the_write(await _open(bot, http), helpdesk, written=False)
        finally:
            if bot.server is not None:
                bot.server.stop()


async def _kill_during_the_write(user: User, helpdesk: Helpdesk, *, written: bool) -> None:
    await user.say(CREATE)
    card = await user.sees(lambda f: f["type"] == "confirm")
    fault = await helpdesk.hold_next_ticket_write(then_status=None if written else 503)
    click = await user.press(_action(card, "confirm"))
    await _until(lambda: helpdesk.write_arrived(fault), what="the ticket write")
    user.bot.kill()
    outcome = [201] if written else [503]
    await _until(
        lambda: _statuses_are(helpdesk, outcome),
        what="the held write",
        within_s=HELD_WRITE_MS / 1000 + REPLY_WITHIN_S,
    )
    await _restart(user)
    if not written:  # nothing was written: a fresh card, and only a new click writes
        retry = await user.sees(lambda f: f["type"] == "confirm" and bool(f["actions"]))
        assert "interrupted" in _text(retry).lower(), retry
        click = await user.press(_action(retry, "confirm"))
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
    await _restart(user)
    await user.sees(lambda f: f["type"] == "agent" and f["text"] == "four")
    assert [text for _, text in user.page.agent] == ["one", "two", "three", "four"]
    shown = await _fresh_transcript(user)
    assert [f["text"] for f in shown if f["type"] == "agent"] == ["one", "two", "three", "four"]
    await _check_the_aftermath(user, helpdesk, tickets=0)
