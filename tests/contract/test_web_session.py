"""Widget sessions, origins and pages over real HTTP: what the browser gets and what is stored."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
import httpx
import pytest

from adapters.compose import build_services
from adapters.server import create_app
from adapters.web import channel as web_channel
from adapters.web.session import hash_session
from sandbox.runner import RunningSandbox
from tests.conftest import login
from tests.contract.test_web_support import (
    EVIL,
    WebApp,
    open_web_app,
    settings_for,
    until,
    web_app,
)

__all__ = ["web_app"]

HTML_SINKS = re.compile(r"\.(innerHTML|outerHTML)\s*\+?=|insertAdjacentHTML|document\.write")


def set_cookie(response: aiohttp.ClientResponse) -> str:
    headers = response.headers.getall("Set-Cookie", [])
    assert len(headers) == 1, headers
    return headers[0]


async def test_sign_in_sets_an_opaque_httponly_cookie_and_stores_only_its_hash(
    web_app: WebApp,
) -> None:
    response = await web_app.sign_in()

    assert response.status == 200
    body = await response.json()
    assert body["signed_in"] is True and body["name"] == "Jane Smith"
    assert body["email"] == "jane@acme.example"
    assert not {"access_token", "refresh_token", "token"} & set(body)
    header = set_cookie(response)
    attributes = [part.strip() for part in header.split(";")]
    name, _, value = attributes[0].partition("=")
    assert name == "helpdesk_widget" and len(value) >= 40
    assert {"HttpOnly", "Path=/", "SameSite=Lax"} <= set(attributes)
    assert "Secure" not in attributes  # BOT_PUBLIC_URL is http here
    store = web_app.services.store
    assert await store.get_web_session(hash_session(value)) is not None
    assert await store.get_web_session(value) is None  # the raw value is never stored

    status = await (await web_app.client.get("/widget/session")).json()
    assert status["signed_in"] is True and status["name"] == "Jane Smith"


async def test_wrong_password_is_a_friendly_401_without_a_cookie(web_app: WebApp) -> None:
    response = await web_app.sign_in(password="not-her-password")

    assert response.status == 401
    body = await response.json()
    assert "didn't work" in body["message"]
    assert "Set-Cookie" not in response.headers
    status = await (await web_app.client.get("/widget/session")).json()
    assert status == {"signed_in": False}


async def test_repeated_wrong_passwords_are_slowed_down_per_account(web_app: WebApp) -> None:
    for _ in range(10):
        assert (await web_app.sign_in(password="guess")).status == 401
    blocked = await web_app.sign_in()

    assert blocked.status == 429
    assert "Too many sign-in attempts" in (await blocked.json())["message"]
    assert (await web_app.sign_in("mike@acme.example")).status == 200  # another account


async def test_an_https_deployment_sets_a_partitioned_cross_site_cookie(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    settings = settings_for(sandbox, tmp_path, bot_public_url="https://bot.example")
    async with open_web_app(sandbox, settings) as app:
        response = await app.sign_in()
        assert response.status == 200
        attributes = [part.strip() for part in set_cookie(response).split(";")]

    assert attributes[0].startswith("__Host-helpdesk_widget=")
    assert {"HttpOnly", "Secure", "SameSite=None", "Partitioned", "Path=/"} <= set(attributes)
    assert not any(part.lower().startswith("domain=") for part in attributes)


async def test_sign_out_revokes_the_session_unlinks_and_closes_live_sockets(
    web_app: WebApp,
) -> None:
    await web_app.sign_in()
    user_key = await web_app.user_key()
    cookie = web_app.cookie()
    assert cookie is not None
    ws = await web_app.connect()

    response = await web_app.client.delete("/widget/session")

    assert response.status == 200
    assert "Max-Age=0" in set_cookie(response)
    frames = await until(ws, lambda f: f["type"] == "signed_out")
    assert frames[-1] == {"type": "signed_out"}
    closing = await ws.receive()
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert ws.close_code == 4401
    store = web_app.services.store
    assert await store.get_web_session(hash_session(cookie)) is None
    assert await store.get_identity("web", user_key) is None
    logouts = await web_app.helpdesk_requests("/auth/logout", "POST")
    assert len(logouts) == 1
    # The old cookie value, replayed by hand, opens nothing.
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await web_app.client.ws_connect(
            "/widget/ws", headers={"Cookie": f"helpdesk_widget={cookie}"}
        )
    assert refused.value.status == 403


async def test_session_posts_from_a_disallowed_origin_are_refused(web_app: WebApp) -> None:
    for origin in (EVIL, "null", "http://bot.test.evil.example"):
        response = await web_app.sign_in(Origin=origin)
        assert response.status == 403, origin
        assert (await response.json())["error"] == "origin_not_allowed"
    assert await web_app.helpdesk_requests("/auth/login", "POST") == []

    for origin in ("http://bot.test", "http://BOT.test:80", web_app.origin):
        assert (await web_app.sign_in(Origin=origin)).status == 200, origin

    refused = await web_app.client.delete("/widget/session", headers={"Origin": EVIL})
    assert refused.status == 403
    status = await (await web_app.client.get("/widget/session")).json()
    assert status["signed_in"] is True


async def test_widget_allowed_origins_are_accepted(sandbox: RunningSandbox, tmp_path: Path) -> None:
    settings = settings_for(
        sandbox, tmp_path, widget_allowed_origins="https://portal.example, https://intra.example/"
    )
    async with open_web_app(sandbox, settings) as app:
        assert (await app.sign_in(Origin="https://intra.example")).status == 200
        assert (await app.sign_in(Origin="https://portal.example")).status == 200
        assert (await app.sign_in(Origin="http://portal.example")).status == 403
        frame = await app.client.get("/widget/frame")
        policy = frame.headers["Content-Security-Policy"]

    ancestors = re.search(r"frame-ancestors ([^;]+)", policy)
    assert ancestors is not None
    assert set(ancestors.group(1).split()) == {
        "'self'",
        "http://bot.test",
        "https://intra.example",
        "https://portal.example",
    }


async def test_a_form_post_cannot_sign_in(web_app: WebApp) -> None:
    response = await web_app.client.post(
        "/widget/session",
        data={"email": "jane@acme.example", "password": "demo-jane"},
        headers={"Origin": "http://bot.test"},
    )

    assert response.status == 415
    assert "Set-Cookie" not in response.headers


async def test_sign_in_with_a_portal_access_token(web_app: WebApp) -> None:
    async with httpx.AsyncClient() as http:
        tokens = await login(http, web_app.sandbox.api_base, "mike@acme.example", "demo-mike")

    response = await web_app.client.post(
        "/widget/session", json={"access_token": tokens["access_token"]}
    )
    assert response.status == 200
    body = await response.json()
    assert body["name"] == "Mike Chen"
    assert tokens["access_token"] not in await response.text()

    bad = await web_app.client.post("/widget/session", json={"access_token": "not-a-token"})
    assert bad.status == 401
    assert "sign in with your email and password" in (await bad.json())["message"]


async def test_config_carries_the_helpdesk_branding(web_app: WebApp) -> None:
    async with httpx.AsyncClient() as http:
        init = (await http.get(f"{web_app.sandbox.api_base}/init")).json()
    init = init.get("data", init)

    response = await web_app.client.get("/widget/config", headers={"Origin": "http://bot.test"})
    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == "http://bot.test"
    config = await response.json()
    assert config["name"] == init["tenant"]["name"]
    assert config["colors"]["primary"].lower() == init["branding"]["primary_color"].lower()

    refused = await web_app.client.get("/widget/config", headers={"Origin": EVIL})
    assert refused.status == 403  # readable by the launcher, so it can say why


async def test_frame_and_scripts_are_served_with_a_strict_policy(web_app: WebApp) -> None:
    frame = await web_app.client.get("/widget/frame")
    html = await frame.text()
    policy = frame.headers["Content-Security-Policy"]

    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert "unsafe-inline" not in policy
    assert frame.headers["X-Content-Type-Options"] == "nosniff"
    for contract in (
        '<label for="email">Email</label>',
        '<label for="password">Password</label>',
        ">Sign in</button>",
        'class="visually-hidden">Message</label>',
        ">Send</button>",
        'role="log" aria-live="polite"',
        'aria-label="Close chat"',
    ):
        assert contract in html, contract
    assert "<script>" not in html  # no inline script: the policy forbids it
    for path in (
        "/widget.js",
        "/widget/frame.js",
        "/widget/frame_render.js",
        "/widget/markdown.js",
    ):
        script = await web_app.client.get(path)
        assert script.status == 200 and script.content_type == "text/javascript"
        assert not HTML_SINKS.search(await script.text()), path
    launcher = await (await web_app.client.get("/widget.js")).text()
    assert '"Open chat"' in launcher and "HelpdeskWidget" in launcher


async def test_demo_page_embeds_the_widget_like_a_customer_page(
    sandbox: RunningSandbox, tmp_path: Path
) -> None:
    settings = settings_for(sandbox, tmp_path, helpdesk_base_url=None, openai_base_url=None)
    async with build_services(settings, model_stream_delay_s=0) as services:
        app = create_app(services, channels=[web_channel])
        from aiohttp.test_utils import TestClient, TestServer

        async with TestClient(TestServer(app)) as client:
            page = await (await client.get("/")).text()
            here = str(client.make_url("/")).rstrip("/")
            console = services.sandbox_console_url

    assert f'<script src="{here}/widget.js" async></script>' in page
    assert "&lt;script src=&quot;http://bot.test/widget.js&quot; async&gt;&lt;/script&gt;" in page
    assert "jane@acme.example" in page and "demo-jane" in page
    assert console is not None and f'href="{console}"' in page
