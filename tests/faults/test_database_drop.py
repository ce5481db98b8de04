"""The database connection dropped mid-turn (PostgreSQL): every connection of the bot is
terminated by the server (`pg_terminate_backend`) while a turn runs. The user still gets an
answer, the inbound message is kept once, and nothing is written twice.

Runs against the server named by TEST_DATABASE_URL, in a database of its own created for the
test; skips (and says why) when it is unset.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError

from bot.store import Store
from sandbox.runner import RunningSandbox
from tests.faults.chat import Chat, open_chat, user_texts
from tests.faults.ledger import LEDGER

PG_URL = os.environ.get("TEST_DATABASE_URL")
VPN_QUESTION = "How do I set up the VPN on my laptop?"

pytestmark = pytest.mark.skipif(
    not PG_URL, reason="TEST_DATABASE_URL is not set; this fault needs a PostgreSQL server"
)


def _server(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


@pytest.fixture
async def database() -> AsyncIterator[tuple[str, asyncpg.Connection]]:
    """A database for this test only (its name also tells which backends are the bot's)."""
    assert PG_URL is not None
    server = _server(PG_URL)
    name = f"hb_faults_dbdrop_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield name, admin
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def chat(
    sandbox: RunningSandbox, tmp_path: Path, database: tuple[str, asyncpg.Connection]
) -> AsyncIterator[Chat]:
    assert PG_URL is not None
    base, _, _ = PG_URL.rpartition("/")
    async with open_chat(sandbox, tmp_path, database_url=f"{base}/{database[0]}") as opened:
        await opened.link()
        yield opened


async def _terminate(database: tuple[str, asyncpg.Connection]) -> int:
    """Drop every connection to the bot's database, as a restarted server or a failover would."""
    name, admin = database
    killed = await admin.fetch(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
    )
    return sum(1 for row in killed if row[0])


async def _until_fault_used(chat: Chat) -> None:
    """Wait until the sandbox has taken the injected fault (its count went to 0)."""
    while True:
        faults = (await chat.backoffice.get("/sandbox/faults")).json()["faults"]
        if all(fault["count"] == 0 for fault in faults):
            return
        await asyncio.sleep(0.05)  # polling the back office for an event, under a deadline


async def _stored_once(chat: Chat, text: str) -> None:
    conversation = await chat.services.store.find_conversation("test", chat.conversation)
    assert conversation is not None
    stored = await chat.services.store.messages_after(conversation.id, after_seq=0)
    asked = [m for m in stored if m.role == "user" and m.content == text]
    assert len(asked) == 1, "the inbound message is kept exactly once"
    answers = [m for m in stored if m.reply_to_id == asked[0].id and m.role == "assistant"]
    assert len({m.content for m in answers}) == len(answers), "a reply was written twice"


async def test_connections_dropped_while_a_turn_waits_on_the_helpdesk(
    chat: Chat, database: tuple[str, asyncpg.Connection]
) -> None:
    await chat.say("Hi")
    await chat.inject(latency_ms=2000, path_prefix="/kb/articles", method="GET", count=1)
    turn = asyncio.create_task(chat.say(VPN_QUESTION))
    async with asyncio.timeout(30):
        await _until_fault_used(chat)
    assert await _terminate(database) >= 1, "the bot had no connection to drop"
    LEDGER.injected_here()
    texts = user_texts(await turn)
    assert any("vpn" in t.lower() for t in texts), texts
    await _stored_once(chat, VPN_QUESTION)
    mirrored = await chat.written("POST", f"/chat/{await _chat_id(chat)}/messages")
    LEDGER.writes(mirrored, expected=2)
    assert mirrored == 2, "each message is mirrored into the helpdesk chat once"


async def _chat_id(chat: Chat) -> int:
    conversation = await chat.services.store.find_conversation("test", chat.conversation)
    assert conversation is not None and conversation.helpdesk_chat_id is not None
    return conversation.helpdesk_chat_id


async def test_a_connection_dropped_in_the_middle_of_a_store_write(
    chat: Chat, database: tuple[str, asyncpg.Connection]
) -> None:
    """The turn's next write to the transcript is held on a table lock, and its connection
    is terminated while the statement waits: the write fails mid-transaction, before its
    COMMIT, so the store runs it once more on a fresh connection."""
    assert PG_URL is not None
    name, admin = database
    await chat.say("Hi")
    await chat.inject(latency_ms=1500, path_prefix="/kb/articles", method="GET", count=1)
    turn = asyncio.create_task(chat.say(VPN_QUESTION))
    locker = await asyncpg.connect(f"{_server(PG_URL).rpartition('/')[0]}/{name}")
    try:
        async with asyncio.timeout(30):
            await _until_fault_used(chat)
            async with locker.transaction():
                await locker.execute("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE")
                await _until_a_statement_waits_on(admin, name, locker.get_server_pid())
                killed = await admin.fetchval(
                    "SELECT count(*) FROM (SELECT pg_terminate_backend(pid)"
                    " FROM pg_stat_activity WHERE datname = $1 AND pid <> $2) AS t",
                    name,
                    locker.get_server_pid(),
                )
        assert killed >= 1
    finally:
        await locker.close()
    LEDGER.injected_here()
    texts = user_texts(await turn)
    assert any("vpn" in t.lower() for t in texts), texts
    await _stored_once(chat, VPN_QUESTION)


async def _until_a_statement_waits_on(
    admin: asyncpg.Connection, name: str, other: int, wait: str = "Lock"
) -> None:
    """Wait until one of the bot's statements waits on `wait` (a lock, a sleep)."""
    query = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> $2"
        " AND $3 IN (wait_event_type, wait_event)"
    )
    while True:
        if await admin.fetchval(query, name, other, wait):
            return
        await asyncio.sleep(0.05)  # polling the server for an event, under a deadline


async def test_a_connection_dropped_during_commit_is_not_written_again(
    database: tuple[str, asyncpg.Connection],
) -> None:
    """Dropped while its COMMIT runs, a write may or may not have happened: the store must
    not run it again (a retry could write it twice); the error reaches the caller."""
    assert PG_URL is not None
    name, admin = database
    store = await Store.open(f"{PG_URL.rpartition('/')[0]}/{name}")
    watcher = await asyncpg.connect(f"{_server(PG_URL).rpartition('/')[0]}/{name}")
    try:
        conversation = await store.get_or_create_conversation("test", "c-commit", user_key="u")
        await watcher.execute(_SLOW_COMMIT)  # a deferred trigger: it runs inside COMMIT
        write = asyncio.create_task(
            store.add_message(conversation.id, role="assistant", content="written once")
        )
        async with asyncio.timeout(30):
            await _until_a_statement_waits_on(admin, name, watcher.get_server_pid(), "PgSleep")
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> $2",
            name,
            watcher.get_server_pid(),
        )
        LEDGER.injected_here()
        with pytest.raises(DBAPIError):
            await write
        assert await watcher.fetchval("SELECT last_value FROM commit_attempts") == 1
    finally:
        await watcher.close()
        await store.aclose()


_SLOW_COMMIT = """
CREATE SEQUENCE commit_attempts;
CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM nextval('commit_attempts'); PERFORM pg_sleep(2); RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON messages
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_commit();
"""
