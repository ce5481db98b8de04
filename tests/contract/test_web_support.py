"""Shared pieces of the widget contract tests: the real app over a sandbox, and frame waits.

The app is `create_app(services, channels=[web_channel])` over services built by
`adapters.compose.build_services` against a fresh sandbox helpdesk and its stand-in model
(real HTTP, real store on a SQLite file). Frames are read with a deadline, never a sleep.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.compose import Services, build_services
from adapters.server import create_app
from adapters.web import channel as web_channel
from adapters.web.session import hash_session
from bot.settings import Settings
from sandbox.runner import RunningSandbox
from tests.conftest import DEMO_PASSWORDS

Frame = dict[str, Any]
DEADLINE_S = 30.0
EVIL = "http://evil.example"


def settings_for(sandbox: RunningSandbox, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "helpdesk_base_url": sandbox.api_base,
        "openai_base_url": f"{sandbox.base_url}/v1",
        "openai_api_key": None,
        "llm_model": "sandbox-stand-in",
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "bot_secret_key": "web-test-secret",
        "bot_public_url": "http://bot.test",
        "widget_allowed_origins": [],
    }
    return Settings(**(values | overrides))


@dataclass
class WebApp:
    client: TestClient[aiohttp.web.Request, aiohttp.web.Application]
    services: Services
    sandbox: RunningSandbox
    http: httpx.AsyncClient

    @property
    def origin(self) -> str:
        """The origin the test server was reached at (a same-origin page)."""
        return str(self.client.make_url("/")).rstrip("/")

    async def sign_in(
        self, email: str = "jane@acme.example", password: str | None = None, **headers: str
    ) -> aiohttp.ClientResponse:
        body = {"email": email, "password": password or DEMO_PASSWORDS[email]}
        return await self.client.post("/widget/session", json=body, headers=headers)

    async def connect(
        self, last_seq: int | None = 0, **headers: str
    ) -> aiohttp.ClientWebSocketResponse:
        ws = await self.client.ws_connect("/widget/ws", headers=headers)
        if last_seq is not None:
            await ws.send_json({"type": "hello", "last_seq": last_seq})
            await until(ws, lambda f: f["type"] == "ready")
        return ws

    def cookie(self) -> str | None:
        """The session cookie's value as the browser holds it."""
        for morsel in self.client.session.cookie_jar:
            if morsel.key == "helpdesk_widget":
                return morsel.value
        return None

    async def user_key(self) -> str:
        """The signed-in widget user's key, which is also the conversation key."""
        value = self.cookie()
        assert value, "not signed in"
        session = await self.services.store.get_web_session(hash_session(value))
        assert session is not None
        identity = await self.services.store.get_identity_by_id(session.identity_id)
        assert identity is not None
        return identity.channel_user_id

    async def conversation_id(self) -> int:
        conversation = await self.services.store.find_conversation("web", await self.user_key())
        assert conversation is not None
        return conversation.id

    async def helpdesk_requests(self, path_prefix: str, method: str) -> list[dict[str, Any]]:
        response = await self.http.get(
            f"{self.sandbox.base_url}/sandbox/requests",
            params={"path_prefix": path_prefix, "method": method},
        )
        response.raise_for_status()
        rows: list[dict[str, Any]] = response.json()["requests"]
        return rows

    async def model_calls(self) -> int:
        response = await self.http.get(f"{self.sandbox.base_url}/sandbox/model/requests")
        response.raise_for_status()
        return len(response.json()["requests"])


@asynccontextmanager
async def open_web_app(sandbox: RunningSandbox, settings: Settings) -> AsyncIterator[WebApp]:
    async with (
        build_services(settings, model_stream_delay_s=0) as services,
        httpx.AsyncClient(timeout=10) as http,
    ):
        app = create_app(services, channels=[web_channel])
        async with TestClient(TestServer(app)) as client:
            yield WebApp(client=client, services=services, sandbox=sandbox, http=http)


@pytest.fixture
async def web_app(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[WebApp]:
    async with open_web_app(sandbox, settings_for(sandbox, tmp_path)) as app:
        yield app


def client_id() -> str:
    return uuid.uuid4().hex


async def receive(ws: aiohttp.ClientWebSocketResponse) -> Frame:
    message = await ws.receive()
    if message.type != aiohttp.WSMsgType.TEXT:
        raise AssertionError(f"the socket closed or sent no text: {message.type} {message.data}")
    frame: Frame = json.loads(message.data)
    return frame


async def until(
    ws: aiohttp.ClientWebSocketResponse,
    last: Callable[[Frame], bool],
    *,
    deadline_s: float = DEADLINE_S,
) -> list[Frame]:
    """Every frame up to and including the first that `last` accepts."""
    frames: list[Frame] = []
    async with asyncio.timeout(deadline_s):
        while True:
            frames.append(await receive(ws))
            if last(frames[-1]):
                return frames


async def turn(
    ws: aiohttp.ClientWebSocketResponse, frame: Frame, *, deadline_s: float = DEADLINE_S
) -> list[Frame]:
    """Send a message or action frame; every frame until its turn is done."""
    await ws.send_json(frame)
    cid = frame["client_id"]
    return await until(
        ws,
        lambda f: (
            f["type"] in ("done", "rejected") and cid in (f.get("reply_to"), f.get("client_id"))
        ),
        deadline_s=deadline_s,
    )


def say(text: str, cid: str | None = None) -> Frame:
    return {"type": "message", "client_id": cid or client_id(), "text": text}


def press(action_id: str, value: str | None = None, cid: str | None = None) -> Frame:
    return {
        "type": "action",
        "client_id": cid or client_id(),
        "action_id": action_id,
        "value": value,
    }


def transcript(frames: list[Frame]) -> list[Frame]:
    """The frames that carry a transcript seq."""
    return [f for f in frames if isinstance(f.get("seq"), int)]
