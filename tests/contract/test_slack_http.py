"""The Slack channel over the wire: signed requests to `POST /slack/events` on the real
aiohttp app, the real `AsyncWebClient` against a local fake Web API, Socket Mode.

Also home of `SlackHarness` (the other `test_slack_*` modules import it): real services
over a sandbox helpdesk and its stand-in model, a real store, a real server on a free
port, requests signed with `slack_sdk.signature.SignatureVerifier`.
"""

from __future__ import annotations

import itertools
import json
import re
import time
import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from adapters.channel import Channel
from adapters.compose import Services, build_services
from adapters.linking.pages import CSRF_FIELD
from adapters.server import CHANNELS, TASKS, create_app
from adapters.tasks import TaskGroup
from bot.settings import Settings
from sandbox.runner import RunningSandbox
from tests.conftest import DEMO_PASSWORDS
from tests.fakes.slack_api import (
    APP_ID,
    APP_TOKEN,
    BOT_TOKEN,
    BOT_USER_ID,
    TEAM_ID,
    Posted,
    SlackApiFake,
)

SIGNING_SECRET = "fake-signing-secret"
DM = "DU1"  # the bot's DM with U1
_ids = itertools.count(1)


def next_ts() -> str:
    return f"{int(time.time()) - 100}.{next(_ids):06d}"


@dataclass
class SlackHarness:
    fake: SlackApiFake
    services: Services
    tasks: TaskGroup
    http: httpx.AsyncClient
    sandbox: RunningSandbox
    verifier: SignatureVerifier = field(default_factory=lambda: SignatureVerifier(SIGNING_SECRET))
    channels: dict[str, Channel] = field(default_factory=dict)  # what the app mounted

    # --- requests as Slack sends them ---------------------------------------------------

    def signed_headers(self, body: str, *, timestamp: int | None = None) -> dict[str, str]:
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        return {
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": self.verifier.generate_signature(timestamp=stamp, body=body),
        }

    async def post_event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None
    ) -> httpx.Response:
        body = json.dumps(event_body(event, event_id or f"Ev{next(_ids):08d}"))
        headers = {"Content-Type": "application/json", **self.signed_headers(body)}
        if retry is not None:  # https://docs.slack.dev/apis/events-api#retries
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return await self.http.post("/slack/events", content=body, headers=headers)

    async def post_form(self, fields: dict[str, str]) -> httpx.Response:
        body = urllib.parse.urlencode(fields)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            **self.signed_headers(body),
        }
        return await self.http.post("/slack/events", content=body, headers=headers)

    async def post_interaction(self, payload: dict[str, Any]) -> httpx.Response:
        return await self.post_form({"payload": json.dumps(payload)})

    async def command(self, text: str, *, user: str = "U1") -> httpx.Response:
        return await self.post_form(
            {
                "token": "legacy",
                "team_id": TEAM_ID,
                "team_domain": "fake",
                "channel_id": "C1",
                "channel_name": "general",
                "user_id": user,
                "user_name": "jane",
                "command": "/helpdesk",
                "text": text,
                "api_app_id": APP_ID,
                "response_url": self.fake.response_url(),
                "trigger_id": f"trigger-{next(_ids)}",
            }
        )

    # --- state --------------------------------------------------------------------------

    async def link(self, user: str = "U1", email: str = "jane@acme.example") -> None:
        await self.services.identities.link_with_password(
            "slack", f"slack:{TEAM_ID}:{user}", username=email, password=DEMO_PASSWORDS[email]
        )

    async def link_through_page(self, url: str, email: str = "jane@acme.example") -> None:
        """Sign in on the link page a link button points at, as the person would."""
        path = urllib.parse.urlsplit(url).path
        page = await self.http.get(path)
        assert page.status_code == 200, page.text
        match = re.search(rf'name="{CSRF_FIELD}" value="([^"]+)"', page.text)
        assert match is not None, page.text
        form = {"username": email, "password": DEMO_PASSWORDS[email], CSRF_FIELD: match[1]}
        done = await self.http.post(path, data=form)
        assert done.status_code == 200, done.text

    async def settle(self) -> None:
        """Wait until every piece of work the events started has finished."""
        await self.tasks.idle(timeout_s=60)

    async def answer_in(self, channel: str, thread_ts: str, *, count: int = 1) -> list[Posted]:
        """The bot's finished messages in a thread, once there are `count` of them."""

        def done() -> list[Posted] | None:
            posted = [
                m
                for m in self.fake.thread(channel, thread_ts)
                if not m.streaming and m.markdown and m.ts != thread_ts
            ]
            return posted if len(posted) >= count else None

        return await self.fake.wait_for(done, within=30)

    async def sandbox_requests(self, path: str, method: str) -> list[dict[str, Any]]:
        response = await self.http.get(
            f"{self.sandbox.base_url}/sandbox/requests",
            params={"path_prefix": path, "method": method},
        )
        rows: list[dict[str, Any]] = response.json()["requests"]
        return [row for row in rows if row["path"] == path]


def event_body(event: dict[str, Any], event_id: str) -> dict[str, Any]:
    return {
        "token": "legacy",
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
    }


def dm_event(text: str, *, user: str = "U1", ts: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "channel": f"D{user}",
        "user": user,
        "text": text,
        "ts": ts or next_ts(),
        "channel_type": "im",
        "team": TEAM_ID,
        **extra,
    }


def channel_event(
    text: str, *, kind: str = "message", user: str = "U1", channel: str = "C1", **extra: Any
) -> dict[str, Any]:
    event = {
        "type": kind,
        "channel": channel,
        "user": user,
        "text": text,
        "ts": extra.pop("ts", None) or next_ts(),
        "team": TEAM_ID,
        **extra,
    }
    if kind == "message":
        event["channel_type"] = "channel"
    return event


@pytest.fixture(name="slack")
async def slack_fixture(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[SlackHarness]:
    async with SlackApiFake() as fake, _serve(sandbox, tmp_path, fake) as harness:
        yield harness


def harness_settings(
    sandbox: RunningSandbox, tmp_path: Path, fake: SlackApiFake, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "helpdesk_base_url": sandbox.api_base,
        "openai_base_url": f"{sandbox.base_url}/v1",
        "openai_api_key": None,
        "llm_model": "sandbox-stand-in",
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "bot_secret_key": "test-secret-key",
        "bot_public_url": "http://127.0.0.1:9",
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_app_token": None,
        "slack_api_url": fake.api_url.rstrip("/"),  # as a deployer writes it
    }
    return Settings(**(values | overrides))


class _serve:
    """The real server (create_app + the Slack mount) on a free port, and a client for it."""

    def __init__(
        self, sandbox: RunningSandbox, tmp_path: Path, fake: SlackApiFake, **overrides: Any
    ) -> None:
        self._settings = harness_settings(sandbox, tmp_path, fake, **overrides)
        self._sandbox = sandbox
        self._fake = fake

    async def __aenter__(self) -> SlackHarness:
        self._services_cm = build_services(self._settings, model_stream_delay_s=0)
        services = await self._services_cm.__aenter__()
        app = create_app(services)  # the channels `serve` mounts for these settings
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self._http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30)
        return SlackHarness(
            self._fake, services, app[TASKS], self._http, self._sandbox, channels=app[CHANNELS]
        )

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()
        await self._runner.cleanup()
        await self._services_cm.__aexit__(None, None, None)


# --- tests --------------------------------------------------------------------------------


async def test_url_verification_is_answered_with_the_challenge(slack: SlackHarness) -> None:
    body = json.dumps({"token": "legacy", "challenge": "c-123", "type": "url_verification"})
    response = await slack.http.post(
        "/slack/events",
        content=body,
        headers={"Content-Type": "application/json", **slack.signed_headers(body)},
    )
    assert response.status_code == 200
    assert response.json() == {"challenge": "c-123"}


async def test_a_bad_signature_is_refused(slack: SlackHarness) -> None:
    body = json.dumps(event_body(dm_event("hello"), "EvBad"))
    headers = {"Content-Type": "application/json", **slack.signed_headers(body)}
    headers["X-Slack-Signature"] = "v0=" + "0" * 64
    response = await slack.http.post("/slack/events", content=body, headers=headers)
    assert response.status_code == 401
    await slack.settle()
    assert slack.fake.calls_to("chat.startStream") == []
    assert slack.fake.calls_to("chat.postMessage") == []


async def test_an_old_timestamp_is_refused_even_when_correctly_signed(slack: SlackHarness) -> None:
    body = json.dumps(event_body(dm_event("hello"), "EvOld"))
    headers = {
        "Content-Type": "application/json",
        **slack.signed_headers(body, timestamp=int(time.time()) - 600),
    }
    response = await slack.http.post("/slack/events", content=body, headers=headers)
    assert response.status_code == 401


async def test_a_body_changed_after_signing_is_refused(slack: SlackHarness) -> None:
    body = json.dumps(event_body(dm_event("hello"), "EvTampered"))
    headers = {"Content-Type": "application/json", **slack.signed_headers(body)}
    tampered = body.replace("hello", "HELLO")
    response = await slack.http.post("/slack/events", content=tampered, headers=headers)
    assert response.status_code == 401


async def test_socket_mode_envelopes_are_acknowledged_and_answered(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    async with (
        SlackApiFake() as fake,
        _serve(sandbox, tmp_path, fake, slack_app_token=APP_TOKEN, slack_signing_secret=None) as h,
    ):
        await h.link()
        # The app asked for its WebSocket URL through the one client, with the app token.
        opened = await fake.wait_for_calls("apps.connections.open")
        assert opened[0].token == APP_TOKEN
        event = dm_event("My VPN keeps disconnecting, how do I fix it?")
        ack = await fake.send_envelope(event_body(event, "EvSocket1"))
        assert set(ack) == {"envelope_id"}
        reply = await h.answer_in(event["channel"], event["ts"])
        assert "vpn" in reply[0].markdown.lower()
        # No HTTP endpoint without a signing secret: nothing unsigned can come in that way.
        response = await h.http.post("/slack/events", json={"type": "url_verification"})
        assert response.status_code in (404, 405)
