"""The widget follower: idle sockets cost one store statement per tick, whatever their number;
only sockets of human-owned conversations that are behind get synced.

Real app, real engine, real store (SQLite), the sandbox helpdesk. The app's own follower
loop is paused so the test drives `tick()` itself; statements are counted on the store's
engine, for the tick's own task only (the app's relay runs beside it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp
from sqlalchemy import event
from sqlalchemy.engine import Engine as SyncEngine

from adapters.web.app import WEB_FOLLOWER
from adapters.web.follower import WidgetFollower
from bot.messages import AgentMessage
from bot.replay import persist_reply
from tests.contract.test_web_support import WebApp, press, say, turn, until, web_app

__all__ = ["web_app"]

VPN = "My VPN keeps disconnecting, how do I fix it?"
VISITORS = ["jane@acme.example", "mike@acme.example", "sam@acme.example", "priya@acme.example"]


@contextmanager
def statements_of(task_box: list[asyncio.Task[Any]]) -> Iterator[list[str]]:
    """SQL queries (transaction control left out) run while the task in `task_box` ran."""
    seen: list[str] = []

    def on_statement(*args: Any) -> None:
        task = asyncio.current_task() if _loop_running() else None
        if task_box and task is task_box[0] and str(args[2]).lstrip().startswith("SELECT"):
            seen.append(str(args[2]))

    event.listen(SyncEngine, "before_cursor_execute", on_statement)
    try:
        yield seen
    finally:
        event.remove(SyncEngine, "before_cursor_execute", on_statement)


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def counted_tick(follower: WidgetFollower) -> tuple[int, list[str]]:
    """One follower tick in its own task: (conversations synced, its SQL queries)."""
    box: list[asyncio.Task[Any]] = []
    with statements_of(box) as seen:
        box.append(asyncio.ensure_future(follower.tick()))
        synced = await box[0]
    return synced, seen


async def paused_follower(web_app: WebApp) -> WidgetFollower:
    follower = web_app.client.app[WEB_FOLLOWER]
    follower.paused = True
    await follower.tick()  # waits out a tick the loop had already started
    return follower


async def open_visitors(web_app: WebApp) -> list[aiohttp.ClientWebSocketResponse]:
    sockets = []
    for email in VISITORS:
        await web_app.sign_in(email)
        sockets.append(await web_app.connect())
        sockets.append(await web_app.connect())  # a second tab
    return sockets


async def test_idle_sockets_cost_one_statement_per_tick_and_nothing_is_synced(
    web_app: WebApp,
) -> None:
    follower = await paused_follower(web_app)
    sockets = await open_visitors(web_app)
    await turn(sockets[-1], say(VPN))  # one visitor has a bot-owned conversation with rows

    synced, seen = await counted_tick(follower)

    assert synced == 0
    assert len(seen) == 1, seen  # not one per socket or per conversation
    assert "conversations" in seen[0]


async def test_a_handoff_socket_behind_is_synced_once_and_then_left_alone(
    web_app: WebApp,
) -> None:
    follower = await paused_follower(web_app)
    sockets = await open_visitors(web_app)  # the last two are priya's tabs
    await turn(sockets[-1], say(VPN))
    await turn(sockets[-1], press("talk_to_human"))
    store = web_app.services.store
    conversation_id = await web_app.conversation_id()
    assert await store.set_owner(conversation_id, expected="queued", new="human")
    assert (await counted_tick(follower))[0] == 0  # in handoff, but nobody is behind

    # Written as another replica's relay does: only in the store.
    await persist_reply(store, conversation_id, AgentMessage("Dana Support", "Hi, Dana here."))
    synced, _ = await counted_tick(follower)
    again, seen = await counted_tick(follower)

    assert synced == 1
    for ws in sockets[-2:]:
        frames = await until(ws, lambda f: f["type"] == "agent")
        assert [f["text"] for f in frames if f["type"] == "agent"] == ["Hi, Dana here."]
    assert again == 0 and len(seen) == 1, seen  # caught up: no transcript read


async def test_rows_written_just_before_the_handoff_ended_still_arrive(web_app: WebApp) -> None:
    follower = await paused_follower(web_app)
    await web_app.sign_in()
    ws = await web_app.connect()
    await turn(ws, say(VPN))
    await turn(ws, press("talk_to_human"))
    store = web_app.services.store
    conversation_id = await web_app.conversation_id()
    assert await store.set_owner(conversation_id, expected="queued", new="human")
    await follower.tick()  # followed while a human owns it

    # Another replica's relay stores the agent's last words, then the chat goes back to the bot.
    await persist_reply(store, conversation_id, AgentMessage("Dana Support", "All fixed, bye."))
    assert await store.set_owner(conversation_id, expected="human", new="bot")
    synced, _ = await counted_tick(follower)

    assert synced == 1
    frames = await until(ws, lambda f: f["type"] == "agent")
    assert [f["text"] for f in frames if f["type"] == "agent"] == ["All fixed, bye."]
