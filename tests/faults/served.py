"""The kill tests' harness: one `serve` killed and restarted, its widget user, the sandbox.

`Bot` runs `helpdesk-bot serve` (`tests.serve_process`) on one port and database across
restarts; `User` is a signed-in widget page that remembers what it sent and what it was
shown for each message; `Helpdesk` is the sandbox back office (faults held on a write, the
request log that says what was written).
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from sandbox.runner import RunningSandbox
from tests.faults.ledger import LEDGER
from tests.serve_process import Frame, ServeProcess, WidgetPage, sign_in, start_serve, wait_ready

REPLY_WITHIN_S = 30.0
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
        return [text_of(f) for f in [*rows, *loose] if f["type"] in (*_READ, "rejected")]

    def account(self) -> None:
        """Each message sent, with what the user read for it, goes into the suite's ledger."""
        for sent, following in zip(self.sent, [*self.sent[1:], None], strict=True):
            LEDGER.exchange(self.read_since(sent, following))


def text_of(frame: Frame) -> str:
    parts = [frame.get("text") or "", frame.get("title") or ""]
    parts += [f["value"] for f in frame.get("fields") or []]
    parts += frame.get("notices") or []
    return " ".join(p for p in parts if p)


def action_id(frame: Frame, kind: str) -> str:
    return str(next(a["id"] for a in frame["actions"] if a["kind"] == kind))


async def until(probe: Callable[[], Any], *, what: str, within_s: float = REPLY_WITHIN_S) -> Any:
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


async def open_user(bot: Bot, http: aiohttp.ClientSession) -> User:
    await bot.start()
    cookie = await sign_in(http, bot.url, "jane@acme.example", "demo-jane")
    page = WidgetPage(http, cookie, deadline_s=REPLY_WITHIN_S)
    await page.connect(bot.url)
    return User(page, bot)


async def restart(user: User) -> None:
    await user.bot.start()
    await user.reconnect()


async def fresh_transcript(user: User) -> list[Frame]:
    """What a freshly loaded page shows: the conversation as the store holds it."""
    page = WidgetPage(user.page.http, user.page.cookie, deadline_s=REPLY_WITHIN_S)
    await page.connect(user.bot.url)
    assert page.ws is not None
    await page.ws.close()
    return page.shown
