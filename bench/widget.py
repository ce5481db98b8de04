"""Widget scale: many widget sockets held open on the server, some of them chatting.

Each socket is its own signed-in visitor: a session cookie from `POST /widget/session` with
a helpdesk access token, as a portal embedding the widget passes it. The server limits
sign-ins per client address, so each visitor signs in from an address of its own on the
loopback network (127.1.x.y), as visitors behind their own connections do.

Memory per socket is the serving process's resident set with every socket open and synced
(`hello` answered by `ready`) minus before any was opened, divided by their number. A
process's resident set rarely shrinks, so memory freed earlier would hide the sockets' cost:
the visitors sign in on one server and the sockets are opened on a fresh one over the same
store (the sessions live there), warmed by one socket and one chat first. Latency is from
sending a `message` frame to the assistant's answer (`message` with `reply_to`) arriving
on that socket.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import aiohttp
import httpx

from bench.meter import cpu_seconds, percentile, rss_kb
from bench.workload import PASSWORD, SHORT_MESSAGE, USER

COOKIE = "helpdesk_widget"
SIGN_IN_AT_ONCE = 20
SOCKET_TIMEOUT_S = 120.0
IDLE_WINDOW_S = 5.0


def visitor_address(number: int) -> str:
    return f"127.1.{number // 250}.{number % 250 + 1}"


async def helpdesk_token(api: str) -> str:
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            f"{api}/auth/login", json={"username": USER, "password": PASSWORD}
        )
        response.raise_for_status()
        return str(response.json()["access_token"])


async def sign_in(base_url: str, number: int, token: str) -> str:
    """A new visitor's session cookie value."""
    transport = httpx.AsyncHTTPTransport(local_address=visitor_address(number))
    async with httpx.AsyncClient(base_url=base_url, transport=transport, timeout=60) as http:
        response = await http.post(
            "/widget/session", json={"access_token": token}, headers={"Origin": base_url}
        )
        response.raise_for_status()
        value = response.cookies.get(COOKIE)
        if not value:
            raise RuntimeError("the widget sign-in set no session cookie")
        return value


async def sign_in_all(base_url: str, api: str, count: int) -> list[str]:
    """`count` visitors' session cookies (the server keeps the sessions in its store)."""
    token = await helpdesk_token(api)
    slots = asyncio.Semaphore(SIGN_IN_AT_ONCE)

    async def one(number: int) -> str:
        async with slots:
            return await sign_in(base_url, number, token)

    return await asyncio.gather(*(one(n) for n in range(count)))


async def next_frame(
    ws: aiohttp.ClientWebSocketResponse, wanted: str, **match: Any
) -> dict[str, Any]:
    """The next frame of type `wanted` (and these fields), skipping the others."""
    async with asyncio.timeout(SOCKET_TIMEOUT_S):
        while True:
            message = await ws.receive()
            if message.type != aiohttp.WSMsgType.TEXT:
                raise RuntimeError(f"widget socket ended: {message.type}")
            frame: dict[str, Any] = json.loads(message.data)
            if frame.get("type") == wanted and all(frame.get(k) == v for k, v in match.items()):
                return frame


@asynccontextmanager
async def open_sockets(
    base_url: str, cookies: list[str]
) -> AsyncIterator[list[aiohttp.ClientWebSocketResponse]]:
    async with AsyncExitStack() as stack:
        connector = aiohttp.TCPConnector(limit=0)
        session = await stack.enter_async_context(aiohttp.ClientSession(connector=connector))

        async def one(cookie: str) -> aiohttp.ClientWebSocketResponse:
            ws = await session.ws_connect(
                f"{base_url}/widget/ws",
                headers={"Origin": base_url, "Cookie": f"{COOKIE}={cookie}"},
                heartbeat=None,
            )
            stack.push_async_callback(ws.close)
            await ws.send_json({"type": "hello", "last_seq": 0})
            await next_frame(ws, "ready")
            return ws

        sockets = []
        for start in range(0, len(cookies), 100):  # opened in waves, held all at once
            sockets += await asyncio.gather(*(one(c) for c in cookies[start : start + 100]))
        yield sockets


async def idle_cpu_share(pid: int) -> float:
    """The share of one core the server uses while nobody writes (over a fixed window)."""
    started, cpu = time.monotonic(), cpu_seconds(pid)
    await asyncio.sleep(IDLE_WINDOW_S)  # the measurement window itself
    return (cpu_seconds(pid) - cpu) / (time.monotonic() - started)


async def chat_once(ws: aiohttp.ClientWebSocketResponse) -> float:
    client_id = uuid.uuid4().hex
    started = time.perf_counter()
    await ws.send_json({"type": "message", "client_id": client_id, "text": SHORT_MESSAGE})
    await next_frame(ws, "message", reply_to=client_id)
    return (time.perf_counter() - started) * 1000


async def widget_scale(
    base_url: str, server_pid: int, cookies: list[str], *, chatting: int, rounds: int
) -> dict[str, Any]:
    """`cookies[0]` warms the server up; a socket for each of the others is held open."""
    async with open_sockets(base_url, cookies[:1]) as warm:  # code paths loaded once
        await chat_once(warm[0])
    before = rss_kb(server_pid)
    idle_cpu_before = await idle_cpu_share(server_pid)
    async with open_sockets(base_url, cookies[1:]) as held:
        after = rss_kb(server_pid)
        idle_cpu_with_sockets = await idle_cpu_share(server_pid)
        latencies: list[float] = []
        for _ in range(rounds):
            latencies += await asyncio.gather(*(chat_once(ws) for ws in held[:chatting]))
        after_chat = rss_kb(server_pid)
    return {
        "sockets": len(held),
        "chatting": chatting,
        "messages": len(latencies),
        "rss_before_mb": round(before / 1024, 1),
        "rss_with_sockets_mb": round(after / 1024, 1),
        "rss_after_chat_mb": round(after_chat / 1024, 1),
        "rss_per_socket_kb": round((after - before) / len(held), 1),
        "idle_cpu_percent_without_sockets": round(idle_cpu_before * 100, 1),
        "idle_cpu_percent_with_sockets": round(idle_cpu_with_sockets * 100, 1),
        "message_p50_ms": round(percentile(latencies, 50), 1),
        "message_p99_ms": round(percentile(latencies, 99), 1),
    }
