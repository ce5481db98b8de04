"""Two `helpdesk-bot serve` replicas on one PostgreSQL: the relay survives losing one.

A widget user asks for a human; the agent answers from the sandbox back office; the replica
holding the relay lease is killed (SIGKILL, mid-relay); the other takes the lease over
within its TTL and goes on from the cursor. The user sees every agent message exactly once,
in order, and the store holds each exactly once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import httpx
import pytest

from sandbox.runner import SandboxThread

DATABASE = os.environ.get("TEST_DATABASE_URL")
pytestmark = pytest.mark.skipif(
    not DATABASE,
    reason="TEST_DATABASE_URL is not set; the multi-replica test needs a PostgreSQL server, "
    "e.g. TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test",
)
SECRET = "replica-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
DEADLINE_S = 45.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Replica:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.process.poll() is None


@pytest.fixture
async def database() -> AsyncIterator[str]:
    assert DATABASE is not None
    server = DATABASE.replace("postgresql+asyncpg://", "postgresql://")
    name = f"hb_replicas_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        base, _, _ = DATABASE.rpartition("/")
        yield f"{base}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
def sandbox() -> Iterator[SandboxThread]:
    with SandboxThread() as running:
        yield running


def _start(database: str, sandbox: SandboxThread, tmp_path: Path, name: str) -> Replica:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "LLM_", "BOT_"))}
    env |= {
        "HELPDESK_BASE_URL": sandbox.api_base,
        "OPENAI_BASE_URL": f"{sandbox.base_url}/v1",
        "LLM_MODEL": "sandbox-stand-in",
        "DATABASE_URL": database,
        "BOT_SECRET_KEY": SECRET,
        "BOT_PUBLIC_URL": url,
    }
    log = tmp_path / f"{name}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "adapters.cli", "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    return Replica(url=url, process=process, log=log)


async def _ready(replica: Replica) -> None:
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            assert replica.alive(), replica.log.read_text()[-3000:]
            with suppress(httpx.HTTPError):
                if (await http.get(f"{replica.url}/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise AssertionError("replica not ready:\n" + replica.log.read_text()[-3000:])


@pytest.fixture
async def replicas(
    database: str, sandbox: SandboxThread, tmp_path: Path
) -> AsyncIterator[list[Replica]]:
    first = _start(database, sandbox, tmp_path, "a")
    await _ready(first)  # the first one migrates the database
    second = _start(database, sandbox, tmp_path, "b")
    started = [first, second]
    try:
        await _ready(second)
        yield started
    finally:
        for replica in started:
            if replica.alive():
                replica.process.send_signal(signal.SIGTERM)
        for replica in started:
            with suppress(subprocess.TimeoutExpired):
                replica.process.wait(timeout=15)
            if replica.alive():
                replica.process.kill()


class Page:
    """The widget's protocol as its page speaks it: hello with the last seq, collect frames."""

    def __init__(self, http: aiohttp.ClientSession, cookie: str) -> None:
        self.http = http
        self.cookie = cookie
        self.last_seq = 0
        self.agent: list[tuple[int, str]] = []
        self.ws: aiohttp.ClientWebSocketResponse | None = None

    async def connect(self, replica: Replica) -> None:
        self.ws = await self.http.ws_connect(
            f"{replica.url}/widget/ws", headers={"Origin": replica.url, "Cookie": self.cookie}
        )
        await self.ws.send_json({"type": "hello", "last_seq": self.last_seq})
        await self.until(lambda frame: frame["type"] == "ready")

    async def until(self, done: Any) -> dict[str, Any]:
        assert self.ws is not None
        async with asyncio.timeout(DEADLINE_S):
            while True:
                frame = await self.ws.receive_json()
                seq = frame.get("seq")
                if isinstance(seq, int):
                    if seq <= self.last_seq:
                        continue  # a row this page already shows
                    self.last_seq = seq
                    if frame["type"] == "agent":
                        self.agent.append((seq, frame["text"]))
                if done(frame):
                    return dict(frame)


async def _relay_holder(database: str) -> str | None:
    connection = await asyncpg.connect(database.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        row = await connection.fetchrow(
            "SELECT holder FROM leases WHERE name LIKE 'relay:%' AND expires_at > now()"
        )
        return str(row["holder"]) if row else None
    finally:
        await connection.close()


async def test_the_relay_survives_losing_the_replica_that_holds_it(
    replicas: list[Replica], sandbox: SandboxThread, database: str
) -> None:
    first, second = replicas
    async with aiohttp.ClientSession() as http:
        signed_in = await http.post(
            f"{first.url}/widget/session",
            json={"email": "jane@acme.example", "password": "demo-jane"},
            headers={"Origin": first.url},
        )
        assert signed_in.status == 200, await signed_in.text()
        cookie = "; ".join(f"{c.key}={c.value}" for c in signed_in.cookies.values())
        page = Page(http, cookie)
        await page.connect(first)
        assert page.ws is not None
        await page.ws.send_json(
            {"type": "message", "client_id": uuid.uuid4().hex, "text": "I want to talk to a person"}
        )
        await page.until(lambda f: f["type"] == "handoff" and f.get("state") == "queued")
        waiting = await http.get(
            f"{sandbox.base_url}/sandbox/chats", params={"status": "waiting_agent"}
        )
        chats = (await waiting.json())["chats"]
        [chat] = [c for c in chats if c["user_email"] == "jane@acme.example"]

        async def agent(text: str) -> None:
            posted = await http.post(
                f"{sandbox.base_url}/sandbox/chats/{chat['chat_id']}/agent-messages",
                json={"message": text, "agent_name": "Mike Tech"},
            )
            assert posted.status == 201, await posted.text()

        await agent("one")
        await page.until(lambda f: f["type"] == "agent" and f["text"] == "one")
        holder = await _relay_holder(database)
        assert holder is not None
        victim = next(r for r in replicas if f":{r.process.pid}:" in holder)
        survivor = second if victim is first else first

        await agent("two")  # written while the holder dies: the survivor must pick it up
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait(timeout=10)
        await agent("three")

        if victim is first:  # the page's socket died with its server: reconnect elsewhere
            page.ws = None
            await page.connect(survivor)
        await page.until(lambda f: f["type"] == "agent" and f["text"] == "three")

        assert [text for _, text in page.agent] == ["one", "two", "three"]
        stored = await _agent_rows(database)
        assert stored == ["one", "two", "three"]


async def _agent_rows(database: str) -> list[str]:
    connection = await asyncpg.connect(database.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        rows = await connection.fetch(
            "SELECT content FROM messages WHERE role = 'agent' ORDER BY seq"
        )
        return [str(row["content"]) for row in rows]
    finally:
        await connection.close()
