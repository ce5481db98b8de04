"""The Teams channel over the wire: Bot Framework Activity JSON posted to `/api/messages` of
the real aiohttp app, replies sent by the real botframework-connector client to a local
fake Bot Connector at the activity's `serviceUrl`.

Also home of `TeamsHarness` (the other `test_teams_*` modules import it): real services
over a sandbox helpdesk and its stand-in model, a real store, a real server on a free port.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from adapters.compose import Services, build_services
from adapters.server import TASKS, create_app
from adapters.tasks import TaskGroup
from bot.settings import Settings
from sandbox.runner import RunningSandbox
from tests.conftest import DEMO_PASSWORDS
from tests.fakes.bot_connector import BotConnectorFake

BOT_ID = "28:fake-bot-app-id"
TENANT = "tenant-1"
PERSONAL = "a:1personal-chat-jane"
CHANNEL_CONV = "19:general@thread.tacv2"
_ids = itertools.count(1)


def next_id() -> str:
    return f"{int(time.time() * 1000)}{next(_ids):03d}"


def activity(
    connector: BotConnectorFake,
    *,
    kind: str = "message",
    text: str | None = None,
    conversation: str = PERSONAL,
    conversation_type: str = "personal",
    user: str = "29:jane",
    aad: str = "aad-jane",
    service_url: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An activity as Teams posts it to the bot."""
    body: dict[str, Any] = {
        "type": kind,
        "id": extra.pop("id", None) or next_id(),
        "timestamp": "2025-01-01T10:00:00.000Z",
        "serviceUrl": service_url or connector.service_url,
        "channelId": "msteams",
        "from": {"id": user, "name": "Jane Smith", "aadObjectId": aad},
        "conversation": {
            "id": conversation,
            "conversationType": conversation_type,
            "tenantId": TENANT,
            "isGroup": conversation_type != "personal",
        },
        "recipient": {"id": BOT_ID, "name": "IT Helpdesk"},
        "channelData": {"tenant": {"id": TENANT}},
        "locale": "en-US",
    }
    if text is not None:
        body["text"] = text
        body["textFormat"] = "plain"
    return body | extra


@dataclass
class TeamsHarness:
    connector: BotConnectorFake
    services: Services
    tasks: TaskGroup
    http: httpx.AsyncClient
    sandbox: RunningSandbox

    async def post(self, body: dict[str, Any], **headers: str) -> httpx.Response:
        return await self.http.post(
            "/api/messages", json=body, headers={"Content-Type": "application/json"} | headers
        )

    async def say(self, text: str, **extra: Any) -> dict[str, Any]:
        body = activity(self.connector, text=text, **extra)
        response = await self.post(body)
        assert response.status_code in (200, 201, 202), response.text
        return body

    async def link(self, aad: str = "aad-jane", email: str = "jane@acme.example") -> None:
        await self.services.identities.link_with_password(
            "teams", f"teams:{aad}", username=email, password=DEMO_PASSWORDS[email]
        )

    async def settle(self) -> None:
        """Wait until every piece of work the activities started has finished."""
        await self.tasks.idle(timeout_s=60)

    async def replies(self, conversation: str, *, count: int = 1) -> list[dict[str, Any]]:
        """The bot's message activities in a conversation, once there are `count`."""

        def enough() -> list[dict[str, Any]] | None:
            found = self.connector.messages(conversation)
            return found if len(found) >= count else None

        return await self.connector.wait_for(enough, within=30)

    async def sandbox_requests(self, path: str, method: str) -> list[dict[str, Any]]:
        response = await self.http.get(
            f"{self.sandbox.base_url}/sandbox/requests",
            params={"path_prefix": path, "method": method},
        )
        rows: list[dict[str, Any]] = response.json()["requests"]
        return [row for row in rows if row["path"] == path]


def harness_settings(sandbox: RunningSandbox, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "helpdesk_base_url": sandbox.api_base,
        "openai_base_url": f"{sandbox.base_url}/v1",
        "openai_api_key": None,
        "llm_model": "sandbox-stand-in",
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "bot_secret_key": "test-secret-key",
        "bot_public_url": "http://127.0.0.1:9",
        "slack_bot_token": None,
        "microsoft_app_id": None,
        "teams_dev_mode": True,
    }
    return Settings(**(values | overrides))


class serve_teams:
    """The real server (create_app with the channels `serve` mounts) on a free port."""

    def __init__(
        self, sandbox: RunningSandbox, tmp_path: Path, connector: BotConnectorFake, **overrides: Any
    ) -> None:
        self._settings = harness_settings(sandbox, tmp_path, **overrides)
        self._sandbox = sandbox
        self._connector = connector

    async def __aenter__(self) -> TeamsHarness:
        self._services_cm = build_services(self._settings, model_stream_delay_s=0)
        services = await self._services_cm.__aenter__()
        app = create_app(services)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self._http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30)
        return TeamsHarness(self._connector, services, app[TASKS], self._http, self._sandbox)

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()
        await self._runner.cleanup()
        await self._services_cm.__aexit__(None, None, None)


@pytest.fixture(name="teams")
async def teams_fixture(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[TeamsHarness]:
    async with BotConnectorFake() as connector, serve_teams(sandbox, tmp_path, connector) as h:
        yield h


# --- tests --------------------------------------------------------------------------------


async def test_a_message_gets_typing_at_once_then_the_answer(teams: TeamsHarness) -> None:
    await teams.link()
    sent = await teams.say("My VPN keeps disconnecting, how do I fix it?")
    [answer] = await teams.replies(PERSONAL)
    assert "vpn" in answer["text"].lower()
    assert answer["textFormat"] == "markdown"
    assert answer["from"]["id"] == BOT_ID and answer["recipient"]["id"] == "29:jane"
    await teams.settle()
    posts = [r for r in teams.connector.calls("POST") if r.conversation_id == PERSONAL]
    assert posts[0].body is not None and posts[0].body["type"] == "typing"  # first, at once
    # Replies answer the user's activity: POST /v3/conversations/{id}/activities/{id}.
    assert posts[0].path == f"/v3/conversations/{PERSONAL}/activities/{sent['id']}"
    # Feedback buttons ride along as an Adaptive Card.
    [card] = [a for a in answer["attachments"] if a["contentType"].endswith("card.adaptive")]
    labels = [action["title"] for action in card["content"]["actions"]]
    assert labels[:2] == ["👍", "👎"]


async def test_the_bots_own_messages_and_empty_text_are_ignored(teams: TeamsHarness) -> None:
    own = activity(teams.connector, text="echo", user=BOT_ID)
    assert (await teams.post(own)).status_code == 201
    empty = activity(teams.connector, text="   ")
    assert (await teams.post(empty)).status_code == 201
    await teams.settle()
    assert teams.connector.requests == []


async def test_dev_mode_refuses_a_service_url_that_is_not_loopback(teams: TeamsHarness) -> None:
    body = activity(
        teams.connector, text="hello", service_url="https://smba.trafficmanager.net/amer/"
    )
    response = await teams.post(body)
    assert response.status_code == 403
    await teams.settle()
    assert teams.connector.requests == []


async def test_an_empty_authorization_header_is_served_in_dev_mode(teams: TeamsHarness) -> None:
    """The header is passed to botbuilder as None when empty (its anonymous path)."""
    await teams.link()
    response = await teams.post(activity(teams.connector, text="hello"), Authorization="")
    assert response.status_code == 201
    await teams.replies(PERSONAL)


async def test_a_redelivered_activity_is_answered_once(teams: TeamsHarness) -> None:
    await teams.link()
    body = activity(teams.connector, text="My VPN keeps disconnecting, how do I fix it?")
    first, second = await asyncio.gather(teams.post(body), teams.post(body))
    assert (first.status_code, second.status_code) == (201, 201)
    await teams.settle()
    third = await teams.post(body)  # Teams retries what it did not see answered in 15 s
    assert third.status_code == 201
    await teams.settle()
    assert len(teams.connector.messages(PERSONAL)) == 1


def forged_jwt() -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    header = {"alg": "RS256", "typ": "JWT", "kid": "forged-key"}
    claims = {
        "iss": "https://api.botframework.com",
        "aud": "app-id-123",
        "serviceurl": "http://127.0.0.1:1/",
        "exp": int(time.time()) + 600,
        "nbf": int(time.time()) - 10,
    }
    return f"{part(header)}.{part(claims)}.{base64.urlsafe_b64encode(b'sig').decode().rstrip('=')}"


async def test_with_an_app_id_unauthenticated_and_forged_requests_are_refused(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    overrides = {
        "microsoft_app_id": "app-id-123",
        "microsoft_app_password": "app-secret",
        "teams_dev_mode": False,
    }
    async with (
        BotConnectorFake() as connector,
        serve_teams(sandbox, tmp_path, connector, **overrides) as teams,
    ):
        body = activity(connector, text="hello")
        assert (await teams.post(body)).status_code == 401
        assert (await teams.post(body, Authorization="")).status_code == 401
        forged = await teams.post(body, Authorization=f"Bearer {forged_jwt()}")
        assert forged.status_code == 401
        await teams.settle()
        assert connector.requests == []
