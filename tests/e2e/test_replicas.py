"""Two `helpdesk-bot serve` replicas on one PostgreSQL: the relay survives losing one.

A widget user asks for a human; the agent answers from the sandbox back office; the replica
holding the relay lease is killed (SIGKILL, mid-relay); the other takes the lease over
within its TTL and goes on from the cursor. The user sees every agent message exactly once,
in order, and the store holds each exactly once.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from sandbox.runner import SandboxThread
from tests.serve_process import (
    ServeProcess,
    WidgetPage,
    postgres_database,
    sign_in,
    start_serve,
    wait_ready,
)

DATABASE = os.environ.get("TEST_DATABASE_URL")
pytestmark = pytest.mark.skipif(
    not DATABASE,
    reason="TEST_DATABASE_URL is not set; the multi-replica test needs a PostgreSQL server, "
    "e.g. TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test",
)
DEADLINE_S = 45.0


@pytest.fixture
async def database() -> AsyncIterator[str]:
    assert DATABASE is not None
    async with postgres_database(DATABASE, prefix="hb_replicas") as url:
        yield url


@pytest.fixture
def sandbox() -> Iterator[SandboxThread]:
    with SandboxThread() as running:
        yield running


@pytest.fixture
async def replicas(
    database: str, sandbox: SandboxThread, tmp_path: Path
) -> AsyncIterator[list[ServeProcess]]:
    def start(name: str) -> ServeProcess:
        return start_serve(
            database=database,
            helpdesk_api=sandbox.api_base,
            model_base_url=f"{sandbox.base_url}/v1",
            workdir=tmp_path,
            name=name,
        )

    first = start("a")
    await wait_ready(first)  # the first one migrates the database
    second = start("b")
    started = [first, second]
    try:
        await wait_ready(second)
        yield started
    finally:
        for replica in started:
            replica.stop()


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
    replicas: list[ServeProcess], sandbox: SandboxThread, database: str
) -> None:
    first, second = replicas
    async with aiohttp.ClientSession() as http:
        cookie = await sign_in(http, first.url, "jane@acme.example", "demo-jane")
        page = WidgetPage(http, cookie, deadline_s=DEADLINE_S)
        await page.connect(first.url)
        await page.send(
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
        victim.kill()
        await agent("three")

        if victim is first:  # the page's socket died with its server: reconnect elsewhere
            page.dropped()
            await page.connect(survivor.url)
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
